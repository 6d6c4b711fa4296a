"""The papers the workflow reproduces, one module each, and the registry of their figures and claims.

Each module declares its paper (title, authors, year, arXiv id), its figures (name, the record
kinds drawn, caption) and its claims (id, figure, the kinds read, the rule, a decorated function):

====================================  ================================================================
``auffinger2013pspin``                Auffinger, Ben Arous, Černý 2013: complexity of spherical p-spin glasses
``baskerville2021activations``        Baskerville et al. 2021: general activation functions
``baskerville2022gan``                Baskerville et al. 2022: two spin glasses as a GAN
``baskerville2022appearance``         Baskerville, Granziol, Keating 2022: RMT's local statistics in Hessians
``granziol2020beyond``                Granziol 2020: global densities beyond the semicircle
``baskerville2022universal``          Baskerville et al. 2022: outliers and local laws
``granziol2022damping``               Granziol, Baskerville 2022: damping as shrinkage
====================================  ================================================================

The ledger (:mod:`rmtloss.ledger`), the figures stage and ``workflow/rules/common.smk`` read
:data:`PAPERS`, :data:`FIGURES` and :data:`CLAIMS`; nothing here imports torch or matplotlib.
"""

from rmtloss.papers import (  # noqa: F401 - importing a paper module registers its figures and claims
    auffinger2013pspin,
    baskerville2021activations,
    baskerville2022appearance,
    baskerville2022gan,
    baskerville2022universal,
    granziol2020beyond,
    granziol2022damping,
)
from rmtloss.papers._registry import (
    CLAIMS,
    FIGURES,
    KIND_ALIASES,
    KINDS,
    PAPERS,
    Claim,
    Figure,
    NotRun,
    Outcome,
    Paper,
    kind_of,
    run_name,
    task_name,
    tasks_of,
)

__all__ = [
    "CLAIMS",
    "FIGURES",
    "KINDS",
    "KIND_ALIASES",
    "PAPERS",
    "Claim",
    "Figure",
    "NotRun",
    "Outcome",
    "Paper",
    "kind_of",
    "run_name",
    "task_name",
    "tasks_of",
]
