"""Helpers the Snakemake rules call: Hydra override lists, shell quoting, config digests, and the
checks of the workflow config made when the Snakefile is parsed (schema, run ids, every stage
command line composed against the stage schemas)."""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def override_key(override: str) -> str:
    """The key an override sets: ``optimizer.lr`` for ``optimizer.lr=0.1`` (or ``+``/``~`` forms)."""
    key, sep, _ = override.partition("=")
    if not sep:
        raise ValueError(f"override '{override}' is not of the form key=value")
    return key.lstrip("+~")


def merge_overrides(*lists: Iterable[str]) -> list[str]:
    """Concatenate override lists; a later value of a key replaces an earlier one in place.

    Hydra refuses the same key twice on one command line, so the grid's overrides and a user's
    ``--config overrides=...`` are merged here.
    """
    merged: dict[str, str] = {}
    for overrides in lists:
        for ov in overrides:
            merged[override_key(ov)] = ov
    return list(merged.values())


def hydra_string(key: str, text: str) -> str:
    """``key="text"``: a Hydra override whose value is ``text`` as one quoted string (spaces, commas,
    brackets and quotes kept)."""
    # Hydra's quoted strings: a backslash escapes only a quote or the backslashes before one
    escaped = re.sub(r'(\\+)(?="|$)', lambda m: m[1] * 2, " ".join(text.split())).replace('"', '\\"')
    return f'{key}="{escaped}"'


def shell_args(overrides: Iterable[str]) -> str:
    """Quote overrides for a shell command line (``[`` and ``,`` would otherwise be globbed)."""
    return " ".join(shlex.quote(str(ov)) for ov in overrides)


def config_digest(config_dir: str | Path, exclude: Iterable[str] = ("config.yaml",)) -> str:
    """SHA-256 (first 12 hex digits) of the Hydra config files, so that editing one re-runs jobs."""
    root = Path(config_dir)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        if path.relative_to(root).as_posix() in set(exclude):
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def sweep_values(spec: dict) -> list[float]:
    """The values of one GAN sweep: ``linspace(start, stop, num)``, or ``10**`` of it when ``log``."""
    num, start, stop = int(spec["num"]), float(spec["start"]), float(spec["stop"])
    grid = [start + (stop - start) * i / (num - 1) for i in range(num)] if num > 1 else [start]
    return [float(10**v) if spec["log"] else v for v in grid]


def sweep_points(sweeps: dict) -> list[tuple[str, int, int, int]]:
    """Every (sweep, p, q, index) job of a scale's ``gan_sweeps`` block."""
    return [(name, int(p), int(q), i)
            for name, spec in sweeps.items() if name != "grid"
            for p, q in spec["pq"]
            for i in range(int(spec["num"]))]


def sweep_args(sweeps: dict, name: str, p: int, q: int, index: int) -> list[str]:
    """Hydra overrides of the complexity stage for one sweep point (``task=gan_point``)."""
    spec = sweeps[name]
    values = sweep_values(spec)
    if not 0 <= index < len(values):
        raise ValueError(f"sweep {name} has {len(values)} values; index {index} is out of range")
    return merge_overrides(sweeps["grid"], spec.get("fixed", []),
                           [f"gan.p={p}", f"gan.q={q}", f"gan.{name}={values[index]!r}", f"gan.sweep={name}"])


# -- derived scales: another scale's grid with other settings ------------------------------------


def _append(base: Any, extra: Any, where: str) -> Any:
    """``base`` with the override lists of ``extra`` appended at the same places (a list the base
    lacks is added: a task it leaves at its defaults); a ``"*"`` key of ``extra`` stands for every
    key of ``base`` at that level holding the same kind of value (a list of overrides or a mapping),
    so ``{"*": {"train": [...]}}`` reaches every network's ``train`` list."""
    if isinstance(extra, list):
        if not isinstance(base, list):
            raise WorkflowConfigError(f"config {where}: append gives a list of overrides where the base "
                                      f"scale has {type(base).__name__}")
        return [*base, *extra]
    if not isinstance(base, dict) or not isinstance(extra, dict):
        raise WorkflowConfigError(f"config {where}: append gives a mapping where the base scale has "
                                  f"{type(base).__name__}")
    out = dict(base)
    for key, value in extra.items():
        if key == "*":
            kind = list if isinstance(value, list) else dict
            for name in [k for k, v in out.items() if isinstance(v, kind)]:
                out[name] = _append(out[name], value, f"{where}.{name}")
        elif key not in out and isinstance(value, list):
            out[key] = list(value)  # overrides of a task the base leaves at its defaults
        elif key not in out:
            raise WorkflowConfigError(f"config {where}: append names '{key}', which the base scale lacks"
                                      f"{_nearest(str(key), out)} (keys: {', '.join(map(str, out))})")
        else:
            out[key] = _append(out[key], value, f"{where}.{key}")
    return out


