"""Progress lines of long loops (rmtloss.progress)."""

from __future__ import annotations

import logging

from rmtloss.progress import eta_line, track


def test_a_log_line_per_step_with_elapsed_and_time_left(caplog):
    with caplog.at_level(logging.INFO, logger="rmtloss.progress"):
        assert list(track(range(4), 4, "lanczos", "step", min_interval=0.0)) == [0, 1, 2, 3]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4 and lines[0].startswith("lanczos: step 1/4, ") and "about" in lines[0]
    assert lines[-1].startswith("lanczos: step 4/4") and lines[-1].endswith("about 0 s left")


def test_the_time_left_is_the_mean_step_time_times_the_steps_left():
    assert eta_line("train", "epoch", 10, 300, 5.0) == "train: epoch 10/300, 5.0 s elapsed, about 145 s left"


def test_log_lines_are_rate_limited_and_can_be_turned_off(caplog, monkeypatch):
    with caplog.at_level(logging.INFO, logger="rmtloss.progress"):
        list(track(range(1000), 1000, "train", "epoch", min_interval=60.0))
    firsts = [r.getMessage().split(",")[0] for r in caplog.records]
    assert firsts == ["train: epoch 1/1000", "train: epoch 1000/1000"]
    caplog.clear()
    monkeypatch.setenv("RMTLOSS_PROGRESS", "0")
    with caplog.at_level(logging.INFO, logger="rmtloss.progress"):
        assert list(track(range(3), 3, "train")) == [0, 1, 2]
    assert not caplog.records
