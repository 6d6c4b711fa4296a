"""The shape every stage shares: a Hydra app that writes its outputs, its resolved config and a
provenance record into one folder (``hydra.run.dir``), and turns bad input into a clear message.

A stage module (:mod:`rmtloss.stages`) defines ``main = stage("name", "config_name", work)``
where ``work(cfg, out_dir)`` does the job and returns the seed and device it used (for the
provenance record). A stage with several tasks picks one with :func:`task_runner` (its tasks
are the record kinds the registry gives it, :data:`rmtloss.papers.KINDS`) and writes its record
with :func:`write_record`, whose ``kind`` is the task's name.

A stage that reads a diverged training run (:class:`rmtloss.errors.UpstreamDiverged`) and was
given ``diverged(cfg, out_dir, record)`` writes its outputs as that record and succeeds, so the
workflow goes on and the figures and the ledger say which run diverged; other stages stop with
the message.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from rmtloss import schema
from rmtloss._io import write_json, write_npz, write_text
from rmtloss.errors import ConfigError, Incomplete, InputError, UpstreamDiverged
from rmtloss.papers import task_name, tasks_of
from rmtloss.provenance import provenance

if TYPE_CHECKING:
    import torch

#: The environment variable naming the folder of stage configs (the workflow sets it to its own).
CONFIG_ENV = "RMTLOSS_CONFIG_DIR"


def config_dir() -> Path:
    """The folder of Hydra's primary configs and config groups the stages read.

    In this order: ``$RMTLOSS_CONFIG_DIR`` (the workflow sets it to the ``config/`` beside its
    Snakefile); ``config/`` in the working directory when it holds the stage configs (a checkout
    run from its root reads its own, whichever checkout the package was installed from); the
    configs shipped with the package (``rmtloss/conf``, a copy of ``config/`` in a wheel).

    Raises:
        ConfigError: ``$RMTLOSS_CONFIG_DIR`` names a folder without the stage configs.
    """
    if env := os.environ.get(CONFIG_ENV):
        folder = Path(env).resolve()
        if not (folder / "train.yaml").is_file():
            raise ConfigError(CONFIG_ENV, f"{folder} holds no stage configs (train.yaml, ...); unset it or "
                              "point it to a checkout's config/")
        return folder
    local = Path.cwd() / "config"
    if (local / "train.yaml").is_file():
        return local.resolve()
    return Path(__file__).resolve().parent / "conf"


#: Hydra's primary configs and config groups, found when the stage module is imported.
CONFIG_DIR = config_dir()

log = logging.getLogger("rmtloss")

Work = Callable[[DictConfig, Path], tuple[int | None, str]]
OnDiverged = Callable[[DictConfig, Path, dict], None]


def resolve_device(name: str) -> torch.device:
    """Map the ``device`` setting (``auto``, ``cpu``, ``cuda``, ``cuda:N``) to a torch device."""
    import torch  # torch is slow to import; stages that need no device never load it

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", f"'{name}' asked for but CUDA is not available; use device=auto")
    if name != "cpu" and not name.startswith("cuda"):
        raise ConfigError("device", f"unknown device '{name}'; use auto, cpu or cuda[:N]")
    return torch.device(name)


def task_runner(stage_name: str, task: str, runners: Mapping[str, Callable]) -> tuple[str, Callable]:
    """The task's current name and its runner among ``runners``.

    The tasks of a stage are the record kinds the registry gives it
    (:func:`rmtloss.papers.tasks_of`); earlier task names are accepted (:func:`rmtloss.papers.task_name`).

    Raises:
        ConfigError: ``task`` is not one of the stage's tasks (the message lists them).
    """
    name, known = task_name(task), tasks_of(stage_name)
    if name not in known:
        raise ConfigError("task", f"unknown task '{task}' of stage {stage_name}; use one of "
                          f"{', '.join(known)}")
    return name, runners[name]


def scalars(stats: Mapping[str, Any]) -> str:
    """A record's scalar entries as ``key=value`` text, one per item (for a stage's log line)."""
    kept = {k: v for k, v in stats.items() if isinstance(v, numbers.Number | str)}
    return ", ".join(f"{k}={v:.6g}" if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
                     else f"{k}={v}" for k, v in kept.items())


def write_record(out_dir: Path, kind: str, stats: dict, samples: dict) -> None:
    """Write an analysis record: ``samples.npz`` and then ``stats.json`` holding ``kind`` (the task)."""
    write_npz(out_dir / "samples.npz", **samples)
    write_json(out_dir / "stats.json", {"kind": kind, **stats})


def is_writer() -> bool:
    """Rank 0 of a ``torch.distributed`` launch, or the only process (torch is not imported for it)."""
    dist = sys.modules.get("torch.distributed")
    return dist is None or not dist.is_initialized() or dist.get_rank() == 0


def _remove_if_empty(folder: Path) -> None:
    """Remove the output folder Hydra made for a stage that refused its input, if nothing is in it."""
    with contextlib.suppress(OSError):
        folder.rmdir()  # fails, and is left alone, when the folder holds anything


def _record(cfg: DictConfig, out_dir: Path, seed: int | None, device: str, name: str) -> None:
    """The resolved config and the provenance beside a stage's outputs."""
    write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_json(out_dir / "provenance.json", provenance(seed=seed, device=device, stage=name))
    log.info("%s: outputs in %s", name, out_dir)


def stage(name: str, config_name: str, work: Work, diverged: OnDiverged | None = None
          ) -> Callable[[], None]:
    """Wrap ``work`` as a Hydra app that records config and provenance beside its outputs.

    The config is typed by its schema (:mod:`rmtloss.schema`) and its ranges are checked before
    ``work`` runs. The returned app also carries ``run(cfg, out_dir)`` (what the app does with a
    composed config, exiting with status 2 and a message on bad input, or raising the error with
    ``raise_errors=True``) and ``config_name``, so a composed config can be run in this process (the
    tests and the diagnosis do).
    """
    schema.register()

    def run(cfg: DictConfig, out_dir: Path, raise_errors: bool = False) -> None:
        try:
            schema.check(cfg)
            seed, device = work(cfg, out_dir)
        except (ConfigError, InputError) as exc:
            if not (isinstance(exc, UpstreamDiverged) and diverged is not None):
                _remove_if_empty(out_dir)
                if raise_errors:  # a caller that keeps going (the diagnosis, step by step)
                    raise
                print(f"rmtloss.{name}: {exc}", file=sys.stderr)
                if isinstance(exc, Incomplete) and is_writer():  # partial outputs say what made them
                    _record(cfg, out_dir, None, "cpu", name)
                sys.exit(2)
            log.warning("%s: recording a diverged run: %s", name, exc)
            diverged(cfg, out_dir, exc.record)
            seed, device = None, "cpu"
        if is_writer():  # not a data-parallel rank other than 0 (rmtloss.hessian.distributed)
            _record(cfg, out_dir, seed, device, name)
        dist = sys.modules.get("torch.distributed")
        if dist is not None and dist.is_initialized():
            dist.destroy_process_group()

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=config_name)
    def _app(cfg: DictConfig) -> None:
        run(cfg, Path(HydraConfig.get().runtime.output_dir))

    _app.run = run
    _app.config_name = config_name
    return _app