def _drop(scale: dict, path: str, where: str, full: str | None = None) -> dict:
    """``scale`` without the entry at the dotted ``path``, or the item of a list its last part names
    (``networks.mnist_mlp.spectra.hessian_init``); a copy along the path."""
    head, _, rest = path.partition(".")
    if not isinstance(scale, dict) or head not in scale:
        known = list(scale) if isinstance(scale, dict) else []
        raise WorkflowConfigError(f"config {where}: '{full or path}' names no entry of the base scale"
                                  f"{_nearest(head, known)}")
    if not rest:
        return {k: v for k, v in scale.items() if k != head}
    if isinstance(scale[head], list):  # an item of a list: a spectrum kind, an outlier network
        if rest not in scale[head]:
            raise WorkflowConfigError(f"config {where}: '{full or path}': {head} has no item '{rest}' "
                                      f"(items: {', '.join(map(str, scale[head]))})")
        return {**scale, head: [item for item in scale[head] if item != rest]}
    return {**scale, head: _drop(scale[head], rest, where, full or path)}


def shape_data_dir(scale: str) -> str:
    """Where a scale with ``shape_data`` keeps its generated MNIST/CIFAR files (rule shape_data)."""
    return f"results/{scale}/data"


def _with_shape_data(overrides: list[str], scale: str, default: str, before: list[str] = ()) -> list[str]:
    """A job's overrides (after ``before``, the common ones), reading its torchvision data set, if it
    has one, from the scale's generated files."""
    from rmtloss.nets.catalog import TORCHVISION

    if _setting([*before, *overrides], "data", default) not in TORCHVISION:
        return overrides
    return [*overrides, f"data.data_dir={shape_data_dir(scale)}", "data.check_integrity=false"]


def derive_scales(config: dict, config_dir: str | Path) -> None:
    """Resolve, in place, every scale that ``extends`` another: the base scale's entries, replaced
    by the derived scale's own entries (``batches``, ``lanczos``, ``complexity``, ...), then its
    ``append`` (override lists added after the base's, see :func:`_append`; the last value of a key
    wins); ``drop`` lists dotted paths of entries or list items left out
    (``optimisers.damping_learner.x``, ``outliers.networks.y``).
    ``cpu: true`` drops the base's GPU requests (``gpu`` of networks and optimiser
    settings). With ``shape_data``, every training run and optimiser setting that reads a
    torchvision data set reads the generated files of :func:`shape_data_dir` instead.

    Raises:
        WorkflowConfigError: an unknown base scale, a chain of derivations, or an ``append`` path the
            base lacks.
    """
    scales = config.get("scales") or {}
    for name, spec in list(scales.items()):
        if not isinstance(spec, dict) or "extends" not in spec:
            continue
        base_name = spec["extends"]
        base = scales.get(base_name)
        if not isinstance(base, dict) or "extends" in base:
            raise WorkflowConfigError(f"config scales.{name}.extends: '{base_name}' is not a scale of its own"
                                      f"{_nearest(str(base_name), [s for s in scales if s != name])}")
        own = {k: v for k, v in spec.items() if k not in ("extends", "append", "cpu", "drop")}
        scale = _append({**base, **own}, spec.get("append") or {}, f"scales.{name}.append")
        for path in spec.get("drop") or []:
            scale = _drop(scale, path, f"scales.{name}.drop")
        if spec.get("cpu", False):
            scale["networks"] = {r: {k: v for k, v in net.items() if k != "gpu"}
                                 for r, net in scale["networks"].items()}
            scale["optimisers"] = {k: v for k, v in (scale.get("optimisers") or {}).items() if k != "gpu"}
        if "shape_data" in scale:
            scale = _shape_data_scale(scale, name, Path(config_dir))
        scales[name] = scale


