"""The rule of Baskerville et al. 2021 (general activations) on records at its thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check


def _prefactor(z: float = 1.0, shift: int = 1, n: int = 400) -> dict:
    return {
        "kind": "activation",
        "max_z": z,
        "max_index_shift": shift,
        "n": n,
        "samples": 400,
        "thetas": [0.5],
        "mc_energies": [-1.7],
        "z": [[z]],
    }


CASES = {
    "activation-leading-order": Case(
        [_prefactor(2.99)],
        {
            "3.01 s.e.": [_prefactor(3.01)],
            "index moved by 2": [_prefactor(shift=2)],
            "N below 400": [_prefactor(n=399)],
        },
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])
