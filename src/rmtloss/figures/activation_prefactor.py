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
    rec = next(r for r in records if r.stats.get("kind") == "activation")
    s, st = rec.samples, rec.stats
    fig, ax = plt.subplots(figsize=(7, 4.3), layout="constrained")
    for i, theta in enumerate(st["thetas"]):
        ax.plot(s["u"], s["curves"][i], color=f"C{i}", label=f"theta = {theta:g}")
        ax.errorbar(s["u_mc"], s["mc_ratio"][i], yerr=3 * s["mc_stderr"][i], fmt="o",
                    color=f"C{i}", markersize=3, capsize=2)
    ax.set_xlabel(f"energy u (p = {st['p']}; x = sqrt(p / (2(p-1))) u)")
    ax.set_ylabel("E|det(H + theta ee^T)| / E|det H|")
    ax.set_title(f"Rank-one deformation: |1 - theta g(x)| (lines), Monte Carlo N = {st['n']}, "
                 f"{st['samples']} samples (points, 3 s.e.)\ntheta free: its link to the "
                 "activation is not known here", fontsize=8)
    ax.legend(fontsize=7, ncol=2)
    return fig
