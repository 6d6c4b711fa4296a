"""Trends of the regimes scale (rmtloss.regimes): each point decided by the claim's own rule on its
records alone, and the reading of the two ends of the axis."""

from __future__ import annotations

import math

import pytest

from rmtloss.ledger import ClaimRecord
from rmtloss.regimes import Point, point_records, premise_shortfall, read_trend, sweep


def row(measured: float, margin: float, verdict: str = "PASS", premise: str = "",
        premise_measured: float = math.nan) -> ClaimRecord:
    return ClaimRecord("c", "empirical", "p", "regimes", measured, "", "", verdict, margin, "", premise,
                       premise_measured, "f", "", "")


def points(*rows: ClaimRecord, labels: tuple[str, ...] = ("1", "10", "100")) -> tuple[Point, ...]:
    pairs = zip(labels, rows, strict=True)
    return tuple(Point(lab, float(lab) if lab.isdigit() else None, r) for lab, r in pairs)


def test_a_margin_rising_toward_the_paper_s_end_reads_toward_and_falling_reads_away():
    up = points(row(0.3, -6.0, "FAIL"), row(0.4, -2.0, "FAIL"), row(0.5, 1.0))
    assert read_trend(up, "larger")[0] == "toward"
    assert read_trend(up, "smaller")[0] == "away"  # the same numbers, the paper's regime at the other end
    direction, words = read_trend(up, "larger")
    assert "margin -6.0 -> +1.0 s.e. (1 -> 100)" in words and "100: 0.5 (PASS, +1.0 s.e.)" in words


def test_ends_within_error_of_each_other_cannot_be_read():
    flat = points(row(0.3, -2.0, "FAIL"), row(0.9, 5.0), row(0.31, -0.5, "FAIL"))
    direction, words = read_trend(flat, "larger")
    assert direction == "unreadable" and "within error" in words


def test_a_premise_absent_point_is_named_and_the_premise_s_number_read_instead():
    kappa = "<= 3"
    away = points(row(31.0, -8.0, "premise absent", "kappa", 38.0),
                  row(30.0, -7.0, "premise absent", "kappa", 90.0),
                  row(29.0, -5.0, "premise absent", "kappa", 140.0))
    direction, words = read_trend(away, "larger", kappa)
    assert direction == "premise away" and "premise absent at 3 of 3 points" in words and "38 -> 140" in words
    toward = points(row(31.0, -8.0, "premise absent", "kappa", 40.0), row(1.0, 3.0, "PASS", "kappa", 2.0),
                    row(1.0, 3.0, "PASS", "kappa", 1.5))
    assert read_trend(toward, "larger", kappa)[0] == "premise toward"
    assert read_trend(away, "larger")[0] == "unreadable"  # no premise threshold given: said, not guessed
    assert premise_shortfall(2.0, "<= 3") == 0.0 and premise_shortfall(5.0, "<= 3") == 2.0
    assert premise_shortfall(1.0, "> 2") == 1.0 and premise_shortfall(float("nan"), "> 2") == math.inf


def test_a_count_without_standard_error_is_unconfirmed_and_a_category_end_is_chosen_by_label():
    count = points(row(1.0, math.nan, "FAIL"), row(2.0, math.nan, "PASS"), row(2.0, math.nan, "PASS"))
    direction, words = read_trend(count, "larger")
    assert direction == "unreadable" and "no standard error (a count): 1 -> 2 (up), unconfirmed" in words
    arch = points(row(0.2, -9.0, "FAIL"), row(0.3, -8.5, "FAIL"), row(0.6, 2.0),
                  labels=("mlp", "cnn", "resnet"))
    direction, words = read_trend(arch, "resnet")
    assert direction == "toward" and "(cnn -> resnet)" in words  # against the nearest other point
    with pytest.raises(ValueError, match="neither larger, smaller"):
        read_trend(arch, "vgg")


def test_point_records_select_runs_settings_and_cut_a_record_of_several_runs():
    net = {"kind": "local_stats", "run": "results/regimes/runs/p1600/train", "run_name": "p1600"}
    opt = {"kind": "epsilon_sweep", "setting": "n500"}
    count = {"kind": "outlier_count", "runs": [{"run_name": "count_w10_e30", "classes": 10},
                                               {"run_name": "count_w32_e30", "classes": 10}]}
    spectrum = {"kind": "local_stats", "run": "depth0"}  # spectra records hold the run's name itself
    got = point_records([net, opt, count, spectrum], ["p1600", "n500", "count_w32_e30", "depth0"])
    assert got[:2] == [net, opt] and got[2]["runs"] == [count["runs"][1]] and got[3] == spectrum
    assert point_records([net, opt, count, spectrum], ["other"]) == []


