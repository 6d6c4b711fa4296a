"""The rules of Granziol & Baskerville 2022 (damping) on records at their thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check, row


def _sweep(gap_large: float, gap_small: float, kind: str = "epsilon_sweep") -> dict:
    sgd = {"mean": 0.1, "se": 0.01, "lr": 0.03}
    adam = [
        {"eps": 1e-8, "mean": 0.1 + gap_small, "se": 0.01, "diverged": 0},
        {"eps": 1.0, "mean": 0.1 + gap_large, "se": 0.01, "diverged": 0},
    ]
    return {"kind": kind, "setting": "mlp", "sgd": sgd, "adam": adam}


def _learner(range_learner: float, range_fixed: float = 0.03) -> dict:
    def arms(r: float) -> list[dict]:
        return [{"eps": d, "mean": 0.1 + r * i, "diverged": 0} for i, d in enumerate((1e-3, 1.0))]

    return {
        "kind": "damping_learner",
        "setting": "mlp",
        "learner": arms(range_learner),
        "fixed": arms(range_fixed),
    }


def _nqm(ratios: list[float], losses: list[float]) -> dict:
    eps = [1e-4, 1e-2, 1.0]
    arms = [
        {"eps": e, "ratio_mean": r, "ratio_se": 0.01, "loss_mean": loss, "loss_se": 0.01, "diverged": 0}
        for e, r, loss in zip(eps, ratios, losses, strict=True)
    ]
    return {"kind": "shrinkage_noise", "eps": arms, "n": 40, "steps": 40, "samples": 2}


SE = 0.01 * 2**0.5  # s.e. of the difference of two means with s.e. 0.01

CASES = {
    "epsilon-closes-gap": Case(
        [_sweep(0.99 * SE, 1.01 * SE)],
        {
            "large eps 1.01 s.e. off": [_sweep(1.01 * SE, 0.05)],
            "small eps within 1 s.e.": [_sweep(0.0, 0.99 * SE)],
        },
    ),
    "damping-learner-insensitive": Case([_learner(0.0099)], {"range 0.0101 of 0.03": [_learner(0.0101)]}),
    "shrinkage-noise": Case(
        [_nqm([3.0, 2.0, 1.0], [1.0, 0.5, 0.8])],
        {
            "best loss at 1e-4": [_nqm([3.0, 2.0, 1.0], [0.4, 0.5, 0.8])],
            "ratio rises": [_nqm([1.0, 2.0, 3.0], [1.0, 0.5, 0.8])],
        },
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])


def test_records_of_the_earlier_kind_names_are_still_read():
    assert row("epsilon-closes-gap", [_sweep(0.0, 0.05, kind="optimiser_epsilon_sweep")]).verdict == "PASS"
