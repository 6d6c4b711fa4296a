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
    code = ("import sys, rmtloss.papers, rmtloss.ledger; "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_claim_or_figure_declared_twice_is_refused():
    from rmtloss.papers import _registry

    paper = next(iter(PAPERS.values()))
    with pytest.raises(ValueError, match="declared twice"):
        _registry.figure("spacing_ratios", paper, "local_stats", "again")
    with pytest.raises(ValueError, match="unknown record kinds"):
        _registry.claim("new-claim", paper, "spacing_ratios", "local_stat", "x")(lambda stats: None)
