"""Your own network and data, the worked example: a tanh MLP on scikit-learn's two moons.

Run one stage with them::

    python -m rmtloss.train model=custom model._target_=examples.two_moons.make_net \
        data=custom data._target_=examples.two_moons.make_data +model.width=16 train.epochs=50

or give them a row of the experiment grid in ``config/config.yaml`` (the smoke scale has one,
``two_moons``), and every stage (spectra, spacing ratios, global fits, outliers) takes them.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_moons
from torch import nn


def make_net(input_shape: tuple[int, ...], num_outputs: int, width: int = 16) -> nn.Module:
    """A two-hidden-layer tanh MLP from the sample shape to ``num_outputs`` logits."""
    (features,) = input_shape
    return nn.Sequential(nn.Linear(features, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                         nn.Linear(width, num_outputs))


def make_data(samples: int = 600, noise: float = 0.2, test_fraction: float = 0.25, seed: int = 0) -> dict:
    """Two interleaved half circles with Gaussian noise: 2 classes, 2 features, a seeded split."""
    x, y = make_moons(n_samples=samples, noise=noise, random_state=seed)
    order = np.random.default_rng(seed).permutation(samples)
    n_test = int(round(test_fraction * samples))
    test, train = order[:n_test], order[n_test:]
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test], "num_classes": 2}
