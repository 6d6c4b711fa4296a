"""Stage ``diagnose``: the papers' diagnostics of one network in one command.

``python -m rmtloss.diagnose run_dir=<train folder> hydra.run.dir=<folder>``, or for a network of your own
with its weights, ``python -m rmtloss.diagnose model=custom model._target_=pkg.make_net
data=custom data._target_=pkg.make_data weights=net.pt hydra.run.dir=<folder>``.

It runs the stages the workflow runs, in this process, into sub-folders of ``hydra.run.dir``:

* the exact path (P <= ``exact_max_params`` and the estimated memory within ``memory_gb``): the
  exact full-data Hessian, whose outliers are found by the sequential edge test, then
  ``batch.count`` exact batch Hessians (spectra), their spacing ratios, unfolded spacings and zero
  mass (analysis) and the global fits of the pooled batch spectra (densities: semicircle,
  Marchenko-Pastur, products, percolated, each with a free zero atom) with those outliers removed;
* else: the outliers among the converged Ritz values of one Lanczos run of the full-data Hessian,
  a stochastic Lanczos quadrature density and its global fits (local statistics need exact
  spectra and are left out);

then draws the figures (spacing ratios, global fits) and writes ``diagnosis.html``, a page of the
numbers with their references (⟨r̃⟩ of GOE 0.5307 and Poisson 0.3863, the fits' KS distances, the
outlier count), ``diagnosis.json`` with the same numbers, and prints them. A step that fails is
recorded and the steps that need it are skipped: the page shows what finished, the failure and
the setting to change, and the stage then exits 2.
"""

from __future__ import annotations

import html
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss._io import read_json, write_json, write_text
from rmtloss.errors import ConfigError, Incomplete, InputError, require
from rmtloss.nets import data as data_mod
from rmtloss.nets import models, training
from rmtloss.nets.runs import load_trained
from rmtloss.rmt.laws import MEAN_RTILDE
from rmtloss.rmt.outliers import OutlierDetection, detect_outliers, detect_ritz_outliers
from rmtloss.stage import CONFIG_DIR, stage

log = logging.getLogger("rmtloss.diagnose")


