"""The claims ledger: every registered claim (:mod:`rmtloss.papers`) decided on the analysis records.

Each row is a :class:`ClaimRecord`: the measured value, the expectation, the tolerance and a
verdict (``PASS``, ``FAIL``, ``premise absent`` where the paper's own premise was measured and does
not hold, so the claim is not tested; ``not run`` with the reason, or ``diverged`` when every input
comes from a training run whose loss became NaN or infinite; diverged inputs are left out of the
other claims and named in their summary), and, for empirical rows, the margin in standard errors of
the deciding statistic (``fragile`` under 2). The rules are written in the paper modules before any
result is seen; a claim that does not reproduce is written as ``FAIL`` with its number
(CLAIMS.md version 3).
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from urllib.parse import quote

from rmtloss.errors import InputError
from rmtloss.nets.catalog import DESCRIPTIONS
from rmtloss.papers import CLAIMS, PAPERS, Claim, NotRun, Outcome, kind_of
from rmtloss.papers._registry import CLAIM_KINDS, FRAGILE_BELOW, VERDICTS, Stats


@dataclass(frozen=True)
class ClaimRecord:
    """One row of the ledger.

    Attributes:
        id: the claim id (:data:`rmtloss.papers.CLAIMS`).
        kind: empirical, theory or control (:data:`rmtloss.papers.CLAIM_KINDS`).
        paper: the paper the claim comes from.
        scale: smoke, quick or paper.
        measured: the deciding number (NaN when not run); ``summary`` says what it is.
        expected: the rule that decides PASS.
        tolerance: the allowed deviation, where the rule has one.
        verdict: PASS, FAIL, "premise absent" (the paper's premise measured and not met), "not run",
            or "diverged" (every input from a diverged run).
        margin: the deciding statistic's distance to its threshold in standard errors, positive on
            the PASS side (empirical rows; NaN where it has no s.e.).
        fragile: ``yes`` when the margin is under 2 standard errors, ``no`` when it is not, ``""``
            without a margin.
        premise: the premise in words ("" where the claim has none); premise_measured: its number.
        figure: the figure that shows the claim.
        summary: the measured number in words; detail: every set's numbers.
    """

    id: str
    kind: str
    paper: str
    scale: str
    measured: float
    expected: str
    tolerance: str
    verdict: str
    margin: float
    fragile: str
    premise: str
    premise_measured: float
    figure: str
    summary: str
    detail: str


def _fragile(margin: float) -> str:
    return "" if not math.isfinite(margin) else ("yes" if abs(margin) < FRAGILE_BELOW else "no")


def verdict_of(result: Outcome) -> str:
    """PASS or FAIL by the rule, or ``premise absent`` where the premise was measured and fails."""
    if result.premise_ok is False:
        return "premise absent"
    return "PASS" if result.ok else "FAIL"


def record(c: Claim, result: Outcome | NotRun, scale: str) -> ClaimRecord:
    """The ledger row of claim ``c`` from what its rule returned."""
    nan = float("nan")
    row = ClaimRecord(
        c.id,
        c.kind,
        c.paper.citation,
        scale,
        nan,
        c.expected,
        "",
        "not run",
        nan,
        "",
        "",
        nan,
        c.figure,
        "",
        "",
    )
    if isinstance(result, NotRun):
        return replace(row, detail=result.why)
    tol = c.tolerance if result.tolerance is None else result.tolerance
    margin = result.margin if c.kind == "empirical" else nan
    verdict = verdict_of(result)
    return replace(
        row,
        measured=result.measured,
        tolerance=tol,
        verdict=verdict,
        margin=margin,
        fragile=_fragile(margin) if verdict in ("PASS", "FAIL") else "",  # a verdict a re-run could flip
        premise=result.premise,
        premise_measured=result.premise_measured,
        summary=result.summary,
        detail=result.detail,
    )


def _with_diverged(rec: ClaimRecord, gone: list[Stats], any_left: bool) -> ClaimRecord:
    """Say which inputs of a claim came from diverged training runs (they are left out).

    With nothing left the verdict is ``diverged``; otherwise it is decided on the other runs and
    the summary says what was left out.
    """
    names = ", ".join(
        f"{s['run']} (epoch {s['diverged']['epoch']}, loss {s['diverged']['loss']})" for s in gone
    )
    note = f"{len(gone)} diverged run(s) left out: {names}"
    if not any_left:
        return replace(
            rec,
            measured=float("nan"),
            margin=float("nan"),
            fragile="",
            verdict="diverged",
            summary=note,
            detail=f"every input of this claim comes from a diverged run: {names}; "
            "lower optimizer.lr of those runs",
        )
    return replace(rec, summary=f"{rec.summary} ({note})", detail=f"{rec.detail}; {note}")


def _rule(c: Claim, live: list[Stats], sources: dict[int, str]) -> Outcome | NotRun:
    """Run the claim's rule on its live records; a record without a key the rule needs stops with the
    claim, the key and the file (every file of the claim's kinds when the key is nested)."""
    try:
        return c.rule(live)
    except KeyError as exc:
        key = exc.args[0]
        lacking = [s for s in live if key not in s] or live
        files = ", ".join(sources.get(id(s), f"a record of kind {kind_of(s)}") for s in lacking)
        raise InputError(
            f"claim {c.id}: {files} lacks {key!r}, which the rule needs; re-run the stage "
            "that wrote it with this version"
        ) from exc


def decide(c: Claim, stats: list[Stats], scale: str, sources: dict[int, str] | None = None) -> ClaimRecord:
    """Decide one claim on the records of its kinds; records of diverged runs are left out and named.

    ``sources`` maps ``id(record)`` to the file it was read from (named in errors).
    """
    mine = [s for s in stats if kind_of(s) in c.reads]
    live = [s for s in mine if "diverged" not in s]
    gone = [s for s in mine if "diverged" in s]
    rec = record(c, _rule(c, live, sources or {}), scale)
    return _with_diverged(rec, gone, bool(live)) if gone else rec


def ledger(stats: list[Stats], scale: str, sources: dict[int, str] | None = None) -> list[ClaimRecord]:
    """Every registered claim, paper by paper, decided on ``stats`` (``sources``: as :func:`decide`)."""
    return [decide(c, stats, scale, sources) for c in CLAIMS.values()]


#: The columns of a paper's claims table in the HTML report (its figures stand beside it).
PAPER_COLUMNS = (
    "id",
    "kind",
    "verdict",
    "measured",
    "margin",
    "premise_measured",
    "figure",
    "summary",
    "expected",
)


def to_csv(records: list[ClaimRecord], columns: tuple[str, ...] | None = None) -> str:
    """The ledger as CSV (one row per claim id), every column or ``columns``."""
    buf = io.StringIO()
    fields = list(columns or ClaimRecord.__dataclass_fields__)
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(asdict(r) for r in records)
    return buf.getvalue()


def by_paper(records: list[ClaimRecord]) -> dict[str, list[ClaimRecord]]:
    """The records of each paper (:data:`rmtloss.papers.PAPERS` key), in registry order."""
    out: dict[str, list[ClaimRecord]] = {key: [] for key in PAPERS}
    for r in records:
        out[CLAIMS[r.id].paper.key].append(r)
    return out


#: Marks that appear in the rules and numbers, explained under the Markdown ledger when they do.
NOTES = {
    "[MEM]": "[MEM]: the rule rests on a detail of the paper that we recalled and could not check against "
    "the paper's text; our reconstruction is used, and the figure's caption says which detail.",
}


def cell(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped (``|x|`` stays readable), no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _measured(r: ClaimRecord) -> str:
    return f"{r.measured:.4g}" if math.isfinite(r.measured) else "n/a"


def _summary(r: ClaimRecord) -> str:
    """The summary, or why there is no number (not run, diverged) when the rule gave none."""
    if r.verdict == "not run":
        return f"not run: {r.detail}"
    return r.summary


def kind_counts(records: list[ClaimRecord]) -> list[str]:
    """One line per kind of claim, empirical first: ``empirical: k PASS, m FAIL, j premise absent of
    n`` (and how many are not run or diverged, where any are; how many verdicts are fragile)."""
    lines = []
    for kind in CLAIM_KINDS:
        mine = [r for r in records if r.kind == kind]
        if not mine:
            continue
        n = {v: sum(r.verdict == v for r in mine) for v in VERDICTS}
        extra = "".join(f", {n[v]} {v}" for v in ("not run", "diverged") if n[v])
        fragile = sum(r.fragile == "yes" for r in mine)
        lines.append(
            f"- **{kind}**: {n['PASS']} PASS, {n['FAIL']} FAIL, {n['premise absent']} premise absent of "
            f"{len(mine)}{extra}" + (f" ({fragile} fragile: margin under 2 s.e.)" if fragile else "")
        )
    return lines


def _margin(r: ClaimRecord) -> str:
    return (
        f"{r.margin:+.2f}" + (" (fragile)" if r.fragile == "yes" else "") if math.isfinite(r.margin) else "-"
    )


def _premise(r: ClaimRecord) -> str:
    """The premise's number and whether it holds (its words are in the rule and the details)."""
    if not r.premise:
        return "-"
    num = f"{r.premise_measured:.4g}" if math.isfinite(r.premise_measured) else "n/a"
    return f"{num} ({'absent' if r.verdict == 'premise absent' else 'holds'})"


def to_markdown(records: list[ClaimRecord], scale: str, data: Iterable[str] = (), about: str = "") -> str:
    """The ledger as a readable Markdown page: what the scale runs on (``about``), the data sets its
    records come from, the table, every claim's detail and the notes on the marks used in it."""
    sets = [f"`{d}`, {DESCRIPTIONS[d]}" if d in DESCRIPTIONS else f"`{d}`" for d in sorted(set(data))]
    lines = [
        f"# Claims ledger, scale `{scale}`",
        "",
        *([" ".join(about.split()), ""] if about.strip() else []),
        *([f"Networks trained on {'; '.join(sets)}.", ""] if sets else []),
        *kind_counts(records),
        "",
        "Margins are in standard errors of the deciding statistic, positive on the PASS side; a margin "
        "under 2 marks a verdict a re-run could flip (fragile). `premise absent`: the paper's own premise "
        "was measured and does not hold here, so the claim is not tested (neither PASS nor FAIL).",
        "",
        "| id | kind | verdict | measured | margin (s.e.) | premise | what was measured | PASS when "
        "| figure |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{r.id}` | {r.kind} | **{r.verdict}** | {_measured(r)} | {_margin(r)} | {cell(_premise(r))} | "
        f"{cell(_summary(r))} | {cell(r.expected)} | {r.figure} |"
        for r in records
    ]
    lines += ["", "## Details", ""]
    lines += [
        f"- `{r.id}` ({r.paper}): " + (f"premise: {r.premise}. " if r.premise else "") + r.detail
        for r in records
    ]
    text = "\n".join(lines)
    notes = [note for mark, note in NOTES.items() if mark in text]
    if notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def read_csv(path: str) -> list[ClaimRecord]:
    """The records of a ``claims.csv`` written by :func:`to_csv` (numbers parsed back)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    floats = ("measured", "margin", "premise_measured")
    fields = ClaimRecord.__dataclass_fields__
    return [
        ClaimRecord(**{k: (float(r[k]) if k in floats and r.get(k) not in (None, "") else r.get(k, ""))
                       for k in fields})
        for r in rows
    ]


#: Background colours of the verdicts in the HTML report.
VERDICT_COLOURS = {"PASS": "#d4edda", "FAIL": "#f8d7da", "premise absent": "#fff3cd", "not run": "#e2e3e5",
                   "diverged": "#e2e3e5"}


def _html_row(r: ClaimRecord, figure_link: str) -> str:
    cells = [
        f'<span style="font-family:monospace" title="{html.escape(_summary(r))}">{html.escape(r.id)}</span>',
        html.escape(r.kind),
        f"<b>{html.escape(r.verdict)}</b>",
        html.escape(_measured(r)),
        html.escape(_margin(r)),
        html.escape(_premise(r)),
        f'<a href="{figure_link}">{html.escape(r.figure)}</a>',
    ]
    style = f' style="background:{VERDICT_COLOURS.get(r.verdict, "#ffffff")}"'
    return f"<tr{style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def to_html(records: list[ClaimRecord], scale: str, figure_path: str) -> str:
    """The ledger as HTML for the report's first page, one line per table row (reStructuredText's raw
    block limits a line's length): the per-kind counts and, paper by paper, a table of its claims
    coloured by verdict, each row linking its figure (``figure_path``: the figure's report path with
    ``{figure}`` in it, e.g. ``results/quick/figures/{figure}.png``)."""
    head = ("<tr><th>claim (what was measured: hover)</th><th>kind</th><th>verdict</th><th>measured</th>"
            "<th>margin (s.e.)</th><th>premise</th><th>figure</th></tr>")
    counts = "".join(f"<li>{html.escape(line[2:]).replace('**', '')}</li>" for line in kind_counts(records))
    parts = [f"<p>Claims ledger at scale <code>{html.escape(scale)}</code>:</p><ul>{counts}</ul>"]
    for key, rows in by_paper(records).items():
        if not rows:
            continue
        paper = PAPERS[key]
        links = {r.id: "javascript:app.showResultInfo('" + quote(figure_path.format(figure=r.figure)) + "')"
                 for r in rows}
        parts.append(
            f"<h3>{html.escape(paper.title)} ({html.escape(paper.authors)} {paper.year})</h3>"
            '<table class="ledger" border="1" cellpadding="3" '
            'style="border-collapse:collapse;font-size:90%">'
        )
        parts += [head, *(_html_row(r, links[r.id]) for r in rows), "</table>"]
    # Snakemake's report centres its main panel vertically: content taller than the window would lose
    # its top, so the ledger scrolls in a box of its own
    return "\n".join(['<div style="max-height:70vh;overflow:auto">', *parts, "</div>"])
