"""Shared plotting helpers."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rmtloss._io import atomic_path  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "legend.fontsize": 7,
                     "figure.dpi": 110, "savefig.bbox": "tight"})


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


def save(fig: Figure, stem: str) -> None:
    """Write ``stem.pdf`` and ``stem.png`` atomically."""
    for ext in ("pdf", "png"):
        with atomic_path(f"{stem}.{ext}") as tmp:
            fig.savefig(tmp, format=ext)
    plt.close(fig)
