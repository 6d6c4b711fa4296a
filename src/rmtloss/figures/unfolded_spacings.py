"""Figure ``unfolded_spacings``: unfolded spacings, each spectrum on its own and pooled.

One panel per set of batch spectra, zero modes dropped: the spacings of every spectrum unfolded
with a fit of its own counting function (blue outline; what claim unfolded-wigner decides on), the
authors' pooled unfolding (grey) and, pooled, with the zero modes kept (green), against the Wigner
GOE surmise and :math:`e^{-s}`; KS distances in the panel. Baskerville, Granziol, Keating (2022),
the "trunc0"/"trunc1" unfolding figures. The premise of CLAIMS.md v3 is drawn too: GOE levels given
the set's own (smoothed) density and unfolded the same way (dotted purple); where their KS to the
Wigner surmise is 0.05 or more, the unfolding cannot decide the set and the title says
``premise absent``; each set's spacing variance (GOE 0.273, Poisson 1) is in the title.
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
                color="0.8", edgecolor="0.6", linewidth=0.3, label="pooled, zeros dropped")
        ax.hist(rec.samples["unfolded_kept"], bins=40, range=(0, 4), density=True,
                histtype="step", color="C2", label="pooled, zeros kept")
        each = rec.stats.get("unfolded_spectrum")
        if each is not None:
            ax.hist(rec.samples["unfolded_spectrum_dropped"], bins=40, range=(0, 4), density=True,
                    histtype="step", color="C0", linewidth=1.6, label="each spectrum, zeros dropped")
        ax.plot(_S, spacing_density(_S, "goe"), "k", label="Wigner surmise (GOE)")
        ax.plot(_S, spacing_density(_S, "poisson"), "C3--", label=r"Poisson $e^{-s}$")
        first = f"each {each['dropped']['ks_goe']:.3f}, " if each is not None else ""
        premise = ""
        if each is not None and "control" in each:
            ax.hist(rec.samples["unfolding_control_goe"], bins=40, range=(0, 4), density=True,
                    histtype="step", color="C4", linestyle=":", linewidth=1.4,
                    label="premise: GOE levels with this density")
            c = each["control"]["goe"]["ks_goe"]
            premise = (f"\npremise {'holds' if c < 0.05 else 'absent'}: control KS {c:.3f}; spacing "
                       f"variance {each['dropped']['var']:.2f}")
        authors = u.get("authors")
        if authors and rec.stats.get("dtype") == "float32":
            ax.hist(rec.samples["unfolded_authors_cut_0"], bins=40, range=(0, 4), density=True,
                    histtype="step", color="C1", linestyle="--", label="authors' unfoldr, cut at 0")
            first += f"authors' cut 0 {authors['cut_0']['ks_goe']:.3f}, "
        ax.set_title(f"{rec.label}\nKS to Wigner: {first}pooled {u['dropped']['ks_goe']:.3f}, "
                     f"kept {u['kept']['ks_goe']:.3f}{premise}", fontsize=7)
        ax.set_xlabel(r"unfolded spacing $s$")
        ax.set_ylabel("density")
    if recs:
        axes[0].legend(loc="center right")
    fig.suptitle("Unfolded spacings: each spectrum by its own counting function (blue), and the authors' "
                 "pooled unfolding (a third of the batches against the rest)")
    return fig
