"""Stage ``spectra``: eigenvalues of exact curvature matrices of a trained network.

``python -m rmtloss.spectra run_dir=results/quick/runs/mlp/train checkpoint=final matrix=hessian``

For ``batch.count`` batches of ``batch.size`` samples of a split (or, with ``batch.full=true``, the
whole split once, taken in mini-batches of ``batch.size``) it computes, with ``method``:

* ``exact``: the dense Hessian (or GGN) of the mean loss in ``dtype`` (float64; float32 emulates the
  authors' pipeline, whose exact ties at 0 made their "spike at 0"), symmetrised, and all P
  eigenvalues, computed in that precision (``eigenvalues.npz``);
* ``lanczos``: one Lanczos run of ``lanczos.num_steps`` on the operator: Ritz values, weights,
  residuals (``lanczos.npz``);
* ``slq``: stochastic Lanczos quadrature from ``lanczos.num_probes`` probes (``slq.npz``);
* ``topk``: the ``lanczos.k`` extreme eigenvalues with recomputed residuals (``topk.npz``).

Operator methods run in ``dtype`` on ``device`` (CUDA when available); Lanczos itself is float64.
Batches are disjoint within a pass over the split: consecutive slices of seeded permutations.

Data-parallel (operator methods): ``torchrun --nproc-per-node R -m rmtloss.spectra ...`` (or
``srun`` with R tasks) splits the samples of each batch over the R ranks
(:mod:`rmtloss.hessian.distributed`: each rank's products on its shard, one ``all_reduce`` per
product, one GPU per rank); every rank runs the same Lanczos and only rank 0 writes. Exact spectra
are dense per batch and refuse a multi-process launch.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from rmtloss._io import write_npz
from rmtloss.errors import require
from rmtloss.hessian import (
    GGNOperator,
    HessianOperator,
    compile_wanted,
    distributed,
    exact_matrix,
    lanczos,
    slq,
    top_eigenpairs,
)
from rmtloss.nets import models
from rmtloss.nets.runs import batch_indices, chunks, load_trained
from rmtloss.progress import track
from rmtloss.results import ExactSpectra, save_diverged
from rmtloss.stage import is_writer, resolve_device, stage

log = logging.getLogger("rmtloss.spectra")

def _exact(cfg: DictConfig, model: torch.nn.Module, loss_fn, data) -> np.ndarray:  # noqa: ANN001
    mat = exact_matrix(model, loss_fn, data, cfg.matrix, chunk_size=cfg.chunk_size)
    return torch.linalg.eigvalsh(mat).cpu().numpy().astype(np.float64)


def _iterative(cfg: DictConfig, model: torch.nn.Module, loss_fn, data, group=None,  # noqa: ANN001
               compile: bool = False) -> object:  # noqa: A002 - the setting's name
    kw = {"bn_mode": cfg.bn_mode, "chunk_size": cfg.chunk_size, "process_group": group, "compile": compile}
    op = (HessianOperator(model, loss_fn, data, mode=cfg.hvp, **kw) if cfg.matrix == "hessian"
          else GGNOperator(model, loss_fn, data, **kw))
    lz = cfg.lanczos
    if cfg.method == "lanczos":
        return lanczos(op, lz.num_steps, lz.seed, tol=lz.tol)
    if cfg.method == "slq":
        return slq(op, lz.num_steps, lz.num_probes, lz.seed)
    res = top_eigenpairs(op, lz.k, lz.num_steps, lz.seed, which=lz.which, tol=lz.tol)
    return dataclasses.replace(res, vectors=np.empty((0, 0)))  # P-long vectors are not kept


def _compile(cfg: DictConfig, idx: np.ndarray, group) -> bool:  # noqa: ANN001
    """``cfg.compile`` resolved (:func:`~rmtloss.hessian.compile_wanted`) for this job's per-batch
    products: Lanczos steps x this rank's batches per product x the spectra (one graph serves them all)."""
    rows, size = len(distributed.my_rows(idx[0], group)), int(cfg.batch.size)
    calls = int(cfg.lanczos.num_steps) * -(-rows // size) * len(idx)
    columns = int(cfg.lanczos.num_probes) if cfg.method == "slq" else 1
    shapes = 1 if rows <= size or rows % size == 0 else 2  # an uneven last batch: its own graph
    wanted = compile_wanted(cfg.compile, calls, columns, shapes)
    log.info("compile=%s: %d per-batch products of %d vector(s), %d batch shape(s) planned: %s", cfg.compile,
             calls, columns, shapes, "compiled" if wanted else "eager")
    return wanted


def _stack(results: list[object]) -> dict[str, np.ndarray]:
    """Stack the fields of per-batch result dataclasses along a leading batch axis."""
    out = {}
    for field in dataclasses.fields(results[0]):
        vals = [np.asarray(getattr(r, field.name)) for r in results]
        width = max((v.shape[-1] if v.ndim else 0) for v in vals)
        if vals[0].ndim == 1 and any(v.shape != vals[0].shape for v in vals):  # early stops
            vals = [np.pad(v.astype(float), (0, width - len(v)), constant_values=np.nan) for v in vals]
        out[field.name] = np.stack(vals)
    return out


def work(cfg: DictConfig, out_dir: Path) -> tuple[int, str]:
    """Compute and save the spectra (exact eigenvalues, or Lanczos / SLQ / top-k results)."""
    device = distributed.local_device(resolve_device(cfg.device))
    group = distributed.init_from_env(device)
    require(group is None or cfg.method != "exact", "method",
            "exact spectra are dense per batch and run in one process: launch without torchrun/srun, "
            "or use method=lanczos|slq|topk")
    dtype = getattr(torch, cfg.dtype)
    train_cfg, model, ds = load_trained(Path(cfg.run_dir), cfg.checkpoint, dtype, device)
    x, y = ds.split(cfg.split)
    if cfg.batch.full:
        idx = np.arange(len(x))[None, :]
    else:
        require(cfg.batch.size <= len(x), "batch.size",
                f"{cfg.batch.size} is larger than the {len(x)} samples of the {cfg.split} split")
        idx = batch_indices(len(x), int(cfg.batch.size), int(cfg.batch.count), int(cfg.batch.seed))
    loss_fn = models.loss_function(ds.task)
    compiled = cfg.method != "exact" and _compile(cfg, idx, group)
    results, secs = [], []
    for rows in track(idx, len(idx), f"spectra {cfg.method} {cfg.matrix}", "batch", min_interval=0.0):
        t0 = time.perf_counter()
        if cfg.method == "exact":
            results.append(_exact(cfg, model, loss_fn, chunks(x, y, rows, int(cfg.batch.size))))
        else:  # this rank's shard of the batch's samples (all of them in one process)
            data = chunks(x, y, distributed.my_rows(rows, group), int(cfg.batch.size))
            results.append(_iterative(cfg, model, loss_fn, data, group, compiled))
        secs.append(time.perf_counter() - t0)
    meta = dict(batch_indices=np.empty((0, 0), int) if cfg.batch.full else idx,
                seconds=np.asarray(secs), run=str(cfg.run_name), model=train_cfg.model.name,
                data=train_cfg.data.name, task=ds.task, checkpoint=cfg.checkpoint,
                matrix=cfg.matrix, split=cfg.split, num_classes=ds.num_classes,
                batch_size=int(idx.shape[1]), full=bool(cfg.batch.full), seed=int(cfg.batch.seed))
    if cfg.method == "exact":
        meta["dtype"] = str(cfg.dtype)
    else:
        meta["ranks"], meta["compiled"] = distributed.rank_world(group)[1], compiled
    if not is_writer():
        return int(cfg.batch.seed), str(device)
    if cfg.method == "exact":
        ExactSpectra(eigenvalues=np.stack(results), **meta).save(out_dir / "eigenvalues.npz")
    else:
        meta["batch_seed"] = meta.pop("seed")  # "seed" is the Lanczos seed of each result
        write_npz(out_dir / f"{cfg.method}.npz", method=np.asarray(cfg.method),
                  num_params=np.asarray(sum(p.numel() for p in model.parameters())),
                  **{k: np.asarray(v) for k, v in meta.items()}, **_stack(results))
    log.info("%s: %d %s of %s in %.1f s (%.2f s each) on %s", cfg.method, len(results),
             cfg.matrix, cfg.split, sum(secs), float(np.mean(secs)), device)
    return int(cfg.batch.seed), str(device)


def write_diverged(cfg: DictConfig, out_dir: Path, record: dict) -> None:
    """The output of a diverged run: the spectra file holds only the divergence record."""
    name = "eigenvalues" if cfg.method == "exact" else cfg.method
    save_diverged(out_dir / f"{name}.npz", {**record, "run": str(cfg.run_name)})


main = stage("spectra", "spectra", work, diverged=write_diverged)

if __name__ == "__main__":
    main()
