"""Stage ``trends``: each claim's sweeps of the regimes scale read as trends (:mod:`rmtloss.regimes`).

``python -m rmtloss.trends scale=regimes 'inputs=[.../stats.json, ...]' sweeps='{json}' out=<folder>``
decides every claim at every point of its sweeps on that point's records alone and writes, in
``out``: ``trends.json`` (per claim: its short reading and every sweep's points), ``trends.md``
(one line per claim: the numbers at each point and the reading in words) and one figure per sweep,
``figures/trend_<claim>_<k>.pdf`` and ``.png`` (:mod:`rmtloss.figures.regime_trends`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path

from omegaconf import DictConfig

from rmtloss._io import read_json, write_json, write_text
from rmtloss.errors import ConfigError, require
from rmtloss.figures import regime_trends
from rmtloss.regimes import claim_line, claim_short, trends
from rmtloss.stage import stage

log = logging.getLogger("rmtloss.trends")


def _clean(x: object) -> object:
    """NaN and infinities as None (JSON has none)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def work(cfg: DictConfig, out_dir: Path) -> tuple[None, str]:
    """Read the records, read each sweep as a trend, write the JSON, the Markdown and the figures."""
    require(len(cfg.inputs) > 0, "inputs", "give at least one stats.json")
    try:
        spec = json.loads(cfg.sweeps)
    except json.JSONDecodeError as exc:
        raise ConfigError("sweeps", f"not JSON ({exc})") from exc
    require(isinstance(spec, dict) and spec, "sweeps", "give claim id -> its sweeps (scales.<scale>.trends)")
    stats = [read_json(p) for p in cfg.inputs]
    found = trends(spec, stats, cfg.scale)
    out = Path(cfg.out)
    record = {cid: {"trend": claim_short(cid, found), "line": claim_line(cid, found),
                    "sweeps": [_clean(asdict(t)) for t in found if t.claim == cid]} for cid in spec}
    lines = [f"# Trends of the {cfg.scale} scale", "",
             "Each claim decided at every point of its sweeps on that point's records alone (margins in "
             "s.e., positive on the PASS side); whether it moves toward or away from the rule's threshold as "
             "the axis moves toward the paper's regime. Figures: figures/trend_<claim>_<k>.png.", ""]
    lines += [f"- {claim_line(cid, found)}" for cid in spec]
    for cid in spec:
        for k, t in enumerate([t for t in found if t.claim == cid]):
            regime_trends.draw(t, str(out / "figures" / f"trend_{cid}_{k}"))
        log.info("%s: %s", cid, claim_short(cid, found))
    write_json(out / "trends.json", record)
    write_text(out / "trends.md", "\n".join(lines) + "\n")
    return None, "cpu"


main = stage("trends", "trends", work)

if __name__ == "__main__":
    main()
