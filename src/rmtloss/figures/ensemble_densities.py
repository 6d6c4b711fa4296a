"""Figure ``ensemble_densities``: sampled spectra of product and percolated ensembles (Figs C, D)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def draw(records: list[Record]) -> Figure:
    """One panel per family, a histogram per member (unit RMS, log-y); zero atoms in the legend."""
    rec = next(r for r in records if r.kind == "ensemble_densities")
    s, d = rec.stats, rec.samples
    fams = list(s["members"])
    fig, axes = grid(len(fams), ncols=2, size=2.8)
    for ax, fam in zip(axes, fams, strict=True):
        for i, params in enumerate(s["members"][fam]):
            ev = d[f"{fam}_{i}"]
            ev = ev / np.sqrt(np.mean(ev**2))
            label = (
                ", ".join(f"{k} {v:g}" for k, v in params.items())
                + f"; zero {s['zero_fraction'][fam][i]:.2f}"
            )
            ax.hist(ev, bins=80, density=True, histtype="step", color=f"C{i}", label=label)
        ax.set_yscale("log")
        ax.set_title(f"{fam.replace('_', ' ')} ($N = {s['n']}$)")
        ax.set_xlabel("eigenvalue / RMS")
        ax.legend(fontsize=7)
    return fig