def _shape_data_scale(scale: dict, name: str, config_dir: Path) -> dict:
    """A scale whose torchvision runs and optimiser settings read the generated files."""
    train = _default_of(config_dir / "train.yaml", "data")
    opt_data = _default_of(config_dir / "optimisers.yaml", "data")
    nets = {r: {**net, "train": _with_shape_data(net["train"], name, train)}
            for r, net in scale["networks"].items()}
    opt = dict(scale.get("optimisers") or {})
    common = opt.get("common") or []
    for task in [t for t in opt if t not in ("common", "gpu")]:
        opt[task] = {s: _with_shape_data(ovs, name, opt_data, common) for s, ovs in opt[task].items()}
    return {**scale, "networks": nets, "optimisers": opt}


def _default_of(path: Path, group: str) -> str:
    """The default option of a config group in a stage's primary config (its defaults list)."""
    defaults = yaml.safe_load(path.read_text())["defaults"]
    return next(d[group] for d in defaults if isinstance(d, dict) and group in d)


# -- checking the workflow config before the DAG runs ---------------------------------------------


class WorkflowConfigError(ValueError):
    """A bad workflow setting: the message names the key, what was expected and how to fix it."""


def _nearest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_config(config: dict, schema: dict) -> None:
    """Validate the workflow config against its JSON schema, with a short message.

    Raises:
        WorkflowConfigError: the first error, naming the key (as a dotted path), what the schema
            expects, the nearest valid key of a misspelt one, and how to pass nested values.
    """
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    where = ".".join(str(p) for p in error.absolute_path) or "the top level"
    if error.validator == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in known]
        raise WorkflowConfigError(f"config: unknown key '{extra[0]}' at {where}{_nearest(extra[0], known)} "
                                  f"(valid keys: {', '.join(known)})")
    hint = ""
    if error.validator == "type" and isinstance(error.instance, str):
        hint = (" (a nested --config value arrives as a string: put nested settings in a YAML file and "
                "pass it with --configfile, see README)")
    if error.validator == "enum":
        hint = f"{_nearest(str(error.instance), error.validator_value)}"
    raise WorkflowConfigError(f"config {where}: {error.message}{hint}")


def tagged_scale(config: dict) -> str:
    """The name of the results folder this run writes: the scale, or ``<scale>-<tag>`` with a ``tag``.

    A tag makes a variant beside the baseline: a copy of the scale's entries registered in place under
    ``<scale>-<tag>`` (so ``results/<scale>-<tag>/`` holds its own runs, records, figures and ledger,
    and the baseline's ``results/<scale>/`` is left as it was). The ``overrides`` then change the
    variant only.

    Raises:
        WorkflowConfigError: the tagged name is a scale of its own already.
    """
    scale, tag = config["scale"], config.get("tag") or ""
    if not tag:
        return scale
    name = f"{scale}-{tag}"
    if name in config["scales"]:
        raise WorkflowConfigError(f"config tag: '{name}' is a scale of config/config.yaml already; "
                                  "choose another tag")
    config["scales"][name] = copy.deepcopy(config["scales"][scale])
    return name


def check_run_ids(config: dict, scale: str) -> None:
    """Every run id in ``overrides`` is a network of the scale (a misspelt one would be ignored)."""
    runs = config["scales"][scale]["networks"]
    for run in config.get("overrides") or {}:
        if run not in runs:
            raise WorkflowConfigError(f"config overrides: '{run}' is not a run of scale {scale}"
                                      f"{_nearest(run, runs)} (runs: {', '.join(runs)})")


def stage_jobs(config: dict, scale: str) -> list[tuple[str, str, list[str]]]:
    """Each Hydra command line the workflow builds from settings a user writes, as (where in the
    config, stage config name, overrides): training runs with their ``overrides``, the complexity,
    densities and outliers tasks, one point of each GAN sweep, every optimiser setting."""
    sc, user = config["scales"][scale], config.get("overrides") or {}
    jobs = [(f"scales.{scale}.networks.{run}" + (f" with overrides.{run}" if run in user else ""), "train",
             merge_overrides(net["train"], user.get(run, []))) for run, net in sc["networks"].items()]
    for stage in ("complexity", "densities", "outliers"):
        jobs += [(f"scales.{scale}.{stage}.{task}", stage, [f"task={task}", *ovs])
                 for task, ovs in (sc.get(stage) or {}).items() if task not in ("networks", "count")]
    sweeps = sc.get("gan_sweeps")
    for name in [n for n in (sweeps or {}) if n != "grid"]:
        p, q = sweeps[name]["pq"][0]
        jobs.append((f"scales.{scale}.gan_sweeps.{name}", "complexity",
                     ["task=gan_point", *sweep_args(sweeps, name, p, q, 0)]))
    opt = sc.get("optimisers") or {}
    for task, settings in opt.items():
        if task in ("common", "gpu"):
            continue
        jobs += [(f"scales.{scale}.optimisers.{task}.{name}", "optimisers",
                  merge_overrides(opt.get("common", []), ovs, [f"task={task}", f"setting={name}"]))
                 for name, ovs in settings.items()]
    return jobs


