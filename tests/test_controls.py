"""The controls of CLAIMS.md (version 2) for the spectrum claims, end to end: spectra files with a
known answer go through the analysis or densities stage (as the workflow runs them) and then through
the ledger's own rule code, which must say PASS on the positive controls and FAIL on the negative
ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from rmtloss._io import read_json
from rmtloss.ledger import decide
from rmtloss.papers import CLAIMS
from rmtloss.results import ExactSpectra
from rmtloss.rmt import goe_eigenvalues, poisson_points
from rmtloss.rmt.ensembles import goe as goe_matrix
from rmtloss.rmt.ensembles import mp_bulk, wishart_product

N, COUNT = 500, 20


def _gue(n: int, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        g = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        out.append(np.linalg.eigvalsh((g + g.conj().T) / 2))
    return out


def _scaled_goe(seed: int) -> list[np.ndarray]:
    """GOE spectra each scaled by a factor in [0.8, 1.2] and shifted by up to a tenth of the radius:
    batch spectra differ in density, and an unfolding must not depend on that."""
    rng = np.random.default_rng(seed)
    base = goe_eigenvalues(N, COUNT, seed + 1)
    radius = np.abs(base[0]).max()
    return [ev * rng.uniform(0.8, 1.2) + rng.uniform(-0.1, 0.1) * radius for ev in base]


def _padded(spectra: list[np.ndarray], share: float) -> list[np.ndarray]:
    """Each spectrum padded with exact zeros to ``share`` of its length."""
    zeros = int(round(share * len(spectra[0]) / (1 - share)))
    return [np.concatenate([ev, np.zeros(zeros)]) for ev in spectra]


def _write(path: Path, name: str, spectra: list[np.ndarray], *, matrix: str, full: bool, model: str) -> None:
    """``spectra`` as the spectra stage writes them (one row per batch)."""
    ev = np.stack([np.sort(e) for e in spectra])
    ExactSpectra(
        eigenvalues=ev,
        batch_indices=np.zeros((len(ev), 0 if full else 64), dtype=np.int64),
        seconds=np.zeros(len(ev)),
        run=name,
        model=model,
        data="control",
        task="classification",
        checkpoint="final",
        matrix=matrix,
        split="train",
        num_classes=10,
        batch_size=64,
        full=full,
        seed=0,
    ).save(path)


def _staged(
    tmp_path: Path,
    name: str,
    spectra: list[np.ndarray],
    stage: str,
    *overrides: str,
    matrix: str = "hessian",
    full: bool = False,
    model: str = "mlp",
) -> dict:
    """Write ``spectra`` as a spectra file, run ``stage`` on it as the workflow would, return its record."""
    path = tmp_path / f"{name}.npz"
    _write(path, name, spectra, matrix=matrix, full=full, model=model)
    proc = run_in_process(stage, f"spectrum={path}", *overrides, out=tmp_path / name)
    assert proc.returncode == 0, proc.stderr
    return read_json(tmp_path / name / "stats.json")


def _analysed(tmp_path: Path, name: str, spectra: list[np.ndarray], **kw: object) -> dict:
    """The local statistics of ``spectra`` (the analysis stage)."""
    return _staged(tmp_path, name, spectra, "analysis", **kw)


def _verdict(cid: str, records: list[dict]) -> str:
    return decide(CLAIMS[cid], records, "control").verdict


@pytest.fixture(scope="module")
def goe(tmp_path_factory) -> dict:
    return _analysed(tmp_path_factory.mktemp("goe"), "goe", goe_eigenvalues(N, COUNT, 1))


@pytest.mark.parametrize("cid, matrix", [("ratios-goe", "hessian"), ("ratios-ggn", "ggn")])
def test_ratio_claims_pass_on_goe_and_fail_on_poisson_gue_and_superposed_goe(tmp_path, cid, matrix):
    positive = _analysed(tmp_path, "goe", goe_eigenvalues(N, COUNT, 1), matrix=matrix)
    assert _verdict(cid, [positive]) == "PASS"
    superposed = [
        np.concatenate(pair)
        for pair in zip(goe_eigenvalues(N // 2, COUNT, 2), goe_eigenvalues(N // 2, COUNT, 3), strict=True)
    ]
    for name, spectra in [
        ("poisson", poisson_points(N, COUNT, 4)),
        ("gue", _gue(N, COUNT, 5)),
        ("superposed", superposed),
    ]:
        assert _verdict(cid, [_analysed(tmp_path, name, spectra, matrix=matrix)]) == "FAIL", name


def test_full_data_ratios_pass_on_one_goe_and_fail_on_one_poisson_spectrum(tmp_path):
    one_goe = _analysed(tmp_path, "goe600", goe_eigenvalues(600, 1, 6), full=True, model="logistic")
    one_poisson = _analysed(tmp_path, "poisson600", poisson_points(600, 1, 7), full=True, model="logistic")
    assert _verdict("ratios-fulldata", [one_goe]) == "PASS"
    assert _verdict("ratios-fulldata", [one_poisson]) == "FAIL"


def test_the_pooled_control_passes_when_batches_are_superposed_and_fails_without_superposition(goe, tmp_path):
    assert _verdict("ratios-pooled-control", [goe]) == "PASS"  # 20 independent spectra pooled: Poisson-like
    one = goe_eigenvalues(N, 1, 8)[0]
    apart = [one, one + 10 * np.abs(one).max()]  # two disjoint copies: the "pool" superposes nothing
    assert _verdict("ratios-pooled-control", [_analysed(tmp_path, "apart", apart)]) == "FAIL"


def test_unfolding_spectrum_by_spectrum_passes_the_scaled_goe_control_where_pooling_fails(tmp_path):
    scaled = _analysed(tmp_path, "scaled", _scaled_goe(10))
    assert _verdict("unfolded-wigner", [scaled]) == "PASS"
    assert scaled["unfolded_spectrum"]["dropped"]["ks_goe"] < 0.02
    assert scaled["unfolded"]["dropped"]["ks_goe"] >= 0.05  # the authors' pooled unfolding fails it
    poisson = _analysed(tmp_path, "poisson", poisson_points(N, COUNT, 11))
    assert _verdict("unfolded-wigner", [poisson]) == "FAIL"


def test_zero_mass_passes_with_thirty_percent_exact_zeros_and_fails_on_goe(goe, tmp_path):
    padded = _analysed(tmp_path, "padded", _padded(goe_eigenvalues(N, COUNT, 12), 0.3))
    assert _verdict("zero-mass", [padded]) == "PASS"
    assert _verdict("zero-mass", [goe]) == "FAIL"


# -- global densities (Granziol, Beyond RMT): spectra files through the densities stage ------------


def _fitted(tmp_path: Path, name: str, spectra: list[np.ndarray]) -> dict:
    """The global fits of ``spectra`` (the densities stage, with small family samples; no outliers
    removed: the controls have none)."""
    return _staged(
        tmp_path,
        name,
        spectra,
        "densities",
        "task=global_density",
        "outliers=0",
        "fit.n=300",
        "fit.samples=1",
    )


def _wishart_products(depth: int, n: int, inner: int, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.linalg.eigvalsh(wishart_product([inner] * (depth + 1), rng)) for _ in range(count)]


def test_global_density_claims_on_product_goe_and_wishart_spectra(tmp_path):
    n, rng = 300, np.random.default_rng(20)
    zeros = [np.concatenate([ev, np.zeros(n - len(ev))]) for ev in _wishart_products(3, n, 210, 3, 21)]
    product3 = _fitted(tmp_path, "product3_zeros", zeros)  # depth 3, 30% exact zeros
    product2 = _fitted(tmp_path, "product2", _wishart_products(2, n, n, 3, 22))
    goe = _fitted(tmp_path, "goe", [np.linalg.eigvalsh(goe_matrix(n, rng)) for _ in range(3)])
    wishart = _fitted(tmp_path, "wishart", [mp_bulk(n, 2.0, rng) for _ in range(3)])  # q = N/M = 0.5
    assert _verdict("global-not-rmt", [goe]) == "FAIL" and _verdict("global-not-rmt", [wishart]) == "FAIL"
    # v2's positive control, measured under v3's fair atom: Marchenko-Pastur with a free atom fits the
    # depth-3 product with 30% zeros to KS 0.125 (q = 1, zero weight 0.43; 0.162 without the atom), under
    # the 0.15 threshold, so the rule FAILs its own positive control (reported in the note; see the
    # strict xfail below, which turns red if that changes)
    assert product3["best_rmt_atom"]["ks"] < product3["best_rmt"]["ks"]
    assert _verdict("product-percolated-fit", [product2]) == "PASS"
    assert _verdict("product-percolated-fit", [goe]) == "FAIL"


@pytest.mark.xfail(
    strict=True,
    reason="CLAIMS.md v3 defect found: with the fair zero atom, MP fits the depth-3 "
    "Wishart product with 30% zeros to KS 0.125 < 0.15, so global-not-rmt FAILs its positive control",
)
def test_global_not_rmt_passes_its_positive_control_under_the_fair_atom(tmp_path):
    n = 300
    zeros = [np.concatenate([ev, np.zeros(n - len(ev))]) for ev in _wishart_products(3, n, 210, 3, 21)]
    assert _verdict("global-not-rmt", [_fitted(tmp_path, "product3_zeros", zeros)]) == "PASS"


def test_global_not_rmt_fails_on_goe_with_forty_percent_exact_zeros(tmp_path):
    """CLAIMS.md v3's new negative control: a semicircle plus an atom at 0. With the same free zero atom
    the families get, the semicircle fits it and global-not-rmt must FAIL (v2's laws, without an atom,
    could not fit it); product-percolated-fit must FAIL too."""
    n, rng = 300, np.random.default_rng(23)
    goe_zeros = _fitted(
        tmp_path, "goe_zeros", _padded([np.linalg.eigvalsh(goe_matrix(n, rng)) for _ in range(3)], 0.4)
    )
    assert _verdict("global-not-rmt", [goe_zeros]) == "FAIL", goe_zeros["best_rmt_atom"]
    assert goe_zeros["best_rmt"]["ks"] > 0.15  # without the atom (v2) the semicircle could not fit it
    assert _verdict("product-percolated-fit", [goe_zeros]) == "FAIL"
    assert goe_zeros["bootstrap"]["resamples"] > 0 and goe_zeros["bootstrap"]["se_rmt_atom"] > 0


def test_the_unfolding_premise_holds_for_goe_levels_and_fails_for_poisson_levels_of_the_same_density(
    tmp_path,
):
    """CLAIMS.md v3, unfolded-wigner's premise control, end to end through the analysis stage: GOE levels
    pushed through a set's own smoothed counting function unfold to the Wigner surmise (KS < 0.05);
    Poisson levels with the same density do not. On a rescaled GOE set the premise holds."""
    scaled = _analysed(tmp_path, "scaled_premise", _scaled_goe(14))
    control = scaled["unfolded_spectrum"]["control"]
    assert control["goe"]["ks_goe"] < 0.05 and control["poisson"]["ks_goe"] >= 0.05, control
    got = decide(CLAIMS["unfolded-wigner"], [scaled], "control")
    assert got.verdict == "PASS" and got.premise_measured == 1.0
    # a sharply peaked density: two narrow clusters far apart, GOE within each (a Hessian-like shape)
    rng = np.random.default_rng(15)
    peaked = [
        np.concatenate(
            [0.01 * np.linalg.eigvalsh(goe_matrix(250, rng)), 5 + np.linalg.eigvalsh(goe_matrix(250, rng))]
        )
        for _ in range(COUNT)
    ]
    rec = _analysed(tmp_path, "peaked", peaked)
    assert rec["unfolded_spectrum"]["control"]["poisson"]["ks_goe"] >= 0.05


def test_spectra_too_short_to_unfold_one_by_one_are_still_analysed(tmp_path):
    short = _analysed(tmp_path, "short", goe_eigenvalues(6, 4, 13))  # 6 levels: ratios yes, unfolding no
    assert short["unfolded_spectrum"] is None and short["ratios"]["n_ratios"] > 0
    assert _verdict("unfolded-wigner", [short]) == "not run"


def _gp_record(name: str, ev: np.ndarray) -> dict:
    """A gp_model record of one setting whose sampled spectra are ``ev`` (the densities stage's own
    per-setting code)."""
    from rmtloss.stages.densities import gp_row

    row, _ = gp_row(name, ev, 1e-10, 0)
    return {"kind": "gp_model", "settings": [row]}


def test_gp_local_goe_passes_on_smeared_goe_and_fails_on_plain_goe():
    """CLAIMS.md: + GOE samples each shifted by an independent N(0, 1) offset (GOE locally, a
    Gaussian-smeared semicircle globally, far from the radius-max|lambda| overlay); - plain GOE (the
    overlay fits)."""
    ev = np.stack(goe_eigenvalues(300, 60, 3))
    ev = ev / np.abs(ev).max()
    offsets = np.random.default_rng(4).standard_normal((len(ev), 1))
    smeared = _gp_record("smeared", ev + offsets)
    plain = _gp_record("plain", ev)
    assert _verdict("gp-local-goe", [smeared]) == "PASS", smeared["settings"][0]["ks_semicircle_max_eig"]
    assert _verdict("gp-local-goe", [plain]) == "FAIL", plain["settings"][0]["ks_semicircle_max_eig"]


SHIFT_P, SHIFT_N, SHIFT_SIGMA2 = 300, 2000, 20.0


def _shift_cfg():  # noqa: ANN202
    from omegaconf import OmegaConf

    return OmegaConf.create(
        {
            "detect": {"kappa": 1.0},
            "network": {
                "batch_sizes": [16, 32, 64, 128, 256, 512],
                "batches": 10,
                "track": 2,
                "probes": 20,
                "local_law_batch": 128,
                "deltas": [0.05, 0.1, 0.2, 0.5, 1.0],
                "seed": 0,
            },
        }
    )


def _shift_record(noise: str) -> dict:
    """outlier_shift_network's record (the stage's own code after the Hessians) of a synthetic
    A + s(b) X: A = diag(6, 4, a Marchenko-Pastur bulk), s(b)^2 = sigma^2 (1/b - 1/N), X a GOE matrix
    (delocalised, the model) or sqrt(P) e_j e_j^T for a random j (rank one, localised; the same
    E ||X v||^2 = 1 for a random unit v)."""
    from rmtloss.stages.outliers import outlier_shift_matrices

    rng = np.random.default_rng(0)
    a = np.diag(np.concatenate([[6.0, 4.0], mp_bulk(SHIFT_P - 2, 0.5, rng)]))

    def batch(rows: np.ndarray) -> np.ndarray:
        r = np.random.default_rng(int(rows.sum()) + 7919 * len(rows))
        s = np.sqrt(SHIFT_SIGMA2 * (1 / len(rows) - 1 / SHIFT_N))
        if noise == "goe":
            return a + s * goe_matrix(SHIFT_P, r) / np.sqrt(SHIFT_P)
        if noise == "block":  # the same energy, tr(X^2)/P = 1, in the 20 coordinates that hold the spikes
            x = np.zeros_like(a)
            x[:20, :20] = np.sqrt(SHIFT_P / 20) * goe_matrix(20, r) / np.sqrt(20)
            return a + s * x
        x = np.zeros_like(a)
        j = r.integers(SHIFT_P)
        x[j, j] = np.sqrt(SHIFT_P)
        return a + s * x

    stats, _ = outlier_shift_matrices(_shift_cfg(), a, rng.standard_normal(SHIFT_P), batch, SHIFT_N)
    return {"kind": "outlier_shift_network", "run_name": f"synthetic_{noise}", **stats}


def test_the_delocalisation_premise_holds_for_goe_noise_and_fails_for_noise_in_the_spikes_block():
    """CLAIMS.md v3, the premise of outlier-shift-network and local-law-network, through the stage's own
    code: GOE batch noise has kappa near 1 along the outliers; the same noise energy in a 20-dimensional
    block that holds the spikes has kappa near P/20 = 15, and the rows say premise absent."""
    goe, block = _shift_record("goe"), _shift_record("block")
    assert all(0.5 < o["kappa_median"] < 2 for o in goe["outliers"]), [
        o["kappa_median"] for o in goe["outliers"]
    ]
    assert all(o["kappa_median"] > 5 for o in block["outliers"]), [
        o["kappa_median"] for o in block["outliers"]
    ]
    assert max(goe["local_law_complement"]["kappa_median"]) < 3
    assert min(block["local_law_complement"]["kappa_median"][:2]) > 3
    for cid in ("outlier-shift-network", "local-law-network"):
        assert decide(CLAIMS[cid], [goe], "control").verdict == "PASS", cid
        got = decide(CLAIMS[cid], [block], "control")
        assert got.verdict == "premise absent" and got.premise_measured > 3, (cid, got.summary)
    # the second-order perturbative shift is reported beside the free-convolution slope
    assert all("slope_second_order" in o for o in goe["outliers"])


def test_outlier_shift_network_passes_on_delocalised_and_fails_on_rank_one_batch_noise():
    """CLAIMS.md: + synthetic A + s(b) X through the same pipeline; - rank-one (localised) batch noise,
    which moves no outlier the way free convolution predicts."""
    good, bad = _shift_record("goe"), _shift_record("rank_one")
    assert _verdict("outlier-shift-network", [good]) == "PASS", [
        (o["slope_fit"], o["slope_predicted"], o["r2"]) for o in good["outliers"]
    ]
    assert _verdict("outlier-shift-network", [bad]) == "FAIL"
    # the same records control local-law-network: the damped inverses of A + s X follow the local law
    # (off the null space, here empty); under rank-one noise they do not
    assert good["local_law_complement"]["null_dim"] == 0
    assert _verdict("local-law-network", [good]) == "PASS"
    assert _verdict("local-law-network", [bad]) == "FAIL"
