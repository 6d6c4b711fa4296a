"""One summary across scales: every ``results/<scale>/claims.csv`` present, side by side.

``results/summary.md`` is a table of claims (rows) by scales (columns): each cell the verdict, the
deciding number and its margin in standard errors (or the premise's number where the premise is
absent), then, for each empirical claim, the trend the ``regimes`` scale measured along the axis
its failure was blamed on (``results/regimes/trends.json``, :mod:`rmtloss.stages.trends`).
``results/summary.png`` draws the same grid coloured by verdict. The smoke and paper_shape scales
check the pipeline, not the papers: their columns come last and say so. The README's top shows the
table between the markers ``<!-- summary:start -->`` and ``<!-- summary:end -->``
(:func:`update_readme`, ``rmtloss summary --readme README.md``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from rmtloss._io import write_text
from rmtloss.ledger import ClaimRecord, read_csv
from rmtloss.papers._registry import CLAIM_KINDS, VERDICTS

PAPER_SCALES = ("quick", "mnist", "regimes", "paper")
"""Scales whose verdicts speak to the papers' claims, in the order the summary shows them."""
PIPELINE_SCALES = ("smoke", "paper_shape")
"""Scales whose verdicts check only that the pipeline runs (shown last, marked so)."""
MARKERS = ("<!-- summary:start -->", "<!-- summary:end -->")

def scale_order(names: list[str]) -> list[str]:
    """The paper scales first (quick, mnist, regimes, paper), then tagged variants and other scales
    alphabetically, then the pipeline checks."""
    first = [s for s in PAPER_SCALES if s in names]
    last = [s for s in PIPELINE_SCALES if s in names]
    return first + sorted(set(names) - set(first) - set(last)) + last


def read_ledgers(results: Path) -> dict[str, list[ClaimRecord]]:
    """Scale -> its ledger's records, for every ``results/<scale>/claims.csv`` present."""
    found = {p.parent.name: read_csv(str(p)) for p in sorted(results.glob("*/claims.csv"))}
    return {s: found[s] for s in scale_order(list(found))}


def read_trends(results: Path) -> dict[str, str]:
    """Claim id -> the regimes scale's trend in words (empty without a regimes run)."""
    path = results / "regimes" / "trends.json"
    if not path.is_file():
        return {}
    return {cid: t["trend"] for cid, t in json.loads(path.read_text()).items()}


def cell_text(r: ClaimRecord | None) -> str:
    """A verdict with its number: ``PASS 0.514 (+1.8 s.e.)``, ``premise absent (premise 107)``."""
    if r is None:
        return "-"
    if r.verdict == "premise absent":
        num = f"{r.premise_measured:.3g}" if math.isfinite(r.premise_measured) else "n/a"
        return f"premise absent (premise {num})"
    if r.verdict in ("not run", "diverged"):
        return r.verdict
    num = f"{r.measured:.4g}" if math.isfinite(r.measured) else "n/a"
    margin = f", {r.margin:+.1f} s.e." if math.isfinite(r.margin) else ""
    return f"{r.verdict} {num}{margin}"


def _heading(scale: str) -> str:
    return f"{scale} (pipeline check)" if scale in PIPELINE_SCALES else scale


def counts(records: list[ClaimRecord], kind: str) -> str:
    """``6 PASS, 4 FAIL, 3 premise absent of 13`` for one kind of claim."""
    mine = [r for r in records if r.kind == kind]
    n = {v: sum(r.verdict == v for r in mine) for v in VERDICTS}
    rest = "".join(f", {n[v]} {v}" for v in ("not run", "diverged") if n[v])
    return f"{n['PASS']} PASS, {n['FAIL']} FAIL, {n['premise absent']} premise absent of {len(mine)}{rest}"


def counts_table(ledgers: dict[str, list[ClaimRecord]]) -> list[str]:
    """Markdown lines: per-kind verdict counts, one column per scale."""
    scales = list(ledgers)
    lines = ["| | " + " | ".join(_heading(s) for s in scales) + " |", "|---" * (len(scales) + 1) + "|"]
    return lines + [f"| **{k}** | " + " | ".join(counts(ledgers[s], k) for s in scales) + " |"
                    for k in _kinds(ledgers)]


def _kinds(ledgers: dict[str, list[ClaimRecord]]) -> list[str]:
    present = {r.kind for rs in ledgers.values() for r in rs}
    return [k for k in CLAIM_KINDS if k in present]


