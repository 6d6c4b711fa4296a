"""Figure ``local_law_damping``: damped-inverse quadratic forms, empirical vs deterministic vs naive."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def _panel(ax, deltas, emp, det, naive, title: str) -> None:  # noqa: ANN001
    for j, (name, c) in enumerate((("random/gradient", "C0"), ("e0/random", "C1"))):
        if emp.shape[1] <= j:
            continue
        ok = np.isfinite(emp[:, j]) & np.isfinite(det[:, j])
        ax.semilogy(
            deltas[ok],
            np.abs(det[ok, j] - emp[ok, j]) / np.abs(emp[ok, j]),
            "o-",
            color=c,
            ms=3,
            label=f"{name.split('/')[0 if 'synthetic' in title else 1]}: (A + delta_eff)^-1",
        )
        okn = np.isfinite(emp[:, j]) & np.isfinite(naive[:, j])
        ax.semilogy(
            deltas[okn],
            np.abs(naive[okn, j] - emp[okn, j]) / np.abs(emp[okn, j]),
            "s:",
            color=c,
            ms=3,
            mfc="none",
            label="naive (A + delta)^-1",
        )
    ax.axhline(0.02, color="0.5", lw=0.6)
    ax.set_xlabel("damping delta")
    ax.set_ylabel("relative error to the empirical mean")
    ax.set_title(title)
    ax.legend(fontsize=6)


def _run(rec: Record) -> str:
    return rec.stats["run"].rstrip("/").split("/")[-2]


def draw(records: list[Record]) -> Figure:
    """Relative error of the deterministic equivalent and of the naive inverse against δ."""
    syn = next(r for r in records if r.stats.get("kind") == "local_law_synthetic")
    nets = [r for r in records if r.stats.get("kind") == "outlier_shift_network"]
    panels = [(syn, s) for s in syn.stats["s"]] + [(net, None) for net in nets]
    fig, axes = grid(len(panels), ncols=3, size=3.0)
    for ax, (rec, s) in zip(axes, panels, strict=True):
        d = rec.samples
        if s is not None:
            _panel(
                ax,
                d["deltas"],
                d[f"s{s}_empirical"],
                d[f"s{s}_deterministic"],
                d[f"s{s}_naive"],
                f"synthetic: N = {rec.stats['n']}, s = {s}",
            )
        else:
            law = rec.stats["local_law"]
            if not law.get("computed", False):
                ax.text(
                    0.5, 0.5, law.get("why", "not computed"), transform=ax.transAxes, ha="center", wrap=True
                )
                continue
            _panel(
                ax,
                d["law_deltas"],
                d["law_empirical"],
                d["law_deterministic"],
                d["law_naive"],
                f"{_run(rec)} batch Hessians, b = {law['batch_size']}, s^2 = {law['s2']:.2g}",
            )
    fig.suptitle("quadratic forms u^T (H_b + delta)^-1 u: deterministic equivalent vs naive")
    return fig
