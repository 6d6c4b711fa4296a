"""Override merging, config digests and the checks of the workflow config made by the Snakefile."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO, composed
from rmtloss.workflow import (
    WorkflowConfigError,
    check_config,
    check_run_ids,
    check_scale_needs,
    check_stage_overrides,
    check_stage_overrides_once,
    config_digest,
    data_jobs,
    derive_scales,
    hydra_string,
    merge_overrides,
    missing_data,
    override_key,
    shell_args,
    tagged_scale,
)


def test_later_override_replaces_earlier_in_place():
    merged = merge_overrides(["model=mlp", "optimizer.lr=0.05", "train.epochs=150"],
                             ["optimizer.lr=0.1", "+extra.key=1"])
    assert merged == ["model=mlp", "optimizer.lr=0.1", "train.epochs=150", "+extra.key=1"]


def test_override_key_rejects_a_value_without_key():
    assert override_key("~model.hidden=[1,2]") == "model.hidden"
    with pytest.raises(ValueError, match="key=value"):
        override_key("optimizer.lr")


def test_shell_args_quote_lists():
    assert shell_args(["model.hidden=[10,30]", "a=b"]) == "'model.hidden=[10,30]' a=b"


def test_config_digest_changes_with_a_group_file_only(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mlp.yaml").write_text("hidden: [10, 30]\n")
    (tmp_path / "config.yaml").write_text("scale: quick\n")
    before = config_digest(tmp_path)
    (tmp_path / "config.yaml").write_text("scale: smoke\n")
    assert config_digest(tmp_path) == before
    (tmp_path / "model" / "mlp.yaml").write_text("hidden: [10, 31]\n")
    assert config_digest(tmp_path) != before


def test_gan_sweep_points_and_their_overrides():
    from rmtloss.workflow import sweep_args, sweep_points, sweep_values

    sweeps = {"grid": ["gan.grid.num_x=10", "gan.kappa=0.5"],
              "sigma_z": {"pq": [[3, 3], [5, 5]], "start": -2, "stop": 0, "num": 3, "log": True,
                          "fixed": ["gan.kappa=0.9"]},
              "kappa": {"pq": [[5, 5]], "start": 0.1, "stop": 0.9, "num": 2, "log": False}}
    assert sweep_values(sweeps["sigma_z"]) == pytest.approx([0.01, 0.1, 1.0])
    assert sweep_values(sweeps["kappa"]) == pytest.approx([0.1, 0.9])
    points = sweep_points(sweeps)
    assert len(points) == 3 * 2 + 2 and ("sigma_z", 5, 5, 2) in points and ("kappa", 5, 5, 1) in points
    args = sweep_args(sweeps, "sigma_z", 5, 5, 1)
    assert "gan.kappa=0.9" in args and "gan.kappa=0.5" not in args       # the sweep's fixed value wins
    assert "gan.p=5" in args and "gan.sweep=sigma_z" in args
    assert any(a.startswith("gan.sigma_z=0.1") for a in args)
    with pytest.raises(ValueError, match="out of range"):
        sweep_args(sweeps, "kappa", 5, 5, 2)


# -- the workflow config checked when the Snakefile is parsed --------------------------------------

@pytest.fixture(scope="module")
def workflow_config() -> tuple[dict, dict]:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    derive_scales(config, REPO / "config")
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return config, schema


def _raw_scales() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())["scales"]


def test_paper_shape_is_the_paper_grid_with_tiny_settings(workflow_config):
    config, schema = workflow_config
    check_config(config, schema)
    paper, shape = config["scales"]["paper"], config["scales"]["paper_shape"]
    assert shape["networks"].keys() == paper["networks"].keys()
    for run, net in shape["networks"].items():
        assert net["train"][: len(paper["networks"][run]["train"])] == paper["networks"][run]["train"]
        dropped = {"mnist_logistic": ["hessian_init", "hessian_final"],  # (config/config.yaml says why)
                   "mnist_mlp": ["hessian_init", "hessian_final"],
                   "vgg16_cifar100": ["density_final"]}.get(run, [])
        assert net["spectra"] == [k for k in paper["networks"][run]["spectra"] if k not in dropped]
        assert "gpu" not in net  # cpu: true
        assert merge_overrides(net["train"])[-1:] != ["train.epochs=300"]
    assert shape["networks"]["vgg16_cifar100"]["train"][-4:] == [
        "train.epochs=1", "train.batch_size=8", "data.data_dir=results/paper_shape/data",
        "data.check_integrity=false"]
    assert shape["networks"]["mixture_c2"]["train"][-1] == "train.batch_size=8"  # not torchvision: no folder
    dropped = {"epsilon_sweep": {"logistic", "mlp"},  # each code path once (CI time)
               "damping_learner": {"vgg16_cifar100_kfac", "mlp", "logistic_kfac"},
               "shrinkage_noise": {"nqm"}, "exp_returns": set()}
    for task, gone in dropped.items():
        assert shape["optimisers"][task].keys() == paper["optimisers"][task].keys() - gone
    vgg = shape["optimisers"]["damping_learner"]["vgg16_cifar100"]
    assert vgg[-2:] == ["data.data_dir=results/paper_shape/data", "data.check_integrity=false"]
    assert "train.epochs=1" in vgg and "gpu" not in shape["optimisers"]
    assert shape["optimisers"]["common"] == paper["optimisers"]["common"]
    assert shape["outliers"]["networks"] == ["vgg16_cifar100"]
    assert shape["theory"] is False  # the theory tasks run in the smoke scale with the same settings
    assert paper["outliers"]["networks"] == ["mnist_mlp", "vgg16_cifar100", "resnet_cifar100"]
    assert shape["batches"] == {"size": 8, "count": 1} and paper["batches"]["count"] == 157


def test_a_derived_scale_is_resolved_once():
    config = {"scales": _raw_scales()}
    derive_scales(config, REPO / "config")
    again = yaml.safe_load(yaml.safe_dump(config))
    derive_scales(again, REPO / "config")
    assert again == config


@pytest.mark.parametrize("spec, message", [
    ({"extends": "papr"}, "scales.bad.extends: 'papr' is not a scale of its own; did you mean 'paper'?"),
    ({"extends": "paper", "append": {"netwroks": {"*": {"train": ["a=1"]}}}},
     "scales.bad.append: append names 'netwroks', which the base scale lacks; did you mean 'networks'?"),
    ({"extends": "paper", "append": {"batches": ["a=1"]}},
     "scales.bad.append.batches: append gives a list of overrides where the base scale has dict"),
    ({"extends": "paper", "drop": ["outliers.networks.resnet"]},
     "scales.bad.drop: 'outliers.networks.resnet': networks has no item 'resnet' (items: mnist_mlp, "),
    ({"extends": "paper", "drop": ["optimisers.damping_lerner.mlp"]},
     "scales.bad.drop: 'optimisers.damping_lerner.mlp' names no entry of the base scale; did you mean "
     "'damping_learner'?"),
])
def test_a_bad_derived_scale_is_named(spec, message):
    config = {"scales": {**_raw_scales(), "bad": spec}}
    with pytest.raises(WorkflowConfigError, match=re.escape(message)):
        derive_scales(config, REPO / "config")


@pytest.mark.parametrize("change, message", [
    ({"scael": "smoke"}, "unknown key 'scael' at the top level; did you mean 'scale'?"),
    ({"scale": "quik"}, "did you mean 'quick'?"),
    ({"figures": "some"}, "config figures"),
])
def test_a_bad_workflow_key_is_named_with_the_nearest_valid_one(workflow_config, change, message):
    config, schema = workflow_config
    with pytest.raises(WorkflowConfigError, match=re.escape(message)):
        check_config({**config, **change}, schema)
    check_config(config, schema)  # the shipped config passes


def test_a_nested_value_given_as_a_string_points_to_configfile(workflow_config):
    config, schema = workflow_config
    quick = {**config["scales"]["quick"], "batches": {"size": "64", "count": 40}}
    with pytest.raises(WorkflowConfigError, match=r"scales\.quick\.batches\.size: '64' is not of type "
                                                  r"'integer' .*--configfile"):
        check_config({**config, "scales": {**config["scales"], "quick": quick}}, schema)


def test_a_misspelt_run_id_in_overrides_is_refused(workflow_config):
    config, _ = workflow_config
    with pytest.raises(WorkflowConfigError, match="'mpl' is not a run of scale quick; did you mean 'mlp'"):
        check_run_ids({**config, "overrides": {"mpl": ["optimizer.lr=0.1"]}}, "quick")
    check_run_ids({**config, "overrides": {"mlp": ["optimizer.lr=0.1"]}}, "quick")


@pytest.mark.parametrize("override, message", [
    ("optimiser.lr=0.1", "key 'optimiser.lr'; did you mean 'optimizer'?"),
    ("optimizer.lrr=0.1", "key 'optimizer.lrr'; did you mean 'lr'?"),
    ("optimizer.lr=-1", "invalid setting `optimizer.lr`: must be > 0.0"),
    ("model=mpl", "model=mpl; did you mean 'mlp'?"),
])
def test_every_stage_command_line_is_composed_before_any_job_runs(workflow_config, override, message):
    config, _ = workflow_config
    bad = {**config, "overrides": {"mlp": [override]}}
    with pytest.raises(WorkflowConfigError, match=re.escape(message)) as exc:
        check_stage_overrides(bad, "smoke", REPO / "config")
    assert "scales.smoke.networks.mlp with overrides.mlp: the train stage" in str(exc.value)


def test_every_scale_s_command_lines_compose(workflow_config):
    config, _ = workflow_config
    counts = {scale: check_stage_overrides(config, scale, REPO / "config") for scale in config["scales"]}
    assert counts["smoke"] >= 20 and counts["paper"] >= 20  # runs, tasks, sweeps, optimiser settings


def test_a_bad_task_override_is_named_by_its_place(workflow_config):
    config, _ = workflow_config
    smoke = {**config["scales"]["smoke"], "complexity": {"abc": ["mc.sampels=5"]}}
    with pytest.raises(WorkflowConfigError, match=r"scales\.smoke\.complexity\.abc: the complexity stage"):
        bad = {**config, "scales": {**config["scales"], "smoke": smoke}}
        check_stage_overrides(bad, "smoke", REPO / "config")


def test_a_network_trained_for_zero_epochs_is_refused(workflow_config):
    """train.epochs=0 would give a 'final' checkpoint that the spectra and the ledger take for trained."""
    config, _ = workflow_config
    bad = {**config, "overrides": {"mlp": ["train.epochs=0"]}}
    with pytest.raises(WorkflowConfigError, match=r"scales\.smoke\.networks\.mlp with overrides\.mlp: "
                       r"train\.epochs=0 trains nothing"):
        check_stage_overrides(bad, "smoke", REPO / "config")


def test_a_yaml_error_in_the_workflow_config_names_the_file_line_and_column(tmp_path):
    from rmtloss.workflow import readable_yaml

    good = tmp_path / "good.yaml"
    good.write_text("scale: quick\nscales: {smoke: {batches: {size: 64}}}\n")
    assert readable_yaml(good) == str(good)
    bad = tmp_path / "config.yaml"
    bad.write_text("scale: quick\nscales:\n  smoke:\n    batches: {size: 64, count: 3\n    lanczos: 1\n")
    with pytest.raises(WorkflowConfigError, match=r"config\.yaml: not valid YAML at line 5, column 12"):
        readable_yaml(bad)


def test_the_check_is_stamped_once_per_config(workflow_config, tmp_path):
    config, _ = workflow_config
    assert check_stage_overrides_once(config, "smoke", REPO / "config", tmp_path)
    assert not check_stage_overrides_once(config, "smoke", REPO / "config", tmp_path)
    changed = {**config, "overrides": {"mlp": ["optimizer.lr=0.2"]}}
    assert check_stage_overrides_once(changed, "smoke", REPO / "config", tmp_path)


def test_missing_data_names_the_folder_and_is_satisfied_by_it(workflow_config, tmp_path, monkeypatch):
    config, _ = workflow_config
    monkeypatch.chdir(tmp_path)
    jobs = data_jobs(config, "paper", ["mnist_mlp", "mixture_c2"], [("epsilon_sweep", "vgg16_cifar100")])
    missing = missing_data(jobs, REPO / "config")
    assert missing == [f"run mnist_mlp: mnist (MNIST) not in {tmp_path / 'data' / 'MNIST'}",
                       "optimisers epsilon_sweep/vgg16_cifar100: cifar100 (CIFAR100) not in "
                       f"{tmp_path / 'data' / 'cifar-100-python'}"]
    (tmp_path / "data" / "MNIST").mkdir(parents=True)
    (tmp_path / "data" / "cifar-100-python").mkdir()
    assert missing_data(jobs, REPO / "config") == []
    download = [("run x", ["data=mnist", "data.download=true", "data.data_dir=elsewhere"])]
    assert missing_data(download, REPO / "config") == []


def test_gpu_jobs_on_a_machine_without_one_are_refused_unless_allowed(workflow_config, monkeypatch):
    config, _ = workflow_config
    monkeypatch.setattr("rmtloss.workflow.gpu_available", lambda: False)
    with pytest.raises(WorkflowConfigError, match="2 jobs ask for a GPU .*allow_cpu=true"):
        check_scale_needs(config, "paper", [], ["train a", "train b"], True, REPO / "config")
    check_scale_needs({**config, "allow_cpu": True}, "paper", [], ["train a"], True, REPO / "config")
    check_scale_needs(config, "paper", [], ["train a"], False, REPO / "config")  # on a cluster


def test_a_scale_s_about_reaches_the_ledger_as_one_hydra_string():
    text = 'It\'s "generated", [noise] (16 images),\n  per set = 1 \\ 2'
    cfg = composed("claims", "scale=x", "inputs=[a]", "out=b", hydra_string("about", text))
    assert cfg.about == " ".join(text.split())
    for tricky in ('a \\"q\\" b', "ends in a backslash \\"):
        cfg = composed("claims", "scale=x", "inputs=[a]", "out=b", hydra_string("about", tricky))
        assert cfg.about == tricky


def test_a_tag_registers_a_copy_of_the_scale_and_a_clash_or_a_bad_tag_is_refused(workflow_config):
    import copy

    config, schema = workflow_config
    mine = copy.deepcopy(config)
    assert tagged_scale({**mine, "tag": ""}) == "quick"
    mine["tag"] = "lr01"
    assert tagged_scale(mine) == "quick-lr01"
    assert mine["scales"]["quick-lr01"] == mine["scales"]["quick"]
    assert mine["scales"]["quick-lr01"] is not mine["scales"]["quick"]  # a copy: the baseline stays as it was
    clash = copy.deepcopy(config)
    clash["scales"]["quick-x"] = {}
    with pytest.raises(WorkflowConfigError, match="'quick-x' is a scale of config/config.yaml already"):
        tagged_scale({**clash, "tag": "x"})
    with pytest.raises(WorkflowConfigError, match="tag"):
        check_config({**copy.deepcopy(config), "tag": "Has Space"}, schema)
