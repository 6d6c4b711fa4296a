"""Trends of the claims along the axes their failures were blamed on (the ``regimes`` scale).

A sweep is configuration: an axis, the end of it where the paper's regime lies (``toward``), and
its points, each a set of runs or optimiser settings. At every point the claim's own rule
(:func:`rmtloss.ledger.decide`) decides on that point's records alone, so each point has the
ledger's number, verdict, margin (in standard errors, positive on the PASS side: 0 is the rule's
threshold) and premise. The reading compares the two ends of the axis:

* margins that differ by less than 2√2 s.e. (the two ends' error bars overlap) cannot be read;
* otherwise the statistic moves *toward* the rule's threshold (its margin rises toward the PASS
  side) or *away* from it, as the axis moves toward the paper's regime;
* a point whose premise is absent is named, and there the premise's own number is read instead
  (toward or away from the premise's threshold, ``premise: "<= 3"`` in the sweep).

A count without a standard error (``outlier-count``) is read on its number and said to be
unconfirmed.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any

from rmtloss.errors import require
from rmtloss.ledger import ClaimRecord, decide
from rmtloss.papers import CLAIMS, kind_of, run_name

Stats = dict[str, Any]
READABLE_SE = 2 * math.sqrt(2)
"""Two ends whose margins (each with s.e. 1) differ by less than this are within each other's error."""
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
WORDS = {"toward": "toward the claim", "away": "away from the claim", "unreadable": "cannot be read",
         "premise toward": "premise absent; it moves toward holding",
         "premise away": "premise absent; it moves away", "premise level": "premise absent; level"}


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its label, its numeric value on the axis (None for a category) and the
    claim's ledger row decided on the point's records alone."""

    label: str
    value: float | None
    row: ClaimRecord


@dataclass(frozen=True)
class Trend:
    """A claim's sweep and its reading (``direction``: toward, away, unreadable, premise toward,
    premise away)."""

    claim: str
    axis: str
    toward: str
    log: bool
    premise: str
    points: tuple[Point, ...]
    direction: str
    sentence: str


def _name(s: Stats) -> str | None:
    """The run or setting a record belongs to: an optimiser record's ``setting``; a network record's
    ``run_name``, or its ``run``, which spectra records hold as the name and the outlier stage as
    the train folder (``.../runs/<name>/train``)."""
    if "setting" in s:
        return str(s["setting"])
    if s.get("run_name") or "/" in str(s.get("run", "")):
        return run_name(s)
    return str(s["run"]) if "run" in s else None


def point_records(stats: list[Stats], runs: list[str]) -> list[Stats]:
    """The records of ``runs`` (run or optimiser setting names); a record of several runs (the
    outlier_count task's) is cut to its rows of ``runs``."""
    out = []
    for s in stats:
        if isinstance(s.get("runs"), list):
            rows = [r for r in s["runs"] if run_name(r) in runs]
            if rows:
                out.append({**s, "runs": rows})
        elif _name(s) in runs:
            out.append(s)
    return out


def _value(label: str) -> float | None:
    try:
        return float(label)
    except ValueError:
        return None


def premise_test(spec: str) -> tuple[str, float]:
    """``"<= 3"`` -> (``"<="``, 3.0): the premise holds when its number ``op`` the threshold."""
    m = re.fullmatch(r"\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*", spec)
    if not m:
        raise ValueError(f"a premise threshold is written like '<= 3' or '> 2' (got {spec!r})")
    return m[1], float(m[2])


def premise_shortfall(x: float, premise: str) -> float:
    """How far ``x`` is from meeting ``premise`` (0 where it holds; NaN reads as infinitely far)."""
    op, limit = premise_test(premise)
    if not math.isfinite(x):
        return math.inf
    if _OPS[op](x, limit):
        return 0.0
    return x - limit if op in ("<=", "<") else limit - x


def _ends(points: tuple[Point, ...], toward: str) -> tuple[Point, Point]:
    """(far end, the paper's end) of the axis."""
    if toward == "larger":
        return points[0], points[-1]
    if toward == "smaller":
        return points[-1], points[0]
    paper = next((p for p in points if p.label == toward), None)
    if paper is None:
        raise ValueError(f"toward: '{toward}' is neither larger, smaller nor a point's label")
    others = [p for p in points if p is not paper]
    return min(others, key=lambda p: abs(p.row.margin) if math.isfinite(p.row.margin) else math.inf), paper


def _fmt(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else "n/a"


def _numbers(points: tuple[Point, ...]) -> str:
    """Every point's number, verdict, margin and premise."""
    def one(p: Point) -> str:
        margin = f", {p.row.margin:+.1f} s.e." if math.isfinite(p.row.margin) else ""
        prem = f", premise {_fmt(p.row.premise_measured)}" if p.row.premise else ""
        return f"{p.label}: {_fmt(p.row.measured)} ({p.row.verdict}{margin}{prem})"

    return "; ".join(one(p) for p in points)


def _premise_reading(far: Point, paper: Point, premise: str, head: str) -> tuple[str, str]:
    a, b = far.row.premise_measured, paper.row.premise_measured
    short_a, short_b = premise_shortfall(a, premise), premise_shortfall(b, premise)
    goes = f"{head}; the premise's number goes {_fmt(a)} -> {_fmt(b)}"
    if short_a == short_b:
        return "premise level", f"{goes} ({premise})"
    closer = short_b < short_a
    return (f"premise {'toward' if closer else 'away'}",
            f"{goes}, {'toward' if closer else 'away from'} its threshold ({premise}) toward the paper's "
            "regime")


def read_trend(points: tuple[Point, ...], toward: str, premise: str = "") -> tuple[str, str]:
    """(direction, the reading in words) of a sweep's points; see the module's docstring."""
    numbers = _numbers(points)
    unrun = [p for p in points if p.row.verdict in ("not run", "diverged")]
    live = tuple(p for p in points if p not in unrun)
    lost_end = toward not in ("larger", "smaller") and all(p.label != toward for p in live)
    if unrun and (len(live) < 2 or lost_end):
        return "unreadable", (f"cannot be read: not run or diverged at {', '.join(p.label for p in unrun)}. "
                              f"{numbers}")
    # points the rule does not decide (a shallow network: reported, never deciding) are named, left out
    skipped = f"not run at {', '.join(p.label for p in unrun)} (left out); " if unrun else ""
    direction, words = _read_live(live, toward, premise, numbers)
    return direction, skipped + words


def _read_live(points: tuple[Point, ...], toward: str, premise: str, numbers: str) -> tuple[str, str]:
    """The reading of points that the rule decided (or whose premise is absent)."""
    far, paper = _ends(points, toward)
    absent = [p.label for p in points if p.row.verdict == "premise absent"]
    if absent and far.label not in absent and paper.label not in absent:  # the rule is read at both ends
        kept = tuple(p for p in points if p.label not in absent)
        direction, words = _read_live(kept, toward, premise, numbers)
        return direction, f"premise absent at {', '.join(absent)} (left out); {words}"
    if absent:
        head = (f"premise absent at {len(absent)} of {len(points)} points ({', '.join(absent)}): the rule is "
                "not read there")
        if not premise:
            return "unreadable", f"{head}. {numbers}"
        direction, words = _premise_reading(far, paper, premise, head)
        return direction, f"{words}. {numbers}"
    a, b = far.row, paper.row
    if not (math.isfinite(a.margin) and math.isfinite(b.margin)):
        way = "up" if b.measured > a.measured else "down" if b.measured < a.measured else "level"
        return "unreadable", (f"no standard error (a count): {_fmt(a.measured)} -> {_fmt(b.measured)} "
                              f"({way}), unconfirmed. {numbers}")
    delta = b.margin - a.margin
    if abs(delta) < READABLE_SE:
        return "unreadable", (f"cannot be read: the margins at the ends ({a.margin:+.1f} -> {b.margin:+.1f} "
                              f"s.e.) are within error of each other. {numbers}")
    moved = "toward" if delta > 0 else "away"
    return moved, (f"moves {'toward' if delta > 0 else 'away from'} the rule's threshold toward the paper's "
                   f"regime: margin {a.margin:+.1f} -> {b.margin:+.1f} s.e. ({far.label} -> {paper.label}). "
                   f"{numbers}")


def sweep(claim_id: str, spec: dict[str, Any], stats: list[Stats], scale: str) -> Trend:
    """The claim decided at every point of one sweep (``spec``: axis, toward, points, log, premise)."""
    claim = CLAIMS[claim_id]
    mine = [s for s in stats if kind_of(s) in claim.reads]
    points = tuple(
        Point(str(label), _value(str(label)), decide(claim, point_records(mine, list(runs)), scale))
        for label, runs in spec["points"].items()
    )
    direction, sentence = read_trend(points, str(spec["toward"]), str(spec.get("premise", "")))
    return Trend(claim_id, str(spec["axis"]), str(spec["toward"]), bool(spec.get("log", False)),
                 str(spec.get("premise", "")), points, direction, sentence)


def trends(spec: dict[str, list[dict[str, Any]]], stats: list[Stats], scale: str) -> list[Trend]:
    """Every sweep of every claim in ``spec`` (claim id -> its sweeps)."""
    unknown = [c for c in spec if c not in CLAIMS]
    require(not unknown, "sweeps", f"unknown claim id(s) {', '.join(unknown)}; the claims: rmtloss claims")
    return [sweep(cid, one, stats, scale) for cid, sweeps in spec.items() for one in sweeps]


def claim_line(claim_id: str, found: list[Trend]) -> str:
    """One line per claim: each sweep's axis and reading in full."""
    mine = [t for t in found if t.claim == claim_id]
    return f"`{claim_id}`: " + " | ".join(f"along {t.axis}: {t.sentence}" for t in mine)


def claim_short(claim_id: str, found: list[Trend]) -> str:
    """The claim's trends in a few words per sweep (the summary's column)."""
    return "; ".join(f"{t.axis}: {WORDS[t.direction]}" for t in found if t.claim == claim_id)
