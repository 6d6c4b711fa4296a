"""The rules of Granziol & Baskerville 2022 (damping) on records at their thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check, row


def _sweep(
    gap_large: float,
    gap_small: float,
    kind: str = "epsilon_sweep",
    interior: tuple[bool, bool, bool] = (True,) * 3,
) -> dict:
    """An epsilon_sweep record; ``interior``: whether SGD's, small-eps and large-eps rates were interior."""
    tuned = [{"tuning": {"lr": 0.01, "interior": i}} for i in interior]
    sgd = {"arm": "sgd", "mean": 0.1, "se": 0.01, "lr": 0.03, **tuned[0]}
    adam = [
        {
            "arm": "adam_eps1e-08",
            "eps": 1e-8,
            "lr": 0.003,
            "mean": 0.1 + gap_small,
            "se": 0.01,
            "diverged": 0,
            **tuned[1],
        },
        {
            "arm": "adam_eps1",
            "eps": 1.0,
            "lr": 0.3,
            "mean": 0.1 + gap_large,
            "se": 0.01,
            "diverged": 0,
            **tuned[2],
        },
    ]
    return {"kind": kind, "setting": "mlp", "sgd": sgd, "adam": adam}


def _learner(
    range_learner: float, range_fixed: float = 0.03, optimizer: str = "kfac", variant: str = "gap"
) -> dict:
    def arms(r: float) -> list[dict]:
        return [
            {
                "eps": d,
                "mean": 0.1 + r * i,
                "final": [0.1 + r * i - 0.001 * (i + 1), 0.1 + r * i + 0.001 * (i + 1)],
                "diverged": 0,
            }
            for i, d in enumerate((1e-3, 1.0))
        ]

    return {
        "kind": "damping_learner",
        "setting": "mlp",
        "optimizer": optimizer,
        "learner_variant": variant,
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
        [_sweep(0.99 * SE, 2.01 * SE), _sweep(-6 * SE, 2.01 * SE)],  # doing better than SGD closes the gap
        {"large eps 1.01 s.e. off": [_sweep(1.01 * SE, 0.05)]},
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


@pytest.mark.parametrize("interior", [(False, True, True), (True, True, False)])
def test_a_rate_chosen_at_the_edge_of_its_grid_is_not_run(interior):
    """The protocol (tuned optimisers, interior choices) not met: the claim is not decided."""
    got = row("epsilon-closes-gap", [_sweep(0.0, 0.05, interior=interior)])
    assert got.verdict == "not run" and "edge of its grid" in got.summary + got.detail


def test_an_untuned_record_of_version_1_is_not_run():
    rec = _sweep(0.0, 0.05)
    for arm in [rec["sgd"], *rec["adam"]]:
        del arm["tuning"]
    assert row("epsilon-closes-gap", [rec]).verdict == "not run"


def test_the_adam_learner_is_reported_and_never_decides():
    """Decided on K-FAC (CLAIMS.md v2); with only the Adam learner the claim is not run, its ratio
    reported; beside a K-FAC record the Adam one does not change the verdict."""
    adam = _learner(0.0299, optimizer="adam")
    got = row("damping-learner-insensitive", [adam])
    assert got.verdict == "not run" and "ratio 0.997" in got.summary + got.detail
    assert row("damping-learner-insensitive", [_learner(0.0099), adam]).verdict == "PASS"


def test_epsilon_without_a_gap_at_the_smallest_eps_is_premise_absent_not_fail():
    """CLAIMS.md v3 premise controls: no gap at eps = 1e-8 (within 2 s.e. of SGD) gives premise absent,
    whatever the largest eps does; a setting without the premise does not decide beside one with it."""
    got = row("epsilon-closes-gap", [_sweep(5 * SE, 1.99 * SE)])
    assert got.verdict == "premise absent" and got.premise_measured == pytest.approx(1.99)
    with_gap, without = _sweep(0.5 * SE, 3 * SE), {**_sweep(5 * SE, 0.0), "setting": "logistic"}
    assert row("epsilon-closes-gap", [with_gap, without]).verdict == "PASS"
    got = row("epsilon-closes-gap", [_sweep(0.5 * SE, 3 * SE)])
    assert got.margin == pytest.approx(0.5) and got.fragile == "yes"


def test_the_ledoit_wolf_kfac_learner_is_reported_and_never_decides():
    """CLAIMS.md v3: K-FAC with the authors' damping-gap learner decides; the Ledoit-Wolf variant is
    reported beside it; the margin is in s.e. of the ratio over seeds."""
    lw = _learner(0.0299, variant="shrinkage")
    got = row("damping-learner-insensitive", [lw])
    assert got.verdict == "not run" and "ratio 0.997" in got.summary + got.detail
    got = row("damping-learner-insensitive", [_learner(0.0099), lw])
    assert got.verdict == "PASS" and got.margin > 0
