"""Figure ``zero_mass``: share of eigenvalues below a relative cut-off, per spectra set.

The share of :math:`|\\lambda| < c \\max|\\lambda|` against :math:`\\log_{10} c`, one curve per
network and checkpoint (Baskerville, Granziol, Keating (2022), the
``proportion_hessian_evals_below_cutoff`` figures). One colour per network, solid for trained and
dotted for initial weights, a marker per matrix (circle Hessian, triangle GGN, square full data).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record

CUT = 1e-8  # the zero-mass claim's cut-off


def _marker(stats: dict) -> str:
    return "s" if stats["full"] else ("^" if stats["matrix"] == "ggn" else "o")


def draw(records: list[Record]) -> Figure:
    """Draw the zero-mass curves."""
    fig, ax = plt.subplots(figsize=(9.5, 4.8), layout="constrained")
    runs = list(dict.fromkeys(rec.stats["run"] for rec in records))
    for rec in records:
        s = rec.stats
        ax.plot(np.log10(rec.samples["cutoffs"]), rec.samples["zero_fraction"],
                "-" if s["checkpoint"] == "final" else ":", color=f"C{runs.index(s['run']) % 10}",
                marker=_marker(s), markersize=3.5, markevery=3, linewidth=1.4, label=rec.label)
    ax.axvline(np.log10(CUT), color="0.35", linewidth=1, linestyle="--",
               label=r"$c = 10^{-8}$: the zero-mass claim's cut-off")
    ax.set_xlabel(r"$\log_{10} c$ (cut-off relative to $\max|\lambda|$)")
    ax.set_ylabel(r"share of eigenvalues with $|\lambda| < c\,\max|\lambda|$")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title("Numerically zero eigenvalues\ncolour: network; solid: trained, dotted: at initialisation; "
                 "marker: o Hessian, ^ GGN, s full data", fontsize=9)
    return fig
