"""Figure ``outlier_count``: detected outliers against the number of classes, Hessian and GGN."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Counts above the fitted bulk edge (and by the largest gap ratio) with the lines C and C - 1;
    the top of each spectrum on the right."""
    rec = next(r for r in records if r.kind == "outlier_count")
    rows = sorted(rec.stats["runs"], key=lambda r: r["classes"])
    c = np.array([r["classes"] for r in rows])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    ax.fill_between(c, c - 1, c, color="0.9", label="C - 1 .. C")
    for m, (matrix, mk) in enumerate((("hessian", "o"), ("ggn", "s"))):
        ax.plot(c, [r[matrix]["count"] for r in rows], mk + "-", color=f"C{m}", label=f"{matrix}: edge fit")
        ax.plot(
            c,
            [r[matrix]["gap_ratio_count"] for r in rows],
            mk + ":",
            color=f"C{m}",
            mfc="none",
            label=f"{matrix}: largest gap ratio",
        )
    ax.set_xlabel("number of classes C")
    ax.set_ylabel("outliers")
    ax.set_title(f"outliers above the fitted bulk edge (kappa = {rec.stats['kappa']:g})")
    ax.legend(fontsize=6)
    for i, r in enumerate(rows):
        top = np.asarray(r["ggn"]["top"])
        ax2.semilogy(np.arange(1, len(top) + 1), top, ".-", color=f"C{i}", label=f"C = {r['classes']} GGN")
        ax2.axhline(r["ggn"]["threshold"], color=f"C{i}", lw=0.6, ls="--")
    ax2.set_xlabel("rank")
    ax2.set_ylabel("eigenvalue (dashed: threshold)")
    ax2.set_title("top of the full-data GGN spectra")
    ax2.legend(fontsize=6)
    return fig
