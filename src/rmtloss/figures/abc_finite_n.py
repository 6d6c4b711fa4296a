"""Figure ``abc_finite_n``: :math:`N^{-1}\\log E\\,\\mathrm{Crt}_N((-\\infty,u))` from the exact GOE
form for several N, converging to :math:`\\Theta_p(u)`."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from rmtloss.figures import Record


def draw(records: list[Record]) -> Figure:
    """Draw the finite-N complexities and the limit."""
    rec = next(r for r in records if r.kind == "abc")
    s, st = rec.samples, rec.stats
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    for i, n in enumerate(st["finite_n"]):
        ax.plot(s["u_finite"], s["finite"][i], color=f"C{i}",
                label=f"$N = {n}$ (largest distance to the limit {st['finite_n_distance'][i]:.3f})")
    ax.plot(s["u_finite"], s["finite_limit"], "k--", label=r"$\Theta_p$ ($N \to \infty$)")
    ax.set_xlabel(r"energy $u$")
    ax.set_ylabel(r"$N^{-1} \log E\,\mathrm{Crt}_N((-\infty, u))$")
    ax.set_title(f"Exact finite-$N$ complexity, $p = {st['p']}$; Monte Carlo check at $N = 3$ in the ledger")
    ax.legend(fontsize=7)
    return fig