def compose_stage(name: str, overrides: list[str]) -> DictConfig:
    """A stage's config composed by Hydra (inside a running Hydra app, or on its own)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name=name, overrides=overrides)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=name, overrides=overrides)


def run_stage(name: str, overrides: list[str], out: Path) -> Path:
    """Run stage ``name`` with ``overrides`` into ``out`` (as its app would; exits 2 on bad input)."""
    app = importlib.import_module(f"rmtloss.stages.{name}").main
    log.info("diagnose: %s %s", name, " ".join(overrides))
    app.run(compose_stage(app.config_name, overrides), out, raise_errors=True)
    return out


def make_run(cfg: DictConfig, folder: Path) -> Path:
    """A train-stage folder for ``cfg.model`` on ``cfg.data`` with the weights in ``cfg.weights``, or its
    seeded random initialisation (``init=true``, ``torch.manual_seed(seed)``)."""
    ds = data_mod.load(cfg.data)
    if cfg.init:
        torch.manual_seed(int(cfg.seed))
        net = models.build(cfg.model, ds.input_shape, ds.num_classes)
    else:
        path = Path(cfg.weights)
        if not path.is_file():
            raise InputError(f"missing weights file {path} (setting `weights`): give a saved state_dict, or "
                             "init=true for the network at its random initialisation")
        net = models.build(cfg.model, ds.input_shape, ds.num_classes)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
        except Exception as exc:  # noqa: BLE001 - wrong file, wrong keys or shapes
            raise InputError(f"cannot load {path} into the model of `model` ({exc})") from exc
    train_cfg = OmegaConf.create(
        {
            "model": OmegaConf.to_container(cfg.model, resolve=True),
            "data": OmegaConf.to_container(cfg.data, resolve=True),
        }
    )
    training.save_checkpoint(folder / "checkpoint_final.pt", net, 0, train_cfg)
    write_text(folder / "config.yaml", OmegaConf.to_yaml(train_cfg))
    return folder


def plan(cfg: DictConfig, model: torch.nn.Module, x_one: torch.Tensor) -> tuple[bool, str]:
    """Exact or Lanczos/SLQ, and why: the exact path only where P <= ``exact_max_params`` and the
    estimated memory of its largest dense Hessian (the full-data one, in mini-batches of
    ``full_batch_size``; :func:`rmtloss.hessian.exact.exact_memory_gb`) fits ``memory_gb``."""
    from rmtloss.hessian.exact import activation_count, exact_memory_gb

    p = models.num_params(model)
    acts = activation_count(model, x_one)
    batch = max(int(cfg.batch.size), int(cfg.full_batch_size))
    need = exact_memory_gb(p, acts, batch, cfg.chunk_size)
    head = (f"P = {p}, {acts} activations per sample: an exact Hessian of {batch} samples in chunks of "
            f"{cfg.chunk_size or 'all'} products needs about {need:.2f} GB")
    if p > int(cfg.exact_max_params):
        return False, f"{head}; P is above exact_max_params = {cfg.exact_max_params}: Lanczos/SLQ"
    if need > float(cfg.memory_gb):
        return False, (f"{head}, above memory_gb = {cfg.memory_gb:g}: Lanczos/SLQ (lower chunk_size or "
                       "full_batch_size, or raise memory_gb, for the exact path)")
    return True, f"{head}, within memory_gb = {cfg.memory_gb:g}: exact"


def _spectra(cfg: DictConfig, run_dir: Path, out: Path, *extra: str) -> Path:
    base = [
        f"run_dir={run_dir}",
        f"run_name={cfg.name}",
        f"checkpoint={cfg.checkpoint}",
        f"device={cfg.device}",
        f"batch.size={cfg.batch.size}",
        f"batch.count={cfg.batch.count}",
        "batch.seed=0",
        f"chunk_size={'null' if cfg.chunk_size is None else int(cfg.chunk_size)}",
    ]
    return run_stage("spectra", [*base, *extra], out)


@dataclass
class Steps:
    """The diagnosis's steps run in order: a failed step is recorded and the steps that need it are
    skipped, so that every result before it is kept and shown (``done``: name -> result)."""

    done: dict[str, Any] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def run(self, name: str, fn: Callable[[], Any], *needs: str) -> Any:
        """``fn()`` as step ``name``, or ``None`` when it fails or a step it needs did not finish."""
        missing = [n for n in needs if n not in self.done]
        if missing:
            self.failed.append((name, f"skipped: it needs the {', '.join(missing)}, which failed"))
            return None
        try:
            self.done[name] = fn()
        except (ConfigError, InputError) as exc:
            log.warning("diagnose: step '%s' failed: %s", name, exc)
            self.failed.append((name, str(exc)))
            return None
        return self.done[name]


def _fits(out: Path, spectrum: Path, outliers: OutlierDetection | None) -> dict[str, Any]:
    """Global fits of ``spectrum`` with the outliers found by the diagnosis removed (Papyan's count,
    the number of classes, where the outlier step failed)."""
    k = "classes" if outliers is None else int(outliers.count)
    return _record(run_stage("densities", ["task=global_density", f"spectrum={spectrum}", f"outliers={k}"],
                             out / "global_density"))


def _record(folder: Path) -> dict[str, Any]:
    """A stage's ``stats.json``: its numbers and its path (the figures read it)."""
    return {"stats": read_json(folder / "stats.json"), "path": folder / "stats.json"}


def _ritz_outliers(ritz: Path, num_steps: int) -> OutlierDetection:
    with np.load(ritz / "lanczos.npz") as r:
        try:
            return detect_ritz_outliers(r["ritz_values"][0], r["converged"][0], size=int(r["num_params"]))
        except InputError as exc:
            raise ConfigError("lanczos.num_steps", f"{exc} (now {num_steps}; e.g. lanczos.num_steps="
                                                   f"{2 * num_steps}, or a larger lanczos.tol)") from exc