def claims_table(ledgers: dict[str, list[ClaimRecord]], trends: dict[str, str],
                 kinds: tuple[str, ...] = CLAIM_KINDS) -> list[str]:
    """Markdown lines: one row per claim of ``kinds``, one column per scale, then its regimes trend."""
    scales = list(ledgers)
    lines = ["| claim | " + " | ".join(_heading(s) for s in scales) + " | trend along its regime (regimes) |",
             "|---" * (len(scales) + 2) + "|"]
    by_scale = {s: {r.id: r for r in rs} for s, rs in ledgers.items()}
    wanted = [k for k in _kinds(ledgers) if k in kinds]
    ids = list(dict.fromkeys(r.id for k in wanted for rs in ledgers.values() for r in rs if r.kind == k))
    for cid in ids:
        cells = [cell_text(by_scale[s].get(cid)).replace("|", "\\|") for s in scales]
        trend = trends.get(cid, "-").replace("|", "\\|")
        lines.append(f"| `{cid}` | " + " | ".join(cells) + f" | {trend} |")
    return lines


def summary_markdown(ledgers: dict[str, list[ClaimRecord]], trends: dict[str, str]) -> str:
    """The summary in Markdown: per-kind counts per scale, then one row per claim."""
    if not ledgers:
        return "No ledger yet: run a scale (make reproduce), then rmtloss summary.\n"
    return "\n".join([*counts_table(ledgers), "", *claims_table(ledgers, trends)]) + "\n"


def readme_table(ledgers: dict[str, list[ClaimRecord]], trends: dict[str, str]) -> str:
    """The README's block: the counts, then the empirical claims (the theory rows are in the summary)."""
    if not ledgers:
        return "No ledger yet: run a scale (make reproduce), then rmtloss summary.\n"
    return "\n".join([*counts_table(ledgers), "", *claims_table(ledgers, trends, ("empirical",))]) + "\n"


def draw(ledgers: dict[str, list[ClaimRecord]], path: Path) -> None:
    """The claims-by-scales grid coloured by verdict, each cell with its number and margin."""
    from matplotlib.patches import Rectangle

    from rmtloss.figures import _style
    from rmtloss.ledger import VERDICT_COLOURS

    scales = list(ledgers) or ["(none)"]
    ids = list(dict.fromkeys(r.id for rs in ledgers.values() for r in rs))
    by_scale = {s: {r.id: r for r in rs} for s, rs in ledgers.items()}
    fig = _style.plt.figure(figsize=(2.4 + 2.2 * len(scales), 0.8 + 0.28 * max(1, len(ids))))
    ax = fig.add_subplot()
    for j, s in enumerate(scales):
        for i, cid in enumerate(ids):
            r = by_scale.get(s, {}).get(cid)
            colour = VERDICT_COLOURS.get(r.verdict, "#ffffff") if r else "#ffffff"
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="#999999", linewidth=0.5))
            ax.text(j + 0.5, i + 0.5, cell_text(r), ha="center", va="center", fontsize=6)
    ax.set_xlim(0, len(scales))
    ax.set_ylim(len(ids), 0)
    ax.set_xticks([j + 0.5 for j in range(len(scales))], [_heading(s) for s in scales], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(len(ids))], ids, fontsize=7)
    ax.tick_params(length=0)
    ax.set_title("Claims by scale: verdict, deciding number, margin in s.e.", fontsize=9, pad=24)
    _style.save(fig, str(path.with_suffix("")))
    _style.plt.close(fig)


def write_summary(results: Path) -> Path:
    """Write ``summary.md`` and ``summary.pdf``/``.png`` in ``results``; returns the Markdown's path."""
    ledgers = read_ledgers(results)
    md = ("# rmtloss: claims by scale\n\nGenerated by `rmtloss summary` (rule summary) from every "
          "`results/<scale>/claims.csv` present; smoke and paper_shape check the pipeline, not the "
          "papers.\n\n"
          + summary_markdown(ledgers, read_trends(results)))
    write_text(results / "summary.md", md)
    draw(ledgers, results / "summary.png")
    return results / "summary.md"


def update_readme(readme: Path, table: str) -> str:
    """``readme``'s text with the block between :data:`MARKERS` replaced by ``table``."""
    text = readme.read_text()
    start, end = MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {start} ... {end} block for the summary table")
    return pattern.sub(lambda _: f"{start}\n{table}{end}", text)
