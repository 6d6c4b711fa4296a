"""Stage ``figures``: ``python -m rmtloss.figures figure=<name> 'inputs=[...]' out=<stem>``.

The figure names are those the papers declare (:data:`rmtloss.papers.FIGURES`); figure ``<name>``
is drawn by ``rmtloss.figures.<name>.draw``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from omegaconf import DictConfig

from rmtloss.errors import require
from rmtloss.figures import diverged_runs, load_records
from rmtloss.figures._style import plt, save
from rmtloss.papers import FIGURES
from rmtloss.stage import stage


def work(cfg: DictConfig, out_dir: Path) -> tuple[None, str]:
    """Draw one figure from analysis records and save it as PDF and PNG."""
    require(cfg.figure in FIGURES, "figure",
            f"unknown figure '{cfg.figure}'; choose one of {', '.join(FIGURES)}")
    require(len(cfg.inputs) > 0, "inputs", "give at least one stats.json")
    module = importlib.import_module(f"rmtloss.figures.{cfg.figure}")
    records = load_records(list(cfg.inputs))
    live = [r for r in records if "diverged" not in r.stats]
    gone = diverged_runs(records)
    if live:
        fig = module.draw(live)
    else:  # nothing to draw: a page that says why
        fig = plt.figure(figsize=(6, 1.5))
    if gone:
        fig.text(0.01, -0.02 if live else 0.5, f"left out, training diverged: {', '.join(gone)}",
                 color="tab:red", fontsize=8, va="top" if live else "center")
    save(fig, cfg.out)
    return None, "cpu"


main = stage("figures", "figures", work)

if __name__ == "__main__":
    main()
