"""Data-parallel curvature products on ``torch.distributed``.

One spectrum (a Lanczos run, an SLQ density, top-k) is a sequence of products :math:`Hv` over the
whole data set. With R processes (``torchrun --nproc-per-node R`` or SLURM's ``srun``) each rank
holds a shard of the samples, :func:`shard` (contiguous, sizes differing by at most one, every
sample exactly once), and computes its part of the share-weighted sum

.. math:: Hv = \\sum_{r} \\sum_{B \\in \\text{shard}_r} \\frac{n_B}{N} H_B v,

and one ``all_reduce`` per product (of all K columns of a ``matmat``) adds the parts; N is the
global sample count, summed once when the operator is built. Every rank then holds the same product,
so Lanczos, SLQ, top-k and Hutchinson run unchanged and identically on every rank (same seeds); only
rank 0 writes (:func:`rmtloss.stage.is_writer`). Pass ``process_group`` to
:class:`rmtloss.hessian.operators.CurvatureOperator`.

The backend is NCCL when the ranks have GPUs and Gloo on CPUs. The process group has a timeout
(``RMTLOSS_DIST_TIMEOUT`` seconds, default 600): a rank that fails makes the others' next
collective fail after it instead of hanging.
"""

from __future__ import annotations

import datetime
import os

import numpy as np
import torch
import torch.distributed as dist

TIMEOUT_ENV = "RMTLOSS_DIST_TIMEOUT"


def shard(n: int, rank: int, world: int) -> np.ndarray:
    """The indices ``0..n-1`` of ``rank``'s shard: contiguous, as even as possible, disjoint, and
    together covering every index once (unlike ``DistributedSampler``, nothing is repeated to even
    the shards out: the products weight each batch by its share, so uneven shards are exact)."""
    return np.array_split(np.arange(n), world)[rank]


def world_size_from_env() -> int:
    """The launch's process count: ``WORLD_SIZE`` (torchrun), else the tasks of an ``srun`` step
    (``SLURM_STEP_NUM_TASKS``) when the job script set ``MASTER_ADDR`` (a SLURM allocation alone,
    e.g. Snakemake run inside ``salloc -n 4``, is not a launch), else 1."""
    env = os.environ
    if "WORLD_SIZE" in env:
        return int(env["WORLD_SIZE"])
    if "MASTER_ADDR" in env and "SLURM_PROCID" in env:
        return int(env.get("SLURM_STEP_NUM_TASKS", env.get("SLURM_NTASKS", "1")))
    return 1


def launched() -> bool:
    """Whether this process is one of several ranks started by ``torchrun`` or ``srun``."""
    return world_size_from_env() > 1


def init_from_env(device: torch.device) -> dist.ProcessGroup | None:
    """Join the process group of a ``torchrun`` / ``srun`` launch (``None`` for one process).

    Reads the launcher's environment: ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT``
    (torchrun), or ``SLURM_PROCID`` and the step's task count with ``MASTER_ADDR``/``MASTER_PORT``
    set by the job script (srun). NCCL on CUDA devices, Gloo otherwise; the timeout of
    :data:`TIMEOUT_ENV`.
    """
    if not launched():
        return None
    if not dist.is_initialized():
        env = os.environ
        env.setdefault("RANK", env.get("SLURM_PROCID", "0"))
        env.setdefault("WORLD_SIZE", str(world_size_from_env()))
        env.setdefault("MASTER_PORT", "29500")
        timeout = datetime.timedelta(seconds=float(env.get(TIMEOUT_ENV, "600")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timeout)
    return dist.group.WORLD


def local_device(device: torch.device) -> torch.device:
    """On CUDA, this rank's GPU: ``LOCAL_RANK`` (torchrun) or ``SLURM_LOCALID`` (srun), modulo the
    visible devices (``srun --gpus-per-task 1`` shows each task its one GPU as device 0); otherwise
    ``device``."""
    if device.type != "cuda" or not launched():
        return device
    local = int(os.environ.get("LOCAL_RANK", os.environ.get("SLURM_LOCALID", "0")))
    local %= torch.cuda.device_count()
    torch.cuda.set_device(local)
    return torch.device("cuda", local)


def my_rows(rows: np.ndarray, group: dist.ProcessGroup | None) -> np.ndarray:
    """This rank's :func:`shard` of the sample indices ``rows`` (all of them without a group)."""
    rank, world = rank_world(group)
    return rows[shard(len(rows), rank, world)]


def rank_world(group: dist.ProcessGroup | None) -> tuple[int, int]:
    """``(rank, world size)`` in ``group``; ``(0, 1)`` without one."""
    if group is None:
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


def all_sum(t: torch.Tensor, group: dist.ProcessGroup | None) -> torch.Tensor:
    """Sum ``t`` over the ranks of ``group`` in place (nothing without a group); returns ``t``."""
    if group is not None:
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
    return t
