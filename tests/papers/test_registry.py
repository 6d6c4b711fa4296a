"""The registry: every claim and figure declared once, every claim's rule tested at its threshold."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from rmtloss.papers import CLAIMS, FIGURES, KINDS, PAPERS

HERE = Path(__file__).parent


def test_every_claim_has_passing_and_failing_records_in_its_paper_s_tests():
    for key in PAPERS:
        cases = importlib.import_module(f"test_{key}").CASES
        mine = {cid for cid, c in CLAIMS.items() if c.paper.key == key}
        assert set(cases) == mine, key
        assert all(case.failing for case in cases.values()), key


def test_every_paper_module_has_a_test_module():
    assert {p.stem.removeprefix("test_") for p in HERE.glob("test_*.py")} == {*PAPERS, "registry"}


def test_figures_and_claims_are_consistent():
    for c in CLAIMS.values():
        assert c.figure in FIGURES and FIGURES[c.figure].paper == c.paper, c.id
        assert set(c.reads) <= set(KINDS), c.id
    for f in FIGURES.values():
        module = Path(__file__).parents[2] / "src" / "rmtloss" / "figures" / f"{f.name}.py"
        assert module.is_file() and f.caption, f.name


def test_the_registry_loads_without_torch_or_matplotlib():
    code = (
        "import sys, rmtloss.papers, rmtloss.ledger; "
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_claim_or_figure_declared_twice_is_refused():
    from rmtloss.papers import _registry

    paper = next(iter(PAPERS.values()))
    with pytest.raises(ValueError, match="declared twice"):
        _registry.figure("spacing_ratios", paper, "local_stats", "again")
    with pytest.raises(ValueError, match="unknown record kinds"):
        _registry.claim("new-claim", paper, "spacing_ratios", "local_stat", "x")(lambda stats: None)


def test_the_markdown_ledger_escapes_pipes_and_gives_a_reason_for_every_missing_number():
    from rmtloss.ledger import ledger, to_markdown

    records = ledger([], "smoke")  # nothing ran: every claim is "not run" with its reason
    md = to_markdown(records, "smoke")
    table = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(table) == len(CLAIMS)
    for line in table:
        cells = line.replace("\\|", "").split("|")[1:-1]
        assert len(cells) == 9, line  # an escaped pipe does not split a cell
        assert cells[3].strip() == "n/a" and cells[6].strip().startswith("not run: "), line
    from rmtloss.ledger import cell

    assert cell("largest |U - MC| at\n|x| >= 150") == "largest \\|U - MC\\| at \\|x\\| >= 150"  # not /x/
    assert "## Notes" in md and "[MEM]: the rule rests on" in md  # activation-leading-order cites [MEM]


def test_a_shift_claim_without_outliers_says_why_it_has_no_number():
    from rmtloss.ledger import decide

    rec = {
        "kind": "outlier_shift_network",
        "run": "r/runs/mlp/train",
        "run_name": "mlp",
        "outliers": [],
        "method": "exact",
        "sigma2": 1.0,
        "noise_fit_r2": 0.9,
        "full_outliers": 0,
        "num_params": 10,
        "num_data": 10,
        "batch_sizes": [2],
        "batches": 1,
    }
    row = decide(CLAIMS["outlier-shift-network"], [rec], "smoke")
    assert row.verdict == "FAIL" and "none of the 1 networks has an outlier" in row.summary


def test_the_ledger_has_a_kind_column_and_opens_with_the_counts_per_kind():
    from rmtloss.ledger import ClaimRecord, kind_counts, ledger, to_csv

    assert list(ClaimRecord.__dataclass_fields__) == [  # CLAIMS.md version 3
        "id", "kind", "paper", "scale", "measured", "expected", "tolerance", "verdict", "margin", "fragile",
        "premise", "premise_measured", "figure", "summary", "detail",
    ]
    records = ledger([], "smoke")
    assert to_csv(records).splitlines()[0].startswith("id,kind,paper,scale,measured")
    counts = {c.kind for c in CLAIMS.values()}
    assert counts == {"empirical", "theory", "control"} and len(CLAIMS) == 29
    lines = kind_counts(records)
    assert lines[0].startswith("- **empirical**: 0 PASS, 0 FAIL, 0 premise absent of 13, 13 not run")
    assert [ln.split("**")[1] for ln in lines] == ["empirical", "theory", "control"]


def test_a_record_missing_a_key_stops_the_ledger_naming_the_claim_the_file_and_the_key(tmp_path):
    import json

    from conftest import run_in_process

    good = {"kind": "layered_index", "min_index": {"product": 0.1, "percolated": 0.2}, "p": 3, "e0": 1.66,
            "e_inf": 1.63, "n": 10, "samples": 1}  # lacks semicircle_max_below_threshold
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(good))
    out = tmp_path / "out"
    proc = run_in_process("claims", "scale=smoke", f"inputs=[{path}]", f"out={out / 'claims'}", out=out)
    assert proc.returncode == 2
    assert "claim layered-critical-points" in proc.stderr and str(path) in proc.stderr
    assert "'semicircle_max_below_threshold'" in proc.stderr
    assert not (out / "claims.csv").exists() and not (out / "claims.md").exists()  # nothing half-written


def test_the_markdown_ledger_names_the_data_its_networks_were_trained_on():
    from rmtloss.ledger import ledger, to_markdown

    md = to_markdown(ledger([], "mnist"), "mnist", ["mnist5k", "mnist5k", "own_set"])
    assert "Networks trained on `mnist5k`, 5,000 of MNIST's 70,000 digits" in md
    assert "`own_set`." in md  # a data set without a description is named as it is
    assert "Networks trained on" not in to_markdown(ledger([], "smoke"), "smoke")


def test_a_record_without_a_premise_statistic_stops_the_ledger_naming_claim_file_and_key(tmp_path):
    """CLAIMS.md v3, bad input: a record written before the premises (no kappa_median along its outliers)
    stops the claims stage, naming the claim, the file and the key; nothing is written."""
    import json

    from conftest import run_in_process

    old = {"kind": "outlier_shift_network", "run": "r/runs/mlp/train", "run_name": "mlp", "method": "exact",
           "outliers": [{"slope_ratio": 1.0, "r2": 0.95, "theta": 1.0, "slope_fit": 1.0,
                         "slope_predicted": 1.0}],
           "sigma2": 1.0, "noise_fit_r2": 0.9, "full_outliers": 1, "num_params": 10, "num_data": 10,
           "batch_sizes": [2], "batches": 1, "local_law": {"computed": False},
           "local_law_complement": {"computed": False}}
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(old))
    out = tmp_path / "out"
    proc = run_in_process("claims", "scale=smoke", f"inputs=[{path}]", f"out={out / 'claims'}", out=out)
    assert proc.returncode == 2
    assert "claim outlier-shift-network" in proc.stderr and str(path) in proc.stderr
    assert "'kappa_median'" in proc.stderr
    assert not (out / "claims.csv").exists() and not (out / "claims.md").exists()


def test_the_ledger_reads_back_and_renders_as_html_tables_per_paper(tmp_path):
    """The report's first page: claims.csv read back into records, every paper's claims as a table whose
    rows carry the verdict's colour and a link to the claim's figure in the report."""
    from rmtloss.ledger import VERDICT_COLOURS, ledger, read_csv, to_csv, to_html

    records = ledger([], "smoke")
    path = tmp_path / "claims.csv"
    path.write_text(to_csv(records))
    back = read_csv(str(path))
    assert [r.id for r in back] == [r.id for r in records] and all(r.verdict == "not run" for r in back)
    page = to_html(back, "smoke", "results/smoke/figures/{figure}.png")
    assert page.count("<table") == len({c.paper.key for c in CLAIMS.values()})
    assert page.count(f'<tr style="background:{VERDICT_COLOURS["not run"]}">') == len(CLAIMS)
    assert "showResultInfo('results/smoke/figures/spacing_ratios.png')" in page
    assert max(len(line) for line in page.splitlines()) < 10000  # docutils' raw block line limit


def test_a_claims_margin_is_its_worst_sets_and_unknown_when_any_set_has_no_standard_error():
    from rmtloss.papers._registry import worst_margin

    assert worst_margin([3.0, -1.5, 2.0]) == -1.5
    nan = float("nan")
    for margins in ([nan, 2.0], [2.0, nan], []):  # min() alone would depend on the NaN's place
        assert worst_margin(margins) != worst_margin(margins)  # NaN
