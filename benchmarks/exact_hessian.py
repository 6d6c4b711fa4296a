"""Benchmark: our exact Hessian against the authors' row-by-row method, in one process.

    python benchmarks/exact_hessian.py [--repeats 3] [--batch 64] [--dtype float64]

On the digits MLP 64 -> 10 -> 30 -> 10 (P = 1290) and one batch of the digits train split it times

* ``rmtloss.hessian.exact_hessian``: Hessian-vector products (forward-over-reverse) vmapped over
  the identity, one vectorised call;
* the authors' method (``GadamX/rmt/get_exact_hessian_spectra.py``): the gradient with
  ``create_graph=True``, then one backward pass per parameter (P passes);
* ``torch.func.hessian`` (jacfwd of jacrev), for reference;

checks that the three agree and prints the best-of-``repeats`` wall times and their ratios. This is
a script, not a test: timings depend on the machine and are never asserted.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from torch import nn

from rmtloss.hessian import exact_hessian, flat_params, functional_loss
from rmtloss.nets.data import load
from rmtloss.nets.models import mlp


def row_by_row(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The authors' exact Hessian: one backward pass of the gradient per parameter."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = nn.functional.cross_entropy(model(x), y)
    grads = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params, create_graph=True)])
    rows = []
    for i in range(grads.numel()):
        row = torch.autograd.grad(grads[i], params, retain_graph=True)
        rows.append(torch.cat([r.reshape(-1) for r in row]))
    return torch.stack(rows)


def func_hessian(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``torch.func.hessian`` of the flat-parameter loss."""
    loss = functional_loss(model, nn.functional.cross_entropy)
    return torch.func.hessian(loss)(flat_params(model), x, y)


def best_time(fn, repeats: int) -> tuple[float, torch.Tensor]:  # noqa: ANN001
    """Best wall time of ``repeats`` calls (after one warm-up) and the last result."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    """Run the comparison and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    from omegaconf import OmegaConf

    ds = load(OmegaConf.create({"name": "digits", "test_size": 500, "split_seed": 0,
                                "standardise": True})).to(dtype)
    torch.manual_seed(0)
    model = mlp([64, 10, 30, 10]).to(dtype)
    x, y = ds.x_train[: args.batch], ds.y_train[: args.batch]
    p = flat_params(model).numel()

    t_ours, h_ours = best_time(lambda: exact_hessian(model, nn.functional.cross_entropy, [(x, y)]),
                               args.repeats)
    t_rows, h_rows = best_time(lambda: row_by_row(model, x, y), args.repeats)
    t_func, h_func = best_time(lambda: func_hessian(model, x, y), args.repeats)
    scale = h_ours.abs().max()
    err_rows = float((h_ours - (h_rows + h_rows.T) / 2).abs().max() / scale)
    err_func = float((h_ours - (h_func + h_func.T) / 2).abs().max() / scale)

    print(f"exact Hessian, digits MLP 64-10-30-10, P = {p}, batch = {args.batch}, {args.dtype}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}")
    print(f"{'method':<38}{'best s':>10}{'ratio':>10}{'max rel diff':>16}")
    print(f"{'rmtloss exact_hessian (vmap HVPs)':<38}{t_ours:>10.3f}{1.0:>10.2f}{0.0:>16.1e}")
    print(f"{'torch.func.hessian (jacfwd(jacrev))':<38}{t_func:>10.3f}{t_func / t_ours:>10.2f}"
          f"{err_func:>16.1e}")
    print(f"{'authors row by row (P backward passes)':<38}{t_rows:>10.3f}{t_rows / t_ours:>10.2f}"
          f"{err_rows:>16.1e}")
    print(f"speed-up over the authors' method: {t_rows / t_ours:.1f}x (target >= 15x)")


if __name__ == "__main__":
    main()
