"""Outliers from class structure (Papyan's decomposition): the detector of claim outlier-count, fixed
by its synthetic controls before it sees a network, and the class-mean part of the GGN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from rmtloss.errors import InputError
from rmtloss.hessian import exact_ggn
from rmtloss.hessian.exact import ggn_class_means
from rmtloss.ledger import decide
from rmtloss.nets import models
from rmtloss.papers import CLAIMS
from rmtloss.rmt.outliers import GroupMeans, count_class_outliers, detect_outliers, track_by_overlap

N, D, STRENGTH = 2000, 200, 20.0


def heavy_tailed(k: int, strength: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class-mean and within-class parts of (1/n) sum x x^T for n vectors in max(k, 1) classes:
    heavy-tailed noise sqrt(tau) z, tau - 1 ~ Pareto(2.5) (a Wishart bulk with a heavy right tail),
    and for k >= 1 class means on orthogonal axes planting k spikes of height ``strength``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, max(k, 1), N)
    x = np.sqrt(rng.pareto(2.5, N) + 1.0)[:, None] * rng.standard_normal((N, D))
    if strength > 0:
        x[np.arange(N), labels] += np.sqrt(strength * k)
    acc = GroupMeans(max(k, 1), D)
    acc.add(x, np.ones(N), labels)
    means = acc.part(N)
    return means, x.T @ x / N - means


@pytest.mark.parametrize("k", [1, 3, 9])
@pytest.mark.parametrize("seed", [0, 1])
def test_planted_spikes_in_a_heavy_tailed_bulk_are_counted(k, seed):
    got = count_class_outliers(*heavy_tailed(k, STRENGTH, seed))
    assert got.count == k, (got.edge, got.mean_eigenvalues[: k + 1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_heavy_tailed_bulk_alone_and_goe_give_no_outlier(seed):
    assert count_class_outliers(*heavy_tailed(3, 0.0, seed)).count == 0
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((D, D))
    goe = (a + a.T) / np.sqrt(2 * D)
    means, _ = heavy_tailed(3, 0.0, seed + 10)
    assert count_class_outliers(means, goe).count == 0


def test_the_version_1_edge_fit_miscounts_the_same_controls():
    """Why the detector changed: on three equal spikes the square-root edge fit takes the spikes for an
    edge and counts none; Papyan's count gets 3 (seed 0)."""
    means, within = heavy_tailed(3, STRENGTH, 0)
    assert detect_outliers(np.linalg.eigvalsh(means + within)).count != 3
    assert count_class_outliers(means, within).count == 3


def test_shapes_and_non_finite_entries_are_refused():
    with pytest.raises(InputError, match="square matrices"):
        count_class_outliers(np.eye(3), np.eye(4))
    with pytest.raises(InputError, match="non-finite"):
        count_class_outliers(np.full((3, 3), np.nan), np.eye(3))


def _record(k_of_c) -> dict:  # noqa: ANN001
    """An outlier_count record whose counts come from the detector on synthetic controls."""
    runs = []
    for c in (2, 3, 5, 10):
        got = count_class_outliers(*heavy_tailed(k_of_c(c), STRENGTH, c))
        part = {
            "count": got.count,
            "edge": got.edge,
            "class_mean_eigenvalues": got.mean_eigenvalues.tolist(),
            "edge_fit_count": 0,
            "gap_ratio_count": 0,
        }
        runs.append({"classes": c, "hessian": part, "ggn": part})
    return {"kind": "outlier_count", "detector": "papyan-class-means", "runs": runs}


def test_outlier_count_controls_through_the_ledger():
    """CLAIMS.md's controls through the rule: C planted spikes per C PASS; the bulk alone FAILs."""
    rule = CLAIMS["outlier-count"]
    assert decide(rule, [_record(lambda c: c)], "test").verdict == "PASS"
    assert decide(rule, [_record(lambda c: 0)], "test").verdict == "FAIL"


def test_the_ggn_splits_into_class_means_and_a_positive_within_class_part():
    """On a small trained-from-init MLP with 3 classes: the class-mean part has rank <= C^2 = 9, the
    rest of the exact GGN is positive semi-definite (a weighted scatter), and for inputs equal within
    each class the within-class part vanishes."""
    torch.manual_seed(0)
    model = models.build(
        OmegaConf.create({"name": "mlp", "hidden": [4], "activation": "tanh"}), (5,), 3
    ).double()
    x, y = torch.randn(60, 5, dtype=torch.float64), torch.randint(0, 3, (60,))
    data = [(x[:30], y[:30]), (x[30:], y[30:])]
    g, means = exact_ggn(model, models.loss_function("classification"), data), ggn_class_means(model, data, 3)
    assert torch.linalg.matrix_rank(means, rtol=1e-10) <= 9
    assert torch.linalg.eigvalsh(g - means)[0] > -1e-12 * torch.linalg.eigvalsh(g)[-1]
    assert torch.linalg.eigvalsh(means)[-1] > 0
    xs = torch.randn(3, 5, dtype=torch.float64)[y]  # one input per class
    data = [(xs, y)]
    within = exact_ggn(model, models.loss_function("classification"), data) - ggn_class_means(model, data, 3)
    assert torch.linalg.matrix_norm(within) < 1e-12


def test_tracking_by_overlap_keeps_an_outliers_identity_where_ranking_swaps_it():
    """Two spikes 3 and 2 on directions q1, q2 of a GOE bulk; in the perturbed matrix they cross (2.1 and
    3.2): rank would swap them, the overlap follows each direction."""
    rng = np.random.default_rng(0)
    n = 300
    q, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    a = rng.standard_normal((n, n))
    bulk = 0.3 * (a + a.T) / np.sqrt(2 * n)
    ref = bulk + 3.0 * np.outer(q[:, 0], q[:, 0]) + 2.0 * np.outer(q[:, 1], q[:, 1])
    moved = bulk + 2.1 * np.outer(q[:, 0], q[:, 0]) + 3.2 * np.outer(q[:, 1], q[:, 1])
    rv, rvec = np.linalg.eigh(ref)
    mv, mvec = np.linalg.eigh(moved)
    vals, overlaps = track_by_overlap(rvec[:, ::-1][:, :2], mv[::-1][:10], mvec[:, ::-1][:, :10])
    assert vals[0] == pytest.approx(mv[-2]) and vals[1] == pytest.approx(mv[-1])  # swapped ranks
    assert np.all(overlaps > 0.95)


def test_the_count_figure_draws_runs_sharing_a_c_one_by_one():
    """Distinct C: one tick per C (the band C - 1 .. C). A sweep at one C (regimes: widths at C = 10):
    one tick per run, named, each count at its own position (the first regimes run drew all of them
    on top of each other at C = 10)."""
    from rmtloss.figures import Record
    from rmtloss.figures.outlier_count import draw

    by_c = _record(lambda c: c)
    ticks = [t.get_text() for t in draw([Record(by_c, {})]).axes[0].get_xticklabels()]
    assert ticks == ["2", "3", "5", "10"]
    same = {**by_c, "runs": [{**r, "classes": 10, "run_name": f"w{i}"} for i, r in enumerate(by_c["runs"])]}
    ax = draw([Record(same, {})]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"w{i} (C = 10)" for i in range(4)]
    counts = ax.get_lines()[0].get_xydata()  # the Hessian's deciding counts, one point per run
    assert len(set(counts[:, 0])) == 4 and list(counts[:, 1]) == [r["hessian"]["count"] for r in by_c["runs"]]
