"""Damping as shrinkage: Adam with ε as a shrinkage coefficient and the RMT damping learner.

Follows Granziol & Baskerville, "A random matrix theory approach to damping in deep learning"
(Granziol & Baskerville 2022, arXiv 2011.08181).

A damped preconditioned step is :math:`\\Delta w = -\\eta (B + \\delta I)^{-1} g` with ``B`` the
curvature estimate (``diag(sqrt(v_hat))`` for Adam). The identity

.. math:: B + \\delta I = (1 + \\delta)\\,[(1 - \\rho) B + \\rho I],
          \\qquad \\rho = \\frac{\\delta}{1 + \\delta}

splits damping into a learning-rate reduction by :math:`1/(1+\\delta)` and a linear shrinkage of
``B`` towards the identity with coefficient :math:`\\rho`. The authors' code multiplies the
learning rate by :math:`1 + \\delta` so that only the shrinkage remains; :class:`DampedAdam` does
the same with ``shrinkage=True``.

The RMT damping learner (the authors' ``*_damping_gap.py``) sets δ from the noise variance of batch
Hessian-vector products on a fixed statistics subset: with a random unit ``z`` and the products
:math:`h_k = H_k z` of the statistics batches,
:math:`\\text{hess\\_var} = \\frac1K\\sum_k \\|h_k\\|^2 - \\|\\frac1K\\sum_k h_k\\|^2`, and

.. math:: \\delta_t = \\begin{cases} \\delta_{\\min} + \\text{hess\\_var} & \\delta_{t-1} = 0 \\\\
          0.7\\,\\delta_{t-1} + 0.3\\,(\\delta_{\\min} + \\text{hess\\_var}) & \\text{otherwise,} \\end{cases}

applied every ``every`` optimiser steps as Adam's ε (with the learning rate × (1 + δ)).

A K-FAC with the same learner is not implemented (see the project notes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from omegaconf import DictConfig
from torch import nn

from rmtloss.errors import require
from rmtloss.hessian import HessianOperator

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
OPTIMIZERS = ("sgd", "adam")


def shrinkage_form(delta: float) -> tuple[float, float]:
    """The factors of :math:`B + \\delta I = s\\,[(1-\\rho)B + \\rho I]`: returns ``(s, rho)``.

    Args:
        delta: the damping δ >= 0.

    Returns:
        ``s = 1 + delta`` (the learning-rate reduction undone by the authors' code) and
        ``rho = delta / (1 + delta)`` (the shrinkage coefficient, in [0, 1)).
    """
    require(delta >= 0, "optimizer.eps", f"damping must be >= 0 (got {delta})")
    return 1.0 + delta, delta / (1.0 + delta)


class DampedAdam(torch.optim.Optimizer):
    """Adam with ε outside the square root and optional shrinkage scaling of the learning rate.

    The update of each parameter is
    :math:`p \\leftarrow p - \\eta' \\hat m / (\\sqrt{\\hat v} + \\varepsilon)`
    with :math:`\\eta' = \\eta (1 + \\varepsilon)` when ``shrinkage`` is on (P4: the damping then only
    shrinks the curvature estimate) and :math:`\\eta' = \\eta` otherwise, in which case the
    arithmetic is that of ``torch.optim.Adam`` (L2 weight decay added to the gradient).

    Args:
        params: parameters or parameter groups.
        lr: η. betas: (β1, β2). eps: ε, the damping. weight_decay: L2 coefficient.
        shrinkage: multiply the learning rate by 1 + ε.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        shrinkage: bool = False,
    ) -> None:
        require(lr > 0, "optimizer.lr", f"must be > 0 (got {lr})")
        require(all(0 <= b < 1 for b in betas), "optimizer.betas", f"each must be in [0, 1) (got {betas})")
        require(math.isfinite(eps) and eps >= 0, "optimizer.eps", f"must be >= 0 (got {eps})")
        require(weight_decay >= 0, "optimizer.weight_decay", f"must be >= 0 (got {weight_decay})")
        super().__init__(
            params,
            {
                "lr": lr,
                "betas": tuple(betas),
                "eps": eps,
                "weight_decay": weight_decay,
                "shrinkage": shrinkage,
            },
        )

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One Adam step for every parameter with a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            lr = group["lr"] * shrinkage_form(eps)[0] if group["shrinkage"] else group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if wd == 0 else p.grad.add(p, alpha=wd)
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                step = float(state["step"])
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step_size = lr / (1 - beta1**step)
                denom = (exp_avg_sq.sqrt() / (1 - beta2**step) ** 0.5).add_(eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


class DampingLearner:
    """The authors' RMT damping learner: δ from the Hessian noise variance, every ``every`` steps.

    Args:
        model: the network being trained (its parameters are read live, never copied).
        loss_fn: batch-mean loss ``loss_fn(outputs, targets)``.
        stats_batches: the fixed statistics subset in mini-batches (the authors: 1024 samples in
            batches of 128).
        delta_min: δ_min, the floor and initial damping (``--damping``).
        every: update δ every this many optimiser steps (``damping_gap``).
        decay: weight of the previous δ in the moving average (0.7).
        seed: seed of the random directions z.
        initial: δ before the first update (0: the first update sets δ_min + hess_var).

    Attributes:
        delta: the current δ. history: ``(step, delta, hess_var)`` of every update.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        stats_batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
        delta_min: float,
        *,
        every: int = 1,
        decay: float = 0.7,
        seed: int = 5,
        initial: float = 0.0,
    ) -> None:
        require(delta_min >= 0, "optimizer.eps", f"the learner's delta_min must be >= 0 (got {delta_min})")
        require(every >= 1, "optimizer.learner.every", f"must be >= 1 (got {every})")
        require(0 <= decay < 1, "optimizer.learner.decay", f"must be in [0, 1) (got {decay})")
        require(
            len(stats_batches) >= 2,
            "optimizer.learner.stats_samples",
            "the noise variance needs at least two statistics batches; raise stats_samples or "
            "lower stats_batch",
        )
        self.ops = [HessianOperator(model, loss_fn, [b], check_deterministic=False) for b in stats_batches]
        self.delta_min, self.every, self.decay = float(delta_min), int(every), float(decay)
        self.delta = float(initial)
        self.gen = torch.Generator().manual_seed(int(seed))
        self.steps = 0
        self.history: list[tuple[int, float, float]] = []

    def hessian_variance(self) -> float:
        """hess_var = mean_k |H_k z|^2 - |mean_k H_k z|^2 for a fresh random unit z."""
        z = torch.randn(self.ops[0].size, generator=self.gen, dtype=torch.float64)
        z /= z.norm()
        h = torch.stack([op.matvec(z) for op in self.ops])
        return float(h.pow(2).sum(1).mean() - h.mean(0).pow(2).sum())

    def update(self) -> float:
        """Draw z, measure hess_var and move δ by the moving-average rule; returns the new δ."""
        var = self.hessian_variance()
        target = self.delta_min + var
        self.delta = target if self.delta == 0 else self.decay * self.delta + (1 - self.decay) * target
        self.history.append((self.steps, self.delta, var))
        return self.delta

    def after_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Count an optimiser step; every ``every`` steps update δ and set it as the optimiser's ε."""
        self.steps += 1
        if self.steps % self.every == 0:
            self.update()
            for group in optimizer.param_groups:
                group["eps"] = self.delta

    def state_dict(self) -> dict:
        """δ, the step count, the history and the generator state (for resuming)."""
        return {
            "delta": self.delta,
            "steps": self.steps,
            "history": list(self.history),
            "generator": self.gen.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.delta, self.steps = float(state["delta"]), int(state["steps"])
        self.history = [tuple(h) for h in state["history"]]
        self.gen.set_state(state["generator"])


def build_optimizer(cfg: DictConfig, params: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
    """SGD with momentum or :class:`DampedAdam` from the ``optimizer`` config group."""
    require(
        cfg.name in OPTIMIZERS,
        "optimizer.name",
        f"unknown optimizer '{cfg.name}'; choose one of {', '.join(OPTIMIZERS)}",
    )
    if cfg.name == "sgd":
        require(cfg.lr > 0, "optimizer.lr", f"must be > 0 (got {cfg.lr})")
        require(cfg.weight_decay >= 0, "optimizer.weight_decay", f"must be >= 0 (got {cfg.weight_decay})")
        require(0 <= cfg.momentum < 1, "optimizer.momentum", f"must be in [0, 1) (got {cfg.momentum})")
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return DampedAdam(  # checks lr, betas, eps and weight_decay itself
        params,
        lr=cfg.lr,
        betas=tuple(cfg.betas),
        eps=cfg.eps,
        weight_decay=cfg.weight_decay,
        shrinkage=bool(cfg.shrinkage),
    )


def learner_enabled(cfg: DictConfig) -> bool:
    """Whether the ``optimizer`` config asks for the damping learner."""
    return cfg.name == "adam" and bool(cfg.get("learner", {}).get("enabled", False))


def build_learner(
    cfg: DictConfig, model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor
) -> DampingLearner:
    """The learner of ``cfg.learner`` on a seeded statistics subset of the training data ``(x, y)``."""
    lc = cfg.learner
    require(
        0 < lc.stats_batch <= lc.stats_samples,
        "optimizer.learner.stats_batch",
        f"must be in (0, stats_samples] (got {lc.stats_batch})",
    )
    n = min(int(lc.stats_samples), len(x))
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(int(lc.seed)))[:n].to(x.device)
    batches = list(zip(x[idx].split(int(lc.stats_batch)), y[idx].split(int(lc.stats_batch)), strict=True))
    return DampingLearner(
        model, loss_fn, batches, float(cfg.eps), every=int(lc.every), decay=float(lc.decay), seed=int(lc.seed)
    )
