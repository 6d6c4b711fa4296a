"""The registry of papers, their figures and their claims.

Every paper module of :mod:`rmtloss.papers` declares its :class:`Paper` once, its figures with
:func:`figure` and its claims with the :func:`claim` decorator. The claims ledger
(:mod:`rmtloss.ledger`), the figures stage and the workflow (``workflow/rules/common.smk``) read
what was registered here, so a paper, a figure or a claim id is written in one place.

This module and the paper modules import neither torch nor matplotlib: the ledger and Snakemake
load the whole registry in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rmtloss.results import run_folder_name

Stats = dict[str, Any]

#: The kinds of analysis record, each with the stage that writes it (``python -m
#: rmtloss.<stage> task=<kind>``; ``local_stats`` and ``global_density`` are one job per
#: spectrum, ``gan_point`` one per sweep point). A record's ``kind`` is its task's name.
KINDS: dict[str, str] = {
    "local_stats": "analysis",
    "abc": "complexity",
    "activation": "complexity",
    "gan_spectrum": "complexity",
    "gan_coulomb": "complexity",
    "gan_map": "complexity",
    "gan_point": "complexity",
    "global_density": "densities",
    "product_zero_mass": "densities",
    "percolated_zero_mass": "densities",
    "ensemble_densities": "densities",
    "gp_model": "densities",
    "layered_index": "densities",
    "outlier_shift_synthetic": "outliers",
    "local_law_synthetic": "outliers",
    "outlier_shift_network": "outliers",
    "outlier_count": "outliers",
    "epsilon_sweep": "optimisers",
    "damping_learner": "optimisers",
    "shrinkage_noise": "optimisers",
    "exp_returns": "optimisers",
}

#: Earlier names, still read: record kinds written before kinds were named after their tasks,
#: and task names still accepted on the command line.
KIND_ALIASES: dict[str, str] = {
    "optimiser_epsilon_sweep": "epsilon_sweep",
    "optimiser_damping_learner": "damping_learner",
    "optimiser_shrinkage_noise": "shrinkage_noise",
    "optimiser_exp_returns": "exp_returns",
    "fit": "global_density",
    "synthetic_shift": "outlier_shift_synthetic",
    "synthetic_local_law": "local_law_synthetic",
    "network_shift": "outlier_shift_network",
}


def kind_of(stats: Stats) -> str:
    """The kind of an analysis record under its current name (records without one are local
    statistics, as the analysis stage wrote them first)."""
    kind = stats.get("kind", "local_stats")
    return KIND_ALIASES.get(kind, kind)


def run_name(s: Stats) -> str:
    """The training run a network record comes from: its ``run_name``, or for records written
    before the stages recorded it, the run folder's name in ``run`` (``.../runs/<name>/train``)."""
    return s.get("run_name") or run_folder_name(s["run"])


def set_name(s: Stats) -> str:
    """A spectrum set's name: ``run/matrix_checkpoint``, with ``_full`` for the full-data matrix,
    ``_<method>`` for a Lanczos quadrature and ``_float32`` for the authors' pipeline emulated."""
    return (
        f"{s['run']}/{s['matrix']}_{s['checkpoint']}"
        + ("_full" if s.get("full") else "")
        + (f"_{s['method']}" if s.get("method", "exact") != "exact" else "")
        + ("_float32" if s.get("dtype") == "float32" else "")
    )


def task_name(task: str) -> str:
    """A stage's task under its current name (earlier names of :data:`KIND_ALIASES` accepted)."""
    return KIND_ALIASES.get(task, task)


def tasks_of(stage: str) -> tuple[str, ...]:
    """The tasks (record kinds) a stage writes, in registry order."""
    return tuple(k for k, s in KINDS.items() if s == stage)


@dataclass(frozen=True)
class Paper:
    """A paper the workflow reproduces.

    Attributes:
        key: its module name in :mod:`rmtloss.papers` (first author, year, a word of the title).
        title, authors, year: as published.
        arxiv: the arXiv identifier.
        short: a short name (the report's group of its figures).
    """

    key: str
    title: str
    authors: str
    year: int
    arxiv: str
    short: str

    @property
    def citation(self) -> str:
        """Title, authors and year, as the ledger's ``paper`` column prints them."""
        return f"{self.title} ({self.authors} {self.year})"


@dataclass(frozen=True)
class Figure:
    """A figure: its drawing module is ``rmtloss.figures.<name>``.

    Attributes:
        name: the figure's name (its files are ``<name>.pdf`` and ``<name>.png``).
        paper: the paper it belongs to.
        reads: the record kinds it draws.
        caption: the report's caption.
    """

    name: str
    paper: Paper
    reads: tuple[str, ...]
    caption: str


