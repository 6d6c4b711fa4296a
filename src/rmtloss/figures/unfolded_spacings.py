"""Figure ``unfolded_spacings``: pooled-unfolded spacings, zero modes dropped and kept.

One panel per set of batch spectra: the unfolded spacings with degenerate zero modes dropped
(filled) and kept (outline) against the Wigner GOE surmise and :math:`e^{-s}`; KS distances in
the panel. Baskerville, Granziol, Keating (2022), the "trunc0"/"trunc1" unfolding figures.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid
from rmtloss.rmt import spacing_density

_S = np.linspace(0, 4, 400)


def draw(records: list[Record]) -> Figure:
    """Draw the unfolded-spacing histograms."""
    recs = [r for r in records if r.stats["unfolded"]]
    fig, axes = grid(max(len(recs), 1))
    for ax, rec in zip(axes, recs, strict=False):
        u = rec.stats["unfolded"]
        ax.hist(rec.samples["unfolded_dropped"], bins=40, range=(0, 4), density=True,
                color="0.75", edgecolor="0.5", linewidth=0.3, label="zeros dropped")
        ax.hist(rec.samples["unfolded_kept"], bins=40, range=(0, 4), density=True,
                histtype="step", color="C2", label="zeros kept")
        ax.plot(_S, spacing_density(_S, "goe"), "C0", label="Wigner surmise (GOE)")
        ax.plot(_S, spacing_density(_S, "poisson"), "C3--", label=r"Poisson $e^{-s}$")
        ax.set_title(f"{rec.label}\nKS to Wigner: dropped {u['dropped']['ks_goe']:.3f}, "
                     f"kept {u['kept']['ks_goe']:.3f}")
        ax.set_xlabel(r"unfolded spacing $s$")
        ax.set_ylabel("density")
    if recs:
        axes[0].legend(loc="center right")
    fig.suptitle("Pooled unfolding (first third of batches unfolded against the rest)")
    return fig
