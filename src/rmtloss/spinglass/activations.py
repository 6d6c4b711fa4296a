r"""General activations as a low-rank deformation of the p-spin Hessian (Baskerville, Keating,
Mezzadri, Najnudel, "The loss surfaces of neural networks with general activation functions", 2021).

What is computable without the paper's own constants (arXiv 2004.03959): a
piecewise-linear activation leaves the leading-order complexity equal to ABC's with p = depth and
adds a deterministic finite-rank matrix to the Hessian. For a rank-one deformation
:math:`\theta e e^\top` of the GOE M (ABC convention, semicircle on :math:`[-\sqrt2, \sqrt2]`) and
:math:`x < -\sqrt2`, the matrix determinant lemma and the isotropic semicircle law give

.. math:: \frac{E|\det(M + \theta e e^\top - x)|}{E|\det(M - x)|} \to |1 - \theta g(x)|,
   \qquad g(x) = x + \sqrt{x^2 - 2},

and by interlacing the index moves by at most the rank. **How θ depends on the activation's
slopes and intercepts, the depth and the width is in the paper and not known here ([MEM]); θ is
therefore a free parameter in this module, its figure and its ledger row.**
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erf, ndtri

from rmtloss.rmt.ensembles import goe


def semicircle_g(x: np.ndarray | float) -> np.ndarray:
    """:math:`g(x) = x + \\sqrt{x^2-2}` for :math:`x < -\\sqrt2` (minus the semicircle's Stieltjes
    transform there, so that :math:`e^\\top(M-x)^{-1}e \\to -g(x)`)."""
    x = np.asarray(x, dtype=float)
    if np.any(x >= -math.sqrt(2)):
        raise ValueError("the prefactor formula holds below the bulk, x < -sqrt(2)")
    return x + np.sqrt(x**2 - 2)


def prefactor(theta: np.ndarray | float, x: np.ndarray | float) -> np.ndarray:
    """Limit of the determinant ratio, :math:`|1 - \\theta g(x)|`."""
    return np.abs(1 - np.asarray(theta, dtype=float) * semicircle_g(x))


def energy_to_goe(u: np.ndarray | float, depth: int) -> np.ndarray:
    """ABC energy u to the GOE spectral variable :math:`x = \\sqrt{H/(2(H-1))}\\,u`."""
    return math.sqrt(depth / (2 * (depth - 1))) * np.asarray(u, dtype=float)


@dataclass(frozen=True)
class PrefactorMC:
    """Monte Carlo determinant ratios on a (theta, x) grid.

    Attributes:
        thetas, xs: the grid; ratio, stderr: ``(len(thetas), len(xs))`` MC ratio and its
            bootstrap standard error; max_index_shift: the largest change of the number of
            eigenvalues below x over every sample and grid point (interlacing bounds it by 1).
        n, samples, seed: the settings.
    """

    thetas: np.ndarray
    xs: np.ndarray
    ratio: np.ndarray
    stderr: np.ndarray
    max_index_shift: int
    n: int
    samples: int
    seed: int


def prefactor_mc(n: int, thetas: list[float], xs: list[float], samples: int, seed: int = 0,
                 n_boot: int = 400, index_xs: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> PrefactorMC:
    """Sample GOE matrices, perturb them by :math:`\\theta e_1 e_1^\\top`, and compare
    :math:`E|\\det(\\cdot - x)|` with and without the perturbation (eigenvalues of both, no lemma).

    The index shift is checked at ``xs`` and, where outliers do cross, inside the bulk at
    ``index_xs``.
    """
    rng = np.random.default_rng(seed)
    thetas_a, xs_a = np.asarray(thetas, float), np.asarray(xs, float)
    probe = np.concatenate([xs_a, np.asarray(index_xs, float)])
    log0 = np.zeros((samples, len(xs_a)))
    log1 = np.zeros((samples, len(thetas_a), len(xs_a)))
    shift = 0
    for s in range(samples):
        m = goe(n, rng) / math.sqrt(2 * n)                 # ABC normalisation, edge sqrt 2
        ev0 = np.linalg.eigvalsh(m)
        log0[s] = np.log(np.abs(ev0[:, None] - xs_a[None])).sum(0)
        idx0 = (ev0[:, None] < probe[None]).sum(0)
        for i, t in enumerate(thetas_a):
            m[0, 0] += t
            ev1 = np.linalg.eigvalsh(m)
            m[0, 0] -= t
            log1[s, i] = np.log(np.abs(ev1[:, None] - xs_a[None])).sum(0)
            shift = max(shift, int(np.abs((ev1[:, None] < probe[None]).sum(0) - idx0).max()))
    w = np.exp(log0 - log0.max(0))                         # |det(M - x)|, rescaled per x
    rel = np.exp(log1 - log0[:, None, :])                  # |det(M + theta ee - x)| / |det(M - x)|

    def ratio(idx: np.ndarray) -> np.ndarray:
        return (w[idx, None, :] * rel[idx]).sum(0) / w[idx].sum(0)[None, :]

    boots = np.stack([ratio(rng.integers(0, samples, samples)) for _ in range(n_boot)])
    return PrefactorMC(thetas_a, xs_a, ratio(np.arange(samples)), boots.std(0, ddof=1), shift, n,
                       samples, seed)


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "tanh": np.tanh,
    "sigmoid": lambda x: 0.5 * (1 + np.tanh(x / 2)),
    "gelu": lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))),
}


@dataclass(frozen=True)
class PiecewiseLinear:
    """A continuous piecewise-linear activation :math:`\\alpha_\\ell x + \\beta_\\ell` on piece
    :math:`\\ell`, pieces separated by ``knots``.

    Attributes:
        name: the activation approximated.
        knots: the ``pieces - 1`` break points (equal-mass quantiles of N(0, 1)).
        slopes, intercepts: :math:`\\alpha_\\ell` and :math:`\\beta_\\ell`, one per piece.
        l2_error: root mean squared error under N(0, 1) pre-activations.
    """

    name: str
    knots: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray
    l2_error: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        piece = np.searchsorted(self.knots, x)
        return self.slopes[piece] * x + self.intercepts[piece]


def piecewise_linear_fit(name: str, pieces: int) -> PiecewiseLinear:
    """Least-squares continuous piecewise-linear fit of an activation under N(0, 1) inputs.

    The model class of the general-activation paper (activations linear on each of a few pieces).
    Knots sit at the equal-mass quantiles of N(0, 1); the basis :math:`1, x, (x - k_i)_+` is fitted
    by weighted least squares on a fine grid of [-6, 6].
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{name}'; use one of {', '.join(ACTIVATIONS)}")
    if pieces < 1:
        raise ValueError(f"pieces must be >= 1 (got {pieces})")
    x = np.linspace(-6, 6, 6001)
    w = np.sqrt(np.exp(-x * x / 2) * (x[1] - x[0]) / math.sqrt(2 * math.pi))
    knots = ndtri(np.arange(1, pieces) / pieces)
    basis = np.column_stack([np.ones_like(x), x, *(np.maximum(x - k, 0) for k in knots)])
    target = ACTIVATIONS[name](x)
    coef = np.linalg.lstsq(basis * w[:, None], target * w, rcond=None)[0]
    slopes = coef[1] + np.concatenate([[0.0], np.cumsum(coef[2:])])
    intercepts = coef[0] - np.concatenate([[0.0], np.cumsum(coef[2:] * knots)])
    fit = PiecewiseLinear(name, knots, slopes, intercepts, 0.0)
    err = math.sqrt(float(np.sum(w**2 * (fit(x) - target) ** 2)))
    return PiecewiseLinear(name, knots, slopes, intercepts, err)
