"""Figure ``outlier_shift_network``: top batch-Hessian eigenvalues against 1/b - 1/N.

Left: the mean over batches of size b (± s.e.) of the batch eigenvalue whose eigenvector overlaps
most with the i-th full-data outlier's (one-to-one; the overlaps in the inset), its least-squares
line (solid) and the line the free-convolution model predicts, θ_i + σ² m_D(θ_i) (1/b − 1/N)
(dashed, from the full-data outlier θ_i). Right: the noise variance of batch Hessian-vector products
against 1/b − 1/N and the line through the origin whose slope is σ² (its R² is printed). Third:
the premise of CLAIMS.md v3, the noise concentration κ_i = P‖E_b q_i‖²/tr(E_b²) along each tracked
outlier (median over batches) against 1/b − 1/N, with the threshold 3 (isotropic noise: 1); the
panel's title says whether the premise holds.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Means over batches with standard errors, the linear fit and the predicted slope per outlier,
    and the noise variance s_b^2 against 1/b - 1/N."""
    recs = [r for r in records if r.kind == "outlier_shift_network"]
    fig, axes = plt.subplots(
        len(recs),
        3,
        figsize=(15.0, 4.0 * len(recs)),
        layout="constrained",
        squeeze=False,
        width_ratios=[1.4, 1, 1],
    )
    for rec, (ax, ax2, ax3) in zip(recs, axes, strict=True):
        _outliers(rec, ax)
        _noise(rec, ax2)
        _kappa(rec, ax3)
    return fig


#: The premise's threshold on the median noise concentration (CLAIMS.md v3).
KAPPA_MAX = 3.0


def _kappa(rec: Record, ax) -> None:  # noqa: ANN001
    """The noise concentration along each tracked outlier against 1/b - 1/N, with the premise's line."""
    s, x = rec.stats, np.asarray(rec.samples["x"])
    measured = [o for o in s["outliers"] if "kappa_per_batch_size" in o]
    for i, o in enumerate(measured):
        ax.plot(x, o["kappa_per_batch_size"], "os^Dv"[i % 5] + "-", color=f"C{i}", ms=4, lw=0.8,
                label=rf"$\kappa_{i + 1}$, median {o['kappa_median']:.3g}")
    ax.axhline(1.0, color="0.5", ls=":", lw=1, label="isotropic noise (1)")
    ax.axhline(KAPPA_MAX, color="k", ls="--", lw=1, label=f"premise: median <= {KAPPA_MAX:g}")
    ax.set_yscale("log")
    worst = max((o["kappa_median"] for o in measured[:3]), default=float("nan"))
    verdict = ("no outlier tracked" if not measured else
               "premise holds" if worst <= KAPPA_MAX else "premise absent: the claim is not tested here")
    ax.set(xlabel=r"$1/b - 1/N$", ylabel=r"$\kappa = P\,\|E_b q\|^2 / \mathrm{tr}(E_b^2)$")
    ax.set_title(f"noise concentration along the outliers\n{verdict}")
    ax.legend(fontsize=7, loc="best")


def _outliers(rec: Record, ax) -> None:  # noqa: ANN001
    s, d = rec.stats, rec.samples
    x = np.asarray(d["x"])
    xs = np.linspace(0, x.max(), 50)
    for i, o in enumerate(s["outliers"]):
        c, k = f"C{i}", i + 1
        ax.errorbar(
            x,
            d["mean_top"][:, i],
            yerr=d["se_top"][:, i],
            fmt="os^Dv"[i % 5],
            ms=4,
            color=c,
            capsize=2,
            label=rf"$\lambda_{k}$: fitted slope {o['slope_fit']:.3g} ($R^2$ {o['r2']:.2f})"
            + (f"; 2nd order {o['slope_second_order']:.3g}" if "slope_second_order" in o else ""),
        )
        ax.plot(xs, o["intercept"] + o["slope_fit"] * xs, "-", color=c, lw=1.2)
        ax.plot(
            xs,
            o["theta"] + o["slope_predicted"] * xs,
            "--",
            color=c,
            lw=1.2,
            label=rf"predicted $\sigma^2 m_D(\theta_{k})$ = {o['slope_predicted']:.3g}",
        )
    if not s["outliers"]:
        ax.text(0.5, 0.5, "no outlier above the fitted bulk edge", transform=ax.transAxes, ha="center")
    if "mean_overlap" in d and s["outliers"]:
        inset = ax.inset_axes([0.62, 0.08, 0.35, 0.3])
        for i in range(len(s["outliers"])):
            inset.plot(x, d["mean_overlap"][:, i], "os^Dv"[i % 5] + "-", color=f"C{i}", ms=3, lw=0.8)
        inset.set(ylim=(0, 1), xlabel=r"$1/b - 1/N$", ylabel=r"$(q_i \cdot v)^2$")
        inset.set_title("eigenvector overlap with the full-data outlier", fontsize=6)
        inset.tick_params(labelsize=6)
        inset.xaxis.label.set_size(6)
        inset.yaxis.label.set_size(6)
    ax.set_xlabel(r"$1/b - 1/N$")
    ax.set_ylabel("batch-Hessian outliers (tracked by eigenvector)" if "mean_overlap" in d else
                  "top eigenvalues of batch Hessians")
    ax.set_title(
        f"{rec.run_name} ({s['method']}): P = {s['num_params']}, N = {s['num_data']}, "
        f"{s['full_outliers']} full-data outliers\nsolid: least-squares line; dashed: free-convolution "
        "prediction"
    )
    ax.legend(fontsize=7, loc="upper left")


def _noise(rec: Record, ax) -> None:  # noqa: ANN001
    s, d = rec.stats, rec.samples
    x = np.asarray(d["x"])
    xs = np.linspace(0, x.max(), 50)
    ax.plot(x, d["s2"], "o", color="C3", ms=6, label=r"mean over $v$ of $\|(H_b - H)\,v\|^2$")
    drawn = "noise_fit_r2_intercept" in s  # newer records: noise_fit_r2 is the drawn line's
    r2 = (
        f"$R^2$ {s['noise_fit_r2']:.3f}"
        if drawn
        else f"$R^2$ of a fit with intercept {s['noise_fit_r2']:.3f}"
    )
    ax.plot(
        xs,
        s["sigma2"] * xs,
        "-",
        color="0.3",
        label=rf"$\sigma^2 (1/b - 1/N)$, $\sigma^2$ = {s['sigma2']:.3g}",
    )
    ax.set_xlabel(r"$1/b - 1/N$")
    ax.set_ylabel(r"noise variance $s_b^2$")
    ax.set_title(f"noise variance of batch Hessian-vector products\nline through the origin ({r2})")
    ax.legend(fontsize=8, loc="upper left")