def exact_path(cfg: DictConfig, run_dir: Path, out: Path, steps: Steps) -> None:
    """The exact full-data Hessian and its outliers, exact batch spectra, their local statistics and
    global fits (the same outliers removed)."""

    def full() -> OutlierDetection:
        path = _spectra(cfg, run_dir, out / "spectrum_full", "method=exact", "batch.full=true",
                        f"batch.size={cfg.full_batch_size}")
        with np.load(path / "eigenvalues.npz") as f:
            return detect_outliers(f["eigenvalues"][0])

    steps.run("outliers", full)
    batch = steps.run("batch spectra", lambda: _spectra(cfg, run_dir, out / "spectra_batch", "method=exact"))
    steps.run("local statistics", lambda: _record(run_stage(
        "analysis", [f"spectrum={batch / 'eigenvalues.npz'}"], out / "local_stats")), "batch spectra")
    steps.run("global fits", lambda: _fits(out, batch / "eigenvalues.npz", steps.done.get("outliers")),
              "batch spectra")


def operator_path(cfg: DictConfig, run_dir: Path, out: Path, steps: Steps) -> None:
    """The outliers among converged Ritz values of one Lanczos run, an SLQ density and its global fits
    (the same outliers removed)."""
    lz = cfg.lanczos
    full = ["batch.full=true", f"batch.size={cfg.full_batch_size}", f"lanczos.num_steps={lz.num_steps}"]
    steps.run("outliers", lambda: _ritz_outliers(
        _spectra(cfg, run_dir, out / "lanczos", "method=lanczos", *full, f"lanczos.tol={lz.tol}"),
        int(lz.num_steps)))
    density = steps.run("SLQ density", lambda: _spectra(
        cfg, run_dir, out / "density", "method=slq", *full, f"lanczos.num_probes={lz.num_probes}"))
    steps.run("global fits", lambda: _fits(out, density / "slq.npz", steps.done.get("outliers")),
              "SLQ density")


DEGENERATE_ZERO_WEIGHT = 0.9
"""A fitted zero atom at or above this weight leaves the KS distance measuring mostly the atom."""


def fit_warnings(fits: dict[str, Any], num_probes: int) -> list[str]:
    """Warnings on fits whose KS distance says little about the bulk: a zero atom of weight
    >= ``DEGENERATE_ZERO_WEIGHT``, a parameter on its grid's boundary, a quadrature of one probe."""
    out = []
    for key in ("best_rmt_atom", "best_product_deep", "best_percolated"):
        fit = fits.get(key) or {}
        w = fit.get("params", {}).get("zero_weight")
        if w is not None and w >= DEGENERATE_ZERO_WEIGHT:
            out.append(f"{fit['law']} ({key}) puts weight {w:.4f} on the zero atom: its KS {fit['ks']:.4f} "
                       "measures the atom, not the shape of the non-zero bulk")
        if fit.get("on_boundary"):
            out.append(f"{fit['law']} ({key}) has a parameter on the edge of its grid: a wider grid may fit "
                       "better")
    if fits.get("method") == "slq" and num_probes < 2:
        out.append("the density is a quadrature of one start vector (lanczos.num_probes=1): its weights are "
                   "one probe's, with no spread to judge them by; use lanczos.num_probes >= 4")
    return out


