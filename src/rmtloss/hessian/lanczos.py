r"""Lanczos, stochastic Lanczos quadrature, top eigenpairs and Hutchinson traces.

Lanczos with full reorthogonalisation (Golub & Van Loan, ch. 10; as in Papyan 2018 and the authors' SLQ),
always in float64 whatever the operator's dtype: for :math:`q_1 = v/\|v\|`,

.. math:: w = A q_j - \beta_{j-1} q_{j-1},\quad \alpha_j = q_j^\top w,\quad
   w \leftarrow w - Q_j (Q_j^\top w) \text{ (twice)},\quad \beta_j = \|w\|,\quad q_{j+1} = w/\beta_j .

Unlike PyHessian, :math:`\beta_j` is taken **after** reorthogonalising, so :math:`T_m` is the
projection of A on the basis actually used, and :math:`T_m` is solved with the symmetric tridiagonal
solver (``scipy.linalg.eigh_tridiagonal``), never a general one. With :math:`T_m = Y\Theta Y^\top`:
Ritz values :math:`\theta_k`, Gauss quadrature weights :math:`\tau_k = Y_{1k}^2` (they sum to 1)
and residuals :math:`\|A y_k - \theta_k y_k\| = \beta_m |Y_{mk}|`.

Stochastic Lanczos quadrature (Ubaru, Chen, Saad 2017): for probes :math:`v_l` the quadrature
:math:`\sum_k \tau^{(l)}_k f(\theta^{(l)}_k)` matches :math:`v_l^\top f(A) v_l / \|v_l\|^2` for
polynomials of degree up to :math:`2m - 1`; the average over probes estimates
:math:`\operatorname{tr} f(A) / P`. The density is smoothed with a Gaussian kernel whose width is a
**standard deviation** (PyHessian and google/spectral-density pass a variance under that name).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from scipy.linalg import eigh_tridiagonal

from rmtloss._io import write_npz
from rmtloss.progress import track


class Operator(Protocol):
    """What the algorithms need: ``size`` and ``matmat``/``matvec`` (see operators)."""

    size: int

    def matvec(self, v: torch.Tensor) -> torch.Tensor: ...  # noqa: D102

    def matmat(self, mat: torch.Tensor) -> torch.Tensor: ...  # noqa: D102


def _save(obj: object, path: str | Path) -> None:
    write_npz(path, **{k: np.asarray(getattr(obj, k)) for k in obj.__dataclass_fields__})


@dataclass(frozen=True)
class LanczosResult:
    """Ritz values of one Lanczos run with their quadrature weights and residuals.

    Attributes:
        ritz_values: :math:`\\theta_k`, ascending, ``(m,)``.
        weights: :math:`\\tau_k = Y_{1k}^2`, summing to 1.
        residuals: :math:`\\beta_m |Y_{mk}|`, the norm of :math:`A y_k - \\theta_k y_k`.
        converged: residual <= ``tol`` * max(abs(theta_k), spectral scale).
        alpha, beta: the tridiagonal matrix (diagonal ``(m,)``, off-diagonal ``(m - 1,)``).
        beta_last: :math:`\\beta_m` (0 when an invariant subspace was found).
        num_steps: m, the steps taken (fewer than asked when an invariant subspace was found).
        seed: of the start vector; tol: the convergence tolerance.
    """

    ritz_values: np.ndarray
    weights: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    beta_last: float
    num_steps: int
    seed: int
    tol: float

    def save(self, path: str | Path) -> None:
        """Write the raw numbers to ``.npz`` atomically."""
        _save(self, path)


def _block_lanczos(op: Operator, v0: torch.Tensor, num_steps: int
                   ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, torch.Tensor]:
    """K independent Lanczos recurrences advanced together, one ``matmat`` per step.

    Args:
        op: the operator; v0: ``(P, K)`` start vectors (float64); num_steps: m (capped at P).

    Returns:
        Per probe: alpha ``(m_k,)`` and beta ``(m_k - 1,)``; beta_m ``(K,)`` (0 where an
        invariant subspace stopped that probe early); the bases ``Q`` of shape ``(m, K, P)``.
    """
    n, k = v0.shape
    m = min(num_steps, n)
    q = torch.zeros(m + 1, k, n, dtype=torch.float64, device=v0.device)
    q[0] = (v0 / v0.norm(dim=0)).T
    alpha = torch.zeros(m, k, dtype=torch.float64)
    beta = torch.zeros(m, k, dtype=torch.float64)
    steps = np.full(k, m)
    active = torch.ones(k, dtype=torch.bool)
    for j in track(range(m), m, f"lanczos ({k} vector{'s' * (k > 1)}, P = {n})"):
        w = op.matmat(q[j].T.contiguous()).to(torch.float64).T  # (K, P)
        if j > 0:
            w -= beta[j - 1].to(w.device)[:, None] * q[j - 1]
        a = (q[j] * w).sum(1)
        w -= a[:, None] * q[j]
        for _ in range(2):  # full reorthogonalisation, twice, each probe against its own basis
            w -= torch.einsum("jk,jkp->kp", torch.einsum("jkp,kp->jk", q[: j + 1], w), q[: j + 1])
        b = w.norm(dim=1)
        alpha[j] = a.cpu()
        beta[j] = b.cpu()
        scale = alpha[: j + 1].abs().amax(0) + (beta[:j].amax(0) if j else 0.0)
        stop = active & (beta[j] <= 1e-12 * scale.clamp_min(1e-300))
        for idx in torch.nonzero(stop).flatten().tolist():
            steps[idx], active[idx] = j + 1, False
            beta[j, idx] = 0.0
        if not active.any():
            break
        q[j + 1] = torch.where(active.to(w.device)[:, None], w / b.clamp_min(1e-300)[:, None], 0.0)
    alphas = [alpha[: steps[i], i].numpy() for i in range(k)]
    betas = [beta[: steps[i] - 1, i].numpy() for i in range(k)]
    beta_last = np.array([float(beta[steps[i] - 1, i]) for i in range(k)])
    return alphas, betas, beta_last, q[: int(steps.max())]


def _lanczos(op: Operator, v0: torch.Tensor, num_steps: int
             ) -> tuple[np.ndarray, np.ndarray, float, torch.Tensor]:
    """One recurrence: alpha, beta (length m - 1), beta_m and the basis Q ``(m, P)``."""
    alphas, betas, beta_last, q = _block_lanczos(op, v0[:, None], num_steps)
    return alphas[0], betas[0], float(beta_last[0]), q[: len(alphas[0]), 0]


def _tridiag_eig(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(alpha) == 1:
        return alpha.copy(), np.ones((1, 1))
    return eigh_tridiagonal(alpha, beta)


def _start_vector(size: int, seed: int, device: torch.device | str, kind: str = "rademacher"
                  ) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    if kind == "rademacher":
        v = torch.randint(0, 2, (size,), generator=gen, dtype=torch.float64) * 2 - 1
    else:
        v = torch.randn(size, generator=gen, dtype=torch.float64)
    return v.to(device)


def lanczos(op: Operator, num_steps: int, seed: int = 0, *, tol: float = 1e-3,
            start: torch.Tensor | None = None) -> LanczosResult:
    """Run ``num_steps`` steps of Lanczos with full reorthogonalisation from a seeded start.

    Args:
        op: a symmetric operator.
        num_steps: m; capped at P. Fewer are taken if an invariant subspace is reached.
        seed: seed of the Rademacher start vector (ignored when ``start`` is given).
        tol: a Ritz pair counts as converged when its residual is at most ``tol`` times
            max(abs(theta), the largest abs(theta)) (the authors' code: 1e-3).
        start: an explicit start vector.

    Returns:
        A :class:`LanczosResult`.
    """
    device = getattr(op, "device", "cpu")
    v0 = (start.to(device, torch.float64) if start is not None
          else _start_vector(op.size, seed, device))
    alpha, beta, beta_last, _ = _lanczos(op, v0, num_steps)
    return _result(alpha, beta, beta_last, seed, tol)


def _result(alpha: np.ndarray, beta: np.ndarray, beta_last: float, seed: int, tol: float
            ) -> LanczosResult:
    theta, y = _tridiag_eig(alpha, beta)
    residuals = beta_last * np.abs(y[-1])
    scale = np.maximum(np.abs(theta), np.abs(theta).max())
    return LanczosResult(theta, y[0] ** 2, residuals, residuals <= tol * scale, alpha, beta,
                         beta_last, len(alpha), seed, tol)


@dataclass(frozen=True)
class SLQResult:
    """Stochastic Lanczos quadrature: nodes and weights of K probes.

    Attributes:
        nodes, weights: ``(K, m)`` Ritz values and quadrature weights (rows padded with weight 0
            when a run stopped early).
        num_steps: m; seeds: the probe seeds; size: P.
    """

    nodes: np.ndarray
    weights: np.ndarray
    num_steps: int
    seeds: np.ndarray
    size: int

    def moment(self, k: int) -> float:
        """Estimate of :math:`\\operatorname{tr}(A^k)/P` (exact for k <= 2m - 1 per probe)."""
        return float(np.mean(np.sum(self.weights * self.nodes**k, axis=1)))

    def density(self, grid: np.ndarray, sigma: float) -> np.ndarray:
        """Smoothed spectral density on ``grid``; ``sigma`` is the kernel's standard deviation."""
        g = np.asarray(grid, dtype=float)[:, None, None]
        kern = np.exp(-((g - self.nodes[None]) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
        return np.mean(np.sum(kern * self.weights[None], axis=2), axis=1)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Quadrature distribution function :math:`\\hat F(x) = \\frac1K\\sum_l\\sum_{\\theta\\le x}\\tau`."""
        x = np.asarray(x, dtype=float)[:, None, None]
        return np.mean(np.sum((self.nodes[None] <= x) * self.weights[None], axis=2), axis=1)

    def save(self, path: str | Path) -> None:
        """Write the raw numbers to ``.npz`` atomically."""
        _save(self, path)


def slq(op: Operator, num_steps: int, num_probes: int, seed: int = 0, *,
        probes_per_pass: int = 16) -> SLQResult:
    """Stochastic Lanczos quadrature from ``num_probes`` Rademacher probes.

    Probe l uses seed ``seed + l`` (the same start vector :func:`lanczos` would use). Up to
    ``probes_per_pass`` recurrences advance together, one ``matmat`` (one pass over the data)
    per Lanczos step for all of them.
    """
    seeds = np.arange(seed, seed + num_probes)
    m = min(num_steps, op.size)
    nodes, weights = np.zeros((num_probes, m)), np.zeros((num_probes, m))
    device = getattr(op, "device", "cpu")
    for first in range(0, num_probes, probes_per_pass):
        group = seeds[first:first + probes_per_pass]
        v0 = torch.stack([_start_vector(op.size, int(s), device) for s in group], 1)
        alphas, betas, beta_last, _ = _block_lanczos(op, v0, num_steps)
        for i, s in enumerate(group):
            res = _result(alphas[i], betas[i], float(beta_last[i]), int(s), 1e-3)
            nodes[first + i, : res.num_steps] = res.ritz_values
            weights[first + i, : res.num_steps] = res.weights
    return SLQResult(nodes, weights, m, seeds, op.size)


@dataclass(frozen=True)
class EigenResult:
    """Extreme eigenpairs with explicitly computed residuals.

    Attributes:
        values: ``(k,)`` eigenvalue estimates in the order asked (``which``).
        vectors: ``(k, P)`` unit Ritz vectors (float64).
        residuals: :math:`\\|A u - \\lambda u\\|`, recomputed with the operator.
        converged: residual <= tol * max(abs(lambda)).
        num_steps, seed, which, tol: the settings.
    """

    values: np.ndarray
    vectors: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    num_steps: int
    seed: int
    which: str
    tol: float

    def save(self, path: str | Path) -> None:
        """Write the raw numbers to ``.npz`` atomically."""
        _save(self, path)


def top_eigenpairs(op: Operator, k: int, num_steps: int | None = None, seed: int = 0, *,
                   which: str = "LA", tol: float = 1e-3) -> EigenResult:
    """The k largest (``LA``), smallest (``SA``) or largest-magnitude (``LM``) eigenpairs.

    Uses one Lanczos run of ``num_steps`` (default 3k + 20) and
    recomputes each residual with one more product.
    """
    if which not in ("LA", "SA", "LM"):
        raise ValueError(f"which must be LA, SA or LM, not {which!r}")
    steps = num_steps if num_steps is not None else 3 * k + 20
    device = getattr(op, "device", "cpu")
    alpha, beta, _, q = _lanczos(op, _start_vector(op.size, seed, device), steps)
    theta, y = _tridiag_eig(alpha, beta)
    order = {"LA": np.argsort(-theta), "SA": np.argsort(theta),
             "LM": np.argsort(-np.abs(theta))}[which][:k]
    vecs = torch.as_tensor(y[:, order].T, dtype=torch.float64, device=q.device) @ q
    vals = theta[order]
    av = op.matmat(vecs.T).to(torch.float64).T
    res = (av - torch.as_tensor(vals, device=q.device)[:, None] * vecs).norm(dim=1).cpu().numpy()
    conv = res <= tol * np.abs(theta).max()
    return EigenResult(vals, vecs.cpu().numpy(), res, conv, len(alpha), seed, which, tol)


@dataclass(frozen=True)
class TraceResult:
    """Hutchinson trace estimate with its standard error.

    Attributes:
        estimate: mean of :math:`v_l^\\top A v_l`; stderr: sample standard deviation / sqrt(K).
        samples: the K quadratic forms; seed: of the Rademacher probes.
    """

    estimate: float
    stderr: float
    samples: np.ndarray
    seed: int


def hutchinson_trace(op: Operator, num_probes: int, seed: int = 0, *, batch: int = 32
                     ) -> TraceResult:
    """Hutchinson's estimator :math:`\\operatorname{tr} A \\approx \\frac1K\\sum v^\\top A v`
    with Rademacher probes, ``batch`` probes per ``matmat``."""
    gen = torch.Generator().manual_seed(seed)
    samples = []
    device = getattr(op, "device", "cpu")
    for start in range(0, num_probes, batch):
        k = min(batch, num_probes - start)
        v = (torch.randint(0, 2, (op.size, k), generator=gen, dtype=torch.float64) * 2 - 1).to(device)
        samples.append((v * op.matmat(v).to(torch.float64)).sum(0).cpu().numpy())
    s = np.concatenate(samples)
    return TraceResult(float(s.mean()), float(s.std(ddof=1) / math.sqrt(len(s))) if len(s) > 1
                       else float("nan"), s, seed)