def _misspelt_key(base: Any, overrides: list[str]) -> str:
    """The first dotted override key that ``base`` (a composed config) lacks, with the nearest key."""
    for ov in overrides:
        key = override_key(ov)
        if ov.startswith("+") or "." not in key:
            continue
        node: Any = base
        for part in key.split("."):
            if not hasattr(node, "keys") or part not in node:
                choices = list(node.keys()) if hasattr(node, "keys") else []
                return f" (key '{key}'{_nearest(part, choices)})"
            node = node[part]
    return ""


def check_stage_overrides(config: dict, scale: str, config_dir: str | Path) -> int:
    """Compose every command line of :func:`stage_jobs` against the stage configs and their
    schemas (types and ranges), before any job runs. Returns the number of compositions.

    Raises:
        WorkflowConfigError: naming the place in the workflow config, the bad override and, for a
            misspelt key, the nearest valid one.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from rmtloss import schema
    from rmtloss.errors import ConfigError

    schema.register()
    jobs = stage_jobs(config, scale)
    with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base="1.3"):
        for where, name, overrides in jobs:
            try:
                cfg = compose(name, overrides)
                schema.check(cfg)
            except (HydraException, OmegaConfBaseException, ConfigError) as exc:
                groups = [ov for ov in overrides if "." not in override_key(ov)]
                try:
                    hint = _misspelt_key(compose(name, groups), overrides)
                except (HydraException, OmegaConfBaseException):
                    hint = ""
                if missing := re.search(r"Could not find '(\w+)/(\w+)'", str(exc)):
                    group, option = missing.groups()
                    options = sorted(p.stem for p in (Path(config_dir) / group).glob("*.yaml"))
                    hint = f" ({group}={option}{_nearest(option, options)} options: {', '.join(options)})"
                lines = [" ".join(ln.split()) for ln in str(exc).splitlines() if ln.strip()][:2]
                raise WorkflowConfigError(f"config {where}: the {name} stage refuses its overrides{hint}: "
                                          f"{'; '.join(lines)[:400]}") from None
            if name == "train" and int(cfg.train.epochs) < 1:
                raise WorkflowConfigError(
                    f"config {where}: train.epochs={cfg.train.epochs} trains nothing, yet the spectra and "
                    "the ledger would take its 'final' checkpoint for a trained network; give it 1 epoch "
                    "or more (the initial weights are the 'init' checkpoint of every run)")
    return len(jobs)


def readable_yaml(path: str | Path) -> str:
    """``path`` if it parses as YAML; else a one-line error naming the file, line and column (Snakemake's
    own message for a bad config file names neither)."""
    try:
        with open(path) as fh:
            yaml.safe_load(fh)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "an unknown place"
        raise WorkflowConfigError(f"{path}: not valid YAML at {where}: {exc.problem} "
                                  f"({exc.context or 'fix it and run again'})") from None
    except yaml.YAMLError as exc:
        raise WorkflowConfigError(f"{path}: not valid YAML: {exc}") from None
    return str(path)


def check_stage_overrides_once(config: dict, scale: str, config_dir: str | Path,
                               cache_dir: str | Path) -> bool:
    """:func:`check_stage_overrides`, skipped when the same workflow config, stage configs and
    checking code passed before (a stamp in ``cache_dir``, normally ``.snakemake/``). Returns
    whether it composed."""
    h = hashlib.sha256(json.dumps([config, scale], sort_keys=True, default=str).encode())
    h.update(config_digest(config_dir).encode())
    for module in ("schema.py", "workflow.py"):
        h.update((Path(__file__).parent / module).read_bytes())
    stamp = Path(cache_dir) / "rmtloss_config_checked" / h.hexdigest()[:20]
    if stamp.is_file():
        return False
    check_stage_overrides(config, scale, config_dir)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    return True


def _setting(overrides: list[str], key: str, default: Any) -> Any:
    """The value the last override of ``key`` gives, else ``default``."""
    values = [ov.partition("=")[2] for ov in overrides if override_key(ov) == key]
    return yaml.safe_load(values[-1]) if values else default


def data_jobs(config: dict, scale: str, runs: Iterable[str], settings: Iterable[tuple[str, str]]
              ) -> list[tuple[str, list[str]]]:
    """(label, Hydra overrides) of the jobs that read a data set: training runs and what analyses
    them (by run id) and optimiser settings (by (task, setting))."""
    sc, user = config["scales"][scale], config.get("overrides") or {}
    opt = sc.get("optimisers") or {}
    return ([(f"run {run}", merge_overrides(sc["networks"][run]["train"], user.get(run, []))) for run in runs]
            + [(f"optimisers {task}/{name}", merge_overrides(opt.get("common", []), opt[task][name]))
               for task, name in settings])


def missing_data(jobs: Iterable[tuple[str, list[str]]], config_dir: str | Path,
                 generated: Iterable[str] = ()) -> list[str]:
    """The torchvision data sets these jobs would read and cannot find: absent from their
    ``data_dir`` (relative to the working directory) without ``data.download=true``, unless that
    folder is one the workflow writes (``generated``: rule shape_data's)."""
    from rmtloss.nets.catalog import TORCHVISION, missing_folder

    default, generated = _default_of(Path(config_dir) / "train.yaml", "data"), set(generated)
    missing = []
    for label, ovs in jobs:
        name = _setting(ovs, "data", default)
        if name not in TORCHVISION:
            continue
        group = yaml.safe_load((Path(config_dir) / "data" / f"{name}.yaml").read_text())
        data_dir = str(_setting(ovs, "data.data_dir", group.get("data_dir", "data")))
        if data_dir in generated:
            continue
        download = bool(_setting(ovs, "data.download", group.get("download", False)))
        folder = missing_folder(name, data_dir, download)
        if folder is not None:
            missing.append(f"{label}: {name} ({TORCHVISION[name][0]}) not in {folder.resolve()}")
    return missing


def gpu_available() -> bool:
    """Whether this machine shows an NVIDIA GPU (``nvidia-smi -L``), without importing torch."""
    import shutil
    import subprocess

    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    proc = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30, check=False)
    return proc.returncode == 0 and "GPU" in proc.stdout


