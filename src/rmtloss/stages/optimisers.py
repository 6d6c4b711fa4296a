"""Stage ``optimisers``: damping as shrinkage, Adam's ε against SGD, the RMT damping learner, the
noisy quadratic model and training budgets (Granziol & Baskerville 2022,
arXiv 2011.08181; training budgets: Baskerville, Granziol, Keating 2022, arXiv 2102.06740).

``python -m rmtloss.optimisers task=epsilon_sweep|damping_learner|shrinkage_noise|exp_returns
setting=<name> [model=... data=... overrides]``

* ``epsilon_sweep``: Adam (:class:`rmtloss.nets.optim.DampedAdam`, learning rate × (1 + ε)) at each ε of
  ``epsilons`` against SGD, the paper's comparison of tuned optimisers (Section 5): each ε gets its
  own Adam learning rate (grid ``tuning.adam_lrs``) and SGD its own (grid ``sgd.lrs``), each chosen
  by the mean final error on a validation split (``tuning.validation`` of the training data, seeds
  ``tuning.seeds``; never the test split), a grid widened beyond an edge until the choice is
  interior (``tuning.widen``). The chosen rates are then trained on the whole training split for
  every seed of ``seeds``; their final test errors are the record.
* ``damping_learner``: the damped optimiser (``optimizer=adam``, or ``optimizer=kfac``) with its RMT
  damping learner (``optimizer.learner.variant``: the damping-gap or the linear-shrinkage learner)
  started from each initial damping of ``learner_deltas`` against the same optimiser with that damping
  fixed. The arms' ``eps`` is the initial damping (Adam's ε, K-FAC's λ).
* ``shrinkage_noise``: the noisy quadratic model (:mod:`rmtloss.nets.nqm`) at each ε of ``epsilons``.
* ``exp_returns``: SGD with the linear schedule for each budget of ``exp_returns.budgets`` epochs
  and each seed of ``exp_returns.seeds``; the best test error per budget (mean over seeds), its
  fit a + b exp(c t) (``scipy.optimize.curve_fit``, the authors' p0 = (0.2, 0.1, -0.1)) and the
  power law a + b t^(-k) on the same points.

Each training run (arm and seed) is written to ``arms/<arm>_s<seed>.json`` as soon as it ends and
is not trained again when the job is restarted; a run in progress resumes from its ``resume.pt``
(``train.checkpoint_every``). A run whose loss becomes NaN or infinite is recorded as diverged
(with its epoch) and left out of the means, which say how many runs diverged.

``stats.json`` holds the numbers the claims ledger decides on (final test errors per seed, their
mean and standard error, the SGD grid, the fit). ``samples.npz`` holds the curves the figures
draw: ``test_error.<arm>``, ``train_loss.<arm>`` and ``damping.<arm>`` as (seeds, epochs + 1)
arrays (column 0 is the initialisation; a diverged run's row is NaN), and for ``shrinkage_noise``
``eps``, the model's ``spectrum``, the mean ``loss_curve`` per ε (ε, T + 1) and the per-sample
``final_loss``, ``flat`` and ``sharp`` displacements (ε, samples).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss._io import read_json, write_json
from rmtloss.errors import require
from rmtloss.fits import returns_fits
from rmtloss.nets import data as data_mod
from rmtloss.nets import models, nqm, training
from rmtloss.stage import resolve_device, stage, task_runner, write_record

log = logging.getLogger("rmtloss.optimisers")


def _mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (NaN for no value; s.e. 0 for one)."""
    v = np.asarray([x for x in values if math.isfinite(x)], float)
    if len(v) == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0


CURVES = ("test_error", "train_loss", "damping")
"""Per-epoch records of a training run, written to ``samples.npz`` as ``<curve>.<arm>``."""


