"""Your own network and data through ``_target_`` (rmtloss.nets.custom)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from conftest import run_in_process, run_stage


def returns_a_string(**kwargs) -> str:  # noqa: ANN003, ARG001
    return "not a network"


def three_outputs(input_shape: tuple[int, ...]) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)), 3))


def needs_images(input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """A CNN that needs (b, 1, 8, 8) samples: checks that inputs arrive in their own shape."""
    assert input_shape == (1, 8, 8)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, num_outputs))


def uneven_data() -> dict:
    return {"x_train": np.zeros((10, 2)), "y_train": np.zeros(9, int), "x_test": np.zeros((4, 2)),
            "y_test": np.zeros(4, int)}


def a_list() -> list:
    return [1, 2, 3]


def labels_out_of_range() -> dict:
    return {"x_train": np.zeros((10, 2)), "y_train": np.arange(10) % 3, "x_test": np.zeros((4, 2)),
            "y_test": np.zeros(4, int), "num_classes": 2}


def datasets() -> tuple:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(80, 3, generator=gen), torch.randint(0, 4, (80,), generator=gen)
    return torch.utils.data.TensorDataset(x[:60], y[:60]), torch.utils.data.TensorDataset(x[60:], y[60:])


@pytest.mark.parametrize(
    ("overrides", "setting", "says"),
    [
        (["model._target_=no_such_package.make_net"], "model._target_",
         "cannot import 'no_such_package.make_net'"),
        (["model._target_=math.pi"], "model._target_", "is a float, not a callable"),
        (["model._target_=test_custom.returns_a_string"], "model._target_",
         "it must return a torch.nn.Module"),
        (["model._target_=test_custom.three_outputs"], "model._target_",
         "outputs of shape (2, 3) for 2 samples"),
        (["model._target_=examples.two_moons.make_net", "+model.depth=3"], "model._target_", "failed"),
        (["model=mlp", "data=custom", "data._target_=test_custom.uneven_data"], "data._target_",
         "10 train inputs but 9 labels"),
        (["model=mlp", "data=custom", "data._target_=test_custom.a_list"], "data._target_", "returned list"),
        (["model=mlp", "data=custom", "data._target_=test_custom.labels_out_of_range"], "data._target_",
         "labels must be in 0..1"),
    ],
)
def test_a_bad_target_is_refused_naming_it(tmp_path, overrides, setting, says):
    base = ["model=custom", "data=digits", "train.epochs=1"]
    res = run_in_process("train", *base, *overrides, out=tmp_path / "out")
    assert res.returncode == 2 and f"invalid setting `{setting}`" in res.stderr, res.stderr
    assert says in res.stderr, res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_custom_network_sees_samples_in_their_own_shape_and_trains(tmp_path):
    res = run_in_process("train", "model=custom", "model._target_=test_custom.needs_images", "data=digits",
                         "train.epochs=1", out=tmp_path / "cnn")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "cnn" / "checkpoint_final.pt").is_file()
    from omegaconf import OmegaConf

    from rmtloss.nets.models import build

    net = build(OmegaConf.create({"name": "custom", "_target_": "test_custom.needs_images"}), (1, 8, 8), 10)
    own = needs_images((1, 8, 8), 10)
    net.load_state_dict(own.state_dict())  # the network's own keys: weights saved from it load as they are
    x = torch.randn(3, 64)
    torch.testing.assert_close(net(x), own(x.reshape(3, 1, 8, 8)))


def test_datasets_as_data_and_the_example_through_train_and_spectra(tmp_path):
    res = run_in_process("train", "model=mlp", "data=custom", "data._target_=test_custom.datasets",
                         "train.epochs=1", "train.batch_size=20", out=tmp_path / "ds")
    assert res.returncode == 0, res.stderr
    train = tmp_path / "moons"
    proc = run_stage("train", "model=custom", "model._target_=examples.two_moons.make_net", "data=custom",
                     "data._target_=examples.two_moons.make_data", "+model.width=8", "train.epochs=5",
                     f"hydra.run.dir={train}")
    assert proc.returncode == 0, proc.stderr
    proc = run_stage("spectra", f"run_dir={train}", "batch.count=2", f"hydra.run.dir={tmp_path / 'spec'}")
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp_path / "spec" / "eigenvalues.npz") as d:
        assert d["eigenvalues"].shape == (2, 2 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2)  # P = 114
        assert str(d["data"]) == "custom" and str(d["model"]) == "custom"
