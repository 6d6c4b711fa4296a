"""Override merging and config digests used by the Snakemake rules."""

from __future__ import annotations

import pytest

from rmtloss.workflow import config_digest, merge_overrides, override_key, shell_args


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
