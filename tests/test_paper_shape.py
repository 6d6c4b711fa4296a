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


def test_every_rule_of_the_paper_scale_runs(paper_shape, tmp_path):
    _, out = paper_shape
    ran = job_counts(out)
    dry = snakemake(tmp_path, "-n", "--config", "scale=paper")
    assert dry.returncode == 0, dry.stderr[-3000:]
    paper = job_counts(dry.stdout)
    assert set(ran) == set(paper) | {"shape_data"}, (ran, paper)
    # every job of the paper scale but the GAN sweeps' 990 points (one point of each sweep here) and what
    # paper_shape drops (config/config.yaml says why): the K-FAC VGG-16 setting, the logistic model's two
    # batch spectra and the MNIST MLP's at initialisation (and their analyses), PreResNet-110's outlier shift
    for rule, n in (("optimisers", 1), ("spectra", 3), ("local_stats", 3), ("global_density", 1),
                    ("outlier_shift", 1)):
        paper[rule] -= n
    assert {r: n for r, n in ran.items() if r not in ("gan_point", "shape_data")} == \
        {r: n for r, n in paper.items() if r != "gan_point"}
    assert ran["gan_point"] == 2 and ran["shape_data"] == 1


def _params(work: Path, run: str) -> int:
    with np.load(work / f"results/paper_shape/runs/{run}/spectra/density_final/slq.npz") as d:
        return int(d["num_params"])


def test_the_networks_are_the_papers_full_size_ones(paper_shape):
    work, _ = paper_shape
    # VGG-16 for CIFAR-100 (13 convolutions 3-64-...-512, BatchNorm, one 512 -> 100 layer): 15.3M parameters;
    # PreResNet-110 (54 basic blocks): 1.7M; the MNIST MLP 784-10-100-10: 9960
    assert 15.2e6 < _params(work, "vgg16_cifar100") < 15.4e6
    assert 1.6e6 < _params(work, "resnet_cifar100") < 1.8e6
    assert _params(work, "mnist_mlp") == 784 * 10 + 10 + 10 * 100 + 100 + 100 * 10 + 10
    with np.load(work / "results/paper_shape/runs/mnist_mlp/spectra/hessian_final/eigenvalues.npz") as d:
        assert d["eigenvalues"].shape == (1, 9960)  # one dense batch Hessian (8 images) at P = 9960


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


def test_the_outlier_shift_runs_its_lanczos_path_on_vgg16_and_the_mnist_mlp(paper_shape):
    work, _ = paper_shape
    for run, size in (("vgg16_cifar100", 15.2e6), ("mnist_mlp", 9960)):
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
