"""Figure ``product_zero_mass``: zero atom of Wishart products against the dimension ratio (C3.5)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Sampled zero mass (markers, one colour per depth) and the rank formula 1 - min(N_i)/N_0."""
    rec = next(r for r in records if r.kind == "product_zero_mass")
    d = rec.samples
    fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    r = np.linspace(0, max(1.6, d["ratio"].max()), 200)
    ax.plot(r, 1 - np.minimum(1, r), color="0.3", label=r"$1 - \min_i N_i / N_0$")
    for i, depth in enumerate(np.unique(d["depth"])):
        sel = d["depth"] == depth
        ax.plot(
            d["ratio"][sel],
            d["sampled"][sel],
            "osD^v"[i % 5],
            color=f"C{i}",
            mfc="none",
            mew=1.5,
            markersize=11 - 3 * min(i, 2),
            label=f"$L = {depth}$ factors",
        )
    ax.set_xlabel(r"$\min_i N_i / N_0$")
    ax.set_ylabel("share of zero eigenvalues")
    ax.set_title(f"Wishart products: largest |sampled − formula| = {rec.stats['max_abs_error']:.4f}\n"
                 "(hollow markers nest: smaller ones are more factors)")
    ax.legend()
    return fig
