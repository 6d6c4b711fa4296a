"""Stage ``claims``: the claims ledger of every registered claim (:mod:`rmtloss.ledger`).

``python -m rmtloss.claims scale=quick 'inputs=[.../stats.json, ...]' out=results/quick/claims``
writes ``claims.csv``, ``claims.md`` and, for the HTML report, one table per paper
``claims_by_paper/<paper key>.csv``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from rmtloss._io import read_json, write_text
from rmtloss.errors import require
from rmtloss.ledger import PAPER_COLUMNS, by_paper, ledger, to_csv, to_markdown
from rmtloss.stage import stage

log = logging.getLogger("rmtloss.claims")


def work(cfg: DictConfig, out_dir: Path) -> tuple[None, str]:
    """Read the analysis records and write claims.csv and claims.md."""
    require(len(cfg.inputs) > 0, "inputs", "give at least one stats.json")
    stats = [read_json(p) for p in cfg.inputs]
    records = ledger(stats, cfg.scale, {id(s): str(p) for s, p in zip(stats, cfg.inputs, strict=True)})
    write_text(f"{cfg.out}.csv", to_csv(records))
    data = {s["data"] for s in stats if isinstance(s.get("data"), str)}
    write_text(f"{cfg.out}.md", to_markdown(records, cfg.scale, data, str(cfg.about)))
    for key, rows in by_paper(records).items():  # the report's table beside each paper's figures
        write_text(f"{cfg.out}_by_paper/{key}.csv", to_csv(rows, PAPER_COLUMNS))
    for r in records:
        log.info("%-28s %-9s %-7s %.4g  %s", r.id, r.kind, r.verdict, r.measured, r.summary)
    return None, "cpu"


main = stage("claims", "claims", work)

if __name__ == "__main__":
    main()
