"""Networks of the papers, at the scale of sklearn's digits and diabetes data.

| name | shape | P (digits / diabetes) | paper analogue |
| --- | --- | --- | --- |
| ``logistic`` | 64 -> 10 softmax regression | 650 | MNIST logistic regression (P = 7850) |
| ``mlp`` | 64 -> 10 -> 30 -> 10, ReLU | 1290 | MNIST MLP 784 -> 10 -> 100 -> 10 |
| ``deep_mlp`` | 64 -> 10 -> 30 -> 30 -> 10, ReLU | 2220 | MNIST MLP_deep |
| ``cnn`` | conv(1->4,3) ReLU conv(4->8,3) ReLU fc(128->10) on 8x8 | 1626 | LeNet on CIFAR-10 |
| ``regression_mlp`` | 10 -> 40 -> 20 -> 1, ReLU, MSE | 1281 | Bike MLP 13 -> 100 -> 100 -> 50 -> 1 |

(The reduced scale of arXiv 2102.06740.) At paper scale the same ``mlp`` with ``hidden=[10, 100]``
on MNIST is the authors' ``Mnist_NN`` (P = 9960), and:

| name | shape | P |
| --- | --- | --- |
| ``lenet`` | LeNetsmall: conv(3->6,5) pool conv(6->16,5) pool fc 400->35->50->10 | 19217 (CIFAR-10) |
| ``vgg16`` | VGG-16 without BatchNorm, CIFAR classifier 512->512->512->C with dropout | 15.3M (CIFAR-100) |
| ``preresnet`` | pre-activation ResNet for CIFAR, depth 6n+2 (He et al. 2016) | 1.73M at depth 110 |
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from rmtloss.errors import ConfigError, require
from rmtloss.nets import custom

NAMES = ("logistic", "mlp", "deep_mlp", "cnn", "regression_mlp", "lenet", "vgg16", "preresnet")
_VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def mlp(sizes: list[int]) -> nn.Sequential:
    """A ReLU MLP with layer widths ``sizes`` (input first, output last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Unflatten(nn.Module):
    """Reshape flat inputs ``(n, C*H*W)`` to images ``(n, C, H, W)``."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return x.reshape(-1, *self.shape)


def lenet(shape: tuple[int, ...], num_classes: int) -> nn.Sequential:
    """The authors' LeNetsmall (their GadamX code), for 32x32 (or 28x28) images."""
    side = ((shape[1] - 4) // 2 - 4) // 2
    return nn.Sequential(Unflatten(shape), nn.Conv2d(shape[0], 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * side * side, 35), nn.ReLU(), nn.Linear(35, 50), nn.ReLU(),
                         nn.Linear(50, num_classes))


def vgg16(shape: tuple[int, ...], num_classes: int, dropout: float = 0.5) -> nn.Sequential:
    """VGG-16 without BatchNorm, with the CIFAR classifier of Granziol's code base (swa ``VGG16``)."""
    layers: list[nn.Module] = [Unflatten(shape)]
    channels = shape[0]
    for v in _VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, int(v), 3, padding=1), nn.ReLU()]
            channels = int(v)
    side = shape[1] // 32
    layers += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(512 * side * side, 512), nn.ReLU(),
               nn.Dropout(dropout), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


