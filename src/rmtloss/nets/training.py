"""Training: SGD with momentum, damped Adam or K-FAC (optionally with an RMT damping learner), the
authors' "linear" schedule, resumable state and divergence detection.

Settings follow the authors' ``GadamX/run_sgd.py``: momentum 0.9, weight decay 5e-4, and the
schedule of :func:`linear_schedule`. The train stage (:mod:`rmtloss.stages.train`) and the
optimiser sweeps (:mod:`rmtloss.stages.optimisers`) train through :func:`fit`.

Every ``train.checkpoint_every`` epochs :func:`fit` saves the whole training state (weights, the
optimizer's state with K-FAC's factors and their eigen-decompositions, the batch-order generator,
torch's RNG, the metrics so far, the damping learner) to its ``resume_path``, atomically; started
again with the same settings it continues from there and ends with the same numbers as an
uninterrupted run.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss._io import atomic_path
from rmtloss.errors import ConfigError, require
from rmtloss.nets import data as data_mod
from rmtloss.nets import models, optim
from rmtloss.nets.kfac import KFAC
from rmtloss.progress import track

log = logging.getLogger("rmtloss.train")


def linear_schedule(epoch: int, epochs: int, lr: float, final_ratio: float = 0.01) -> float:
    """The authors' "linear" schedule (``run_sgd.py::schedule``).

    With :math:`t = \\text{epoch}/\\text{epochs}`: factor 1 for :math:`t \\le 0.5`, then linear
    from 1 to ``final_ratio`` over :math:`t \\in [0.5, 0.9]`, then ``final_ratio``.
    """
    t = epoch / epochs
    if t <= 0.5:
        factor = 1.0
    elif t <= 0.9:
        factor = 1.0 - (1.0 - final_ratio) * (t - 0.5) / 0.4
    else:
        factor = final_ratio
    return lr * factor


class Diverged(ConfigError):
    """The training loss became NaN or infinite.

    Attributes:
        epoch: the epoch (1-based) in which it happened; loss: the value.
        initial, model, rows: the initial model, the model when it happened and the metrics of
            the finished epochs (what the train stage records; ``None`` where not given).
    """

    def __init__(
        self,
        epoch: int,
        loss: float,
        initial: torch.nn.Module | None = None,
        model: torch.nn.Module | None = None,
        rows: list | None = None,
    ) -> None:
        self.epoch, self.loss = epoch, loss
        self.initial, self.model, self.rows = initial, model, rows
        super().__init__(
            "optimizer.lr", f"training diverged in epoch {epoch} (loss {loss}); lower the learning rate"
        )


def validate(cfg: DictConfig, n_train: int) -> None:
    """Check the training settings against each other and the data, before any work (the ranges
    of single settings are the schema's, :class:`rmtloss.schema.TrainConfig`)."""
    optim.build_optimizer(cfg.optimizer, torch.nn.Linear(1, 1))  # checks the settings
    require(
        cfg.train.batch_size <= n_train,
        "train.batch_size",
        f"{cfg.train.batch_size} is larger than the {n_train} training samples of {cfg.data.name}; lower it",
    )


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    loss_fn,
    x: torch.Tensor,
    y: torch.Tensor,  # noqa: ANN001
    task: str,
) -> tuple[float, float]:
    """Mean loss and metric (accuracy for classification, MSE for regression)."""
    out = model(x)
    loss = float(loss_fn(out, y))
    metric = float((out.argmax(1) == y).double().mean()) if task == "classification" else loss
    return loss, metric


def save_checkpoint(
    path: Path, model: torch.nn.Module, epoch: int, cfg: DictConfig, diverged: dict | None = None
) -> None:
    """Save weights and the settings that rebuild the model, atomically.

    ``diverged`` (``{"epoch", "loss"}``) marks the weights of a run whose loss became NaN or
    infinite; the spectra stage records such a checkpoint as diverged instead of analysing it.
    """
    with atomic_path(path) as tmp:
        torch.save(
            {
                "state_dict": model.state_dict(),
                "epoch": epoch,
                "model": OmegaConf.to_container(cfg.model),
                "data": OmegaConf.to_container(cfg.data),
                "diverged": diverged,
            },
            tmp,
        )


RESUME = "resume.pt"


def _signature(cfg: DictConfig) -> str:
    """The settings a resumed run must share with the killed one (all but checkpointing)."""
    keep = {k: cfg[k] for k in ("model", "data", "optimizer")}
    keep["train"] = {
        k: v for k, v in cfg.train.items() if k not in ("checkpoint_every", "resume", "on_divergence")
    }
    return OmegaConf.to_yaml(OmegaConf.create(OmegaConf.to_container(DictConfig(keep), resolve=True)))


