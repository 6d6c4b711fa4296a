"""Shared plotting helpers."""

from __future__ import annotations

import math
import textwrap

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rmtloss._io import atomic_path  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "legend.fontsize": 8, "figure.dpi": 110})

#: Margin (inches) kept around everything drawn, as ``savefig(bbox_inches="tight")`` would.
PAD_INCHES = 0.1


def grid(n: int, ncols: int = 4, size: float = 2.6) -> tuple[Figure, list]:
    """A figure with ``n`` panels in rows of ``ncols``; unused axes are hidden."""
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * 1.25 * ncols, size * 1.1 * nrows),
                             squeeze=False, layout="constrained")
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def ramp(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours along viridis, first to last: one per value of a swept setting (ε)."""
    return [plt.cm.viridis(i / max(1, n - 1)) for i in range(n)]


def wrap_titles(fig: Figure) -> None:
    """Break each panel title's plain-text lines (not mathtext ones) to the panel's width, so that the
    titles of neighbouring panels never run into each other (about 0.55 em per character)."""
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        title = ax.title
        width_in = ax.get_position().width * fig.get_figwidth()
        chars = max(12, int(width_in * 72 / (0.55 * title.get_fontsize())))
        lines = title.get_text().split("\n")
        wrapped = [part for line in lines
                   for part in ([line] if "$" in line or len(line) <= chars else textwrap.wrap(line, chars))]
        if wrapped != lines:
            title.set_text("\n".join(wrapped))


def save(fig: Figure, stem: str) -> None:
    """Write ``stem.pdf`` and ``stem.png`` atomically, cropped to what is drawn.

    The layout (constrained) and the crop box are computed once and then frozen, so each file is
    one rendering pass; ``savefig(bbox_inches="tight")`` would lay out and draw every figure twice
    per file, which made the figure rules the slowest part of the smoke DAG.
    """
    fig.draw_without_rendering()
    wrap_titles(fig)  # at the laid-out panel widths, then laid out again with the wrapped titles
    fig.draw_without_rendering()
    box = fig.get_tightbbox().padded(PAD_INCHES)
    fig.set_layout_engine(None)  # frozen: with an engine (even 'none'), savefig lays out again
    for ext in ("pdf", "png"):
        with atomic_path(f"{stem}.{ext}") as tmp:
            fig.savefig(tmp, format=ext, bbox_inches=box)
    plt.close(fig)


def arm_curve(ax, arms: list[dict], key: str, label: str, style: str, color: str) -> None:  # noqa: ANN001
    """Mean ± s.e. of the final test error against ``key``; diverged runs are counted in the label."""
    x = np.array([a[key] for a in arms])
    m, se = np.array([a["mean"] for a in arms]), np.array([a["se"] for a in arms])
    div = sum(a["diverged"] for a in arms)
    ax.errorbar(
        x,
        m,
        yerr=se,
        fmt=style,
        color=color,
        ms=4,
        capsize=2,
        label=label + (f" ({div} runs diverged)" if div else ""),
    )
    for a in arms:  # every seed's own number, so the seeds' spread shows beside the s.e.
        seeds = [v for v in a.get("final") or [] if v is not None]
        ax.plot([a[key]] * len(seeds), seeds, ".", color=color, ms=2.5, alpha=0.5)


def mean_curve(samples: dict[str, np.ndarray], key: str) -> np.ndarray:
    """Mean over the seeds that ran to the end (finite last entry) of a (seeds, epochs + 1) curve in
    ``samples``; empty when none did (all diverged, or SGD's damping, which is NaN)."""
    rows = samples[key]
    ok = rows[np.isfinite(rows[:, -1])] if rows.size else rows
    return ok.mean(axis=0) if len(ok) else np.zeros(0)
