"""Stage ``diagnose``: the papers' diagnostics of one network in one command.

``python -m rmtloss.diagnose run_dir=<train folder> hydra.run.dir=<folder>``, or for a network of your own
with its weights, ``python -m rmtloss.diagnose model=custom model._target_=pkg.make_net
data=custom data._target_=pkg.make_data weights=net.pt hydra.run.dir=<folder>``.

It runs the stages the workflow runs, in this process, into sub-folders of ``hydra.run.dir``:

* P <= ``exact_max_params``: ``batch.count`` exact batch Hessians (spectra), their spacing ratios,
  unfolded spacings and zero mass (analysis), the global fits of the pooled batch spectra
  (densities: semicircle, Marchenko-Pastur, products, percolated), and the exact full-data
  Hessian, whose outliers are found by the sequential edge test;
* larger P: a stochastic Lanczos quadrature density of the full-data Hessian and its global fits,
  and the outliers among the converged Ritz values of one Lanczos run (local statistics need
  exact spectra and are left out);

then draws the figures (spacing ratios, global fits) and writes ``diagnosis.html``, a page of the
numbers with their references (⟨r̃⟩ of GOE 0.5307 and Poisson 0.3863, the fits' KS distances, the
outlier count), and ``diagnosis.json`` with the same numbers.
"""

from __future__ import annotations

import html
import importlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rmtloss._io import read_json, write_json, write_text
from rmtloss.errors import InputError, require
from rmtloss.nets import data as data_mod
from rmtloss.nets import models, training
from rmtloss.nets.runs import load_trained
from rmtloss.rmt.laws import MEAN_RTILDE
from rmtloss.rmt.outliers import detect_outliers, detect_ritz_outliers
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
    app.run(compose_stage(app.config_name, overrides), out)
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


def exact_path(cfg: DictConfig, run_dir: Path, out: Path) -> dict[str, Any]:
    """Exact batch spectra, their local statistics and global fits, the full-data outliers."""
    batch = _spectra(cfg, run_dir, out / "spectra_batch", "method=exact")
    local = run_stage("analysis", [f"spectrum={batch / 'eigenvalues.npz'}"], out / "local_stats")
    fits = run_stage(
        "densities", ["task=global_density", f"spectrum={batch / 'eigenvalues.npz'}"], out / "global_density"
    )
    full = _spectra(
        cfg,
        run_dir,
        out / "spectrum_full",
        "method=exact",
        "batch.full=true",
        f"batch.size={cfg.full_batch_size}",
    )
    with np.load(full / "eigenvalues.npz") as f:
        det = detect_outliers(f["eigenvalues"][0])
    return {
        "local": read_json(local / "stats.json"),
        "fits": read_json(fits / "stats.json"),
        "outliers": det,
        "inputs": {"local": local / "stats.json", "fits": fits / "stats.json"},
    }


def operator_path(cfg: DictConfig, run_dir: Path, out: Path) -> dict[str, Any]:
    """An SLQ density and its global fits, the outliers among converged Ritz values."""
    lz = cfg.lanczos
    full = ["batch.full=true", f"batch.size={cfg.full_batch_size}", f"lanczos.num_steps={lz.num_steps}"]
    density = _spectra(
        cfg, run_dir, out / "density", "method=slq", *full, f"lanczos.num_probes={lz.num_probes}"
    )
    fits = run_stage(
        "densities", ["task=global_density", f"spectrum={density / 'slq.npz'}"], out / "global_density"
    )
    ritz = _spectra(cfg, run_dir, out / "lanczos", "method=lanczos", *full)
    with np.load(ritz / "lanczos.npz") as r:
        det = detect_ritz_outliers(r["ritz_values"][0], r["converged"][0], size=int(r["num_params"]))
    return {
        "local": None,
        "fits": read_json(fits / "stats.json"),
        "outliers": det,
        "inputs": {"fits": fits / "stats.json"},
    }


