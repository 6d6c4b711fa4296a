"""Shared fixtures: the repository root and a runner for stages as subprocesses."""

from __future__ import annotations

import os
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
