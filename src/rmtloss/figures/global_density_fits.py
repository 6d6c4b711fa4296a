"""Figure ``global_density_fits``: each network's spectrum against the best semicircle, Marchenko–Pastur,
product and percolated laws (Granziol, Beyond Random Matrix Theory).

Each panel shows the non-zero eigenvalues on their own scale (eigenvalue / RMS, outliers removed;
the central 95% of them): the data's histogram and each law's continuous part as bin masses per
unit length; the atoms at zero (of the data, of MP with ratio > 1 and of the fitted mixtures) are the bars
of the small panel on the right. Records written before the densities stage kept the bulk view fall
back to the full-range histogram on a log scale.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid

_LAWS = (
    ("semicircle", "C0", "semicircle", "-"),
    ("mp", "C1", "Marchenko–Pastur", "--"),
    ("product", "C2", "product", "-."),
    ("percolated", "C3", "percolated", ":"),
)


def _ks(s: dict, key: str) -> float:
    """The drawn fit's KS: semicircle / MP with their free zero atom (CLAIMS.md v3; records written
    before it: without), the best product and percolated members."""
    fits = s.get("fits_atom", s["fits"])
    return (fits[f"{key}_cdf"] if key in ("semicircle", "mp") else s[f"best_{key}"])["ks"]


def _title(s: dict) -> str:
    what = "Lanczos quadrature" if s["method"] != "exact" else f"{s['batch_size']}-sample batches pooled"
    return f"{s['run']}: {s['matrix']} {s['checkpoint']}, {what}\n{s['outliers_removed']} outliers removed"


def _bulk_panel(ax, rec: Record) -> None:  # noqa: ANN001
    s, d = rec.stats, rec.samples
    edges = d["bulk_edges"]
    ax.stairs(d["bulk_data"], edges, color="k", linewidth=1.6, fill=True, alpha=0.15)
    ax.stairs(d["bulk_data"], edges, color="k", linewidth=1.2, label="spectrum (non-zero part)")
    for key, color, name, style in _LAWS:
        if f"bulk_{key}" in d:
            ax.stairs(d[f"bulk_{key}"], edges, color=color, linestyle=style, linewidth=1.4,
                      label=f"{name}, KS {_ks(s, key):.2f}")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("eigenvalue / RMS")
    atoms = [("data", "k")] + [(k, c) for k, c, _, _ in _LAWS if f"zero_{k}" in d]
    inset = ax.inset_axes([1.02, 0.0, 0.16, 1.0])
    inset.bar(range(len(atoms)), [float(d[f"zero_{k}"]) for k, _ in atoms], color=[c for _, c in atoms],
              alpha=0.8)
    inset.set_ylim(0, 1)
    inset.set_xticks(range(len(atoms)), ["data", "SC", "MP", "prod.", "perc."][: len(atoms)], rotation=90,
                     fontsize=7)
    inset.tick_params(axis="y", labelsize=7)
    inset.set_title("atom at 0", fontsize=7)


def _full_range_panel(ax, rec: Record) -> None:  # noqa: ANN001
    s, d = rec.stats, rec.samples
    ax.stairs(np.maximum(d["density_data"], 1e-12), d["edges"], color="k", label="spectrum", linewidth=1.2)
    for key, color, name, style in _LAWS:
        if f"density_{key}" in d:
            ax.stairs(np.maximum(d[f"density_{key}"], 1e-12), d["edges"], color=color, linestyle=style,
                      linewidth=1.2, label=f"{name}, KS {_ks(s, key):.2f}")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, None)
    ax.set_xlabel("eigenvalue / RMS")


def draw(records: list[Record]) -> Figure:
    """One panel per (network, spectrum kind): the bulk with the four fitted laws, and the zero atoms."""
    recs = [r for r in records if r.kind == "global_density"]
    fig, axes = grid(len(recs), ncols=2, size=3.2)
    for ax, rec in zip(axes, recs, strict=True):
        (_bulk_panel if "bulk_edges" in rec.samples else _full_range_panel)(ax, rec)
        ax.set_title(_title(rec.stats), fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    axes[0].set_ylabel("density of the non-zero part")
    return fig
