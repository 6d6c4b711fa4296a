r"""Free additive convolution with a semicircle, outlier locations and damped resolvents.

Baskerville, Keating, Mezzadri, Najnudel and Granziol, "Universal characteristics of deep neural
network loss surfaces from random matrix theory" (arXiv 2205.08601),
1.5 and 2.2 (C1.1, C1.2, C1.4). A batch Hessian is modelled as

.. math:: H_b = A + s X, \qquad s^2 = \sigma^2 (1/b - 1/N),

with :math:`A` the full-data Hessian (a bulk law :math:`\mu_D` and a few spikes :math:`\theta_i`)
and :math:`X` a delocalised noise matrix normalised to a semicircle of radius 2. With the Stieltjes
transform :math:`G_\mu(z) = \int d\mu(x)/(z - x)`, the semicircle's R-transform :math:`s^2 w` gives
the **subordination** relation

.. math:: G_{H}(z) = G_D(\omega(z)), \qquad \omega(z) = z - s^2 G_H(z),

so :math:`z = F(\omega) := \omega + s^2 G_D(\omega)`. Consequences used here:

* density of :math:`\mu_D \boxplus \mathrm{SC}(s^2)`: :math:`-\operatorname{Im} G_D(\omega(x + i0))/\pi`;
* right bulk edge: :math:`F(\omega_c)` where :math:`F'(\omega_c) = 1 - s^2 \int d\mu_D/(\omega_c-x)^2 = 0`;
* outliers: a spike :math:`\theta` separates iff :math:`\theta > \omega_c` and then sits at the
  :math:`\lambda` with :math:`\omega(\lambda) = \theta`, i.e. :math:`\lambda = \theta + s^2 m_D(\theta)`
  with :math:`m_D = G_D` (BBP's :math:`\theta + s^2/\theta` for :math:`\mu_D = \delta_0`);
* damped resolvents: for :math:`\delta` left of the spectrum,
  :math:`g = \frac1P\operatorname{tr}(H+\delta)^{-1}` solves
  :math:`g = \int d\mu_A(a)/(a + \delta - s^2 g)`, and quadratic forms of :math:`(H+\delta)^{-1}`
  are those of :math:`(A + \delta_{\rm eff})^{-1}` with
  :math:`\delta_{\rm eff} = \delta - s^2 g = -\omega(-\delta)` (the isotropic local law).

The laws are :class:`~rmtloss.rmt.global_laws.Discrete` (an exact spectrum or a Lanczos quadrature).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from rmtloss.errors import InputError
from rmtloss.rmt.global_laws import Discrete


def stieltjes(law: Discrete, z: np.ndarray | complex | float) -> np.ndarray:
    r""":math:`G(z) = \sum_v w_v/(z - v)`, elementwise over ``z``."""
    z = np.asarray(z)
    return (law.weights / (z[..., None] - law.values)).sum(-1)


def _dstieltjes(law: Discrete, z: np.ndarray) -> np.ndarray:
    r""":math:`G'(z) = -\sum_v w_v/(z - v)^2`."""
    return -(law.weights / (z[..., None] - law.values) ** 2).sum(-1)


def _check(s2: float) -> None:
    if not (np.isfinite(s2) and s2 >= 0):
        raise InputError(f"noise variance s^2 must be finite and >= 0 (got {s2})")


def _newton(law: Discrete, s2: float, z: np.ndarray, w: np.ndarray, steps: int) -> np.ndarray:
    r"""Newton steps on :math:`F(\omega) - z`, kept where they stay in the upper half-plane and
    shrink the residual."""
    for _ in range(steps):
        res = w + s2 * stieltjes(law, w) - z
        cand = w - res / (1 + s2 * _dstieltjes(law, w))
        ok = (cand.imag > 0) & (np.abs(cand + s2 * stieltjes(law, cand) - z) < np.abs(res))
        w = np.where(ok, cand, w)
    return w


def subordination(law: Discrete, s2: float, z: np.ndarray, *, levels: int = 16, iters: int = 5,
                  newton: int = 8) -> np.ndarray:
    r"""The subordination function :math:`\omega(z)` of :math:`\mu_D \boxplus \mathrm{SC}(s^2)` for
    :math:`\operatorname{Im} z > 0`.

    The fixed point :math:`\omega \mapsto z - s^2 G_D(\omega)` maps the upper half-plane into
    :math:`\{\operatorname{Im}\omega \ge \operatorname{Im} z\}` and converges (Denjoy–Wolff), but
    slowly near the real axis. So :math:`\omega` is followed from
    :math:`\operatorname{Im} z` of the order of the spread of the law down to the requested one over
    ``levels`` geometric steps, each with ``iters`` fixed-point steps and ``newton`` Newton steps
    started from the previous level's solution.
    """
    _check(s2)
    z = np.asarray(z, dtype=complex)
    if np.any(z.imag <= 0):
        raise InputError("subordination needs Im z > 0; on the real line use subordination_real")
    top = float(law.values[-1] - law.values[0]) + np.sqrt(s2) + 1.0
    w = z.real + 1j * (top + np.sqrt(s2))
    for k in range(levels + 1):
        t = k / levels
        zk = z.real + 1j * np.exp((1 - t) * np.log(top) + t * np.log(z.imag))
        for _ in range(iters):
            w = zk - s2 * stieltjes(law, w)
        w = _newton(law, s2, zk, w, newton)
    return w


def convolution_density(law: Discrete, s2: float, x: np.ndarray, eta: float | None = None) -> np.ndarray:
    r"""Density of :math:`\mu_D \boxplus \mathrm{SC}(s^2)` at real ``x``.

    Evaluated at :math:`x + i\eta` with :math:`\eta` (default :math:`10^{-6}` times the spread of
    the law plus :math:`s`) far below the scale on which the convolved density varies.
    """
    if s2 <= 0:
        raise InputError("the convolution with a semicircle of variance 0 has no density; use s2 > 0")
    spread = float(law.values[-1] - law.values[0]) + np.sqrt(s2)
    eta = 1e-6 * spread if eta is None else eta
    w = subordination(law, s2, np.asarray(x, dtype=float) + 1j * eta)
    return -stieltjes(law, w).imag / np.pi


def _critical(law: Discrete, s2: float, side: int) -> float:
    r""":math:`\omega_c` right (``side=+1``) or left (``-1``) of the support: :math:`F'(\omega_c) = 0`."""
    end = law.values[-1] if side > 0 else law.values[0]
    w_end = law.weights[-1] if side > 0 else law.weights[0]
    s = np.sqrt(s2)

    def fprime(u: float) -> float:
        return float(1 + s2 * _dstieltjes(law, np.asarray(end + side * u)))

    lo, hi = 0.5 * s * np.sqrt(w_end), 1.01 * s
    return float(end + side * brentq(fprime, lo, hi, xtol=1e-14 * max(1.0, abs(end)), rtol=1e-13))


def _F(law: Discrete, s2: float, w: float) -> float:
    r""":math:`F(\omega) = \omega + s^2 G_D(\omega)` at a real point outside the support."""
    return float(w + s2 * stieltjes(law, np.asarray(w)))


def bulk_edges(law: Discrete, s2: float) -> tuple[float, float]:
    r"""Left and right edges :math:`F(\omega_c^\mp)` of :math:`\mu_D \boxplus \mathrm{SC}(s^2)`."""
    _check(s2)
    if s2 == 0:
        return float(law.values[0]), float(law.values[-1])
    return _F(law, s2, _critical(law, s2, -1)), _F(law, s2, _critical(law, s2, +1))


def _branch_root(law: Discrete, s2: float, z: float, wc: float) -> float:
    r"""The root of :math:`F(\omega) = z` between :math:`\omega_c` (of z's side) and z: :math:`|G_D|`
    pushes F beyond :math:`\omega` on either side, so F - z changes sign there."""
    a, b = sorted((wc, z))
    return float(brentq(lambda w: _F(law, s2, w) - z, a, b, xtol=1e-14 * max(1.0, abs(z)), rtol=1e-13))


def subordination_real(law: Discrete, s2: float, z: float) -> float:
    r""":math:`\omega(z)` for real ``z`` outside the support of the convolution: the root of
    :math:`F(\omega) = z` on the branch where :math:`F' > 0` (beyond :math:`\omega_c`).

    Raises:
        InputError: when ``z`` lies inside the convolved bulk (no real :math:`\omega`).
    """
    _check(s2)
    if s2 == 0:
        return float(z)
    wl, wr = _critical(law, s2, -1), _critical(law, s2, +1)
    left, right = _F(law, s2, wl), _F(law, s2, wr)
    if left <= z <= right:
        raise InputError(f"z = {z:.6g} lies inside the bulk [{left:.6g}, {right:.6g}] of the convolution")
    return _branch_root(law, s2, z, wr if z > right else wl)


@dataclass(frozen=True)
class OutlierPrediction:
    """Where a spike ``theta`` of ``A`` lands in the spectrum of ``A + sX``.

    Attributes:
        theta: the spike. s2: the noise variance :math:`s^2`.
        separated: whether the spike leaves the bulk (:math:`\\theta > \\omega_c`).
        exact: the root of :math:`\\omega(\\lambda) = \\theta` found numerically (nan when not
            separated). first_order: :math:`\\theta + s^2 m_D(\\theta)`.
        edge: the right bulk edge of :math:`\\mu_D \\boxplus \\mathrm{SC}(s^2)`.
    """

    theta: float
    s2: float
    separated: bool
    exact: float
    first_order: float
    edge: float


def outlier_location(theta: float, bulk: Discrete, s2: float) -> OutlierPrediction:
    r"""Solve :math:`\omega(\lambda) = \theta` for the outlier that spike ``theta`` produces.

    ``bulk`` is :math:`\mu_D`, the law of :math:`A` without its spikes. The root is found by
    bracketing :math:`\lambda \mapsto \omega(\lambda) - \theta` to the right of the bulk edge, each
    :math:`\omega(\lambda)` itself a root of the subordination equation; in the large-P limit it
    equals the closed form :math:`\theta + s^2 m_D(\theta)` whenever the spike separates, which
    the tests check.
    """
    _check(s2)
    first = _F(bulk, s2, theta)
    if theta <= bulk.values[-1]:
        raise InputError(f"spike theta = {theta:.6g} is not above the bulk (max {bulk.values[-1]:.6g})")
    if s2 == 0:
        return OutlierPrediction(float(theta), 0.0, True, float(theta), first, float(bulk.values[-1]))
    wc = _critical(bulk, s2, +1)
    edge = _F(bulk, s2, wc)
    if theta <= wc:
        return OutlierPrediction(float(theta), float(s2), False, float("nan"), first, edge)

    def omega(lam: float) -> float:  # the right branch of the subordination function
        return _branch_root(bulk, s2, lam, wc)

    hi = edge + 1.0
    while omega(hi) < theta:
        hi = edge + 2 * (hi - edge)
    lo = edge + 1e-12 * max(1.0, abs(edge))
    lam = brentq(lambda x: omega(x) - theta, lo, hi, xtol=1e-13 * max(1.0, abs(hi)), rtol=1e-12)
    return OutlierPrediction(float(theta), float(s2), True, float(lam), first, edge)


def effective_damping(law: Discrete, s2: float, delta: float | np.ndarray) -> np.ndarray:
    r""":math:`\delta_{\rm eff} = \delta - s^2 g(\delta)`, with :math:`g` the fixed point of
    :math:`g = \int d\mu_A(a)/(a + \delta - s^2 g)` (``law`` is :math:`\mu_A`).

    :math:`-\delta` must lie left of the bulk of :math:`\mu_A \boxplus \mathrm{SC}(s^2)`; then
    :math:`\delta_{\rm eff} = -\omega(-\delta)`.

    Raises:
        InputError: for a :math:`\delta` whose :math:`-\delta` falls inside the convolved bulk.
    """
    d = np.atleast_1d(np.asarray(delta, dtype=float))
    _check(s2)
    if s2 == 0:
        return d.reshape(np.shape(delta))
    wl = _critical(law, s2, -1)
    left = _F(law, s2, wl)
    bad = d[-d >= left]
    if bad.size:
        raise InputError(
            f"damping delta = {bad[0]:.6g} is not left of the spectrum: need delta > {-left:.6g} "
            f"(minus the left edge of the noisy spectrum)"
        )
    return np.array([-_branch_root(law, s2, -x, wl) for x in d]).reshape(np.shape(delta))


def damped_trace(law: Discrete, s2: float, delta: float | np.ndarray) -> np.ndarray:
    r""":math:`g(\delta) = \frac1P\operatorname{tr}(H + \delta)^{-1}` predicted by the fixed point."""
    d = np.asarray(delta, dtype=float)
    if s2 == 0:
        return -stieltjes(law, -d)
    return (d - effective_damping(law, s2, d)) / s2


def resolvent_forms(vals: np.ndarray, weights: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    r""":math:`\sum_i w_{ij} / (\lambda_i + \delta)` for each δ and column j: with
    :math:`w_{ij} = (q_i^\top u_j)^2` from an eigendecomposition :math:`(\lambda_i, q_i)`, the quadratic
    forms :math:`u_j^\top (M + \delta)^{-1} u_j`; for a diagonal M, :math:`w = u^2`. Shape (D, J)."""
    return (weights[None, :, :] / (vals[None, :, None] + np.asarray(deltas, float)[:, None, None])).sum(1)


def quadratic_forms(vals: np.ndarray, vecs: np.ndarray, u: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    r""":math:`u_j^\top (M + \delta)^{-1} u_j` from the eigendecomposition ``(vals, vecs)`` of M."""
    return resolvent_forms(vals, (vecs.T @ u) ** 2, deltas)
