"""Baskerville, Keating, Mezzadri, Najnudel, Granziol, *Universal characteristics of deep neural
network loss surfaces from random matrix theory*, J. Phys. A (2022), arXiv 2205.08601.

Outliers of a deformed matrix A + sX sit where the subordination function ω(λ) = θ (free
convolution with a semicircle; Section 3), so batch-Hessian outliers move linearly in
1/b − 1/N with slope σ² m_D(θ); a C-class classifier has about C outliers; damped inverses of a
noisy matrix act like the true one with the effective damping δ_eff = δ − s² g (local law,
Section 4).
"""

from __future__ import annotations

import math

import numpy as np

from rmtloss.papers._registry import (
    NotRun,
    Outcome,
    Stats,
    claim,
    figure,
    margin_in_se,
    paper,
    run_name,
    worst_margin,
)

UNIVERSAL = paper(
    "baskerville2022universal",
    "Universal characteristics of deep neural network loss surfaces from random matrix theory",
    "Baskerville, Keating, Mezzadri, Najnudel, Granziol",
    2022,
    "2205.08601",
    "Universal characteristics",
)

figure(
    "outlier_shift_synthetic",
    UNIVERSAL,
    "outlier_shift_synthetic",
    "Outliers of A + sX, A a Marchenko-Pastur bulk with two spikes theta, against the noise scale s, for "
    "four noise matrices X: the sampled shift lambda - theta (points) against the free-convolution "
    "prediction omega(lambda) = theta (solid) and the BBP approximation theta + s^2/theta (dotted). For "
    "delocalised noise (GOE, +-1 Wigner, sparse) the points must follow the solid line within 1%; for "
    "diagonal (localised) noise they must not (claim outlier-shift-synthetic).",
)
figure(
    "outlier_shift_network",
    UNIVERSAL,
    "outlier_shift_network",
    "The largest eigenvalues of batch Hessians of a trained network against 1/b - 1/N (points: means over "
    "batches +- s.e.; solid: least-squares lines) with the free-convolution prediction theta_i + sigma^2 "
    "m_D(theta_i) (1/b - 1/N) from the full-data outliers theta_i (dashed). Middle: the noise variance of "
    "batch Hessian-vector products and the line through the origin whose slope is sigma^2. Right: the "
    "premise, the noise concentration kappa along each outlier (1 for isotropic noise); above the dashed "
    "line 3 the paper's delocalised-noise model does not hold, the title says 'premise absent' and the "
    "network does not decide. Claim "
    "outlier-shift-network asks for fitted slopes within a factor 1.5 of the predicted ones; the paper's "
    "parametrisation of the noise scale s(b) is recalled, not verified ([MEM]), so this is our "
    "reconstruction.",
)
figure(
    "outlier_count",
    UNIVERSAL,
    "outlier_count",
    "Outliers of the full-data Hessian and GGN of MLPs trained on Gaussian mixtures with C classes, "
    "counted as the eigenvalues of the GGN's class-mean part (Papyan's decomposition) above the largest "
    "eigenvalue of the rest (filled markers), against the band C - 1 to C the paper expects (claim "
    "outlier-count); hollow: the version-1 count above a fitted square-root edge, which counts a heavy "
    "tail, and the largest gap ratio. Right: the class-mean part's eigenvalues with the within-class "
    "edge (dashed).",
)
figure(
    "local_law_damping",
    UNIVERSAL,
    ("local_law_synthetic", "outlier_shift_network"),
    "Quadratic forms u^T (H + delta)^-1 u of damped inverses of noisy matrices: the relative error to the "
    "empirical mean of the deterministic equivalent (A + delta_eff)^-1, delta_eff = delta - s^2 g "
    "(solid), and of the naive (A + delta)^-1 (dotted), against the damping delta, for synthetic A + sX "
    "and for batch Hessians of a trained network. The local law holds where the solid lines stay below "
    "the 2% line above the noise scale and below the dotted ones (claim local-law-damping).",
)


