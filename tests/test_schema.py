"""Typed structured configs: every YAML matches its schema, and each kind of bad setting (unknown
key, wrong type, out-of-range value) is refused with the key named, for every stage."""

from __future__ import annotations

import re

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from conftest import composed, run_stage
from rmtloss import schema
from rmtloss.errors import ConfigError
from rmtloss.stage import CONFIG_DIR

STAGES = tuple(schema.PRIMARY)
# `custom` options are open by design: their keys are the arguments of the user's `_target_`
GROUP_OPTIONS = [f"{g}={p.stem}" for g in schema.GROUPS for p in sorted((CONFIG_DIR / g).glob("*.yaml"))
                 if p.stem != "custom"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_config_is_typed_by_its_schema_and_in_range(stage):
    cfg = composed(stage)
    assert OmegaConf.get_type(cfg) is schema.PRIMARY[stage]
    schema.check(cfg)  # the shipped defaults are in range


@pytest.mark.parametrize("option", GROUP_OPTIONS)
def test_every_group_option_has_a_schema_and_is_in_range(option):
    group = option.split("=")[0]
    node = composed("train", option)[group]
    assert OmegaConf.get_type(node) in schema.GROUPS[group].values()
    schema.check(node, f"{group}.")
    assert not OmegaConf.missing_keys(node), f"{option} leaves keys unset"


@pytest.mark.parametrize("group", ["model", "data"])
def test_the_custom_options_are_open_and_ask_for_a_target(group):
    """``model=custom`` / ``data=custom`` take any keyword of the user's callable (``+model.width=8``)
    and leave only ``_target_`` unset."""
    node = composed("train", f"{group}=custom", f"+{group}.width=8")[group]
    assert OmegaConf.get_type(node) is dict and node.width == 8
    assert OmegaConf.missing_keys(node) == {f"{group}._target_"}


def test_the_schemas_cover_every_yaml_file():
    names = {p.stem for p in CONFIG_DIR.glob("*.yaml")} - {"config"}  # config.yaml is Snakemake's
    assert names == set(schema.PRIMARY)


# (stage, unknown key, wrong type, out of range, the key the range error names)
BAD = [
    ("train", "train.epchs=3", "train.epochs=abc", "train.epochs=-1", "train.epochs"),
    ("spectra", "batch.sise=3", "batch.size=big", "lanczos.num_steps=0", "lanczos.num_steps"),
    ("analysis", "bootstrap.nboot=5", "bootstrap.n_boot=many", "unfold_fraction=1.5", "unfold_fraction"),
    ("claims", "scael=quick", "inputs=3", None, None),
    ("figures", "figur=zero_mass", "inputs=3", None, None),
    ("complexity", "gan.node=100", "gan.nodes=lots", "gan.kappa=1.5", "gan.kappa"),
    ("densities", "fit.bin=3", "fit.bins=x", "percolated.c=[1.0,3.0]", "percolated.c"),
    ("outliers", "synthetic.m=3", "synthetic.n=big", "network.method=magic", "network.method"),
    ("optimisers", "nqm.step=3", "nqm.steps=x", "epsilons=[1e-8,-1.0]", "epsilons"),
]


@pytest.mark.parametrize(("stage", "unknown", "wrong", "_r", "_k"), BAD)
def test_unknown_keys_and_wrong_types_are_refused_naming_the_key(stage, unknown, wrong, _r, _k):
    for override in (unknown, wrong):
        key = override.split("=")[0]
        with pytest.raises((ConfigCompositionException, OmegaConfBaseException)) as exc:
            composed(stage, override)
        text = f"{exc.value} {exc.value.__cause__}"
        assert f"full_key: {key}" in text or f"'{key}'" in text, text


@pytest.mark.parametrize(("stage", "_u", "_w", "out_of_range", "key"), [b for b in BAD if b[3]])
def test_out_of_range_values_are_refused_naming_the_key_and_the_range(stage, _u, _w, out_of_range, key):
    cfg = composed(stage, out_of_range)
    with pytest.raises(ConfigError, match=rf"`{re.escape(key)}`: (each value )?must be") as exc:
        schema.check(cfg)
    assert exc.value.setting == key


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["optimizer=adam", "optimizer.betas=[0.9,1.0]"], "optimizer.betas"),
        (["optimizer=adam", "optimizer.learner.every=0"], "optimizer.learner.every"),
        (["optimizer.momentum=1.0"], "optimizer.momentum"),
        (["data=mixture", "data.classes=1"], "data.classes"),
        (["model=vgg16", "model.dropout=1.0"], "model.dropout"),
        (["model.hidden=[10,0]"], "model.hidden"),
    ],
)
def test_group_options_are_checked_against_the_chosen_schema(overrides, key):
    with pytest.raises(ConfigError) as exc:
        schema.check(composed("train", *overrides))
    assert exc.value.setting == key


def test_a_key_of_another_option_is_refused():
    with pytest.raises((ConfigCompositionException, OmegaConfBaseException), match="dropout"):
        composed("train", "model=mlp", "model.dropout=0.5")  # vgg16's key, not the MLP's


def test_optional_gp_settings_keep_their_defaults():
    gp = composed("densities").gp.settings
    assert gp[0].conditional is None and gp[3].conditional == 1 and gp[6].degeneracy == 100
    assert gp[0].get("outliers") == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epchs=3", "Key 'epchs' not in 'TrainSettings'"),
        ("train.epochs=abc", "full_key: train.epochs"),
        ("train.epochs=-1", "invalid setting `train.epochs`: must be >= 0 (got -1)"),
        ("train.on_divergence=ignore", "`train.on_divergence`: must be one of record, stop"),
    ],
)
def test_the_stage_stops_before_any_work_and_writes_nothing(tmp_path, override, message):
    out = tmp_path / "run"
    proc = run_stage("train", override, f"hydra.run.dir={out}")
    assert proc.returncode != 0 and message in proc.stderr + proc.stdout
    assert not out.exists(), "a refused stage left its output folder behind"