def check_scale_needs(config: dict, scale: str, jobs: list[tuple[str, list[str]]], gpu_jobs: list[str],
                      local: bool, config_dir: str | Path) -> None:
    """Before a run starts: the data sets its jobs read (:func:`data_jobs`), and a GPU for jobs
    that ask for one when they run on this machine (``allow_cpu: true`` runs them on the CPU).

    Raises:
        WorkflowConfigError: listing what is missing and how to get it.
    """
    generated = [shape_data_dir(scale)] if "shape_data" in config["scales"][scale] else []
    problems = missing_data(jobs, config_dir, generated)
    if problems:
        problems.append("fetch them once on a machine with internet access (python -m rmtloss.train "
                        "data=<name> data.download=true train.epochs=0 hydra.run.dir=/tmp/fetch), or copy "
                        "torchvision's folders into data/ (see README, Scales)")
    if gpu_jobs and local and not config.get("allow_cpu", False) and not gpu_available():
        problems.append(f"{len(gpu_jobs)} jobs ask for a GPU ({', '.join(gpu_jobs[:3])}"
                        f"{', ...' if len(gpu_jobs) > 3 else ''}) and this machine has none: run on a GPU "
                        "machine or a cluster (--profile profiles/slurm), or add --config allow_cpu=true "
                        "to run them on the CPU (slow)")
    if problems:
        raise WorkflowConfigError(f"scale {scale} cannot start:\n  " + "\n  ".join(problems))


def report_ledger_html(scale: str) -> str:
    """The ledger of ``results/<scale>/claims.csv`` as one line of HTML for the report's first page
    (:func:`rmtloss.ledger.to_html`), or a line saying there is none yet (or why it cannot be read)."""
    from rmtloss.ledger import read_csv, to_html

    path = Path(f"results/{scale}/claims.csv")
    if not path.is_file():
        return (f"<p>No claims ledger yet at scale <code>{scale}</code>: run the workflow, then the "
                "report.</p>")
    try:
        return to_html(read_csv(str(path)), scale, f"results/{scale}/figures/{{figure}}.png")
    except (OSError, ValueError, TypeError) as exc:
        return (f"<p>The claims ledger {path} could not be read ({type(exc).__name__}); re-run rule "
                "claims.</p>")