@claim(
    "outlier-shift-synthetic",
    UNIVERSAL,
    "outlier_shift_synthetic",
    "outlier_shift_synthetic",
    "relative error < 1% for each delocalised noise; diagonal (localised) noise visibly off (> 1%)",
    "0.01",
    kind="theory",
)
def outlier_shift_synthetic(stats: list[Stats]) -> Outcome | NotRun:
    """Outliers of A + sX sit at omega(lambda) = theta for delocalised noise, not for diagonal noise."""
    if not stats:
        return NotRun("no synthetic_shift run")
    noise = stats[0]["noise"]
    deloc = {k: v["max_rel_error"] for k, v in noise.items() if v["delocalised"]}
    local = {k: v["max_rel_error"] for k, v in noise.items() if not v["delocalised"]}
    worst = max(deloc.values()) if deloc else float("nan")
    return Outcome(
        worst,
        bool(deloc) and worst < 0.01 and all(e > 0.01 for e in local.values()),
        f"largest relative error over s and spikes, delocalised noise: {worst:.4f}; "
        + ", ".join(f"{k} {v:.4f}" for k, v in local.items()),
        "; ".join(
            f"{k}: {v['max_rel_error']:.4f} (shift {v['max_rel_error_shift']:.3f})" for k, v in noise.items()
        )
        + f"; N = {stats[0]['n']}, {stats[0]['samples']} draws, s = {stats[0]['s']}",
    )


#: The premise of the network claims (CLAIMS.md v3): the batch noise is delocalised along the tracked
#: directions, median noise concentration κ = P ||E_b q||^2 / tr(E_b^2) at most this (isotropic noise: 1).
KAPPA_MAX = 3.0
PREMISE_TOP = 3
SHIFT_FACTOR = 1.5
SHIFT_PREMISE = (
    f"batch noise delocalised along the top {PREMISE_TOP} outliers: median kappa = P ||E_b q||^2 / tr(E_b^2) "
    f"<= {KAPPA_MAX:g} for each (1 for isotropic noise); the number is the smallest over networks of the "
    "largest median kappa"
)


def _shift_premise(s: Stats) -> float:
    """The largest median κ over the top outliers of one network (NaN when none was tracked)."""
    k = [o["kappa_median"] for o in s["outliers"][:PREMISE_TOP]]
    return max(k) if k else float("nan")


def _shift_factor(s: Stats) -> tuple[float, bool, float]:
    """Largest factor between fitted and predicted slopes of one network, its verdict, and its margin:
    the distance of log(factor) to log(1.5) in s.e. of log(fitted slope) (bootstrap over batches)."""
    outl = s["outliers"]
    if not outl:
        return float("nan"), False, float("nan")
    factors = [
        max(o["slope_ratio"], 1 / o["slope_ratio"]) if o["slope_ratio"] > 0 else math.inf for o in outl
    ]
    worst = int(np.argmax(factors))
    o = outl[worst]
    se_log = o.get("slope_fit_se", float("nan")) / abs(o["slope_fit"]) if o["slope_fit"] else float("nan")
    margin = (
        margin_in_se(math.log(factors[worst]), math.log(SHIFT_FACTOR), se_log, above=False)
        if math.isfinite(factors[worst])
        else float("nan")
    )
    return max(factors), all(o["r2"] >= 0.9 for o in outl) and max(factors) <= SHIFT_FACTOR, margin


def _shift_detail(s: Stats) -> str:
    fits = ", ".join(
        f"theta {o['theta']:.4f}: fitted {o['slope_fit']:.4g} +- {o.get('slope_fit_se', float('nan')):.2g} "
        f"(R^2 {o['r2']:.3f}), predicted {o['slope_predicted']:.4g}, kappa {o['kappa_median']:.3g}"
        + (f", second order (reported) {o['slope_second_order']:.4g}" if "slope_second_order" in o else "")
        for o in s["outliers"]
    )
    return (
        f"{run_name(s)} ({s['method']}): {fits or 'no outlier above the fitted bulk edge'}; sigma^2 "
        f"{s['sigma2']:.4g} (noise fit R^2 {s['noise_fit_r2']:.3f}), {s['full_outliers']} full-data "
        "outliers, "
        f"P = {s['num_params']}, N = {s['num_data']}, b = {s['batch_sizes']}, {s['batches']} batches each"
    )


