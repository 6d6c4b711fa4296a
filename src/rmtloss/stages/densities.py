"""Stage ``densities``: global spectral densities against RMT laws, product and percolated ensembles.

``python -m rmtloss.densities task=global_density
spectrum=results/quick/runs/mlp/spectra/hessian_final/eigenvalues.npz``

Granziol, "Beyond Random Matrix Theory for Deep Networks" (arXiv 2006.07721) and the GP Hessian
model of Baskerville, Granziol and Keating (arXiv 2102.06740). Tasks:

* ``fit``: one network's spectrum (exact eigenvalues pooled over batches, or a Lanczos quadrature)
  with outliers removed, scaled to unit RMS; semicircle and Marchenko–Pastur fitted by moments
  and by least squares on the distribution function; the product and percolated families
  (shape grid, scale, zero-atom weight); KS and Wasserstein-1 distances of each;
* ``product_zero_mass`` and ``percolated_zero_mass``: sampled zero atoms against the rank
  formula and Bauer–Golinelli;
* ``ensemble_densities``: sampled spectra of the four families at several shapes;
* ``gp_model``: spacing ratios and global fits of GP Hessians in the authors' settings;
* ``layered_index``: the index fraction against energy under the semicircle, a product and a
  percolated law of unit variance.

Each writes ``stats.json`` (what the claims ledger reads) and ``samples.npz`` (what figures draw).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from rmtloss import rmt
from rmtloss._io import read_npz, require_finite
from rmtloss.errors import InputError, require
from rmtloss.results import check_diverged, write_diverged_stats
from rmtloss.rmt import ensembles, families, global_laws, gp_hessian, layered
from rmtloss.rmt.global_laws import Discrete, LawFit
from rmtloss.spinglass import pspin
from rmtloss.stage import scalars, stage, task_runner, write_record

log = logging.getLogger("rmtloss.densities")

_META = ("run", "model", "data", "checkpoint", "matrix", "split", "num_classes", "batch_size", "full")


def load_spectrum(
    path: str, zero_cut: float, zero_cut_quadrature: float, outliers: str | int
) -> tuple[Discrete, dict[str, Any]]:
    """A spectrum file as a discrete law: zero atom snapped, outliers removed, unit RMS.

    Exact spectra (``eigenvalues.npz``) are pooled over batches with the ``k`` largest of each
    batch removed; a quadrature (``slq.npz``: Ritz values and weights of every probe) loses the
    top mass ``k/P``. ``outliers`` is ``classes`` (k = the number of classes, Papyan's count) or
    an integer. The metadata's ``_groups`` holds the law's parts (one per batch, or per probe) on
    the same scale, for a bootstrap.
    """
    raw = read_npz(path)
    check_diverged(raw)
    meta = {k: raw[k].item() for k in _META if k in raw}
    if "num_classes" not in meta:
        raise InputError(f"{path} is not a spectra file (no num_classes); re-run the spectra stage")
    k = int(meta["num_classes"]) if outliers == "classes" else int(outliers)
    if "eigenvalues" in raw:
        ev = np.sort(require_finite(raw["eigenvalues"], path, "eigenvalues", ndim=2), axis=1)
        size, method = ev.shape[1], "exact"
        if size - k < 4:
            raise InputError(f"spectrum too small to analyse: {path} has {size} eigenvalues per matrix")
        ev = np.stack([global_laws.snap_zeros(row, zero_cut) for row in ev[:, : size - k]])
        law = Discrete.from_sample(ev.ravel())
        groups = [(row, np.ones(len(row))) for row in ev]
    elif "nodes" in raw:
        size, method = int(raw["num_params"]), str(raw["method"])
        for key in ("nodes", "weights"):
            require_finite(raw[key], path, key)
        nodes = raw["nodes"].ravel()
        law = global_laws.trim_top(
            Discrete.from_sample(global_laws.snap_zeros(nodes, zero_cut_quadrature), raw["weights"].ravel()),
            k / size,
        )
        groups = [
            (global_laws.snap_zeros(n, zero_cut_quadrature), w)
            for n, w in zip(np.atleast_2d(raw["nodes"]), np.atleast_2d(raw["weights"]), strict=True)
        ]
    else:
        raise InputError(f"{path} holds neither eigenvalues nor quadrature nodes; re-run the spectra stage")
    rms = float(np.sqrt(law.moment(2)))
    if not np.isfinite(rms) or rms == 0:
        raise InputError(f"spectrum too small to analyse: {path} is all zero or not finite")
    scaled = Discrete(law.values / rms, law.weights)
    meta = {**meta, "method": method, "num_params": size, "outliers_removed": k, "rms": rms}
    return scaled, {**meta, "_groups": [(v / rms, w) for v, w in groups]}


def bootstrap_ks(
    groups: list[tuple[np.ndarray, np.ndarray]], refits: dict[str, Any], count: int, seed: int
) -> dict[str, np.ndarray]:
    """KS distances of laws refitted to ``count`` resamples of the spectrum's parts (batches, or
    quadrature probes, drawn with replacement): the sampling spread of each deciding distance, fit
    included, for the margins of CLAIMS.md v3. ``refits`` maps a name to a function law -> LawFit."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {k: [] for k in refits}
    for _ in range(count if len(groups) > 1 else 0):
        pick = rng.integers(0, len(groups), len(groups))
        law = Discrete.from_sample(
            np.concatenate([groups[i][0] for i in pick]), np.concatenate([groups[i][1] for i in pick])
        )
        for name, refit in refits.items():
            out[name].append(refit(law).ks)
    return {k: np.asarray(v) for k, v in out.items()}


