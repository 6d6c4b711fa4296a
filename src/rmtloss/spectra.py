"""Stage ``spectra``: eigenvalues of exact curvature matrices of a trained network.

``python -m rmtloss.spectra run_dir=results/quick/runs/mlp/train checkpoint=final matrix=hessian``

For ``batch.count`` batches of ``batch.size`` samples of a split (or, with ``batch.full=true``, the
whole split once) it builds the exact Hessian (or GGN) of the mean loss in float64 with
:mod:`rmtloss.hessian`, symmetrises it and keeps all P eigenvalues. Batches are disjoint within a
pass over the split: they are consecutive slices of seeded permutations.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss import data as data_mod
from rmtloss import models
from rmtloss.errors import InputError, require
from rmtloss.hessian import exact_ggn, exact_hessian
from rmtloss.results import ExactSpectra
from rmtloss.stage import resolve_device, stage

log = logging.getLogger("rmtloss.spectra")

def batch_indices(n: int, size: int, count: int, seed: int) -> np.ndarray:
    """``count`` batches of ``size`` indices out of ``n``: slices of successive permutations.

    Batches are disjoint as long as ``size * count <= n``; after that a fresh permutation starts.
    """
    rng = np.random.default_rng(seed)
    per_pass = n // size
    perms = [rng.permutation(n)[: per_pass * size] for _ in range(-(-count // per_pass))]
    return np.concatenate(perms).reshape(-1, size)[:count]


def load_trained(run_dir: Path, checkpoint: str, dtype: torch.dtype, device: torch.device
                 ) -> tuple[DictConfig, torch.nn.Module, data_mod.Dataset]:
    """Rebuild a trained network and its data from a finished ``train`` stage folder."""
    cfg_path, ckpt_path = run_dir / "config.yaml", run_dir / f"checkpoint_{checkpoint}.pt"
    for p in (ckpt_path, cfg_path):
        if not p.is_file():
            raise InputError(f"missing {p}: run the train stage for {run_dir} first")
    train_cfg = OmegaConf.load(cfg_path)
    ds = data_mod.load(train_cfg.data)
    model = models.build(train_cfg.model, ds.num_features, ds.num_classes)
    try:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as exc:
        raise InputError(f"corrupt checkpoint {ckpt_path} ({exc}); re-run train") from exc
    model.load_state_dict(state)
    return train_cfg, model.to(device, dtype).eval(), ds.to(dtype, device)


def validate(cfg: DictConfig) -> None:
    """Check the spectra settings before any work."""
    require(cfg.method == "exact", "method",
            f"'{cfg.method}' is not implemented yet (Hessian-engine issue); use exact")
    require(cfg.matrix in ("hessian", "ggn"), "matrix",
            f"unknown matrix '{cfg.matrix}'; use hessian or ggn")
    require(cfg.checkpoint in ("init", "final"), "checkpoint",
            f"unknown checkpoint '{cfg.checkpoint}'; use init or final")
    require(cfg.split in ("train", "test"), "split", f"unknown split '{cfg.split}'")
    require(cfg.batch.size > 0, "batch.size", f"must be > 0 (got {cfg.batch.size})")
    require(cfg.batch.count > 0, "batch.count", f"must be > 0 (got {cfg.batch.count})")


def work(cfg: DictConfig, out_dir: Path) -> tuple[int, str]:
    """Compute and save the spectra."""
    validate(cfg)
    device = resolve_device(cfg.device)
    train_cfg, model, ds = load_trained(Path(cfg.run_dir), cfg.checkpoint, torch.float64, device)
    x, y = ds.split(cfg.split)
    if cfg.batch.full:
        idx = np.arange(len(x))[None, :]
    else:
        require(cfg.batch.size <= len(x), "batch.size",
                f"{cfg.batch.size} is larger than the {len(x)} samples of the {cfg.split} split")
        idx = batch_indices(len(x), int(cfg.batch.size), int(cfg.batch.count), int(cfg.batch.seed))
    loss_fn = models.loss_function(ds.task)
    evals, secs = [], []
    for rows in idx:
        t0 = time.perf_counter()
        sel = torch.as_tensor(rows, device=x.device)
        batch = [(x[sel], y[sel])]
        mat = (exact_hessian(model, loss_fn, batch, chunk_size=cfg.chunk_size)
               if cfg.matrix == "hessian" else exact_ggn(model, loss_fn, batch))
        evals.append(torch.linalg.eigvalsh(mat).cpu().numpy())
        secs.append(time.perf_counter() - t0)
    result = ExactSpectra(
        eigenvalues=np.stack(evals), batch_indices=np.empty((0, 0), int) if cfg.batch.full else idx,
        seconds=np.asarray(secs), run=str(cfg.run_name), model=train_cfg.model.name,
        data=train_cfg.data.name, task=ds.task, checkpoint=cfg.checkpoint, matrix=cfg.matrix,
        split=cfg.split, num_classes=ds.num_classes, batch_size=int(idx.shape[1]),
        full=bool(cfg.batch.full), seed=int(cfg.batch.seed))
    result.save(out_dir / "eigenvalues.npz")
    log.info("%d spectra of P=%d in %.1f s (%.2f s each)", len(evals), result.num_params,
             sum(secs), float(np.mean(secs)))
    return int(cfg.batch.seed), str(device)


main = stage("spectra", "spectra", work)

if __name__ == "__main__":
    main()
