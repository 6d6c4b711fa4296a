"""Spin-glass complexity: the spherical p-spin glass (Auffinger, Ben Arous, Cerny 2013)."""
