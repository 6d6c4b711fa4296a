"""Benchmark: one paper-scale Hessian density (VGG-16 or PreResNet on CIFAR-100-sized data).

    python benchmarks/paper_density.py [--model vgg16|preresnet] [--samples 50000] [--batch 256]
        [--steps 100] [--probes 1] [--device auto|cpu|cuda] [--out density.npz]

The authors' setting (100 Lanczos steps, one probe; ``config.yaml`` paper scale): the Hessian of the
mean cross-entropy over the whole training set, 100 Lanczos steps from one Rademacher vector,
batches of 256. It builds the network for 100 classes, draws seeded CIFAR-shaped inputs and labels
(the script runs offline, so the weights are at their seeded initialisation and the data are
synthetic: it measures the cost of a paper-scale density, not the paper's spectrum), times one
gradient and one Hessian-vector product over the data, then runs ``rmtloss.hessian.slq`` and prints
the wall time, the peak GPU memory, the first two moments and the extreme Ritz values. A script,
not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import platform

import torch
from _timing import pick_device, timed
from omegaconf import OmegaConf
from torch import nn

from rmtloss.hessian import HessianOperator, slq
from rmtloss.nets.models import build, num_params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["vgg16", "preresnet"], default="vgg16")
    ap.add_argument("--samples", type=int, default=50000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--probes", type=int, default=1)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--mode", choices=["forward", "reverse"], default="forward", help="Hessian product mode")
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="cap the Lanczos steps so that the density takes about this long (the cap is printed)",
    )
    ap.add_argument("--out", default=None, help="where to save the SLQResult (.npz)")
    args = ap.parse_args()
    device = pick_device(args.device)

    torch.manual_seed(0)
    cfg = {"name": "vgg16"} if args.model == "vgg16" else {"name": "preresnet", "depth": 110}
    model = build(OmegaConf.create(cfg), (3, 32, 32), 100).float().eval().to(device)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(args.samples, 3 * 32 * 32, generator=gen).to(device)
    y = torch.randint(0, 100, (args.samples,), generator=gen).to(device)
    batches = list(zip(x.split(args.batch), y.split(args.batch), strict=True))
    op = HessianOperator(
        model, nn.functional.cross_entropy, batches, check_deterministic=False, mode=args.mode
    )
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(
        f"{args.model}: P = {num_params(model)}, N = {args.samples} (synthetic, CIFAR-100 shape), "
        f"batches of {args.batch}, float32 products, float64 Lanczos; {args.steps} steps, "
        f"{args.probes} probe(s), {args.mode} products; torch {torch.__version__}, "
        f"{platform.machine()}, {gpu}",
        flush=True,
    )
    v = torch.randn(op.size, dtype=torch.float64, device=device)
    op.gradient(), op.matvec(v)  # warm-up
    t_grad, _ = timed(op.gradient)
    t_hvp, _ = timed(lambda: op.matvec(v))
    print(
        f"  gradient over the data {t_grad:8.2f} s;  HVP {t_hvp:8.2f} s  (HVP / gradient = "
        f"{t_hvp / t_grad:.2f})",
        flush=True,
    )
    steps = args.steps
    if args.max_seconds is not None and steps * args.probes * t_hvp > args.max_seconds:
        steps = max(2, int(args.max_seconds / (args.probes * t_hvp)))
        print(f"  --max-seconds {args.max_seconds:g}: {steps} Lanczos steps instead of {args.steps}")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    t_slq, res = timed(lambda: slq(op, steps, args.probes, seed=0))
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    nodes = res.nodes[res.weights > 0]
    print(
        f"  SLQ density {t_slq:8.1f} s ({t_slq / (steps * args.probes):.2f} s per step and "
        f"probe), peak GPU memory {peak:.1f} GiB"
    )
    print(
        f"  mean {res.moment(1):.4e}, second moment {res.moment(2):.4e}, Ritz range "
        f"[{nodes.min():.4f}, {nodes.max():.4f}]"
    )
    if args.out:
        res.save(args.out)
        print(f"  saved {args.out}")


if __name__ == "__main__":
    main()
