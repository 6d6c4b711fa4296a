r"""Index of critical points against energy: the layered structure and its dependence on the law.

For a spherical p-spin-like model the Hessian at a critical point of normalised energy E is
:math:`\sqrt{p(p-1)}\,W - pE\,I` with W a unit-variance matrix (Auffinger, Ben Arous, Černý;
Granziol 2020, arXiv 2006.07721). Its index fraction is

.. math:: \alpha(E) = \mu_W\big((-\infty,\ pE/\sqrt{p(p-1)})\big).

With :math:`\mu_W` the semicircle on [-2, 2], :math:`\alpha = 0` for
:math:`E < -E_\infty = -2\sqrt{(p-1)/p}`: below that energy only minima exist (the layered
structure). Granziol (arXiv 2006.07721, C3.2) argues that this rests on the semicircle; with a
product or percolated law of the same variance, unbounded or wider, the index is positive at
every energy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from rmtloss.rmt.global_laws import semicircle_cdf


def shift(energy: np.ndarray, p: int) -> np.ndarray:
    """:math:`pE/\\sqrt{p(p-1)}`, the point of W's law that sets the index at energy E."""
    return p * np.asarray(energy, dtype=float) / math.sqrt(p * (p - 1))


def index_fraction(energy: np.ndarray, p: int, cdf: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """:math:`\\alpha(E)` for a unit-variance law given by its distribution function."""
    return cdf(shift(energy, p))


def semicircle_index(energy: np.ndarray, p: int) -> np.ndarray:
    """:math:`\\alpha(E)` under the unit-variance semicircle (radius 2)."""
    return index_fraction(energy, p, lambda x: semicircle_cdf(x, 0.0, 2.0))
