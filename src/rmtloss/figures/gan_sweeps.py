"""Figure ``gan_sweeps``: thresholds θ_D and θ_G against σ_z and κ for each (p, q) (G-8, G-9)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record

_SWEEP_LABEL = {"sigma_z": r"$\sigma_z$", "kappa": r"$\kappa$"}


def _series(records: list[Record], sweep: str) -> dict[tuple[int, int], list[dict]]:
    out: dict[tuple[int, int], list[dict]] = {}
    for r in records:
        if r.kind == "gan_point" and r.stats.get("sweep") == sweep:
            out.setdefault((r.stats["p"], r.stats["q"]), []).append(r.stats)
    return {k: sorted(v, key=lambda s: s[sweep]) for k, v in sorted(out.items())}


def draw(records: list[Record]) -> Figure:
    """Top: θ_D; bottom: θ_G on the authors' grid (solid) and with x unbounded (dashed)."""
    series = {s: _series(records, s) for s in ("sigma_z", "kappa")}
    series = {s: v for s, v in series.items() if v}
    fig, axes = plt.subplots(2, len(series), figsize=(5.2 * len(series), 7), layout="constrained",
                             squeeze=False)
    for col, (sweep, by_pq) in enumerate(series.items()):
        for i, ((p, q), pts) in enumerate(by_pq.items()):
            x = [s[sweep] for s in pts]
            axes[0, col].plot(x, [s["theta_d"] for s in pts], "o-", markersize=2.5, color=f"C{i % 10}",
                              label=f"$p = {p}$, $q = {q}$")
            axes[1, col].plot(x, [s["theta_g"] for s in pts], "o-", markersize=2.5, color=f"C{i % 10}")
            axes[1, col].plot(x, [s["theta_g_converged"] for s in pts], "--", color=f"C{i % 10}",
                              linewidth=0.9)
        for ax, name in zip(axes[:, col], (r"$\theta_D = \min u_D$", r"$\theta_G = \min u_G$"), strict=True):
            ax.set_ylabel(name)
            ax.set_xlabel(_SWEEP_LABEL[sweep])
            if sweep == "sigma_z":
                ax.set_xscale("log")
        axes[1, col].set_yscale("symlog", linthresh=0.1)
        axes[0, col].set_title(rf"{_SWEEP_LABEL[sweep]} sweep ($\Theta > 0$ region)" "\n"
                               "with the authors' constant C, not derived by us")
        axes[1, col].set_title(r"solid: the authors' $x$ grid (floor $x_{\min}/c$); dashed: $x$ unbounded")
        axes[0, col].legend()
    return fig
