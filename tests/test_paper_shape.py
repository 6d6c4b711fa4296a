"""The paper scale, tiny, on generated MNIST and CIFAR-100 files: every rule of the paper scale runs
on a CPU with the full-size networks (``scale=paper_shape``, config/config.yaml)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import job_counts, snakemake

pytestmark = pytest.mark.dag


@pytest.fixture(scope="module")
def paper_shape(tmp_path_factory) -> tuple[Path, str]:
    """The whole paper_shape DAG, run once (its wall time is printed: pytest -s)."""
    work = tmp_path_factory.mktemp("paper_shape")
    start = time.monotonic()
    proc = snakemake(work, "--config", "scale=paper_shape")
    out = proc.stdout + proc.stderr  # a run (not a dry run) prints its job table on standard error
    assert proc.returncode == 0, out[-4000:]
    print(f"paper_shape DAG: {sum(job_counts(out).values())} jobs in {time.monotonic() - start:.0f} s")
    return work, out


#: The rules of the theory tasks: paper_shape leaves them to the smoke scale, which runs them with the same
#: tiny settings (``theory: false``; CI runs both).
THEORY_RULES = {"complexity", "densities", "gan_point"}


def test_every_rule_of_the_paper_scale_runs_once_here_or_in_the_smoke_scale(paper_shape, tmp_path):
    """Each rule of the paper scale runs here on the full-size networks (the theory rules in the smoke
    scale, with the same settings), and no more than its code paths need (issue 34: CI time)."""
    _, out = paper_shape
    ran = job_counts(out)
    paper_dir, smoke_dir = tmp_path / "paper", tmp_path / "smoke"
    dry = snakemake(paper_dir, "-n", "--config", "scale=paper")
    assert dry.returncode == 0, dry.stderr[-3000:]
    paper = job_counts(dry.stdout)
    smoke = snakemake(smoke_dir, "-n", "--config", "scale=smoke")
    assert smoke.returncode == 0, smoke.stderr[-3000:]
    assert set(ran) == (set(paper) - THEORY_RULES) | {"shape_data"}, (ran, paper)
    assert THEORY_RULES <= set(job_counts(smoke.stdout))
    # once per code path (config/config.yaml says which): the dense spectrum (logistic, full data) and SLQ
    # on PreResNet-110 and the MNIST MLP; VGG-16's Lanczos outlier shift; four optimiser settings
    expected = {"spectra": 3, "local_stats": 1, "global_density": 3, "outlier_shift": 1, "outliers": 1,
                "optimisers": 4, "train": 8, "shape_data": 1, "claims": 1}
    assert {r: ran[r] for r in expected} == expected


def _params(work: Path, run: str) -> int:
    """The parameter count of a trained network's checkpoint."""
    import torch

    state = torch.load(work / f"results/paper_shape/runs/{run}/train/checkpoint_final.pt", weights_only=False)
    buffers = ("running_mean", "running_var", "num_batches_tracked")  # BatchNorm's, not parameters
    return sum(v.numel() for k, v in state["state_dict"].items() if not k.endswith(buffers))


def test_the_networks_are_the_papers_full_size_ones(paper_shape):
    work, _ = paper_shape
    # VGG-16 for CIFAR-100 (13 convolutions 3-64-...-512, BatchNorm, one 512 -> 100 layer): 15.3M parameters;
    # PreResNet-110 (54 basic blocks): 1.7M; the MNIST MLP 784-10-100-10: 9960; from the trained checkpoints
    assert 15.2e6 < _params(work, "vgg16_cifar100") < 15.4e6
    assert 1.6e6 < _params(work, "resnet_cifar100") < 1.8e6
    assert _params(work, "mnist_mlp") == 784 * 10 + 10 + 10 * 100 + 100 + 100 * 10 + 10
    for run, size in (("resnet_cifar100", 1.6e6), ("mnist_mlp", 9960)):  # the SLQ densities' operators
        with np.load(work / f"results/paper_shape/runs/{run}/spectra/density_final/slq.npz") as d:
            assert int(d["num_params"]) >= size
    with np.load(work / "results/paper_shape/runs/mnist_logistic/spectra/hessian_full/eigenvalues.npz") as d:
        assert d["eigenvalues"].shape == (1, 7850)  # the dense full-data Hessian at P = 7850


def test_the_generated_files_stand_in_for_mnist_and_cifar(paper_shape):
    work, _ = paper_shape
    manifest = json.loads((work / "results/paper_shape/data/shape_data.json").read_text())
    assert manifest["sets"] == ["mnist", "cifar100"] and manifest["train"] == 8
    for run in ("mnist_mlp", "vgg16_cifar100"):
        cfg = yaml.safe_load((work / f"results/paper_shape/runs/{run}/train/config.yaml").read_text())
        assert cfg["data"]["data_dir"] == "results/paper_shape/data"
        assert cfg["data"]["check_integrity"] is False
        assert cfg["train"]["epochs"] == 1
    stats = json.loads((work / "results/paper_shape/analysis/optimisers/damping_learner/vgg16_cifar100/"
                                "stats.json").read_text())
    assert stats["setting"] == "vgg16_cifar100"


def test_the_outlier_shift_runs_its_lanczos_path_on_vgg16(paper_shape):
    work, _ = paper_shape
    for run, size in (("vgg16_cifar100", 15.2e6),):
        stats = json.loads((work / f"results/paper_shape/analysis/outliers/outlier_shift_network/{run}/"
                                   "stats.json").read_text())
        assert stats["method"] == "lanczos" and stats["num_params"] >= size and stats["num_data"] == 8
        assert len(stats["s2_per_batch_size"]) == 2 and stats["sigma2"] >= 0
        # 3 Lanczos steps rarely resolve a bulk: then the record says so instead of predicting a shift
        assert stats["outliers"] or "outliers_why" in stats or stats["full_outliers"] == 0


def test_the_ledger_has_every_claim_with_the_scales_caveat(paper_shape):
    work, _ = paper_shape
    md = (work / "results/paper_shape/claims.md").read_text()
    assert "8 generated noise images per data set" in md.split("|")[0] and "| `ratios-goe` |" in md
