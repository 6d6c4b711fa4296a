"""The rules of Baskerville et al. 2022 (GAN spin glass) on records at their thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check, row


def _spectrum(dev: float = 0.01, regimes: tuple = ("one", "touching", "separate"), n: int = 1000) -> dict:
    return {
        "kind": "gan_spectrum",
        "max_deviation": [dev, 0.0, 0.0],
        "max_deviation_authors": [0.03] * 3,
        "x1": [1.1, 1.5, 4.0],
        "regimes": list(regimes),
        "n": n,
        "samples": 20,
        "mass": [1.0] * 3,
    }


def _coulomb(diff: float, n: int = 50, far: float = 0.5) -> dict:
    """``diff``: the largest difference at distance >= 10 from the support; ``far``: at |x| >= 150."""
    return {
        "kind": "gan_coulomb",
        "max_diff_away": diff,
        "max_diff_away_per_x1": [diff],
        "away": 10.0,
        "n_away": 30,
        "max_diff_far": far,
        "n": n,
        "far": 150.0,
        "samples": 100,
        "max_diff_all": 0.5,
        "x1": [0.0],
        "max_diff_far_per_x1": [far],
    }


def _map(
    at3: float = -0.5,
    non_increasing: bool = True,
    floor: bool = True,
    monotone: tuple = (True,) * 4,
    setting: tuple = (3, 3, 1.0, 0.9),
) -> dict:
    p, q, sigma_z, kappa = setting
    flags = iter(monotone)
    banded = {
        c: {"kd_monotone": next(flags), "kg_monotone": next(flags), "kd_max": 1, "kg_max": 1}
        for c in ("authors", "corrected")
    }
    return {
        "kind": "gan_map",
        "p": p,
        "q": q,
        "sigma_z": sigma_z,
        "kappa": kappa,
        "u_g_floor": -1.0,
        "boundary": {
            "min_u_g_at_-3": at3,
            "non_increasing": non_increasing,
            "floor_from_-2": floor,
            "min_u_g_other": [],
        },
        "theta_d": 0.1,
        "grid": [10, 10],
        "note": "",
        "banded": banded,
        "k_max": 5,
    }


def _sweep(thetas: list[float]) -> list[dict]:
    return [
        {
            "kind": "gan_point",
            "sweep": "sigma_z",
            "p": 5,
            "q": 5,
            "kappa": 0.9,
            "sigma_z": 10.0**i,
            "theta_d": t,
        }
        for i, t in enumerate(thetas)
    ]


CASES = {
    "gan-spectrum-regimes": Case(
        [_spectrum(0.029)],
        {
            "deviation 0.031": [_spectrum(0.031)],
            "regimes swapped": [_spectrum(regimes=("touching", "one", "separate"))],
            "N below 1000": [_spectrum(n=999)],
        },
    ),
    "gan-coulomb": Case(
        [_coulomb(0.0099)], {"difference 0.0101": [_coulomb(0.0101)], "N = 40": [_coulomb(0.0, 40)]}
    ),
    "gan-complexity-tradeoff": Case(
        [_map(-0.599)],
        {
            "u_G at -3 below -0.6": [_map(-0.601)],
            "increasing": [_map(non_increasing=False)],
            "off the floor": [_map(floor=False)],
        },
    ),
    "gan-banded": Case([_map()], {"one map not monotone": [_map(monotone=(True, True, False, True))]}),
    "gan-sigma-optimum": Case(
        _sweep([1.0, 0.899, 1.0]),
        {"depth 0.099": _sweep([1.0, 0.901, 1.0]), "optimum at the end": _sweep([1.0, 0.9, 0.5])},
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])


def test_the_map_claims_need_the_authors_setting():
    other = _map(setting=(5, 5, 1.0, 0.9))
    assert row("gan-complexity-tradeoff", [other]).verdict == "not run"
    assert row("gan-sigma-optimum", _sweep([1.0, 0.5])).verdict == "not run"  # fewer than 3 points


def test_the_coulomb_rule_decides_at_a_distance_from_the_support_not_at_abs_x_150():
    assert row("gan-coulomb", [_coulomb(0.005, far=0.05)]).verdict == "PASS"  # version 1 would have failed
    old = {k: v for k, v in _coulomb(0.005).items() if not k.startswith(("max_diff_away", "away", "n_away"))}
    assert row("gan-coulomb", [old]).verdict == "not run"


def test_distance_to_the_support_is_zero_inside_and_grows_outside():
    import numpy as np

    from rmtloss.spinglass import gan

    sup = gan.Support(pieces=(), components=((-3.0, -1.0), (0.5, 2.0)), mass=1.0)
    d = gan.distance_to_support(np.array([-4.0, -2.0, -0.25, 1.0, 12.0]), sup)
    assert np.allclose(d, [1.0, 0.0, 0.75, 0.0, 10.0])


def test_the_coulomb_rule_is_not_run_when_no_x_lies_away_from_the_support():
    got = row("gan-coulomb", [{**_coulomb(float("nan")), "n_away": 0}])
    assert got.verdict == "not run" and "gan.coulomb.x_min" in got.detail
