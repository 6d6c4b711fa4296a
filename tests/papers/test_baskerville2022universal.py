"""The rules of Baskerville et al. 2022 (Universal characteristics) on records at their thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check, row


def _synthetic(goe: float, diagonal: float) -> dict:
    noise = {
        "goe": {"max_rel_error": goe, "delocalised": True, "max_rel_error_shift": 0.1},
        "diagonal": {"max_rel_error": diagonal, "delocalised": False, "max_rel_error_shift": 0.1},
    }
    return {"kind": "outlier_shift_synthetic", "noise": noise, "n": 400, "samples": 3, "s": [0.5, 1.0]}


def _network(
    ratio: float = 1.0,
    r2: float = 0.95,
    local_law: float | None = None,
    run: str = "mlp",
    isotropic: float = 0.5,
    kappa: float = 1.0,
) -> dict:
    """An outlier_shift_network record; ``local_law``: the complement's error (decides), ``isotropic``:
    the whole space's (reported only); ``kappa``: the noise concentration along the outliers and the
    top eigenvectors (the premise)."""

    def law(err: float | None, **extra: float) -> dict:
        if err is None:
            return {"computed": False}
        return {
            "computed": True,
            "batch_size": 64,
            "max_rel_error_det_above_noise": err,
            "det_closer_everywhere": True,
            "s2": 1e-3,
            "kappa_median": [kappa, kappa / 2, 1.0],
            **extra,
        }

    outlier = {"slope_ratio": ratio, "r2": r2, "theta": 1.0, "slope_fit": ratio, "slope_predicted": 1.0,
               "slope_fit_se": 0.05, "kappa_median": kappa}
    return {
        "kind": "outlier_shift_network",
        "run": f"results/x/runs/{run}/train",
        "run_name": run,
        "outliers": [outlier],
        "method": "exact",
        "sigma2": 1.0,
        "noise_fit_r2": 0.9,
        "full_outliers": 1,
        "num_params": 1290,
        "num_data": 1000,
        "batch_sizes": [32, 64],
        "batches": 2,
        "local_law": law(isotropic if local_law is not None else None),
        "local_law_complement": law(local_law, null_dim=100, dim=1190),
    }


def _count(counts: dict[int, int]) -> dict:
    runs = [
        {
            "classes": c,
            "hessian": {"count": k, "gap_ratio_count": k},
            "ggn": {"count": k, "edge": 0.1, "class_mean_eigenvalues": [0.2] * k, "gap_ratio_count": k},
        }
        for c, k in counts.items()
    ]
    return {"kind": "outlier_count", "detector": "papyan-class-means", "runs": runs}


def _local_law(err: float, closer: bool = True) -> dict:
    return {
        "kind": "local_law_synthetic",
        "s": {"0.5": {"max_rel_error_det_above_noise": err, "det_closer_everywhere": closer}},
    }


CASES = {
    "outlier-shift-synthetic": Case(
        [_synthetic(0.0099, 0.0101)],
        {"delocalised 0.0101": [_synthetic(0.0101, 0.05)], "diagonal within 1%": [_synthetic(0.005, 0.0099)]},
    ),
    "outlier-shift-network": Case(
        [_network(1.49, 0.901), _network(3.0, run="cnn")],
        {
            "factor 1.51": [_network(1.51)],
            "factor 1/1.51": [_network(1 / 1.51)],
            "R^2 0.899": [_network(1.0, 0.899)],
        },
    ),
    "outlier-count": Case(
        [_count({2: 1, 3: 3, 5: 4, 10: 10})],
        {
            "C + 1 outliers": [_count({2: 1, 3: 3, 5: 6, 10: 10})],
            "C = 10 missing": [_count({2: 2, 3: 3, 5: 5})],
        },
    ),
    "local-law-synthetic": Case(
        [_local_law(0.0199)],
        {
            "0.0201": [_local_law(0.0201)],
            "the naive inverse closer somewhere": [_local_law(0.01, closer=False)],
        },
    ),
    "local-law-network": Case(
        [_network(local_law=0.0199), _network(run="cnn")],  # a network without damped inverses is left out
        {
            "0.0201": [_network(local_law=0.0201)],
            "a second network at 0.0201": [_network(local_law=0.01), _network(local_law=0.0201, run="cnn")],
        },
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])


def test_records_written_before_run_name_and_task_names_are_still_read():
    old = {**_network(1.2), "kind": "outlier_shift_network"}
    del old["run_name"]
    got = row("outlier-shift-network", [old])
    assert got.verdict == "PASS" and got.detail.startswith("mlp (exact)")


def test_the_network_local_law_is_not_run_without_damped_inverses():
    got = row("local-law-network", [_network(run="vgg16")])
    assert got.verdict == "not run" and "network.method=exact" in got.detail


def test_the_network_local_law_decides_on_the_complement_and_reports_the_isotropic_version():
    got = row("local-law-network", [_network(local_law=0.01, isotropic=0.3)])
    assert got.verdict == "PASS" and "isotropic version (reported): 0.3000" in got.summary
    old = _network(local_law=0.01)
    del old["local_law_complement"]  # a record of version 1
    assert row("local-law-network", [old]).verdict == "not run"


def test_a_version_1_outlier_count_record_is_not_run():
    rec = _count({2: 1, 3: 2, 5: 4, 10: 9})
    del rec["detector"]
    assert row("outlier-count", [rec]).verdict == "not run"
