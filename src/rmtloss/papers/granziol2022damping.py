"""Granziol, Baskerville, *A random matrix theory approach to damping in deep learning*, J. Phys.
Complexity (2022), arXiv 2011.08181.

Damping as linear shrinkage of the curvature estimate: Adam's ε closes its generalisation gap to
SGD (Section 5), a random-matrix damping learner that is insensitive to its starting value, and a
noisy quadratic model in which damping trades flat-direction noise for sharp-direction progress.
"""

from __future__ import annotations

import math

from rmtloss.papers._registry import NotRun, Outcome, Stats, claim, figure, paper

DAMPING = paper(
    "granziol2022damping",
    "A random matrix theory approach to damping in deep learning",
    "Granziol, Baskerville",
    2022,
    "2011.08181",
    "Damping",
)

figure(
    "epsilon_sweep",
    DAMPING,
    "epsilon_sweep",
    "Adam's final test error against its damping epsilon (learning rate x (1 + epsilon): damping as "
    "shrinkage), mean +- s.e. over seeds, with tuned SGD's band (left), and the mean test error during "
    "training for each epsilon and SGD's reference learning rate (right), for logistic regression with N "
    "= P = 650 and the digits MLP (Granziol & Baskerville, damping). The paper's claim is that a large "
    "epsilon closes Adam's generalisation gap to SGD while epsilon = 1e-8 leaves it (claim "
    "epsilon-closes-gap).",
)
figure(
    "damping_learner",
    DAMPING,
    "damping_learner",
    "The RMT damping learner started from an initial damping over four decades against the same optimiser "
    "with that damping fixed: final test error (left) and the learned damping during training (right), "
    "one row per setting. K-FAC rows use the linear-shrinkage (Ledoit-Wolf) learner of the authors' code, "
    "which has no floor; Adam rows the damping-gap learner, which never goes below its start. An "
    "insensitive learner gives nearly the same error from every start; claim damping-learner-insensitive "
    "is decided on the K-FAC rows (the learner's range at most a third of fixed-damping K-FAC's) and "
    "reports the Adam rows beside them.",
)
figure(
    "shrinkage_noise",
    DAMPING,
    "shrinkage_noise",
    "A noisy quadratic model of damped preconditioned descent: the displacement along the flattest "
    "against the sharpest directions (left), the true loss after T steps (middle) and during the steps "
    "(right), against the damping epsilon. Damping shrinks the curvature estimate: the flat/sharp ratio "
    "must fall as epsilon grows and the lowest loss be reached at an epsilon above 1e-3 (claim "
    "shrinkage-noise).",
)


def _diverged_note(arms: list[dict]) -> str:
    div = sum(a["diverged"] for a in arms)
    return f"; {div} runs diverged (left out of the means)" if div else ""


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@claim(
    "epsilon-closes-gap",
    DAMPING,
    "epsilon_sweep",
    "epsilon_sweep",
    "every setting, rates tuned on a validation split (interior choices): |err(largest eps) - err(SGD)| <= "
    "1 s.e. and err(eps = 1e-8) - err(SGD) > 1 s.e. (s.e. of the difference of the two means)",
    "1 s.e.",
)
def epsilon_closes_gap(stats: list[Stats]) -> Outcome | NotRun:
    """Adam's test error at the largest ε is within 1 s.e. of SGD's; at the smallest ε it is worse.

    The paper compares tuned optimisers: every learning rate must have been chosen on a validation
    split from a grid in which the choice is interior (CLAIMS.md's protocol); otherwise not run.
    """
    if not stats:
        return NotRun("no epsilon_sweep run")
    edges = [
        f"{s['setting']} {a.get('arm', 'sgd')}"
        for s in stats
        for a in [s["sgd"], *s["adam"]]
        if not a.get("tuning", {}).get("interior", False)
    ]
    if edges:
        return NotRun(
            "learning rate not tuned on a validation split, or chosen at an edge of its grid (widen "
            f"sgd.lrs / tuning.adam_lrs or raise tuning.widen): {', '.join(edges)}"
        )
    parts, gaps, oks = [], [], []
    for s in stats:
        sgd, arms = s["sgd"], sorted(s["adam"], key=lambda a: a["eps"])
        small, large = arms[0], arms[-1]
        se_l, se_s = math.hypot(large["se"], sgd["se"]), math.hypot(small["se"], sgd["se"])
        gap_l, gap_s = large["mean"] - sgd["mean"], small["mean"] - sgd["mean"]
        ok = abs(gap_l) <= se_l and gap_s > se_s
        oks.append(ok)
        gaps.append(gap_l)
        parts.append(
            f"{s['setting']}: SGD (lr {sgd['lr']:g}) {sgd['mean']:.4f} +- {sgd['se']:.4f}; Adam eps "
            f"{small['eps']:g} (lr {small['lr']:g}) {small['mean']:.4f} +- {small['se']:.4f} "
            f"(gap {gap_s:+.4f}, s.e. {se_s:.4f}), eps {large['eps']:g} (lr {large['lr']:g}) "
            f"{large['mean']:.4f} +- {large['se']:.4f} (gap {gap_l:+.4f}, s.e. {se_l:.4f}) "
            "-> "
            f"{_verdict(ok)}{_diverged_note(arms)}"
        )
    worst = max(gaps, key=lambda g: abs(g) if math.isfinite(g) else math.inf)
    return Outcome(
        worst,
        all(oks),
        f"test error at the largest eps minus SGD's, worst setting: {worst:+.4f}",
        "; ".join(parts),
    )


