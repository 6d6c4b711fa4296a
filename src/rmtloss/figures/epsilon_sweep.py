"""Figure ``epsilon_sweep``: Adam's final test error against ε with SGD's band, one panel per setting."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def _curve(ax, arms: list[dict], key: str, label: str, style: str, color: str) -> None:  # noqa: ANN001
    """Mean ± s.e. of the final test error against ``key``; diverged runs are counted in the label."""
    x = np.array([a[key] for a in arms])
    m, se = np.array([a["mean"] for a in arms]), np.array([a["se"] for a in arms])
    div = sum(a["diverged"] for a in arms)
    ax.errorbar(
        x,
        m,
        yerr=se,
        fmt=style,
        color=color,
        ms=4,
        capsize=2,
        label=label + (f" ({div} runs diverged)" if div else ""),
    )


def _sgd_band(ax, sgd: dict) -> None:  # noqa: ANN001
    ax.axhspan(
        sgd["mean"] - sgd["se"],
        sgd["mean"] + sgd["se"],
        color="0.85",
        label=f"SGD, lr {sgd['lr']:g} (mean +- s.e.)",
    )
    ax.axhline(sgd["mean"], color="0.4", lw=0.8)


def draw(records: list[Record]) -> Figure:
    """Test error vs ε (log axis; ε = 0 not allowed) for every epsilon_sweep setting."""
    recs = [r for r in records if r.stats.get("kind") == "optimiser_epsilon_sweep"]
    fig, axes = grid(len(recs), ncols=2, size=3.0)
    for ax, rec in zip(axes, recs, strict=True):
        s = rec.stats
        _sgd_band(ax, s["sgd"])
        _curve(ax, s["adam"], "eps", "Adam, lr x (1 + eps)" if s["shrinkage"] else "Adam", "o-", "C0")
        ax.set_xscale("log")
        ax.set_xlabel("epsilon (damping)")
        ax.set_ylabel("final test error")
        ax.set_title(
            f"{s['setting']}: {s['model']} on {s['data']}\n(P = {s['num_params']}, "
            f"N = {s['n_train']}), {len(s['seeds'])} seeds, {s['epochs']} epochs"
        )
        ax.legend(fontsize=6)
    return fig
