"""A finished training run as the later stages read it: its network rebuilt from a checkpoint with
its data, and seeded batches of its samples.

The spectra stage and the outliers stage both read runs through :func:`load_trained` and draw
their batches with :func:`batch_indices`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss.errors import InputError, UpstreamDiverged
from rmtloss.nets import data as data_mod
from rmtloss.nets import models


def batch_indices(n: int, size: int, count: int, seed: int) -> np.ndarray:
    """``count`` batches of ``size`` indices out of ``n``: slices of successive permutations.

    Batches are disjoint as long as ``size * count <= n``; after that a fresh permutation starts.
    """
    rng = np.random.default_rng(seed)
    per_pass = n // size
    perms = [rng.permutation(n)[: per_pass * size] for _ in range(-(-count // per_pass))]
    return np.concatenate(perms).reshape(-1, size)[:count]


def load_trained(
    run_dir: Path, checkpoint: str, dtype: torch.dtype, device: torch.device
) -> tuple[DictConfig, torch.nn.Module, data_mod.Dataset]:
    """Rebuild a trained network and its data from a finished ``train`` stage folder.

    Raises:
        UpstreamDiverged: the checkpoint is of a run whose loss became NaN or infinite.
    """
    cfg_path, ckpt_path = run_dir / "config.yaml", run_dir / f"checkpoint_{checkpoint}.pt"
    for p in (ckpt_path, cfg_path):
        if not p.is_file():
            raise InputError(f"missing {p}: run the train stage for {run_dir} first")
    train_cfg = OmegaConf.load(cfg_path)
    ds = data_mod.load(train_cfg.data)
    model = models.build(train_cfg.model, ds.input_shape, ds.num_classes)
    try:
        saved = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        state = saved["state_dict"]
    except Exception as exc:
        raise InputError(f"corrupt checkpoint {ckpt_path} ({exc}); re-train it: snakemake --cores all "
                         f"--forcerun {ckpt_path} (or delete {run_dir} and re-run)") from exc
    if saved.get("diverged"):
        raise UpstreamDiverged({"run": str(run_dir), "source": str(ckpt_path), **saved["diverged"]})
    bad = [k for k, v in state.items() if torch.is_floating_point(v) and not torch.isfinite(v).all()]
    if bad:
        raise InputError(f"checkpoint {ckpt_path} holds NaN or infinite weights in {', '.join(bad[:5])}; "
                         f"re-train it: snakemake --cores all --forcerun {ckpt_path} (or delete {run_dir} "
                         "and re-run)")
    model.load_state_dict(state)
    return train_cfg, model.to(device, dtype).eval(), ds.to(dtype, device)


def chunks(
    x: torch.Tensor, y: torch.Tensor, rows: np.ndarray, size: int
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The samples ``rows`` in consecutive mini-batches of at most ``size``."""
    sel = torch.as_tensor(rows, device=x.device)
    return [(x[sel[i : i + size]], y[sel[i : i + size]]) for i in range(0, len(sel), size)]

