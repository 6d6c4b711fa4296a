r"""Reference laws of local eigenvalue statistics (Poisson, GOE, GUE, GSE).

Spacing ratios (Atas, Bogomolny, Giraud, Roux, PRL 110, 084101 (2013), arXiv 1212.5611): for
consecutive spacings :math:`s_i` the ratio :math:`r = s_{i+1}/s_i` has the surmise density

.. math:: P_\beta(r) = \frac{1}{Z_\beta} \frac{(r + r^2)^\beta}{(1 + r + r^2)^{1 + 3\beta/2}},
   \qquad Z_1 = \tfrac{8}{27},\ Z_2 = \tfrac{4\pi}{81\sqrt3},\ Z_4 = \tfrac{4\pi}{729\sqrt3},

and :math:`P(r) = 1/(1+r)^2` for Poisson. Since :math:`P(r) = P(1/r)/r^2`, the folded ratio
:math:`\tilde r = \min(r, 1/r) \in [0, 1]` has density :math:`2P(\tilde r)`.

Unfolded spacings (Wigner surmises): :math:`e^{-s}` (Poisson),
:math:`\frac{\pi s}{2} e^{-\pi s^2/4}` (GOE), :math:`\frac{32}{\pi^2} s^2 e^{-4 s^2/\pi}` (GUE),
:math:`\frac{2^{18}}{3^6\pi^3} s^4 e^{-64 s^2/(9\pi)}` (GSE).

Large-N means of :math:`\tilde r` (:data:`MEAN_RTILDE`): Poisson :math:`2\ln 2 - 1`, GOE 0.5307,
GUE 0.5996, GSE 0.6744 (Atas et al., numerics; the surmise gives 0.5359, 0.6027, 0.6762).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.integrate import cumulative_simpson

ENSEMBLES = ("poisson", "goe", "gue", "gse")
_BETA = {"goe": 1, "gue": 2, "gse": 4}
_Z = {1: 8 / 27, 2: 4 * math.pi / (81 * math.sqrt(3)), 4: 4 * math.pi / (729 * math.sqrt(3))}

#: Large-N values of <r~> (Atas et al. 2013); Poisson is exact.
MEAN_RTILDE = {"poisson": 2 * math.log(2) - 1, "goe": 0.5307, "gue": 0.5996, "gse": 0.6744}


def _check(ensemble: str) -> None:
    if ensemble not in ENSEMBLES:
        raise ValueError(f"unknown ensemble '{ensemble}'; choose one of {', '.join(ENSEMBLES)}")


def ratio_density(r: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Density :math:`P(r)` of the un-folded spacing ratio on :math:`[0, \\infty)`."""
    _check(ensemble)
    r = np.asarray(r, dtype=float)
    if ensemble == "poisson":
        return 1.0 / (1.0 + r) ** 2
    beta = _BETA[ensemble]
    return (r + r**2) ** beta / (_Z[beta] * (1 + r + r**2) ** (1 + 1.5 * beta))


def spacing_density(s: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Density of unfolded nearest-neighbour spacings (mean 1): Poisson or a Wigner surmise."""
    _check(ensemble)
    s = np.asarray(s, dtype=float)
    if ensemble == "poisson":
        return np.exp(-s)
    if ensemble == "goe":
        return math.pi * s / 2 * np.exp(-math.pi * s**2 / 4)
    if ensemble == "gue":
        return 32 / math.pi**2 * s**2 * np.exp(-4 * s**2 / math.pi)
    return 2**18 / (3**6 * math.pi**3) * s**4 * np.exp(-64 * s**2 / (9 * math.pi))


@functools.cache
def _tilde_grid(ensemble: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(0.0, 1.0, 20001)
    cdf = cumulative_simpson(2 * ratio_density(x, ensemble), x=x, initial=0.0)
    return x, cdf / cdf[-1]


def rtilde_cdf(x: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Distribution function of :math:`\\tilde r = \\min(r, 1/r)` on [0, 1]."""
    _check(ensemble)
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    if ensemble == "poisson":
        return 2 * x / (1 + x)
    grid, cdf = _tilde_grid(ensemble)
    return np.interp(x, grid, cdf)


def spacing_cdf(s: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Distribution function of unfolded spacings (closed form for Poisson and GOE)."""
    _check(ensemble)
    s = np.clip(np.asarray(s, dtype=float), 0.0, None)
    if ensemble == "poisson":
        return 1 - np.exp(-s)
    if ensemble == "goe":
        return 1 - np.exp(-math.pi * s**2 / 4)
    grid = np.linspace(0.0, 10.0, 20001)
    cdf = cumulative_simpson(spacing_density(grid, ensemble), x=grid, initial=0.0)
    return np.interp(s, grid, cdf / cdf[-1])
