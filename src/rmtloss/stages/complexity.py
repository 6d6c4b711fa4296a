"""Stage ``complexity``: spin-glass complexity curves and check numbers (no training).

``python -m rmtloss.complexity task=abc mc.samples=4000000 'finite_n=[10,20,40,80]'``

``task=abc`` (Auffinger, Ben Arous, Černý 2013, arXiv 1003.1129) writes
``stats.json`` (thresholds, exact N = 3 counts, Monte Carlo estimates, distances of the finite-N
complexity to its limit) and ``samples.npz`` (the curves the figures draw). ``task=activation``
(general activations, section 2) writes the sharp factor |1 - θ g(x)| against energy with Monte
Carlo determinant ratios and the largest index shift. The GAN model (section 3): ``task=gan_spectrum``
(density against sampled spectra in the three regimes), ``task=gan_coulomb`` (log-potential against
Monte Carlo log-determinants), ``task=gan_map`` (exponent grid, Θ(u_D, u_G), index-resolved maps
under both conventions, a refined-grid convergence table) and ``task=gan_point`` (one point of a σ_z
or κ sweep: the thresholds θ_D, θ_G, θ_D+G on the authors' grid and θ_G with x unbounded).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from rmtloss.errors import require
from rmtloss.spinglass import activations, gan, pspin
from rmtloss.stage import scalars, stage, task_runner, write_record

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
        "p": p, "threshold_p": ps, "thresholds": thresholds,
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
    stats = {"p": depth, "thetas": list(a.thetas), "mc_energies": u_mc,
             "mc_ratio": mc.ratio, "mc_stderr": mc.stderr, "theory": theory, "z": z,
             "max_z": float(z.max()), "max_index_shift": mc.max_index_shift, "n": mc.n,
             "samples": mc.samples,
             "note": "theta is a free parameter: its relation to the activation is not known ([MEM])"}
    x = np.linspace(-3, 3, 301)
    fits = {name: [activations.piecewise_linear_fit(name, k) for k in a.pieces]
            for name in activations.ACTIVATIONS}
    stats["piecewise_linear"] = {
        name: {"pieces": list(a.pieces), "l2_error": [f.l2_error for f in fs],
               "slopes": [f.slopes for f in fs], "intercepts": [f.intercepts for f in fs]}
        for name, fs in fits.items()}
    curves_pl = {f"pl_{name}": np.stack([f(x) for f in fs]) for name, fs in fits.items()}
    return stats, {"u": u, "curves": curves, "u_mc": u_mc, "mc_ratio": mc.ratio,
                   "mc_stderr": mc.stderr, "x_act": x,
                   **{f"act_{n}": fn(x) for n, fn in activations.ACTIVATIONS.items()}, **curves_pl}


def _model(g: DictConfig) -> gan.GanModel:
    return gan.GanModel(int(g.p), int(g.q), float(g.sigma_z), float(g.kappa))


def _regime(sup: gan.Support) -> str:
    """One bulk, two touching bulks (gap under 2% of the support's width) or two separate bulks."""
    lo, hi = sup.edges
    gaps = [b[0] - a[1] for a, b in zip(sup.components[:-1], sup.components[1:], strict=True)]
    if not gaps:
        return "one"
    return "touching" if max(gaps) < 0.02 * (hi - lo) else "separate"


def gan_spectrum(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Density of H(x_1) from the block equations (and the authors' quartic) against sampled spectra."""
    sp = cfg.gan.spectrum
    stats: dict[str, Any] = {"x1": list(sp.x1), "n": sp.n, "samples": sp.samples,
                             "kappa": sp.kappa, "b": sp.b, "b1": sp.b1}
    samples: dict[str, np.ndarray] = {}
    dev, dev_authors, regimes, masses = [], [], [], []
    for i, x1 in enumerate(sp.x1):
        args = (float(x1), float(sp.kappa), float(sp.b), float(sp.b1))
        eig = gan.sample_eigenvalues(int(sp.n), *args, int(sp.samples), int(sp.seed) + i).ravel()
        edges = np.linspace(eig.min(), eig.max(), int(sp.bins) + 1)
        hist = np.histogram(eig, edges, density=True)[0]
        fine = np.linspace(edges[0], edges[-1], 40 * int(sp.bins) + 1)
        dens = {name: gan.LSD[name](fine, *args) for name in ("quartic", "authors")}
        per_bin = {k: v[:-1].reshape(int(sp.bins), 40).mean(axis=1) for k, v in dens.items()}
        dev.append(float(np.abs(hist - per_bin["quartic"]).max()))
        dev_authors.append(float(np.abs(hist - per_bin["authors"]).max()))
        sup = gan.support(*args)
        regimes.append(_regime(sup))
        masses.append(sup.mass)
        samples |= {f"edges_{i}": edges, f"hist_{i}": hist, f"z_{i}": fine, f"lsd_{i}": dens["quartic"],
                    f"lsd_authors_{i}": dens["authors"]}
    stats |= {"max_deviation": dev, "max_deviation_authors": dev_authors, "regimes": regimes,
              "mass": masses}
    return stats, samples


def gan_coulomb(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Log-potential U(x; x_1) against Monte Carlo N^-1 log E|det(H - x)| at small N."""
    co, model = cfg.gan.coulomb, _model(cfg.gan)
    xs = np.linspace(co.x_min, co.x_max, int(co.num_x))
    theory, mc, se, dist = [], [], [], []
    for i, x1 in enumerate(co.x1):
        sup = gan.support(float(x1), model.kappa, model.b, model.b1, cfg.gan.lsd, int(cfg.gan.nodes))
        theory.append(gan.log_potential(xs, sup))
        dist.append(gan.distance_to_support(xs, sup))
        eig = gan.sample_eigenvalues(int(co.n), float(x1), model.kappa, model.b, model.b1,
                                     int(co.samples), int(co.seed) + i)
        value, err = gan.log_abs_det_mc(eig, xs)
        mc.append(value)
        se.append(err)
    theory, mc, se, dist = np.array(theory), np.array(mc), np.array(se), np.array(dist)
    far = np.abs(xs) >= float(co.far)
    diff = np.abs(theory - mc)
    away = dist >= float(co.away)  # per x_1: the x at distance >= away from its support
    per_x1 = np.where(away.any(axis=1), np.max(diff, axis=1, initial=-np.inf, where=away), np.nan)
    stats = {"x1": list(co.x1), "n": co.n, "samples": co.samples, "far": co.far, "away": co.away,
             "max_diff_far": float(diff[:, far].max()), "max_diff_all": float(diff.max()),
             "max_diff_far_per_x1": diff[:, far].max(axis=1),
             "max_diff_away": float(np.nanmax(per_x1)) if away.any() else float("nan"),
             "max_diff_away_per_x1": per_x1, "n_away": int(away.sum())}
    return stats, {"x": xs, "theory": theory, "mc": mc, "mc_stderr": se, "distance": dist}


def _grid_axes(gr: DictConfig, model: gan.GanModel, refine: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    x_max = float(gr.x_max) if gr.x_max is not None else 1.05 * model.edge_g
    xs = np.linspace(float(gr.x_min), x_max, int(round(int(gr.num_x) * refine)))
    x1s = np.linspace(float(gr.x1_min), float(gr.x1_max), int(round(int(gr.num_x1) * refine)))
    return xs, x1s


def gan_map(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Θ(u_D, u_G), the smallest u_G with Θ > 0 per u_D, index maps and a refined-grid check."""
    g, model = cfg.gan, _model(cfg.gan)
    xs, x1s = _grid_axes(g.grid, model)
    grid = gan.exponent_grid(model, xs, x1s, g.lsd, int(g.nodes))
    u_d = np.linspace(float(g.u.d_min), float(g.u.d_max), int(g.u.num_d))
    u_g = np.linspace(xs[0] / model.c, xs[-1] / model.c, int(g.u.num_g))
    theta = gan.theta_map(xs, x1s, grid.values, model.p, model.c, u_d, u_g)
    samples = {"xs": xs, "x1s": x1s, "exponent": grid.values, "u_d": u_d, "u_g": u_g, "theta": theta,
               "min_u_g": gan.min_u_g(theta, u_g)}
    banded: dict[str, Any] = {}
    for conv in gan.INDEX_CONVENTIONS:
        kd, kg = gan.largest_index(grid, model, int(g.k_max), conv, u_d, u_g)
        samples |= {f"kd_{conv}": kd, f"kg_{conv}": kg}
        banded[conv] = {"kd_monotone": _monotone(kd), "kg_monotone": _monotone(kg),
                        "kd_max": int(kd.max()), "kg_max": int(kg.max())}
    points = [list(map(float, pt)) for pt in g.check_points]
    fine_xs, fine_x1s = _grid_axes(g.grid, model, float(g.refine))
    fine = gan.exponent_grid(model, fine_xs, fine_x1s, g.lsd, int(g.nodes))
    pd, pg = np.array([pt[0] for pt in points]), np.array([pt[1] for pt in points])
    coarse_at = [float(gan.theta_map(xs, x1s, grid.values, model.p, model.c, [d], [u])[0, 0])
                 for d, u in zip(pd, pg, strict=True)]
    fine_at = [float(gan.theta_map(fine_xs, fine_x1s, fine.values, model.p, model.c, [d], [u])[0, 0])
               for d, u in zip(pd, pg, strict=True)]
    floor = _floor(theta, u_g)
    stats = {"boundary": _boundary(samples["min_u_g"], u_d, floor),
             "p": model.p, "q": model.q, "sigma_z": model.sigma_z, "kappa": model.kappa,
             "lsd": g.lsd, "constants": _constants(model), "grid": [len(xs), len(x1s)],
             "min_mass": float(grid.masses.min()), "max_mass": float(grid.masses.max()),
             **gan.thresholds(theta, u_d, u_g), "u_g_floor": floor,
             "check_points": points, "theta_coarse": coarse_at, "theta_fine": fine_at,
             "fine_grid": [len(fine_xs), len(fine_x1s)], "banded": banded,
             "k_max": int(g.k_max), "note": gan.C_UNVERIFIED}
    return stats, samples


def _boundary(min_ug: np.ndarray, u_d: np.ndarray, floor: float) -> dict[str, Any]:
    """The lower-left boundary of Θ > 0: the smallest u_G against u_D (claim gan-complexity-tradeoff)."""
    def at(u: float) -> float:
        return float(min_ug[int(np.argmin(np.abs(u_d - u)))])

    finite = min_ug[np.isfinite(min_ug)]
    return {"non_increasing": bool(np.all(np.diff(finite) <= 0)), "min_u_g_at_-3": at(-3.0),
            "floor_from_-2": bool(np.all(np.isclose(min_ug[u_d >= -2 - 1e-9], floor))),
            "min_u_g_other": [round(at(u), 4) for u in (-3.2, -3.05, -2.5)]}


def _floor(theta: np.ndarray, u_g: np.ndarray) -> float:
    """The grid floor of u_G: the smallest u_G whose domain x < c u_G holds a grid point."""
    return float(u_g[np.isfinite(theta).any(axis=1)][0])


def _monotone(best: np.ndarray) -> bool:
    """Non-decreasing along both axes (rows u_G, columns u_D)."""
    return bool((np.diff(best, axis=0) >= 0).all() and (np.diff(best, axis=1) >= 0).all())


def _constants(model: gan.GanModel) -> dict[str, float]:
    return {"b": model.b, "b1": model.b1, "s2": model.s2, "s12": model.s12, "C": model.log_prefactor,
            "c": model.c, "E_G": model.edge_g}


def gan_point(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One sweep point: θ_D, θ_G, θ_D+G on the authors' grid, and θ_G with x unbounded below."""
    g, model = cfg.gan, _model(cfg.gan)
    xs, x1s = _grid_axes(g.grid, model)
    grid = gan.exponent_grid(model, xs, x1s, g.lsd, int(g.nodes))
    u_d, u_g = gan.u_grid(model, xs, x1s, int(g.u.num_g))
    theta = gan.theta_map(xs, x1s, grid.values, model.p, model.c, u_d, u_g)
    converged, left = gan.converged_theta_g(model, grid)
    summary = gan.thresholds(theta, u_d, u_g)
    if math.isnan(converged):        # E <= 0 at the grid's left end: the grid does not limit theta_G
        converged = summary["theta_g"]
    stats = {"sweep": str(g.sweep), "p": model.p, "q": model.q, "sigma_z": model.sigma_z,
             "kappa": model.kappa, "lsd": g.lsd, "grid": [len(xs), len(x1s)], "num_u": int(g.u.num_g),
             **summary, "u_g_floor": _floor(theta, u_g),
             "theta_g_converged": converged, "x_left": left, "min_mass": float(grid.masses.min()),
             "constants": _constants(model), "note": gan.C_UNVERIFIED}
    return stats, {"u_d": u_d, "u_g": u_g, "theta": theta}


TASKS = {"abc": abc, "activation": activation, "gan_spectrum": gan_spectrum, "gan_coulomb": gan_coulomb,
         "gan_map": gan_map, "gan_point": gan_point}


def work(cfg: DictConfig, out_dir: Path) -> tuple[int | None, str]:
    """Run the task and write stats.json and samples.npz."""
    task, runner = task_runner("complexity", cfg.task, TASKS)
    require(all(u < -pspin.e_inf(cfg.p) for u in cfg.activation.mc_energies),
            "activation.mc_energies", f"must lie below -E_inf = {-pspin.e_inf(cfg.p):.4f}")
    require(cfg.gan.lsd in gan.LSD_METHODS, "gan.lsd",
            f"unknown density solver '{cfg.gan.lsd}'; use one of {', '.join(gan.LSD_METHODS)}")
    stats, samples = runner(cfg)
    write_record(out_dir, task, stats, samples)
    log.info("%s done: %s", task, scalars(stats))
    seeds = {"abc": cfg.mc.seed, "activation": cfg.activation.seed, "gan_spectrum": cfg.gan.spectrum.seed,
             "gan_coulomb": cfg.gan.coulomb.seed}
    return seeds.get(task), "cpu"


main = stage("complexity", "complexity", work)

if __name__ == "__main__":
    main()
