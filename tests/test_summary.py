"""One summary across scales (rmtloss.summary): every results/<scale>/claims.csv side by side."""

from __future__ import annotations

import json
import math

import pytest

from conftest import REPO
from rmtloss.ledger import ClaimRecord, to_csv
from rmtloss.summary import MARKERS, read_ledgers, summary_markdown, update_readme, write_summary


def rec(cid: str, scale: str, verdict: str, measured: float, margin: float = math.nan,
        kind: str = "empirical", premise_measured: float = math.nan) -> ClaimRecord:
    return ClaimRecord(cid, kind, "paper", scale, measured, "rule", "", verdict, margin,
                       "", "kappa <= 3" if math.isfinite(premise_measured) else "", premise_measured, "fig",
                       "summary", "detail")


def write(results, scale, records):
    (results / scale).mkdir(parents=True)
    (results / scale / "claims.csv").write_text(to_csv(records))


def test_every_scale_present_side_by_side_with_the_regimes_trend(tmp_path):
    write(tmp_path, "smoke", [rec("a", "smoke", "FAIL", 0.4, -3.0),
                              rec("t", "smoke", "PASS", 1.0, kind="theory")])
    write(tmp_path, "quick", [rec("a", "quick", "PASS", 0.5141, 1.83),
                              rec("b", "quick", "premise absent", 31.3, -8.7, premise_measured=107.0),
                              rec("t", "quick", "PASS", 1.0, kind="theory")])
    write(tmp_path, "quick-lr01", [rec("a", "quick-lr01", "FAIL", 0.49, -2.5)])
    (tmp_path / "regimes").mkdir()
    trend = {"b": {"trend": "kappa grows with P: away"}}
    (tmp_path / "regimes" / "trends.json").write_text(json.dumps(trend))
    assert list(read_ledgers(tmp_path)) == ["quick", "quick-lr01", "smoke"]  # pipeline checks last
    md = write_summary(tmp_path).read_text()
    assert "| | quick | quick-lr01 | smoke (pipeline check) |" in md
    counts = "| **empirical** | 1 PASS, 0 FAIL, 1 premise absent of 2 | 0 PASS, 1 FAIL, 0 premise absent of 1"
    assert counts in md
    assert "| `a` | PASS 0.5141, +1.8 s.e. | FAIL 0.49, -2.5 s.e. | FAIL 0.4, -3.0 s.e. | - |" in md
    assert "| `b` | premise absent (premise 107) | - | - | kappa grows with P: away |" in md
    assert md.index("`b`") < md.index("`t`")  # empirical rows before theory rows
    assert (tmp_path / "summary.png").stat().st_size > 1000 and (tmp_path / "summary.pdf").is_file()


def test_no_ledger_says_what_to_run():
    assert "run a scale" in summary_markdown({}, {})


def test_the_readme_block_is_replaced_and_a_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"top\n{MARKERS[0]}\nold table\n{MARKERS[1]}\nrest\n")
    assert update_readme(readme, "new table\n") == f"top\n{MARKERS[0]}\nnew table\n{MARKERS[1]}\nrest\n"
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="summary:start"):
        update_readme(readme, "x")
    text = (REPO / "README.md").read_text()
    assert text.index(MARKERS[0]) < text.index(MARKERS[1]) < text.index("## Set-up")