def summary(steps: Steps, num_params: int, exact: bool, num_probes: int) -> dict[str, Any]:
    """The numbers of the page: ratios with references, the fits' KS (each law with its free zero atom,
    CLAIMS.md v3), the outliers, warnings and the failed steps."""
    out: dict[str, Any] = {"num_params": num_params, "method": "exact" if exact else "lanczos/slq"}
    if "local statistics" in steps.done:
        r = steps.done["local statistics"]["stats"]["ratios"]
        out["ratios"] = {k: r[k] for k in ("mean", "ci_low", "ci_high", "ks_goe", "ks_poisson", "n_ratios")}
        out["ratios"]["goe"], out["ratios"]["poisson"] = MEAN_RTILDE["goe"], MEAN_RTILDE["poisson"]
    if "global fits" in steps.done:
        fits = steps.done["global fits"]["stats"]
        out["fits"] = {
            name: {"law": name, "ks": fits["fits_atom"][key]["ks"],
                   "zero_weight": fits["fits_atom"][key]["params"].get("zero_weight")}
            for name, key in (("semicircle", "semicircle_cdf"), ("marchenko_pastur", "mp_cdf"))
            if key in fits.get("fits_atom", {})
        }
        for key in ("best_rmt_atom", "best_product_deep", "best_percolated"):
            if fits.get(key):
                out["fits"][key] = {"law": fits[key]["law"], "ks": fits[key]["ks"],
                                    "zero_weight": fits[key]["params"].get("zero_weight")}
        out["outliers_removed"] = int(fits["outliers_removed"])
        out["warnings"] = fit_warnings(fits, num_probes)
    if "outliers" in steps.done:
        det = steps.done["outliers"]
        out["outliers"] = {"count": int(det.count), "values": [float(v) for v in det.outliers],
                           "edge": float(det.edge), "method": det.method}
    out["failed"] = [{"step": n, "error": e} for n, e in steps.failed]
    return out


def _row(name: str, value: str, reference: str) -> str:
    return (
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td><td>{html.escape(reference)}</td></tr>"
    )


FIT_LABELS = {
    "semicircle": "semicircle fit",
    "marchenko_pastur": "Marchenko-Pastur fit",
    "best_rmt_atom": "best of semicircle and MP",
    "best_product_deep": "best product (depth >= 2)",
    "best_percolated": "best percolated",
}


def _fit_label(name: str, fit: dict[str, Any]) -> tuple[str, str, str]:
    w = fit.get("zero_weight")
    atom = f"; fitted zero atom {w:.3f}" if w is not None else ""
    return FIT_LABELS.get(name, name), f"KS {fit['ks']:.4f}", f"{fit['law'].replace('_', ' ')}{atom}"


def page(title: str, s: dict[str, Any], figures: list[str]) -> str:
    """The HTML page: the failed steps and warnings first, a table of numbers with their references,
    then the figures."""
    rows = [_row("parameters P", str(s["num_params"]), f"method: {s['method']}")]
    if "plan" in s:
        rows.append(_row("why this method", s["plan"], f"network: {s.get('source', '')}"))
    if "ratios" in s:
        r = s["ratios"]
        mean = f"{r['mean']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
        rows.append(_row("mean spacing ratio <r~>", mean, f"GOE {r['goe']:.4f}, Poisson {r['poisson']:.4f}"))
        rows.append(_row("KS of the ratios to GOE / Poisson", f"{r['ks_goe']:.4f} / {r['ks_poisson']:.4f}",
                         f"{r['n_ratios']} ratios"))
    for name, fit in s.get("fits", {}).items():
        rows.append(_row(*_fit_label(name, fit)))
    if "outliers" in s:
        o = s["outliers"]
        top = ": " + ", ".join(f"{v:.4g}" for v in o["values"][:10]) if o["values"] else ""
        removed = (f"; the same {o['count']} removed from each spectrum before the fits"
                   if s.get("outliers_removed") == o["count"] else "")
        rows.append(_row("outliers of the full-data Hessian", str(o["count"]),
                         f"above bulk edge {o['edge']:.4g} ({o['method']}){top}{removed}"))
    elif "outliers_removed" in s:
        rows.append(_row("outliers removed before the fits", str(s["outliers_removed"]),
                         "the number of classes (the outlier step failed)"))
    notes = "".join(
        f"<p style='color:#b00'><b>{html.escape(f['step'])} failed</b>: {html.escape(f['error'])}</p>"
        for f in s.get("failed", [])
    ) + "".join(f"<p style='color:#a60'><b>warning</b>: {html.escape(w)}</p>" for w in s.get("warnings", []))
    imgs = "".join(f'<figure><img src="{html.escape(f)}" style="max-width:100%"></figure>' for f in figures)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{notes}<table border='1' cellpadding='4'>"
        f"<tr><th>quantity</th><th>measured</th><th>reference</th></tr>{''.join(rows)}</table>{imgs}"
        "</body></html>"
    )


