"""Figure ``gan_coulomb``: log-potential against Monte Carlo log-determinants at N = 50 (G-2)."""

from __future__ import annotations

from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def draw(records: list[Record]) -> Figure:
    """One panel per x_1: U(x; x_1) as a line, N^-1 log E|det(H - x)| with one standard error as crosses."""
    rec = next(r for r in records if r.kind == "gan_coulomb")
    s, d = rec.stats, rec.samples
    fig, axes = grid(len(s["x1"]), ncols=5, size=2.6)
    for i, (ax, x1) in enumerate(zip(axes, s["x1"], strict=True)):
        ax.plot(d["x"], d["theory"][i], color="C0", label="log-potential $U$")
        ax.errorbar(d["x"], d["mc"][i], yerr=d["mc_stderr"][i], fmt="x", color="C3", markersize=3,
                    label=f"Monte Carlo, $N = {s['n']}$")
        ax.axvspan(-s["far"], s["far"], color="0.92", zorder=0)
        ax.set_title(f"$x_1 = {x1:g}$\n" + rf"$|U - \mathrm{{MC}}|$ at $|x| \geq {s['far']:g}$: "
                     f"{s['max_diff_far_per_x1'][i]:.4f}", fontsize=8)
        ax.set_xlabel("$x$")
    axes[0].set_ylabel(r"$N^{-1} \log E|\det(H - x)|$")
    axes[0].legend(fontsize=7, title=rf"grey: $|x| < {s['far']:g}$", title_fontsize=7)
    return fig
