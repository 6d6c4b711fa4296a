"""Data-parallel curvature products (rmtloss.hessian.distributed) on CPU with Gloo, 2 processes."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from conftest import REPO, run_stage
from rmtloss.hessian import GGNOperator, HessianOperator, slq
from rmtloss.hessian.distributed import rank_world, shard

N, BATCH, WORLD = 101, 16, 2  # 101 samples: shards of 51 and 50, uneven last batches


def _problem() -> tuple[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(N, 6, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (N,), generator=gen)
    v = torch.randn(sum(p.numel() for p in model.parameters()), 3, generator=gen, dtype=torch.float64)
    return model, x, y, v


def _batches(x: torch.Tensor, y: torch.Tensor, idx: np.ndarray) -> list[tuple[torch.Tensor, torch.Tensor]]:
    idx = torch.as_tensor(idx)
    return list(zip(x[idx].split(BATCH), y[idx].split(BATCH), strict=True))


def _products(model: nn.Module, data: list, v: torch.Tensor, group: dist.ProcessGroup | None) -> dict:
    ce = nn.functional.cross_entropy
    hess = HessianOperator(model, ce, data, process_group=group)
    res = slq(hess, num_steps=15, num_probes=2, seed=0)
    return {
        "num_data": hess.num_data,
        "matmat": hess.matmat(v),
        "matvec": hess.matvec(v[:, 0]),
        "reverse": HessianOperator(model, ce, data, mode="reverse", process_group=group).matmat(v),
        "gradient": hess.gradient(),
        "ggn": GGNOperator(model, ce, data, process_group=group).matmat(v),
        "nodes": torch.as_tensor(res.nodes),
        "weights": torch.as_tensor(res.weights),
    }


def _worker(rank: int, init: str, out: str, fail_rank: int) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=WORLD,
                            timeout=datetime.timedelta(seconds=30))
    model, x, y, v = _problem()
    r, world = rank_world(dist.group.WORLD)
    data = _batches(x, y, shard(N, r, world))
    if rank == fail_rank:
        raise RuntimeError(f"rank {rank} failed on purpose")
    got = _products(model, data, v, dist.group.WORLD)
    if rank == 0:
        torch.save(got, out)
    dist.destroy_process_group()


def _spawn(tmp_path: Path, fail_rank: int = -1) -> dict:
    out = tmp_path / "rank0.pt"
    mp.spawn(_worker, args=(str(tmp_path / "init"), str(out), fail_rank), nprocs=WORLD, join=True)
    return torch.load(out)


def test_shards_cover_every_sample_once_and_are_as_even_as_possible():
    for n, world in [(101, 2), (7, 3), (2, 4), (1000, 8)]:
        parts = [shard(n, r, world) for r in range(world)]
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n))
        sizes = [len(p) for p in parts]
        assert max(sizes) - min(sizes) <= 1


def test_two_gloo_ranks_give_the_single_process_products_and_slq(tmp_path):
    got = _spawn(tmp_path)
    model, x, y, v = _problem()
    ref = _products(model, _batches(x, y, np.arange(N)), v, None)
    assert got["num_data"] == ref["num_data"] == N
    for key in ("matmat", "matvec", "reverse", "gradient", "ggn"):
        rel = float((got[key] - ref[key]).norm() / ref[key].norm())
        assert rel < 1e-12, (key, rel)
    torch.testing.assert_close(got["nodes"], ref["nodes"], rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(got["weights"], ref["weights"], rtol=1e-8, atol=1e-10)


def test_a_failing_rank_fails_the_job_with_its_error_instead_of_hanging(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(mp.ProcessRaisedException, match="rank 1 failed on purpose"):
        _spawn(tmp_path, fail_rank=1)
    assert time.monotonic() - t0 < 120


@pytest.fixture(scope="module")
def train(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "train"
    assert run_stage("train", "model=logistic", "train.epochs=1", f"hydra.run.dir={out}").returncode == 0
    return out


def _torchrun(stage: str, *overrides: str) -> subprocess.CompletedProcess:
    """``torchrun --nproc-per-node 2 -m rmtloss.<stage> overrides`` on CPU (Gloo)."""
    cmd = [str(Path(sys.executable).with_name("torchrun")), "--nproc-per-node", "2", "--master-port",
           str(_free_port()), "-m", f"rmtloss.{stage}", *overrides]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=300, cwd=REPO)


def test_the_spectra_stage_under_torchrun_writes_once_and_matches_one_process(train, tmp_path):
    """``torchrun --nproc-per-node 2 -m rmtloss.spectra`` (Gloo): rank 0 writes the SLQ result of one
    process; an exact spectrum refuses the launch, naming the setting."""
    common = [f"run_dir={train}", "run_name=logistic", "method=slq", "batch.size=301", "batch.count=1",
              "lanczos.num_steps=12", "lanczos.num_probes=2", "dtype=float64", "device=cpu"]
    one = run_stage("spectra", *common, f"hydra.run.dir={tmp_path / 'one'}")
    assert one.returncode == 0, one.stderr
    two = _torchrun("spectra", *common, f"hydra.run.dir={tmp_path / 'two'}")
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = np.load(tmp_path / "one" / "slq.npz"), np.load(tmp_path / "two" / "slq.npz")
    assert int(b["ranks"]) == 2 and int(a["ranks"]) == 1
    np.testing.assert_allclose(b["nodes"], a["nodes"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b["weights"], a["weights"], rtol=1e-9, atol=1e-12)
    assert (tmp_path / "two" / "provenance.json").is_file()
    exact = _torchrun("spectra", f"run_dir={train}", "method=exact", "device=cpu",
                      f"hydra.run.dir={tmp_path / 'exact'}")
    assert exact.returncode != 0 and "invalid setting `method`" in exact.stderr


def test_the_outliers_lanczos_path_under_torchrun_matches_one_process(train, tmp_path):
    common = ["task=network_shift", f"runs=[{train}]", "network.batch_sizes=[32,128]", "network.batches=2",
              "network.local_law_batch=128", "network.method=lanczos", "network.lanczos.num_steps=40",
              "device=cpu"]
    one = run_stage("outliers", *common, f"hydra.run.dir={tmp_path / 'one'}")
    assert one.returncode == 0, one.stderr[-3000:]
    two = _torchrun("outliers", *common, f"hydra.run.dir={tmp_path / 'two'}")
    assert two.returncode == 0, two.stderr[-3000:]
    a = json.loads((tmp_path / "one" / "stats.json").read_text())
    b = json.loads((tmp_path / "two" / "stats.json").read_text())
    np.testing.assert_allclose(b["s2_per_batch_size"], a["s2_per_batch_size"], rtol=1e-9)
    np.testing.assert_allclose(b["full_top"], a["full_top"], rtol=1e-8)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("env", "world"),
    [
        ({}, 1),
        ({"WORLD_SIZE": "4", "RANK": "0"}, 4),  # torchrun
        ({"SLURM_PROCID": "1", "SLURM_NTASKS": "4", "SLURM_STEP_NUM_TASKS": "4", "MASTER_ADDR": "n1"}, 4),
        ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}, 1),  # inside an allocation, not an srun launch
    ],
)
def test_the_launch_is_read_from_torchrun_or_srun_variables(monkeypatch, env, world):
    from rmtloss.hessian import distributed

    for key in ("WORLD_SIZE", "RANK", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "MASTER_ADDR"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert distributed.world_size_from_env() == world
    assert distributed.launched() == (world > 1)
