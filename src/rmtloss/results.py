"""Typed results saved between stages: frozen dataclasses holding the raw numbers.

Kept free of torch so that analysis, figures and claims start quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rmtloss._io import read_npz, require_finite, write_json, write_npz
from rmtloss.errors import InputError, UpstreamDiverged

_META = ("run", "model", "data", "task", "checkpoint", "matrix", "split")
_DIVERGED = ("run", "epoch", "loss", "source")


def run_folder_name(run_dir: str | Path) -> str:
    """A run's name from its train folder: the workflow keeps run ``<name>`` in
    ``results/<scale>/runs/<name>/train``."""
    return Path(run_dir).absolute().parent.name


def save_diverged(path: str | Path, record: dict) -> None:
    """Write a spectra file that stands for a diverged run: only the record, prefixed
    ``diverged_`` (what :func:`check_diverged` looks for)."""
    write_npz(path, **{f"diverged_{k}": np.asarray(record[k]) for k in _DIVERGED})


def check_diverged(raw: dict[str, np.ndarray]) -> None:
    """Raise :class:`UpstreamDiverged` if ``raw`` (a loaded spectra file) is a diverged record."""
    if "diverged_epoch" in raw:
        record = {k: raw[f"diverged_{k}"].item() for k in _DIVERGED}
        raise UpstreamDiverged({**record, "epoch": int(record["epoch"]), "loss": float(record["loss"])})


def write_diverged_stats(out_dir: Path, kind: str, record: dict) -> None:
    """The outputs of an analysis of a diverged run: ``stats.json`` holding ``kind`` and the
    ``diverged`` record, and an empty ``samples.npz``."""
    write_npz(out_dir / "samples.npz")
    write_json(out_dir / "stats.json", {"kind": kind, "run": record["run"], "diverged": record})


@dataclass(frozen=True)
class ExactSpectra:
    """Eigenvalues of exact curvature matrices, one row per batch (or one row for full data).

    Attributes:
        eigenvalues: ``(count, P)`` float64, ascending in each row.
        batch_indices: ``(count, size)`` sample indices into the split (empty for full data).
        seconds: wall time of each matrix and its eigen-decomposition.
        run, model, data, task, checkpoint, matrix, split: what the spectra are of.
        num_classes: outputs of the network (classes; 1 for regression).
        batch_size: samples per batch (the split size for full data).
        full: whether the row is the full-split matrix.
        seed: the seed of the batch draw.
        dtype: the precision of the matrices and their eigen-decomposition (``float64``, or
            ``float32`` to emulate the authors' pipeline).
    """

    eigenvalues: np.ndarray
    batch_indices: np.ndarray
    seconds: np.ndarray
    run: str
    model: str
    data: str
    task: str
    checkpoint: str
    matrix: str
    split: str
    num_classes: int
    batch_size: int
    full: bool
    seed: int
    dtype: str = "float64"

    @property
    def num_params(self) -> int:
        """P, the order of each matrix."""
        return int(self.eigenvalues.shape[1])

    def save(self, path: str | Path) -> None:
        """Write to ``.npz`` atomically (strings and scalars as 0-d arrays)."""
        write_npz(path, **{k: np.asarray(getattr(self, k)) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: str | Path) -> ExactSpectra:
        """Read a file written by :meth:`save`."""
        raw = read_npz(path)
        check_diverged(raw)
        missing = [k for k in cls.__dataclass_fields__ if k not in raw and k != "dtype"]
        if missing:
            raise InputError(f"{path} is not a spectra file (missing {missing}); re-run spectra")
        kw = {k: raw[k] for k in ("eigenvalues", "batch_indices", "seconds")}
        kw["eigenvalues"] = require_finite(raw["eigenvalues"], path, "eigenvalues", ndim=2)
        kw.update({k: str(raw[k]) for k in _META})
        return cls(**kw, num_classes=int(raw["num_classes"]), batch_size=int(raw["batch_size"]),
                   full=bool(raw["full"]), seed=int(raw["seed"]),
                   dtype=str(raw["dtype"]) if "dtype" in raw else "float64")  # files before the field
