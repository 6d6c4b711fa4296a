"""Figure ``exp_returns``: best test error against the training budget with the exponential fit."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Points: best test error per budget; line: a + b exp(c t)."""
    recs = [r for r in records if r.kind == "exp_returns"]
    fig, axes = plt.subplots(
        1, len(recs), figsize=(4.5 * len(recs), 3.3), squeeze=False, layout="constrained"
    )
    for ax, rec in zip(axes[0], recs, strict=True):
        s = rec.stats
        t = np.array([b["budget"] for b in s["budgets"]], float)
        ax.plot(t, [b["best_error"] for b in s["budgets"]], "o", label="best test error")
        f = s["fit"]
        if np.isfinite(f["c"]):
            tt = np.linspace(t.min(), t.max(), 200)
            ax.plot(
                tt,
                f["a"] + f["b"] * np.exp(f["c"] * tt),
                "-",
                label=rf"${f['a']:.3f} + {f['b']:.3f}\,e^{{{f['c']:.3f}\,t}}$, $R^2$ = {f['r2']:.3f}",
            )
        ax.set(
            xlabel="training budget (epochs)",
            ylabel="best test error",
            title=f"{s['setting']}: {s['model']} on {s['data']}, SGD lr {s['lr']:g}, seed {s['seed']}",
        )
        ax.legend(fontsize=7)
    return fig
