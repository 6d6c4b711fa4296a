"""Figure ``gan_complexity_map``: Θ(u_D, u_G) with its Θ > 0 boundary and slices (G-4)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Filled contours of Θ, the smallest u_G with Θ > 0 against u_D, and Θ against u_G at five u_D."""
    rec = next(r for r in records if r.kind == "gan_map")
    s, d = rec.stats, rec.samples
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    theta = np.ma.masked_invalid(d["theta"])
    cs = ax.contourf(d["u_d"], d["u_g"], theta, levels=30, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="Theta(u_D, u_G)")
    ax.contour(d["u_d"], d["u_g"], np.nan_to_num(d["theta"], nan=-1.0), levels=[0], colors="red")
    ax.plot(d["u_d"], d["min_u_g"], color="white", linewidth=0.8, linestyle="--",
            label="smallest u_G with Theta > 0")
    ax.set_xlabel("u_D (discriminator loss)")
    ax.set_ylabel("u_G (generator loss)")
    ax.set_title(f"p = q = {s['p']}, sigma_z = {s['sigma_z']}, kappa = {s['kappa']} (C unverified)")
    ax.legend(loc="upper right")
    for j in np.linspace(0, len(d["u_d"]) - 1, 7)[1:-1].astype(int):
        ax2.plot(d["u_g"], d["theta"][:, j], label=f"u_D = {d['u_d'][j]:.2f}")
    ax2.axhline(0, color="k", linewidth=0.6)
    ax2.set_xlabel("u_G")
    ax2.set_ylabel("Theta")
    ax2.set_title("slices at fixed u_D")
    ax2.legend()
    return fig
