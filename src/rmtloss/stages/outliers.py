r"""Stage ``outliers``: outlier shifts with batch size, outliers per class, damped inverses.

``python -m rmtloss.outliers task=outlier_shift_network runs=[results/quick/runs/mlp/train]``

Baskerville, Keating, Mezzadri, Najnudel and Granziol, "Universal characteristics of deep neural
network loss surfaces from random matrix theory" (arXiv 2205.08601),
1.5 and 2. Tasks:

* ``outlier_shift_synthetic``: :math:`A + sX` with a Marchenko–Pastur bulk and spikes, for GOE, ±1 Wigner,
  sparse and diagonal noise over a grid of s; sampled outliers against :math:`\omega(\lambda)=\theta`
  (:func:`rmtloss.rmt.free.outlier_location`) and BBP's :math:`\theta + s^2/\theta`;
* ``local_law_synthetic``: quadratic forms of :math:`(A + sX + \delta)^{-1}` against the
  deterministic equivalent :math:`(A + \delta_{\rm eff})^{-1}` and the naive :math:`(A+\delta)^{-1}`;
* ``outlier_shift_network``: one trained classifier (``runs[0]``): the full-data Hessian, its outliers
  (bulk-edge fit) and bulk; exact batch Hessians for each batch size; the noise variance
  :math:`\sigma^2` from batch Hessian-vector products,
  :math:`\|(H_b - H)v\|^2 \approx \sigma^2 (1/b - 1/N)`; fitted against predicted slopes
  :math:`\sigma^2 m_D(\theta_i)`; damped-inverse quadratic forms of the full gradient and a random
  vector at the local-law batch size;
* ``outlier_count``: full-data Hessian and GGN of each run in ``runs`` (classifiers with C classes),
  outliers counted as the eigenvalues of the GGN's class-mean part above the largest eigenvalue of
  the rest (Papyan's decomposition; the version-1 bulk-edge fit and the largest gap ratio beside).
  Its ``samples.npz`` holds each run's full-data spectra as ``<run>_hessian`` and ``<run>_ggn``.

Each writes ``stats.json`` (what the claims ledger reads) and ``samples.npz`` (what figures draw).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss.errors import InputError, require
from rmtloss.fits import linear_fit, origin_fit
from rmtloss.hessian import HessianOperator, distributed, exact_hessian, exact_matrix
from rmtloss.hessian.exact import ggn_class_means
from rmtloss.nets import models
from rmtloss.nets.runs import batch_indices, chunks, load_trained
from rmtloss.papers import task_name
from rmtloss.results import run_folder_name, write_diverged_stats
from rmtloss.rmt import ensembles, free
from rmtloss.rmt.global_laws import Discrete
from rmtloss.rmt.outliers import count_class_outliers, detect_outliers, track_by_overlap
from rmtloss.stage import is_writer, resolve_device, stage, task_runner, write_record

log = logging.getLogger("rmtloss.outliers")


# -- synthetic -----------------------------------------------------------------------------------
def _top(mat: np.ndarray, k: int) -> np.ndarray:
    """The k largest eigenvalues, largest first."""
    from scipy.linalg import eigh

    n = len(mat)
    return eigh(mat, eigvals_only=True, subset_by_index=[n - k, n - 1])[::-1]


def outlier_shift_synthetic(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Sampled outliers of :math:`A + sX` against the subordination prediction, per noise kind."""
    c = cfg.synthetic
    rng = np.random.default_rng(int(c.seed))
    spikes = np.sort(np.asarray(c.spikes, float))[::-1]
    k, n = len(spikes), int(c.n)
    bulk_vals = ensembles.mp_bulk(n - k, float(c.bulk_ratio), rng)
    require(
        spikes.min() > bulk_vals.max(),
        "synthetic.spikes",
        f"spikes must lie above the bulk (max {bulk_vals.max():.3f})",
    )
    bulk = Discrete.from_sample(bulk_vals)
    a = np.diag(np.concatenate([spikes, bulk_vals]))
    s_grid = np.asarray(c.s, float)
    pred = [[free.outlier_location(t, bulk, s * s) for t in spikes] for s in s_grid]
    exact = np.array([[p.exact for p in row] for row in pred])
    samples = {
        "s": s_grid,
        "spikes": spikes,
        "predicted": exact,
        "first_order": np.array([[p.first_order for p in row] for row in pred]),
        "bbp": spikes[None, :] + s_grid[:, None] ** 2 / spikes[None, :],
    }
    noises: dict[str, Any] = {}
    for kind in c.noise:
        draws = np.array(
            [
                [
                    _top(a + s * ensembles.noise_matrix(n, kind, rng, float(c.sparsity)), k)
                    for _ in range(int(c.samples))
                ]
                for s in s_grid
            ]
        )  # (S, samples, k)
        mean, se = draws.mean(1), draws.std(1, ddof=1) / np.sqrt(draws.shape[1])
        rel = np.abs(mean - exact) / exact
        samples[f"mean_{kind}"], samples[f"se_{kind}"] = mean, se
        noises[kind] = {
            "max_rel_error": float(np.nanmax(rel)),
            "rel_error": rel.tolist(),
            "max_rel_error_shift": float(np.nanmax(np.abs((mean - exact) / (exact - spikes)))),
            "delocalised": kind != "diagonal",
        }
        log.info("%s: largest relative error %.4f", kind, noises[kind]["max_rel_error"])
    stats = {
        "n": n,
        "samples": int(c.samples),
        "spikes": spikes.tolist(),
        "s": s_grid.tolist(),
        "separated": [[p.separated for p in row] for row in pred],
        "noise": noises,
    }
    return stats, samples


