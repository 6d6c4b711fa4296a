"""Worked examples of bringing your own network and data to rmtloss (see README, "Your own network")."""
