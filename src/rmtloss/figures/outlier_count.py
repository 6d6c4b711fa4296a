"""Figure ``outlier_count``: detected outliers against the number of classes, Hessian and GGN.

Left: Papyan's count, the eigenvalues of the GGN's class-mean part above the largest eigenvalue of
the rest (filled markers), and beside it the version-1 count above a fitted square-root edge and
the count at the largest gap ratio (hollow markers, dotted and dash-dotted) for the Hessian
(circles, shifted left) and the GGN (squares, shifted right), against the band C − 1 … C the paper
expects. Right: the class-mean part's eigenvalues with the within-class edge (dashed) per C.
Where several runs share a C (a sweep over width or training length, the regimes scale), the
counts are drawn run by run, each against its own band.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def _counts(ax, rows: list[dict], c: np.ndarray, by_run: bool) -> None:  # noqa: ANN001
    x = np.arange(len(rows)) if by_run else c  # runs sharing a C: one position per run
    ax.fill_between(x, c - 1, c, color="0.85", step="mid" if by_run else None,
                    label=r"expected: $C - 1$ to $C$")
    for matrix, mk, shift, color in (("hessian", "o", -0.12, "C0"), ("ggn", "s", 0.12, "C1")):
        name = "Hessian" if matrix == "hessian" else "GGN"
        ax.plot(x + shift, [r[matrix]["count"] for r in rows], mk + "-", color=color, ms=7,
                label=f"{name}: class means above the within-class edge")
        if "edge_fit_count" in rows[0][matrix]:
            ax.plot(x + shift, [r[matrix]["edge_fit_count"] for r in rows], mk + ":", color=color,
                    mfc="white", ms=6, label=f"{name}: fitted square-root edge (v1)")
        ax.plot(x + shift, [r[matrix]["gap_ratio_count"] for r in rows], mk + "-.", color=color,
                mfc="white", ms=4, lw=0.8, label=f"{name}: largest gap ratio")
    if by_run:
        ax.set_xticks(x, [_label(r) for r in rows], rotation=30, ha="right", fontsize=7)
        ax.set(xlabel="run")
    else:
        ax.set_xticks(c)
        ax.set(xlabel="number of classes C")
    ax.set(ylabel="outliers", yscale="symlog", title="outliers of the full-data Hessian and GGN")
    ax.legend(fontsize=7)


def _label(row: dict) -> str:
    return f"{row.get('run_name') or row['run']} (C = {row['classes']})"


def draw(records: list[Record]) -> Figure:
    """Counts against C with the band C - 1 .. C; the class-mean eigenvalues and edges on the right."""
    rec = next(r for r in records if r.kind == "outlier_count")
    rows = sorted(rec.stats["runs"], key=lambda r: r["classes"])  # stable: runs sharing a C keep their order
    c = np.array([r["classes"] for r in rows])
    by_run = len(set(c)) < len(c)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.0), layout="constrained")
    _counts(ax, rows, c, by_run)
    for i, r in enumerate(rows):
        g = r["ggn"]
        vals = np.asarray(g["class_mean_eigenvalues"] if "class_mean_eigenvalues" in g else g["top"])
        vals = vals[vals > 1e-6 * vals.max()]
        name = _label(r) if by_run else f"C = {r['classes']}"
        ax2.semilogy(np.arange(1, len(vals) + 1), vals, ".-", color=f"C{i + 2}", label=name)
        ax2.axhline(g.get("edge", g.get("threshold")), color=f"C{i + 2}", lw=0.9, ls="--")
    ax2.set(xlabel="rank", ylabel="eigenvalue",
            title="GGN class-mean part (dashed: largest within-class eigenvalue)")
    ax2.legend(fontsize=8, title="GGN", title_fontsize=8)
    return fig
