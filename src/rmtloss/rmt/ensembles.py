"""Random-matrix samples used as controls."""

from __future__ import annotations

import numpy as np


def goe(n: int, rng: np.random.Generator) -> np.ndarray:
    r"""A GOE matrix :math:`(G + G^\top)/\sqrt{2}` with standard normal :math:`G` (semicircle
    of radius :math:`2\sqrt n`)."""
    g = rng.standard_normal((n, n))
    return (g + g.T) / np.sqrt(2)


def goe_eigenvalues(n: int, count: int, seed: int) -> list[np.ndarray]:
    """Eigenvalues of ``count`` independent n x n GOE matrices."""
    rng = np.random.default_rng(seed)
    return [np.linalg.eigvalsh(goe(n, rng)) for _ in range(count)]


def poisson_points(n: int, count: int, seed: int) -> list[np.ndarray]:
    """``count`` sets of n independent uniform points (a Poisson spectrum)."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.uniform(size=n)) for _ in range(count)]


def superpose(spectra: list[np.ndarray], k: int) -> list[np.ndarray]:
    """Merge consecutive groups of ``k`` spectra into one each (a superposition)."""
    return [np.sort(np.concatenate(spectra[i:i + k])) for i in range(0, len(spectra) - k + 1, k)]
