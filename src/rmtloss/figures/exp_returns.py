"""Figure ``exp_returns``: best test error against the training budget with the exponential and
power-law fits, one panel per setting, and the same fits of the authors' ImageNet table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.papers.baskerville2022appearance import IMAGENET_BUDGETS, IMAGENET_PUBLISHED, imagenet_fits


def _fits(ax, t: np.ndarray, exp: dict, power: dict | None) -> None:  # noqa: ANN001
    """The fitted curves over the budgets' range, with their parameters and R² in the legend."""
    tt = np.geomspace(t.min(), t.max(), 200)
    if np.isfinite(exp["c"]):
        ax.plot(tt, exp["a"] + exp["b"] * np.exp(exp["c"] * tt), "-",
                label=rf"${exp['a']:.3f} + {exp['b']:.3f}\,e^{{{exp['c']:.3f}\,t}}$, $R^2$ = {exp['r2']:.4f}")
    if power and np.isfinite(power["k"]):
        ax.plot(tt, power["a"] + power["b"] * tt ** -power["k"], "--",
                label=rf"${power['a']:.3f} + {power['b']:.3f}\,t^{{-{power['k']:.2f}}}$, "
                rf"$R^2$ = {power['r2']:.4f}")


def draw(records: list[Record]) -> Figure:
    """Points: best test error per budget (mean ± s.e. over seeds); lines: a + b exp(c t) and
    a + b t^(-k). Last panel: the authors' ImageNet top-1 errors with both fits."""
    recs = [r for r in records if r.kind == "exp_returns"]
    fig, axes = plt.subplots(
        1, len(recs) + 1, figsize=(4.5 * (len(recs) + 1), 3.3), squeeze=False, layout="constrained"
    )
    for ax, rec in zip(axes[0][:-1], recs, strict=True):
        s = rec.stats
        t = np.array([b["budget"] for b in s["budgets"]], float)
        ax.errorbar(t, [b["best_error"] for b in s["budgets"]], [b.get("se", 0.0) for b in s["budgets"]],
                    fmt="o", ms=4, capsize=2, label="best test error")
        _fits(ax, t, s["fit"], s.get("power"))
        seeds = s.get("seeds", [s.get("seed")])
        ax.set(xscale="log", yscale="log", xlabel="training budget (epochs)", ylabel="best test error",
               title=f"{s['setting']}: {s['model']} on {s['data']}, SGD lr {s['lr']:g}, {len(seeds)} seeds")
        ax.legend(fontsize=7)
    ax = axes[0][-1]
    t, acc = np.array(IMAGENET_BUDGETS, float).T
    ref = imagenet_fits()
    ax.plot(t, 1 - acc / 100, "o", ms=4, label="authors' ImageNet table")
    _fits(ax, t, ref["exp"], ref["power"])
    pub = IMAGENET_PUBLISHED
    tt = np.geomspace(t.min(), t.max(), 200)
    ax.plot(tt, pub["a"] + pub["b"] * np.exp(pub["c"] * tt), ":", color="0.3",
            label=f"published: {pub['a']} + {pub['b']} exp({pub['c']} t)")
    ax.set(xlabel="training budget (epochs)", ylabel="best top-1 error",
           title="authors' ImageNet table (reported)")
    ax.legend(fontsize=7)
    return fig
