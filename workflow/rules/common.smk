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


def _outlier_job_runs(wildcards):
    """The runs one outliers job reads: its {run} (outlier_shift) or its task's list (outliers)."""
    if hasattr(wildcards, "run"):
        return [wildcards.run]
    return outlier_runs(wildcards.scale, wildcards.task)


def outlier_inputs(wildcards):
    return [f"results/{wildcards.scale}/runs/{run}/train/checkpoint_final.pt" for run in _outlier_job_runs(wildcards)]


def outliers_args(wildcards):
    runs = [f"results/{wildcards.scale}/runs/{r}/train" for r in _outlier_job_runs(wildcards)]
    task = getattr(wildcards, "task", "network_shift")
    extra = config["scales"][wildcards.scale].get("outliers", {}).get(task, [])
    return shell_args([f"runs=[{','.join(runs)}]", *extra])


def outlier_gpus(wildcards):
    return int(any(networks(wildcards.scale)[r].get("gpu", False) for r in _outlier_job_runs(wildcards)))


OPTIMISER_TASKS = ("epsilon_sweep", "damping_learner", "shrinkage_noise", "exp_returns")  # = their figures


def _optimisers(scale):
    return config["scales"][scale].get("optimisers", {})


def optimiser_files(scale, tasks=OPTIMISER_TASKS):
    return [f"results/{scale}/analysis/optimisers/{task}/{setting}/stats.json"
            for task in tasks for setting in _optimisers(scale).get(task, {})]


def optimisers_args(wildcards):
    cfg = _optimisers(wildcards.scale)
    return shell_args([*cfg.get("common", []), *cfg[wildcards.task][wildcards.setting]])


def optimiser_gpus(wildcards):
    return int(wildcards.setting in _optimisers(wildcards.scale).get("gpu", []))


def figure_inputs(wildcards):
    if wildcards.fig in OPTIMISER_TASKS:
        return optimiser_files(wildcards.scale, [wildcards.fig])
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


# Report: each figure's caption and its group (the paper it comes from)
FIGURE_CAPTIONS = {
    "spacing_ratios": "Spacing ratios of exact batch Hessian and GGN spectra against the GOE and Poisson laws, "
    "with the mean of r~ per spectrum set (Appearance of RMT in deep learning).",
    "unfolded_spacings": "Unfolded nearest-neighbour spacings (pooled unfolding) against the Wigner surmise and "
    "the exponential law.",
    "zero_mass": "Share of (near-)zero Hessian eigenvalues per network, trained and at initialisation.",
    "abc_complexity": "Annealed complexity of the spherical p-spin glass, total and per index k "
    "(Auffinger, Ben Arous, Cerny).",
    "abc_thresholds": "Energy thresholds E_k of critical points of index k against k, with E_inf.",
    "abc_finite_n": "Exact finite-N expected numbers of critical points against the Kac-Rice Monte Carlo.",
    "activation_prefactor": "Sharp factor abs(1 - theta g(x)) of the rank-one deformation of the general-activation "
    "model, formula against Monte Carlo determinant ratios.",
    "gan_spectrum": "Limiting spectral density of the two-spin-glass GAN Kac-Rice matrix against sampled spectra.",
    "gan_coulomb": "Log-potential of the GAN density against sampled log-determinants.",
    "gan_complexity_map": "Complexity of the GAN model over the two losses (discriminator and generator).",
    "gan_banded": "Index-resolved complexity bands of the GAN model.",
    "gan_sweeps": "GAN complexity thresholds against sigma_z and kappa.",
    "global_density_fits": "Global Hessian densities with their best semicircle, Marchenko-Pastur, product and "
    "percolated fits (Granziol, Beyond RMT).",
    "product_zero_mass": "Zero atom of Wishart products against 1 - min(N_i)/N_0.",
    "percolated_zero_mass": "Zero atom of diluted Wigner matrices against the Bauer-Golinelli formula.",
    "ensemble_densities": "Sampled spectral densities of product and percolated ensembles.",
    "gp_model": "GP Hessian model: global density and spacing ratios over the authors' settings.",
    "layered_index": "Index fraction of critical points against energy under the semicircle, a product and a "
    "percolated law.",
    "outlier_shift_synthetic": "Outliers of A + sX against omega(lambda) = theta and BBP, for GOE, +-1, sparse and "
    "diagonal noise (Universal characteristics).",
    "outlier_shift_network": "Top batch-Hessian eigenvalues against 1/b - 1/N with fitted and predicted slopes, "
    "and the noise variance from batch Hessian-vector products.",
    "outlier_count": "Outliers above the fitted bulk edge against the number of classes, Hessian and GGN.",
    "local_law_damping": "Damped-inverse quadratic forms: deterministic equivalent (A + delta_eff)^-1 and naive "
    "(A + delta)^-1 against the empirical mean.",
    "epsilon_sweep": "Final test error of Adam against epsilon (learning rate x (1 + epsilon): damping as "
    "shrinkage) with tuned SGD's band, mean +- s.e. over seeds (left), and the mean test error during training "
    "for each epsilon and SGD's reference learning rate (right) (Granziol & Baskerville, damping).",
    "damping_learner": "RMT damping learner started from delta_min over four decades against fixed-epsilon Adam "
    "at the same values: final test error and the learned delta_t.",
    "shrinkage_noise": "Noisy quadratic model: displacement along the flattest against the sharpest directions "
    "and the true loss after T steps, against the damping.",
    "exp_returns": "Best test error against the training budget with the fit a + b exp(c t) (diminishing "
    "returns).",
}
FIGURE_GROUPS = {
    **dict.fromkeys(["spacing_ratios", "unfolded_spacings", "zero_mass", "gp_model"], "Appearance of RMT"),
    **dict.fromkeys(["abc_complexity", "abc_thresholds", "abc_finite_n"], "Spherical p-spin"),
    "activation_prefactor": "General activations",
    **dict.fromkeys(["gan_spectrum", "gan_coulomb", "gan_complexity_map", "gan_banded", "gan_sweeps"], "GAN"),
    **dict.fromkeys(["global_density_fits", "product_zero_mass", "percolated_zero_mass", "ensemble_densities",
                     "layered_index"], "Beyond RMT"),
    **dict.fromkeys(["outlier_shift_synthetic", "outlier_shift_network", "outlier_count", "local_law_damping"],
                    "Universal characteristics"),
    **dict.fromkeys(["epsilon_sweep", "damping_learner", "shrinkage_noise"], "Damping"),
    "exp_returns": "Appearance of RMT",
}
