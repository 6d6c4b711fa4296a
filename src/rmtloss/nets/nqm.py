"""Noisy quadratic model of damped preconditioned descent (Granziol & Baskerville 2022, arXiv 2011.08181).

The true loss is :math:`L(w) = \\tfrac12 w^\\top A w` with ``A = diag(lambda)`` (its eigenbasis, no
loss of generality): a Marchenko–Pastur bulk plus a few sharp spikes. At step t the optimiser sees

* a curvature estimate :math:`B_t = \\frac1m \\sum_{j=1}^m a_j a_j^\\top` with :math:`a_j \\sim N(0, A)`
  (a Fisher-like sample estimate, unbiased, noisiest relative to the truth in the flat directions),
* a gradient :math:`g_t = A w_t + \\xi_t` with :math:`\\xi_t \\sim N(0, A / b)` (Fisher-like noise of
  a batch of b),

and steps :math:`w_{t+1} = w_t - \\eta (1 + \\delta)(B_t + \\delta I)^{-1} g_t` (damping as shrinkage,
:mod:`rmtloss.nets.optim`). Reported per δ: the true loss after T steps and the mean absolute
displacement :math:`|w_T - w_0|` along the k flattest and the k sharpest directions of A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmtloss.errors import require


@dataclass(frozen=True)
class NQMRun:
    """One run of the noisy quadratic model.

    Attributes:
        delta: the damping. loss: true loss after each step ``(T + 1,)`` (index 0: the start).
        flat, sharp: mean absolute displacement along the k flattest / sharpest directions.
    """

    delta: float
    loss: np.ndarray
    flat: float
    sharp: float


def spectrum(n: int, ratio: float, scale: float, spikes: list[float], seed: int) -> np.ndarray:
    """Eigenvalues of A: ``n - len(spikes)`` of ``scale * W W^T / m`` (W of shape (n', m), n'/m =
    ``ratio`` < 1, so no zero mass) and the spikes; sorted ascending."""
    require(0 < ratio < 1, "nqm.bulk_ratio", f"must be in (0, 1) (got {ratio})")
    require(n > len(spikes) + 1, "nqm.n", f"must exceed the number of spikes + 1 (got {n})")
    rng = np.random.default_rng(seed)
    k = n - len(spikes)
    w = rng.standard_normal((k, int(round(k / ratio))))
    bulk = np.linalg.eigvalsh(w @ w.T / w.shape[1]) * scale
    return np.sort(np.concatenate([bulk, np.asarray(spikes, float)]))


def run(
    lam: np.ndarray,
    delta: float,
    *,
    lr: float,
    steps: int,
    curvature_samples: int,
    batch: int,
    k: int,
    seed: int,
) -> NQMRun:
    """Iterate the damped preconditioned step from a seeded start ``w_0 ~ N(0, I)``.

    Args:
        lam: eigenvalues of A (ascending). delta: δ. lr: η. steps: T.
        curvature_samples: m, samples in each curvature estimate B_t.
        batch: b, the batch size setting the gradient noise A / b.
        k: number of flattest and sharpest directions the displacement is averaged over.
        seed: start point and noise draws.
    """
    rng = np.random.default_rng(seed)
    n = len(lam)
    sqrt_lam = np.sqrt(lam)
    w0 = rng.standard_normal(n)
    w = w0.copy()
    loss = np.empty(steps + 1)
    loss[0] = 0.5 * np.sum(lam * w**2)
    for t in range(steps):
        a = rng.standard_normal((curvature_samples, n)) * sqrt_lam  # rows ~ N(0, A)
        b_t = a.T @ a / curvature_samples
        g = lam * w + rng.standard_normal(n) * sqrt_lam / np.sqrt(batch)
        evals, evecs = np.linalg.eigh(b_t)
        w = w - lr * (1 + delta) * (evecs @ ((evecs.T @ g) / (evals + delta)))
        loss[t + 1] = 0.5 * np.sum(lam * w**2)
        if not np.isfinite(loss[t + 1]):
            loss[t + 1 :] = np.inf
            break
    disp = np.abs(w - w0)
    return NQMRun(float(delta), loss, float(disp[:k].mean()), float(disp[-k:].mean()))
