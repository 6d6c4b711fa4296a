r"""Random-matrix samplers: GOE and Poisson controls, product and percolated ensembles.

Products and percolated (diluted) ensembles follow Granziol, "Beyond Random Matrix Theory for Deep
Networks" (arXiv 2006.07721):

* **Wishart products**: :math:`X_i \in \mathbb R^{N_{i-1}\times N_i}` with iid
  :math:`N(0, 1/N_i)` entries, :math:`W = X_1\cdots X_L`, :math:`M = WW^\top`. Its zero atom has
  weight :math:`1 - \min_i N_i/N_0` (:func:`product_zero_mass`, a rank argument); for square
  factors the moments are Fuss–Catalan, :math:`m_k = \binom{(L+1)k}{k}/(Lk+1)` (:func:`fuss_catalan`).
* **Wigner products** in the symmetric palindromic form
  :math:`S_L = W_1 W_2\cdots W_{L-1} W_L W_{L-1}\cdots W_1` with independent GOE matrices
  :math:`W_i` of unit variance (semicircle on [-2, 2]); :math:`S_1 = W_1`, :math:`S_2 = W_1W_2W_1`.
  The paper's exact symmetrisation is not known ([MEM]); this one is symmetric, so its eigenvalues
  are real (for L = 2 they are those of :math:`W_2W_1^2`, by cyclic similarity).
* **Percolated Wigner**: each upper-triangle entry is kept with probability p,
  :math:`A_{ij} = b_{ij} g_{ij}/\sqrt{pN}`, mean degree :math:`c = pN`. For :math:`c \le e` the zero
  atom has weight :math:`2t + ct^2 - 1`, :math:`t = W_0(c)/c` (Bauer and Golinelli 2001,
  :func:`bauer_golinelli`).
* **Percolated Wishart**: :math:`X \in \mathbb R^{N\times T}` diluted with probability p,
  :math:`M = XX^\top/(pT)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import comb, lambertw


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
    return [np.sort(np.concatenate(spectra[i : i + k])) for i in range(0, len(spectra) - k + 1, k)]


def wishart_product(dims: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """:math:`M = WW^\\top`, :math:`W = X_1\\cdots X_L`, :math:`X_i` of shape ``dims[i-1] x dims[i]``
    with iid :math:`N(0, 1/N_i)` entries (``dims`` = :math:`N_0, \\dots, N_L`)."""
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"dims must list N_0, ..., N_L (L >= 1) of positive sizes (got {list(dims)})")
    w = np.eye(dims[0])
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        w = w @ (rng.standard_normal((a, b)) / math.sqrt(b))
    return w @ w.T


def mp_bulk(n: int, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Eigenvalues of :math:`YY^\\top/n`, :math:`Y \\in \\mathbb R^{n \\times \\lfloor ratio\\, n\\rfloor}`
    (a Marchenko–Pastur bulk with an atom :math:`1 - ratio` at 0 when ratio < 1)."""
    m = max(1, int(ratio * n))
    return np.linalg.eigvalsh(wishart_product([n, m], rng)) * (m / n)


def wigner_product(n: int, depth: int, rng: np.random.Generator) -> np.ndarray:
    """Palindromic product :math:`S_L = W_1\\cdots W_L\\cdots W_1` of unit-variance GOE matrices."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1 (got {depth})")
    ws = [goe(n, rng) / math.sqrt(n) for _ in range(depth)]
    s = ws[-1]
    for w in reversed(ws[:-1]):
        s = w @ s @ w
    return (s + s.T) / 2  # exact symmetry against rounding


def percolated_wigner(n: int, c: float, rng: np.random.Generator) -> np.ndarray:
    """Diluted Wigner matrix of mean degree ``c`` (unit variance, semicircle as c -> infinity)."""
    if not 0 < c <= n:
        raise ValueError(f"mean degree c must be in (0, n] (got c = {c}, n = {n})")
    keep = np.triu(rng.random((n, n)) < c / n, 1)
    a = np.where(keep, rng.standard_normal((n, n)), 0.0) / math.sqrt(c)
    return a + a.T


def percolated_wishart(n: int, t: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """:math:`XX^\\top/(pT)` for :math:`X \\in \\mathbb R^{n\\times t}` kept with probability ``p``."""
    if not 0 < p <= 1:
        raise ValueError(f"keep probability p must be in (0, 1] (got {p})")
    x = np.where(rng.random((n, t)) < p, rng.standard_normal((n, t)), 0.0)
    return x @ x.T / (p * t)


NOISE_KINDS = ("goe", "rademacher", "sparse", "diagonal")


def noise_matrix(n: int, kind: str, rng: np.random.Generator, sparsity: float = 0.05) -> np.ndarray:
    r"""A symmetric noise matrix X with :math:`\frac1n\operatorname{tr}X^2 \approx 1`.

    ``goe``, ``rademacher`` (:math:`\pm 1/\sqrt n` entries) and ``sparse`` (entries kept with
    probability ``sparsity``, :math:`\pm 1/\sqrt{pn}`) are Wigner matrices with delocalised
    eigenvectors (semicircle on [-2, 2]); ``diagonal`` (standard normal diagonal) is the localised
    counter-example of Baskerville et al. 2022 (arXiv 2205.08601).
    """
    if kind == "diagonal":
        return np.diag(rng.standard_normal(n))
    if kind == "goe":
        return goe(n, rng) / np.sqrt(n)
    if kind == "rademacher":
        upper = rng.choice([-1.0, 1.0], size=(n, n)) / np.sqrt(n)
    elif kind == "sparse":
        mask = rng.random((n, n)) < sparsity
        upper = mask * rng.choice([-1.0, 1.0], size=(n, n)) / np.sqrt(sparsity * n)
    else:
        raise ValueError(f"unknown noise kind '{kind}'; use one of {', '.join(NOISE_KINDS)}")
    upper = np.triu(upper, 1)
    return upper + upper.T  # zero diagonal: O(1/n) of the variance


def product_zero_mass(dims: Sequence[int]) -> float:
    """Weight of the zero atom of a Wishart product: :math:`1 - \\min_i N_i / N_0`."""
    return 1.0 - min(dims) / dims[0]


def bauer_golinelli(c: float | np.ndarray) -> np.ndarray:
    """Zero-atom weight of a diluted Wigner matrix of mean degree :math:`c \\le e`."""
    c = np.asarray(c, dtype=float)
    if np.any(c <= 0) or np.any(c > math.e):
        raise ValueError(f"the Bauer-Golinelli formula holds for 0 < c <= e (got {c})")
    t = lambertw(c).real / c
    return 2 * t + c * t**2 - 1


def fuss_catalan(k: int, depth: int) -> float:
    """k-th moment of the square Wishart product of ``depth`` factors: C((L+1)k, k)/(Lk+1)."""
    return float(comb((depth + 1) * k, k, exact=True)) / (depth * k + 1)
