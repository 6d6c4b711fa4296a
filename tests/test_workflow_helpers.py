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