def _save_state(
    path: Path,
    epoch: int,
    model,
    opt,
    gen: torch.Generator,
    rows: list,
    cfg,  # noqa: ANN001
    learner: optim.DampingLearner | None = None,
) -> None:
    with atomic_path(path) as tmp:
        torch.save(
            {
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "rows": rows,
                "learner": learner.state_dict() if learner is not None else None,
                "signature": _signature(cfg),
            },
            tmp,
        )


def _load_state(path: Path | None, cfg: DictConfig) -> dict | None:
    """The saved training state in ``path`` if it exists and belongs to these settings."""
    if path is None or not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - a torn file cannot happen (atomic rename); be safe anyway
        log.warning("ignoring unreadable %s (%s); training from the start", path, exc)
        return None
    if state.get("signature") != _signature(cfg):
        log.warning("%s was written with other settings; training from the start", path)
        return None
    return state


def fit(
    cfg: DictConfig, ds: data_mod.Dataset, device: torch.device, resume_path: Path | None = None
) -> tuple[torch.nn.Module, torch.nn.Module, list[dict[str, float]]]:
    """Train; return the initial model, the trained model and per-epoch metrics.

    With ``resume_path`` the training state is saved there every ``train.checkpoint_every`` epochs
    and, when a state of the same settings is already there, training continues from it.
    """
    torch.manual_seed(int(cfg.train.seed))
    model = models.build(cfg.model, ds.input_shape, ds.num_classes).to(device)
    initial = models.build(cfg.model, ds.input_shape, ds.num_classes)
    initial.load_state_dict(model.state_dict())
    loss_fn = models.loss_function(ds.task)
    opt = optim.build_optimizer(cfg.optimizer, model, ds.task)
    learner = (
        optim.build_learner(cfg.optimizer, model, loss_fn, ds.x_train, ds.y_train)
        if optim.learner_enabled(cfg.optimizer)
        else None
    )
    gen = torch.Generator().manual_seed(int(cfg.train.seed))
    epochs, bs = int(cfg.train.epochs), int(cfg.train.batch_size)
    every = int(cfg.train.checkpoint_every)
    state = _load_state(resume_path, cfg) if cfg.train.resume else None
    if state is None:
        rows, first = [_row(0, float("nan"), model, loss_fn, ds, optim.damping_of(opt))], 0
        if learner is not None:
            learner.start(opt)  # the authors' gap learner updates at step 0, before the first step
    else:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if learner is not None:
            learner.load_state_dict(state["learner"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        rows, first = state["rows"], int(state["epoch"])
        log.info("resuming from epoch %d of %d (%s)", first, epochs, resume_path)
    desc = f"train {OmegaConf.select(cfg, 'model.name', default='model')} on " \
           f"{OmegaConf.select(cfg, 'data.name', default='data')}"
    for epoch in track(range(first, epochs), epochs - first, desc, "epoch"):
        lr = (
            linear_schedule(epoch, epochs, cfg.optimizer.lr)
            if cfg.train.schedule == "linear"
            else float(cfg.optimizer.lr)
        )
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        perm = torch.randperm(len(ds.x_train), generator=gen).to(device)
        for start in range(0, len(perm), bs):
            idx = perm[start : start + bs]
            x_b, y_b = ds.x_train[idx], ds.y_train[idx]
            loss = loss_fn(model(x_b), y_b)
            if not math.isfinite(value := float(loss.detach())):
                raise Diverged(epoch + 1, value, initial, model, rows)
            if isinstance(opt, KFAC):
                opt.observe(x_b, y_b)  # the Kronecker factors, when due
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if learner is not None:
                learner.after_step(opt)
        model.eval()
        rows.append(_row(epoch + 1, lr, model, loss_fn, ds, optim.damping_of(opt)))
        if resume_path is not None and every > 0 and (epoch + 1) % every == 0 and epoch + 1 < epochs:
            _save_state(resume_path, epoch + 1, model, opt, gen, rows, cfg, learner)
    return initial, model, rows


def _row(
    epoch: int,
    lr: float,
    model: torch.nn.Module,
    loss_fn,
    ds: data_mod.Dataset,  # noqa: ANN001
    damping: float,
) -> dict[str, float]:
    tr = evaluate(model, loss_fn, ds.x_train, ds.y_train, ds.task)
    te = evaluate(model, loss_fn, ds.x_test, ds.y_test, ds.task)
    return {
        "epoch": epoch,
        "lr": lr,
        "train_loss": tr[0],
        "train_metric": tr[1],
        "test_loss": te[0],
        "test_metric": te[1],
        "damping": damping,
    }


def metrics_csv(rows: list[dict[str, float]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
