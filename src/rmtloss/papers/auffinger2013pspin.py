"""Auffinger, Ben Arous, Černý, *Random matrices and complexity of spin glasses*, Comm. Pure Appl.
Math. 66 (2013), arXiv 1003.1129.

The annealed complexity of the spherical p-spin glass, total (Theorem 2.5) and per index k
(Theorem 2.8), the thresholds E_k and E_inf of its layered critical points, and exact finite-N
expected counts (Kac–Rice through the GOE density) against Monte Carlo.
"""

from __future__ import annotations

import numpy as np

from rmtloss.papers._registry import NotRun, Outcome, Stats, claim, figure, paper

ABC = paper(
    "auffinger2013pspin",
    "Random matrices and complexity of spin glasses",
    "Auffinger, Ben Arous, Cerny",
    2013,
    "1003.1129",
    "Spherical p-spin",
)

figure(
    "abc_complexity",
    ABC,
    "abc",
    "Annealed complexity of the spherical 3-spin glass: Theta_p(u), the exponential growth rate of the "
    "expected number of critical points below energy u (thick grey), and Theta_k,p(u) for critical points "
    "of index k (colours). Left the whole range, right a zoom on the band between -E_0 and -E_inf, where "
    "the curves for k = 0, 1, 2, ... cross zero one after another: minima first, then saddles of growing "
    "index (the layered structure, claim abc-thresholds).",
)
figure(
    "abc_thresholds",
    ABC,
    "abc",
    "The thresholds E_k (where Theta_k,p crosses zero) against the index k for p = 3, 4, 5 and 10, "
    "decreasing towards E_inf (dashed). The strict decrease is the layered structure of Auffinger, Ben "
    "Arous and Cerny; claim abc-thresholds checks E_0, E_1, E_2 and E_inf at p = 3 against independently "
    "computed values.",
)
figure(
    "abc_finite_n",
    ABC,
    "abc",
    "The exact expected number of critical points at finite N (through the GOE eigenvalue density) as "
    "N^-1 log E Crt_N, for N = 10 to 80, against the limit Theta_p (dashed). The largest distance to the "
    "limit must fall as N grows; the ledger also checks the exact count at N = 3 against a direct "
    "Kac-Rice Monte Carlo (claim abc-finite-n).",
)

#: E_inf(3), E_0(3), E_1(3), E_2(3) (Theorem 2.8 evaluated at p = 3).
THRESHOLDS_P3 = (1.6329931619, 1.6569983635, 1.6528731981, 1.6502531274)
#: Exact expected number of critical points at p = 3, N = 3: total and by index 0, 1, 2.
COUNTS_P3_N3 = (10.55235974, (3.13808994, 4.27617987, 3.13808994))


@claim(
    "abc-thresholds",
    ABC,
    "abc_thresholds",
    "abc",
    "E_inf(3), E_0(3), E_1(3), E_2(3) within 1e-8 of 1.6329931619, 1.6569983635, 1.6528731981, 1.6502531274; "
    "E_k strictly decreasing towards E_inf",
    "1e-8",
    kind="theory",
)
def abc_thresholds(stats: list[Stats]) -> Outcome | NotRun:
    """Layered critical points: E_0 > E_1 > ... > E_inf with the check numbers at p = 3 (Theorem 2.8)."""
    if not stats:
        return NotRun("no complexity run")
    s = stats[0]
    i3 = s["threshold_p"].index(3)
    got = (s["e_inf"][i3], *s["thresholds"][i3][:3])
    err = max(abs(a - b) for a, b in zip(got, THRESHOLDS_P3, strict=True))
    layered = all(
        np.all(np.diff(ek) < 0) and ek[-1] > einf
        for ek, einf in zip(s["thresholds"], s["e_inf"], strict=True)
    )
    return Outcome(
        err,
        err <= 1e-8 and layered,
        f"largest deviation from the check numbers {err:.2e}; strictly decreasing to E_inf for p in "
        f"{s['threshold_p']}: {layered}",
        "; ".join(
            f"p={p}: E_0={ek[0]:.10f}, E_1={ek[1]:.10f}, E_inf={einf:.10f}"
            for p, ek, einf in zip(s["threshold_p"], s["thresholds"], s["e_inf"], strict=True)
        ),
    )


@claim(
    "abc-finite-n",
    ABC,
    "abc_finite_n",
    "abc",
    "p = 3, N = 3: total 10.55235974 and split 3.13808994 / 4.27617987 / 3.13808994 within 1e-6 (exact) and "
    "4 standard errors (Monte Carlo); distance to Theta_3 falls as N grows",
    "1e-6; 4 s.e.",
    kind="theory",
)
def abc_finite_n(stats: list[Stats]) -> Outcome | NotRun:
    """Exact finite-N counts agree with Kac-Rice Monte Carlo and converge to Theta_p (Theorem 2.5)."""
    if not stats:
        return NotRun("no complexity run")
    s = stats[0]
    total, split = COUNTS_P3_N3
    exact_err = max(
        abs(s["n3_total"] - total), *(abs(a - b) for a, b in zip(s["n3_split"], split, strict=True))
    )
    z = np.abs(np.array(s["mc_n3_mean"]) - np.array(split)) / np.array(s["mc_n3_stderr"])
    falls = bool(np.all(np.diff(s["finite_n_distance"]) < 0))
    return Outcome(
        float(z.max()),
        exact_err <= 1e-6 and bool(np.all(z < 4)) and falls,
        f"largest Monte Carlo deviation {z.max():.2f} s.e. ({s['mc_samples']} samples); exact error "
        f"{exact_err:.1e}; distance to the limit falls: {falls}",
        f"MC {np.round(s['mc_n3_mean'], 4).tolist()} +- {np.round(s['mc_n3_stderr'], 4).tolist()}; distance "
        "for "
        f"N = {s['finite_n']}: {np.round(s['finite_n_distance'], 4).tolist()}",
    )