def summary(res: dict[str, Any], num_params: int, exact: bool) -> dict[str, Any]:
    """The numbers of the page: ratios with references, fits' KS, outliers."""
    out: dict[str, Any] = {"num_params": num_params, "method": "exact" if exact else "lanczos/slq"}
    if res["local"] is not None:
        r = res["local"]["ratios"]
        out["ratios"] = {k: r[k] for k in ("mean", "ci_low", "ci_high", "ks_goe", "ks_poisson", "n_ratios")}
        out["ratios"]["goe"], out["ratios"]["poisson"] = MEAN_RTILDE["goe"], MEAN_RTILDE["poisson"]
    fits = res["fits"]
    out["fits"] = {
        name: fits["fits"][key]["ks"]
        for name, key in (("semicircle", "semicircle_cdf"), ("marchenko_pastur", "mp_cdf"))
        if key in fits.get("fits", {})
    }
    for key in ("best_rmt", "best_product", "best_percolated"):
        if fits.get(key):
            out["fits"][key] = {"law": fits[key]["law"], "ks": fits[key]["ks"]}
    det = res["outliers"]
    out["outliers"] = {
        "count": int(det.count),
        "values": [float(v) for v in det.outliers],
        "edge": float(det.edge),
        "method": det.method,
    }
    return out


def _row(name: str, value: str, reference: str) -> str:
    return (
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td><td>{html.escape(reference)}</td></tr>"
    )


def page(title: str, s: dict[str, Any], figures: list[str]) -> str:
    """The HTML page: a table of numbers with their references, then the figures."""
    rows = [_row("parameters P", str(s["num_params"]), f"method: {s['method']}")]
    if "plan" in s:
        rows.append(_row("why this method", s["plan"], f"network: {s.get('source', '')}"))
    if "ratios" in s:
        r = s["ratios"]
        rows.append(
            _row(
                "mean spacing ratio <r~>",
                f"{r['mean']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]",
                f"GOE {r['goe']:.4f}, Poisson {r['poisson']:.4f}",
            )
        )
        rows.append(
            _row(
                "KS of the ratios to GOE / Poisson",
                f"{r['ks_goe']:.4f} / {r['ks_poisson']:.4f}",
                f"{r['n_ratios']} ratios",
            )
        )
    for name, fit in s["fits"].items():
        if isinstance(fit, dict):
            rows.append(_row(f"{name.replace('_', ' ')} fit", f"KS {fit['ks']:.4f}", fit["law"]))
        else:
            rows.append(_row(f"{name.replace('_', ' ')} fit", f"KS {fit:.4f}", "CDF least squares"))
    o = s["outliers"]
    top = ", ".join(f"{v:.4g}" for v in o["values"][:10])
    rows.append(
        _row(
            "outliers of the full-data Hessian",
            str(o["count"]),
            f"above bulk edge {o['edge']:.4g} ({o['method']}){': ' + top if top else ''}",
        )
    )
    imgs = "".join(f'<figure><img src="{html.escape(f)}" style="max-width:100%"></figure>' for f in figures)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><table border='1' cellpadding='4'>"
        f"<tr><th>quantity</th><th>measured</th><th>reference</th></tr>{''.join(rows)}</table>{imgs}"
        "</body></html>"
    )


def work(cfg: DictConfig, out: Path) -> tuple[int, str]:
    """Run the diagnostics and write ``diagnosis.html`` and ``diagnosis.json``."""
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
    res = (exact_path if exact else operator_path)(cfg, run_dir, out)
    figures = []
    for fig, key in (("spacing_ratios", "local"), ("global_density_fits", "fits")):
        if key in res["inputs"]:
            run_stage(
                "figures",
                [f"figure={fig}", f"inputs=[{res['inputs'][key]}]", f"out={out / 'figures' / fig}"],
                out / "figures" / "meta" / fig,
            )
            figures.append(f"figures/{fig}.png")
    s = summary(res, num_params, exact)
    state = ("at its random initialisation" if cfg.init or cfg.checkpoint == "init"
             else "with the given weights" if cfg.weights else "trained")
    s.update(state=state, plan=why, source=str(cfg.weights or cfg.run_dir or f"init, seed {cfg.seed}"))
    write_json(out / "diagnosis.json", s)
    write_text(out / "diagnosis.html", page(f"Diagnosis of {cfg.name}, {state}", s, figures))
    if "ratios" in s:
        log.info(
            "<r~> = %.4f [%.4f, %.4f] (GOE %.4f, Poisson %.4f)",
            s["ratios"]["mean"],
            s["ratios"]["ci_low"],
            s["ratios"]["ci_high"],
            MEAN_RTILDE["goe"],
            MEAN_RTILDE["poisson"],
        )
    best = s["fits"].get("best_rmt", {})
    log.info(
        "best semicircle/MP fit: %s KS %s; outliers: %d",
        best.get("law"),
        f"{best['ks']:.4f}" if best else "n/a",
        s["outliers"]["count"],
    )
    log.info("diagnosis: %s", out / "diagnosis.html")
    return 0, str(cfg.device)


main = stage("diagnose", "diagnose", work)

if __name__ == "__main__":
    main()
