r"""Global spectral densities: semicircle and Marchenko–Pastur laws, fits and distances.

Granziol, "Beyond Random Matrix Theory for Deep Networks" (arXiv 2006.07721) compares observed
Hessian densities with these laws (Granziol 2020, arXiv 2006.07721):

* semicircle of centre :math:`m` and radius :math:`R`:
  :math:`\rho(x) = \frac{2}{\pi R^2}\sqrt{R^2 - (x-m)^2}`, distribution function
  :math:`F = \tfrac12 + (u\sqrt{1-u^2} + \arcsin u)/\pi` with :math:`u = (x-m)/R`;
* Marchenko–Pastur of ratio :math:`q` and scale :math:`\sigma^2`: support
  :math:`[\sigma^2(1-\sqrt q)^2, \sigma^2(1+\sqrt q)^2]`,
  :math:`\rho(x) = \sqrt{(\lambda_+-x)(x-\lambda_-)}/(2\pi\sigma^2 q x)` and an atom
  :math:`1 - 1/q` at 0 when :math:`q > 1`; mean :math:`\sigma^2`, variance :math:`\sigma^4 q`.

A spectrum is a :class:`Discrete` law: an exact spectrum (equal weights) or a Lanczos quadrature
(Ritz values with their weights, :math:`\hat F(\lambda) = \sum_{\theta_k\le\lambda}\tau_k`). Fits
minimise the squared distance of distribution functions at the spectrum's quantiles (or match
moments); distances are Kolmogorov–Smirnov and Wasserstein-1.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.optimize import minimize, minimize_scalar

from rmtloss.errors import InputError

Cdf = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Discrete:
    """A discrete probability law: sorted unique ``values`` with ``weights`` summing to one."""

    values: np.ndarray
    weights: np.ndarray

    @classmethod
    def from_sample(cls, sample: np.ndarray, weights: np.ndarray | None = None) -> Discrete:
        """Merge ties and normalise; ``weights`` default to equal (an exact spectrum)."""
        x = np.asarray(sample, dtype=float).ravel()
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
        keep = w > 0
        x, w = x[keep], w[keep]
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise InputError("spectrum too small to analyse: no finite eigenvalues with positive weight")
        values, inverse = np.unique(x, return_inverse=True)
        merged = np.bincount(inverse, weights=w)
        return cls(values, merged / merged.sum())

    @functools.cached_property
    def cumulative(self) -> np.ndarray:
        """:math:`F` at each value (the running sum of the weights)."""
        return np.cumsum(self.weights)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """:math:`F(x) = \\sum_{v \\le x} w_v` (right-continuous)."""
        c = np.concatenate([[0.0], self.cumulative])
        return c[np.searchsorted(self.values, np.asarray(x, dtype=float), side="right")]

    def moment(self, k: int) -> float:
        """:math:`\\sum_v w_v v^k`."""
        return float(np.sum(self.weights * self.values**k))

    def quantiles(self, num: int) -> np.ndarray:
        """``num`` evaluation points spread by mass (all the values when there are fewer)."""
        if len(self.values) <= num:
            return self.values
        idx = np.searchsorted(self.cumulative, (np.arange(num) + 0.5) / num)
        return np.unique(self.values[np.minimum(idx, len(self.values) - 1)])


def snap_zeros(eigenvalues: np.ndarray, zero_cut: float | None) -> np.ndarray:
    """Set :math:`|\\lambda| \\le \\text{zero\\_cut}\\cdot\\max|\\lambda|` to exactly 0 (the zero atom)."""
    ev = np.asarray(eigenvalues, dtype=float).copy()
    if zero_cut is not None and ev.size:
        ev[np.abs(ev) <= zero_cut * np.abs(ev).max()] = 0.0
    return ev


def ks(law: Discrete, cdf: Cdf) -> float:
    """Kolmogorov–Smirnov distance :math:`\\sup_x |F_{law}(x) - F(x)|` to a monotone ``cdf``.

    Between two consecutive values the discrete law is flat and ``cdf`` monotone, so the supremum
    is attained at a value or at its left limit (``cdf`` evaluated just below it); atoms of
    ``cdf`` are covered the same way.
    """
    v = law.values
    right = law.cumulative
    left = right - law.weights
    below = np.nextafter(v, -np.inf)
    return float(max(np.max(np.abs(right - cdf(v))), np.max(np.abs(left - cdf(below)))))


def w1(law: Discrete, cdf: Cdf, lo: float | None = None, hi: float | None = None, num: int = 20001) -> float:
    """Wasserstein-1 distance :math:`\\int |F_{law} - F|\\,dx` on a fine grid over both supports."""
    lo = law.values[0] if lo is None else min(lo, law.values[0])
    hi = law.values[-1] if hi is None else max(hi, law.values[-1])
    if hi <= lo:
        return 0.0
    x = np.unique(np.concatenate([np.linspace(lo, hi, num), law.values]))
    d = np.abs(law.cdf(x[:-1]) - cdf(x[:-1]))
    return float(np.sum(d * np.diff(x)))


def semicircle_cdf(x: np.ndarray, m: float, r: float) -> np.ndarray:
    """Distribution function of the semicircle of centre ``m`` and radius ``r``."""
    u = np.clip((np.asarray(x, dtype=float) - m) / r, -1.0, 1.0)
    return 0.5 + (u * np.sqrt(1 - u**2) + np.arcsin(u)) / math.pi


def semicircle_pdf(x: np.ndarray, m: float, r: float) -> np.ndarray:
    """Density of the semicircle of centre ``m`` and radius ``r``."""
    d = r**2 - (np.asarray(x, dtype=float) - m) ** 2
    return 2 / (math.pi * r**2) * np.sqrt(np.clip(d, 0.0, None))


def mp_edges(sigma2: float, q: float) -> tuple[float, float]:
    """Support :math:`\\sigma^2(1 \\mp \\sqrt q)^2` of the Marchenko–Pastur law."""
    return sigma2 * (1 - math.sqrt(q)) ** 2, sigma2 * (1 + math.sqrt(q)) ** 2


@functools.lru_cache(maxsize=256)
def _mp_unit(q: float, num: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """Continuous part of the MP distribution function for sigma^2 = 1 on its support.

    With :math:`x = c - h\\cos\\phi` (c, h the centre and half-width of the support) the density
    element is :math:`h^2\\sin^2\\phi/(2\\pi q x)\\,d\\phi`, smooth on :math:`[0, \\pi]`.
    """
    lo, hi = mp_edges(1.0, q)
    c, h = (lo + hi) / 2, (hi - lo) / 2
    phi = np.linspace(0.0, math.pi, num)
    x = c - h * np.cos(phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(x > 0, h**2 * np.sin(phi) ** 2 / (2 * math.pi * q * x), 0.0)
    if q == 1.0:
        f[0] = h / math.pi  # the limit of h^2 sin^2(phi) / (2 pi x) as phi -> 0 with x = h(1 - cos phi)
    return x, cumulative_trapezoid(f, phi, initial=0.0)


def mp_cdf(x: np.ndarray, sigma2: float, q: float) -> np.ndarray:
    """Distribution function of the Marchenko–Pastur law (with its atom at 0 when q > 1)."""
    grid, cont = _mp_unit(round(float(q), 12))
    cont = cont * (min(1.0, 1.0 / q) / cont[-1])
    x = np.asarray(x, dtype=float) / sigma2
    atom = np.where(x >= 0, max(0.0, 1 - 1 / q), 0.0)
    return atom + np.interp(x, grid, cont, left=0.0, right=cont[-1])


def mp_pdf(x: np.ndarray, sigma2: float, q: float) -> np.ndarray:
    """Density of the continuous part of the Marchenko–Pastur law."""
    lo, hi = mp_edges(sigma2, q)
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.sqrt(np.clip((hi - x) * (x - lo), 0.0, None)) / (2 * math.pi * sigma2 * q * x)
    return np.where((x > lo) & (x < hi), d, 0.0)


@dataclass(frozen=True)
class LawFit:
    """A fitted law with its distances to the spectrum.

    Attributes:
        law: ``semicircle``, ``mp`` or a family name of :mod:`rmtloss.rmt.ensembles`.
        params: the fitted parameters by name.
        method: ``moments`` or ``cdf`` (least squares on distribution functions).
        ks, w1: Kolmogorov–Smirnov and Wasserstein-1 distances to the spectrum.
        lsq: mean squared CDF difference at the spectrum's quantiles (the fit's objective).
        on_boundary: the fit's minimum lies on an end of its parameter search even after widening
            (the fit did not converge; the global-density claims leave it out).
    """

    law: str
    params: dict[str, float]
    method: str
    ks: float
    w1: float
    lsq: float
    on_boundary: bool = False


def _lsq(law: Discrete, points: np.ndarray, cdf: Cdf) -> float:
    return float(np.mean((law.cdf(points) - cdf(points)) ** 2))


def _scale(law: Discrete) -> tuple[float, float]:
    mean = law.moment(1)
    std = math.sqrt(max(law.moment(2) - mean**2, 0.0))
    if std == 0:
        raise InputError("spectrum too small to analyse: all eigenvalues are equal")
    return mean, std


def _atom_weight(target: np.ndarray, g: np.ndarray, step: np.ndarray) -> float:
    """The least-squares weight w in [0, 1] of an atom at 0 mixed with a law of CDF values ``g``:
    minimises ``|target - (w step + (1 - w) g)|^2`` (a projection, clipped)."""
    d = step - g
    denom = float(d @ d)
    return 0.0 if denom == 0 else float(np.clip((target - g) @ d / denom, 0.0, 1.0))


def with_atom(cdf: Cdf, zero_weight: float) -> Cdf:
    r"""CDF of :math:`w\,\delta_0 + (1-w)\,F`."""

    def mixed(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return zero_weight * (x >= 0) + (1 - zero_weight) * cdf(x)

    return mixed


def _fit_law(
    law: Discrete,
    name: str,
    names: tuple[str, str],
    start: np.ndarray,
    to_params: Callable,
    cdf_of: Callable,
    support: Callable,
    method: str,
    num_points: int,
    atom: bool = False,
) -> LawFit:
    """Shared fit: ``start`` (unconstrained coordinates, from moments) is kept for ``moments`` and
    polished by Nelder–Mead on the CDF least squares for ``cdf``; ``to_params`` maps coordinates to
    the law's two parameters, ``cdf_of(*params)`` gives its CDF, ``support(*params)`` its range.

    With ``atom`` the law is mixed with an atom at 0 whose weight w is free, chosen in closed form
    by least squares for every candidate (as :func:`fit_scaled_shape` gives the product and
    percolated families theirs; CLAIMS.md v3: one zero-atom treatment for every law), and ``start``
    should come from the moments of the non-zero part."""
    pts = law.quantiles(num_points)
    target, step = law.cdf(pts), (pts >= 0).astype(float)

    def mixture(c: np.ndarray) -> tuple[Cdf, float]:
        cdf = cdf_of(*to_params(c))
        if not atom:
            return cdf, 0.0
        w = _atom_weight(target, cdf(pts), step)
        return with_atom(cdf, w), w

    if method == "cdf":
        res = minimize(
            lambda c: _lsq(law, pts, mixture(c)[0]),
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-12},
        )
        start = res.x
    elif method != "moments":
        raise ValueError(f"unknown fit method '{method}'; use moments or cdf")
    params = to_params(start)
    cdf, w = mixture(start)
    lo, hi = support(*params)
    return LawFit(
        name,
        {**dict(zip(names, params, strict=True)), **({"zero_weight": w} if atom else {})},
        method,
        ks(law, cdf),
        w1(law, cdf, min(lo, 0.0) if atom else lo, max(hi, 0.0) if atom else hi),
        _lsq(law, pts, cdf),
    )


def _nonzero(law: Discrete) -> Discrete:
    """The law without its atom at 0 (the whole law where it has no non-zero value)."""
    keep = law.values != 0
    return Discrete(law.values[keep], law.weights[keep] / law.weights[keep].sum()) if keep.any() else law


def fit_semicircle(law: Discrete, method: str = "cdf", num_points: int = 512, atom: bool = False) -> LawFit:
    """Semicircle by moments (:math:`m` = mean, :math:`R` = 2 std) or by least squares on the CDF;
    with ``atom``, mixed with a free atom at 0 (moments of the non-zero part as the start)."""
    m, std = _scale(_nonzero(law) if atom else law)
    return _fit_law(
        law,
        "semicircle",
        ("m", "r"),
        np.array([m, math.log(2 * std)]),
        lambda c: (float(c[0]), float(math.exp(c[1]))),
        lambda m, r: functools.partial(semicircle_cdf, m=m, r=r),
        lambda m, r: (m - r, m + r),
        method,
        num_points,
        atom,
    )


def fit_mp(law: Discrete, method: str = "cdf", num_points: int = 512, atom: bool = False) -> LawFit:
    r"""Marchenko–Pastur by moments (:math:`\sigma^2` = mean, q = var/mean²) or least squares;
    with ``atom``, mixed with a free atom at 0 (moments of the non-zero part as the start).

    The law lives on :math:`[0, \infty)`; a spectrum with a non-positive mean is fitted with the
    moments of its absolute values as the starting point.
    """
    base = _nonzero(law) if atom else law
    mean, std = _scale(base)
    if mean <= 0:
        mean = float(np.sum(base.weights * np.abs(base.values)))
    start = np.array([math.log(mean), math.log(max((std / mean) ** 2, 1e-3))])
    return _fit_law(
        law,
        "mp",
        ("sigma2", "q"),
        start,
        lambda c: (float(math.exp(c[0])), float(math.exp(c[1]))),
        lambda sigma2, q: functools.partial(mp_cdf, sigma2=sigma2, q=q),
        mp_edges,
        method,
        num_points,
        atom,
    )


def atom_mixture(shape: Discrete, scale: float, zero_weight: float) -> Cdf:
    """CDF of :math:`w\\,\\delta_0 + (1-w)\\,\\mu(\\cdot/s)` for a shape law :math:`\\mu`."""
    return with_atom(lambda x: shape.cdf(np.asarray(x, dtype=float) / scale), zero_weight)


def fit_scaled_shape(
    law: Discrete,
    shape: Discrete,
    name: str,
    shape_params: dict[str, float],
    num_points: int = 512,
    max_widen: int = 3,
) -> LawFit:
    r"""Fit scale :math:`s` and zero weight :math:`w` of :math:`w\delta_0 + (1-w)\mu(\cdot/s)`.

    Least squares on the distribution function at the spectrum's quantiles: for each s the best
    w is closed-form (a projection, clipped to [0, 1]); log s is searched on a grid of step 0.1
    around the second-moment match, from -4 to 4 and widened by 4 at an end where the minimum sits
    (up to ``max_widen`` times; still at an end: ``on_boundary``), then refined by a bounded scalar
    search between the grid neighbours.
    """
    pts = law.quantiles(num_points)
    target = law.cdf(pts)
    step = (pts >= 0).astype(float)

    def best_w(s: float) -> tuple[float, float]:
        g = shape.cdf(pts / s)
        w = _atom_weight(target, g, step)
        return w, float(np.mean((target - g - w * (step - g)) ** 2))

    s0 = math.sqrt(law.moment(2) / max(shape.moment(2), 1e-300))
    logs = list(math.log(s0) + np.linspace(-4, 4, 81))
    errs = [best_w(math.exp(t))[1] for t in logs]
    for _ in range(max_widen):
        i = int(np.argmin(errs))
        if 0 < i < len(logs) - 1:
            break
        more = logs[0] - np.linspace(4, 0.1, 40) if i == 0 else logs[-1] + np.linspace(0.1, 4, 40)
        new_errs = [best_w(math.exp(t))[1] for t in more]
        logs, errs = ([*more, *logs], [*new_errs, *errs]) if i == 0 else ([*logs, *more], [*errs, *new_errs])
    i = int(np.argmin(errs))
    on_boundary = i in (0, len(logs) - 1)
    res = minimize_scalar(
        lambda t: best_w(math.exp(t))[1],
        bounds=(logs[max(i - 1, 0)], logs[min(i + 1, len(logs) - 1)]),
        method="bounded",
        options={"xatol": 1e-6},
    )
    s = float(math.exp(res.x)) if res.fun <= errs[i] else float(math.exp(logs[i]))
    w, err = best_w(s)
    cdf = atom_mixture(shape, s, w)
    lo, hi = s * shape.values[0], s * shape.values[-1]
    return LawFit(
        name,
        {**shape_params, "scale": s, "zero_weight": w},
        "cdf",
        ks(law, cdf),
        w1(law, cdf, min(lo, 0.0), max(hi, 0.0)),
        err,
        on_boundary,
    )


def trim_top(law: Discrete, mass: float) -> Discrete:
    """Remove the largest values carrying total weight ``mass`` (the last one in part), renormalise."""
    if not 0 <= mass < 1:
        raise ValueError(f"mass to trim must be in [0, 1) (got {mass})")
    above = np.cumsum(law.weights[::-1])[::-1]  # weight at or above each value
    w = law.weights - np.clip(mass - (above - law.weights), 0.0, law.weights)
    keep = w > 0
    return Discrete(law.values[keep], w[keep] / w[keep].sum())
