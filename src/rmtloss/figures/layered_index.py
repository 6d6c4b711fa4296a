"""Figure ``layered_index``: index fraction of critical points against energy for three laws (Fig. B)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """alpha(E) under the semicircle, a Wigner product and a diluted Wigner law of unit variance (log-y)."""
    rec = next(r for r in records if r.kind == "layered_index")
    s, d = rec.stats, rec.samples
    fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
    for key, label in (
        ("semicircle", "semicircle"),
        ("product", f"Wigner product, depth {s['product_depth']}"),
        ("percolated", f"diluted Wigner, c = {s['percolated_c']:g}"),
    ):
        ax.plot(d["energy"], d[f"index_{key}"], label=f"{label}: min {s['min_index'][key]:.3g}")
    ax.axvline(-s["e_inf"], color="0.5", linestyle=":", label=r"$-E_\infty$ (semicircle threshold)")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel(r"energy $E$ (from $-E_0$ to 0)")
    ax.set_ylabel(r"index fraction $\alpha(E)$")
    ax.set_title(rf"$p = {s['p']}$: $H = \sqrt{{p(p-1)}}\,W - pE$")
    ax.legend(fontsize=7)
    return fig
