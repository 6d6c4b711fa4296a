"""Shared fixtures: the repository root and a runner for stages as subprocesses."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf.errors import OmegaConfBaseException

REPO = Path(__file__).resolve().parents[1]


def run_stage(stage: str, *overrides: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m rmtloss.<stage> overrides...`` and capture its output."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", f"rmtloss.{stage}", *overrides], cwd=cwd or REPO,
                          capture_output=True, text=True, env=env, timeout=600)


def composed(config: str, *overrides: str):  # noqa: ANN201 - a DictConfig
    """The primary config ``config`` composed with ``overrides`` by Hydra, typed by its schema."""
    from rmtloss import schema
    from rmtloss.stage import CONFIG_DIR

    schema.register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=config, overrides=list(overrides))


@dataclass(frozen=True)
class Refusal:
    """What :func:`run_in_process` saw: the exit status the app would give and its message."""

    returncode: int
    stderr: str


def run_in_process(stage: str, *overrides: str, out: Path) -> Refusal:
    """Compose ``stage``'s config with ``overrides`` and run it here as its Hydra app would.

    For the many bad-input tests: the same composition, schema check, work and message as
    :func:`run_stage`, without starting Python and importing torch again (about 4 s a test). A
    composition error (unknown key or group option, wrong type) is Hydra's exit status 1 with its
    message; the app's own refusals exit 2. ``tests/test_schema.py`` keeps subprocess runs of both.
    """
    module = f"rmtloss.stages.{stage}"
    app = importlib.import_module(module).main
    try:
        cfg = composed(app.config_name, *overrides)
    except (ConfigCompositionException, OmegaConfBaseException) as exc:
        return Refusal(1, f"{exc} {exc.__cause__ or ''}")
    import torch

    err = io.StringIO()
    with contextlib.redirect_stderr(err), torch.random.fork_rng(devices=[]):  # a stage may seed torch
        try:
            app.run(cfg, out)
        except SystemExit as exc:
            return Refusal(int(exc.code), err.getvalue())
    return Refusal(0, err.getvalue())


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` on 2 cores with this interpreter's environment first on PATH."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(workdir), "--cores", "2", *args]
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1500, env=env)


def job_counts(snakemake_output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table Snakemake prints before running."""
    table = snakemake_output.split("Job stats:")[1].split("Reasons:")[0].split("Select jobs")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}


@pytest.fixture(scope="session")
def smoke(tmp_path_factory) -> Path:
    """The whole DAG at smoke scale, run once locally (shared by the DAG and SLURM tests)."""
    work = tmp_path_factory.mktemp("smoke")
    proc = snakemake(work, "--config", "scale=smoke")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work
