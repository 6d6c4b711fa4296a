"""Atomic file writes and small readers shared by every stage.

Every file is written to a temporary name in its own folder and renamed into place, so a killed
job never leaves a file that looks finished. The finished file has the permissions of an ordinary
new file under the process umask (``mkstemp`` alone would leave it readable by its owner only).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rmtloss.errors import InputError


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically (NaN written as ``NaN``)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def write_npz(path: str | os.PathLike[str], **arrays: Any) -> None:
    """Save arrays to an ``.npz`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file, with a clear error if it is missing or corrupt."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"missing input {p}: run the stage that makes it first")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"corrupt JSON {p} ({exc}): delete it and re-run its stage") from exc


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz``, with a clear error if it is missing or corrupt."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"missing input {p}: run the stage that makes it first")
    try:
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile/pickle/ValueError all mean the same to a user
        raise InputError(f"corrupt .npz {p} ({exc}): delete it and re-run its stage") from exc


def require_finite(
    values: Any, path: str | os.PathLike[str], key: str, ndim: int | None = None
) -> np.ndarray:
    """``values`` as an array, refused with the file and the key when it holds NaN or infinite numbers
    or has not ``ndim`` dimensions: a corrupted spectrum must stop a job before any work, not move its
    numbers (a NaN shifts every moment and KS distance of a pooled spectrum silently)."""
    arr = np.asarray(values)
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{path}: '{key}' has shape {arr.shape}, not {ndim}-dimensional; delete the file "
                         "and re-run the stage that wrote it")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{path}: '{key}' holds {bad} NaN or infinite value(s); delete the file and re-run "
                         f"the stage that wrote it (snakemake --cores all --forcerun {path})")
    return arr