def _fit_cdf(fit: dict[str, Any]) -> global_laws.Cdf:
    """The CDF of a recorded semicircle / MP fit, with its atom where it has one."""
    p = dict(fit["params"])
    w = p.pop("zero_weight", 0.0)
    if fit["law"] == "semicircle":
        base = functools.partial(global_laws.semicircle_cdf, m=p["m"], r=p["r"])
    else:
        base = functools.partial(global_laws.mp_cdf, sigma2=p["sigma2"], q=p["q"])
    return global_laws.with_atom(base, w) if w else base


def _fit_dict(f: LawFit) -> dict[str, Any]:
    return dataclasses.asdict(f)


def _bin_masses(cdf: global_laws.Cdf, edges: np.ndarray) -> np.ndarray:
    """Mass of each bin [e_i, e_{i+1}) per unit length (atoms fall in their bin)."""
    f = cdf(np.nextafter(edges, -np.inf))
    return np.diff(f) / np.diff(edges)


def global_density(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Semicircle, MP, product and percolated fits to one spectrum, with their distances."""
    law, meta = load_spectrum(cfg.spectrum, cfg.zero_cut, cfg.zero_cut_quadrature, cfg.outliers)
    groups = meta.pop("_groups")
    f = cfg.fit
    rmt_fits = {
        f"{name}_{m}": fitter(law, m, int(f.num_points))
        for name, fitter in (("semicircle", global_laws.fit_semicircle), ("mp", global_laws.fit_mp))
        for m in ("moments", "cdf")
    }
    # CLAIMS.md v3: the same free zero atom the product and percolated families get
    atom_fits = {
        f"{name}_{m}": fitter(law, m, int(f.num_points), atom=True)
        for name, fitter in (("semicircle", global_laws.fit_semicircle), ("mp", global_laws.fit_mp))
        for m in ("moments", "cdf")
    }
    fams = {
        name: families.fit_family(
            law, name, OmegaConf.to_container(grid), int(f.n), int(f.samples), int(f.seed)
        )
        for name, grid in f.families.items()
    }
    zero = float(law.weights[law.values == 0].sum())
    nonzero = Discrete.from_sample(law.values[law.values != 0], law.weights[law.values != 0])
    best_rmt = min(rmt_fits.values(), key=lambda x: x.ks)
    best_atom = min(atom_fits.values(), key=lambda x: x.ks)
    best = {
        grp: min(
            (fams[n] for n in names if n in fams), key=lambda x: (x.best.on_boundary, x.best.ks), default=None
        )
        for grp, names in (("product", families.PRODUCT), ("percolated", families.PERCOLATED))
    }
    deep_product = _best_deep_product(fams)
    stats = {
        **meta,
        "n_values": len(law.values),
        "zero_weight": zero,
        "fits": {k: _fit_dict(v) for k, v in rmt_fits.items()},
        "families": {
            k: {"best": _fit_dict(ff.best), "all": [_fit_dict(x) for x in ff.fits]} for k, ff in fams.items()
        },
        "without_zero_atom": {
            "semicircle": _fit_dict(global_laws.fit_semicircle(nonzero)),
            "mp": _fit_dict(global_laws.fit_mp(nonzero)),
        },
        "fits_atom": {k: _fit_dict(v) for k, v in atom_fits.items()},
        "best_rmt": _fit_dict(best_rmt),
        "best_rmt_atom": _fit_dict(best_atom),
        "best_product": best["product"] and _fit_dict(best["product"].best),
        "best_product_deep": deep_product and _fit_dict(deep_product[0]),
        "best_percolated": best["percolated"] and _fit_dict(best["percolated"].best),
    }
    stats["bootstrap"] = _ks_spread(groups, best_atom, best["percolated"], deep_product, int(f.bootstrap),
                                    int(f.seed), int(f.num_points))
    lo, hi = law.values[0], law.values[-1]
    edges = np.linspace(lo - 1e-9 * (hi - lo), hi + 1e-9 * (hi - lo), int(f.bins) + 1)
    # the figure draws what decides (CLAIMS.md v3): semicircle and MP with their free zero atom
    cdfs = {
        "data": law.cdf,
        "semicircle": _fit_cdf(_fit_dict(atom_fits["semicircle_cdf"])),
        "mp": _fit_cdf(_fit_dict(atom_fits["mp_cdf"])),
    }
    curves = {k: _bin_masses(v, edges) for k, v in cdfs.items()}
    for grp, ff in best.items():
        if ff is not None:
            p = ff.best.params
            cdfs[grp] = global_laws.atom_mixture(ff.shape, p["scale"], p["zero_weight"])
            curves[grp] = _bin_masses(cdfs[grp], edges)
    bulk = _bulk_view(nonzero, cdfs, int(f.bins))
    return stats, {"edges": edges, **{f"density_{k}": v for k, v in curves.items()}, **bulk}


def _best_deep_product(fams: dict[str, families.FamilyFit]) -> tuple[LawFit, Discrete] | None:
    """The product-family member of depth >= 2 with the smallest KS among converged fits, with its
    shape: a depth-1 member is the semicircle or MP itself, not a product win (CLAIMS.md v3)."""
    rows = [
        (fit, shape)
        for name in families.PRODUCT
        if name in fams
        for fit, shape in zip(fams[name].fits, fams[name].shapes, strict=True)
        if fit.params.get("depth", 1) >= 2 and not fit.on_boundary
    ]
    return min(rows, key=lambda r: r[0].ks, default=None)


def _ks_spread(
    groups: list[tuple[np.ndarray, np.ndarray]],
    rmt_fit: LawFit,
    percolated: families.FamilyFit | None,
    product: tuple[LawFit, Discrete] | None,
    count: int,
    seed: int,
    num_points: int,
) -> dict[str, Any]:
    """Bootstrap s.e. of the deciding KS distances (the best semicircle / MP fit with its atom, the
    better converged family member) and of their difference, over the spectrum's batches or probes;
    each resample refits the chosen law (its parameters and atom) and the chosen member's scale and
    zero weight."""
    fitter = global_laws.fit_semicircle if rmt_fit.law == "semicircle" else global_laws.fit_mp
    refits: dict[str, Any] = {"rmt_atom": lambda law: fitter(law, rmt_fit.method, num_points, atom=True)}
    candidates = [product, (percolated.best, percolated.shape) if percolated else None]
    fams = [c for c in candidates if c is not None and not c[0].on_boundary]
    if fams:
        fit, shape = min(fams, key=lambda r: r[0].ks)
        member = {k: v for k, v in fit.params.items() if k not in ("scale", "zero_weight")}
        refits["family"] = lambda law: global_laws.fit_scaled_shape(law, shape, fit.law, member, num_points)
    ks = bootstrap_ks(groups, refits, count, seed)
    out: dict[str, Any] = {"resamples": len(ks["rmt_atom"]), "parts": len(groups), "refitted": True}
    for name, v in ks.items():
        out[f"se_{name}"] = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    if "family" in ks and len(ks["family"]) > 1:
        out["se_gap"] = float((ks["family"] - ks["rmt_atom"]).std(ddof=1))
    return out


def _bulk_view(nonzero: Discrete, cdfs: dict[str, global_laws.Cdf], bins: int) -> dict[str, np.ndarray]:
    """Each law on the scale of the non-zero eigenvalues (their 2.5% to 97.5% quantiles), its atom at 0
    taken out and kept apart: ``bulk_edges``, ``bulk_<law>`` (continuous mass per unit length) and
    ``zero_<law>`` (the atom), for a figure that shows the bulk and the zero atom side by side."""
    idx = np.searchsorted(nonzero.cumulative, [0.025, 0.975])
    lo, hi = nonzero.values[np.minimum(idx, len(nonzero.values) - 1)]
    edges = np.linspace(min(lo, 0.0), max(hi, 0.0), bins + 1)  # 0 inside: its bin gives up the atom
    out: dict[str, np.ndarray] = {"bulk_edges": edges}
    for name, cdf in cdfs.items():
        atom = float(cdf(np.array([0.0]))[0] - cdf(np.array([np.nextafter(0.0, -1.0)]))[0])
        mass = np.diff(cdf(np.nextafter(edges, -np.inf)))  # bins [e_i, e_i+1): none holds 0 = the last edge
        zero_bin = np.searchsorted(edges, 0.0, side="right") - 1
        if zero_bin < bins:  # the bin holding 0 gives up the atom
            mass[zero_bin] -= atom
        out[f"bulk_{name}"] = np.maximum(mass, 0.0) / np.diff(edges)
        out[f"zero_{name}"] = np.array(atom)
    return out


def product_zero_mass(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Sampled zero atoms of Wishart products against 1 - min(N_i)/N_0."""
    c = cfg.product
    n0 = int(c.n0)
    dims = [[n0, round(r * n0)] + [n0] * (depth - 1) for depth in c.depths for r in c.ratios]
    dims += [list(map(int, d)) for d in c.extra]
    rng = np.random.default_rng(int(c.seed))
    sampled = [
        float(
            np.mean(
                [
                    rmt.zero_fraction(
                        [np.linalg.eigvalsh(ensembles.wishart_product(d, rng))], np.array([c.rtol])
                    )[0]
                    for _ in range(int(c.samples))
                ]
            )
        )
        for d in dims
    ]
    formula = [ensembles.product_zero_mass(d) for d in dims]
    err = np.abs(np.array(sampled) - np.array(formula))
    stats = {
        "dims": dims,
        "sampled": sampled,
        "formula": formula,
        "max_abs_error": float(err.max()),
        "samples": int(c.samples),
        "rtol": float(c.rtol),
    }
    ratio = [min(d[1:]) / d[0] for d in dims]
    return stats, {
        "ratio": np.array(ratio),
        "depth": np.array([len(d) - 1 for d in dims]),
        "sampled": np.array(sampled),
        "formula": np.array(formula),
    }


def percolated_zero_mass(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Sampled zero atoms of diluted Wigner matrices against Bauer–Golinelli (c <= e)."""
    c = cfg.percolated
    rng = np.random.default_rng(int(c.seed))
    cs = np.asarray(c.c, dtype=float)
    per = np.array(
        [
            [
                rmt.zero_fraction(
                    [np.linalg.eigvalsh(ensembles.percolated_wigner(int(c.n), ci, rng))], np.array([c.rtol])
                )[0]
                for _ in range(int(c.samples))
            ]
            for ci in cs
        ]
    )
    formula = ensembles.bauer_golinelli(cs)
    sampled = per.mean(axis=1)
    stats = {
        "c": cs,
        "n": int(c.n),
        "samples": int(c.samples),
        "sampled": sampled,
        "stderr": per.std(axis=1, ddof=1) / np.sqrt(per.shape[1])
        if per.shape[1] > 1
        else np.full(len(cs), np.nan),
        "formula": formula,
        "max_abs_error": float(np.max(np.abs(sampled - formula))),
        "rtol": float(c.rtol),
    }
    fine = np.linspace(min(cs.min(), 0.05), np.e, 200)
    return stats, {
        "c": cs,
        "sampled": sampled,
        "per_sample": per,
        "c_fine": fine,
        "formula_fine": ensembles.bauer_golinelli(fine),
        "isolated_fine": np.exp(-fine),
    }


def ensemble_densities(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Sampled spectra of each family at the configured shapes (for the figure)."""
    c = cfg.ensembles
    samples: dict[str, np.ndarray] = {}
    members: dict[str, list[dict[str, float]]] = {}
    zero: dict[str, list[float]] = {}
    for fam, grid in c.families.items():
        members[fam] = families.members(OmegaConf.to_container(grid))
        zero[fam] = []
        for i, p in enumerate(members[fam]):
            ev = families.sample(fam, p, int(c.n), int(c.samples), int(c.seed))
            samples[f"{fam}_{i}"] = ev
            zero[fam].append(float(rmt.zero_fraction([ev], np.array([1e-9]))[0]))
    return {
        "members": members,
        "zero_fraction": zero,
        "n": int(c.n),
        "samples": int(c.samples),
    }, samples


def gp_row(name: str, ev: np.ndarray, zero_cut: float, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """What claim gp-local-goe reads of one setting's sampled spectra ``ev`` (samples, n): the mean
    spacing ratio with its bootstrap interval, the best-fitting semicircle and the KS distance of the
    pooled density to the authors' overlay, a semicircle centred at 0 of radius max |eigenvalue|;
    also the ratios themselves."""
    groups = [rmt.spacing_ratios(row, zero_cut) for row in ev]
    mr = rmt.mean_min_ratio(groups, n_boot=500, seed=seed)
    law = Discrete.from_sample(global_laws.snap_zeros(ev.ravel(), zero_cut))
    sc = min((global_laws.fit_semicircle(law, m) for m in ("moments", "cdf")), key=lambda f: f.ks)
    top = float(np.abs(ev).max())
    r = np.concatenate(groups)
    row = {
        "name": name,
        "mean_rtilde": mr.mean,
        "ci": [mr.ci_low, mr.ci_high],
        "ks_goe": rmt.ks_rtilde(r, "goe"),
        "ks_poisson": rmt.ks_rtilde(r, "poisson"),
        "semicircle": _fit_dict(sc),
        "samples": len(ev),
        "ks_semicircle_max_eig": global_laws.ks(
            law, functools.partial(global_laws.semicircle_cdf, m=0.0, r=top)
        ),
    }
    return row, r


def gp_model(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Spacing ratios and semicircle fits of GP Hessians in each configured setting."""
    rows, samples = [], {}
    for i, s in enumerate(cfg.gp.settings):
        setting = gp_hessian.GPHessian(
            int(s.n),
            float(s.kp),
            float(s.kpp),
            int(s.get("degeneracy", 0)),
            int(s.get("outliers", 0)),
            float(s.get("outlier_scale", 0.0)),
            s.get("conditional"),
        )
        count = int(s.samples) if cfg.gp.max_samples is None else min(int(s.samples), int(cfg.gp.max_samples))
        ev = setting.eigenvalues(count, int(cfg.gp.seed) + i)
        row, r = gp_row(str(s.name), ev, float(cfg.zero_cut), int(cfg.gp.seed))
        rows.append({**row, "setting": OmegaConf.to_container(s)})
        samples[f"eig_{i}"] = ev.ravel()
        samples[f"r_{i}"] = r
    return {"settings": rows}, samples


def layered_index(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Index fraction against energy for the semicircle, a Wigner product and a percolated Wigner."""
    c = cfg.layered
    p = int(c.p)
    e0 = pspin.threshold(0, p)  # the ground-state energy E_0 > 0 (the grid runs from -E_0 to 0)
    energy = np.linspace(-e0, 0.0, int(c.num_e))
    laws = {"semicircle": layered.semicircle_index(energy, p)}
    for name, (fam, params) in {
        "product": ("wigner_product", {"depth": float(c.product_depth)}),
        "percolated": ("percolated_wigner", {"c": float(c.percolated_c)}),
    }.items():
        ev = families.sample(fam, params, int(c.n), int(c.samples), int(c.seed))
        law = Discrete.from_sample(ev / np.sqrt(np.mean(ev**2)))
        laws[name] = layered.index_fraction(energy, p, law.cdf)
    e_inf = pspin.e_inf(p)
    below = energy < -e_inf
    stats = {
        "p": p,
        "e0": e0,
        "e_inf": e_inf,
        "n": int(c.n),
        "samples": int(c.samples),
        "product_depth": int(c.product_depth),
        "percolated_c": float(c.percolated_c),
        "semicircle_max_below_threshold": float(laws["semicircle"][below].max()) if below.any() else None,
        "min_index": {k: float(v.min()) for k, v in laws.items()},
    }
    return stats, {"energy": energy, **{f"index_{k}": v for k, v in laws.items()}}


TASKS = {
    "global_density": global_density,
    "product_zero_mass": product_zero_mass,
    "percolated_zero_mass": percolated_zero_mass,
    "ensemble_densities": ensemble_densities,
    "gp_model": gp_model,
    "layered_index": layered_index,
}


def validate(cfg: DictConfig) -> None:
    """Clear errors for bad settings, before any work."""
    task, _ = task_runner("densities", cfg.task, TASKS)
    require(
        task != "global_density" or cfg.spectrum is not None,
        "spectrum",
        "task=global_density needs spectrum=<eigenvalues.npz or slq.npz of the spectra stage>",
    )
    require(
        cfg.outliers == "classes" or (isinstance(cfg.outliers, int) and cfg.outliers >= 0),
        "outliers",
        f"must be 'classes' or an integer >= 0 (got {cfg.outliers!r})",
    )
    require(
        set(cfg.fit.families) <= set(families.FAMILIES),
        "fit.families",
        f"unknown family in {list(cfg.fit.families)}; choose from {', '.join(families.FAMILIES)}",
    )


def work(cfg: DictConfig, out_dir: Path) -> tuple[int | None, str]:
    """Run the task and write stats.json and samples.npz."""
    validate(cfg)
    task, runner = task_runner("densities", cfg.task, TASKS)
    stats, samples = runner(cfg)
    write_record(out_dir, task, stats, samples)
    log.info("%s done: %s", task, scalars(stats))
    seeds = {
        "global_density": cfg.fit.seed,
        "product_zero_mass": cfg.product.seed,
        "percolated_zero_mass": cfg.percolated.seed,
        "ensemble_densities": cfg.ensembles.seed,
        "gp_model": cfg.gp.seed,
        "layered_index": cfg.layered.seed,
    }
    return int(seeds[task]), "cpu"


main = stage(
    "densities",
    "densities",
    work,
    diverged=lambda cfg, out_dir, record: write_diverged_stats(out_dir, "global_density", record),
)

if __name__ == "__main__":
    main()