def curves(rows: list[list[float]]) -> np.ndarray:
    """Stack per-seed curves into a (seeds, epochs) array, NaN-padded where a run diverged early."""
    out = np.full((len(rows), max((len(r) for r in rows), default=0)), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


class Sweep:
    """The training runs of one job: data loaded once, each (arm, seed) trained or read back."""

    def __init__(self, cfg: DictConfig, out_dir: Path) -> None:
        self.cfg, self.arms_dir = cfg, out_dir / "arms"
        self.arms_dir.mkdir(parents=True, exist_ok=True)
        self.device = resolve_device(cfg.device)
        ds = data_mod.load(cfg.data)
        self.n_train = len(ds.x_train)
        self.ds = ds.to(torch.float32, self.device)
        self._val: data_mod.Dataset | None = None
        self.num_params = models.num_params(models.build(cfg.model, ds.input_shape, ds.num_classes))
        self.samples: dict[str, np.ndarray] = {}

    def train_cfg(self, optimizer: dict, seed: int, epochs: int | None = None) -> DictConfig:
        """The train-stage config of one run."""
        cfg = self.cfg
        tcfg = OmegaConf.create(
            {
                "model": OmegaConf.to_container(cfg.model, resolve=True),
                "data": OmegaConf.to_container(cfg.data, resolve=True),
                "optimizer": optimizer,
                "train": {**OmegaConf.to_container(cfg.train, resolve=True), "seed": seed},
            }
        )
        if epochs is not None:
            tcfg.train.epochs = epochs
        training.validate(tcfg, self.n_train)
        return tcfg

    @property
    def validation(self) -> data_mod.Dataset:
        """The tuning view of the data: ``tuning.validation`` of the train split held out as its
        "test" split (:meth:`rmtloss.nets.data.Dataset.holdout`)."""
        if self._val is None:
            t = self.cfg.tuning
            self._val = self.ds.holdout(float(t.validation), int(t.split_seed))
        return self._val

    def run(
        self, arm: str, optimizer: dict, seed: int, epochs: int | None = None, tune: bool = False
    ) -> dict:
        """Train one run (or read its finished record): per-epoch test error and damping. With
        ``tune`` the run trains on the train split less the validation part and its "test error" is
        the validation error (:attr:`validation`)."""
        tcfg = self.train_cfg(optimizer, seed, epochs)
        path = self.arms_dir / f"{arm}_s{seed}.json"
        settings = OmegaConf.to_container(tcfg)
        if tune:
            settings["validation"] = OmegaConf.to_container(self.cfg.tuning, resolve=True)
        if path.is_file():
            rec = read_json(path)
            if rec.get("settings") == settings:
                return rec
        resume = self.arms_dir / f"{arm}_s{seed}.resume.pt"
        try:
            _, _, rows = training.fit(tcfg, self.validation if tune else self.ds, self.device, resume)
            rec = {
                "diverged": False,
                "test_error": [1 - r["test_metric"] for r in rows],
                "train_loss": [r["train_loss"] for r in rows],
                "damping": [r["damping"] for r in rows],
            }
        except training.Diverged as exc:
            log.warning("%s seed %d diverged in epoch %d (loss %s)", arm, seed, exc.epoch, exc.loss)
            rec = {"diverged": True, "epoch": exc.epoch, "test_error": [], "train_loss": [], "damping": []}
        rec.update(arm=arm, seed=seed, settings=settings)
        write_json(path, rec)
        resume.unlink(missing_ok=True)
        log.info(
            "%s seed %d: final test error %s",
            arm,
            seed,
            "diverged" if rec["diverged"] else f"{rec['test_error'][-1]:.4f}",
        )
        return rec

    def arm(self, arm: str, optimizer: dict, **extra: float) -> dict:
        """Every seed of one arm: its summary (mean ± s.e. of the final test error) in the returned
        record, its curves (seeds × epochs, NaN after a divergence) in :attr:`samples`."""
        runs = [self.run(arm, optimizer, int(s)) for s in self.cfg.seeds]
        ok = [r for r in runs if not r["diverged"]]
        mean, se = _mean_se([r["test_error"][-1] for r in ok])
        self.keep(arm, runs)
        return {
            "arm": arm,
            **extra,
            "final": [r["test_error"][-1] if not r["diverged"] else None for r in runs],
            "mean": mean,
            "se": se,
            "diverged": len(runs) - len(ok),
        }

    def keep(self, arm: str, runs: list[dict]) -> None:
        """Put the curves of ``runs`` (one per seed) into :attr:`samples` as ``<curve>.<arm>``."""
        for key in CURVES:
            self.samples[f"{key}.{arm}"] = curves([r[key] for r in runs])

    def tune(self, name: str, optimizer: Callable[[float], dict], lrs: list[float]) -> dict:
        """Choose a learning rate on the validation split: the grid point with the lowest mean final
        validation error over ``tuning.seeds`` (a diverged run counts as worst).

        While the best rate sits at an edge of the grid, the grid is extended beyond that edge by
        its end ratio, at most ``tuning.widen`` times; ``interior`` says whether the choice ended
        inside the grid (the protocol of CLAIMS.md's ``epsilon-closes-gap`` requires it).
        """
        t = self.cfg.tuning
        grid, seen = sorted(float(x) for x in lrs), {}
        for step in range(int(t.widen) + 1):
            for lr in grid:
                if lr not in seen:
                    runs = [
                        self.run(f"tune_{name}_lr{lr:g}", optimizer(lr), int(s), tune=True) for s in t.seeds
                    ]
                    mean, se = _mean_se([r["test_error"][-1] for r in runs if not r["diverged"]])
                    seen[lr] = {
                        "lr": lr,
                        "val_mean": mean,
                        "val_se": se,
                        "diverged": sum(r["diverged"] for r in runs),
                    }
            errs = [seen[lr]["val_mean"] if math.isfinite(seen[lr]["val_mean"]) else math.inf for lr in grid]
            best = int(np.argmin(errs))
            at_edge = len(grid) < 2 or best in (0, len(grid) - 1)
            if not at_edge or len(grid) < 2 or step == int(t.widen) or not math.isfinite(errs[best]):
                break
            grid = [grid[0] ** 2 / grid[1]] + grid if best == 0 else grid + [grid[-1] ** 2 / grid[-2]]
        require(math.isfinite(errs[best]), "tuning", f"{name} diverged at every learning rate of {grid}")
        return {
            "lr": grid[best],
            "interior": not at_edge,
            "widened": len(grid) - len(lrs),
            "grid": [seen[lr] for lr in grid],
        }

    def sgd_optimizer(self, lr: float) -> dict:
        """SGD (momentum and weight decay of ``sgd``) at learning rate ``lr``."""
        sgd = self.cfg.sgd
        return {
            "name": "sgd",
            "lr": float(lr),
            "momentum": float(sgd.momentum),
            "weight_decay": float(sgd.weight_decay),
        }

    def damped_optimizer(self, eps: float, lr: float | None = None, learner: bool = False) -> dict:
        """The configured damped optimiser (Adam, or K-FAC with ``optimizer=kfac``) at damping ``eps``
        (Adam's ε, K-FAC's λ; the start of the learner), learning rate ``lr`` (default
        ``optimizer.lr``), with or without the damping learner."""
        opt = OmegaConf.to_container(self.cfg.optimizer, resolve=True)
        opt["eps" if opt["name"] == "adam" else "damping"] = float(eps)
        opt["learner"]["enabled"] = learner
        if lr is not None:
            opt["lr"] = float(lr)
        return opt

    def sgd(self) -> dict:
        """SGD at its learning rate tuned on the validation split from ``sgd.lrs``, every seed."""
        tuned = self.tune("sgd", self.sgd_optimizer, list(self.cfg.sgd.lrs))
        return {**self.arm("sgd", self.sgd_optimizer(tuned["lr"]), lr=tuned["lr"]), "tuning": tuned}

    def tuned_adam(self, eps: float) -> dict:
        """Adam at ε with its learning rate tuned on the validation split from ``tuning.adam_lrs``."""
        tuned = self.tune(
            f"adam_eps{eps:g}", lambda lr: self.damped_optimizer(eps, lr), list(self.cfg.tuning.adam_lrs)
        )
        arm = self.arm(
            f"adam_eps{eps:g}", self.damped_optimizer(eps, tuned["lr"]), eps=float(eps), lr=tuned["lr"]
        )
        return {**arm, "tuning": tuned}

    def damped(self, eps: float, learner: bool = False) -> dict:
        """The damped optimiser (shrinkage scaling as configured, ``optimizer.lr``) at damping ε, with
        or without the damping learner; K-FAC's arms are named ``kfac_...``."""
        name = self.cfg.optimizer.name  # Adam keeps its earlier arm names (finished arms are reused)
        kind = "learner" if learner else ("adam" if name == "adam" else "fixed")
        arm = kind if name == "adam" else f"{name}_{kind}"
        return self.arm(
            f"{arm}_eps{eps:g}",
            self.damped_optimizer(eps, learner=learner),
            eps=float(eps),
        )

    def header(self) -> dict:
        cfg = self.cfg
        return {
            "setting": cfg.setting,
            "model": cfg.model.name,
            "data": cfg.data.name,
            "optimizer": cfg.optimizer.name,
            "num_params": self.num_params,
            "n_train": self.n_train,
            "seeds": list(cfg.seeds),
            "epochs": int(cfg.train.epochs),
            "batch_size": int(cfg.train.batch_size),
            "adam_lr": float(cfg.optimizer.lr),  # the configured optimiser's rate (K-FAC's too)
            "shrinkage": bool(cfg.optimizer.shrinkage),
        }


Outputs = tuple[dict, dict[str, np.ndarray]]
"""A task's ``stats.json`` record and its ``samples.npz`` arrays."""


def epsilon_sweep(cfg: DictConfig, out_dir: Path) -> Outputs:
    """Adam's final test error against ε (its learning rate tuned per ε), with tuned SGD as the
    reference; every rate chosen on the validation split."""
    sw = Sweep(cfg, out_dir)
    stats = {
        **sw.header(),
        "tuning": OmegaConf.to_container(cfg.tuning, resolve=True),
        "n_validation": len(sw.validation.x_test),
        "sgd": sw.sgd(),
        "adam": [sw.tuned_adam(e) for e in cfg.epsilons],
    }
    return stats, sw.samples


def damping_learner(cfg: DictConfig, out_dir: Path) -> Outputs:
    """The damping learner from each initial damping against the fixed damping at the same values."""
    sw = Sweep(cfg, out_dir)
    stats = {
        **sw.header(),
        "learner_variant": str(cfg.optimizer.learner.variant),
        "learner_every": int(cfg.optimizer.learner.every),
        "stats_samples": int(cfg.optimizer.learner.stats_samples),
        "fixed": [sw.damped(d) for d in cfg.learner_deltas],
        "learner": [sw.damped(d, learner=True) for d in cfg.learner_deltas],
    }
    return stats, sw.samples


def exp_returns(cfg: DictConfig, out_dir: Path) -> Outputs:
    """Best test error against the training budget, every seed of ``exp_returns.seeds``; the
    exponential and power-law fits of the mean over seeds (:func:`rmtloss.fits.returns_fits`)."""
    sw = Sweep(cfg, out_dir)
    er = cfg.exp_returns
    opt = sw.sgd_optimizer(float(er.lr))
    seeds = [int(s) for s in er.seeds]
    rows = []
    for budget in er.budgets:
        arm = f"budget{int(budget)}"
        runs = [sw.run(arm, opt, seed, epochs=int(budget)) for seed in seeds]
        sw.keep(arm, runs)
        best = [float(np.min(r["test_error"][1:])) if not r["diverged"] else math.nan for r in runs]
        mean, se = _mean_se(best)
        rows.append(
            {
                "budget": int(budget),
                "best_error": mean,
                "se": se,
                "per_seed": best,
                "best_epoch": [
                    int(np.argmin(r["test_error"][1:])) + 1 if not r["diverged"] else None for r in runs
                ],
                "diverged": sum(r["diverged"] for r in runs),
            }
        )
    ok = [r for r in rows if math.isfinite(r["best_error"])]
    require(len(ok) >= 4, "exp_returns.budgets", "the fits need at least 4 finished budgets")
    t, y = np.array([r["budget"] for r in ok], float), np.array([r["best_error"] for r in ok])
    fits = returns_fits(t, y, tuple(er.p0))
    stats = {
        **sw.header(),
        "lr": float(er.lr),
        "seeds": seeds,
        "budgets": rows,
        "fit": fits["exp"],
        "power": fits["power"],
    }
    return stats, sw.samples


def shrinkage_noise(cfg: DictConfig, out_dir: Path) -> Outputs:  # noqa: ARG001 - no training runs
    """The noisy quadratic model at each ε: true loss after T steps, flat and sharp displacement."""
    q = cfg.nqm
    lam = nqm.spectrum(int(q.n), float(q.bulk_ratio), float(q.bulk_scale), list(q.spikes), int(q.seed))
    per_eps, loss_curves, final_loss, flat, sharp = [], [], [], [], []
    for eps in cfg.epsilons:
        runs = [
            nqm.run(
                lam,
                float(eps),
                lr=float(q.lr),
                steps=int(q.steps),
                curvature_samples=int(q.curvature_samples),
                batch=int(q.batch),
                k=int(q.k),
                seed=int(q.seed) + 1000 * i + 1,
            )
            for i in range(int(q.samples))
        ]
        loss_m, loss_se = _mean_se([r.loss[-1] for r in runs])
        ratio_m, ratio_se = _mean_se([r.flat / r.sharp for r in runs])
        per_eps.append(
            {
                "eps": float(eps),
                "loss_mean": loss_m,
                "loss_se": loss_se,
                "flat": float(np.mean([r.flat for r in runs])),
                "sharp": float(np.mean([r.sharp for r in runs])),
                "ratio_mean": ratio_m,
                "ratio_se": ratio_se,
                "diverged": int(sum(not math.isfinite(r.loss[-1]) for r in runs)),
            }
        )
        loss_curves.append(np.mean([r.loss for r in runs], 0))
        final_loss.append([r.loss[-1] for r in runs])
        flat.append([r.flat for r in runs])
        sharp.append([r.sharp for r in runs])
    stats = {
        "setting": cfg.setting,
        "n": int(q.n),
        "spikes": list(q.spikes),
        "lambda_min": float(lam[0]),
        "lambda_max": float(lam[-1]),
        "lr": float(q.lr),
        "steps": int(q.steps),
        "curvature_samples": int(q.curvature_samples),
        "batch": int(q.batch),
        "k": int(q.k),
        "samples": int(q.samples),
        "start_loss": float(0.5 * lam.sum()),
        "eps": per_eps,
    }
    samples = {
        "eps": np.asarray(cfg.epsilons, float),
        "spectrum": lam,
        "loss_curve": np.asarray(loss_curves),
        "final_loss": np.asarray(final_loss),
        "flat": np.asarray(flat),
        "sharp": np.asarray(sharp),
    }
    return stats, samples


RUNNERS = {
    "epsilon_sweep": epsilon_sweep,
    "damping_learner": damping_learner,
    "shrinkage_noise": shrinkage_noise,
    "exp_returns": exp_returns,
}


def work(cfg: DictConfig, out_dir: Path) -> tuple[int, str]:
    """Run one task and write ``stats.json`` and ``samples.npz``."""
    task, runner = task_runner("optimisers", cfg.task, RUNNERS)
    require(len(cfg.seeds) >= 1, "seeds", "give at least one seed")
    damped = {"epsilon_sweep": ("adam",), "damping_learner": ("adam", "kfac")}.get(task)
    require(
        damped is None or cfg.optimizer.name in damped,
        "optimizer",
        f"task {task} compares damping settings of {' or '.join(damped or ())}: use optimizer="
        f"{'|'.join(damped or ())} (got {cfg.optimizer.name})",
    )
    stats, samples = runner(cfg, out_dir)
    write_record(out_dir, task, stats, samples)
    device = "cpu" if task == "shrinkage_noise" else str(resolve_device(cfg.device))
    return int(cfg.seeds[0]), device


main = stage("optimisers", "optimisers", work)

if __name__ == "__main__":
    main()
