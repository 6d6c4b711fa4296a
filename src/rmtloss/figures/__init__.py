"""Figures: one module per figure, each drawing analysis outputs only (never computing spectra).

Each module exposes ``draw(records) -> matplotlib.figure.Figure`` where ``records`` is a list of
:class:`Record` (the ``stats.json`` and ``samples.npz`` of one analysed spectra set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rmtloss._io import read_json, read_npz
from rmtloss.papers import kind_of, run_name


@dataclass(frozen=True)
class Record:
    """One analysed spectra set: its statistics and raw samples."""

    stats: dict[str, Any]
    samples: dict[str, np.ndarray]

    @property
    def kind(self) -> str:
        """The record's kind under its current name (:func:`rmtloss.papers.kind_of`)."""
        return kind_of(self.stats)

    @property
    def run_name(self) -> str:
        """The training run the record comes from (:func:`rmtloss.papers.run_name`)."""
        return run_name(self.stats)

    @property
    def label(self) -> str:
        """Readable panel title, e.g. ``mlp: Hessian, trained``."""
        s = self.stats
        state = "trained" if s["checkpoint"] == "final" else "at init"
        what = "GGN" if s["matrix"] == "ggn" else "Hessian"
        where = "full data" if s["full"] else f"b={s['batch_size']}"
        f32 = ", float32 (the authors' pipeline, reported)" if s.get("dtype") == "float32" else ""
        return f"{s['run']}: {what}, {state}, {where}{f32}"


def diverged_runs(records: list[Record]) -> list[str]:
    """``run (epoch e)`` of every record that stands for a diverged training run."""
    return [f"{r.stats['run']} (epoch {r.stats['diverged']['epoch']})" for r in records
            if "diverged" in r.stats]


def load_records(stats_paths: list[str]) -> list[Record]:
    """Read each ``stats.json`` and the ``samples.npz`` beside it."""
    return [Record(read_json(p), read_npz(Path(p).with_name("samples.npz"))) for p in stats_paths]