@claim(
    "outlier-shift-network",
    UNIVERSAL,
    "outlier_shift_network",
    "outlier_shift_network",
    f"premise: {SHIFT_PREMISE}; rule, for at least one network whose premise holds: linear fit R^2 "
    f">= 0.9 for "
    f"the top outliers and predicted slope within a factor {SHIFT_FACTOR} of the fitted (C1.3)",
    f"{SHIFT_FACTOR}",
)
def outlier_shift_network(stats: list[Stats]) -> Outcome | NotRun:
    """Batch-Hessian outliers grow linearly in 1/b - 1/N with the slope sigma^2 m_D(theta).

    The paper's model H_b = H + s(b) X takes the batch noise X delocalised (QUE-like); where the noise
    concentrates along the outliers (κ ≫ 1) the free-convolution slope does not apply, and the claim
    is not tested there (``premise absent``, CLAIMS.md v3). The paper finds the agreement for some
    models ("notably ResNet"), so the claim passes when at least one network whose premise holds
    passes; every network's numbers, and the second-order perturbative slope, are in the detail.
    """
    if not stats:
        return NotRun("no network_shift run")
    premises = [_shift_premise(s) for s in stats]
    holds = [math.isfinite(k) and k <= KAPPA_MAX for k in premises]
    results = [_shift_factor(s) for s in stats]
    decided = [r for r, h in zip(results, holds, strict=True) if h] or results
    finite = [f for f, _, _ in decided if math.isfinite(f)]
    best = min(finite) if finite else float("nan")
    best_margin = max((m for f, _, m in decided if f == best), default=float("nan"))
    known = [k for k in premises if math.isfinite(k)]
    if finite:
        summary = (
            f"smallest (over {len(decided)} networks{' whose premise holds' if any(holds) else ''}) largest "
            f"factor between fitted and predicted slope of the top outliers: {best:.3g}"
        )
    elif all(not s["outliers"] for s in stats):
        summary = f"no number: none of the {len(stats)} networks has an outlier above its fitted bulk edge"
    else:
        summary = "no number: a fitted or predicted slope is not positive in every network (factor infinite)"
    return Outcome(
        best,
        any(ok for (_, ok, _), h in zip(results, holds, strict=True) if h),
        summary
        + "; noise concentration kappa (largest median over the top outliers) "
        + ", ".join(f"{run_name(s)} {k:.3g}" for s, k in zip(stats, premises, strict=True)),
        "; ".join(_shift_detail(s) for s in stats),
        margin=best_margin,
        premise=SHIFT_PREMISE,
        premise_measured=min(known) if known else float("nan"),
        premise_ok=any(holds) if known else None,  # no outlier tracked: nothing to measure it along
    )


#: The numbers of classes of the outlier-count experiment.
CLASS_COUNTS = (2, 3, 5, 10)


@claim(
    "outlier-count",
    UNIVERSAL,
    "outlier_count",
    "outlier_count",
    "count in {C - 1, C} for C in {2, 3, 5, 10} on Gaussian-mixture data (Hessian and GGN); count: "
    "eigenvalues of the GGN's class-mean part above the largest eigenvalue of the rest (Papyan)",
)
def outlier_count(stats: list[Stats]) -> Outcome | NotRun:
    """A C-class classifier has C - 1 or C outliers, Hessian and GGN, counted by a detector that does
    not know C: the eigenvalues of the GGN's class-mean part above the largest eigenvalue of the rest
    (Papyan 2020), chosen on synthetic controls (planted spikes in a heavy-tailed bulk)."""
    if stats and stats[0].get("detector") != "papyan-class-means":
        return NotRun("a record of the version-1 edge-fit detector; rerun the outlier_count task")
    if not stats:
        return NotRun("no outlier_count run")
    rows = sorted(stats[0]["runs"], key=lambda r: r["classes"])
    pairs = [(r["classes"], m, r[m]["count"]) for r in rows for m in ("hessian", "ggn")]
    hits = sum(c - 1 <= k <= c for c, _, k in pairs)
    missing = sorted(set(CLASS_COUNTS) - {r["classes"] for r in rows})
    return Outcome(
        float(hits),
        hits == len(pairs) and not missing,
        f"{hits} of {len(pairs)} (C, matrix) counts in {{C - 1, C}}"
        + (f"; C = {missing} not run" if missing else "")
        + " (counts of one trained network each: no standard error, so no margin)",
        "; ".join(f"C = {c} {m}: {k}" for c, m, k in pairs)
        + "; class-mean eigenvalues / within-class edge (GGN): "
        + "; ".join(
            f"C = {r['classes']}: "
            + ", ".join(f"{v:.3g}" for v in r["ggn"].get("class_mean_eigenvalues", [])[: r["classes"] + 1])
            + f" / {r['ggn']['edge']:.3g}"
            for r in rows
        )
        + "; version-1 edge fit: "
        + ", ".join(
            f"C = {r['classes']} {r['hessian'].get('edge_fit_count')}/{r['ggn'].get('edge_fit_count')}"
            for r in rows
        )
        + "; largest gap ratio: "
        + ", ".join(
            f"C = {r['classes']} {r['hessian']['gap_ratio_count']}/{r['ggn']['gap_ratio_count']}"
            for r in rows
        ),
        tolerance=f"{len(pairs)} of {len(pairs)}",
    )


LOCAL_LAW_RULE = (
    "deterministic equivalent within 2% of the empirical mean for delta above the noise scale "
    "(delta_eff > 0), and closer than the naive (A + delta)^-1 at every delta"
)


LOCAL_LAW_TOL = 0.02


