"""A run whose loss becomes NaN or infinite is recorded as diverged, and every later stage, the
figures and the claims ledger say so instead of crashing or drawing garbage."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from conftest import run_stage
from rmtloss import ledger
from rmtloss._io import read_json
from rmtloss.papers import CLAIMS

DIVERGE = ("model=logistic", "optimizer.lr=1e30", "train.schedule=constant", "train.epochs=3")


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    out = tmp_path_factory.mktemp("diverged") / "train"
    proc = run_stage("train", *DIVERGE, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert "diverged" in proc.stdout + proc.stderr
    return out


def test_train_records_the_divergence_in_its_outputs(diverged):
    ckpt = torch.load(diverged / "checkpoint_final.pt", weights_only=True)
    assert ckpt["diverged"]["epoch"] >= 1 and not math.isfinite(ckpt["diverged"]["loss"])
    assert torch.load(diverged / "checkpoint_init.pt", weights_only=True)["diverged"] is None
    rows = list(csv.DictReader((diverged / "metrics.csv").open()))
    assert int(rows[-1]["epoch"]) == ckpt["diverged"]["epoch"] == ckpt["epoch"]
    assert math.isnan(float(rows[-1]["test_metric"]))
    assert (diverged / "provenance.json").is_file() and not (diverged / "resume.pt").exists()


def test_on_divergence_stop_is_an_error_naming_the_learning_rate(tmp_path):
    out = tmp_path / "run"
    proc = run_stage("train", *DIVERGE, "train.on_divergence=stop", f"hydra.run.dir={out}")
    assert proc.returncode == 2 and "optimizer.lr" in proc.stderr and "diverged in epoch" in proc.stderr
    assert not (out / "checkpoint_final.pt").exists()


def test_spectra_analysis_densities_and_figures_record_a_diverged_run(diverged, tmp_path):
    spec = tmp_path / "spectra"
    proc = run_stage(
        "spectra", f"run_dir={diverged}", "run_name=blowup", "batch.count=2", f"hydra.run.dir={spec}"
    )
    assert proc.returncode == 0, proc.stderr
    raw = np.load(spec / "eigenvalues.npz")
    assert str(raw["diverged_run"]) == "blowup" and "eigenvalues" not in raw.files

    for name, stage, args in [("analysis", "analysis", ()), ("densities", "densities", ("task=fit",))]:
        proc = run_stage(
            stage, *args, f"spectrum={spec / 'eigenvalues.npz'}", f"hydra.run.dir={tmp_path / name}"
        )
        assert proc.returncode == 0, proc.stderr
        stats = read_json(tmp_path / name / "stats.json")
        assert stats["diverged"]["run"] == "blowup" and stats["diverged"]["epoch"] >= 1
        assert stats["kind"] == ("local_stats" if name == "analysis" else "global_density")
        assert (tmp_path / name / "provenance.json").is_file()

    out = tmp_path / "fig" / "spacing_ratios"
    proc = run_stage(
        "figures",
        "figure=spacing_ratios",
        f"inputs=[{tmp_path / 'analysis' / 'stats.json'}]",
        f"out={out}",
        f"hydra.run.dir={tmp_path / 'fig'}",
    )
    assert proc.returncode == 0, proc.stderr
    assert out.with_suffix(".png").stat().st_size > 0

    proc = run_stage(
        "claims",
        "scale=smoke",
        f"inputs=[{tmp_path / 'analysis' / 'stats.json'}]",
        f"out={tmp_path / 'claims'}",
        f"hydra.run.dir={tmp_path / 'c'}",
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in csv.DictReader((tmp_path / "claims.csv").open())}
    assert rows["ratios-goe"]["verdict"] == "diverged" and "blowup" in rows["ratios-goe"]["summary"]


def test_the_initial_weights_of_a_diverged_run_are_still_analysed(diverged, tmp_path):
    proc = run_stage(
        "spectra", f"run_dir={diverged}", "checkpoint=init", "batch.count=1", f"hydra.run.dir={tmp_path}"
    )
    assert proc.returncode == 0, proc.stderr
    assert np.load(tmp_path / "eigenvalues.npz")["eigenvalues"].shape == (1, 650)


def test_outliers_network_task_records_a_diverged_run(diverged, tmp_path):
    proc = run_stage("outliers", "task=network_shift", f"runs=[{diverged}]", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    stats = read_json(tmp_path / "stats.json")
    assert stats["kind"] == "outlier_shift_network" and stats["diverged"]["run"] == str(diverged)


def _local(run: str, mean: float) -> dict:
    return {
        "kind": "local_stats",
        "run": run,
        "matrix": "hessian",
        "checkpoint": "final",
        "full": False,
        "ratios": {"mean": mean, "ci_low": mean - 0.01, "ci_high": mean + 0.01},
    }


def test_the_ledger_decides_on_the_other_runs_and_names_the_diverged_one():
    goe = CLAIMS["ratios-goe"]
    gone = {
        "kind": "local_stats",
        "run": "blowup",
        "diverged": {"run": "blowup", "epoch": 2, "loss": math.inf},
    }
    rec = ledger.decide(goe, [_local("mlp", 0.53), gone], "smoke")
    assert rec.verdict == "PASS" and rec.measured == pytest.approx(0.53)
    assert "1 diverged run(s) left out: blowup (epoch 2" in rec.summary
    rec = ledger.decide(goe, [_local("mlp", 0.40), gone], "smoke")
    assert rec.verdict == "FAIL" and "blowup" in rec.detail
    rec = ledger.decide(goe, [gone], "smoke")
    assert rec.verdict == "diverged" and math.isnan(rec.measured)
