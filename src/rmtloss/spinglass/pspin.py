r"""Complexity of the pure spherical p-spin glass (Auffinger, Ben Arous, Černý 2013, "ABC").

Model: :math:`H_{N,p}(\sigma) = N^{-(p-1)/2}\sum J_{i_1\dots i_p}\sigma_{i_1}\cdots\sigma_{i_p}` on the
sphere :math:`|\sigma|^2 = N`, iid standard normal couplings. Auffinger, Ben Arous, Černý 2013
(arXiv 1003.1129) give every formula used here; the conventions are ABC's (GOE with
:math:`E M_{ij}^2 = (1+\delta_{ij})/(2N)`,
semicircle on :math:`[-\sqrt2, \sqrt2]`; complexities are cumulative in the energy, "at u or below").

* :math:`E_\infty = 2\sqrt{(p-1)/p}`;
  :math:`I_1(u) = -\frac{u}{E_\infty^2}\sqrt{u^2-E_\infty^2} - \log(-u+\sqrt{u^2-E_\infty^2}) + \log E_\infty`
  for :math:`u \le -E_\infty`;
* total complexity :math:`\Theta_p(u) = \frac12\log(p-1) - \frac{p-2}{4(p-1)}u^2 - I_1(u)` below
  :math:`-E_\infty`, without :math:`I_1` on :math:`[-E_\infty, 0]` and :math:`\frac12\log(p-1)` above 0;
* index-k complexity :math:`\Theta_{k,p}(u)` has :math:`(k+1)I_1(u)` below :math:`-E_\infty` and the constant
  :math:`\frac12\log(p-1) - \frac{p-2}{p}` above; the thresholds :math:`E_k` solve
  :math:`\Theta_{k,p}(-E_k) = 0` and decrease strictly to :math:`E_\infty`;
* exact finite-N expected counts through the GOE form with the exact GOE density (Hermite
  functions, Mehta's formula), and a direct Kac-Rice Monte Carlo that does not use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_simpson, simpson
from scipy.optimize import brentq
from scipy.special import gammaln


def e_inf(p: int) -> float:
    """Bulk edge in energy units, :math:`E_\\infty = 2\\sqrt{(p-1)/p}`."""
    return 2 * math.sqrt((p - 1) / p)


def outlier_rate(u: np.ndarray | float, edge: float) -> np.ndarray:
    """Rate of one eigenvalue of a GOE with semicircle edge E at :math:`u \\le -E` (0 above):
    :math:`-\\frac{u}{E^2}\\sqrt{u^2-E^2} - \\log(-u+\\sqrt{u^2-E^2}) + \\log E`."""
    u = np.asarray(u, dtype=float)
    out = np.zeros_like(u)
    m = u < -edge
    root = np.sqrt(u[m] ** 2 - edge**2)
    out[m] = -u[m] / edge**2 * root - np.log(-u[m] + root) + math.log(edge)
    return out


def i1(u: np.ndarray | float, p: int) -> np.ndarray:
    """GOE rate for one eigenvalue below the edge, :math:`I_1(u)` (0 for :math:`u \\ge -E_\\infty`)."""
    return outlier_rate(u, e_inf(p))


def theta(u: np.ndarray | float, p: int) -> np.ndarray:
    """Total annealed complexity
    :math:`\\Theta_p(u) = \\lim N^{-1}\\log E\\,\\mathrm{Crt}_N((-\\infty, u))`."""
    u = np.asarray(u, dtype=float)
    base = 0.5 * math.log(p - 1)
    return np.where(u >= 0, base, base - (p - 2) / (4 * (p - 1)) * u**2 - i1(u, p))


def theta_k(u: np.ndarray | float, k: int, p: int) -> np.ndarray:
    """Index-k complexity :math:`\\Theta_{k,p}(u)` (k fixed as N grows)."""
    u = np.asarray(u, dtype=float)
    base = 0.5 * math.log(p - 1)
    low = base - (p - 2) / (4 * (p - 1)) * u**2 - (k + 1) * i1(u, p)
    return np.where(u <= -e_inf(p), low, base - (p - 2) / p)


def threshold(k: int, p: int) -> float:
    """:math:`E_k`: the root of :math:`\\Theta_{k,p}(-E_k) = 0` above :math:`E_\\infty` (``brentq``)."""
    if p < 3:
        raise ValueError("thresholds exist for p >= 3 (p = 2 has no layered structure)")
    u = brentq(lambda v: float(theta_k(v, k, p)), -10.0, -e_inf(p) - 1e-14, xtol=1e-15, rtol=1e-15)
    return -u


def _hermite_functions(x: np.ndarray, n: int) -> np.ndarray:
    """:math:`\\varphi_0..\\varphi_n` on ``x`` by the stable three-term recurrence, ``(n + 1, len(x))``."""
    phi = np.zeros((n + 1, len(x)))
    phi[0] = math.pi**-0.25 * np.exp(-(x**2) / 2)
    if n >= 1:
        phi[1] = math.sqrt(2) * x * phi[0]
    for k in range(2, n + 1):
        phi[k] = math.sqrt(2 / k) * x * phi[k - 1] - math.sqrt((k - 1) / k) * phi[k - 2]
    return phi


def goe_sigma(n: int, num: int = 40001) -> tuple[np.ndarray, np.ndarray]:
    """Mean eigenvalue density of the unit-scale GOE_n (:math:`\\int\\sigma_n = n`) on a grid.

    Mehta's formula: :math:`\\sigma_n = \\sum_{k<n}\\varphi_k^2 + \\sqrt{n/2}\\,\\varphi_{n-1}(x)
    \\int\\varepsilon(x-t)\\varphi_n(t)dt + 1\\{n\\text{ odd}\\}\\varphi_{n-1}(x)/\\int\\varphi_{n-1}`,
    the :math:`\\varepsilon` integral by a cumulative Simpson rule on the same grid (no nested quadrature).
    """
    half = math.sqrt(2 * n + 1) + 12.0
    x = np.linspace(-half, half, num)
    phi = _hermite_functions(x, n)
    cum = cumulative_simpson(phi[n], x=x, initial=0.0)
    eps_int = cum - cum[-1] / 2  # int sgn(x - t)/2 phi_n(t) dt
    sigma = np.sum(phi[:n] ** 2, axis=0) + math.sqrt(n / 2) * phi[n - 1] * eps_int
    if n % 2 == 1:
        sigma += phi[n - 1] / simpson(phi[n - 1], x=x)
    return x, sigma


def expected_critical_points(n: int, p: int, u: float = math.inf) -> float:
    """Exact :math:`E\\,\\mathrm{Crt}_N((-\\infty, u))` from ABC's GOE form.

    :math:`2N\\sqrt{2/p}\\,(p-1)^{N/2}\\int_{x \\le \\sqrt{p/(2(p-1))}u} e^{-N(p-2)x^2/(2p)}\\rho_N(x)dx`,
    evaluated in unit-scale GOE coordinates on one fine grid.
    """
    x, sigma = goe_sigma(n)
    cut = math.sqrt(n) * math.sqrt(p / (2 * (p - 1))) * u
    f = np.exp(-(p - 2) * x**2 / (2 * p)) * sigma / n
    if math.isfinite(cut):
        keep = x <= cut
        xs, fs = np.append(x[keep], cut), np.append(f[keep], np.interp(cut, x, f))
    else:
        xs, fs = x, f
    return float(2 * n * math.sqrt(2 / p) * (p - 1) ** (n / 2) * simpson(fs, x=xs))


def index_split_n3(p: int) -> tuple[float, float, float]:
    """Exact :math:`E\\,\\mathrm{Crt}_{3,k}(\\mathbb R)`, k = 0, 1, 2, from the total T and the
    Euler identity :math:`\\sum_k (-1)^k E\\,\\mathrm{Crt}_{N,k} = \\chi(S^{N-1}) = 2` with the
    :math:`H \\to -H` symmetry: :math:`((T+2)/4, (T-2)/2, (T+2)/4)`."""
    t = expected_critical_points(3, p)
    return (t + 2) / 4, (t - 2) / 2, (t + 2) / 4


@dataclass(frozen=True)
class KacRiceMC:
    """Monte Carlo estimate of :math:`E\\,\\mathrm{Crt}_{N,k}(\\mathbb R)` for every index k.

    Attributes:
        mean, stderr: ``(N,)`` per index k = 0..N-1 (standard errors over ``batches``).
        n, p, samples, seed: the settings.
    """

    mean: np.ndarray
    stderr: np.ndarray
    n: int
    p: int
    samples: int
    seed: int


def kac_rice_mc(n: int, p: int, samples: int, seed: int = 0, batches: int = 8) -> KacRiceMC:
    """Direct Kac-Rice Monte Carlo, independent of the GOE form.

    :math:`E\\,\\mathrm{Crt}_{N,k} = |S^{N-1}(\\sqrt N)|(2\\pi p)^{-(N-1)/2}
    E[|\\det A|\\,1\\{\\mathrm{ind}\\,A = k\\}]`
    with :math:`A = \\sqrt{p(p-1)/N}\\,W - pU\\,I_{N-1}`, W symmetric with N(0,1) off-diagonal and
    N(0,2) diagonal entries, :math:`U \\sim N(0, 1/N)`.
    """
    rng = np.random.default_rng(seed)
    m = n - 1
    log_sphere = math.log(2) + (n / 2) * math.log(math.pi) + (n - 1) * 0.5 * math.log(n) - gammaln(n / 2)
    const = math.exp(log_sphere - (n - 1) / 2 * math.log(2 * math.pi * p))
    per = samples // batches
    means = np.zeros((batches, n))
    for b in range(batches):
        g = rng.standard_normal((per, m, m))
        w = (g + np.swapaxes(g, 1, 2)) / math.sqrt(2)  # off-diagonal N(0,1), diagonal N(0,2)
        uu = rng.standard_normal(per) / math.sqrt(n)
        a = math.sqrt(p * (p - 1) / n) * w - p * uu[:, None, None] * np.eye(m)
        ev = np.linalg.eigvalsh(a)
        det = np.abs(np.prod(ev, axis=1))
        index = np.sum(ev < 0, axis=1)
        means[b] = const * np.array([np.mean(det * (index == k)) for k in range(n)])
    return KacRiceMC(means.mean(0), means.std(0, ddof=1) / math.sqrt(batches), n, p, samples, seed)


def choromanska_mapping(distinct_weights: int, depth: int) -> tuple[int, int]:
    """Choromanska et al. (2015): a depth-H network with Λ distinct weights is the H-spin glass on
    :math:`S^{\\Lambda-1}`: returns ``(N, p) = (Λ, H)``."""
    if distinct_weights < 2 or depth < 2:
        raise ValueError("need at least 2 distinct weights and depth >= 2")
    return distinct_weights, depth
