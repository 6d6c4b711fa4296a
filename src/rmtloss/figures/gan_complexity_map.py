"""Figure ``gan_complexity_map``: Θ(u_D, u_G) with its Θ > 0 boundary and slices at fixed u_D.

Θ carries the authors' constant C of the Kac–Rice prefactor, which we could not derive from the
model (``gan.C_UNVERIFIED``): it shifts Θ by a constant and so moves the Θ = 0 boundary.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record

_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))


def draw(records: list[Record]) -> Figure:
    """Filled contours of Θ, the smallest u_G with Θ > 0 against u_D, and Θ against u_G at five u_D."""
    rec = next(r for r in records if r.kind == "gan_map")
    s, d = rec.stats, rec.samples
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    theta = np.ma.masked_invalid(d["theta"])
    cs = ax.contourf(d["u_d"], d["u_g"], theta, levels=30, cmap="viridis")
    fig.colorbar(cs, ax=ax, label=r"$\Theta(u_D, u_G)$")
    ax.contour(d["u_d"], d["u_g"], np.nan_to_num(d["theta"], nan=-1.0), levels=[0], colors="red")
    ax.plot(d["u_d"], d["min_u_g"], color="white", linewidth=1.2, linestyle="--",
            label=r"smallest $u_G$ with $\Theta > 0$ (red: $\Theta = 0$)")
    ax.set_xlabel(r"$u_D$ (discriminator loss)")
    ax.set_ylabel(r"$u_G$ (generator loss)")
    ax.set_title(rf"$p = q = {s['p']}$, $\sigma_z = {s['sigma_z']}$, $\kappa = {s['kappa']}$"
                 "\n(with the authors' constant C, not derived by us)")
    ax.legend(loc="upper right", fontsize=8)
    cols = np.linspace(0, len(d["u_d"]) - 1, 7)[1:-1].astype(int)
    for n, j in enumerate(cols):
        ax2.plot(d["u_g"], d["theta"][:, j], linestyle=_STYLES[n % len(_STYLES)], linewidth=2.4 - 0.35 * n,
                 color=f"C{n}", label=rf"$u_D = {d['u_d'][j]:.2f}$")
    ax2.axhline(0, color="k", linewidth=0.6)
    ax2.set_xlabel(r"$u_G$")
    ax2.set_ylabel(r"$\Theta$")
    ax2.set_title(r"slices at fixed $u_D$ (equal slices overlap: thinner lines on top)")
    ax2.legend(fontsize=8)
    return fig
