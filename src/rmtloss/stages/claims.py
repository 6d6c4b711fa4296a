"""Stage ``claims``: the claims ledger of every registered claim (:mod:`rmtloss.ledger`).

``python -m rmtloss.claims scale=quick 'inputs=[.../stats.json, ...]' out=results/quick/claims``
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from rmtloss._io import read_json, write_text
from rmtloss.errors import require
from rmtloss.ledger import ledger, to_csv, to_markdown
from rmtloss.stage import stage

log = logging.getLogger("rmtloss.claims")


def work(cfg: DictConfig, out_dir: Path) -> tuple[None, str]:
    """Read the analysis records and write claims.csv and claims.md."""
    require(len(cfg.inputs) > 0, "inputs", "give at least one stats.json")
    stats = [read_json(p) for p in cfg.inputs]
    records = ledger(stats, cfg.scale, {id(s): str(p) for s, p in zip(stats, cfg.inputs, strict=True)})
    write_text(f"{cfg.out}.csv", to_csv(records))
    write_text(f"{cfg.out}.md", to_markdown(records, cfg.scale))
    for r in records:
        log.info("%-28s %-9s %-7s %.4g  %s", r.id, r.kind, r.verdict, r.measured, r.summary)
    return None, "cpu"


main = stage("claims", "claims", work)

if __name__ == "__main__":
    main()
