r"""Outlier detection against an estimated bulk edge, for exact spectra and converged Ritz values.

Baskerville et al. 2022 (arXiv 2205.08601): instead of eyeballing a gap, the right edge of the bulk
is estimated from a model of the bulk near its edge. A soft (square-root) edge at :math:`e` puts the j-th
largest bulk eigenvalue at

.. math:: \lambda_{(j)} \approx e - a\,(j - \tfrac12)^{2/3}

(the counting function grows like :math:`(e - \lambda)^{3/2}`). The test is sequential: with k
outliers already found, the edge is fitted by least squares on the m eigenvalues ranked
k + 2 .. k + m + 1 (the candidate, rank k + 1, is left out of its own fit) and the candidate is an
outlier when it exceeds :math:`e + \kappa a`. On GOE matrices the top eigenvalue sat at
:math:`(\lambda_1 - e)/a = -0.57 \pm 0.38` (N = 400, 200 matrices) and :math:`-0.59 \pm 0.41`
(N = 1000, 60 matrices), never above 1, so :math:`\kappa = 1` is about four spreads above it; the
tests measure the false positive rate on GOE matrices and the recovery of planted spikes.

Lanczos resolves only the extreme eigenvalues: among Ritz values, outliers are the converged ones
above every unconverged Ritz value (the unconverged ones stand for the bulk), checked with the same
edge test when enough converged values lie below the candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmtloss.errors import InputError


@dataclass(frozen=True)
class OutlierDetection:
    """Outliers found above an estimated bulk edge.

    Attributes:
        count: number of outliers. outliers: their values, largest first.
        edge: the fitted bulk edge :math:`e` after removing them. threshold: :math:`e + \\kappa a`.
        scale: the fitted edge scale :math:`a`. window: eigenvalues in each edge fit.
        kappa: the threshold in units of :math:`a`. method: ``edge-fit`` or ``ritz``.
    """

    count: int
    outliers: np.ndarray
    edge: float
    threshold: float
    scale: float
    window: int
    kappa: float
    method: str


def fit_edge(values: np.ndarray) -> tuple[float, float]:
    r"""Least-squares ``(e, a)`` of :math:`\lambda_{(j)} = e - a (j + \tfrac12)^{2/3}`, j = 1, 2, ...

    ``values`` are sorted largest first and start one rank below the top of the bulk (rank 0 is
    the candidate left out).
    """
    j = np.arange(1, len(values) + 1) + 0.5
    design = np.stack([np.ones_like(j), -(j ** (2 / 3))], axis=1)
    (e, a), *_ = np.linalg.lstsq(design, values, rcond=None)
    return float(e), float(a)


def _edge_test(desc: np.ndarray, k: int, window: int, kappa: float) -> tuple[bool, float, float]:
    """Is ``desc[k]`` above the edge fitted on ``desc[k+1 : k+1+window]``? Also the edge and scale."""
    e, a = fit_edge(desc[k + 1 : k + 1 + window])
    a = max(a, 0.0)
    return bool(desc[k] > e + kappa * a), e, a


def default_window(size: int) -> int:
    """Eigenvalues per edge fit for a P x P matrix: ``clip(P // 20, 10, 50)``."""
    return int(np.clip(size // 20, 10, 50))


def detect_outliers(
    eigenvalues: np.ndarray, *, window: int | None = None, kappa: float = 1.0, max_outliers: int | None = None
) -> OutlierDetection:
    """Outliers at the right end of an exact spectrum (sequential edge test).

    Args:
        eigenvalues: one spectrum (any order).
        window: eigenvalues per edge fit; default ``clip(P // 20, 10, 50)``.
        kappa: threshold above the fitted edge in units of the edge scale.
        max_outliers: stop after this many; default ``P // 4``.

    Raises:
        InputError: when the spectrum has fewer than ``window + 2`` values.
    """
    desc = np.sort(np.asarray(eigenvalues, dtype=float).ravel())[::-1]
    if not np.all(np.isfinite(desc)):
        raise InputError("outlier detection got non-finite eigenvalues (a diverged run?)")
    n = len(desc)
    window = default_window(n) if window is None else int(window)
    if n < window + 2:
        raise InputError(f"spectrum too small to analyse: {n} eigenvalues, the edge fit needs {window + 2}")
    k_max = min(n // 4 if max_outliers is None else int(max_outliers), n - window - 1)
    k = 0
    while True:
        is_out, e, a = _edge_test(desc, k, window, kappa)
        if not is_out or k >= k_max:
            break
        k += 1
    return OutlierDetection(k, desc[:k].copy(), e, e + kappa * a, a, window, kappa, "edge-fit")


def detect_ritz_outliers(
    ritz_values: np.ndarray,
    converged: np.ndarray,
    *,
    size: int | None = None,
    window: int | None = None,
    kappa: float = 1.0,
) -> OutlierDetection:
    """Outliers among Ritz values: converged, above every unconverged one, and past the edge test.

    Args:
        ritz_values: Ritz values of one Lanczos run. converged: their converged flags.
        size: P, the matrix size; the default window is then that of :func:`detect_outliers`
            (``clip(P // 20, 10, 50)``), else 10.
        window, kappa: as in :func:`detect_outliers`, used when at least ``window + 1`` converged
            values lie below a candidate.
    """
    if window is None:
        window = default_window(size) if size else 10
    order = np.argsort(ritz_values)[::-1]
    desc, conv = np.asarray(ritz_values, float)[order], np.asarray(converged, bool)[order]
    if not conv.any():
        raise InputError("no converged Ritz value: run more Lanczos steps to find outliers")
    cut = int(np.argmin(conv)) if not conv.all() else len(desc)  # the first unconverged, largest first
    top, bulk_top = desc[:cut], (desc[cut] if cut < len(desc) else -np.inf)
    k = 0
    e, a = float(bulk_top), 0.0
    while k < len(top) and top[k] > bulk_top:
        if len(top) - k - 1 >= window:
            is_out, e, a = _edge_test(top, k, window, kappa)
            if not is_out:
                break
        k += 1
    return OutlierDetection(k, top[:k].copy(), e, e + kappa * a, a, window, kappa, "ritz")


# -- outliers from class structure (Papyan) -------------------------------------------------------
class GroupMeans:
    r"""Papyan's decomposition of a weighted second-moment matrix into group means and within-group
    scatter, accumulated over chunks of vectors.

    For vectors :math:`v_j` with weights :math:`w_j \ge 0` in groups :math:`k_j`, normalised by
    :math:`n`,

    .. math:: M = \frac1n \sum_j w_j v_j v_j^\top = \underbrace{\frac1n \sum_k W_k \delta_k
       \delta_k^\top}_{\text{group means}} + \underbrace{\frac1n \sum_k \sum_{j: k_j = k} w_j
       (v_j - \delta_k)(v_j - \delta_k)^\top}_{\text{within groups}},

    :math:`W_k = \sum_{j: k_j = k} w_j`, :math:`\delta_k = \sum_{j: k_j = k} w_j v_j / W_k`. For the
    cross-entropy GGN the vectors are :math:`g_{ic'} = J_i^\top (e_{c'} - p_i)`, their weights the
    softmax probabilities :math:`p_{ic'}` and their groups the pairs (true class, c'): the group-mean
    part has rank at most :math:`C^2` and carries the outliers, the within part the bulk (Papyan,
    *Traces of class/cross-class structure pervade deep learning spectra*, JMLR 21 (2020), Section
    3; *Measurements of three-level hierarchical structure in the outliers*, ICML 2019).
    """

    def __init__(self, groups: int, dim: int) -> None:
        self.sums = np.zeros((groups, dim))
        self.weights = np.zeros(groups)

    def add(self, vectors: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> None:
        """Add vectors (n, dim) with their weights (n,) and group indices (n,)."""
        np.add.at(self.sums, groups, weights[:, None] * vectors)
        np.add.at(self.weights, groups, weights)

    def part(self, n: float) -> np.ndarray:
        """The group-mean part :math:`\\frac1n \\sum_k W_k \\delta_k \\delta_k^\\top` (dim x dim)."""
        keep = self.weights > 0
        s, w = self.sums[keep], self.weights[keep]
        return (s.T / w) @ s / n


@dataclass(frozen=True)
class ClassOutliers:
    """Outliers counted as the group-mean part's eigenvalues above the bulk's largest eigenvalue.

    Attributes:
        count: eigenvalues of the group-mean part above ``edge``.
        edge: largest eigenvalue of the bulk part (the matrix less its group-mean part).
        mean_eigenvalues: the group-mean part's largest eigenvalues, largest first (at most 4
            ``count`` + 10).
    """

    count: int
    edge: float
    mean_eigenvalues: np.ndarray


def count_class_outliers(mean_part: np.ndarray, bulk_part: np.ndarray) -> ClassOutliers:
    """Outliers of ``mean_part + bulk_part``: the eigenvalues of the group-mean part that exceed the
    bulk part's largest eigenvalue (Papyan 2020: the within-class part's top eigenvalue is the
    bulk edge). The detector knows no class count and fits no edge model, so a heavy-tailed bulk
    raises the edge instead of being counted.

    Raises:
        InputError: for matrices of different shapes or non-finite entries.
    """
    mean_part, bulk_part = np.asarray(mean_part, float), np.asarray(bulk_part, float)
    if mean_part.shape != bulk_part.shape or mean_part.ndim != 2 or mean_part.shape[0] != mean_part.shape[1]:
        raise InputError(
            f"class outliers need two square matrices of one shape, got {mean_part.shape} and "
            f"{bulk_part.shape}"
        )
    if not (np.all(np.isfinite(mean_part)) and np.all(np.isfinite(bulk_part))):
        raise InputError("class outliers got non-finite entries (a diverged run?)")
    edge = float(np.linalg.eigvalsh((bulk_part + bulk_part.T) / 2)[-1])
    means = np.linalg.eigvalsh((mean_part + mean_part.T) / 2)[::-1]
    count = int(np.sum(means > edge))
    return ClassOutliers(count, edge, means[: 4 * count + 10].copy())


def track_by_overlap(
    reference: np.ndarray, values: np.ndarray, vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Follow eigenvectors into a perturbed matrix by overlap, not by rank.

    Each column of ``reference`` (P x k, e.g. the full-data Hessian's outlier eigenvectors) is matched
    one-to-one to a candidate eigenpair of the perturbed matrix (``values`` (m,), ``vectors`` P x m,
    m >= k) so that the summed squared overlaps (q_i . v_j)^2 are largest (Hungarian assignment,
    ``scipy.optimize.linear_sum_assignment``). Where outliers cross, or a batch eigenvalue from the
    bulk rises above one, ranking would swap them; the overlap keeps each outlier's identity
    (Baskerville et al. 2022, arXiv 2205.08601, Section 4, which follows outliers of batch Hessians
    by their eigenvectors).

    Returns:
        The matched eigenvalues (k,) and squared overlaps (k,), in the order of ``reference``.
    """
    from scipy.optimize import linear_sum_assignment

    overlaps = (np.asarray(reference).T @ np.asarray(vectors)) ** 2  # (k, m)
    rows, cols = linear_sum_assignment(overlaps, maximize=True)
    order = np.argsort(rows)
    return np.asarray(values)[cols[order]], overlaps[rows[order], cols[order]]
