r"""Hessians of a stationary Gaussian-process loss surface (Baskerville, Granziol, Keating).

For a stationary GP with covariance :math:`k(-\tfrac12\|x - x'\|^2)` the Hessian at a point is
Gaussian with (arXiv 2102.06740; the authors' notebook
``gp_test_loss_spectra``):

* off-diagonal entries iid :math:`N(0, k'')`: the sampler draws :math:`M = \sqrt{2k''}\,G` and
  symmetrises, :math:`(M + M^\top)/2`;
* a diagonal with covariance :math:`k'^2\,\mathbb 1\mathbb 1^\top + 2k''\,I`: a common shift
  :math:`k' z` plus independent parts (:math:`k'^2(1 - 1/k)` for the shift's variance in the
  variant conditioned on k observed values);
* ``degeneracy`` d: d zero rows and columns appended;
* ``outliers`` K at ``outlier_scale`` c: :math:`c(1 + z^2)`, :math:`z \sim N(0, 1)`, added to K
  random diagonal entries.

The global density is far from a semicircle for small :math:`k''` (the shift dominates), with a
zero atom under degeneracy and outliers on the diagonal, while the local statistics stay GOE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GPHessian:
    """One GP Hessian setting (see the module docstring); ``conditional`` is k or None."""

    n: int
    kp: float
    kpp: float
    degeneracy: int = 0
    outliers: int = 0
    outlier_scale: float = 0.0
    conditional: int | None = None

    def __post_init__(self) -> None:
        if self.n < 2 or self.kpp <= 0 or self.degeneracy < 0 or not 0 <= self.outliers <= self.n:
            raise ValueError(
                f"invalid GP Hessian setting {self}: need n >= 2, kpp > 0, degeneracy >= 0, "
                "0 <= outliers <= n"
            )
        if self.conditional is not None and self.conditional < 1:
            raise ValueError(f"conditional k must be >= 1 (got {self.conditional})")

    @property
    def shift_variance(self) -> float:
        """Variance of the common diagonal shift: :math:`k'^2` or :math:`k'^2(1 - 1/k)`."""
        k = self.conditional
        return self.kp**2 * (1.0 if k is None else 1.0 - 1.0 / k)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One Hessian of order ``n + degeneracy``."""
        m = math.sqrt(2 * self.kpp) * rng.standard_normal((self.n, self.n))
        h = (m + m.T) / 2
        h[np.diag_indices(self.n)] = math.sqrt(2 * self.kpp) * rng.standard_normal(self.n)
        h += math.sqrt(self.shift_variance) * rng.standard_normal() * np.eye(self.n)
        if self.outliers:
            idx = rng.choice(self.n, self.outliers, replace=False)
            h[idx, idx] += self.outlier_scale * (1 + rng.standard_normal(self.outliers) ** 2)
        if self.degeneracy:
            h = np.pad(h, (0, self.degeneracy))
        return h

    def eigenvalues(self, count: int, seed: int) -> np.ndarray:
        """``(count, n + degeneracy)`` ascending eigenvalues of independent samples."""
        rng = np.random.default_rng(seed)
        return np.stack([np.linalg.eigvalsh(self.sample(rng)) for _ in range(count)])
