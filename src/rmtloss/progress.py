"""Progress of long loops: a bar on a terminal, a log line per step in a job's log.

Training epochs, Lanczos steps and the spectra stage's batch loop run through :func:`track`. When
standard error is a terminal, tqdm draws a bar (elapsed time, rate, time left); otherwise (a
Snakemake job writing to its log, a SLURM job) each step logs one line,

``train: epoch 12/300, 4.1 s elapsed, about 98 s left``,

at most one every ``min_interval`` seconds (the first and the last step always), so a 300-epoch
run or a 100-step Lanczos run says where it is without flooding the log. ``RMTLOSS_PROGRESS=0``
turns both off (the tests' default is whatever their standard error is).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("rmtloss.progress")


def _enabled() -> bool:
    return os.environ.get("RMTLOSS_PROGRESS", "1") != "0"


def eta_line(desc: str, unit: str, done: int, total: int, elapsed: float) -> str:
    """``desc: unit done/total, X s elapsed, about Y s left`` (Y from the mean time per step)."""
    left = elapsed / done * (total - done) if done else float("nan")
    return f"{desc}: {unit} {done}/{total}, {elapsed:.1f} s elapsed, about {left:.0f} s left"


def track(items: Iterable[T], total: int, desc: str, unit: str = "step", min_interval: float = 5.0
          ) -> Iterator[T]:
    """Yield ``items``, showing progress (a tqdm bar on a terminal, log lines otherwise).

    Args:
        items: what to loop over. total: its length (for the time left). desc: what runs (the log
            line's prefix). unit: what one item is (``epoch``, ``step``, ``batch``).
        min_interval: seconds between two log lines (the last item is always logged).
    """
    if not _enabled():
        yield from items
        return
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=desc, unit=unit, leave=False)
        return
    start = last = time.perf_counter()
    for done, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if done == 1 or done == total or now - last >= min_interval:
            log.info(eta_line(desc, unit, done, total, now - start))
            last = now
