"""Figure ``abc_complexity``: :math:`\\Theta_p(u)` and :math:`\\Theta_{k,p}(u)`, k = 0..5, p = 3.

Full range and a zoom on the band :math:`[-E_0, -E_\\infty]` of low-index critical points, with
vertical lines at :math:`-E_0` and :math:`-E_\\infty` (Auffinger, Ben Arous, Černý 2013).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Draw the complexity curves."""
    rec = next(r for r in records if r.kind == "abc")
    s, st = rec.samples, rec.stats
    e0, einf = st["thresholds"][0][0], st["e_inf"][0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, part in zip(axes, ("full", "zoom"), strict=True):
        u = s[f"u_{part}"]
        ax.plot(u, s[f"theta_{part}"], color="0.2", linewidth=4, alpha=0.45,
                label=r"$\Theta_p$ (all indices; under $\Theta_{0,p}$ below $-E_\infty$)")
        k = 0
        while f"theta_k{k}_{part}" in s:
            ax.plot(u, s[f"theta_k{k}_{part}"], linewidth=1.4, label=rf"$\Theta_{{k,p}}$, $k = {k}$")
            k += 1
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(-e0, color="C3", linestyle=":", label=rf"$-E_0$ = {-e0:.4f}")
        ax.axvline(-einf, color="C7", linestyle="--", label=rf"$-E_\infty$ = {-einf:.4f}")
        ax.set_xlabel(r"energy $u$")
        ax.set_ylabel("complexity")
    axes[1].set_ylim(-0.02, 0.02)
    axes[0].set_title(f"Spherical {st['p']}-spin glass: cumulative complexity")
    axes[1].set_title("zoom on the band of low-index critical points")
    axes[1].legend(fontsize=8, loc="upper left")
    return fig
