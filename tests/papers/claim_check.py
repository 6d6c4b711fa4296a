"""Running a claim rule on hand-made records through the ledger's own code (:func:`rmtloss.ledger.decide`).

Each ``tests/papers/test_<paper>.py`` declares ``CASES``: claim id -> :class:`Case`, records just
inside the rule's threshold (PASS) and records just outside it (each FAIL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rmtloss.ledger import ClaimRecord, decide
from rmtloss.papers import CLAIMS

Stats = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """Records on which a claim must PASS, and sets on which it must FAIL (named for the report)."""

    passing: list[Stats]
    failing: dict[str, list[Stats]] = field(default_factory=dict)


def row(cid: str, records: list[Stats]) -> ClaimRecord:
    """The ledger row of claim ``cid`` on ``records``."""
    return decide(CLAIMS[cid], records, "test")


def check(cid: str, case: Case) -> None:
    """Assert PASS on ``case.passing`` and FAIL on every set of ``case.failing``."""
    got = row(cid, case.passing)
    assert got.verdict == "PASS", (cid, got.summary, got.detail)
    assert case.failing, f"{cid}: no failing control"
    for name, records in case.failing.items():
        got = row(cid, records)
        assert got.verdict == "FAIL", (cid, name, got.summary)
