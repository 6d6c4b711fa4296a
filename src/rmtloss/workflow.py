"""Helpers the Snakemake rules call: Hydra override lists, shell quoting, config digests."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable
from pathlib import Path


def override_key(override: str) -> str:
    """The key an override sets: ``optimizer.lr`` for ``optimizer.lr=0.1`` (or ``+``/``~`` forms)."""
    key, sep, _ = override.partition("=")
    if not sep:
        raise ValueError(f"override '{override}' is not of the form key=value")
    return key.lstrip("+~")


def merge_overrides(*lists: Iterable[str]) -> list[str]:
    """Concatenate override lists; a later value of a key replaces an earlier one in place.

    Hydra refuses the same key twice on one command line, so the grid's overrides and a user's
    ``--config overrides=...`` are merged here.
    """
    merged: dict[str, str] = {}
    for overrides in lists:
        for ov in overrides:
            merged[override_key(ov)] = ov
    return list(merged.values())


def shell_args(overrides: Iterable[str]) -> str:
    """Quote overrides for a shell command line (``[`` and ``,`` would otherwise be globbed)."""
    return " ".join(shlex.quote(str(ov)) for ov in overrides)


def config_digest(config_dir: str | Path, exclude: Iterable[str] = ("config.yaml",)) -> str:
    """SHA-256 (first 12 hex digits) of the Hydra config files, so that editing one re-runs jobs."""
    root = Path(config_dir)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        if path.relative_to(root).as_posix() in set(exclude):
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def sweep_values(spec: dict) -> list[float]:
    """The values of one GAN sweep: ``linspace(start, stop, num)``, or ``10**`` of it when ``log``."""
    num, start, stop = int(spec["num"]), float(spec["start"]), float(spec["stop"])
    grid = [start + (stop - start) * i / (num - 1) for i in range(num)] if num > 1 else [start]
    return [float(10**v) if spec["log"] else v for v in grid]


def sweep_points(sweeps: dict) -> list[tuple[str, int, int, int]]:
    """Every (sweep, p, q, index) job of a scale's ``gan_sweeps`` block."""
    return [(name, int(p), int(q), i)
            for name, spec in sweeps.items() if name != "grid"
            for p, q in spec["pq"]
            for i in range(int(spec["num"]))]


def sweep_args(sweeps: dict, name: str, p: int, q: int, index: int) -> list[str]:
    """Hydra overrides of the complexity stage for one sweep point (``task=gan_point``)."""
    spec = sweeps[name]
    values = sweep_values(spec)
    if not 0 <= index < len(values):
        raise ValueError(f"sweep {name} has {len(values)} values; index {index} is out of range")
    return merge_overrides(sweeps["grid"], spec.get("fixed", []),
                           [f"gan.p={p}", f"gan.q={q}", f"gan.{name}={values[index]!r}", f"gan.sweep={name}"])
