"""Figure ``zero_mass``: share of eigenvalues below a relative cut-off, per spectra set.

The share of :math:`|\\lambda| < c \\max|\\lambda|` against :math:`\\log_{10} c`, one curve per
network and checkpoint (Baskerville, Granziol, Keating (2022), the
``proportion_hessian_evals_below_cutoff`` figures).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Draw the zero-mass curves."""
    fig, ax = plt.subplots(figsize=(9.5, 4.5), layout="constrained")
    for i, rec in enumerate(records):
        style = "-" if rec.stats["checkpoint"] == "final" else ":"
        ax.plot(np.log10(rec.samples["cutoffs"]), rec.samples["zero_fraction"], style,
                color=f"C{i % 10}", marker=".", markersize=3, label=rec.label)
    ax.axvline(-8, color="0.5", linewidth=0.8)
    ax.set_xlabel("log10 of the cut-off c (relative to max |eigenvalue|)")
    ax.set_ylabel("share of eigenvalues with |lambda| < c max|lambda|")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title("Numerically zero eigenvalues")
    return fig
