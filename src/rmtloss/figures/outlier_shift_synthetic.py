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
            ax.plot(s_fine, d["predicted"][:, i] - theta, "-", color=c,
                    label=rf"$\theta = {theta:g}$: $\omega(\lambda) = \theta$")
            ax.plot(s_fine, d["bbp"][:, i] - theta, ":", color=c, label=r"BBP $\theta + s^2/\theta$")
            ax.errorbar(s_fine, d[f"mean_{kind}"][:, i] - theta, yerr=d[f"se_{kind}"][:, i], fmt="o", ms=4,
                        color=c, capsize=2, label="sampled (mean ± s.e.)" if i == 0 else None)
        err = s["noise"][kind]["max_rel_error"]
        where = "delocalised" if s["noise"][kind]["delocalised"] else "localised"
        name = {"goe": "GOE", "rademacher": "±1 Wigner"}.get(kind, kind)
        ax.set_title(f"{name} noise ({where}): largest relative error {err:.2%}", fontsize=8)
        ax.set_xlabel("noise scale $s$")
        ax.set_ylabel(r"outlier shift $\lambda - \theta$")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"$A + sX$, $N = {s['n']}$: a Marchenko–Pastur bulk with spikes {s['spikes']}, "
                 f"{s['samples']} draws per $s$")
    return fig