class PreActBlock(nn.Module):
    """Pre-activation basic block: BN-ReLU-conv-BN-ReLU-conv plus the (projected) input."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = (nn.Conv2d(cin, cout, 1, stride, bias=False)
                         if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        out = torch.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        return self.conv2(torch.relu(self.bn2(out))) + skip


def preresnet(shape: tuple[int, ...], num_classes: int, depth: int = 110, width: int = 16) -> nn.Sequential:
    """Pre-activation ResNet for CIFAR of depth 6n + 2 (``width``, 2 ``width``, 4 ``width`` channels:
    16, 32, 64 as He et al. 2016; about 298 ``width``^2 parameters at depth 8, e.g. 11k at width 6)."""
    require((depth - 2) % 6 == 0 and depth >= 8, "model.depth",
            f"a CIFAR PreResNet has depth 6n+2 (8, 14, 20, ..., 110, 164); got {depth}")
    n = (depth - 2) // 6
    layers: list[nn.Module] = [Unflatten(shape), nn.Conv2d(shape[0], width, 3, padding=1, bias=False)]
    cin = width
    for cout, stride in ((width, 1), (2 * width, 2), (4 * width, 2)):
        for i in range(n):
            layers.append(PreActBlock(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(cin, num_classes)]
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


def image_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """``(C, H, W)`` of image inputs: given as such, or flat square grey images (mnist5k's 784 pixels
    as ``(1, 28, 28)``; at least 8x8); ``None`` for anything else."""
    if len(input_shape) == 3:
        return tuple(input_shape)
    side = int(round(input_shape[0] ** 0.5)) if len(input_shape) == 1 else 0
    return (1, side, side) if side >= 8 and side * side == input_shape[0] else None


def build(cfg: DictConfig, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """Build the network named by ``cfg.name`` for inputs of ``input_shape`` (given flat).

    Raises:
        ConfigError: for an unknown name or hidden sizes that are not positive.
    """
    if custom.is_custom(cfg):
        return build_custom(cfg, tuple(input_shape), num_outputs)
    name = cfg.name
    require(name in NAMES, "model.name",
            f"unknown model '{name}'; choose one of {', '.join(NAMES)}, or model=custom with model._target_")
    hidden = [int(h) for h in cfg.get("hidden", [])]
    require(all(h > 0 for h in hidden), "model.hidden", f"widths must be positive (got {hidden})")
    num_features = int(torch.Size(input_shape).numel())
    if name in ("lenet", "vgg16", "preresnet"):
        shape = image_shape(tuple(input_shape))
        require(shape is not None, "data.name", f"{name} needs image data (got inputs of "
                f"shape {tuple(input_shape)})")
        if name == "lenet":
            return lenet(shape, num_outputs)
        if name == "vgg16":
            return vgg16(shape, num_outputs, float(cfg.get("dropout", 0.5)))
        return preresnet(shape, num_outputs, int(cfg.get("depth", 110)), int(cfg.get("width", 16)))
    if name == "logistic":
        return nn.Linear(num_features, num_outputs)
    if name == "cnn":
        side = int(round(num_features**0.5))
        require(side * side == num_features and side > 4, "data.name",
                f"the cnn needs square images larger than 4x4 (got {num_features} features)")
        require(len(hidden) == 2, "model.hidden", "the cnn takes two channel counts")
        return SmallCNN(side, hidden, num_outputs)
    return mlp([num_features, *hidden, num_outputs])


def build_custom(cfg: DictConfig, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """The network of ``cfg._target_`` (:mod:`rmtloss.nets.custom`), fed samples in their own shape.

    The stages hold inputs flat, ``(b, prod(input_shape))``; for multi-dimensional samples a forward
    pre-hook unflattens them, so the target sees ``(b, *input_shape)`` and its ``state_dict`` keeps
    its own keys (weights saved from it load as they are).

    Raises:
        ConfigError: naming ``model._target_``: not importable, not callable, not returning an
            ``nn.Module``, or an output of another shape than ``(b, num_outputs)``.
    """
    target = cfg._target_
    net = custom.call(cfg, "model._target_", input_shape=input_shape, num_outputs=num_outputs)
    require(isinstance(net, nn.Module), "model._target_",
            f"'{target}' returned {type(net).__name__}; it must return a torch.nn.Module")
    if len(input_shape) > 1:
        net.register_forward_pre_hook(lambda _, args: (args[0].unflatten(1, input_shape), *args[1:]))
    probe = torch.zeros(2, int(torch.Size(input_shape).numel()),
                        dtype=next(net.parameters(), torch.zeros(())).dtype)
    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            out = net(probe)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's forward
        raise ConfigError("model._target_",
                          f"'{target}' fails on inputs of shape (2, *{input_shape}): {exc}") from exc
    net.train(was)
    require(tuple(out.shape) == (2, num_outputs), "model._target_",
            f"'{target}' gives outputs of shape {tuple(out.shape)} for 2 samples; the data need "
            f"(2, {num_outputs}) "
            f"({num_outputs} {'classes' if num_outputs > 1 else 'output'})")
    return net


def num_params(model: nn.Module) -> int:
    """Number of trainable parameters P."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error of a one-output regression, :math:`(1/n)\\sum_i (f_i - y_i)^2`."""
    return ((outputs[:, 0] - targets) ** 2).mean()


def loss_function(task: str):  # noqa: ANN201 - returns a loss callable
    """The papers' losses: mean cross-entropy for classification, mean squared error otherwise."""
    return nn.functional.cross_entropy if task == "classification" else mse
