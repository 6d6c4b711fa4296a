"""Figure ``shrinkage_noise``: the noisy quadratic model against the damping."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import ramp


def draw(records: list[Record]) -> Figure:
    """Flat-to-sharp displacement ratio and the true loss after T steps against ε; loss curves."""
    rec = next(r for r in records if r.kind == "shrinkage_noise")
    s = rec.stats
    eps = np.array([e["eps"] for e in s["eps"]])
    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(11, 3.3), layout="constrained")
    ax.errorbar(
        eps,
        [e["ratio_mean"] for e in s["eps"]],
        yerr=[e["ratio_se"] for e in s["eps"]],
        fmt="o-",
        ms=4,
        capsize=2,
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"$\epsilon$ (damping)",
        ylabel="flat / sharp displacement",
        title=rf"mean $|w_T - w_0|$ along the {s['k']} flattest / sharpest directions",
    )
    ax2.errorbar(
        eps,
        [e["loss_mean"] for e in s["eps"]],
        yerr=[e["loss_se"] for e in s["eps"]],
        fmt="o-",
        ms=4,
        capsize=2,
        color="C1",
    )
    ax2.axhline(s["start_loss"], color="0.5", lw=0.6, ls="--", label="expected start loss")
    ax2.set(
        xscale="log",
        yscale="log",
        xlabel=r"$\epsilon$ (damping)",
        ylabel=f"true loss after {s['steps']} steps",
        title=rf"$n$ = {s['n']}, $\lambda \in$ [{s['lambda_min']:.1e}, {s['lambda_max']:g}]",
    )
    ax2.legend(fontsize=7)
    for e, curve, color in zip(s["eps"], rec.samples["loss_curve"], ramp(len(s["eps"])), strict=True):
        ax3.semilogy(curve, color=color, label=f"{e['eps']:g}")
    ax3.set(
        xlabel="step",
        ylabel="true loss (mean)",
        title=rf"lr {s['lr']:g}, $m$ = {s['curvature_samples']}, $b$ = {s['batch']}",
    )
    ax3.legend(fontsize=7, title=r"$\epsilon$", title_fontsize=7)
    return fig
