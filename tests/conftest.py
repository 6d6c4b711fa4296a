"""Shared fixtures: the repository root and a runner for stages as subprocesses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_stage(stage: str, *overrides: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m rmtloss.<stage> overrides...`` and capture its output."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", f"rmtloss.{stage}", *overrides], cwd=cwd or REPO,
                          capture_output=True, text=True, env=env, timeout=600)


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