def console(title: str, s: dict[str, Any]) -> str:
    """The diagnosis in a few lines of text (the page's numbers)."""
    lines = [title, "  " + str(s.get("plan", f"P = {s['num_params']}, {s['method']}"))]
    if "ratios" in s:
        r = s["ratios"]
        lines.append(f"  mean spacing ratio <r~> = {r['mean']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}] "
                     f"(GOE {r['goe']:.4f}, Poisson {r['poisson']:.4f}; {r['n_ratios']} ratios)")
    for name, fit in s.get("fits", {}).items():
        label, ks, ref = _fit_label(name, fit)
        lines.append(f"  {label}: {ks} ({ref})")
    if "outliers" in s:
        o = s["outliers"]
        top = f" (largest {', '.join(f'{v:.4g}' for v in o['values'][:3])})" if o["values"] else ""
        lines.append(f"  outliers of the full-data Hessian: {o['count']} above the edge {o['edge']:.4g}{top}")
    lines += [f"  warning: {w}" for w in s.get("warnings", [])]
    lines += [f"  FAILED {f['step']}: {f['error']}" for f in s.get("failed", [])]
    return "\n".join(lines)


def work(cfg: DictConfig, out: Path) -> tuple[int, str]:
    """Run the diagnostics step by step and write ``diagnosis.html`` and ``diagnosis.json`` (also when a
    step fails: the page then shows the steps that finished and the failure, and the stage exits 2)."""
    given = [k for k in ("run_dir", "weights", "init") if cfg[k]]
    require(
        len(given) == 1,
        "run_dir",
        "give one of run_dir=<train folder>, weights=<state_dict file> (with model=... data=...) or "
        f"init=true (the model at its random initialisation); got {', '.join(given) or 'none of them'}",
    )
    run_dir = Path(cfg.run_dir) if cfg.run_dir else make_run(cfg, out / "run")
    _, model, ds = load_trained(run_dir, cfg.checkpoint, torch.float64, torch.device("cpu"))
    num_params = models.num_params(model)
    exact, why = plan(cfg, model, ds.split("train")[0][:1])
    log.info("diagnose: %s", why)
    steps = Steps()
    (exact_path if exact else operator_path)(cfg, run_dir, out, steps)
    figures = []
    for fig, key in (("spacing_ratios", "local statistics"), ("global_density_fits", "global fits")):
        if key in steps.done:
            args = [f"figure={fig}", f"inputs=[{steps.done[key]['path']}]", f"out={out / 'figures' / fig}"]
            steps.run(f"figure {fig}", lambda fig=fig, args=args: run_stage("figures", args,
                                                                            out / "figures" / "meta" / fig))
            if f"figure {fig}" in steps.done:
                figures.append(f"figures/{fig}.png")
    s = summary(steps, num_params, exact, int(cfg.lanczos.num_probes))
    state = ("at its random initialisation" if cfg.init or cfg.checkpoint == "init"
             else "with the given weights" if cfg.weights else "trained")
    s.update(state=state, plan=why, source=str(cfg.weights or cfg.run_dir or f"init, seed {cfg.seed}"))
    title = f"Diagnosis of {cfg.name}, {state}"
    write_json(out / "diagnosis.json", s)
    write_text(out / "diagnosis.html", page(title, s, figures))
    print(console(title, s), flush=True)
    if steps.failed:
        raise Incomplete(f"{len(steps.failed)} step(s) failed ({'; '.join(n for n, _ in steps.failed)}): the "
                         f"page with the steps that finished and the failures is {out / 'diagnosis.html'}")
    log.info("diagnosis: %s", out / "diagnosis.html")
    return 0, str(cfg.device)


main = stage("diagnose", "diagnose", work)

if __name__ == "__main__":
    main()
