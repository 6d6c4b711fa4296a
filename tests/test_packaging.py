"""Packaging: the pins of pyproject.toml and environment.yml are the same; the stage configs a
checkout, the workflow and a wheel install read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
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


def _python(code_or_args: list[str], cwd, env_extra: dict | None = None):  # noqa: ANN001, ANN202
    env = {k: v for k, v in os.environ.items() if k != "RMTLOSS_CONFIG_DIR"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, *code_or_args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_checkout_run_from_its_root_reads_its_own_stage_configs(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(REPO / "config", clone / "config")
    train = clone / "config" / "train.yaml"
    train.write_text(train.read_text().replace("  seed: 1 ", "  seed: 17 "))
    proc = _python(["-m", "rmtloss.train", "--cfg", "job"], cwd=clone)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert yaml.safe_load(proc.stdout)["train"]["seed"] == 17  # not the installed checkout's 1
    proc = _python(["-m", "rmtloss.train", "--cfg", "job"], cwd=clone,
                   env_extra={"RMTLOSS_CONFIG_DIR": str(REPO / "config")})  # what the workflow sets
    assert yaml.safe_load(proc.stdout)["train"]["seed"] == 1


def test_a_wheel_installed_without_the_checkout_reads_the_configs_it_ships(tmp_path):
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip"]
    build = [*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)]
    subprocess.run(build, check=True, capture_output=True, timeout=300, cwd=tmp_path)
    wheel = next(wheels.glob("rmtloss-*.whl"))
    install = [*pip, "install", "-q", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    code = "import rmtloss.stage as s; print(s.__file__); print(s.CONFIG_DIR)"
    proc = _python(["-c", code], cwd=elsewhere, env_extra={"PYTHONPATH": str(site)})
    module, config = proc.stdout.split()
    assert module.startswith(str(site)) and config == str(site / "rmtloss" / "conf"), proc.stdout
    assert (site / "rmtloss" / "conf" / "model" / "mlp.yaml").is_file()
    proc = _python(["-m", "rmtloss.train", "--cfg", "job"], cwd=elsewhere,
                   env_extra={"PYTHONPATH": str(site)})
    assert proc.returncode == 0 and yaml.safe_load(proc.stdout)["model"]["name"] == "mlp", proc.stderr[-2000:]


def test_the_console_command_lists_claims_and_figures_and_places_targets():
    """`rmtloss claims` lists every claim, `rmtloss figures` every figure with its target, and a target
    written after --config is refused in one line that says where targets go."""
    from rmtloss.cli import claims_table, figures_table, main, snakemake_args
    from rmtloss.papers import CLAIMS, FIGURES

    lines = claims_table()
    assert all(any(f"  {cid} " in line for line in lines) for cid in CLAIMS)
    assert len(claims_table("granziol2022damping")) == 1 + sum(
        c.paper.key == "granziol2022damping" for c in CLAIMS.values())
    assert [line.split()[0] for line in figures_table()] == list(FIGURES)
    assert "results/quick/figures/zero_mass.pdf" in next(x for x in figures_table() if "zero_mass" in x)
    ok = ["results/smoke/claims.csv", "--config", "scale=smoke", "tag=x", "--cores", "2"]
    assert snakemake_args(ok) == ok
    with pytest.raises(SystemExit, match="put targets before --config"):
        snakemake_args(["--config", "scale=smoke", "results/smoke/claims.csv"])
    with pytest.raises(SystemExit, match="no paper 'nope'"):
        main(["claims", "--paper", "nope"])


def test_the_console_command_is_installed(repo):
    exe = Path(sys.executable).parent / "rmtloss"
    proc = subprocess.run([str(exe), "claims"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "ratios-goe" in proc.stdout, proc.stderr
    proc = subprocess.run([str(exe), "run", "-n", "--config", "scale=smoke", "results/smoke/claims.csv"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0 and "before --config" in proc.stderr
