"""A sweep of the regimes scale: the claim's margin and its premise against the sweep's axis.

Top: the margin of the claim's rule at each point, in standard errors (error bars ±1 s.e.; 0 is the
rule's threshold, PASS above; the band |margin| < 2 is fragile); a hollow marker where the premise is
absent. Bottom: the premise's number with its threshold (claims with a premise), else the rule's
number. Drawn by the trends stage (:mod:`rmtloss.stages.trends`), not by a paper module: a sweep
crosses the papers' settings.
"""

from __future__ import annotations

import math

from matplotlib.ticker import NullFormatter

from rmtloss.figures import _style
from rmtloss.regimes import Trend, premise_test


def _xs(t: Trend) -> tuple[list[float], list[str] | None]:
    """Numeric positions (the axis values, or the points' order for categories) and tick labels."""
    if all(p.value is not None for p in t.points):
        return [float(p.value) for p in t.points], None
    return list(range(len(t.points))), [p.label for p in t.points]


def draw(t: Trend, stem: str) -> None:
    """Write ``stem.pdf`` and ``stem.png`` for one sweep."""
    fig, (top, bottom) = _style.plt.subplots(2, 1, figsize=(5.2, 5.0), sharex=True, layout="constrained")
    xs, labels = _xs(t)
    for x, p in zip(xs, t.points, strict=True):
        hollow = p.row.verdict == "premise absent"
        if math.isfinite(p.row.margin):
            top.errorbar([x], [p.row.margin], yerr=[1.0], fmt="o", color="C0", capsize=3,
                         mfc="white" if hollow else "C0")
        else:  # a count, or a point the rule did not decide: its verdict where the margin would be
            top.annotate(p.row.verdict, (x, 0.0), ha="center", va="bottom", fontsize=7, color="C3",
                         rotation=90)
        value = p.row.premise_measured if t.premise else p.row.measured
        bottom.plot([x], [value], "s", color="C1", mfc="white" if hollow else "C1")
    top.axhline(0.0, color="k", lw=1, label="rule's threshold (PASS above)")
    top.axhspan(-2, 2, color="0.9", label="fragile: |margin| < 2 s.e.")
    top.set_ylabel("margin of the rule (s.e.)")
    top.set_title(f"{t.claim} along {t.axis}\n(the paper's regime: {t.toward}; hollow: premise absent)")
    top.legend(loc="best")
    values = [p.row.premise_measured if t.premise else p.row.measured for p in t.points]
    finite = [v for v in values if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) > 10 * min(finite):  # e.g. kappa from 100 to 5000
        bottom.set_yscale("log")
    if t.premise:
        _, limit = premise_test(t.premise)
        bottom.axhline(limit, color="k", ls="--", lw=1, label=f"premise's threshold ({t.premise})")
        bottom.set_ylabel("premise's number")
        bottom.legend(loc="best")
    else:
        bottom.set_ylabel("the rule's number")
    if labels:
        bottom.set_xticks(xs, labels)
        bottom.set_xlim(-0.5, len(xs) - 0.5)
    else:  # the axis from the points themselves, whether or not any of them has a number to draw
        lo, hi = min(xs), max(xs)
        if t.log and lo > 0:
            bottom.set_xscale("log")
            bottom.set_xlim(lo / 1.3, hi * 1.3)
            bottom.set_xticks(xs, [p.label for p in t.points])  # the points' own values, no minor labels
            bottom.xaxis.set_minor_formatter(NullFormatter())
        else:
            pad = 0.1 * (hi - lo or 1.0)
            bottom.set_xlim(lo - pad, hi + pad)
    bottom.set_xlabel(t.axis)
    _style.save(fig, stem)
    _style.plt.close(fig)
