"""Figure ``outlier_shift_network``: top batch-Hessian eigenvalues against 1/b - 1/N."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Means over batches with standard errors, the linear fit and the predicted slope per outlier,
    and the noise variance s_b^2 against 1/b - 1/N."""
    recs = [r for r in records if r.kind == "outlier_shift_network"]
    fig, axes = plt.subplots(len(recs), 2, figsize=(9, 3.6 * len(recs)), layout="constrained", squeeze=False)
    for rec, (ax, ax2) in zip(recs, axes, strict=True):
        _row(rec, ax, ax2)
    return fig


def _row(rec: Record, ax, ax2) -> None:  # noqa: ANN001
    """One network: outliers against 1/b - 1/N (left), the noise variance (right)."""
    s, d = rec.stats, rec.samples
    x = np.asarray(d["x"])
    xs = np.linspace(0, x.max(), 50)
    for i, o in enumerate(s["outliers"]):
        c = f"C{i}"
        ax.errorbar(
            x,
            d["mean_top"][:, i],
            yerr=d["se_top"][:, i],
            fmt="o",
            ms=3,
            color=c,
            label=f"lambda_{i + 1}: fit slope {o['slope_fit']:.3g}, R^2 {o['r2']:.2f}",
        )
        ax.plot(xs, o["intercept"] + o["slope_fit"] * xs, "-", color=c, lw=0.8)
        ax.plot(
            xs,
            o["theta"] + o["slope_predicted"] * xs,
            "--",
            color=c,
            lw=0.8,
            label=f"predicted sigma^2 m_D(theta) = {o['slope_predicted']:.3g}",
        )
    if not s["outliers"]:
        ax.text(0.5, 0.5, "no outlier above the fitted bulk edge", transform=ax.transAxes, ha="center")
    ax.set_xlabel("1/b - 1/N")
    ax.set_ylabel("top eigenvalues of batch Hessians")
    ax.set_title(
        f"{s['run'].rstrip('/').split('/')[-2]} ({s['method']}): P = {s['num_params']}, N = {s['num_data']}, "
        f"{s['full_outliers']} full-data outliers"
    )
    ax.legend(fontsize=6)
    ax2.plot(x, d["s2"], "o", color="C3", label="mean |(H_b - H) v|^2")
    ax2.plot(xs, s["sigma2"] * xs, "-", color="0.3", label=f"sigma^2 = {s['sigma2']:.3g}")
    ax2.set_xlabel("1/b - 1/N")
    ax2.set_ylabel("noise variance s_b^2")
    ax2.set_title(f"noise variance (R^2 {s['noise_fit_r2']:.3f})")
    ax2.legend(fontsize=7)