def local_law_synthetic(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Quadratic forms of the damped inverse of A + sX: empirical, deterministic equivalent, naive."""
    c = cfg.local_law
    rng = np.random.default_rng(int(c.seed))
    n = int(c.n)
    a = np.sort(rng.uniform(float(c.a_min), float(c.a_max), n))
    law = Discrete.from_sample(a)
    v = rng.standard_normal(n)
    u = np.stack([v / np.linalg.norm(v), np.eye(n)[0]], axis=1)  # random unit, e_0 (a = a_min)
    deltas = np.asarray(c.deltas, float)
    stats: dict[str, Any] = {"n": n, "vectors": ["random", "e0"], "s": {}}
    samples: dict[str, np.ndarray] = {"deltas": deltas}
    for s in c.s:
        s2 = float(s) ** 2
        d_eff = free.effective_damping(law, s2, deltas)
        forms = []
        for _ in range(int(c.samples)):
            vals, vecs = np.linalg.eigh(np.diag(a) + float(s) * ensembles.goe(n, rng) / np.sqrt(n))
            if vals[0] + deltas.min() <= 0:
                raise InputError(
                    f"local_law.deltas: delta = {deltas.min()} is not left of the spectrum "
                    f"(lambda_min = {vals[0]:.4f}); raise the smallest delta"
                )
            forms.append(free.quadratic_forms(vals, vecs, u, deltas))
        emp = np.mean(forms, axis=0)
        det, naive = free.resolvent_forms(a, u**2, d_eff), free.resolvent_forms(a, u**2, deltas)
        samples.update(
            {
                f"s{s}_empirical": emp,
                f"s{s}_se": np.std(forms, 0, ddof=1) / np.sqrt(len(forms)),
                f"s{s}_deterministic": det,
                f"s{s}_naive": naive,
                f"s{s}_delta_eff": d_eff,
            }
        )
        stats["s"][str(s)] = _law_summary(deltas, d_eff, emp, det, naive)
    return stats, samples


def _law_summary(
    deltas: np.ndarray, d_eff: np.ndarray, emp: np.ndarray, det: np.ndarray, naive: np.ndarray
) -> dict[str, Any]:
    """Relative errors of the deterministic equivalent and the naive inverse against the mean."""
    err_det, err_naive = np.abs(det - emp) / np.abs(emp), np.abs(naive - emp) / np.abs(emp)
    above = d_eff > 0  # delta above the noise scale s^2 g
    return {
        "deltas": deltas.tolist(),
        "delta_eff": d_eff.tolist(),
        "rel_error_det": err_det.tolist(),
        "rel_error_naive": err_naive.tolist(),
        "max_rel_error_det_above_noise": float(err_det[above].max()) if above.any() else None,
        "det_closer_everywhere": bool(np.all(err_det < err_naive)),
    }


# -- networks ------------------------------------------------------------------------------------
def _load(run_dir: str, cfg: DictConfig) -> tuple[torch.nn.Module, Any]:
    """A trained classifier (float64, on ``cfg.device``) and its data."""
    device = distributed.local_device(resolve_device(cfg.device))  # this rank's GPU under torchrun
    _, model, ds = load_trained(Path(run_dir), "final", torch.float64, device)
    require(ds.task == "classification", "runs", f"{run_dir} is a regression run; outliers need a classifier")
    return model, ds


def _gap_ratio_count(desc: np.ndarray, k_max: int) -> int:
    """Papyan-style count: the k <= k_max with the largest ratio (λ_k - λ_{k+1}) / (λ_{k+1} - λ_{k+2})."""
    gaps = desc[:-1] - desc[1:]
    ratio = gaps[:k_max] / np.maximum(gaps[1 : k_max + 1], 1e-300)
    return int(np.argmax(ratio) + 1)


def outlier_count(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Outliers of the full-data Hessian and GGN of each classifier in ``runs``.

    The deciding count (``count``) is Papyan's: the eigenvalues of the GGN's class-mean part above the
    largest eigenvalue of the rest (the within-class part for the GGN, H less the class-mean part for
    the Hessian; :func:`rmtloss.rmt.outliers.count_class_outliers`). The version-1 edge-fit count and
    the largest-gap count are recorded beside it.
    """
    require(len(cfg.runs) > 0, "runs", "list the trained classifiers' train folders")
    rows, samples = [], {}
    for run_dir in cfg.runs:
        model, ds = _load(run_dir, cfg)
        x, y = ds.split("train")
        data = chunks(x, y, np.arange(len(x)), int(cfg.chunk))
        row = {
            "run": str(run_dir),
            "run_name": run_folder_name(run_dir),
            "classes": ds.num_classes,
            "num_params": sum(p.numel() for p in model.parameters()),
        }
        means = ggn_class_means(model, data, ds.num_classes)
        loss_fn = models.loss_function(ds.task)
        for matrix in ("hessian", "ggn"):
            dense = exact_matrix(model, loss_fn, data, matrix, chunk_size=cfg.chunk_size)
            ev = torch.linalg.eigvalsh(dense).cpu().numpy()
            papyan = count_class_outliers(means.cpu().numpy(), (dense - means).cpu().numpy())
            det = detect_outliers(ev, kappa=float(cfg.detect.kappa))
            desc = ev[::-1]
            row[matrix] = {
                "count": papyan.count,
                "edge": papyan.edge,
                "class_mean_eigenvalues": papyan.mean_eigenvalues.tolist(),
                "edge_fit_count": det.count,
                "edge_fit_edge": det.edge,
                "edge_fit_threshold": det.threshold,
                "gap_ratio_count": _gap_ratio_count(desc, 2 * ds.num_classes + 2),
                "top": desc[: 2 * ds.num_classes + 5].tolist(),
            }
            samples[f"{row['run_name']}_{matrix}"] = ev  # run names are unique; C may repeat
        log.info(
            "C = %d: %d Hessian, %d GGN outliers (edge fit: %d, %d)",
            ds.num_classes,
            row["hessian"]["count"],
            row["ggn"]["count"],
            row["hessian"]["edge_fit_count"],
            row["ggn"]["edge_fit_count"],
        )
        rows.append(row)
    return {"kappa": float(cfg.detect.kappa), "detector": "papyan-class-means", "runs": rows}, samples


Measured = tuple[np.ndarray, np.ndarray, float, dict[str, np.ndarray]]
"""One batch's tracked outliers, their squared overlaps, its noise ``mean_v ||(H_b - H) v||^2`` and
per-outlier extras (``kappa``: the noise concentration; ``second_order``: the perturbative shift)."""


def _batch_loop(
    cfg: DictConfig,
    n: int,
    sizes: np.ndarray,
    measure: Callable[[int, np.ndarray], Measured],
) -> tuple[list, list, list, dict[str, list]]:
    """``network.batches`` seeded batches of each size ``b``: the tracked outliers, their squared
    eigenvector overlaps with the full-data outliers, the noise ``mean_v ||(H_b - H) v||^2`` and the
    per-outlier extras that ``measure(b, rows)`` returns for each (dense or operator path)."""
    c = cfg.network
    tops, overlaps, noise, extras = [], [], [], {}
    for b in sizes:
        top_b, overlap_b, noise_b, extra_b = [], [], [], {}
        for rows in batch_indices(n, int(b), int(c.batches), int(c.seed) + int(b)):
            top, overlap, s2, extra = measure(int(b), rows)
            top_b.append(top)
            overlap_b.append(overlap)
            noise_b.append(s2)
            for k, v in extra.items():
                extra_b.setdefault(k, []).append(v)
        tops.append(np.array(top_b))
        overlaps.append(np.array(overlap_b))
        noise.append(noise_b)
        for k, v in extra_b.items():
            extras.setdefault(k, []).append(np.array(v))
        log.info(
            "b = %d: tracked outliers %s (overlap %s), s^2 = %.3g",
            b,
            np.round(np.mean(top_b, 0), 4),
            np.round(np.mean(overlap_b, 0), 3),
            np.mean(noise_b),
        )
    return tops, overlaps, noise, extras


def concentration(e_q: np.ndarray, energy: float) -> np.ndarray:
    r"""Noise concentration along unit vectors q (CLAIMS.md v3, ``outlier-shift-network``'s premise):
    :math:`\kappa = P\,\|E q\|^2 / \operatorname{tr}(E^2)`, given the products ``e_q`` = E q (P x k)
    and ``energy`` = tr(E²)/P, estimated by the mean of :math:`\|E v\|^2` over the stage's random unit
    probes v on both paths (dense and operator), so the two give the same number. Isotropic
    (delocalised, QUE-like) noise has κ ≈ 1; noise living in a small subspace that holds q has κ ≫ 1."""
    return np.sum(np.asarray(e_q) ** 2, axis=0) / energy if energy > 0 else np.full(np.shape(e_q)[1], np.nan)


def second_order_shift(vals: np.ndarray, vecs: np.ndarray, e_q: np.ndarray, idx: np.ndarray) -> np.ndarray:
    r"""Second-order perturbation theory for the eigenvalues ``vals[idx]`` of H under H + E:
    :math:`q_i^T E q_i + \sum_{j \ne i} (q_j^T E q_i)^2 / (\theta_i - \lambda_j)`, with ``e_q`` = E q_i
    (P x k); holds whatever the noise's concentration while the overlaps stay high (reported beside
    the free-convolution prediction, CLAIMS.md v3)."""
    coef = vecs.T @ e_q  # (P, k): q_j^T E q_i
    out = np.empty(len(idx))
    for col, i in enumerate(idx):
        gap = vals[i] - vals
        gap[i] = np.inf  # j = i left out; an exactly degenerate level too
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(np.isfinite(gap) & (gap != 0), coef[:, col] ** 2 / gap, 0.0)
        out[col] = coef[i, col] + float(np.sum(terms))
    return out


BatchHessian = Callable[[np.ndarray], np.ndarray]
"""The dense Hessian (P x P, float64) of the batch of training rows given."""


def _measure_exact(
    cfg: DictConfig,
    full_np: np.ndarray,
    grad: np.ndarray,
    batch_hessian: BatchHessian,
    n: int,
    sizes: np.ndarray,
) -> dict[str, Any]:
    """Dense full-data and batch Hessians: eigenvalues, noise products, damped-inverse forms."""
    c = cfg.network
    vals, vecs = np.linalg.eigh(full_np)
    det = detect_outliers(vals, kappa=float(cfg.detect.kappa))
    track = max(min(det.count, int(c.track)), 1)
    probes = _probes(len(vals), int(c.probes), int(c.seed))
    u = np.stack([grad / np.linalg.norm(grad), probes[:, 0]], axis=1)
    deltas = np.asarray(c.deltas, float)
    forms, lam_min, square = [], [], np.zeros_like(full_np)

    reference = vecs[:, ::-1][:, :track]  # the full-data outliers' eigenvectors, largest first
    ref_idx = np.arange(len(vals) - 1, len(vals) - 1 - track, -1)
    candidates = min(len(vals), 4 * track + 10)

    def measure(b: int, rows: np.ndarray) -> Measured:
        hb = batch_hessian(rows)
        bv, bvec = np.linalg.eigh(hb)
        if b == int(c.local_law_batch):
            square[:] += hb @ hb
            lam_min.append(float(bv[0]))
            forms.append(free.quadratic_forms(bv, bvec, u, np.where(bv[0] + deltas > 0, deltas, np.nan)))
        top, overlap = track_by_overlap(reference, bv[::-1][:candidates], bvec[:, ::-1][:, :candidates])
        e = hb - full_np
        e_q = e @ reference
        s2 = float(np.mean(np.sum((e @ probes) ** 2, axis=0)))  # tr(E^2)/P by the probes, as on the operators
        extra = {"kappa": concentration(e_q, s2),
                 "second_order": second_order_shift(vals, vecs, e_q, ref_idx)}
        return top, overlap, s2, extra

    tops, overlaps, noise, extras = _batch_loop(cfg, n, sizes, measure)
    return {
        "full_desc": vals[::-1],
        "overlaps": overlaps,
        "detection": det,
        "bulk": Discrete.from_sample(vals[: len(vals) - det.count]),
        "num_params": len(vals),
        "tops": tops,
        "noise": noise,
        "extras": extras,
        "batch_lambda_min": lam_min,
        "law_inputs": (vals, vecs, u, deltas, np.array(forms)),
        "complement": _complement_law(cfg, batch_hessian, n, full_np, square, u, deltas),
    }


#: How many of the top eigenvectors the premise's noise concentration is measured along (CLAIMS.md v3).
PREMISE_TOP = 3

#: An eigenvalue of H^2 + sum_b H_b^2 at most this fraction of the largest marks the common null space
#: (about 1e-7 of the largest |eigenvalue| of H, in the units of H; a setting, not tuned on a result).
NULL_TOL = 1e-14


def _complement_law(
    cfg: DictConfig,
    batch_hessian: BatchHessian,
    n: int,
    full: np.ndarray,
    square: np.ndarray,
    u: np.ndarray,
    deltas: np.ndarray,
) -> dict[str, Any]:
    """The local law on the complement of the common null space of H and the local-law batch
    Hessians (CLAIMS.md, ``local-law-network``): there H_b = H = 0 exactly, so the isotropic model
    H_b = A + sX cannot hold. The null space is that of H^2 + sum_b H_b^2 (``square`` holds the
    sum over batches); a second pass over the same seeded batches projects each H_b onto the
    complement Q, estimates s^2 = mean ||Q^T (H_b - H) Q v||^2 there (random unit v), the premise's
    noise concentration along the top eigenvectors of Q^T H Q (with the exact tr(E^2), this path
    being dense) and forms the damped-inverse quadratic forms of Q^T u."""
    c, b = cfg.network, int(cfg.network.local_law_batch)
    mv, mvec = np.linalg.eigh(full @ full + square)
    q = mvec[:, mv > NULL_TOL * mv[-1]]
    a = q.T @ full @ q
    vals, vecs = np.linalg.eigh(a)
    u_c = q.T @ u
    probes = _probes(q.shape[1], int(c.probes), int(c.seed))
    top = vecs[:, ::-1][:, : min(PREMISE_TOP, q.shape[1])]  # the top eigenvectors of H off the null space
    forms, s2, kappa = [], [], []
    for rows in batch_indices(n, b, int(c.batches), int(c.seed) + b):  # the batches of _batch_loop
        hb = q.T @ batch_hessian(rows) @ q
        bv, bvec = np.linalg.eigh(hb)
        forms.append(free.quadratic_forms(bv, bvec, u_c, np.where(bv[0] + deltas > 0, deltas, np.nan)))
        e = hb - a
        s2.append(float(np.mean(np.sum((e @ probes) ** 2, axis=0))))
        kappa.append(concentration(e @ top, float(np.sum(e * e)) / len(a)))
    law = _network_law(vals, vecs, u_c, deltas, np.array(forms), float(np.mean(s2)), b)
    log.info(
        "local law on the complement of a %d-dimensional common null space: s^2 = %.3g",
        full.shape[0] - q.shape[1],
        law["s2"],
    )
    return {
        **law,
        "null_dim": int(full.shape[0] - q.shape[1]),
        "dim": int(q.shape[1]),
        "null_tol": NULL_TOL,
        "u_norm_on_complement": np.linalg.norm(u_c, axis=0).tolist(),
        "kappa_median": np.median(np.array(kappa), axis=0).tolist(),  # per top eigenvector of H, over batches
    }


def _measure_lanczos(cfg: DictConfig, model, loss_fn, x, y, sizes: np.ndarray, group=None) -> dict[str, Any]:  # noqa: ANN001
    """Operators instead of dense matrices (paper scale): top-k Ritz values of the full-data and
    batch Hessians, the full-data bulk from stochastic Lanczos quadrature, noise from ``matmat``.
    With a process ``group`` each rank multiplies by its shard of every batch's rows."""
    from rmtloss.hessian import lanczos, slq, top_eigenpairs
    from rmtloss.rmt.outliers import detect_ritz_outliers

    c, lz, n = cfg.network, cfg.network.lanczos, len(x)

    def op(rows: np.ndarray) -> HessianOperator:
        data = chunks(x, y, distributed.my_rows(rows, group), int(cfg.chunk))
        return HessianOperator(model, loss_fn, data, check_deterministic=False, process_group=group,
                               compile=bool(c.compile))

    full = op(np.arange(n))
    run = lanczos(full, int(lz.num_steps), int(c.seed), tol=float(lz.tol))
    det = detect_ritz_outliers(run.ritz_values, run.converged, size=full.size, kappa=float(cfg.detect.kappa))
    # the outlier run is the bulk's first quadrature probe; the other probes start from seed + 1 on
    nodes, weights = [run.ritz_values], [run.weights]
    if int(lz.num_probes) > 1:
        quad = slq(full, int(lz.num_steps), int(lz.num_probes) - 1, int(c.seed) + 1)
        nodes, weights = [*nodes, *quad.nodes], [*weights, *quad.weights]
    bulk = _ritz_bulk(np.concatenate(nodes), np.concatenate(weights) / len(nodes), det.outliers, full.size)
    track = max(min(det.count, int(c.track)), 1)
    probes = torch.as_tensor(
        _probes(full.size, int(c.probes), int(c.seed)), dtype=full.dtype, device=full.device
    )
    h_probes = full.matmat(probes)
    reference = top_eigenpairs(full, track, int(lz.num_steps), int(c.seed), tol=float(lz.tol)).vectors.T
    ref_t = torch.as_tensor(np.ascontiguousarray(reference), dtype=full.dtype, device=full.device)
    h_ref = full.matmat(ref_t)
    candidates = min(full.size, 2 * track + 2)

    def measure(b: int, rows: np.ndarray) -> Measured:  # noqa: ARG001
        hb = op(rows)
        s2 = float(((hb.matmat(probes) - h_probes) ** 2).sum(0).mean())
        pairs = top_eigenpairs(hb, candidates, int(lz.num_steps), int(c.seed), tol=float(lz.tol))
        top, overlap = track_by_overlap(reference, pairs.values, pairs.vectors.T)
        e_q = (hb.matmat(ref_t) - h_ref).cpu().numpy()  # two products per outlier: H_b q and H q (once)
        return top, overlap, s2, {"kappa": concentration(e_q, s2)}

    tops, overlaps, noise, extras = _batch_loop(cfg, n, sizes, measure)
    return {
        "full_desc": np.sort(run.ritz_values[run.converged])[::-1],
        "overlaps": overlaps,
        "detection": det,
        "bulk": bulk,
        "num_params": full.size,
        "tops": tops,
        "noise": noise,
        "extras": extras,
        "batch_lambda_min": [],
        "law_inputs": None,
    }


def _ritz_bulk(nodes: np.ndarray, weights: np.ndarray, outliers: np.ndarray, size: int) -> Discrete | None:
    """The full-data bulk from quadrature nodes: the top ``len(outliers) / size`` of the mass trimmed
    (the outliers' share of the spectrum) and no node at or above the lowest detected outlier, whose
    Ritz value is the outlier itself (after few Lanczos steps its node can carry far more weight
    than 1 / size, and the spike would then sit inside its own bulk). None when no node is left:
    every Ritz value counted as an outlier (too few steps to resolve a bulk)."""
    from rmtloss.rmt.global_laws import trim_top

    law = trim_top(Discrete.from_sample(nodes, weights), len(outliers) / size)
    if not len(outliers):
        return law
    keep = law.values < outliers.min()
    if not keep.any():
        log.warning("every one of the %d quadrature nodes is at or above the lowest outlier (%.4g): no bulk "
                    "to predict the shift from; run more Lanczos steps (network.lanczos.num_steps)",
                    len(nodes), outliers.min())
        return None
    return Discrete(law.values[keep], law.weights[keep] / law.weights[keep].sum())


def _probes(size: int, count: int, seed: int) -> np.ndarray:
    """``count`` random unit vectors as columns."""
    v = np.random.default_rng(seed).standard_normal((size, count))
    return v / np.linalg.norm(v, axis=0)


def outlier_shift_network(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Batch-size dependence of a trained network's Hessian outliers, and its damped inverses."""
    c = cfg.network
    require(len(cfg.runs) == 1, "runs", f"outlier_shift_network takes one run (got {len(cfg.runs)})")
    model, ds = _load(cfg.runs[0], cfg)
    size = sum(p.numel() for p in model.parameters() if p.requires_grad)
    method = c.method if c.method != "auto" else ("exact" if size <= int(c.exact_max_params) else "lanczos")
    group = distributed.init_from_env(next(model.parameters()).device)
    require(group is None or method == "lanczos", "network.method",
            "a torchrun/srun launch runs the Lanczos path only; use network.method=lanczos or one process")
    loss_fn = models.loss_function(ds.task)
    x, y = ds.split("train")
    n = len(x)
    sizes = np.asarray(c.batch_sizes, int)
    require(sizes.max() < n, "network.batch_sizes", f"the largest must be below the {n} training samples")
    require(int(c.local_law_batch) in sizes, "network.local_law_batch", "must be one of network.batch_sizes")
    if method == "exact":
        op = HessianOperator(model, loss_fn, chunks(x, y, np.arange(n), int(cfg.chunk)),
                             check_deterministic=False, chunk_size=cfg.chunk_size)

        def batch_hessian(rows: np.ndarray) -> np.ndarray:
            data = chunks(x, y, rows, int(cfg.chunk))
            return exact_hessian(model, loss_fn, data, chunk_size=cfg.chunk_size).cpu().numpy()

        m = _measure_exact(
            cfg, op.to_dense().cpu().numpy(), op.gradient().cpu().numpy(), batch_hessian, n, sizes
        )
    else:
        m = _measure_lanczos(cfg, model, loss_fn, x, y, sizes, group)
    stats, samples = _shift_record(cfg, m, n, sizes, method)
    return {"run": str(cfg.runs[0]), "run_name": run_folder_name(cfg.runs[0]), **stats}, samples


def outlier_shift_matrices(
    cfg: DictConfig, full: np.ndarray, grad: np.ndarray, batch_hessian: BatchHessian, n: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``outlier_shift_network`` record of given matrices: a full-data matrix, its gradient and a
    batch matrix for any rows of n data (the exact path of a network, or a synthetic control)."""
    sizes = np.asarray(cfg.network.batch_sizes, int)
    return _shift_record(cfg, _measure_exact(cfg, full, grad, batch_hessian, n, sizes), n, sizes, "exact")


def _shift_record(
    cfg: DictConfig, m: dict[str, Any], n: int, sizes: np.ndarray, method: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fits of the tracked outliers against 1/b - 1/N, the predicted slopes, the noise variance and
    the local laws, from the measurements ``m`` of either path."""
    c = cfg.network
    det, bulk, tops, noise = m["detection"], m["bulk"], m["tops"], m["noise"]
    track = min(det.count, int(c.track)) if bulk is not None else 0
    if det.count == 0:
        log.warning("no outlier above the fitted bulk edge of the full-data Hessian")
    xb, law_b = 1 / sizes - 1 / n, int(c.local_law_batch)
    s2_b = np.array([np.mean(v) for v in noise])
    sigma2, noise_r2 = origin_fit(xb, s2_b)  # s_b^2 = sigma^2 x_b, through 0
    mean_top = np.array([t.mean(0) for t in tops])  # (B, max(track, 1)), tracked by overlap
    mean_overlap = np.array([o.mean(0) for o in m["overlaps"]])  # (B, max(track, 1))
    extras = m.get("extras", {})
    slope_se = _slope_se(xb, tops, int(c.seed))
    outl = []
    for i in range(track):
        intercept, slope, r2 = linear_fit(xb, mean_top[:, i])
        theta = float(m["full_desc"][i])
        kappa_pred = sigma2 * float(free.stieltjes(bulk, np.asarray(theta)))
        pred = [free.outlier_location(theta, bulk, sigma2 * xx) for xx in xb]
        outl.append(
            {
                "theta": theta,
                "intercept": intercept,
                "slope_fit": slope,
                "slope_fit_se": float(slope_se[i]),
                "r2": r2,
                "slope_predicted": kappa_pred,
                "slope_ratio": slope / kappa_pred,
                "predicted": [p.exact for p in pred],
                "overlap_per_batch_size": mean_overlap[:, i].tolist(),
                **_premise_numbers(extras, i, xb),
            }
        )
    stats = {
        "num_params": int(m["num_params"]),
        "num_data": n,
        "method": method,
        "batch_sizes": sizes.tolist(),
        "batches": int(c.batches),
        "tracking": "eigenvector overlap",
        "full_outliers": det.count,
        "full_edge": det.edge,
        "sigma2": sigma2,
        "s2_per_batch_size": s2_b.tolist(),
        "noise_fit_r2": noise_r2,  # of the line through the origin that gives sigma2
        "noise_fit_r2_intercept": linear_fit(xb, s2_b)[2],  # a free intercept, for comparison
        "outliers": outl,
        **({} if bulk is not None else {"outliers_why": "no bulk resolved: every Ritz value counted as an "
                                        "outlier (too few Lanczos steps); no shift predicted"}),
        "local_law": _network_law(*m["law_inputs"], sigma2 * (1 / law_b - 1 / n), law_b)
        if m["law_inputs"] is not None
        else {
            "batch_size": law_b,
            "computed": False,
            "why": "damped inverses need the dense batch Hessian (method=exact)",
        },
        "local_law_complement": m.get("complement")
        or {"batch_size": law_b, "computed": False, "why": "damped inverses need the dense batch Hessian"},
        "batch_lambda_min": m["batch_lambda_min"],
        "full_top": m["full_desc"][:20].tolist(),
    }
    samples = {
        "x": xb,
        "batch_sizes": sizes,
        "s2": s2_b,
        "full_top": m["full_desc"][:20],
        "mean_top": mean_top,
        "mean_overlap": mean_overlap,
        "se_top": np.array([t.std(0, ddof=1) / np.sqrt(len(t)) for t in tops]),
    }
    for part, prefix in (("local_law", "law"), ("local_law_complement", "law_complement")):
        for key in [k for k in stats[part] if k.startswith("_")]:
            samples[f"{prefix}{key}"] = np.asarray(stats[part].pop(key), float)
    return stats, samples


def _worst_error_se(forms: np.ndarray, emp: np.ndarray, det: np.ndarray, valid: np.ndarray) -> float:
    """The s.e. (over batches) of the relative error of the deterministic equivalent where that error is
    largest among the ``valid`` dampings: s.e. of the batch mean / |mean| (CLAIMS.md v3 margins)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(forms, 0, ddof=1) / np.sqrt(np.sum(np.isfinite(forms), 0))
        err = np.where(valid[:, None], np.abs(det - emp) / np.abs(emp), -np.inf)
    idx = np.unravel_index(int(np.argmax(err)), err.shape)
    return float(se[idx] / abs(emp[idx]))


def _slope_se(xb: np.ndarray, tops: list[np.ndarray], seed: int, count: int = 200) -> np.ndarray:
    """Bootstrap s.e. of the fitted slopes of every tracked outlier: the batches of each size are
    resampled with replacement and the line refitted to the resampled means (CLAIMS.md v3 margins)."""
    rng = np.random.default_rng(seed)
    k = tops[0].shape[1]
    if min(len(t) for t in tops) < 2:
        return np.full(k, np.nan)
    slopes = np.empty((count, k))
    for r in range(count):
        means = np.array([t[rng.integers(0, len(t), len(t))].mean(0) for t in tops])
        slopes[r] = [np.polyfit(xb, means[:, i], 1)[0] for i in range(k)]
    return slopes.std(0, ddof=1)


def _premise_numbers(extras: dict[str, list[np.ndarray]], i: int, xb: np.ndarray) -> dict[str, Any]:
    """Outlier ``i``'s noise concentration κ (its median over batches and batch sizes, and per size)
    and, where the dense path measured it, the second-order perturbative shift and its slope."""
    out: dict[str, Any] = {}
    if "kappa" in extras:
        k = [np.asarray(v)[:, i] for v in extras["kappa"]]
        out["kappa_median"] = float(np.median(np.concatenate(k)))
        out["kappa_per_batch_size"] = [float(np.median(v)) for v in k]
    if "second_order" in extras:
        shift = np.array([np.mean(np.asarray(v)[:, i]) for v in extras["second_order"]])
        out["second_order_shift"] = shift.tolist()
        out["slope_second_order"] = linear_fit(xb, shift)[1]
    return out


def _network_law(
    vals: np.ndarray,
    vecs: np.ndarray,
    u: np.ndarray,
    deltas: np.ndarray,
    forms: np.ndarray,
    s2: float,
    b: int,
) -> dict[str, Any]:
    """Damped-inverse quadratic forms on the network: batch mean vs (H + δ_eff)^-1 vs (H + δ)^-1."""
    law = Discrete.from_sample(vals)
    left, _ = free.bulk_edges(law, s2)
    ok = (-deltas < left) & np.all(np.isfinite(forms), axis=(0, 2))
    d_eff = np.full(len(deltas), np.nan)
    d_eff[ok] = free.effective_damping(law, s2, deltas[ok])
    ok &= d_eff + vals[0] > 0  # (H + δ_eff) positive definite
    det = np.full((len(deltas), u.shape[1]), np.nan)
    det[ok] = free.quadratic_forms(vals, vecs, u, d_eff[ok])
    naive = free.quadratic_forms(vals, vecs, u, np.where(deltas + vals[0] > 0, deltas, np.nan))
    with np.errstate(all="ignore"), warnings.catch_warnings():  # a δ below every batch's -λ_min: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        emp = np.nanmean(forms, 0)
    summary = _law_summary(deltas[ok], d_eff[ok], emp[ok], det[ok], naive[ok]) if ok.any() else {}
    if summary.get("max_rel_error_det_above_noise") is not None and len(forms) > 1:
        summary["max_rel_error_det_above_noise_se"] = _worst_error_se(forms, emp, det, ok & (d_eff > 0))
    return {
        "batch_size": b,
        "s2": s2,
        "computed": True,
        "valid_deltas": deltas[ok].tolist(),
        "vectors": ["gradient", "random"],
        "full_lambda_min": float(vals[0]),
        **summary,
        "_deltas": deltas,
        "_empirical": emp,
        "_deterministic": det,
        "_naive": naive,
        "_delta_eff": d_eff,
    }


# -- stage ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """Make ``dtype`` torch's default inside the block and restore the previous one after it."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


#: The tasks' runners; the synthetic ones need no trained network (and run on the CPU).
TASKS = {
    "outlier_shift_synthetic": outlier_shift_synthetic,
    "local_law_synthetic": local_law_synthetic,
    "outlier_shift_network": outlier_shift_network,
    "outlier_count": outlier_count,
}
SYNTHETIC = ("outlier_shift_synthetic", "local_law_synthetic")


def work(cfg: DictConfig, out_dir: Path) -> tuple[int, str]:
    """Run one task and write ``stats.json`` and ``samples.npz``."""
    task, runner = task_runner("outliers", cfg.task, TASKS)
    with _default_dtype(torch.float64):
        stats, samples = runner(cfg)
    stats["config"] = OmegaConf.to_container(cfg, resolve=True)
    if is_writer():  # rank 0 of a data-parallel launch
        write_record(out_dir, task, stats, samples)
    seeds = {
        "outlier_shift_synthetic": cfg.synthetic.seed,
        "local_law_synthetic": cfg.local_law.seed,
        "outlier_shift_network": cfg.network.seed,
        "outlier_count": 0,
    }
    device = "cpu" if task in SYNTHETIC else str(resolve_device(cfg.device))
    return int(seeds[task]), device


def write_diverged(cfg: DictConfig, out_dir: Path, record: dict) -> None:
    """The outputs of a network task whose run diverged: its kind and the record."""
    write_diverged_stats(out_dir, task_name(cfg.task), record)


main = stage("outliers", "outliers", work, diverged=write_diverged)

if __name__ == "__main__":
    main()
