"""The rules of Granziol 2020 (Beyond RMT) on records at their thresholds."""

from __future__ import annotations

import pytest
from claim_check import Case, check, row


def _fit(
    rmt: float,
    product: float | None = 0.3,
    percolated: float | None = 0.3,
    run: str = "mlp",
    method: str = "exact",
    boundary: bool = False,
    model: str = "mlp",
    v2: float = 0.3,
) -> dict:
    """A global_density record: ``rmt`` the best semicircle/MP KS with a free atom (v3), ``v2`` without."""
    law = {
        "ks": rmt,
        "law": "semicircle",
        "method": "lsq",
        "params": {"m": 0.0, "r": 2.0, "zero_weight": 0.1},
    }

    def fam(ks: float | None, name: str) -> dict | None:
        return (
            None if ks is None else {"ks": ks, "law": name, "params": {"scale": 1.0}, "on_boundary": boundary}
        )

    return {
        "kind": "global_density",
        "run": run,
        "matrix": "hessian",
        "checkpoint": "final",
        "full": method != "exact",
        "method": method,
        "model": model,
        "best_rmt": {**law, "ks": v2},
        "best_rmt_atom": law,
        "best_product": fam(product, "wigner_product"),
        "best_product_deep": fam(product, "wigner_product"),
        "best_percolated": fam(percolated, "percolated_wigner"),
        "bootstrap": {"se_rmt_atom": 0.01, "se_gap": 0.01},
    }


def _atom(kind: str, err: float) -> dict:
    return {"kind": kind, "max_abs_error": err, "sampled": [0.5], "formula": [0.5 + err]}


def _layered(alt: float, semicircle: float = 0.0) -> dict:
    return {
        "kind": "layered_index",
        "min_index": {"product": alt, "percolated": 0.2, "semicircle": 0.0},
        "semicircle_max_below_threshold": semicircle,
        "p": 3,
        "e0": 1.66,
        "e_inf": 1.63,
        "n": 100,
        "samples": 1,
    }


CASES = {
    "global-not-rmt": Case(
        [_fit(0.151), _fit(0.3, run="cnn")], {"one spectrum at KS 0.149": [_fit(0.149), _fit(0.3, run="cnn")]}
    ),
    "product-percolated-fit": Case(
        [_fit(0.2, 0.199, 0.5)],
        {
            "both families worse": [_fit(0.2, 0.201, 0.3)],
            "one network worse": [_fit(0.2, 0.1), _fit(0.2, 0.25, run="cnn")],
        },
    ),
    "product-zero-mass": Case(
        [_atom("product_zero_mass", 0.0099)], {"0.0101": [_atom("product_zero_mass", 0.0101)]}
    ),
    "percolated-zero-mass": Case(
        [_atom("percolated_zero_mass", 0.0149)], {"0.0151": [_atom("percolated_zero_mass", 0.0151)]}
    ),
    "layered-critical-points": Case(
        [_layered(1e-4)],
        {"index 0 somewhere": [_layered(0.0)], "semicircle index below the threshold": [_layered(0.1, 0.01)]},
    ),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_rule_passes_inside_and_fails_outside_its_threshold(cid):
    check(cid, CASES[cid])


def test_exact_spectra_decide_and_a_quadrature_beside_them_is_only_reported():
    """CLAIMS.md v2: where a network has an exact spectrum, its Lanczos quadrature does not decide."""
    got = row("global-not-rmt", [_fit(0.2), _fit(0.1, method="slq")])
    assert got.verdict == "PASS" and "reported, not deciding" in got.detail
    got = row("product-percolated-fit", [_fit(0.2, 0.1), _fit(0.1, 0.2, method="slq")])
    assert got.verdict == "PASS"
    # a network with only a quadrature (paper scale) is decided on it
    assert row("global-not-rmt", [_fit(0.2), _fit(0.1, run="vgg16", method="slq")]).verdict == "FAIL"


def test_a_family_fit_on_a_search_boundary_does_not_count():
    assert row("product-percolated-fit", [_fit(0.2, 0.1, 0.1, boundary=True)]).verdict == "FAIL"


def test_logistic_regression_is_reported_and_deep_networks_decide():
    """CLAIMS.md v3: the logistic Hessian is a weighted Wishart matrix by construction; it never decides."""
    got = row("global-not-rmt", [_fit(0.3), _fit(0.05, run="logistic", model="logistic")])
    assert got.verdict == "PASS" and "logistic" in got.detail
    got = row("global-not-rmt", [_fit(0.05, run="logistic", model="logistic")])
    assert got.verdict == "not run"
    assert (
        row(
            "product-percolated-fit", [_fit(0.2, 0.1), _fit(0.1, 0.3, run="logistic", model="logistic")]
        ).verdict
        == "PASS"
    )


def test_depth_one_product_members_do_not_count_and_the_margin_is_in_bootstrap_se():
    rec = _fit(0.2, 0.1, 0.5)
    rec["best_product_deep"] = None  # only a depth-1 member (the semicircle or MP itself) fitted better
    assert row("product-percolated-fit", [rec]).verdict == "FAIL"
    got = row("global-not-rmt", [_fit(0.17)])
    assert got.margin == pytest.approx(2.0) and got.fragile == "no"
    got = row("global-not-rmt", [_fit(0.16)])
    assert got.margin == pytest.approx(1.0) and got.fragile == "yes"
