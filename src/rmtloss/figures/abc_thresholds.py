"""Figure ``abc_thresholds``: the thresholds :math:`E_k` against k, decreasing to :math:`E_\\infty`."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Draw E_k against k for every p, with the asymptote E_inf."""
    rec = next(r for r in records if r.kind == "abc")
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    for i, (p, einf) in enumerate(zip(rec.stats["threshold_p"], rec.stats["e_inf"], strict=True)):
        ax.plot(rec.samples["k"], rec.samples["thresholds"][i], "o-", markersize=2.5,
                color=f"C{i}", label=f"$p = {p}$")
        ax.axhline(einf, color=f"C{i}", linestyle="--", linewidth=0.8)
    ax.set_xlabel(r"index $k$")
    ax.set_ylabel(r"threshold $E_k$ (dashed: $E_\infty$)")
    ax.set_title(r"Layered critical points: $E_0 > E_1 > \dots > E_\infty$")
    ax.legend()
    return fig
