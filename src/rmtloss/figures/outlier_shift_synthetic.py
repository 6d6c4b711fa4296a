"""Figure ``outlier_shift_synthetic``: outliers of A + sX against the subordination prediction."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def draw(records: list[Record]) -> Figure:
    """One panel per noise kind: the shift λ - θ of each spike against s, sampled and predicted."""
    rec = next(r for r in records if r.kind == "outlier_shift_synthetic")
    s, d = rec.stats, rec.samples
    kinds = list(s["noise"])
    fig, axes = grid(len(kinds), ncols=4)
    s_fine = np.asarray(d["s"])
    for ax, kind in zip(axes, kinds, strict=True):
        for i, theta in enumerate(d["spikes"]):
            c = f"C{i}"
            ax.plot(s_fine, d["predicted"][:, i] - theta, "-", color=c, label=f"omega(lambda) = {theta:g}")
            ax.plot(s_fine, d["bbp"][:, i] - theta, ":", color=c, label="BBP theta + s^2/theta")
            ax.errorbar(
                s_fine, d[f"mean_{kind}"][:, i] - theta, yerr=d[f"se_{kind}"][:, i], fmt="o", ms=3, color=c
            )
        err = s["noise"][kind]["max_rel_error"]
        ax.set_title(f"{kind} noise: max rel. error {err:.2%}")
        ax.set_xlabel("noise scale s")
        ax.set_ylabel("outlier shift lambda - theta")
    axes[0].legend(fontsize=6)
    fig.suptitle(f"A + sX, N = {s['n']}, MP bulk with spikes {s['spikes']}, {s['samples']} draws per s")
    return fig