def _local(run: str, mean: float) -> dict:
    return {"kind": "local_stats", "run": run, "run_name": run, "model": "mlp", "matrix": "hessian",
            "checkpoint": "final", "full": False,
            "ratios": {"mean": mean, "ci_low": mean - 0.01, "ci_high": mean + 0.01, "n_ratios": 500,
                       "n_groups": 5}}


def test_a_sweep_decides_each_point_with_the_claim_s_own_rule():
    """ratios-goe at three points: Poisson-like spacing ratios at the small end, GOE at the large end."""
    stats = [_local("a", 0.40), _local("b", 0.47), _local("c", 0.531)]
    t = sweep("ratios-goe", {"axis": "P", "toward": "larger", "log": True,
                             "points": {"650": ["a"], "1300": ["b"], "4000": ["c"]}}, stats, "regimes")
    assert [p.row.verdict for p in t.points] == ["FAIL", "FAIL", "PASS"]
    assert [p.row.measured for p in t.points] == [0.40, 0.47, 0.531]
    assert t.direction == "toward" and t.points[0].value == 650.0


def test_the_trends_stage_writes_the_lines_the_json_and_one_figure_per_sweep(tmp_path):
    import json

    from conftest import run_in_process

    files = []
    for run, mean in (("a", 0.40), ("b", 0.47), ("c", 0.531)):
        f = tmp_path / run / "stats.json"
        f.parent.mkdir()
        f.write_text(json.dumps(_local(run, mean)))
        files.append(str(f))
    spec = {"ratios-goe": [{"axis": "P", "toward": "larger", "log": True,
                            "points": {"650": ["a"], "1300": ["b"], "4000": ["c"]}}]}
    res = run_in_process("trends", "scale=regimes", f"inputs=[{','.join(files)}]",
                         f"sweeps='{json.dumps(spec)}'", f"out={tmp_path / 'out'}", out=tmp_path / "meta")
    assert res.returncode == 0, res.stderr
    got = json.loads((tmp_path / "out" / "trends.json").read_text())
    assert got["ratios-goe"]["trend"] == "P: toward the claim"
    assert [p["row"]["verdict"] for p in got["ratios-goe"]["sweeps"][0]["points"]] == ["FAIL", "FAIL", "PASS"]
    md = (tmp_path / "out" / "trends.md").read_text()
    assert "- `ratios-goe`: along P: moves toward the rule's threshold" in md
    assert (tmp_path / "out" / "figures" / "trend_ratios-goe_0.png").is_file()
    res = run_in_process("trends", "scale=regimes", f"inputs=[{files[0]}]", "sweeps='{\"nope\": []}'",
                         f"out={tmp_path / 'bad'}", out=tmp_path / "meta2")
    assert res.returncode == 2 and "unknown claim id(s) nope" in res.stderr


def test_a_sweep_whose_points_have_no_number_is_still_drawn_on_a_log_axis(tmp_path):
    """Every point not run (no margin, no premise number): the figure is drawn with the verdicts
    written in (a log axis over no data raised 'Data cannot be log-scaled' in the first regimes run)."""
    from rmtloss.figures import regime_trends
    from rmtloss.regimes import Trend

    none = points(row(math.nan, math.nan, "not run"), row(math.nan, math.nan, "not run"),
                  row(math.nan, math.nan, "not run"))
    t = Trend("c", "P", "larger", True, ">= 0.5", none, "unreadable", "cannot be read")
    regime_trends.draw(t, str(tmp_path / "f"))
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_a_point_the_rule_does_not_decide_is_named_and_the_rest_are_read():
    """A shallow network's point is reported, never deciding (global-not-rmt): the trend is read on the
    decided points and says which were left out; with fewer than two decided points it cannot be read."""
    some = points(row(math.nan, math.nan, "not run"), row(0.3, -6.0, "FAIL"), row(0.5, 1.0))
    direction, words = read_trend(some, "larger")
    assert direction == "toward" and words.startswith("not run at 1 (left out); moves toward")
    one = points(row(math.nan, math.nan, "not run"), row(math.nan, math.nan, "not run"), row(0.5, 1.0))
    assert read_trend(one, "larger")[0] == "unreadable"


def test_a_premise_absent_point_inside_the_axis_is_left_out_when_both_ends_have_the_premise():
    mid = points(row(0.02, 5.7, "PASS", "share", 1.0), row(0.09, -5.1, "premise absent", "share", 0.0),
                 row(0.04, 2.3, "PASS", "share", 1.0))
    direction, words = read_trend(mid, "larger", ">= 0.5")
    assert direction == "away" and words.startswith("premise absent at 10 (left out); moves away from")
