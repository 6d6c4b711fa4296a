"""Networks of the papers, at the scale of sklearn's digits and diabetes data.

| name | shape | P (digits / diabetes) | paper analogue |
| --- | --- | --- | --- |
| ``logistic`` | 64 -> 10 softmax regression | 650 | MNIST logistic regression (P = 7850) |
| ``mlp`` | 64 -> 10 -> 30 -> 10, ReLU | 1290 | MNIST MLP 784 -> 10 -> 100 -> 10 |
| ``deep_mlp`` | 64 -> 10 -> 30 -> 30 -> 10, ReLU | 2220 | MNIST MLP_deep |
| ``cnn`` | conv(1->4,3) ReLU conv(4->8,3) ReLU fc(128->10) on 8x8 | 1626 | LeNet on CIFAR-10 |
| ``regression_mlp`` | 10 -> 40 -> 20 -> 1, ReLU, MSE | 1281 | Bike MLP 13 -> 100 -> 100 -> 50 -> 1 |

(``papers_empirical.md`` section 3.5.)
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from rmtloss.errors import require

NAMES = ("logistic", "mlp", "deep_mlp", "cnn", "regression_mlp")


def mlp(sizes: list[int]) -> nn.Sequential:
    """A ReLU MLP with layer widths ``sizes`` (input first, output last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    """Two 3x3 convolutions and a linear read-out, for flat square images (8x8 digits)."""

    def __init__(self, side: int, channels: list[int], num_classes: int) -> None:
        super().__init__()
        self.side = side
        c1, c2 = channels
        self.features = nn.Sequential(nn.Conv2d(1, c1, 3), nn.ReLU(), nn.Conv2d(c1, c2, 3),
                                      nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(c2 * (side - 4) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map flat inputs ``(n, side*side)`` to logits ``(n, classes)``."""
        return self.head(self.features(x.reshape(-1, 1, self.side, self.side)))


def build(cfg: DictConfig, num_features: int, num_outputs: int) -> nn.Module:
    """Build the network named by ``cfg.name`` for the given input and output sizes.

    Raises:
        ConfigError: for an unknown name or hidden sizes that are not positive.
    """
    name = cfg.name
    require(name in NAMES, "model.name", f"unknown model '{name}'; choose one of {', '.join(NAMES)}")
    hidden = [int(h) for h in cfg.get("hidden", [])]
    require(all(h > 0 for h in hidden), "model.hidden", f"widths must be positive (got {hidden})")
    if name == "logistic":
        return nn.Linear(num_features, num_outputs)
    if name == "cnn":
        side = int(round(num_features**0.5))
        require(side * side == num_features and side > 4, "data.name",
                f"the cnn needs square images larger than 4x4 (got {num_features} features)")
        require(len(hidden) == 2, "model.hidden", "the cnn takes two channel counts")
        return SmallCNN(side, hidden, num_outputs)
    return mlp([num_features, *hidden, num_outputs])


def num_params(model: nn.Module) -> int:
    """Number of trainable parameters P."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error of a one-output regression, :math:`(1/n)\\sum_i (f_i - y_i)^2`."""
    return ((outputs[:, 0] - targets) ** 2).mean()


def loss_function(task: str):  # noqa: ANN201 - returns a loss callable
    """The papers' losses: mean cross-entropy for classification, mean squared error otherwise."""
    return nn.functional.cross_entropy if task == "classification" else mse
