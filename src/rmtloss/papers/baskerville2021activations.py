"""Baskerville, Keating, Mezzadri, Najnudel, *The loss surfaces of neural networks with general
activation functions*, J. Stat. Mech. (2021), arXiv 2004.03959.

The computable part of the general-activation spin-glass model: a low-rank deformation of the
Kac–Rice matrix changes the complexity only through the sharp factor |1 − θ g(x)| (g the Stieltjes
transform of the semicircle), and indices by at most the rank (interlacing). How θ follows from
an activation is left free here.
"""

from __future__ import annotations

import numpy as np

from rmtloss.papers._registry import NotRun, Outcome, Stats, claim, figure, paper

ACTIVATIONS = paper(
    "baskerville2021activations",
    "The loss surfaces of neural networks with general activation functions",
    "Baskerville, Keating, Mezzadri, Najnudel",
    2021,
    "2004.03959",
    "General activations",
)

figure(
    "activation_prefactor",
    ACTIVATIONS,
    "activation",
    "Left: the factor by which a rank-one deformation theta e e^T changes E|det H| of the spin-glass "
    "Kac-Rice matrix, the formula |1 - theta g(x)| (lines; g is the semicircle's Stieltjes transform) "
    "against Monte Carlo ratios at N = 400 (points, 3 standard errors). Points on the lines mean the "
    "deformation acts only through this factor (claim activation-leading-order). theta is a free "
    "parameter: how it follows from an activation function is in the paper, which we could not read "
    "(marked [MEM], recalled and not verified, in our notes). Right: piecewise-linear fits of common "
    "activations, the paper's model class.",
)


@claim(
    "activation-leading-order",
    ACTIVATIONS,
    "activation_prefactor",
    "activation",
    "Monte Carlo ratios within 3 standard errors of abs(1 - theta g(x)) at N = 400; the index of every "
    "sample "
    "moves by at most 1 (theta free: its link to the activation is [MEM])",
    "3 s.e.",
    kind="theory",
)
def activation_leading_order(stats: list[Stats]) -> Outcome | NotRun:
    """A low-rank deformation changes only the sharp factor |1 - theta g(x)|; indices move by <= 1."""
    if not stats:
        return NotRun("no activation run")
    s = stats[0]
    return Outcome(
        s["max_z"],
        s["max_z"] < 3 and s["max_index_shift"] <= 1 and s["n"] >= 400,
        f"largest deviation {s['max_z']:.2f} s.e. at N = {s['n']} ({s['samples']} samples); largest index "
        "shift "
        f"{s['max_index_shift']}" + ("" if s["n"] >= 400 else f"; N = {s['n']} < 400 at this scale"),
        f"thetas {s['thetas']}, energies {list(s['mc_energies'])}: z = {np.round(s['z'], 2).tolist()}",
    )
