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
    stdout: str = ""


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

    err, text = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(text), torch.random.fork_rng(devices=[]):
        try:  # (a stage may seed torch)
            app.run(cfg, out)
        except SystemExit as exc:
            return Refusal(int(exc.code), err.getvalue(), text.getvalue())
    return Refusal(0, err.getvalue(), text.getvalue())


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


def toy_dataset():  # noqa: ANN201 - an rmtloss.nets.data.Dataset
    """200 / 100 samples of a noisy two-class problem in 5 dimensions (class = sign of x_0 + noise)."""
    import torch

    from rmtloss.nets.data import Dataset

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(300, 5, generator=gen)
    y = (x[:, 0] + 0.5 * torch.randn(300, generator=gen) > 0).long()
    return Dataset("toy", "classification", x[:200], y[:200], x[200:], y[200:], 2, (5,))


def assert_resumes_like_uninterrupted(cfg, ds, tmp_path: Path, monkeypatch) -> tuple[list, dict]:  # noqa: ANN001
    """Train ``cfg`` uninterrupted; train again, killed in epoch 5 after the epoch-4 checkpoint
    (``train.checkpoint_every=2``); resume; assert the same metrics and weights bit for bit.

    Returns:
        The uninterrupted run's metric rows and the training state the killed run saved.
    """
    import numpy as np
    import torch

    from rmtloss.nets import training

    cpu = torch.device("cpu")
    _, ref_model, ref_rows = training.fit(cfg, ds, cpu, tmp_path / "ref.pt")
    real_row = training._row

    def dying_row(epoch, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if epoch == 5:
            raise KeyboardInterrupt
        return real_row(epoch, *args, **kwargs)

    monkeypatch.setattr(training, "_row", dying_row)
    with pytest.raises(KeyboardInterrupt):
        training.fit(cfg, ds, cpu, tmp_path / "resume.pt")
    saved = torch.load(tmp_path / "resume.pt", weights_only=False)
    assert saved["epoch"] == 4
    monkeypatch.setattr(training, "_row", real_row)
    _, model, rows = training.fit(cfg, ds, cpu, tmp_path / "resume.pt")
    np.testing.assert_equal(rows, ref_rows)  # NaN (row 0's lr) equal to NaN
    for p, q in zip(model.parameters(), ref_model.parameters(), strict=True):
        assert torch.equal(p, q)
    return ref_rows, saved
