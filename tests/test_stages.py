"""Stages as Hydra apps: bad input stops before any work with a message naming the setting."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import REPO, run_in_process, run_stage

BAD_TRAIN = [
    (["model.name=transformer"], "model.name"),
    (["data.name=imagenet"], "data.name"),
    (["data=mnist", "data.data_dir=/nonexistent/rmtloss-data"], "/nonexistent/rmtloss-data"),
    (["optimizer.lr=-0.1"], "optimizer.lr"),
    (["train.batch_size=-4"], "train.batch_size"),
    (["train.batch_size=5000"], "larger than the 1297 training samples"),
    (["train.epchs=3"], "train.epchs"),  # a typo: Hydra's struct mode refuses unknown keys
]


@pytest.mark.parametrize(("overrides", "message"), BAD_TRAIN)
def test_bad_training_settings_stop_with_a_clear_message(tmp_path, overrides, message):
    out = tmp_path / "run"
    proc = run_in_process("train", *overrides, "train.epochs=1", out=out)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert not out.exists() or not any(out.iterdir()), "a failed stage wrote output"


def test_unknown_model_group_lists_the_options(tmp_path):
    proc = run_in_process("train", "model=transformer", out=tmp_path / "run")
    assert proc.returncode != 0
    assert "model/transformer" in proc.stderr and "mlp" in proc.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "train"
    proc = run_stage("train", "model=logistic", "train.epochs=2", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return out


def test_train_writes_checkpoints_metrics_config_and_provenance(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"checkpoint_init.pt", "checkpoint_final.pt", "metrics.csv", "config.yaml",
            "provenance.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    rows = (trained / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,lr,train_loss") and len(rows) == 4  # header + epochs 0..2


def test_training_is_reproducible(trained, tmp_path):
    again = tmp_path / "again"
    assert run_stage("train", "model=logistic", "train.epochs=2", f"hydra.run.dir={again}").returncode == 0
    assert (again / "metrics.csv").read_text() == (trained / "metrics.csv").read_text()


@pytest.mark.parametrize(("overrides", "message"), [
    (["batch.size=100000"], "batch.size"),
    (["batch.size=0"], "batch.size"),
    (["matrix=fisher"], "matrix"),
    (["method=power"], "method"),
    (["method=slq", "compile=sometimes"], "compile"),
])
def test_bad_spectra_settings_stop_with_a_clear_message(trained, tmp_path, overrides, message):
    out = tmp_path / "spectra"
    proc = run_in_process("spectra", f"run_dir={trained}", *overrides, out=out)
    assert proc.returncode == 2 and message in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_missing_checkpoint_names_the_file(tmp_path):
    proc = run_in_process("spectra", f"run_dir={tmp_path / 'nowhere'}", out=tmp_path / "s")
    assert proc.returncode == 2 and "checkpoint_final.pt" in proc.stderr and "train" in proc.stderr
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())


def test_spectra_then_analysis_on_a_trained_network(trained, tmp_path):
    sp = tmp_path / "spectra"
    proc = run_stage("spectra", f"run_dir={trained}", "batch.count=2", f"hydra.run.dir={sp}")
    assert proc.returncode == 0, proc.stderr
    with np.load(sp / "eigenvalues.npz") as d:
        assert d["eigenvalues"].shape == (2, 650) and d["batch_indices"].shape == (2, 64)
        assert len(set(d["batch_indices"].ravel())) == 128  # disjoint batches
    an = tmp_path / "analysis"
    proc = run_stage("analysis", f"spectrum={sp / 'eigenvalues.npz'}", f"hydra.run.dir={an}")
    assert proc.returncode == 0, proc.stderr
    assert {"stats.json", "samples.npz", "config.yaml", "provenance.json"} <= {
        p.name for p in an.iterdir()}
    # dtype=float32 emulates the authors' pipeline: a float32 matrix and float32 eigenvalues, labelled
    f32 = tmp_path / "f32"
    proc = run_stage("spectra", f"run_dir={trained}", "batch.count=2", "dtype=float32",
                     f"hydra.run.dir={f32}")
    assert proc.returncode == 0, proc.stderr
    with np.load(f32 / "eigenvalues.npz") as d, np.load(sp / "eigenvalues.npz") as d64:
        assert str(d["dtype"]) == "float32" and str(d64["dtype"]) == "float64"
        ev = d["eigenvalues"]
        assert np.array_equal(ev.astype(np.float32).astype(np.float64), ev)
        assert np.allclose(ev, d64["eigenvalues"], atol=1e-5 * np.abs(d64["eigenvalues"]).max())


def test_corrupt_spectra_file_is_reported(tmp_path):
    bad = tmp_path / "eigenvalues.npz"
    bad.write_bytes(b"not a zip file")
    proc = run_in_process("analysis", f"spectrum={bad}", out=tmp_path / "a")
    assert proc.returncode == 2 and "corrupt" in proc.stderr
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_a_nan_in_a_spectrum_or_a_checkpoint_stops_every_reader_naming_the_file(trained, tmp_path):
    """One NaN in an eigenvalues.npz used to shift a global fit silently (the job exited 0): the analysis
    and densities stages now refuse it before any work, naming the file and the key; a checkpoint with a
    NaN weight is refused by the stages that load it, with the command that re-trains it."""
    sp = tmp_path / "spectra"
    assert run_stage("spectra", f"run_dir={trained}", "batch.count=2", f"hydra.run.dir={sp}").returncode == 0
    with np.load(sp / "eigenvalues.npz") as d:
        raw = {k: d[k] for k in d.files}
    raw["eigenvalues"][1, 7] = np.nan
    bad = tmp_path / "nan" / "eigenvalues.npz"
    bad.parent.mkdir()
    np.savez(bad, **raw)
    for stage, extra in (("analysis", ()), ("densities", ("task=global_density",))):
        out = tmp_path / f"{stage}_out"
        proc = run_in_process(stage, f"spectrum={bad}", *extra, out=out)
        assert proc.returncode == 2, (stage, proc.stderr)
        assert str(bad) in proc.stderr and "'eigenvalues' holds 1 NaN or infinite value" in proc.stderr, stage
        assert not out.exists() or not any(out.iterdir())
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ckpt = torch.load(run / "checkpoint_final.pt", weights_only=True)
    first = next(iter(ckpt["state_dict"]))
    ckpt["state_dict"][first][0] = float("inf")
    torch.save(ckpt, run / "checkpoint_final.pt")
    proc = run_in_process("spectra", f"run_dir={run}", out=tmp_path / "s2")
    assert proc.returncode == 2 and "NaN or infinite weights" in proc.stderr and "--forcerun" in proc.stderr


def test_topk_and_slq_stages_agree_with_the_exact_spectrum(trained, tmp_path):
    common = [f"run_dir={trained}", "batch.count=1", "batch.size=200", "batch.seed=3"]
    assert run_stage("spectra", *common, f"hydra.run.dir={tmp_path / 'exact'}").returncode == 0
    proc = run_stage("spectra", *common, "method=topk", "lanczos.k=3", "lanczos.num_steps=120",
                     "hvp=reverse", f"hydra.run.dir={tmp_path / 'topk'}")
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp_path / "exact" / "eigenvalues.npz") as e, np.load(tmp_path / "topk" / "topk.npz") as t:
        exact = np.sort(e["eigenvalues"][0])[::-1][:3]
        np.testing.assert_allclose(t["values"][0], exact, rtol=1e-8)
        assert t["converged"].all()
        assert not t["compiled"]  # compile=auto: 120 steps x 1 batch are below COMPILE_MIN_CALLS


def test_complexity_stage_refuses_p_below_3(tmp_path):
    proc = run_in_process("complexity", "p=2", out=tmp_path / "c")
    assert proc.returncode == 2 and "`p`" in proc.stderr
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_complexity_stage_refuses_an_unknown_gan_density_solver(tmp_path):
    proc = run_in_process("complexity", "task=gan_spectrum", "gan.lsd=cubic", out=tmp_path / "g")
    assert proc.returncode == 2 and "`gan.lsd`" in proc.stderr and "quartic" in proc.stderr
    assert not (tmp_path / "g").exists() or not any((tmp_path / "g").iterdir())


@pytest.mark.parametrize(("overrides", "message"), [
    (["task=spectra"], "`task`"),
    (["task=fit"], "`spectrum`"),
    (["task=percolated_zero_mass", "percolated.c=[1.0,3.0]"], "`percolated.c`"),
    (["task=fit", "spectrum=x.npz", "outliers=some"], "`outliers`"),
])
def test_densities_stage_refuses_bad_settings(tmp_path, overrides, message):
    proc = run_in_process("densities", *overrides, out=tmp_path / "d")
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_densities_fit_reports_a_file_that_is_not_a_spectrum(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.arange(3))
    proc = run_in_process("densities", "task=fit", f"spectrum={bad}", out=tmp_path / "d")
    assert proc.returncode == 2 and "not a spectra file" in proc.stderr


def test_densities_fit_of_goe_spectra_prefers_the_semicircle(tmp_path):
    from rmtloss import rmt
    from rmtloss._io import read_json
    from rmtloss.results import ExactSpectra

    ev = np.stack(rmt.goe_eigenvalues(120, 4, seed=0))
    ExactSpectra(ev, np.zeros((4, 1), int), np.zeros(4), "goe", "none", "none", "classification", "final",
                 "hessian", "train", 2, 64, False, 0).save(tmp_path / "eigenvalues.npz")
    out = tmp_path / "fit"
    proc = run_stage("densities", "task=fit", f"spectrum={tmp_path / 'eigenvalues.npz'}", "fit.n=100",
                     "fit.samples=1", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    s = read_json(out / "stats.json")
    assert s["outliers_removed"] == 2 and s["n_values"] == 4 * 118
    assert s["best_rmt"]["law"] == "semicircle" and s["best_rmt"]["ks"] < 0.05
    assert s["fits"]["mp_cdf"]["ks"] > 0.3
    assert s["best_product"]["ks"] >= s["best_rmt"]["ks"] - 0.02  # W_1 is one of the products
    assert (out / "samples.npz").exists() and (out / "provenance.json").exists()


@pytest.mark.parametrize("values", [[-3.0, -2.0, -1.0], [0.5, 1.0, 2.0], [-1.0, 1.0]])
def test_the_bulk_view_takes_the_atom_out_of_the_bin_holding_zero(values):
    # a spectrum wholly below 0 puts 0 on the last edge, outside every bin [e_i, e_i+1) (it crashed on
    # the paper_shape MNIST MLP's 3-node SLQ density): the bins hold the non-zero mass in [e_0, e_last)
    from rmtloss.rmt.global_laws import Discrete
    from rmtloss.stages.densities import _bulk_view

    nonzero = Discrete.from_sample(np.array(values))
    mixed = Discrete.from_sample(np.array([*values, 0.0, 0.0]))  # an atom of 2/5 or 2/4 at 0
    view = _bulk_view(nonzero, {"data": mixed.cdf}, 6)
    widths = np.diff(view["bulk_edges"])
    assert view["zero_data"] == pytest.approx(2 / (len(values) + 2))
    top = view["bulk_edges"][-1]
    below_top = sum(v < top for v in values) / (len(values) + 2)
    assert (view["bulk_data"] * widths).sum() == pytest.approx(below_top)


@pytest.mark.parametrize(("overrides", "message"), [
    (["task=spikes"], "task"),
    (["task=network_shift"], "runs"),
    (["task=synthetic_shift", "synthetic.spikes=[0.5]"], "synthetic.spikes"),
    (["task=outlier_count", "runs=[/nonexistent/train]"], "/nonexistent/train"),
])
def test_outliers_stage_refuses_bad_settings(tmp_path, overrides, message):
    out = tmp_path / "o"
    proc = run_in_process("outliers", *overrides, "synthetic.n=100", out=out)
    assert proc.returncode != 0 and message in proc.stderr
    assert torch.get_default_dtype() == torch.float32  # the stage's float64 does not leak out
    assert not out.exists() or not any(out.iterdir())


def test_outliers_synthetic_shift_follows_the_prediction(tmp_path):
    out = tmp_path / "shift"
    proc = run_stage("outliers", "task=synthetic_shift", "synthetic.n=400", "synthetic.samples=3",
                     "synthetic.s=[0.5,1.0]", "synthetic.noise=[goe,diagonal]", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads((out / "stats.json").read_text())
    assert stats["noise"]["goe"]["max_rel_error"] < 0.02       # delocalised noise: on the prediction
    assert stats["noise"]["diagonal"]["max_rel_error"] > 0.03  # diagonal noise: the shift is missing
    assert (out / "provenance.json").is_file() and (out / "config.yaml").is_file()


def test_outliers_network_tasks_on_a_trained_network(trained, tmp_path):
    out = tmp_path / "net"
    proc = run_stage("outliers", "task=network_shift", f"runs=[{trained}]", "network.batch_sizes=[32,128]",
                     "network.batches=2", "network.local_law_batch=128", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads((out / "stats.json").read_text())
    assert stats["num_params"] == 650 and stats["sigma2"] > 0
    assert stats["s2_per_batch_size"][0] > stats["s2_per_batch_size"][1]  # noise falls with b
    for o in stats["outliers"]:
        assert o["slope_predicted"] > 0 and len(o["predicted"]) == 2
        assert all(0 < v <= 1 for v in o["overlap_per_batch_size"])  # tracked by eigenvector overlap
    comp = stats["local_law_complement"]  # the local law off the common null space of H and the H_b
    assert comp["computed"] and comp["null_dim"] + comp["dim"] == 650 and comp["null_dim"] >= 0
    lz = tmp_path / "lanczos"  # the operator path (paper scale) gives the same batch outliers and noise
    proc = run_stage("outliers", "task=network_shift", f"runs=[{trained}]", "network.batch_sizes=[32,128]",
                     "network.batches=2", "network.local_law_batch=128", "network.method=lanczos",
                     "network.lanczos.num_steps=80", f"hydra.run.dir={lz}")
    assert proc.returncode == 0, proc.stderr
    lstats = json.loads((lz / "stats.json").read_text())
    assert np.allclose(lstats["s2_per_batch_size"], stats["s2_per_batch_size"], rtol=1e-8)
    assert np.allclose(lstats["full_top"][:3], stats["full_top"][:3], rtol=1e-6)
    with np.load(lz / "samples.npz") as a, np.load(out / "samples.npz") as b:
        assert np.allclose(a["mean_top"][:, 0], b["mean_top"][:, 0], rtol=1e-6)
    assert lstats["local_law"]["computed"] is False
    # the premise's noise concentration along the top outlier: the same number on both paths
    assert np.isclose(lstats["outliers"][0]["kappa_median"], stats["outliers"][0]["kappa_median"], rtol=1e-4)
    assert "slope_second_order" in stats["outliers"][0] and "slope_second_order" not in lstats["outliers"][0]
    whole = tmp_path / "whole"  # every product in one vectorised call (chunk_size=null; default 64 at a time)
    proc = run_stage("outliers", "task=network_shift", f"runs=[{trained}]", "network.batch_sizes=[32,128]",
                     "network.batches=2", "network.local_law_batch=128", "chunk_size=null",
                     f"hydra.run.dir={whole}")
    assert proc.returncode == 0, proc.stderr
    wstats = json.loads((whole / "stats.json").read_text())
    assert np.allclose(wstats["full_top"], stats["full_top"], rtol=1e-10)
    assert np.allclose(wstats["s2_per_batch_size"], stats["s2_per_batch_size"], rtol=1e-10)
    count = tmp_path / "count"
    proc = run_stage("outliers", "task=outlier_count", f"runs=[{trained}]", f"hydra.run.dir={count}")
    assert proc.returncode == 0, proc.stderr
    row = json.loads((count / "stats.json").read_text())["runs"][0]
    assert row["classes"] == 10 and row["hessian"]["count"] >= 0
    # the class-mean part's eigenvalues above the edge are the counted ones (rank <= C^2 = 100)
    means = np.asarray(row["ggn"]["class_mean_eigenvalues"])
    assert row["ggn"]["count"] == int(np.sum(means > row["ggn"]["edge"])) and row["ggn"]["edge"] > 0
    with np.load(count / "samples.npz") as d:
        ggn = d[f"{row['run_name']}_ggn"]
        assert ggn.shape == (650,) and ggn.min() > -1e-10  # the GGN is PSD


def test_a_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    """SIGKILL mid-run, start again: it continues from resume.pt and ends as an uninterrupted run."""
    args = ["model=logistic", "train.epochs=100", "train.checkpoint_every=2"]
    ref = tmp_path / "ref"
    assert run_stage("train", *args, f"hydra.run.dir={ref}").returncode == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "rmtloss.train", *args, f"hydra.run.dir={out}"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})  # as run_stage: same float sums
    deadline = time.monotonic() + 120
    while not (out / "resume.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "training finished before it could be killed"
    assert not (out / "checkpoint_final.pt").exists() and not (out / "metrics.csv").exists()
    again = run_stage("train", *args, f"hydra.run.dir={out}")
    assert again.returncode == 0, again.stderr
    assert "resuming from epoch" in again.stdout + again.stderr
    assert (out / "metrics.csv").read_text() == (ref / "metrics.csv").read_text()
    a = torch.load(out / "checkpoint_final.pt", weights_only=True)["state_dict"]
    b = torch.load(ref / "checkpoint_final.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (out / "resume.pt").exists()


def test_the_ritz_bulk_leaves_out_the_outlier_node():
    """After few Lanczos steps the outlier's node can carry far more than its 1/P of the mass: the bulk
    must not contain the spike (else the spike is not above its own bulk); with converged steps (the
    outlier's node at about 1/P) it is the mass-trimmed quadrature."""
    from rmtloss.rmt.global_laws import Discrete, trim_top
    from rmtloss.stages.outliers import _ritz_bulk

    nodes = np.array([0.1, 0.2, 0.3, 5.0])
    heavy = _ritz_bulk(nodes, np.array([0.3, 0.3, 0.2, 0.2]), np.array([5.0]), 1000)
    assert heavy.values.max() == 0.3 and np.isclose(heavy.weights.sum(), 1.0)
    light = np.array([0.4, 0.3, 0.2999, 0.0001])
    law = _ritz_bulk(nodes, light, np.array([5.0]), 1000)
    trimmed = trim_top(Discrete.from_sample(nodes, light), 1e-3)
    assert np.allclose(law.values, trimmed.values) and np.allclose(law.weights, trimmed.weights)
    assert _ritz_bulk(nodes, light, nodes[::-1], 1000) is None  # every node an outlier: no bulk
