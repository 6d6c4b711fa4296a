"""Figure ``gan_banded``: the largest k_D and k_G with Θ_{k_D,k_G} > 0 under both conventions (G-6)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Rows: index convention (authors, corrected); columns: largest k_D, largest k_G (-1 grey: none)."""
    rec = next(r for r in records if r.kind == "gan_map")
    s, d = rec.stats, rec.samples
    fig, axes = plt.subplots(2, 2, figsize=(9.5, 7), layout="constrained", sharex=True, sharey=True)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.8")
    for row, conv in enumerate(("authors", "corrected")):
        for col, who in enumerate(("kd", "kg")):
            ax = axes[row, col]
            best = np.ma.masked_less(d[f"{who}_{conv}"], 0)
            mesh = ax.pcolormesh(d["u_d"], d["u_g"], best, cmap=cmap, vmin=0, vmax=s["k_max"],
                                 shading="auto")
            name = "$k_D$" if who == "kd" else "$k_G$"
            what = "the authors' index convention" if conv == "authors" else "corrected index convention"
            ax.set_title(f"{what}: largest {name}\n"
                         r"with $\Theta_{k_D, k_G} > 0$ (0: unconstrained only)")
            ax.set_xlabel(r"$u_D$ (discriminator loss)")
            ax.set_ylabel(r"$u_G$ (generator loss)")
    fig.colorbar(mesh, ax=axes, label=rf"largest index (0..{s['k_max']}); grey: $\Theta \leq 0$")
    return fig
