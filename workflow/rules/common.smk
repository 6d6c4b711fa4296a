import shlex
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "src"))

from rmtloss.workflow import config_digest, merge_overrides, shell_args, sweep_args, sweep_points

# Jobs run `python -m rmtloss.<stage>` with the package taken from this checkout; `python` is the
# one on PATH (activate .venv, or the rule's conda environment with --use-conda).
shell.prefix(f"set -euo pipefail; export PYTHONPATH={shlex.quote(os.path.join(workflow.basedir, 'src'))}; ")
SCALE = config["scale"]
CONFIG_DIGEST = config_digest(os.path.join(workflow.basedir, "config"))


wildcard_constraints:
    scale="smoke|quick|paper",
    run="[a-z][a-z0-9_]*",
    spec="[a-z][a-z0-9_]*",
    fig="[a-z][a-z0-9_]*",


def networks(scale):
    return config["scales"][scale]["networks"]


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
        f"batch.size={lz.get('batch_size', scale['batches']['size'])}",
        f"batch.count={scale['batches']['count']}",
        *(f"lanczos.{k}={v}" for k, v in lz.items() if k != "batch_size"),
    ]
    return shell_args(args)


def gpus(wildcards):
    return int(networks(wildcards.scale)[wildcards.run].get("gpu", False))


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


COMPLEXITY_TASKS = ("abc", "activation", "gan_spectrum", "gan_coulomb", "gan_map")
# figure -> the complexity task it draws (by default the figure name's first word)
FIGURE_TASKS = {"gan_spectrum": "gan_spectrum", "gan_coulomb": "gan_coulomb",
                "gan_complexity_map": "gan_map", "gan_banded": "gan_map"}


def complexity_files(scale, tasks=COMPLEXITY_TASKS):
    return [f"results/{scale}/analysis/spinglass/{task}/stats.json" for task in tasks]


def gan_sweep_files(scale):
    sweeps = config["scales"][scale].get("gan_sweeps")
    return [
        f"results/{scale}/analysis/spinglass/gan_sweep/{name}/p{p}_q{q}/{i}/stats.json"
        for name, p, q, i in (sweep_points(sweeps) if sweeps else [])
    ]


DENSITY_TASKS = ("product_zero_mass", "percolated_zero_mass", "ensemble_densities", "gp_model", "layered_index")


def density_files(scale, tasks=DENSITY_TASKS):
    return [f"results/{scale}/analysis/densities/{task}/stats.json" for task in tasks]


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


OUTLIER_TASKS = ("synthetic_shift", "synthetic_local_law", "network_shift", "outlier_count")
# figure -> the outliers task it draws
OUTLIER_FIGURES = {"outlier_shift_synthetic": "synthetic_shift", "local_law_damping": "synthetic_local_law",
                   "outlier_shift_network": "network_shift", "outlier_count": "outlier_count"}


def outlier_runs(scale, task):
    """Runs a network task of the outliers stage reads (network_shift: one job per network)."""
    cfg = config["scales"][scale].get("outliers", {})
    names = {"network_shift": cfg.get("networks", []), "outlier_count": cfg.get("count", [])}.get(task, [])
    unknown = [n for n in names if n not in networks(scale)]
    if unknown:
        raise ValueError(f"scales.{scale}.outliers names runs {unknown} that are not in scales.{scale}.networks")
    return names


def outlier_files(scale, tasks=OUTLIER_TASKS):
    files = []
    for task in tasks:
        if task == "network_shift":
            files += [f"results/{scale}/analysis/outliers/network_shift/{run}/stats.json"
                      for run in outlier_runs(scale, task)]
        elif task.startswith("synthetic") or outlier_runs(scale, task):
            files.append(f"results/{scale}/analysis/outliers/{task}/stats.json")
    return files


def outlier_inputs(wildcards):
    runs = [wildcards.run] if hasattr(wildcards, "run") else outlier_runs(wildcards.scale, wildcards.task)
    return [f"results/{wildcards.scale}/runs/{run}/train/checkpoint_final.pt" for run in runs]


def outliers_args(wildcards):
    task = getattr(wildcards, "task", "network_shift")
    names = [wildcards.run] if task == "network_shift" else outlier_runs(wildcards.scale, task)
    runs = [f"results/{wildcards.scale}/runs/{r}/train" for r in names]
    extra = config["scales"][wildcards.scale].get("outliers", {}).get(task, [])
    return shell_args([f"runs=[{','.join(runs)}]", *extra])


def outlier_gpus(wildcards):
    names = [wildcards.run] if hasattr(wildcards, "run") else outlier_runs(wildcards.scale, wildcards.task)
    return int(any(networks(wildcards.scale)[r].get("gpu", False) for r in names))


def figure_inputs(wildcards):
    if wildcards.fig in OUTLIER_FIGURES:
        task = OUTLIER_FIGURES[wildcards.fig]
        return outlier_files(wildcards.scale, [task, "network_shift"] if task == "synthetic_local_law" else [task])
    if wildcards.fig == "gan_sweeps":
        return gan_sweep_files(wildcards.scale)
    if wildcards.fig == "global_density_fits":
        return global_density_files(wildcards.scale)
    if wildcards.fig in DENSITY_TASKS:
        return density_files(wildcards.scale, [wildcards.fig])
    task = FIGURE_TASKS.get(wildcards.fig, wildcards.fig.split("_")[0])
    if task in COMPLEXITY_TASKS:
        return complexity_files(wildcards.scale, [task])
    return stats_files(wildcards.scale)


def gan_point_args(wildcards):
    sweeps = config["scales"][wildcards.scale]["gan_sweeps"]
    return shell_args(sweep_args(sweeps, wildcards.sweep, int(wildcards.p), int(wildcards.q), int(wildcards.i)))


def complexity_args(wildcards):
    return shell_args(config["scales"][wildcards.scale].get("complexity", {}).get(wildcards.task, []))


def final_targets(scale):
    return [
        *(f"results/{scale}/figures/{fig}.{ext}" for fig in config["figures"] for ext in ("pdf", "png")),
        f"results/{scale}/claims.csv",
        f"results/{scale}/claims.md",
        *operator_files(scale),
    ]
