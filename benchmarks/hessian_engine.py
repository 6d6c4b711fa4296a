"""Benchmark: our Hessian operator and SLQ against PyHessian and curvlinops, in one process.

    pip install -e ".[bench]"            # PyHessian 0.1 (curvlinops-for-pytorch 3.0.1 is a dependency)
    python benchmarks/hessian_engine.py [--model mnist_mlp|lenet|vgg16|preresnet] [--steps 40]
        [--probes 2] [--samples 2048] [--device auto|cpu|cuda] [--mode forward|reverse]
        [--flops-only [--columns 8]] [--compile]

Same model, data, dtype (float32, PyHessian's), probe count and Lanczos steps for every tool:

1. HVP cost: one Hessian-vector product over the data set against one gradient (autograd), and
   ``matmat`` with 8 columns per column, in time and in floating-point operations (counted by
   ``torch.utils.flop_counter`` on one batch), for both product modes (forward-over-reverse,
   the default, and reverse-over-reverse, ``mode="reverse"``); ``--flops-only [--columns K]``
   prints only the FLOP counts, with PyHessian's and curvlinops' products beside ours and the
   FLOP ratio of an SLQ density with K probes against a tool that takes one product per probe;
2. SLQ density: ``rmtloss.hessian.slq`` (all probes advanced together, one ``matmat`` per step)
   against PyHessian's ``hessian.density`` (one probe after another) and against the same ``slq``
   driven by curvlinops' ``HessianLinearOperator``;
3. agreement: the first two moments of each density and the largest Ritz value, against
   tr(H)/P from a 64-probe Hutchinson estimate;
4. ``--compile``: the same products and SLQ density with ``compile=True`` (``torch.compile``,
   inductor), the time of the first compiled product (compilation, the compiled product and the
   eager cross-check; compiled from scratch each time: Dynamo reset, inductor's on-disk caches off),
   and the number of products (over the data, and per-batch calls, which ``compile=auto`` counts)
   after which compiling has paid for itself.

PyHessian 0.1 calls ``torch.eig``, which torch 2.x no longer has; the smallest shim that restores
it (eigenvalues as an (n, 2) real/imaginary tensor, eigenvectors as columns) through
``torch.linalg.eigh`` on its symmetric tridiagonal matrix is installed **inside this script only**.
Data are synthetic (seeded, MNIST- or CIFAR-shaped; 100 classes for the CIFAR models) so the script
runs offline. ``--device cuda`` runs every tool on the GPU (PyHessian with ``cuda=True``); timings
then synchronise the device. A script, not a test: it prints ratios, it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import torch
from _timing import flops, pick_device, timed
from omegaconf import OmegaConf
from torch import nn

from rmtloss.hessian import HessianOperator, hutchinson_trace, slq
from rmtloss.nets.models import build


def torch_eig_shim(t: torch.Tensor, eigenvectors: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.eig`` of torch < 1.9 for a symmetric matrix, as PyHessian 0.1 expects it."""
    vals, vecs = torch.linalg.eigh(t)
    return torch.stack([vals, torch.zeros_like(vals)], 1), vecs


