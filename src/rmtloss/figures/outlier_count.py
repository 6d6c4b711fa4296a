"""Figure ``outlier_count``: detected outliers against the number of classes, Hessian and GGN.

Left: the count above the fitted square-root bulk edge (filled markers) and the count at the largest
gap ratio (hollow markers) for the Hessian (circles, shifted left) and the GGN (squares, shifted
right), against the band C − 1 … C the paper expects. Right: the top of each full-data GGN spectrum
with the detection threshold (dashed) in the same colour.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Counts above the fitted bulk edge (and by the largest gap ratio) with the band C - 1 .. C;
    the top of each spectrum on the right."""
    rec = next(r for r in records if r.kind == "outlier_count")
    rows = sorted(rec.stats["runs"], key=lambda r: r["classes"])
    c = np.array([r["classes"] for r in rows])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.0), layout="constrained")
    ax.fill_between(c, c - 1, c, color="0.85", label=r"expected: $C - 1$ to $C$")
    for (matrix, mk, shift, color) in (("hessian", "o", -0.12, "C0"), ("ggn", "s", 0.12, "C1")):
        name = "Hessian" if matrix == "hessian" else "GGN"
        ax.plot(c + shift, [r[matrix]["count"] for r in rows], mk + "-", color=color, ms=7,
                label=f"{name}: above the fitted edge")
        ax.plot(c + shift, [r[matrix]["gap_ratio_count"] for r in rows], mk + ":", color=color, mfc="white",
                ms=7, label=f"{name}: largest gap ratio")
    ax.set_xticks(c)
    ax.set_xlabel("number of classes C")
    ax.set_ylabel("outliers")
    ax.set_title(rf"outliers of the full-data Hessian and GGN (edge fit, $\kappa = {rec.stats['kappa']:g}$)")
    ax.legend(fontsize=8)
    for i, r in enumerate(rows):
        top = np.asarray(r["ggn"]["top"])
        ax2.semilogy(np.arange(1, len(top) + 1), top, ".-", color=f"C{i + 2}", label=f"C = {r['classes']}")
        ax2.axhline(r["ggn"]["threshold"], color=f"C{i + 2}", lw=0.9, ls="--")
    ax2.set_xlabel("rank")
    ax2.set_ylabel("eigenvalue")
    ax2.set_title("top of the full-data GGN spectra (dashed: detection threshold)")
    ax2.legend(fontsize=8, title="GGN", title_fontsize=8)
    return fig
