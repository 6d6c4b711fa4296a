"""Data sets, as fixed train/test tensors.

Quick and smoke scales use the data sets that ship inside scikit-learn, so nothing is downloaded:

* ``digits``: 1797 8x8 grey-scale digits, 10 classes (the MNIST stand-in of
  ``papers_empirical.md`` section 3.5); features standardised with train-split statistics;
  always-zero pixels stay exactly zero (they give exact zero Hessian eigenvalues, as MNIST's
  border pixels do).
* ``diabetes``: 442 patients, 10 features, one real target (the stand-in of the authors' Bike
  regression); the target divided by its train mean, as the authors do for Bike.

Paper-scale sets (MNIST, Fashion-MNIST, CIFAR-10/100 through torchvision) are not implemented yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from omegaconf import DictConfig

from rmtloss.errors import ConfigError, require

SHIPPED = ("digits", "diabetes")
PAPER_SCALE = ("mnist", "fashion_mnist", "cifar10", "cifar100")


@dataclass(frozen=True)
class Dataset:
    """A data set split into train and test tensors.

    Attributes:
        name: data set name.
        task: ``classification`` (integer labels) or ``regression`` (one real target).
        x_train, y_train, x_test, y_test: tensors; inputs are flat ``(n, d)``.
        num_classes: number of classes (1 for regression).
    """

    name: str
    task: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def num_features(self) -> int:
        """Input dimension d."""
        return int(self.x_train.shape[1])

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x, y)`` of the ``train`` or ``test`` split."""
        if name == "train":
            return self.x_train, self.y_train
        if name == "test":
            return self.x_test, self.y_test
        raise ConfigError("split", f"unknown split '{name}'; use train or test")

    def to(self, dtype: torch.dtype, device: torch.device | str = "cpu") -> Dataset:
        """Cast inputs (and regression targets) to ``dtype`` on ``device``."""
        ydt = dtype if self.task == "regression" else torch.long
        return Dataset(self.name, self.task, self.x_train.to(device, dtype),
                       self.y_train.to(device, ydt), self.x_test.to(device, dtype),
                       self.y_test.to(device, ydt), self.num_classes)


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
    name = cfg.name
    if name in PAPER_SCALE:
        raise ConfigError("data.name", f"'{name}' is a paper-scale data set, which is not "
                          "implemented yet (see the Hessian-engine issue); use digits or diabetes")
    require(name in SHIPPED, "data.name",
            f"unknown data set '{name}'; choose one of {', '.join(SHIPPED + PAPER_SCALE)}")
    from sklearn import datasets  # local import: scikit-learn is slow to import

    raw = datasets.load_digits() if name == "digits" else datasets.load_diabetes()
    x, y = raw.data.astype(np.float64), raw.target
    n_test = int(cfg.test_size)
    require(0 < n_test < len(x) - 1, "data.test_size",
            f"must be between 1 and {len(x) - 2} for {name} (got {n_test})")
    tr, te = _split(len(x), n_test, int(cfg.split_seed))
    x_tr, x_te = _standardise(x[tr], x[te]) if cfg.standardise else (x[tr], x[te])
    if name == "digits":
        return Dataset(name, "classification", torch.from_numpy(x_tr), torch.from_numpy(y[tr]),
                       torch.from_numpy(x_te), torch.from_numpy(y[te]), 10)
    scale = y[tr].mean()
    return Dataset(name, "regression", torch.from_numpy(x_tr), torch.from_numpy(y[tr] / scale),
                   torch.from_numpy(x_te), torch.from_numpy(y[te] / scale), 1)
