"""Figure ``spacing_ratios``: folded spacing ratios against the GOE and Poisson laws.

One panel per analysed spectra set (every network, trained and at initialisation, Hessian and GGN,
batches and full data) and a control panel: eigenvalues of all batches of one set superposed
(Poisson-like) and GOE samples of the same size. Each panel shows :math:`\\langle\\tilde r\\rangle`
with its 95% bootstrap interval. Baskerville, Granziol, Keating (2022), the ratio histograms.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid
from rmtloss.rmt import MEAN_RTILDE, folded, ratio_density

_X = np.linspace(0, 1, 400)


def _panel(ax, r: np.ndarray, title: str, summary: dict) -> None:  # noqa: ANN001
    ax.hist(folded(r), bins=30, range=(0, 1), density=True, color="0.75", edgecolor="0.5",
            linewidth=0.3, label="data")
    ax.plot(_X, 2 * ratio_density(_X, "goe"), "C0", linewidth=1.6, label="GOE")
    ax.plot(_X, 2 * ratio_density(_X, "poisson"), "C3--", linewidth=1.6, label="Poisson")
    ax.set_title(f"{title}\n" + rf"$\langle\tilde r\rangle$ = {summary['mean']:.4f}  "
                 f"[{summary['ci_low']:.4f}, {summary['ci_high']:.4f}]")
    ax.set_ylim(0, 2.2)
    ax.set_xlabel(r"$\tilde r = \min(r, 1/r)$")
    ax.set_ylabel("density")


def draw(records: list[Record]) -> Figure:
    """Draw the ratio histograms."""
    control = next((r for r in records if r.stats["controls"]), None)
    fig, axes = grid(len(records) + (2 if control else 0))
    for ax, rec in zip(axes, records, strict=False):
        _panel(ax, rec.samples["r"], rec.label, rec.stats["ratios"])
    if control:
        c = control.stats["controls"]
        _panel(axes[-2], control.samples["pooled_r"], f"control: {control.stats['run']} batches "
               "superposed", c["pooled"])
        _panel(axes[-1], control.samples["goe_r"], f"control: GOE n={c['goe_size']}",
               c["goe_same_size"])
    axes[0].legend(loc="upper right")
    fig.suptitle(r"Spacing ratios: $\langle\tilde r\rangle$ with its 95% interval over batches "
                 f"(GOE {MEAN_RTILDE['goe']}, Poisson {MEAN_RTILDE['poisson']:.4f})")
    return fig
