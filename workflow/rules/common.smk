import json
import shlex
import sys

import yaml

sys.path.insert(0, os.path.join(workflow.basedir, "src"))

from rmtloss.papers import CLAIMS, FIGURES, KINDS, PAPERS, tasks_of
from rmtloss.workflow import (
    check_config,
    check_run_ids,
    check_scale_needs,
    check_stage_overrides_once,
    data_jobs,
    config_digest,
    derive_scales,
    hydra_string,
    merge_overrides,
    report_ledger_html,
    shape_data_dir,
    shell_args,
    sweep_args,
    sweep_points,
    tagged_scale,
)

# Jobs run `python -m rmtloss.<stage>` with the package and the stage configs taken from this
# checkout; `python` is the one on PATH (activate .venv, or the rule's conda environment with --use-conda).
# The checkout's root (examples/) and the caller's PYTHONPATH stay importable for `_target_` models and data.
_PATH = os.pathsep.join([os.path.join(workflow.basedir, "src"), workflow.basedir])
shell.prefix(f"set -euo pipefail; export PYTHONPATH={shlex.quote(_PATH)}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
             f"export RMTLOSS_CONFIG_DIR={shlex.quote(os.path.join(workflow.basedir, 'config'))}; ")
# The workflow config, checked before any job runs: the JSON schema (a short message naming the key
# and the nearest valid one), the run ids of `overrides`, and every stage command line the config
# makes composed against the stage configs and their schemas (once per config: a stamp in .snakemake/)
# A scale that `extends` another (paper_shape: the paper grid, tiny) is resolved into a full one first.
derive_scales(config, os.path.join(workflow.basedir, "config"))
with open(os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")) as _fh:
    check_config(config, yaml.safe_load(_fh))
# the results folder: the scale, or with a tag the variant <scale>-<tag> beside it (rmtloss.workflow.tagged_scale)
SCALE = tagged_scale(config)
check_run_ids(config, SCALE)
if workflow.is_main_process:
    check_stage_overrides_once(config, SCALE, os.path.join(workflow.basedir, "config"), ".snakemake")
# the figures to draw: every figure the papers declare, or the list in config/config.yaml
FIGURE_NAMES = list(FIGURES) if config["figures"] == "all" else list(config["figures"])
_unknown = [f for f in FIGURE_NAMES if f not in FIGURES]
if _unknown:
    raise ValueError(f"config figures: unknown figure(s) {', '.join(_unknown)}; the papers declare "
                     f"{', '.join(FIGURES)} (rmtloss.papers)")
CONFIG_DIGEST = config_digest(os.path.join(workflow.basedir, "config"))
# the report's first page (workflow/report/workflow.rst) shows the ledger of the last run, when there is one
config["_ledger_html"] = report_ledger_html(SCALE)


wildcard_constraints:
    scale="|".join(config["scales"]),
    run="[a-z][a-z0-9_]*",
    spec="[a-z][a-z0-9_]*",
    fig="[a-z][a-z0-9_]*",


def networks(scale):
    return config["scales"][scale]["networks"]


def shape_data_input(wildcards):
    """The generated MNIST/CIFAR files of a scale with `shape_data` (rule shape_data), else nothing."""
    if "shape_data" not in config["scales"][wildcards.scale]:
        return []
    return f"{shape_data_dir(wildcards.scale)}/shape_data.json"


def shape_data_args(wildcards):
    spec = config["scales"][wildcards.scale]["shape_data"]
    return shell_args(["--root", shape_data_dir(wildcards.scale), "--sets", *spec["sets"],
                       "--train", spec["train"], "--test", spec["test"], "--seed", spec.get("seed", 0)])


def train_args(wildcards):
    grid = networks(wildcards.scale)[wildcards.run]["train"]
    user = config.get("overrides", {}).get(wildcards.run, [])
    return shell_args(merge_overrides(grid, user))


def method(spec):
    return config["spectra"][spec].get("method", "exact")


def result_of(spec):
    return "eigenvalues" if method(spec) == "exact" else method(spec)


def spectrum_file(scale, run, spec):
    return f"results/{scale}/runs/{run}/spectra/{spec}/{result_of(spec)}.npz"


def spectra_args(wildcards):
    if result_of(wildcards.spec) != wildcards.result:
        raise ValueError(f"spectrum kind {wildcards.spec} has method {method(wildcards.spec)}; "
                         f"ask for {spectrum_file(wildcards.scale, wildcards.run, wildcards.spec)}")
    kind = config["spectra"][wildcards.spec]
    scale = config["scales"][wildcards.scale]
    lz = scale.get("lanczos", {}) if method(wildcards.spec) != "exact" else {}
    args = [
        f"run_name={wildcards.run}",
        f"method={method(wildcards.spec)}",
        f"checkpoint={kind['checkpoint']}",
        f"matrix={kind['matrix']}",
        f"split={kind['split']}",
        f"batch.full={str(kind['full']).lower()}",
        f"dtype={kind.get('dtype', 'float64')}",
        f"batch.size={lz.get('batch_size', scale['batches']['size'])}",
        f"batch.count={scale['batches']['count']}",
        *(f"lanczos.{k}={v}" for k, v in lz.items() if k != "batch_size"),
    ]
    return shell_args(args)


def gpus(wildcards):
    return int(networks(wildcards.scale)[wildcards.run].get("gpu", False))


def ranks(scale, run):
    """Data-parallel ranks of a run's operator jobs: its `operator_gpus` (default 1) with `gpu: true`."""
    net = networks(scale)[run]
    return int(net.get("operator_gpus", 1)) if net.get("gpu", False) else 1


def launch(module, n):
    """`python -m module`, or `torchrun` with n ranks on this node (one GPU each) when n > 1."""
    return f"torchrun --standalone --nproc-per-node {n} -m {module}" if n > 1 else f"python -m {module}"


def spectra_ranks(wildcards):
    return 1 if wildcards.result == "eigenvalues" else ranks(wildcards.scale, wildcards.run)


def checkpoint_of(wildcards):
    kind = config["spectra"][wildcards.spec]["checkpoint"]
    return f"results/{wildcards.scale}/runs/{wildcards.run}/train/checkpoint_{kind}.pt"


def stats_files(scale):
    return [
        f"results/{scale}/analysis/local_stats/{run}/{spec}/stats.json"
        for run, net in networks(scale).items()
        for spec in net["spectra"]
        if method(spec) == "exact"
    ]


def operator_files(scale):
    return [
        spectrum_file(scale, run, spec)
        for run, net in networks(scale).items()
        for spec in net["spectra"]
        if method(spec) != "exact"
    ]


# Tasks that are one job each; the others are one job per spectrum (local_stats, global_density),
# per trained network (outlier_shift_network) or per sweep point (gan_point).
COMPLEXITY_TASKS = tuple(t for t in tasks_of("complexity") if t != "gan_point")
DENSITY_TASKS = tuple(t for t in tasks_of("densities") if t != "global_density")
OUTLIER_TASKS = tuple(t for t in tasks_of("outliers") if t != "outlier_shift_network")
OPTIMISER_TASKS = tasks_of("optimisers")
# folder of each stage's records under results/{scale}/analysis
STAGE_DIRS = {"complexity": "spinglass", "densities": "densities", "outliers": "outliers"}


def gan_sweep_files(scale):
    sweeps = config["scales"][scale].get("gan_sweeps")
    return [
        f"results/{scale}/analysis/spinglass/gan_sweep/{name}/p{p}_q{q}/{i}/stats.json"
        for name, p, q, i in (sweep_points(sweeps) if sweeps else [])
    ]


def global_density_files(scale):
    return [
        f"results/{scale}/analysis/global_density/{run}/{spec}/stats.json"
        for run, net in networks(scale).items()
        for spec in net["spectra"]
        if spec in config.get("global_density", [])
    ]


def spectrum_of(wildcards):
    return spectrum_file(wildcards.scale, wildcards.run, wildcards.spec)


def densities_args(scale, task):
    return shell_args(config["scales"][scale].get("densities", {}).get(task, []))


def outlier_runs(scale, task):
    """Runs a network task of the outliers stage reads (outlier_shift_network: one job per network)."""
    cfg = config["scales"][scale].get("outliers", {})
    names = {"outlier_shift_network": cfg.get("networks", []), "outlier_count": cfg.get("count", [])}.get(task, [])
    unknown = [n for n in names if n not in networks(scale)]
    if unknown:
        raise ValueError(f"scales.{scale}.outliers names runs {unknown} that are not in scales.{scale}.networks")
    return names


def outlier_files(scale, task):
    if task == "outlier_shift_network":
        return [f"results/{scale}/analysis/outliers/{task}/{run}/stats.json" for run in outlier_runs(scale, task)]
    if task in ("outlier_shift_synthetic", "local_law_synthetic") or outlier_runs(scale, task):
        return [f"results/{scale}/analysis/outliers/{task}/stats.json"]
    return []


def _outlier_job_runs(wildcards):
    """The runs one outliers job reads: its {run} (rule outlier_shift) or its task's list (rule outliers)."""
    if hasattr(wildcards, "run"):
        return [wildcards.run]
    return outlier_runs(wildcards.scale, wildcards.task)


def outlier_inputs(wildcards):
    return [f"results/{wildcards.scale}/runs/{run}/train/checkpoint_final.pt" for run in _outlier_job_runs(wildcards)]


def outliers_args(wildcards):
    runs = [f"results/{wildcards.scale}/runs/{r}/train" for r in _outlier_job_runs(wildcards)]
    task = getattr(wildcards, "task", "outlier_shift_network")
    extra = config["scales"][wildcards.scale].get("outliers", {}).get(task, [])
    return shell_args([f"runs=[{','.join(runs)}]", *extra])


def outlier_gpus(wildcards):
    return int(any(networks(wildcards.scale)[r].get("gpu", False) for r in _outlier_job_runs(wildcards)))


def outlier_mem_mb(wildcards):
    """Memory of one outlier-shift job: its network's outlier_mem_mb, else 32000 with a GPU and 8000 without."""
    spec = networks(wildcards.scale)[wildcards.run]
    return spec.get("outlier_mem_mb", 32000 if outlier_gpus(wildcards) else 8000)


def outlier_ranks(wildcards):
    return max(ranks(wildcards.scale, r) for r in _outlier_job_runs(wildcards))


def _optimisers(scale):
    return config["scales"][scale].get("optimisers", {})


def optimiser_files(scale, task):
    return [f"results/{scale}/analysis/optimisers/{task}/{setting}/stats.json"
            for setting in _optimisers(scale).get(task, {})]


def optimisers_args(wildcards):
    cfg = _optimisers(wildcards.scale)
    return shell_args(merge_overrides(cfg.get("common", []), cfg[wildcards.task][wildcards.setting]))


def optimiser_gpus(wildcards):
    return int(wildcards.setting in _optimisers(wildcards.scale).get("gpu", []))


# Record kinds computed without a trained network (spin glasses, ensembles, synthetic A + sX): a
# scale with `theory: false` (networks only, e.g. mnist) leaves them to the scales that run them.
NETWORK_FREE = {k for k, stage in KINDS.items() if stage == "complexity"} | set(DENSITY_TASKS) | {
    "outlier_shift_synthetic",
    "local_law_synthetic",
}


def runs_theory(scale):
    return config["scales"][scale].get("theory", True)


def figure_names(scale):
    """The figures a scale draws: all selected ones, less (for a networks-only scale) those missing a
    record kind."""
    return [f for f in FIGURE_NAMES if runs_theory(scale) or all(record_files(scale, k) for k in FIGURES[f].reads)]


def record_files(scale, kind):
    """The stats.json files of one record kind at a scale: what figures and the ledger read."""
    if not runs_theory(scale) and kind in NETWORK_FREE:
        return []
    stage = KINDS[kind]
    if kind == "local_stats":
        return stats_files(scale)
    if kind == "global_density":
        return global_density_files(scale)
    if kind == "gan_point":
        return gan_sweep_files(scale)
    if stage == "outliers":
        return outlier_files(scale, kind)
    if stage == "optimisers":
        return optimiser_files(scale, kind)
    return [f"results/{scale}/analysis/{STAGE_DIRS[stage]}/{kind}/stats.json"]


def records_of(scale, kinds):
    """The stats.json files of several record kinds, in the order of ``kinds``."""
    return [f for kind in kinds for f in record_files(scale, kind)]


def figure_inputs(wildcards):
    return records_of(wildcards.scale, FIGURES[wildcards.fig].reads)


def claim_records(scale):
    """The records of every kind a claim reads (registry order): the ledger's and the trends' inputs."""
    read = {k for c in CLAIMS.values() for k in c.reads}
    return records_of(scale, [k for k in KINDS if k in read])


def claims_inputs(wildcards):
    return claim_records(wildcards.scale)


def gan_point_args(wildcards):
    sweeps = config["scales"][wildcards.scale]["gan_sweeps"]
    return shell_args(sweep_args(sweeps, wildcards.sweep, int(wildcards.p), int(wildcards.q), int(wildcards.i)))


def complexity_args(wildcards):
    return shell_args(config["scales"][wildcards.scale].get("complexity", {}).get(wildcards.task, []))


def trend_figures(scale, ext):
    """The trends stage's figures of a scale with `trends`: one per sweep, trend_<claim>_<k>.<ext>."""
    sweeps = config["scales"][scale].get("trends") or {}
    return [f"results/{scale}/figures/trend_{cid}_{k}.{ext}" for cid, ss in sweeps.items() for k in range(len(ss))]


def final_targets(scale):
    trends = [f"results/{scale}/trends.md"] if "trends" in config["scales"][scale] else []
    return [
        *(f"results/{scale}/figures/{fig}.{ext}" for fig in figure_names(scale) for ext in ("pdf", "png")),
        f"results/{scale}/claims.csv",
        f"results/{scale}/claims.md",
        *trends,
        "results/summary.md",
        *operator_files(scale),
    ]


# Report: each figure's caption and its group (the paper it comes from), from the registry
def figure_caption(wildcards):
    # the report renders captions as reStructuredText, where |x| would be a substitution reference;
    # a scale's `about` (what its networks were trained on) follows the figure's own caption
    about = config["scales"][wildcards.scale].get("about", "")
    return " ".join(filter(None, [FIGURES[wildcards.fig].caption, about])).replace("|", "\\|")


def figure_group(wildcards):
    return FIGURES[wildcards.fig].paper.short


# At the start of a run (not a dry run): the data sets the jobs to run read and, for jobs that ask
# for a GPU and run on this machine, a GPU; what is missing is listed with how to get it.
onstart:
    _jobs = list(workflow.dag.needrun_jobs())
    _runs = set()
    for _j in _jobs:
        if "run" in _j.wildcards.keys():
            _runs.add(_j.wildcards.run)
        elif _j.rule.name == "outliers":
            _runs.update(outlier_runs(_j.wildcards.scale, _j.wildcards.task))
    _settings = sorted({(_j.wildcards.task, _j.wildcards.setting) for _j in _jobs if _j.rule.name == "optimisers"})
    _gpu = [f"{_j.rule.name} {','.join(map(str, _j.wildcards))}" for _j in _jobs if _j.resources.get("gpu", 0)]
    check_scale_needs(config, SCALE, data_jobs(config, SCALE, sorted(_runs), _settings), _gpu,
                      workflow.local_exec, os.path.join(workflow.basedir, "config"))