def _learner_ratio(s: Stats) -> tuple[float, str]:
    """Range of the learner's final test error over its starting dampings / fixed damping's range."""
    rl = [a["mean"] for a in s["learner"]]
    rf = [a["mean"] for a in s["fixed"]]
    range_l, range_f = max(rl) - min(rl), max(rf) - min(rf)
    ratio = range_l / range_f if range_f > 0 else math.inf
    deltas = [a["eps"] for a in s["learner"]]
    return ratio, (
        f"{s['setting']} ({s.get('optimizer', 'adam')}, {s.get('learner_variant', 'gap')} learner): initial "
        f"damping {min(deltas):g}..{max(deltas):g}; "
        f"learner range {range_l:.4f} ({', '.join(f'{m:.4f}' for m in rl)}), fixed range {range_f:.4f} "
        f"({', '.join(f'{m:.4f}' for m in rf)}), ratio {ratio:.3f}{_diverged_note(s['learner'] + s['fixed'])}"
    )


@claim(
    "damping-learner-insensitive",
    DAMPING,
    "damping_learner",
    "damping_learner",
    "every K-FAC setting: range of the learner's final test error over 4 decades of initial damping <= 1/3 "
    "of fixed-damping K-FAC's range (the Adam learner reported beside it)",
    "1/3",
)
def damping_learner_insensitive(stats: list[Stats]) -> Outcome | NotRun:
    """The paper's learner is for second-order optimisers, inspired by linear shrinkage: decided on
    K-FAC with the learner against fixed-damping K-FAC; the Adam damping-gap learner (a floor at
    δ_min, so it cannot forget its start) is reported, never decided on."""
    if not stats:
        return NotRun("no damping_learner run")
    kfac = [s for s in stats if s.get("optimizer") == "kfac"]
    adam = [_learner_ratio(s)[1] for s in stats if s.get("optimizer", "adam") != "kfac"]
    reported = f"; reported, not deciding: {'; '.join(adam)}" if adam else ""
    if not kfac:
        return NotRun(
            "the rule is decided on the K-FAC learner (CLAIMS.md v2): no damping_learner setting with "
            "optimizer=kfac ran"
            + reported.replace("; reported", ". Reported", 1)
        )
    ratios = [_learner_ratio(s) for s in kfac]
    worst = max(r for r, _ in ratios)
    return Outcome(
        worst,
        worst <= 1 / 3,
        f"learner range / fixed range, worst K-FAC setting: {worst:.3f}",
        "; ".join(d for _, d in ratios) + reported,
    )


@claim(
    "shrinkage-noise",
    DAMPING,
    "shrinkage_noise",
    "shrinkage_noise",
    "flat/sharp displacement ratio falls as eps grows (no rise beyond 2 s.e. between neighbours, last < "
    "first) "
    "and the lowest true loss after T steps is at an eps above 1e-3",
    kind="theory",
)
def shrinkage_noise(stats: list[Stats]) -> Outcome | NotRun:
    """In the noisy quadratic model the flat/sharp ratio falls with ε and the best loss is at ε > 1e-3."""
    if not stats:
        return NotRun("no shrinkage_noise run")
    s = stats[0]
    arms = sorted(s["eps"], key=lambda e: e["eps"])
    r = [(e["ratio_mean"], e["ratio_se"]) for e in arms]
    falls = r[-1][0] < r[0][0] and all(
        b[0] <= a[0] + 2 * math.hypot(a[1], b[1]) for a, b in zip(r, r[1:], strict=False)
    )
    finite = [e for e in arms if math.isfinite(e["loss_mean"])]
    best = min(finite, key=lambda e: e["loss_mean"]) if finite else None
    best_eps = best["eps"] if best else math.nan
    return Outcome(
        best_eps,
        falls and best is not None and best_eps > 1e-3,
        f"eps with the lowest true loss: {best_eps:g}; ratio falls: {falls}",
        "; ".join(
            f"eps {e['eps']:g}: flat/sharp {e['ratio_mean']:.3g} +- {e['ratio_se']:.2g}, loss "
            f"{e['loss_mean']:.4g} +- {e['loss_se']:.2g}"
            + (f" ({e['diverged']} diverged)" if e["diverged"] else "")
            for e in arms
        )
        + f"; n = {s['n']}, T = {s['steps']}, {s['samples']} draws",
    )
