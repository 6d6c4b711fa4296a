r"""Complexity of the GAN model of two interacting spin glasses (Baskerville, Keating, Mezzadri,
Najnudel 2022, arXiv 2101.02524) and the authors' code.

Model. The discriminator loss :math:`L_D = \ell_D - \ell_G` and the generator loss :math:`L_G = \ell_G`,
with :math:`\ell_D` a p-spin glass in the discriminator's :math:`N_D = \kappa N` weights and
:math:`\ell_G` a (p+q)-spin glass of coupling scale :math:`\sigma_z` in all N weights. The Kac-Rice
matrix is (section 3.2)

.. math:: H(x_1) = b M + (b_1 M_1 - x_1 I_{N_D}) \oplus 0_{N_G}, \qquad \det(H - x),

M an N x N GOE (variance 1/(2N)), :math:`M_1` an :math:`N_D \times N_D` GOE normalised by
:math:`N_D`. Its limiting spectral density solves the block equations (section 3.4)

.. math:: g_D = \frac{1}{z + x_1 - \tfrac{b^2}{2} g - \tfrac{b_1^2}{2} g_D}, \quad
          g_G = \frac{1}{z - \tfrac{b^2}{2} g}, \quad g = \kappa g_D + (1-\kappa) g_G,

equivalently the quartic :math:`\beta Q(w)^2 + w(w+x_1)Q(w) + \kappa\frac{b^2}{2}w^2 = 0` in
:math:`w = z - \frac{b^2}{2}g` with :math:`Q(w) = w^2 - zw + (1-\kappa)b^2/2`,
:math:`\beta = b_1^2/(\kappa b^2)` (solved here in :math:`g_D`, see :func:`lsd_quartic`).
The authors' code writes the same quartic with the sign of its constant term flipped
(:math:`F = -(1-\kappa)b_1^2/(2\kappa)`) and takes the largest imaginary part over the roots; that is
kept as ``lsd="authors"`` for figure fidelity. It integrates to one but is off the sampled spectra
by 0.1-0.2 when :math:`b_1 \gtrsim b`; at the figures' parameters (:math:`b_1/b \approx 0.05`) the two
agree to about 3e-4 in the exponent.

The complexity exponent is :math:`E(x, x_1) = C - x^2/(2s^2) - x_1^2/(2s_1^2) + U(x; x_1)` with the
log-potential :math:`U(x; x_1) = \int\log|\lambda - x|\,d\mu_{x_1}(\lambda)` ("Coulomb gas"
approximation of :math:`N^{-1}\log E|\det(H - x)|`), and

.. math:: \Theta(u_D, u_G) = \sup\{E(x, x_1) : x < c\,u_G,\; x_1 > -p\,u_D - p\,x/c\},
          \quad c = (p+q)2^{p+q}.

The constants C, s², s_1² are the authors' (section 3.3); the term :math:`\frac{13}{2}\log 2 +
5\log\pi` in C could not be derived and is flagged as unverified wherever it is reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from rmtloss.rmt.ensembles import goe
from rmtloss.spinglass import pspin

LSD_METHODS = ("quartic", "qve", "authors")
INDEX_CONVENTIONS = ("authors", "corrected")
C_UNVERIFIED = "the constant (13/2) log 2 + 5 log(pi) in C is the authors' and could not be derived"


@dataclass(frozen=True)
class GanModel:
    """Parameters of the two-spin-glass GAN model and the authors' constants (section 3.3).

    Attributes:
        p: depth (spin-glass degree) of the discriminator.
        q: depth of the generator.
        sigma_z: scale of the generator's latent noise.
        kappa: the discriminator's share :math:`N_D/N` of the weights, in (0, 1).
    """

    p: int
    q: int
    sigma_z: float
    kappa: float

    def __post_init__(self) -> None:
        if self.p < 2 or self.q < 1:
            raise ValueError(f"need p >= 2 and q >= 1 (got p={self.p}, q={self.q})")
        if not 0 < self.kappa < 1:
            raise ValueError(f"kappa must lie in (0, 1) (got {self.kappa})")
        if not self.sigma_z > 0:
            raise ValueError(f"sigma_z must be > 0 (got {self.sigma_z})")

    @property
    def c(self) -> float:
        """:math:`c = (p+q)2^{p+q}`: :math:`L_G/N = x/c`."""
        return (self.p + self.q) * 2.0 ** (self.p + self.q)

    @property
    def b(self) -> float:
        """Scale of the full GOE: :math:`\\sigma_z\\sqrt{(p+q)(p+q-1)2^{p+q}}`."""
        n = self.p + self.q
        return self.sigma_z * math.sqrt(n * (n - 1) * 2.0**n)

    @property
    def b1(self) -> float:
        """Scale of the discriminator block: :math:`\\sqrt{p(p-1)\\kappa}`."""
        return math.sqrt(self.p * (self.p - 1) * self.kappa)

    @property
    def s2(self) -> float:
        """Variance of x: :math:`\\sigma_z^2 (p+q)^2 2^{3(p+q)}/2`."""
        n = self.p + self.q
        return self.sigma_z**2 * n**2 * 2.0 ** (3 * n) / 2

    @property
    def s12(self) -> float:
        """Variance of :math:`x_1`: :math:`p^2/2`."""
        return self.p**2 / 2

    @property
    def log_prefactor(self) -> float:
        """The constant C of the exponent (authors' formula; see :data:`C_UNVERIFIED`)."""
        k, sc = self.kappa, self.sigma_z**2 * self.c
        return (6.5 * math.log(2) + 5 * math.log(math.pi) - k / 2 * math.log(self.p + sc)
                - (1 - k) / 2 * math.log(sc) - k / 2 * math.log(k) - (1 - k) / 2 * math.log(1 - k))

    @property
    def edge_g(self) -> float:
        """Edge of the generator block's semicircle, :math:`\\sqrt{2(1-\\kappa)}\\,b`."""
        return math.sqrt(2 * (1 - self.kappa)) * self.b

    def edge_d(self, convention: str) -> float:
        """Edge of the discriminator block: the authors' :math:`\\sqrt{2\\kappa(b^2+b_1^2)}` or the
        corrected :math:`\\sqrt{2(\\kappa b^2 + b_1^2)}` (:math:`M_1` normalised by :math:`N_D`)."""
        if convention == "authors":
            return math.sqrt(2 * self.kappa * (self.b**2 + self.b1**2))
        return math.sqrt(2 * (self.kappa * self.b**2 + self.b1**2))


# ---------------------------------------------------------------- limiting spectral density


def _quartic_roots(z: np.ndarray, coeffs: list[np.ndarray]) -> np.ndarray:
    """Roots of :math:`a_4 w^4 + \\dots + a_0` for every z at once (batched companion matrices).

    Real coefficients (real z) take LAPACK's real eigenvalue routine, about twice as fast as the
    complex one; the roots agree to rounding and are Newton-polished by the callers.
    """
    dtype = float if all(np.isrealobj(a) for a in coeffs) else complex
    a4, a3, a2, a1, a0 = (np.broadcast_to(np.asarray(a, dtype=dtype), z.shape) for a in coeffs)
    comp = np.zeros((*z.shape, 4, 4), dtype=dtype)
    comp[..., 0, :] = -np.stack([a3, a2, a1, a0], axis=-1) / a4[..., None]
    comp[..., 1, 0] = comp[..., 2, 1] = comp[..., 3, 2] = 1.0
    return np.linalg.eigvals(comp)


def lsd_quartic(z: np.ndarray, x1: float, kappa: float, b: float, b1: float) -> np.ndarray:
    """Density of :math:`\\mu_{x_1}` on real z from the block equations as a quartic in :math:`y = g_D`.

    Eliminating :math:`g_G = y/P(y)`, :math:`P(y) = \\tfrac{b_1^2}{2}y^2 - x_1y + 1`, gives

    .. math:: P(y)\\big((\\kappa\\tfrac{b^2}{2} + \\tfrac{b_1^2}{2})y^2 - (z + x_1)y + 1\\big)
              + (1-\\kappa)\\tfrac{b^2}{2}y^2 = 0,

    the quartic of section 3.4 written in :math:`g_D` instead of :math:`w = z - \\frac{b^2}{2}g` (the
    w-form loses the generator block to rounding when :math:`b \\ll b_1`, small :math:`\\sigma_z`).
    The physical root has :math:`\\mathrm{Im}\\,g_D < 0` and :math:`\\mathrm{Im}\\,g_G < 0` (both are
    Stieltjes transforms of probability measures; the roots near the zeros of P fail the second),
    :math:`g = \\kappa y + (1-\\kappa)y/P(y)`; where no root qualifies z is outside the support.
    """
    z = np.asarray(z, dtype=float)
    a, a1 = b * b / 2, b1 * b1 / 2
    big_a, big_b = kappa * a + a1, z + x1
    y = _quartic_roots(z, [np.full(z.shape, a1 * big_a), -(a1 * big_b + x1 * big_a),
                           a1 + big_a + x1 * big_b + (1 - kappa) * a, -(x1 + big_b), np.ones(z.shape)])
    zz, a_g = big_b[..., None], (1 - kappa) * a
    for _ in range(3):       # Newton polishing: g_G = y/P(y) amplifies the eigvals' rounding by 1/b^2
        p_y, q_y = a1 * y * y - x1 * y + 1, big_a * y * y - zz * y + 1
        f = p_y * q_y + a_g * y * y
        df = (2 * a1 * y - x1) * q_y + p_y * (2 * big_a * y - zz) + 2 * a_g * y
        y = y - np.where(df != 0, f / np.where(df != 0, df, 1), 0)
    g_g = y / (a1 * y * y - x1 * y + 1)
    g = kappa * y + (1 - kappa) * g_g
    ok = (y.imag < -1e-11 * np.abs(y)) & (g_g.imag < -1e-11 * np.abs(g_g))   # rounding
    return np.where(ok, -g.imag, 0.0).max(axis=-1) / math.pi


def lsd_authors(z: np.ndarray, x1: float, kappa: float, b: float, b1: float) -> np.ndarray:
    """The authors' density (``rmt/spectrum.py``): their sign of F and the largest |Im| over roots.

    :math:`(t^2 - zt + (1-\\kappa)b^2/2)(Dt^2 + Et + F) + \\kappa\\frac{b^2}{2}t^2 = 0`,
    :math:`D = 1 + b_1^2/(\\kappa b^2)`, :math:`E = x_1 - z b_1^2/(\\kappa b^2)`,
    :math:`F = -(1-\\kappa)b_1^2/(2\\kappa)` (the algebra needs +), density
    :math:`\\max_t \\max(-\\mathrm{Im}\\,t, 0)\\cdot 2/(\\pi b^2)`.
    """
    z = np.asarray(z, dtype=float)
    a = (1 - kappa) * b * b / 2
    beta = b1 * b1 / (kappa * b * b)
    d, e, f = 1 + beta, x1 - beta * z, -(1 - kappa) * b1 * b1 / (2 * kappa)
    # (t^2 - z t + a)(d t^2 + e t + f) + kappa b^2/2 t^2, expanded
    t = _quartic_roots(z, [np.full(z.shape, d), e - z * d, f - z * e + a * d + kappa * b * b / 2,
                           a * e - z * f, np.full(z.shape, a * f)])
    return np.maximum(-t.imag, 0).max(axis=-1) * 2 / (math.pi * b * b)


def lsd_qve(z: np.ndarray, x1: float, kappa: float, b: float, b1: float, iters: int = 400) -> np.ndarray:
    """Density from the block equations by damped fixed-point iteration (the cross-validator).

    Half-old, half-new updates, continued in :math:`\\eta = 10^{-2} \\to 10^{-5}`; 3.6x slower than
    the quartic on 4000 points (0.172 s against 0.047 s, one core).
    """
    z = np.asarray(z, dtype=float)
    scale = max(b, b1, 1.0)
    g_d = 1 / (z + x1 + 1e-2j * scale)
    g_g = 1 / (z + 1e-2j * scale)
    for eta in (1e-2, 1e-3, 1e-4, 1e-5):
        zz = z + 1j * eta * scale
        for _ in range(iters):
            g = kappa * g_d + (1 - kappa) * g_g
            g_d = 0.5 * g_d + 0.5 / (zz + x1 - b * b / 2 * g - b1 * b1 / 2 * g_d)
            g_g = 0.5 * g_g + 0.5 / (zz - b * b / 2 * g)
    return np.maximum(-(kappa * g_d + (1 - kappa) * g_g).imag / math.pi, 0)


LSD: dict[str, Callable[..., np.ndarray]] = {"quartic": lsd_quartic, "qve": lsd_qve, "authors": lsd_authors}


@dataclass(frozen=True)
class Support:
    """:math:`\\mu_{x_1}` on uniform grids over the components of its numerically detected support.

    Attributes:
        pieces: ``(lam, rho)`` quadrature pieces: uniform nodes and the density there, one per
            connected component (a narrow generator block inside one gets a piece of its own).
        components: ``(lo, hi)`` of each connected component, from the last zero of the scan before
            it to the first zero after it.
        mass: trapezoidal integral of the density over all pieces (1 up to discretisation).
    """

    pieces: tuple[tuple[np.ndarray, np.ndarray], ...]
    components: tuple[tuple[float, float], ...]
    mass: float

    @property
    def edges(self) -> tuple[float, float]:
        """Outer ends of the support grid."""
        return self.components[0][0], self.components[-1][1]


def support(x1: float, kappa: float, b: float, b1: float, lsd: str = "quartic", nodes: int = 4000,
            scan: int = 4000) -> Support:
    """Detect the support of :math:`\\mu_{x_1}` and put uniform nodes on each of its components.

    Two scans: the discriminator window :math:`-x_1 \\pm R`, :math:`R = 2.5(b + b_1/\\sqrt\\kappa) + 1`,
    and the generator window :math:`0 \\pm 2.5\\sqrt2\\,b` (which resolves the generator block when
    :math:`b \\ll b_1`, e.g. small :math:`\\sigma_z`; the authors' window misses it). ``nodes`` are
    shared equally among the components.
    """
    r = 2.5 * (b + b1 / math.sqrt(kappa)) + 1
    r_g = 2.5 * math.sqrt(2) * b
    grid = np.union1d(np.linspace(-x1 - r, -x1 + r, scan), np.linspace(-r_g, r_g, scan))
    dens = LSD[lsd](grid, x1, kappa, b, b1)
    on = dens > 1e-12 * max(dens.max(), 1e-300)
    if not on.any():
        raise ValueError(f"no support found for x1={x1}, kappa={kappa}, b={b}, b1={b1}")
    starts = np.flatnonzero(on & ~np.r_[False, on[:-1]])
    ends = np.flatnonzero(on & ~np.r_[on[1:], False])
    intervals, components = [], []
    for i, j in zip(starts, ends, strict=True):
        lo, hi = grid[max(i - 1, 0)], grid[min(j + 1, grid.size - 1)]
        if np.trapezoid(dens[max(i - 1, 0):j + 2], grid[max(i - 1, 0):j + 2]) < 1e-6:   # rounding specks
            continue
        components.append((float(lo), float(hi)))
        cuts = [c for c in (-r_g, r_g) if lo < c < hi and r_g < (hi - lo) / 20]   # a narrow G block
        edges = [lo, *cuts, hi]
        intervals += list(zip(edges[:-1], edges[1:], strict=True))
    per = max(nodes // len(intervals), 64)
    pieces = []
    for lo, hi in intervals:
        lam = np.linspace(lo, hi, per)
        pieces.append((lam, LSD[lsd](lam, x1, kappa, b, b1)))
    return Support(tuple(pieces), tuple(components),
                   float(sum(np.trapezoid(rho, lam) for lam, rho in pieces)))


def distance_to_support(xs: np.ndarray, sup: Support) -> np.ndarray:
    """Distance of each x to the nearest component of the support (0 inside it)."""
    xs = np.asarray(xs, dtype=float)
    lo = np.array([c[0] for c in sup.components])
    hi = np.array([c[1] for c in sup.components])
    gaps = np.maximum(np.maximum(lo[None, :] - xs[:, None], xs[:, None] - hi[None, :]), 0.0)
    return gaps.min(axis=1)


def _antiderivative(t: np.ndarray) -> np.ndarray:
    """:math:`F(t) = t\\log|t| - t` (F(0) = 0)."""
    safe = np.where(t != 0, np.abs(t), 1.0)
    return np.where(t != 0, t * np.log(safe) - t, 0.0)


def log_potential(xs: np.ndarray, sup: Support, chunk: int = 512) -> np.ndarray:
    """:math:`U(x) = \\int\\log|\\lambda - x|\\rho(\\lambda)d\\lambda` with the singularity subtracted,
    piece by piece:

    :math:`U(x) = \\sum_j w_j(\\rho_j - \\rho(x))\\log|\\lambda_j - x| + \\rho(x)[F(b - x) - F(a - x)]`,
    trapezoidal weights :math:`w_j` on each piece ``[a, b]``, the discrete density renormalised to mass
    one (the square-root edges cost the trapezoidal rule about 1e-5 of mass); accurate to about 1e-5
    against adaptive quadrature.
    """
    xs = np.asarray(xs, dtype=float)
    out = np.zeros(xs.shape)
    for lam, rho in sup.pieces:
        rho = rho / sup.mass
        h = lam[1] - lam[0]
        w = np.full(lam.size, h)
        w[[0, -1]] = h / 2
        weights = np.stack([w * rho, w], axis=1)
        for s in range(0, xs.size, chunk):
            x = xs[s:s + chunk]
            rx = np.interp(x, lam, rho, left=0.0, right=0.0)
            d = lam[None, :] - x[:, None]
            np.abs(d, out=d)
            d[d == 0] = 1.0          # there rho_j - rho(x) = 0: the term vanishes
            np.log(d, out=d)
            moments = d @ weights
            out[s:s + chunk] += moments[:, 0] - rx * moments[:, 1] + rx * (
                _antiderivative(lam[-1] - x) - _antiderivative(lam[0] - x))
    return out


def semicircle_log_potential(x: np.ndarray, radius: float) -> np.ndarray:
    """Closed form of U for the semicircle of radius R (the test of :func:`log_potential`)."""
    x = np.asarray(x, dtype=float)
    ax = np.abs(x)
    root = np.sqrt(np.maximum(x * x - radius**2, 0))
    log_term = np.log(np.maximum(ax + root, radius) / radius)
    outside = np.where(ax > radius, ax * root / radius**2 - log_term, 0.0)
    return x * x / radius**2 - 0.5 + math.log(radius / 2) - outside


# ---------------------------------------------------------------- exponent and Theta map


@dataclass(frozen=True)
class ExponentGrid:
    """:math:`E(x, x_1)` on a grid, rows :math:`x_1` and columns x (both ascending).

    Attributes:
        xs, x1s: the grid axes.
        values: shape ``(len(x1s), len(xs))``.
        supports: the density :math:`\\mu_{x_1}` of each row on its support grid.
        lsd: the density solver used.
    """

    xs: np.ndarray
    x1s: np.ndarray
    values: np.ndarray
    supports: tuple[Support, ...]
    lsd: str

    @property
    def masses(self) -> np.ndarray:
        """The mass of each :math:`\\mu_{x_1}` on its support grid (1 up to discretisation)."""
        return np.array([s.mass for s in self.supports])


def exponent_grid(model: GanModel, xs: np.ndarray, x1s: np.ndarray, lsd: str = "quartic",
                  nodes: int = 4000) -> ExponentGrid:
    """:math:`E(x, x_1) = C - x^2/(2s^2) - x_1^2/(2s_1^2) + U(x; x_1)`: one density per :math:`x_1`
    serves the whole x axis as one matrix-vector product."""
    xs, x1s = np.asarray(xs, dtype=float), np.asarray(x1s, dtype=float)
    supports = tuple(support(float(x1), model.kappa, model.b, model.b1, lsd, nodes) for x1 in x1s)
    values = np.stack([log_potential(xs, sup) for sup in supports])
    values += model.log_prefactor - x1s[:, None] ** 2 / (2 * model.s12) - xs[None, :] ** 2 / (2 * model.s2)
    return ExponentGrid(xs, x1s, values, supports, lsd)


def theta_map(xs: np.ndarray, x1s: np.ndarray, values: np.ndarray, p: float, c: float,
              u_d: np.ndarray, u_g: np.ndarray) -> np.ndarray:
    """:math:`\\Theta(u_D, u_G) = \\max E` over :math:`\\{x < c u_G\\} \\cap \\{x_1 > -p u_D - p x/c\\}`.

    Fast aggregation (equal to the double loop on the grid): a suffix maximum over :math:`x_1`, one
    ``searchsorted`` per :math:`u_D` for the threshold row of every x, a prefix maximum over x, and a
    lookup at :math:`x < c u_G`. An empty domain gives NaN.

    Returns:
        Array of shape ``(len(u_g), len(u_d))``.
    """
    e = np.where(np.isfinite(values), values, -np.inf)
    suffix = np.vstack([np.maximum.accumulate(e[::-1], axis=0)[::-1], np.full((1, xs.size), -np.inf)])
    kx = np.searchsorted(xs, c * np.asarray(u_g), side="left") - 1
    cols = np.arange(xs.size)
    out = np.full((len(u_g), len(u_d)), -np.inf)
    for i, ud in enumerate(u_d):
        col = suffix[np.searchsorted(x1s, -p * ud - p * xs / c, side="right"), cols]
        prefix = np.maximum.accumulate(col)
        out[:, i] = np.where(kx >= 0, prefix[np.clip(kx, 0, None)], -np.inf)
    out[~np.isfinite(out)] = np.nan
    return out


def theta_map_bruteforce(xs: np.ndarray, x1s: np.ndarray, values: np.ndarray, p: float, c: float,
                         u_d: np.ndarray, u_g: np.ndarray) -> np.ndarray:
    """The authors' double loop over the domain (for tests of :func:`theta_map`)."""
    out = np.full((len(u_g), len(u_d)), np.nan)
    x, x1 = np.meshgrid(xs, x1s)
    for j, ug in enumerate(u_g):
        for i, ud in enumerate(u_d):
            inside = (x < c * ug) & (x1 > -p * ud - p * x / c) & np.isfinite(values)
            if inside.any():
                out[j, i] = values[inside].max()
    return out


def u_grid(model: GanModel, xs: np.ndarray, x1s: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The authors' (u_D, u_G) axes: :math:`u_G \\in [x_{min}/c, x_{max}/c]` and
    :math:`u_D \\in [(x_{max}R - x_{1,max})/p, (x_{min}R - x_{1,min})/p]`, :math:`R = -p/c`."""
    r = -model.p / model.c
    u_g = np.linspace(xs[0] / model.c, xs[-1] / model.c, n)
    u_d = np.linspace((xs[-1] * r - x1s[-1]) / model.p, (xs[0] * r - x1s[0]) / model.p, n)
    return u_d, u_g


# ---------------------------------------------------------------- index-resolved complexity


def goe_rate(u: np.ndarray, edge: float, sided: str) -> np.ndarray:
    """Rate of one GOE eigenvalue at u outside a semicircle of edge E (ABC's :math:`I_1` scaled):

    :math:`I(u; E) = |u|\\sqrt{u^2-E^2}/E^2 - \\log(|u| + \\sqrt{u^2-E^2}) + \\log E`; ``sided="two"``
    (the authors') is finite for :math:`|u| \\ge E`, ``sided="lower"`` only for :math:`u \\le -E`;
    +inf elsewhere.
    """
    u = np.asarray(u, dtype=float)
    rate = pspin.outlier_rate(-np.abs(u) if sided == "two" else u, edge)
    allowed = np.abs(u) >= edge if sided == "two" else u <= -edge
    return np.where(allowed, rate, np.inf)


def index_penalties(model: GanModel, xs: np.ndarray, x1s: np.ndarray,
                    convention: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit-index penalties :math:`w_D I(-(x+x_1); E_D)` and :math:`w_G I(x; E_G)` on the grid.

    The generator's Hessian is the G block of :math:`H - x` (edge :math:`E_G`, spectrum above
    :math:`-E_G - x`), so few negative eigenvalues need :math:`x \\le -E_G`; the discriminator's is
    minus the D block after the row negation of section 3.2, so few need :math:`-(x + x_1) \\le -E_D`.

    * ``"authors"``: :math:`w_G = \\kappa`, :math:`w_D = 1-\\kappa`, the authors' :math:`E_D`, two-sided.
    * ``"corrected"``: :math:`w_G = 1-\\kappa` and :math:`w_D = \\kappa` (the blocks' shares of the N
      rows), the corrected :math:`E_D`, one-sided (only where the block can be nearly definite).

    Returns:
        ``(pen_d, pen_g)``, each of shape ``(len(x1s), len(xs))``.
    """
    if convention not in INDEX_CONVENTIONS:
        raise ValueError(f"unknown index convention '{convention}'; use one of {INDEX_CONVENTIONS}")
    x, x1 = np.meshgrid(np.asarray(xs, float), np.asarray(x1s, float))
    k = model.kappa
    if convention == "authors":
        w_d, w_g, sided = 1 - k, k, "two"
    else:
        w_d, w_g, sided = k, 1 - k, "lower"
    pen_d = w_d * goe_rate(-(x + x1), model.edge_d(convention), sided)
    pen_g = w_g * goe_rate(x, model.edge_g, sided)
    return pen_d, pen_g


def index_theta(grid: ExponentGrid, model: GanModel, k_d: int, k_g: int, convention: str,
                u_d: np.ndarray, u_g: np.ndarray,
                penalties: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """:math:`\\Theta_{k_D,k_G} = \\sup_{\\mathcal D}[E - k_G w_G I_G - k_D w_D I_D]`; a term applies only
    for k >= 1, so :math:`\\Theta_{0,0} = \\Theta` (the authors' reading, mirroring ABC's
    :math:`\\Theta_k = \\Theta_0 - kI_1`)."""
    pen_d, pen_g = penalties if penalties is not None else index_penalties(model, grid.xs, grid.x1s,
                                                                           convention)
    with np.errstate(invalid="ignore"):
        values = grid.values - (k_d * pen_d if k_d else 0) - (k_g * pen_g if k_g else 0)
    return theta_map(grid.xs, grid.x1s, values, model.p, model.c, u_d, u_g)


def largest_index(grid: ExponentGrid, model: GanModel, k_max: int, convention: str, u_d: np.ndarray,
                  u_g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest :math:`k_D` and :math:`k_G` in ``0..k_max`` with :math:`\\Theta > 0` (-1 if none).

    :math:`\\Theta_{k_D,k_G} \\le \\Theta_{k_D,0}`, so the largest :math:`k_D` over all pairs with
    :math:`\\Theta > 0` is the largest with :math:`\\Theta_{k_D,0} > 0` (likewise for :math:`k_G`).
    """
    pens = index_penalties(model, grid.xs, grid.x1s, convention)
    best_d = np.full((len(u_g), len(u_d)), -1)
    best_g = np.full((len(u_g), len(u_d)), -1)
    for k in range(k_max + 1):
        best_d[index_theta(grid, model, k, 0, convention, u_d, u_g, pens) > 0] = k
        best_g[index_theta(grid, model, 0, k, convention, u_d, u_g, pens) > 0] = k
    return best_d, best_g


# ---------------------------------------------------------------- summaries and sweeps


def thresholds(theta: np.ndarray, u_d: np.ndarray, u_g: np.ndarray) -> dict[str, float]:
    """Summaries of the region :math:`\\Theta > 0` (section 3.8): :math:`\\theta_D = \\min u_D`,
    :math:`\\theta_G = \\min u_G`, :math:`\\theta_{D+G} = \\min(u_D + u_G)`, max :math:`|u_D - u_G|`
    (NaN where the region is empty)."""
    ug, ud = np.meshgrid(u_g, u_d, indexing="ij")
    pos = np.nan_to_num(theta, nan=-1.0) > 0
    if not pos.any():
        return {"theta_d": math.nan, "theta_g": math.nan, "theta_dg": math.nan, "max_gap": math.nan}
    return {"theta_d": float(ud[pos].min()), "theta_g": float(ug[pos].min()),
            "theta_dg": float((ud + ug)[pos].min()), "max_gap": float(np.abs(ud - ug)[pos].max())}


def min_u_g(theta: np.ndarray, u_g: np.ndarray) -> np.ndarray:
    """For each :math:`u_D` (column), the smallest :math:`u_G` with :math:`\\Theta > 0` (NaN if none)."""
    pos = np.nan_to_num(theta, nan=-1.0) > 0
    first = np.argmax(pos, axis=0)
    return np.where(pos.any(axis=0), u_g[first], np.nan)


def converged_theta_g(model: GanModel, grid: ExponentGrid, rtol: float = 1e-6) -> tuple[float, float]:
    """:math:`\\theta_G` with the x axis unbounded below: :math:`\\min\\{x/c : \\max_{x_1}E(x,x_1) > 0\\}`.

    The authors' x grid stops at :math:`x_{min}`, which pins :math:`\\theta_G` at :math:`x_{min}/c`
    (section 3.8). Here the left end is doubled until :math:`\\max_{x_1}E < 0` there, and the
    crossing is found by bisection, starting from the grid's left end ``grid.xs[0]`` and reusing its
    densities (the :math:`x_1` axis stays the grid's).

    Returns:
        ``(theta_g, x_left)``: the converged threshold and the left end that bounded the search;
        ``(nan, grid.xs[0])`` when :math:`\\max_{x_1}E \\le 0` at ``x_start`` already (the grid does not
        limit :math:`\\theta_G`, whose value is then the grid's).
    """
    offset = -grid.x1s**2 / (2 * model.s12) + model.log_prefactor
    x_start = float(grid.xs[0])

    def top(x: float) -> float:
        u = np.array([log_potential(np.array([x]), s)[0] for s in grid.supports])
        return float((u + offset).max() - x * x / (2 * model.s2))

    if top(x_start) <= 0:
        return math.nan, x_start
    left = x_start
    while top(left) > 0:
        left *= 2
        if abs(left) > 1e15:
            raise ValueError("theta_G did not converge: E stays positive as x -> -inf")
    lo, hi = left, x_start
    while hi - lo > rtol * abs(lo):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if top(mid) > 0 else (mid, hi)
    return hi / model.c, left


# ---------------------------------------------------------------- finite-N sampling


def sample_eigenvalues(n: int, x1: float, kappa: float, b: float, b1: float, samples: int,
                       seed: int = 0) -> np.ndarray:
    """Eigenvalues of :math:`H(x_1) = bM + (b_1M_1 - x_1 I)\\oplus 0`, shape ``(samples, n)``.

    M: n x n GOE with :math:`E M_{ij}^2 = (1+\\delta_{ij})/(2n)`; :math:`M_1`: the same at size
    :math:`N_D = \\mathrm{round}(\\kappa n)` normalised by :math:`N_D` (the authors' sampler).
    """
    rng = np.random.default_rng(seed)
    n_d = int(round(kappa * n))
    out = np.empty((samples, n))
    for s in range(samples):
        h = b * goe(n, rng) / math.sqrt(2 * n)              # ABC normalisation
        h[:n_d, :n_d] += b1 * goe(n_d, rng) / math.sqrt(2 * n_d) - x1 * np.eye(n_d)
        out[s] = np.linalg.eigvalsh(h)
    return out


def log_abs_det_mc(eigenvalues: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:math:`N^{-1}\\log E|\\det(H - x)|` from sampled spectra, with a delta-method standard error.

    Returns:
        ``(value, stderr)`` at every x.
    """
    samples, n = eigenvalues.shape
    logdet = np.log(np.abs(eigenvalues[:, None, :] - np.asarray(xs)[None, :, None])).sum(axis=2)
    value = (logsumexp(logdet, axis=0) - math.log(samples)) / n
    ratio = np.exp(logdet - value[None] * n)              # |det| / E|det|
    stderr = ratio.std(axis=0, ddof=1) / math.sqrt(samples) / n
    return value, stderr

