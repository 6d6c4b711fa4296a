"""Data-parallel curvature products: time per Hessian-vector product and per SLQ step against ranks.

``python benchmarks/distributed_operator.py [--ranks 1 2] [--samples 4096] [--steps 10]
[--model mnist_mlp|lenet] [--device cpu|cuda]``

For each process count R it starts R processes (``torch.multiprocessing``; Gloo on CPU, NCCL with
one GPU per rank), gives each its shard of seeded synthetic data of MNIST's shape
(:func:`rmtloss.hessian.distributed.shard`), builds :class:`rmtloss.hessian.HessianOperator` with
the process group, and times one product (median of 5) and an SLQ run of ``--steps`` steps with 1
probe. On CPU the machine's cores are divided among the ranks (``torch.set_num_threads``), so the
speed-up is that of splitting the same cores, not of adding machines. Prints seconds, speed-up
against one rank and parallel efficiency (speed-up / R).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from rmtloss.hessian import HessianOperator, slq
from rmtloss.hessian.distributed import shard


def _model(name: str) -> nn.Module:
    torch.manual_seed(0)
    if name == "lenet":
        return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(),
                             nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.ReLU(), nn.Linear(10, 100), nn.ReLU(),
                         nn.Linear(100, 10))


def _worker(rank: int, world: int, args: argparse.Namespace, init: str, out: str) -> None:
    cuda = args.device == "cuda"
    if not cuda:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    device = torch.device("cuda", rank) if cuda else torch.device("cpu")
    group = None
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo", init_method=f"file://{init}", rank=rank,
                                world_size=world, timeout=datetime.timedelta(seconds=600))
        group = dist.group.WORLD
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(args.samples, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (args.samples,), generator=gen)
    idx = torch.as_tensor(shard(args.samples, rank, world))
    pairs = zip(x[idx].split(128), y[idx].split(128), strict=True)
    data = [(xb.to(device), yb.to(device)) for xb, yb in pairs]
    op = HessianOperator(_model(args.model).to(device), nn.functional.cross_entropy, data,
                         process_group=group, check_deterministic=False)
    v = torch.randn(op.size, generator=gen).to(device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times = []
    for _ in range(6):  # the first is warm-up
        if group is not None:
            dist.barrier()
        sync()
        t0 = time.perf_counter()
        op.matvec(v)
        sync()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    slq(op, args.steps, 1, seed=0)
    sync()
    per_step = (time.perf_counter() - t0) / args.steps
    if rank == 0:
        torch.save({"product": statistics.median(times[1:]), "step": per_step, "size": op.size}, out)
    if group is not None:
        dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--model", choices=["mnist_mlp", "lenet"], default="mnist_mlp")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for world in args.ranks:
            out = os.path.join(tmp, f"r{world}.pt")
            mp.spawn(_worker, args=(world, args, os.path.join(tmp, f"init{world}"), out), nprocs=world)
            rows.append((world, torch.load(out)))
    base = rows[0][1]
    print(f"{args.model} (P = {base['size']}), {args.samples} samples in batches of 128, {args.device}, "
          f"{os.cpu_count()} cores")
    print(f"{'ranks':>5} {'s / product':>12} {'speed-up':>9} {'efficiency':>10} {'s / SLQ step':>13} "
          f"{'speed-up':>9}")
    for world, r in rows:
        sp, ss = base["product"] / r["product"], base["step"] / r["step"]
        print(f"{world:>5} {r['product']:>12.4f} {sp:>9.2f} {sp / world:>10.2f} {r['step']:>13.4f} "
              f"{ss:>9.2f}")


if __name__ == "__main__":
    main()
