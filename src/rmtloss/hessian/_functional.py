"""The loss as a function of one flat parameter vector, for ``torch.func`` transforms."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def flat_params(model: nn.Module) -> torch.Tensor:
    """Concatenate the trainable parameters of ``model`` (in ``named_parameters`` order)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters() if p.requires_grad])


def functional_model(model: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Return ``out(theta, x)``: the network's output with flat parameters ``theta``.

    Buffers (if any) are taken as they are; the module is used in its current train/eval mode.
    """
    named = [(n, p.shape, p.numel()) for n, p in model.named_parameters() if p.requires_grad]
    buffers = dict(model.named_buffers())

    def out(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        params, start = {}, 0
        for name, shape, size in named:
            params[name] = theta[start:start + size].view(shape)
            start += size
        return functional_call(model, (params, buffers), (x,))

    return out


def functional_loss(model: nn.Module, loss_fn: LossFn
                    ) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """Return ``loss(theta, x, y) = loss_fn(model(x; theta), y)`` (the batch mean)."""
    out = functional_model(model)

    def loss(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_fn(out(theta, x), y)

    return loss
