"""Seeded stand-ins for MNIST, Fashion-MNIST and CIFAR-10/100 in torchvision's own file formats.

``python -m rmtloss.nets.shape_data --root data_shape --train 64 --test 32`` writes, under
``root``, the files torchvision's data set classes read:

* MNIST and Fashion-MNIST: the four uncompressed IDX files in ``<Class>/raw/``
  (``train-images-idx3-ubyte``: magic 2051, count, 28, 28, then uint8 pixels; labels: magic 2049,
  count, then uint8 labels);
* CIFAR-10 and CIFAR-100: the pickled batches in ``cifar-10-batches-py/`` or ``cifar-100-python/``
  (dicts with ``data``, ``uint8 (n, 3072)`` in channel-major order, and ``labels`` or
  ``fine_labels``/``coarse_labels``) and the ``meta`` pickle with the class names.

The pixels are uniform noise and the labels cycle through the classes (every class present), so
the paper scale's code paths (readers, normalisation, full-size networks) run on a machine without
the real data; the numbers are not the papers'. torchvision checks the md5 of CIFAR's files, which
generated files cannot match: read them with ``data.check_integrity=false``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import struct
from pathlib import Path

import numpy as np

from rmtloss._io import atomic_path
from rmtloss.nets.catalog import TORCHVISION

MANIFEST = "shape_data.json"


def _idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format (magic 0x08 0x<ndim>, big-endian sizes, the bytes)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with atomic_path(path) as tmp:
        tmp.write_bytes(header + array.astype(np.uint8).tobytes())


def _pickle(path: Path, obj: dict) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)


def write_mnist(root: Path, name: str, n_train: int, n_test: int, seed: int) -> Path:
    """IDX files of ``n_train``/``n_test`` 28x28 noise images for ``mnist`` or ``fashion_mnist``."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / TORCHVISION[name][2] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return raw


def write_cifar(root: Path, name: str, n_train: int, n_test: int, seed: int) -> Path:
    """Pickled batches of ``n_train``/``n_test`` 32x32 RGB noise images for ``cifar10``/``cifar100``."""
    import torchvision

    cls = getattr(torchvision.datasets, TORCHVISION[name][0])
    classes = TORCHVISION[name][1]
    folder = Path(root) / cls.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    key = "labels" if classes == 10 else "fine_labels"
    for files, n in ((cls.train_list, n_train), (cls.test_list, n_test)):
        for part, rows in zip(files, np.array_split(np.arange(n), len(files)), strict=True):
            batch = {"data": rng.integers(0, 256, (len(rows), 3072), dtype=np.uint8),
                     key: [int(i % classes) for i in rows]}
            if classes == 100:
                batch["coarse_labels"] = [int(i % classes) // 5 for i in rows]
            _pickle(folder / part[0], batch)
    _pickle(folder / cls.meta["filename"], {cls.meta["key"]: [f"class_{c}" for c in range(classes)]})
    return folder


def write(root: Path, names: list[str], n_train: int, n_test: int, seed: int = 0) -> list[Path]:
    """The files of every data set in ``names`` under ``root``, then ``root/shape_data.json`` (the
    sets, counts and seed: written last, so its presence means every file is complete)."""
    folders = [(write_mnist if "mnist" in name else write_cifar)(root, name, n_train, n_test, seed)
               for name in names]
    manifest = {"sets": list(names), "train": n_train, "test": n_test, "seed": seed,
                "folders": [str(f.relative_to(root)) for f in folders],
                "note": "uniform noise images, cycling labels (rmtloss.nets.shape_data), not the real data"}
    with atomic_path(Path(root) / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2))
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="data_shape", help="the folder to write into (data.data_dir)")
    parser.add_argument("--sets", nargs="+", default=["mnist", "cifar100"], choices=list(TORCHVISION))
    parser.add_argument("--train", type=int, default=64, help="training images per set")
    parser.add_argument("--test", type=int, default=32, help="test images per set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for folder in write(Path(args.root), args.sets, args.train, args.test, args.seed):
        print(folder)


if __name__ == "__main__":
    main()
