r"""Product and percolated families as fitted laws: shape from samples, then scale and zero weight.

A family member is fixed by its shape parameters (``depth`` and a dimension ``ratio`` for Wishart
products, ``depth`` for Wigner products, the mean degree ``c`` for percolated Wigner, ``ratio``
and ``c`` for percolated Wishart). Its nonzero eigenvalues, sampled at size n and scaled to unit
second moment, are the shape law :math:`\mu`; a spectrum is fitted by
:math:`w\,\delta_0 + (1-w)\,\mu(\cdot/s)` (:func:`rmtloss.rmt.global_laws.fit_scaled_shape`), the
best member of the grid winning. Granziol (arXiv 2006.07721) fits these families to Hessian
spectra; the grid and the sample size are settings, not the paper's (which are [MEM]).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rmtloss.rmt import ensembles
from rmtloss.rmt.global_laws import Discrete, LawFit, fit_scaled_shape

Sampler = Callable[[int, dict[str, float], np.random.Generator], np.ndarray]


def _wishart_product(n: int, p: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    inner = max(1, round(p["ratio"] * n))
    return ensembles.wishart_product([n] + [inner] * int(p["depth"]), rng)


def _percolated_wishart(n: int, p: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    t = max(1, round(n / p["ratio"]))
    return ensembles.percolated_wishart(n, t, min(1.0, p["c"] / t), rng)


#: family name -> sampler of one matrix at size n.
FAMILIES: dict[str, Sampler] = {
    "wishart_product": _wishart_product,
    "wigner_product": lambda n, p, rng: ensembles.wigner_product(n, int(p["depth"]), rng),
    "percolated_wigner": lambda n, p, rng: ensembles.percolated_wigner(n, p["c"], rng),
    "percolated_wishart": _percolated_wishart,
}
PRODUCT = ("wishart_product", "wigner_product")
PERCOLATED = ("percolated_wigner", "percolated_wishart")


def members(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of a family's shape-parameter lists."""
    keys = sorted(grid)
    return [
        dict(zip(keys, map(float, vals), strict=True)) for vals in itertools.product(*(grid[k] for k in keys))
    ]


def sample(family: str, params: dict[str, float], n: int, count: int, seed: int) -> np.ndarray:
    """Eigenvalues of ``count`` sampled matrices of one family member, concatenated."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family '{family}'; choose one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng(seed)
    return np.concatenate([np.linalg.eigvalsh(FAMILIES[family](n, params, rng)) for _ in range(count)])


def shape_law(eigenvalues: np.ndarray, zero_cut: float) -> Discrete:
    """Nonzero eigenvalues scaled to unit second moment."""
    ev = np.asarray(eigenvalues, dtype=float)
    nz = ev[np.abs(ev) > zero_cut * np.abs(ev).max()]
    return Discrete.from_sample(nz / np.sqrt(np.mean(nz**2)))


@dataclass(frozen=True)
class FamilyFit:
    """A family fitted over its shape grid.

    Attributes:
        best: the converged member with the smallest KS distance.
        fits: every member's fit, in grid order.
        shape: the best member's shape law (what its CDF and density are drawn from).
        shapes: every member's shape law, in grid order.
    """

    best: LawFit
    fits: list[LawFit]
    shape: Discrete
    shapes: tuple[Discrete, ...] = ()


def fit_family(
    law: Discrete,
    family: str,
    grid: Mapping[str, Sequence[float]],
    n: int,
    count: int,
    seed: int,
    zero_cut: float = 1e-9,
) -> FamilyFit:
    """Fit every member of ``family`` on ``grid`` (scale and zero weight by least squares on the
    distribution function); the best member is the one with the smallest KS distance, the criterion
    that also picks the best semicircle / Marchenko–Pastur fit. Members whose scale search ended on
    a boundary are passed over while any other converged."""
    shapes = [shape_law(sample(family, p, n, count, seed), zero_cut) for p in members(grid)]
    fits = [fit_scaled_shape(law, sh, family, p) for sh, p in zip(shapes, members(grid), strict=True)]
    i = min(range(len(fits)), key=lambda j: (fits[j].on_boundary, fits[j].ks))
    return FamilyFit(fits[i], fits, shapes[i], tuple(shapes))