class CurvlinopsAdapter:
    """curvlinops' operator behind our ``size``/``matvec`` interface."""

    def __init__(self, op, device: torch.device) -> None:  # noqa: ANN001
        self.op, self.size, self.device = op, op.shape[0], device

    def matvec(self, v: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.op @ v.to(torch.float32)

    def matmat(self, mat: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.op @ mat.to(torch.float32)


MODELS = {  # name: (input shape, classes, model config)
    "mnist_mlp": ((1, 28, 28), 10, {"name": "mlp", "hidden": [10, 100]}),
    "lenet": ((3, 32, 32), 10, {"name": "lenet"}),
    "vgg16": ((3, 32, 32), 100, {"name": "vgg16"}),
    "preresnet": ((3, 32, 32), 100, {"name": "preresnet", "depth": 110}),
}


def device_name(device: torch.device) -> str:
    """The device and, for a GPU, its model."""
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"


def moments(nodes: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """First two moments and the largest node of a quadrature (K probes x m nodes)."""
    return (float(np.mean(np.sum(weights * nodes, 1))), float(np.mean(np.sum(weights * nodes**2, 1))),
            float(nodes.max()))


def peer_flops(model: nn.Module, ce: nn.Module, params: list, batch: list, v: torch.Tensor) -> dict:
    """FLOPs of one Hessian-vector product of PyHessian (its ``dataloader_hv_product``, the product
    its ``density`` takes once per probe and Lanczos step) and of curvlinops, on ``batch``, where
    the ``bench`` extra is installed."""
    out = {}
    try:
        import curvlinops
        from pyhessian import hessian as pyhessian_hessian
    except ImportError:
        return out
    pyh = pyhessian_hessian(model, ce, dataloader=batch, cuda=v.device.type == "cuda")
    chunks = [c.reshape(q.shape).float() for c, q in zip(v.split([q.numel() for q in params]), params,
                                                           strict=True)]
    out["PyHessian HVP"] = flops(lambda: pyh.dataloader_hv_product(chunks))
    cl = curvlinops.HessianLinearOperator(model, ce, params, batch)
    out["curvlinops HVP"] = flops(lambda: cl @ v.float())
    return out


def print_flops(args: argparse.Namespace, model: nn.Module, ce: nn.Module, params: list, batch: list,
                one: dict, f_grad: int, f_hvp: dict) -> None:
    """The ``--flops-only`` table: products in gradients' FLOPs, and the FLOP bound of the SLQ
    speed-up over a tool that takes one product per probe and step."""
    k = args.columns
    mat = torch.randn(one["forward"].size, k, dtype=torch.float64, device=batch[0][0].device)
    f_mm = {m: flops(lambda op=op: op.matmat(mat)) / k / f_grad for m, op in one.items()}
    print(f"model {args.model}, P = {one['forward'].size}, one batch of {len(batch[0][0])}; "
          f"FLOPs / gradient FLOPs")
    for m in one:
        print(f"  rmtloss {m:<8} HVP {f_hvp[m]:.3f}   matmat per column ({k}) {f_mm[m]:.3f}")
    v = torch.randn(one["forward"].size, dtype=torch.float64, device=mat.device)
    for name, f in peer_flops(model, ce, params, batch, v).items():
        print(f"  {name:<22} {f / f_grad:.3f}   SLQ with {k} probes, FLOPs {name.split()[0]} / ours: "
              + ", ".join(f"{m} {f / f_grad / f_mm[m]:.2f}" for m in one))


def main() -> None:  # noqa: PLR0915
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=list(MODELS), default="mnist_mlp")
    ap.add_argument("--samples", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--probes", type=int, default=2)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--mode", choices=["forward", "reverse"], default="forward",
                    help="product mode of our operator in the SLQ comparison")
    ap.add_argument("--flops-only", action="store_true",
                    help="print the FLOP ratios of one batch and stop (no timings)")
    ap.add_argument("--columns", type=int, default=8,
                    help="columns K of the matmat whose FLOPs per column are counted (--flops-only)")
    ap.add_argument("--compile", action="store_true", help="also time compiled products and SLQ")
    args = ap.parse_args()
    device = pick_device(args.device)

    torch.manual_seed(0)
    shape, classes, cfg = MODELS[args.model]
    model = build(OmegaConf.create(cfg), shape, classes).float().eval().to(device)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(args.samples, int(np.prod(shape)), generator=gen).to(device)
    y = torch.randint(0, classes, (args.samples,), generator=gen).to(device)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=args.batch)
    batches = list(loader)
    ce = nn.CrossEntropyLoss()
    params = [p for p in model.parameters() if p.requires_grad]

    modes = {m: HessianOperator(model, ce, batches, mode=m) for m in ("forward", "reverse")}
    ours = modes[args.mode]
    p = ours.size
    v = torch.randn(p, dtype=torch.float64, generator=gen).to(device)
    mat8 = torch.randn(p, 8, dtype=torch.float64, device=device)

    def gradient(data: list = batches) -> list[torch.Tensor]:
        n = sum(len(a) for a, _ in data)
        return torch.autograd.grad(sum(ce(model(a), b) * len(a) / n for a, b in data), params)

    one = {m: HessianOperator(model, ce, batches[:1], mode=m, check_deterministic=False) for m in modes}
    f_grad = flops(lambda: gradient(batches[:1]))
    f_hvp = {m: flops(lambda op=op: op.matvec(v)) / f_grad for m, op in one.items()}
    if args.flops_only:
        print_flops(args, model, ce, params, batches[:1], one, f_grad, f_hvp)
        return
    f_mm8 = {m: flops(lambda op=op: op.matmat(mat8)) / 8 / f_grad for m, op in one.items()}
    gradient(), ours.gradient(), [op.matvec(v) for op in modes.values()]  # warm-up
    t_grad = min(timed(gradient)[0] for _ in range(3))
    t_fgrad = min(timed(ours.gradient)[0] for _ in range(3))
    t_hvps = {m: min(timed(lambda op=op: op.matvec(v))[0] for _ in range(3)) for m, op in modes.items()}
    t_mm8s = {m: min(timed(lambda op=op: op.matmat(mat8))[0] for _ in range(2)) for m, op in modes.items()}
    t_hvp = t_hvps[args.mode]

    import curvlinops
    from pyhessian import hessian as pyhessian_hessian

    torch.eig = torch_eig_shim  # the shim (see the module docstring)
    cl_op = curvlinops.HessianLinearOperator(model, ce, params, batches)
    cl = CurvlinopsAdapter(cl_op, device)
    t_cl_hvp = min(timed(lambda: cl.matvec(v))[0] for _ in range(3))

    t_ours, res_ours = timed(lambda: slq(ours, args.steps, args.probes, seed=0))
    t_cl, cl_res = timed(lambda: slq(cl, args.steps, args.probes, seed=0))
    pyh = pyhessian_hessian(model, ce, dataloader=batches, cuda=device.type == "cuda")
    t_pyh, (ev, w) = timed(lambda: pyh.density(iter=args.steps, n_v=args.probes))
    trace = hutchinson_trace(ours, num_probes=64, seed=123, batch=8)

    print(f"model {args.model}, P = {p}, N = {args.samples} in batches of {args.batch}, float32, "
          f"Lanczos steps {args.steps}, probes {args.probes}, our mode {args.mode}; "
          f"torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {platform.machine()}, device {device_name(device)}")
    print(f"  gradient (autograd)            {t_grad:8.3f} s")
    print(f"  gradient (torch.func, operator){t_fgrad:8.3f} s")
    for m in modes:
        print(f"  rmtloss HVP, {m:<8}          {t_hvps[m]:8.3f} s   HVP / gradient = "
              f"{t_hvps[m] / t_grad:.2f} (autograd), {t_hvps[m] / t_fgrad:.2f} (torch.func); "
              f"in flops {f_hvp[m]:.2f}")
        print(f"  rmtloss matmat, {m:<8} per column (8) {t_mm8s[m] / 8:8.3f} s   per-column / "
              f"gradient = {t_mm8s[m] / 8 / t_grad:.2f}; in flops {f_mm8[m]:.2f}")
    print(f"  curvlinops HVP                 {t_cl_hvp:8.3f} s   / ours = {t_cl_hvp / t_hvp:.2f}")
    print(f"{'SLQ density':<30}{'seconds':>10}{'time / ours':>13}{'mean':>12}{'2nd moment':>13}"
          f"{'max Ritz':>11}")
    for name, t, (m1, m2, top) in (
        ("rmtloss slq", t_ours, moments(res_ours.nodes, res_ours.weights)),
        ("PyHessian density (shim)", t_pyh, moments(np.array(ev), np.array(w))),
        ("curvlinops op + our Lanczos", t_cl, moments(cl_res.nodes, cl_res.weights)),
    ):
        print(f"{name:<30}{t:>10.2f}{t / t_ours:>13.2f}{m1:>12.3e}{m2:>13.3e}{top:>11.4f}")
    print(f"Hutchinson tr(H)/P (64 probes): {trace.estimate / p:.3e} +- {trace.stderr / p:.1e}")
    print(f"PyHessian / ours = {t_pyh / t_ours:.2f} (target >= 3); curvlinops / ours = "
          f"{t_cl / t_ours:.2f} (target >= 1); HVP / gradient = {t_hvp / t_grad:.2f} (target <= 2.5)")
    if args.compile:
        print_compiled(args, model, ce, batches, v, mat8, t_grad, t_hvps, t_mm8s, t_ours, t_pyh)


def print_compiled(args: argparse.Namespace, model: nn.Module, ce: nn.Module, batches: list,  # noqa: PLR0913
                   v: torch.Tensor, mat8: torch.Tensor, t_grad: float, t_hvps: dict, t_mm8s: dict,
                   t_ours: float, t_pyh: float) -> None:
    """The --compile block: compiled against eager products, compile time, break-even, SLQ."""
    print("compiled (torch.compile, inductor; first call = compile + compiled product + eager cross-check; "
          "every first call compiles from scratch: Dynamo reset, inductor's on-disk caches off)")
    import torch._inductor.config

    torch._inductor.config.force_disable_caches = True  # a user's first run: nothing compiled before
    shapes = {tuple(x.shape) for x, _ in batches}
    for m, t_eager in t_hvps.items():
        torch._dynamo.reset()
        op = HessianOperator(model, ce, batches, mode=m, check_deterministic=False, compile=True)
        t_first = timed(lambda op=op: op.matvec(v))[0]
        t_c = min(timed(lambda op=op: op.matvec(v))[0] for _ in range(3))
        t_first8 = timed(lambda op=op: op.matmat(mat8))[0]
        t_c8 = min(timed(lambda op=op: op.matmat(mat8))[0] for _ in range(2))
        compile_s = t_first - t_c - t_eager
        gain = t_eager - t_c
        # one product over the data = len(batches) per-batch calls (compile=auto counts those)
        pays = (f"{compile_s / gain:.0f} products over the data, {compile_s / gain * len(batches):.0f} "
                f"per-batch calls" if gain > 0 else "never (no gain)")
        print(f"  rmtloss HVP, {m:<8} compiled {t_c:8.3f} s   HVP / gradient = {t_c / t_grad:.2f} "
              f"(eager {t_eager / t_grad:.2f}); first call {t_first:.1f} s ({len(shapes)} batch shape(s)), "
              f"compilation about {compile_s:.1f} s, pays after {pays}")
        print(f"  rmtloss matmat, {m:<8} compiled per column (8) {t_c8 / 8:8.3f} s   per-column / gradient = "
              f"{t_c8 / 8 / t_grad:.2f} (eager {t_mm8s[m] / 8 / t_grad:.2f}); first call {t_first8:.1f} s")
    torch._dynamo.reset()
    op = HessianOperator(model, ce, batches, mode=args.mode, check_deterministic=False, compile=True)
    t_slq_first = timed(lambda: slq(op, args.steps, args.probes, seed=0))[0]
    t_slq = timed(lambda: slq(op, args.steps, args.probes, seed=0))[0]
    print(f"  rmtloss slq compiled ({args.mode}): {t_slq:.2f} s (eager {t_ours:.2f} s; with compilation "
          f"{t_slq_first:.2f} s); PyHessian / compiled = {t_pyh / t_slq:.2f}, with compilation "
          f"{t_pyh / t_slq_first:.2f} (target >= 3)")


if __name__ == "__main__":
    main()
