"""The pins of pyproject.toml (dependencies, dev and slurm extras) and environment.yml are the same."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import REPO


def test_environment_yml_pins_match_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pins = project["dependencies"] + extras["dev"] + extras["slurm"]  # not the benchmark peers
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip) == sorted(pins)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", p) for p in pins)
    assert "torch==2.14.1" in pins and "torchvision==0.29.1" in pins


def test_workflow_conda_env_is_the_environment_file():
    assert (REPO / "workflow" / "envs" / "rmtloss.yaml").resolve() == (REPO / "environment.yml")
