"""Figure ``activation_prefactor``: the sharp factor :math:`|1 - \\theta g(x)|` of a rank-one
deformation against energy, with Monte Carlo determinant ratios (general activations, section 2).

θ is a free parameter: how it follows from the activation's slopes and intercepts is in the paper
and not known here ([MEM]); the leading-order complexity is ABC's whatever θ.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Draw the prefactor curves and the Monte Carlo points."""
    rec = next(r for r in records if r.kind == "activation")
    s, st = rec.samples, rec.stats
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained",
                                  gridspec_kw={"width_ratios": [1.6, 1]})
    for i, theta in enumerate(st["thetas"]):
        ax.plot(s["u"], s["curves"][i], color=f"C{i}", label=rf"$\theta = {theta:g}$")
        ax.errorbar(s["u_mc"], s["mc_ratio"][i], yerr=3 * s["mc_stderr"][i], fmt="o",
                    color=f"C{i}", markersize=3, capsize=2)
    ax.set_xlabel(rf"energy $u$ ($p = {st['p']}$; $x = \sqrt{{p / (2(p-1))}}\,u$)")
    ax.set_ylabel(r"$E|\det(H + \theta e e^T)|\;/\;E|\det H|$")
    ax.set_title(rf"Rank-one deformation: $|1 - \theta g(x)|$ (lines), Monte Carlo $N$ = {st['n']}, "
                 f"{st['samples']} samples (points, 3 s.e.)\n$\\theta$ free: its link to the "
                 "activation is not known here", fontsize=8)
    ax.legend(fontsize=7, ncol=2)
    fits = st.get("piecewise_linear", {})
    for i, (name, fit) in enumerate(fits.items()):
        ax2.plot(s["x_act"], s[f"act_{name}"], color=f"C{i}", label=name)
        k = len(fit["pieces"]) // 2
        ax2.plot(s["x_act"], s[f"pl_{name}"][k], color=f"C{i}", linestyle="--", linewidth=0.9,
                 label=f"{fit['pieces'][k]} pieces, L2 {fit['l2_error'][k]:.3f}")
    ax2.set_xlabel("pre-activation")
    ax2.set_title(r"Piecewise-linear fits under $N(0, 1)$ inputs (the paper's model class)", fontsize=8)
    ax2.legend(fontsize=7, ncol=2)
    return fig
