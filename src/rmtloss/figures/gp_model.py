"""Figure ``gp_model``: GP Hessians: global densities far from a semicircle, GOE spacing ratios (C2.6)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid
from rmtloss.rmt import MEAN_RTILDE
from rmtloss.rmt.global_laws import semicircle_pdf


def draw(records: list[Record]) -> Figure:
    """A density panel per setting with its best semicircle, then <r~> per setting against GOE and Poisson."""
    rec = next(r for r in records if r.kind == "gp_model")
    rows, d = rec.stats["settings"], rec.samples
    fig, axes = grid(len(rows) + 1, ncols=4, size=2.4)
    for i, (ax, row) in enumerate(zip(axes, rows, strict=False)):
        ev = d[f"eig_{i}"]
        ax.hist(ev, bins=60, density=True, histtype="step", color="k")
        sc = row["semicircle"]["params"]
        x = np.linspace(ev.min(), ev.max(), 400)
        ax.plot(x, semicircle_pdf(x, sc["m"], sc["r"]), color="C0", label="best semicircle")
        top = float(np.abs(ev).max())  # the authors' overlay: centred at 0, radius max |eigenvalue|
        ax.plot(x, semicircle_pdf(x, 0.0, top), color="C3", ls="--", label="authors' overlay")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, None)
        ax.set_title(
            f"{row['name']}\nKS: overlay {row['ks_semicircle_max_eig']:.3f}, "
            f"best {row['semicircle']['ks']:.3f}; "
            rf"$\langle\tilde r\rangle$ {row['mean_rtilde']:.3f}",
            fontsize=7,
        )
        if i == 0:
            ax.legend(fontsize=7, loc="lower center")
    ax = axes[-1]
    y = np.arange(len(rows))
    means = np.array([r["mean_rtilde"] for r in rows])
    ci = np.array([r["ci"] for r in rows])
    ax.errorbar(means, y, xerr=[means - ci[:, 0], ci[:, 1] - means], fmt="o", color="C3")
    for name, label, style in (("goe", "GOE", "-"), ("poisson", "Poisson", ":")):
        ax.axvline(MEAN_RTILDE[name], color="0.4", linestyle=style, label=label)
    ax.axvspan(0.51, 0.55, color="C2", alpha=0.15, label="claim band [0.51, 0.55]")
    ax.set_yticks(y, [r["name"] for r in rows], fontsize=7)
    ax.set_xlabel(r"$\langle\tilde r\rangle$")
    ax.legend(fontsize=7)
    return fig
