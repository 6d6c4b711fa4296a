"""Figure ``local_law_damping``: damped-inverse quadratic forms, empirical vs deterministic vs naive."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import grid


def _panel(ax, deltas, emp, det, naive, vectors: list[str], title: str) -> None:  # noqa: ANN001
    """Relative error to the empirical mean of each inverse, per quadratic-form vector."""
    for j, name in enumerate(vectors):
        for approx, style, label in (
            (det, "o-", rf"{name}: $(A + \delta_{{\rm eff}})^{{-1}}$"),
            (naive, "s:", rf"{name}: naive $(A + \delta)^{{-1}}$"),
        ):
            ok = np.isfinite(emp[:, j]) & np.isfinite(approx[:, j])
            err = np.abs(approx[ok, j] - emp[ok, j]) / np.abs(emp[ok, j])
            ax.semilogy(
                deltas[ok],
                err,
                style,
                color=f"C{j}",
                ms=4,
                mfc=None if style == "o-" else "none",
                label=label,
            )
    ax.axhline(0.02, color="0.4", lw=0.9, ls="--", label="2%: the claim's tolerance")
    ax.set_xlabel(r"damping $\delta$")
    ax.set_ylabel("relative error to the empirical mean")
    ax.set_title(title)
    ax.legend(fontsize=7)


def draw(records: list[Record]) -> Figure:
    """Relative error of the deterministic equivalent and of the naive inverse against δ."""
    syn = next(r for r in records if r.kind == "local_law_synthetic")
    # a panel per synthetic s, then per network: the complement of the null space, the whole space
    nets = [r for r in records if r.kind == "outlier_shift_network"]
    panels = [(syn, s) for s in syn.stats["s"]] + [
        (net, part) for net in nets for part in ("local_law_complement", "local_law") if part in net.stats
    ]
    fig, axes = grid(len(panels), ncols=3, size=3.0)
    for ax, (rec, s) in zip(axes, panels, strict=True):
        d = rec.samples
        if not s.startswith("local_law"):
            _panel(
                ax,
                d["deltas"],
                d[f"s{s}_empirical"],
                d[f"s{s}_deterministic"],
                d[f"s{s}_naive"],
                rec.stats["vectors"],
                f"synthetic $A + sX$: $N = {rec.stats['n']}$, $s = {s}$",
            )
        else:
            law = rec.stats[s]
            if not law.get("computed", False):
                ax.text(
                    0.5, 0.5, law.get("why", "not computed"), transform=ax.transAxes, ha="center", wrap=True
                )
                continue
            prefix = "law_complement" if s == "local_law_complement" else "law"
            where = (
                f"off a {law['null_dim']}-dim. common null space (decides)"
                if s == "local_law_complement"
                else "whole space, isotropic (reported)"
            )
            _panel(
                ax,
                d[f"{prefix}_deltas"],
                d[f"{prefix}_empirical"],
                d[f"{prefix}_deterministic"],
                d[f"{prefix}_naive"],
                law["vectors"],
                f"{rec.run_name}, $b = {law['batch_size']}$, $s^2 = {law['s2']:.2g}$:\n{where}",
            )
    fig.suptitle("Quadratic forms " + r"$u^T (H_b + \delta)^{-1} u$: relative error of the deterministic "
                 "equivalent\n" + r"$(A + \delta_{\rm eff})^{-1}$ (solid) and of the naive "
                 r"$(A + \delta)^{-1}$ (dotted)")
    return fig