@dataclass(frozen=True)
class Outcome:
    """What a claim rule measured.

    Attributes:
        measured: the deciding number.
        ok: whether the rule holds (PASS).
        summary: the measured number in words; detail: every set's numbers.
        tolerance: set where the rule's tolerance depends on its inputs (else the claim's).
        margin: the deciding statistic's distance to its threshold in standard errors of that
            statistic (bootstrap over batches, or the seeds' s.e.): positive on the PASS side,
            negative on the FAIL side; NaN where the statistic has no standard error (the detail
            says why). CLAIMS.md version 3.
        premise: the paper's premise in words, with its threshold ("" where the claim has none).
        premise_measured: the premise's statistic (NaN where there is no premise).
        premise_ok: whether the premise holds; ``False`` makes the verdict ``premise absent``
            (neither PASS nor FAIL: the claim is not tested where its premise is absent).
    """

    measured: float
    ok: bool
    summary: str
    detail: str
    tolerance: str | None = None
    margin: float = float("nan")
    premise: str = ""
    premise_measured: float = float("nan")
    premise_ok: bool | None = None


@dataclass(frozen=True)
class NotRun:
    """A claim that could not be decided at this scale, and why."""

    why: str


Rule = Callable[[list[Stats]], Outcome | NotRun]


@dataclass(frozen=True)
class Claim:
    """A claim of a paper and the rule that decides it.

    Attributes:
        id: the claim id.
        kind: empirical (measured on networks), theory (a statement checked numerically against a
            formula or samples) or control (a check of the pipeline itself).
        paper: the paper it comes from.
        figure: the figure that shows it.
        reads: the record kinds its rule reads.
        expected: the rule in words (PASS when ...).
        tolerance: the allowed deviation, where the rule has one.
        rule: the records of ``reads`` (diverged runs left out) -> :class:`Outcome` or :class:`NotRun`.
    """

    id: str
    kind: str
    paper: Paper
    figure: str
    reads: tuple[str, ...]
    expected: str
    tolerance: str
    rule: Rule


PAPERS: dict[str, Paper] = {}
FIGURES: dict[str, Figure] = {}
CLAIMS: dict[str, Claim] = {}


def paper(key: str, title: str, authors: str, year: int, arxiv: str, short: str) -> Paper:
    """Declare a paper (once, in its module)."""
    if key in PAPERS:
        raise ValueError(f"paper {key} declared twice")
    PAPERS[key] = Paper(key, title, authors, year, arxiv, short)
    return PAPERS[key]


def _known_kinds(reads: tuple[str, ...], what: str) -> tuple[str, ...]:
    unknown = [k for k in reads if k not in KINDS]
    if unknown:
        raise ValueError(f"{what} reads unknown record kinds {unknown}; known: {', '.join(KINDS)}")
    return reads


def figure(name: str, of: Paper, reads: tuple[str, ...] | str, caption: str) -> Figure:
    """Declare a figure of a paper: the record kinds it draws and its caption."""
    if name in FIGURES:
        raise ValueError(f"figure {name} declared twice")
    reads = (reads,) if isinstance(reads, str) else reads
    FIGURES[name] = Figure(name, of, _known_kinds(reads, f"figure {name}"), caption)
    return FIGURES[name]


#: The kinds of claim, in the order the ledger counts them.
CLAIM_KINDS = ("empirical", "theory", "control")

#: The verdicts a ledger row can carry (CLAIMS.md version 3), in the order the headline counts them.
VERDICTS = ("PASS", "FAIL", "premise absent", "not run", "diverged")

#: A margin (in standard errors) below this marks a verdict that a re-run could flip.
FRAGILE_BELOW = 2.0


def margin_in_se(value: float, threshold: float, se: float, *, above: bool) -> float:
    """Signed distance of ``value`` to ``threshold`` in units of ``se``: positive on the PASS side
    (``above``: PASS when value >= threshold; else PASS when value <= threshold), NaN without a
    finite positive s.e."""
    import math

    if not (math.isfinite(se) and se > 0 and math.isfinite(value)):
        return float("nan")
    return (value - threshold) / se if above else (threshold - value) / se


def worst_margin(margins: list[float]) -> float:
    """A claim's margin over its sets: the smallest, NaN when there is none or any set has no s.e.
    (a plain ``min`` would depend on where a NaN stands)."""
    import math

    return min(margins) if margins and all(math.isfinite(m) for m in margins) else float("nan")


def claim(
    cid: str,
    of: Paper,
    figure: str,
    reads: tuple[str, ...] | str,
    expected: str,
    tolerance: str = "",
    kind: str = "empirical",
) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule of claim ``cid``.

    The function takes the records of the kinds in ``reads`` (diverged runs already left out) and
    returns an :class:`Outcome` or a :class:`NotRun`; the claim's id, kind, paper, figure,
    expectation and tolerance are written here, once.
    """
    reads = (reads,) if isinstance(reads, str) else reads
    if kind not in CLAIM_KINDS:
        raise ValueError(f"claim {cid}: kind {kind!r} is not one of {', '.join(CLAIM_KINDS)}")

    def register(rule: Rule) -> Rule:
        if cid in CLAIMS:
            raise ValueError(f"claim {cid} declared twice")
        if figure not in FIGURES:
            raise ValueError(f"claim {cid} names figure {figure}, which no paper declares")
        CLAIMS[cid] = Claim(
            cid, kind, of, figure, _known_kinds(reads, f"claim {cid}"), expected, tolerance, rule
        )
        return rule

    return register
