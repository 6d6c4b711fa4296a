"""Typed structured configs: the schema of every stage's Hydra config, with range checks.

Each YAML file in ``config/`` names its schema first in its defaults list (``train_schema``,
``model/mlp_schema``...). Hydra merges the YAML onto the dataclass, so that

* an **unknown key** (``train.epchs=3``) and a **wrong type** (``train.epochs=abc``) stop the stage
  at composition, before it runs, with OmegaConf's message naming the ``full_key``;
* a value **out of range** stops it in :func:`check`, before any work, with a
  :class:`~rmtloss.errors.ConfigError` naming the dotted key, the allowed range and the value.

The schemas hold types and ranges only: every value (and its comment) lives in the YAML, so a
field is ``MISSING`` here and a YAML that forgets a key fails loudly. Task names, figure names,
model and data set names are checked by the stages against their own registries.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue

from rmtloss.errors import ConfigError


@dataclass(frozen=True)
class Range:
    """Allowed values of a setting (of each element, for a list); ``None`` bounds are open."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[str, ...] | None = None

    def violation(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or ``None`` if it is."""
        if value is None:
            return None
        if self.choices is not None:
            return None if value in self.choices else f"must be one of {', '.join(self.choices)}"
        for bound, ok, word in ((self.ge, operator.ge, ">="), (self.gt, operator.gt, ">"),
                                (self.le, operator.le, "<="), (self.lt, operator.lt, "<")):
            if bound is not None and not ok(value, bound):
                return f"must be {word} {bound}"
        return None


def entry(*, ge: float | None = None, gt: float | None = None, le: float | None = None,
          lt: float | None = None, choices: Sequence[str] | None = None, default: Any = MISSING) -> Any:
    """A schema field with an optional :class:`Range`; its value comes from the YAML (``MISSING``)
    unless the key is optional there and has a ``default``."""
    rng = Range(ge, gt, le, lt, tuple(choices) if choices is not None else None)
    return field(default=default, metadata={"range": rng})


def section(cls: type) -> Any:
    """A nested schema field (a sub-section of the YAML)."""
    return field(default_factory=cls)


def check(cfg: DictConfig, prefix: str = "") -> None:
    """Raise :class:`ConfigError` for the first value outside its schema's :class:`Range`.

    Walks ``cfg`` (and its nested sections and list items) using the dataclass each node was
    built from, so group options (``model``, ``data``, ``optimizer``) are checked against the
    schema of the option chosen.
    """
    schema = OmegaConf.get_type(cfg)
    if not is_dataclass(schema):
        return
    for f in fields(schema):
        key = f"{prefix}{f.name}"
        try:
            value = cfg[f.name]
        except (MissingMandatoryValue, InterpolationToMissingValueError):
            continue  # mandatory values (???) are reported by OmegaConf when the stage reads them
        rng = f.metadata.get("range")
        is_list = isinstance(value, ListConfig)
        for item in value if is_list else [value]:
            if isinstance(item, DictConfig):
                check(item, f"{key}.")
            elif rng is not None and (why := rng.violation(item)) is not None:
                shown = OmegaConf.to_container(value) if is_list else value
                raise ConfigError(key, f"{'each value ' if is_list else ''}{why} (got {shown!r})")


# -- config groups -----------------------------------------------------------------------------
@dataclass
class MLPModel:
    """Fully connected networks and the small CNN: ``hidden`` widths (channels for ``cnn``)."""

    name: str = entry()
    hidden: list[int] = entry(ge=1)


@dataclass
class LeNetModel:
    name: str = entry()


@dataclass
class VGGModel:
    name: str = entry()
    dropout: float = entry(ge=0.0, lt=1.0)


@dataclass
class PreResNetModel:
    name: str = entry()
    depth: int = entry(ge=8)
    width: int = entry(ge=1)


@dataclass
class TorchvisionData:
    """MNIST, Fashion-MNIST, CIFAR-10/100 read by torchvision from ``data_dir``."""

    name: str = entry()
    data_dir: str = entry()
    download: bool = entry()
    check_integrity: bool = entry()


@dataclass
class SklearnData:
    """The data sets shipped with scikit-learn (digits, diabetes)."""

    name: str = entry()
    test_size: int = entry(ge=1)
    split_seed: int = entry()
    standardise: bool = entry()


@dataclass
class MixtureData(SklearnData):
    """A seeded Gaussian mixture."""

    classes: int = entry(ge=2)
    dim: int = entry(ge=1)
    samples: int = entry(ge=4)
    separation: float = entry(ge=0.0)
    seed: int = entry()


@dataclass
class SGDOptimizer:
    name: str = entry()
    lr: float = entry(gt=0.0)
    momentum: float = entry(ge=0.0, lt=1.0)
    weight_decay: float = entry(ge=0.0)


@dataclass
class DampingLearnerSettings:
    enabled: bool = entry()
    every: int = entry(ge=1)
    stats_samples: int = entry(ge=2)
    stats_batch: int = entry(ge=1)
    decay: float = entry(ge=0.0, lt=1.0)
    seed: int = entry()
    variant: str = entry(choices=("gap", "shrinkage"))
    alpha_min: float = entry(gt=0.0, lt=1.0)
    compile: bool = entry()


@dataclass
class AdamOptimizer:
    name: str = entry()
    lr: float = entry(gt=0.0)
    betas: list[float] = entry(ge=0.0, lt=1.0)
    eps: float = entry(ge=0.0)
    weight_decay: float = entry(ge=0.0)
    shrinkage: bool = entry()
    learner: DampingLearnerSettings = section(DampingLearnerSettings)


@dataclass
class KFACOptimizer:
    name: str = entry()
    lr: float = entry(gt=0.0)
    momentum: float = entry(ge=0.0, lt=1.0)
    weight_decay: float = entry(ge=0.0)
    damping: float = entry(gt=0.0)
    stat_decay: float = entry(ge=0.0, lt=1.0)
    kl_clip: float = entry(ge=0.0)
    cov_every: int = entry(ge=1)
    inv_every: int = entry(ge=1)
    fisher: str = entry(choices=("mc", "type-2", "empirical"))
    shrinkage: bool = entry()
    seed: int = entry()
    learner: DampingLearnerSettings = section(DampingLearnerSettings)


# -- stages --------------------------------------------------------------------------------------
@dataclass
class TrainSettings:
    epochs: int = entry(ge=0)
    batch_size: int = entry(ge=1)
    schedule: str = entry(choices=("linear", "constant"))
    seed: int = entry()
    checkpoint_every: int = entry(ge=0)
    resume: bool = entry()
    on_divergence: str = entry(choices=("record", "stop"))


@dataclass
class TrainConfig:
    model: Any = MISSING
    data: Any = MISSING
    optimizer: Any = MISSING
    train: TrainSettings = section(TrainSettings)
    device: str = entry()


@dataclass
class SpectraBatch:
    size: int = entry(ge=1)
    count: int = entry(ge=1)
    full: bool = entry()
    seed: int = entry()


@dataclass
class SpectraLanczos:
    num_steps: int = entry(ge=1)
    num_probes: int = entry(ge=1)
    k: int = entry(ge=1)
    which: str = entry(choices=("LA", "SA", "LM"))
    tol: float = entry(gt=0.0)
    seed: int = entry()


@dataclass
class SpectraConfig:
    run_dir: str = entry()
    run_name: str = entry()
    checkpoint: str = entry(choices=("init", "final"))
    matrix: str = entry(choices=("hessian", "ggn"))
    method: str = entry(choices=("exact", "lanczos", "slq", "topk"))
    split: str = entry(choices=("train", "test"))
    batch: SpectraBatch = section(SpectraBatch)
    chunk_size: int | None = entry(ge=1)
    dtype: str = entry(choices=("float32", "float64"))
    bn_mode: str = entry(choices=("eval", "train"))
    hvp: str = entry(choices=("forward", "reverse"))
    compile: str = entry(choices=("auto", "True", "False"))  # a YAML / Hydra bool arrives as "True" / "False"
    lanczos: SpectraLanczos = section(SpectraLanczos)
    device: str = entry()


@dataclass
class Bootstrap:
    level: float = entry(gt=0.0, lt=1.0)
    n_boot: int = entry(ge=10)
    seed: int = entry()


@dataclass
class Cutoffs:
    low_exp: float = entry()
    high_exp: float = entry(le=0.0)
    num: int = entry(ge=2)


@dataclass
class AnalysisConfig:
    task: str = entry()
    spectrum: str = entry()
    zero_cut: float | None = entry(ge=0.0)
    unfold_fraction: float = entry(gt=0.0, lt=1.0)
    unfold_trim: float = entry(ge=0.0, lt=0.5)
    bootstrap: Bootstrap = section(Bootstrap)
    cutoffs: Cutoffs = section(Cutoffs)
    control_seed: int = entry()


@dataclass
class ClaimsConfig:
    scale: str = entry()
    inputs: list[str] = entry()
    out: str = entry()
    about: str = entry()


@dataclass
class TrendsConfig:
    scale: str = entry()
    inputs: list[str] = entry()
    sweeps: str = entry()
    out: str = entry()


@dataclass
class FiguresConfig:
    figure: str = entry()
    inputs: list[str] = entry()
    out: str = entry()


@dataclass
class DiagnoseBatch:
    size: int = entry(ge=1)
    count: int = entry(ge=2)


@dataclass
class DiagnoseLanczos:
    num_steps: int = entry(ge=2)
    num_probes: int = entry(ge=1)
    tol: float = entry(gt=0.0)


@dataclass
class DiagnoseConfig:
    model: Any = MISSING
    data: Any = MISSING
    run_dir: str | None = entry()
    weights: str | None = entry()
    name: str = entry()
    checkpoint: str = entry(choices=("init", "final"))
    init: bool = entry()
    seed: int = entry()
    exact_max_params: int = entry(ge=1)
    memory_gb: float = entry(gt=0.0)
    chunk_size: int | None = entry(ge=1)
    full_batch_size: int = entry(ge=1)
    batch: DiagnoseBatch = section(DiagnoseBatch)
    lanczos: DiagnoseLanczos = section(DiagnoseLanczos)
    device: str = entry()


@dataclass
class Thresholds:
    p: list[int] = entry(ge=3)
    k_max: int = entry(ge=0)


@dataclass
class Curves:
    k_max: int = entry(ge=0)


@dataclass
class MonteCarlo:
    samples: int = entry(ge=16)
    seed: int = entry()


@dataclass
class ActivationSettings:
    thetas: list[float] = entry()
    mc_energies: list[float] = entry()
    pieces: list[int] = entry(ge=2)
    n: int = entry(ge=2)
    samples: int = entry(ge=2)
    seed: int = entry()


@dataclass
class GanSpectrum:
    x1: list[float] = entry()
    kappa: float = entry(gt=0.0, lt=1.0)
    b: float = entry(gt=0.0)
    b1: float = entry(gt=0.0)
    n: int = entry(ge=2)
    samples: int = entry(ge=1)
    bins: int = entry(ge=2)
    seed: int = entry()


@dataclass
class GanCoulomb:
    x1: list[float] = entry()
    x_min: float = entry()
    x_max: float = entry()
    num_x: int = entry(ge=2)
    far: float = entry(ge=0.0)
    away: float = entry(ge=0.0)
    n: int = entry(ge=2)
    samples: int = entry(ge=1)
    seed: int = entry()


@dataclass
class GanGrid:
    x_min: float = entry()
    x_max: float | None = entry()
    num_x: int = entry(ge=2)
    x1_min: float = entry()
    x1_max: float = entry()
    num_x1: int = entry(ge=2)


@dataclass
class GanU:
    d_min: float = entry()
    d_max: float = entry()
    num_d: int = entry(ge=2)
    num_g: int = entry(ge=2)


@dataclass
class GanSettings:
    p: int = entry(ge=2)
    q: int = entry(ge=2)
    sigma_z: float = entry(gt=0.0)
    kappa: float = entry(gt=0.0, lt=1.0)
    lsd: str = entry()
    nodes: int = entry(ge=128)
    spectrum: GanSpectrum = section(GanSpectrum)
    coulomb: GanCoulomb = section(GanCoulomb)
    grid: GanGrid = section(GanGrid)
    u: GanU = section(GanU)
    k_max: int = entry(ge=0)
    refine: float = entry(ge=1.0)
    check_points: list[Any] = entry()
    sweep: str = entry(choices=("none", "sigma_z", "kappa"))


@dataclass
class ComplexityConfig:
    task: str = entry()
    p: int = entry(ge=3)
    thresholds: Thresholds = section(Thresholds)
    curves: Curves = section(Curves)
    finite_n: list[int] = entry(ge=2)
    mc: MonteCarlo = section(MonteCarlo)
    activation: ActivationSettings = section(ActivationSettings)
    gan: GanSettings = section(GanSettings)


@dataclass
class FitSettings:
    num_points: int = entry(ge=8)
    bins: int = entry(ge=2)
    n: int = entry(ge=2)
    samples: int = entry(ge=1)
    seed: int = entry()
    bootstrap: int = entry(ge=0)
    families: dict[str, Any] = entry()


@dataclass
class ProductSettings:
    n0: int = entry(ge=2)
    depths: list[int] = entry(ge=1)
    ratios: list[float] = entry(gt=0.0)
    extra: list[Any] = entry()
    samples: int = entry(ge=1)
    rtol: float = entry(gt=0.0)
    seed: int = entry()


@dataclass
class PercolatedSettings:
    c: list[float] = entry(gt=0.0, le=2.718281828459045)  # Bauer-Golinelli: 0 < c <= e
    n: int = entry(ge=2)
    samples: int = entry(ge=1)
    rtol: float = entry(gt=0.0)
    seed: int = entry()


@dataclass
class EnsembleSettings:
    n: int = entry(ge=2)
    samples: int = entry(ge=1)
    seed: int = entry()
    families: dict[str, Any] = entry()


@dataclass
class GPSetting:
    """One Gaussian-process Hessian model (arXiv 2102.06740); the last four are optional."""

    name: str = entry()
    n: int = entry(ge=4)
    samples: int = entry(ge=1)
    kp: float = entry()
    kpp: float = entry()
    conditional: int | None = entry(ge=1, default=None)
    degeneracy: int = entry(ge=0, default=0)
    outliers: int = entry(ge=0, default=0)
    outlier_scale: float = entry(ge=0.0, default=0.0)


@dataclass
class GPSettings:
    seed: int = entry()
    max_samples: int | None = entry(ge=1)
    settings: list[GPSetting] = entry()


@dataclass
class LayeredSettings:
    p: int = entry(ge=3)
    num_e: int = entry(ge=2)
    product_depth: int = entry(ge=1)
    percolated_c: float = entry(gt=0.0)
    n: int = entry(ge=2)
    samples: int = entry(ge=1)
    seed: int = entry()


@dataclass
class DensitiesConfig:
    task: str = entry()
    spectrum: str | None = entry()
    zero_cut: float = entry(ge=0.0)
    zero_cut_quadrature: float = entry(ge=0.0)
    outliers: Any = entry()  # 'classes' or an integer >= 0 (checked by the stage)
    fit: FitSettings = section(FitSettings)
    product: ProductSettings = section(ProductSettings)
    percolated: PercolatedSettings = section(PercolatedSettings)
    ensembles: EnsembleSettings = section(EnsembleSettings)
    gp: GPSettings = section(GPSettings)
    layered: LayeredSettings = section(LayeredSettings)


@dataclass
class Detect:
    kappa: float = entry(ge=0.0)


@dataclass
class SyntheticShift:
    n: int = entry(ge=4)
    bulk_ratio: float = entry(gt=0.0)
    spikes: list[float] = entry(gt=0.0)
    s: list[float] = entry(ge=0.0)
    noise: list[str] = entry(choices=("goe", "rademacher", "sparse", "diagonal"))
    sparsity: float = entry(gt=0.0, le=1.0)
    samples: int = entry(ge=1)
    seed: int = entry()


@dataclass
class SyntheticLocalLaw:
    n: int = entry(ge=4)
    a_min: float = entry()
    a_max: float = entry()
    s: list[float] = entry(ge=0.0)
    deltas: list[float] = entry(ge=0.0)
    samples: int = entry(ge=1)
    seed: int = entry()


@dataclass
class NetworkLanczos:
    num_steps: int = entry(ge=1)
    num_probes: int = entry(ge=1)
    tol: float = entry(gt=0.0)


@dataclass
class NetworkShift:
    method: str = entry(choices=("auto", "exact", "lanczos"))
    exact_max_params: int = entry(ge=1)
    batch_sizes: list[int] = entry(ge=1)
    batches: int = entry(ge=1)
    track: int = entry(ge=1)
    probes: int = entry(ge=1)
    local_law_batch: int = entry(ge=1)
    deltas: list[float] = entry(gt=0.0)
    seed: int = entry()
    compile: bool = entry()
    lanczos: NetworkLanczos = section(NetworkLanczos)


@dataclass
class OutliersConfig:
    task: str = entry()
    runs: list[str] = entry()
    device: str = entry()
    chunk: int = entry(ge=1)
    chunk_size: int | None = entry(ge=1)
    detect: Detect = section(Detect)
    synthetic: SyntheticShift = section(SyntheticShift)
    local_law: SyntheticLocalLaw = section(SyntheticLocalLaw)
    network: NetworkShift = section(NetworkShift)


@dataclass
class SGDReference:
    lrs: list[float] = entry(gt=0.0)
    momentum: float = entry(ge=0.0, lt=1.0)
    weight_decay: float = entry(ge=0.0)


@dataclass
class Tuning:
    validation: float = entry(gt=0.0, lt=1.0)
    split_seed: int = entry()
    seeds: list[int] = entry()
    adam_lrs: list[float] = entry(gt=0.0)
    widen: int = entry(ge=0)


@dataclass
class ExpReturns:
    budgets: list[int] = entry(ge=1)
    seeds: list[int] = entry()
    lr: float = entry(gt=0.0)
    p0: list[float] = entry()


@dataclass
class NQMSettings:
    n: int = entry(ge=2)
    bulk_ratio: float = entry(gt=0.0)
    bulk_scale: float = entry(gt=0.0)
    spikes: list[float] = entry(gt=0.0)
    lr: float = entry(gt=0.0)
    steps: int = entry(ge=1)
    curvature_samples: int = entry(ge=1)
    batch: int = entry(ge=1)
    k: int = entry(ge=1)
    samples: int = entry(ge=1)
    seed: int = entry()


@dataclass
class OptimisersConfig:
    model: Any = MISSING
    data: Any = MISSING
    optimizer: Any = MISSING
    task: str = entry()
    setting: str = entry()
    seeds: list[int] = entry()
    epsilons: list[float] = entry(ge=0.0)
    learner_deltas: list[float] = entry(ge=0.0)
    train: TrainSettings = section(TrainSettings)
    sgd: SGDReference = section(SGDReference)
    tuning: Tuning = section(Tuning)
    exp_returns: ExpReturns = section(ExpReturns)
    nqm: NQMSettings = section(NQMSettings)
    device: str = entry()


#: Primary schemas (``<stage config>_schema``) and group option schemas (``<group>/<option>_schema``).
PRIMARY = {"train": TrainConfig, "spectra": SpectraConfig, "analysis": AnalysisConfig,
           "claims": ClaimsConfig, "trends": TrendsConfig, "figures": FiguresConfig,
           "complexity": ComplexityConfig, "densities": DensitiesConfig, "outliers": OutliersConfig,
           "optimisers": OptimisersConfig, "diagnose": DiagnoseConfig}
GROUPS = {
    "model": {"mlp": MLPModel, "lenet": LeNetModel, "vgg16": VGGModel, "preresnet": PreResNetModel},
    "data": {"torchvision": TorchvisionData, "sklearn": SklearnData, "mixture": MixtureData},
    "optimizer": {"sgd": SGDOptimizer, "adam": AdamOptimizer, "kfac": KFACOptimizer},
}


def register() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent; called by each stage)."""
    cs = ConfigStore.instance()
    for name, node in PRIMARY.items():
        cs.store(name=f"{name}_schema", node=node)
    for group, options in GROUPS.items():
        for name, node in options.items():
            cs.store(group=group, name=f"{name}_schema", node=node)

