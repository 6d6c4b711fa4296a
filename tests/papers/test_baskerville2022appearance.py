"""The rules of Baskerville, Granziol, Keating 2022 (Appearance of RMT) on records at their thresholds."""

from __future__ import annotations

import copy

import pytest
from claim_check import Case, check, row


def _set(
    mean: float = 0.53,
    ci_low: float = 0.5,
    matrix: str = "hessian",
    full: bool = False,
    model: str = "mlp",
    checkpoint: str = "final",
    **extra,
) -> dict:  # noqa: ANN003
    return {
        "kind": "local_stats",
        "run": model,
        "model": model,
        "matrix": matrix,
        "checkpoint": checkpoint,
        "full": full,
        "ratios": {"mean": mean, "ci_low": ci_low, "ci_high": mean + 0.01, "n_ratios": 500},
        **extra,
    }


def _pooled(pooled: float, goe: float) -> dict:
    return _set(controls={"pooled": {"mean": pooled}, "goe_same_size": {"mean": goe}, "goe_size": 400})


def _unfolded(dropped: float, poisson: float, kept: float = 0.2, run: str = "mlp") -> dict:
    summary = {"dropped": {"ks_goe": dropped, "ks_poisson": poisson}, "kept": {"ks_goe": kept}}
    return {**_set(unfolded_spectrum=summary, unfolded=summary), "run": run}


def _trained(share: float, model: str = "logistic") -> dict:
    zm = {"cutoffs": [1e-10, 1e-8, 1e-6], "fraction": [share / 2, share, 0.5], "monotone": True}
    return {**_set(model=model, zero_mass=zm, num_classes=10, num_params=650, batch_size=64), "run": model}


def _gp(means: list[float], ks: list[float]) -> dict:
    rows = [
        {"name": f"s{i}", "mean_rtilde": m, "semicircle": {"ks": k}, "ks_semicircle_max_eig": k}
        for i, (m, k) in enumerate(zip(means, ks, strict=True))
    ]
    return {"kind": "gp_model", "settings": rows}


def _budgets(c: float, r2: float) -> dict:
    return {
        "kind": "exp_returns",
        "setting": "mlp",
        "fit": {"a": 0.05, "b": 0.4, "c": c, "r2": r2},
        "budgets": [{"budget": t, "best_error": 0.1} for t in (1, 2, 4)],
    }


CASES = {
    "ratios-goe": Case(
        [_set(0.5108, 0.46), _set(0.5506, 0.46, checkpoint="init")],
        {
            "mean below 0.5107": [_set(0.5106, 0.46)],
            "mean above 0.5507": [_set(0.5508, 0.5)],
            "interval reaches 0.45": [_set(0.52, 0.449)],
        },
    ),
    "ratios-ggn": Case(
        [_set(0.5108, 0.46, matrix="ggn")], {"mean below 0.5107": [_set(0.5106, 0.46, matrix="ggn")]}
    ),
    "ratios-fulldata": Case(
        [_set(0.501, full=True, model="logistic")],
        {
            "below 0.50": [_set(0.499, full=True, model="logistic")],
            "above 0.56": [_set(0.561, full=True, model="logistic")],
        },
    ),
    "ratios-pooled-control": Case(
        [_pooled(0.449, 0.5201)],
        {"pooled >= 0.45": [_pooled(0.451, 0.53)], "GOE below 0.52": [_pooled(0.40, 0.519)]},
    ),
    "unfolded-wigner": Case(
        [_unfolded(0.049, 0.0981), _unfolded(0.01, 0.2, run="cnn")],
        {
            "KS >= 0.05": [_unfolded(0.051, 0.2)],
            "not under half of KS to exp": [_unfolded(0.04, 0.079)],
            "one set of two": [_unfolded(0.01, 0.2), _unfolded(0.06, 0.2, run="cnn")],
        },
    ),
    "zero-mass": Case(
        [_trained(0.101), _trained(0.5, "mlp")],
        {
            "logistic below 10%": [_trained(0.099), _trained(0.5, "mlp")],
            "another network below 10%": [_trained(0.3), _trained(0.099, "cnn")],
        },
    ),
    "gp-local-goe": Case(
        [_gp([0.511, 0.549], [0.05, 0.101])],
        {
            "no KS above 0.1": [_gp([0.53, 0.53], [0.05, 0.099])],
            "<r~> below 0.51": [_gp([0.509, 0.53], [0.2, 0.2])],
        },
    ),
    "exp-returns": Case(
        [_budgets(-0.01, 0.901)],
        {"R^2 below 0.9": [_budgets(-0.1, 0.899)], "c >= 0": [_budgets(0.001, 0.99)]},
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])


def test_an_empty_scale_is_not_run_with_the_reason():
    got = row("ratios-fulldata", [_set()])
    assert got.verdict == "not run" and "full-data" in got.detail


def test_zero_mass_reports_the_rank_bound():
    got = row("zero-mass", [_trained(0.5)])
    assert "rank bound 0.114" in got.detail  # 1 - min(64 * 9, 65 * 9) / 650 = 0.1138


def test_the_records_are_not_changed_by_a_rule():
    recs = [_set(0.52, 0.5)]
    before = copy.deepcopy(recs)
    row("ratios-goe", recs)
    assert recs == before
