"""Figure ``percolated_zero_mass``: zero atom of diluted Wigner matrices against the mean degree c."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Sampled zero mass with its standard error, Bauer–Golinelli and the isolated-vertex bound e^-c."""
    rec = next(r for r in records if r.kind == "percolated_zero_mass")
    s, d = rec.stats, rec.samples
    fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    ax.plot(d["c_fine"], d["formula_fine"], color="0.2",
            label=r"Bauer–Golinelli $2t + ct^2 - 1$, $t = W(c)/c$")
    ax.plot(d["c_fine"], d["isolated_fine"], ":", color="0.5",
            label=r"isolated vertices $e^{-c}$ (lower bound)")
    ax.errorbar(
        d["c"],
        d["sampled"],
        yerr=s["stderr"],
        fmt="o",
        color="C3",
        label=f"sampled, $N = {s['n']}$, {s['samples']} matrices",
    )
    ax.set_xlabel("mean degree $c$")
    ax.set_ylabel("share of zero eigenvalues")
    ax.set_title(f"Diluted Wigner: largest |sampled - formula| = {s['max_abs_error']:.4f}")
    ax.legend(fontsize=7)
    return fig
