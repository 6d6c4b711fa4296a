"""Stage ``complexity``: spin-glass complexity curves and check numbers (no training).

``python -m rmtloss.complexity task=abc mc.samples=4000000 'finite_n=[10,20,40,80]'``

``task=abc`` (Auffinger, Ben Arous, Černý 2013; ``papers_spinglass.md`` section 1) writes
``stats.json`` (thresholds, exact N = 3 counts, Monte Carlo estimates, distances of the finite-N
complexity to its limit) and ``samples.npz`` (the curves the figures draw). ``task=activation``
(general activations, section 2) writes the sharp factor |1 - θ g(x)| against energy with Monte
Carlo determinant ratios and the largest index shift.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from rmtloss._io import write_json, write_npz
from rmtloss.errors import require
from rmtloss.spinglass import activations, pspin
from rmtloss.stage import stage

log = logging.getLogger("rmtloss.complexity")


def abc(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Thresholds, complexity curves, exact and Monte Carlo finite-N counts for the p-spin glass."""
    ps = [int(p) for p in cfg.thresholds.p]
    ks = np.arange(cfg.thresholds.k_max + 1)
    thresholds = np.array([[pspin.threshold(int(k), p) for k in ks] for p in ps])
    p = int(cfg.p)
    u_full = np.linspace(-2.0, 0.5, 501)
    u_zoom = np.linspace(-1.70, -1.60, 401)
    curves = {f"theta_{name}": pspin.theta(u, p) for name, u in (("full", u_full), ("zoom", u_zoom))}
    for k in range(cfg.curves.k_max + 1):
        curves[f"theta_k{k}_full"] = pspin.theta_k(u_full, k, p)
        curves[f"theta_k{k}_zoom"] = pspin.theta_k(u_zoom, k, p)
    u_fin = np.linspace(-1.9, -1.0, 91)
    finite = np.array([[math.log(pspin.expected_critical_points(n, p, float(u))) / n for u in u_fin]
                       for n in cfg.finite_n])
    limit = pspin.theta(u_fin, p)
    distance = np.max(np.abs(finite - limit[None]), axis=1)
    mc = pspin.kac_rice_mc(3, p, int(cfg.mc.samples), int(cfg.mc.seed))
    stats = {
        "kind": "abc", "p": p, "threshold_p": ps, "thresholds": thresholds,
        "e_inf": [pspin.e_inf(q) for q in ps],
        "n3_total": pspin.expected_critical_points(3, p), "n3_split": pspin.index_split_n3(p),
        "mc_n3_mean": mc.mean, "mc_n3_stderr": mc.stderr, "mc_samples": mc.samples,
        "finite_n": list(cfg.finite_n), "finite_n_distance": distance,
    }
    samples = {"u_full": u_full, "u_zoom": u_zoom, "u_finite": u_fin, "finite": finite,
               "finite_limit": limit, "thresholds": thresholds, "k": ks, **curves}
    return stats, samples


def activation(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Sharp factor |1 - theta g(x)| of a rank-one deformation, with Monte Carlo points."""
    a = cfg.activation
    depth = int(cfg.p)
    u = np.linspace(-2.2, -pspin.e_inf(depth) - 1e-6, 300)
    x = activations.energy_to_goe(u, depth)
    curves = np.stack([activations.prefactor(t, x) for t in a.thetas])
    u_mc = np.asarray(a.mc_energies, float)
    mc = activations.prefactor_mc(int(a.n), list(a.thetas), list(activations.energy_to_goe(u_mc, depth)),
                                  int(a.samples), int(a.seed))
    theory = activations.prefactor(mc.thetas[:, None], mc.xs[None])
    z = np.abs(mc.ratio - theory) / mc.stderr
    stats = {"kind": "activation", "p": depth, "thetas": list(a.thetas), "mc_energies": u_mc,
             "mc_ratio": mc.ratio, "mc_stderr": mc.stderr, "theory": theory, "z": z,
             "max_z": float(z.max()), "max_index_shift": mc.max_index_shift, "n": mc.n,
             "samples": mc.samples,
             "note": "theta is a free parameter: its relation to the activation is not known ([MEM])"}
    return stats, {"u": u, "curves": curves, "u_mc": u_mc, "mc_ratio": mc.ratio,
                   "mc_stderr": mc.stderr}


TASKS = {"abc": abc, "activation": activation}


def work(cfg: DictConfig, out_dir: Path) -> tuple[int, str]:
    """Run the task and write stats.json and samples.npz."""
    require(cfg.task in TASKS, "task", f"unknown task '{cfg.task}'; use one of {', '.join(TASKS)}")
    require(cfg.p >= 3, "p", f"the layered structure needs p >= 3 (got {cfg.p})")
    require(cfg.mc.samples >= 16, "mc.samples", f"must be >= 16 (got {cfg.mc.samples})")
    require(all(n >= 2 for n in cfg.finite_n), "finite_n", "every N must be >= 2")
    require(cfg.activation.samples >= 2, "activation.samples", "must be >= 2")
    require(all(u < -pspin.e_inf(cfg.p) for u in cfg.activation.mc_energies),
            "activation.mc_energies", f"must lie below -E_inf = {-pspin.e_inf(cfg.p):.4f}")
    stats, samples = TASKS[cfg.task](cfg)
    write_npz(out_dir / "samples.npz", **samples)
    write_json(out_dir / "stats.json", stats)
    log.info("%s done: %s", cfg.task, {k: v for k, v in stats.items() if np.ndim(v) == 0})
    return int(cfg.mc.seed), "cpu"


main = stage("complexity", "complexity", work)

if __name__ == "__main__":
    main()
