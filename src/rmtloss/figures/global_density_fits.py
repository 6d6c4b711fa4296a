"""Figure ``global_density_fits``: each network's spectrum against the best semicircle, Marchenko–Pastur,
product and percolated laws (Granziol, Beyond Random Matrix Theory, Fig. A; log-y for the zero peak).

Densities are bin masses per unit length of each law's distribution function on the same bins, so the
zero atoms (of the data, of MP with q > 1 and of the fitted mixtures) show as the bin around 0.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid

_LAWS = (
    ("semicircle", "C0", "semicircle"),
    ("mp", "C1", "Marchenko-Pastur"),
    ("product", "C2", "product"),
    ("percolated", "C3", "percolated"),
)


def draw(records: list[Record]) -> Figure:
    """One panel per (network, spectrum kind): data histogram and the four fitted laws."""
    recs = [r for r in records if r.kind == "global_density"]
    fig, axes = grid(len(recs), ncols=3, size=2.8)
    for ax, rec in zip(axes, recs, strict=True):
        s, d = rec.stats, rec.samples
        edges = d["edges"]
        ax.stairs(np.maximum(d["density_data"], 1e-12), edges, color="k", label="spectrum", linewidth=1.2)
        for key, color, name in _LAWS:
            if f"density_{key}" in d:
                fit = s["fits"][f"{key}_cdf"] if key in ("semicircle", "mp") else s[f"best_{key}"]
                ax.stairs(
                    np.maximum(d[f"density_{key}"], 1e-12),
                    edges,
                    color=color,
                    linewidth=0.9,
                    label=f"{name} (KS {fit['ks']:.2f})",
                )
        ax.set_yscale("log")
        ax.set_ylim(1e-4, None)
        what = "Lanczos quadrature" if s["method"] != "exact" else f"{s['batch_size']}-sample batches, pooled"
        ax.set_title(f"{s['run']}: {s['matrix']} {s['checkpoint']}, {what}", fontsize=8)
        ax.set_xlabel(f"eigenvalue / RMS ({s['outliers_removed']} outliers removed)")
        ax.legend(fontsize=6)
    axes[0].set_ylabel("density (log scale)")
    return fig
