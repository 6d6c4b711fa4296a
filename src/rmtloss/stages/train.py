"""Stage ``train``: SGD with momentum or damped Adam (optionally with the RMT damping learner) and
the authors' "linear" schedule.

``python -m rmtloss.train model=mlp data=digits optimizer.lr=0.05 train.epochs=150``

Writes ``checkpoint_init.pt`` (the weights before any step), ``checkpoint_final.pt`` and
``metrics.csv`` (one row per epoch, epoch 0 being the initialisation) into ``hydra.run.dir``.

Every ``train.checkpoint_every`` epochs the whole training state (weights, optimizer momentum, the
batch-order generator, torch's RNG, the metrics so far) goes to ``resume.pt``, written to a
temporary file and renamed. A killed run started again with the same settings continues from
there and ends with the same numbers as an uninterrupted one; ``resume.pt`` is removed when the
run finishes. Different settings in the same folder start afresh (with a warning).
``optimizer=adam`` trains with :class:`rmtloss.nets.optim.DampedAdam` (``optimizer.eps``,
``optimizer.shrinkage``)
and, with ``optimizer.learner.enabled=true``, the RMT damping learner starting from
``optimizer.eps``; its state is saved in ``resume.pt`` too. A loss that becomes NaN or infinite
stops the run with :class:`rmtloss.nets.training.Diverged` (the epoch and the loss). With
``train.on_divergence=record``
(the default) the stage still writes its outputs: ``metrics.csv`` ends with a row of the diverged
epoch (its loss, NaN metrics) and ``checkpoint_final.pt`` carries ``diverged`` with the epoch and
loss, which the later stages record instead of analysing; ``stop`` ends with an error naming the
learning rate. The sweeps record diverged runs themselves.
Settings follow the authors' ``GadamX/run_sgd.py``: momentum 0.9, weight
decay 5e-4, batch size 64 here (128 there), and the schedule of :func:`linear_schedule`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch
from omegaconf import DictConfig

from rmtloss._io import write_text
from rmtloss.nets import data as data_mod
from rmtloss.nets.training import RESUME, Diverged, fit, metrics_csv, save_checkpoint, validate
from rmtloss.stage import resolve_device, stage

log = logging.getLogger("rmtloss.train")


def work(cfg: DictConfig, out_dir: Path) -> tuple[int, str]:
    """Load data, validate, train, write checkpoints and metrics."""
    device = resolve_device(cfg.device)
    ds = data_mod.load(cfg.data)
    validate(cfg, len(ds.x_train))
    ds = ds.to(torch.float32, device)
    try:
        initial, model, rows = fit(cfg, ds, device, out_dir / RESUME)
        diverged = None
    except Diverged as exc:
        if cfg.train.on_divergence == "stop":
            raise
        log.warning("%s; recording the run as diverged (train.on_divergence=record)", exc)
        initial, model, rows = exc.initial, exc.model, exc.rows
        diverged = {"epoch": exc.epoch, "loss": exc.loss}
        rows = [*rows, {**dict.fromkeys(rows[0], math.nan), "epoch": exc.epoch, "train_loss": exc.loss}]
    final = rows[-1]
    log.info("trained %s on %s: train metric %.4f, test metric %.4f", cfg.model.name,
             cfg.data.name, final["train_metric"], final["test_metric"])
    save_checkpoint(out_dir / "checkpoint_init.pt", initial, 0, cfg)
    write_text(out_dir / "metrics.csv", metrics_csv(rows))
    save_checkpoint(out_dir / "checkpoint_final.pt", model.cpu(), int(final["epoch"]), cfg, diverged)
    (out_dir / RESUME).unlink(missing_ok=True)
    return int(cfg.train.seed), str(device)


main = stage("train", "train", work)

if __name__ == "__main__":
    main()