def _local_law(parts: list[tuple[str, dict]]) -> Outcome:
    """The local-law rule on named sets of damped-inverse quadratic forms."""
    errs = [p.get("max_rel_error_det_above_noise") for _, p in parts]
    ok = all(e is not None and e < LOCAL_LAW_TOL for e in errs) and all(
        p.get("det_closer_everywhere", False) for _, p in parts
    )
    measured = max((e for e in errs if e is not None), default=float("nan"))
    return Outcome(
        measured,
        ok,
        f"largest relative error of the deterministic equivalent above the noise scale {measured:.4f}"
        if errs and any(e is not None for e in errs)
        else "no number: no damping above the noise scale",
        "; ".join(
            f"{name}: {'-' if e is None else f'{e:.4f}'}, closer than naive everywhere: "
            f"{p.get('det_closer_everywhere', False)}"
            for (name, p), e in zip(parts, errs, strict=True)
        ),
    )


@claim(
    "local-law-synthetic",
    UNIVERSAL,
    "local_law_damping",
    "local_law_synthetic",
    f"{LOCAL_LAW_RULE}; synthetic A + sX",
    "0.02",
    kind="theory",
)
def local_law_synthetic(stats: list[Stats]) -> Outcome | NotRun:
    """Damped inverses of A + sX act like (A + delta_eff)^-1 with delta_eff = delta - s^2 g (Section 4)."""
    if not stats:
        return NotRun("no local_law_synthetic run")
    return _local_law([(f"synthetic s = {k}", v) for k, v in stats[0]["s"].items()])


@claim(
    "local-law-network",
    UNIVERSAL,
    "local_law_damping",
    "outlier_shift_network",
    f"{LOCAL_LAW_RULE}; batch Hessians of every network with damped inverses, on the complement of the "
    "common null space of H and the batch Hessians",
    "0.02",
)
def local_law_network(stats: list[Stats]) -> Outcome | NotRun:
    """The same local law for batch Hessians of a trained network (Section 4), decided on the
    complement of the common null space of H and the batch Hessians (where H_b = H = 0 the model
    H_b = A + sX cannot hold); the isotropic version on the whole space is reported beside it.

    Premise (CLAIMS.md v3): the batch noise is delocalised along the top eigenvectors of H off the
    null space (median κ <= 3); a network whose premise fails does not decide."""
    done = [n for n in stats if n.get("local_law_complement", {}).get("computed", False)]
    if not done:
        return NotRun(
            "no network with damped inverses on the complement of the null space at this scale (they need "
            "dense Hessians, network.method=exact, and a record of version 2)"
            if stats
            else "no outlier_shift_network run"
        )
    kappas = [max(n["local_law_complement"]["kappa_median"]) for n in done]
    holds = [k <= KAPPA_MAX for k in kappas]
    deciding = [n for n, h in zip(done, holds, strict=True) if h] or done
    parts = [
        (f"{run_name(n)} b = {n['local_law_complement']['batch_size']}", n["local_law_complement"])
        for n in deciding
    ]
    decided = _local_law(parts)
    margins = [
        margin_in_se(
            p.get("max_rel_error_det_above_noise", math.nan),
            LOCAL_LAW_TOL,
            p.get("max_rel_error_det_above_noise_se", math.nan),
            above=False,
        )
        for _, p in parts
        if p.get("max_rel_error_det_above_noise") is not None
    ]
    iso = _local_law(
        [(f"{run_name(n)}", n["local_law"]) for n in stats if n["local_law"].get("computed", False)]
    )
    dims = "; ".join(
        f"{run_name(n)}: null space {n['local_law_complement']['null_dim']} of "
        f"{n['local_law_complement']['null_dim'] + n['local_law_complement']['dim']} dimensions, s^2 "
        f"{n['local_law_complement']['s2']:.3g} there (isotropic {n['local_law']['s2']:.3g}), kappa "
        f"along the "
        f"top {PREMISE_TOP} eigenvectors of H "
        + ", ".join(f"{k:.3g}" for k in n["local_law_complement"]["kappa_median"])
        for n in done
    )
    return Outcome(
        decided.measured,
        decided.ok,
        decided.summary
        + f"; isotropic version (reported): {iso.measured:.4f}; kappa (largest median) "
        + ", ".join(f"{run_name(n)} {k:.3g}" for n, k in zip(done, kappas, strict=True)),
        f"{decided.detail}; {dims}; isotropic on the whole space: {iso.detail}",
        margin=worst_margin(margins),
        premise=f"batch noise delocalised along the top {PREMISE_TOP} eigenvectors of H off the common null "
        f"space: median kappa <= {KAPPA_MAX:g} (the number: the smallest over networks of the "
        f"largest median)",
        premise_measured=min(kappas),
        premise_ok=any(holds),
    )
