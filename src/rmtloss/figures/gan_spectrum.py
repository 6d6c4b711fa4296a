"""Figure ``gan_spectrum``: the two-player Hessian density against sampled spectra (G-1a/b/c)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def draw(records: list[Record]) -> Figure:
    """One panel per x_1: histogram of sampled eigenvalues, block-equation density, authors' quartic."""
    rec = next(r for r in records if r.kind == "gan_spectrum")
    s, d = rec.stats, rec.samples
    fig, axes = grid(len(s["x1"]), ncols=3, size=2.8)
    for i, (ax, x1) in enumerate(zip(axes, s["x1"], strict=True)):
        edges = d[f"edges_{i}"]
        ax.stairs(d[f"hist_{i}"], edges, color="0.6", fill=True, alpha=0.6,
                  label=f"sampled: $N = {s['n']}$, {s['samples']} samples")
        ax.plot(d[f"z_{i}"], d[f"lsd_{i}"], color="C0", label="block equations")
        ax.plot(d[f"z_{i}"], d[f"lsd_authors_{i}"], color="C3", linestyle="--", linewidth=0.9,
                label="authors' quartic")
        ax.set_title(f"$x_1 = {x1:g}$: {s['regimes'][i]} bulk(s); "
                     f"largest deviation {s['max_deviation'][i]:.3f}")
        ax.set_xlabel("eigenvalue")
        ax.set_ylim(0, 1.15 * np.max(d[f"hist_{i}"]))
    axes[0].set_ylabel(rf"density ($\kappa$ = {s['kappa']}, $b$ = {s['b']}, $b_1$ = {s['b1']})")
    axes[0].legend()
    return fig
