"""The rules of Auffinger, Ben Arous, Černý 2013 on records at their thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check

from rmtloss.papers.auffinger2013pspin import COUNTS_P3_N3, THRESHOLDS_P3

E_INF, *E_K = THRESHOLDS_P3


def _thresholds(shift: float = 0.0, tail: float = 1.64) -> dict:
    return {
        "kind": "abc",
        "threshold_p": [3],
        "e_inf": [E_INF],
        "thresholds": [[E_K[0] + shift, *E_K[1:], tail]],
    }


def _counts(z: float = 0.0, exact_err: float = 0.0, distance: tuple = (0.3, 0.2, 0.1)) -> dict:
    total, split = COUNTS_P3_N3
    se = [0.01, 0.01, 0.01]
    return {
        "kind": "abc",
        "n3_total": total + exact_err,
        "n3_split": list(split),
        "mc_n3_mean": [x + z * e for x, e in zip(split, se, strict=True)],
        "mc_n3_stderr": se,
        "finite_n_distance": list(distance),
        "mc_samples": 1000,
        "finite_n": [10, 20, 40],
    }


CASES = {
    "abc-thresholds": Case(
        [_thresholds(0.9e-8)],
        {"E_0 off by 1.1e-8": [_thresholds(1.1e-8)], "E_k reaching E_inf": [_thresholds(0.0, tail=E_INF)]},
    ),
    "abc-finite-n": Case(
        [_counts(3.99, 0.9e-6)],
        {
            "Monte Carlo 4.01 s.e. off": [_counts(4.01)],
            "exact count off by 1.1e-6": [_counts(0.0, 1.1e-6)],
            "distance not falling": [_counts(0.0, 0.0, (0.3, 0.1, 0.2))],
        },
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])


def test_the_check_numbers_are_the_paper_s_thresholds():
    from rmtloss.spinglass import pspin

    assert pspin.e_inf(3) == pytest.approx(E_INF, abs=1e-9)
    assert [pspin.threshold(k, 3) for k in range(3)] == pytest.approx(E_K, abs=1e-9)
