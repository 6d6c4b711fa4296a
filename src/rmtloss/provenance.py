"""Provenance records: what produced an output (versions, commit, seed, device)."""

from __future__ import annotations

import datetime as _dt
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = ("rmtloss", "torch", "numpy", "scipy", "hydra-core", "omegaconf", "scikit-learn",
             "matplotlib", "pandas", "snakemake")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_commit(cwd: str | Path | None = None) -> dict[str, Any]:
    """Return the commit of the source tree and whether it has uncommitted changes."""
    root = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": sha, "dirty": dirty}


def provenance(*, seed: int | None, device: str, stage: str) -> dict[str, Any]:
    """Build the provenance record written beside every output."""
    return {
        "stage": stage,
        "seed": seed,
        "device": device,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "time_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {name: _version(name) for name in _PACKAGES},
        **git_commit(),
    }
