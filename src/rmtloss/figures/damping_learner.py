"""Figure ``damping_learner``: the RMT damping learner against fixed damping (Adam's ε or K-FAC's λ),
and the learned δ_t per start (the damping paper's figure types 3 and 4)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import arm_curve, mean_curve


def draw(records: list[Record]) -> Figure:
    """Left: final test error against the initial damping, learner and fixed. Right: δ_t per epoch."""
    recs = [r for r in records if r.kind == "damping_learner"]
    fig, axes = plt.subplots(len(recs), 2, figsize=(9, 3.4 * len(recs)), squeeze=False, layout="constrained")
    for (ax, ax2), rec in zip(axes, recs, strict=True):
        s = rec.stats
        opt = {"adam": "Adam", "kfac": "K-FAC"}.get(s.get("optimizer", "adam"), s.get("optimizer"))
        variant = {"gap": "damping-gap", "shrinkage": "shrinkage"}.get(s.get("learner_variant", "gap"))
        arm_curve(ax, s["fixed"], "eps", rf"{opt}, fixed damping", "s:", "C1")
        arm_curve(ax, s["learner"], "eps", rf"{opt} + RMT {variant} learner", "o-", "C0")
        ax.set_xscale("log")
        ax.set_xlabel(r"initial damping $\delta_0$")
        ax.set_ylabel("final test error (mean ± s.e.)")
        ax.set_title(f"{s['setting']}: {opt}, {s['model']} on {s['data']}, {len(s['seeds'])} seeds")
        ax.legend(fontsize=7)
        for i, arm in enumerate(s["learner"]):
            d = mean_curve(rec.samples, f"damping.{arm['arm']}")
            if d.size:
                ax2.semilogy(np.arange(len(d)), d, color=f"C{i}",
                             label=rf"$\delta_0$ = {arm['eps']:g}")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel(r"learned $\delta_t$ (mean over seeds)")
        ax2.set_title(
            rf"$\delta_t$, updated every {s['learner_every']} steps ({s['stats_samples']} statistics samples)"
        )
        ax2.legend(fontsize=7)
    return fig
