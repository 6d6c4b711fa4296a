"""Networks of the kind a user brings to ``rmtloss diagnose``: BatchNorm, residual blocks, torchvision.

``bn_residual_net``: a small conv net with BatchNorm and one residual block (1,362 parameters on 8x8
digits); ``resnet18``: torchvision's ResNet-18 (11.2M parameters) with a one-channel stem; both
take scikit-learn's 8x8 digits given flat (``data=digits``) or ``digits_images`` (1,200 training
images, the rest held out)::

    rmtloss diagnose init=true model=custom model._target_=examples.conv_nets.bn_residual_net \\
        data=custom data._target_=examples.conv_nets.digits_images hydra.run.dir=results/diagnosis/bn
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class _Images(nn.Module):
    """Flat ``(n, side*side)`` inputs as one-channel images."""

    def __init__(self, side: int) -> None:
        super().__init__()
        self.side = side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, 1, self.side, self.side)


def _side(input_shape: tuple[int, ...]) -> int:
    side = int(round(np.prod(input_shape) ** 0.5))
    if side * side != int(np.prod(input_shape)):
        raise ValueError(f"square one-channel images expected, got inputs of shape {input_shape}")
    return side


def bn_residual_net(input_shape: tuple[int, ...], num_outputs: int, channels: int = 8) -> nn.Module:
    """conv(1->c) BN ReLU, a residual block of two 3x3 convolutions with BatchNorm, pooling, linear."""
    return nn.Sequential(_Images(_side(input_shape)), nn.Conv2d(1, channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(channels), nn.ReLU(), _Residual(channels), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(channels, num_outputs))


def resnet18(input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """torchvision's ResNet-18 as it is (7x7 stride-2 stem, max-pool), with a one-channel stem.

    (With a 3x3 stride-1 stem and no max-pool, 8x8 images keep their size through the first stage:
    one full-data Hessian-vector product on 1,200 images then took 27 s on 2 cores: 80 Lanczos steps about
    36 minutes by the progress bar's estimate.)"""
    from torchvision.models import resnet18 as tv_resnet18

    net = tv_resnet18(num_classes=num_outputs)
    net.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
    return nn.Sequential(_Images(_side(input_shape)), net)


def digits_images(train: int = 1200, seed: int = 0) -> dict:
    """scikit-learn's 8x8 digits scaled to [0, 1]: ``train`` images for training, the rest held out."""
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))
    x = x.astype(np.float32) / 16.0
    tr, te = order[:train], order[train:]
    return {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te], "num_classes": 10}
