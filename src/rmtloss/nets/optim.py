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

applied every ``every`` optimiser steps as Adam's ε or K-FAC's damping (with the learning rate
× (1 + δ)). The linear-shrinkage (Ledoit–Wolf) variant of the authors' ``autodamping_KFAC.py``,
:class:`ShrinkageLearner`, learns the shrinkage intensity instead and has no floor; it is the
learner the paper presents "for second-order optimisers" (:class:`rmtloss.nets.kfac.KFAC`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from omegaconf import DictConfig
from torch import nn

from rmtloss.errors import require
from rmtloss.hessian import HessianOperator
from rmtloss.nets.kfac import KFAC

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
OPTIMIZERS = ("sgd", "adam", "kfac")
LEARNERS = ("gap", "shrinkage")


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


class _HessianNoise:
    """Batch Hessian-vector products on a fixed statistics subset, the learners' measurement.

    Args:
        model: the network being trained (its parameters are read live, never copied).
        loss_fn: batch-mean loss ``loss_fn(outputs, targets)``.
        stats_batches: the fixed statistics subset in mini-batches (the authors: 1024 samples in
            batches of 128); at least two.
        seed: seed of the random unit directions z.
        compile: ``torch.compile`` the products (``optimizer.learner.compile``): the batches share
            one graph per batch shape, cross-checked once against eager
            (:class:`~rmtloss.hessian.operators.CurvatureOperator`); the graph reads the live
            parameters, so it stays valid as training moves them.
    """

    def __init__(
        self, model: nn.Module, loss_fn: LossFn, stats_batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
        seed: int, compile: bool = False,  # noqa: A002 - the setting's name
    ) -> None:
        require(
            len(stats_batches) >= 2,
            "optimizer.learner.stats_samples",
            "the noise variance needs at least two statistics batches; raise stats_samples or "
            "lower stats_batch",
        )
        self.ops = [HessianOperator(model, loss_fn, [b], check_deterministic=False, compile=compile)
                    for b in stats_batches]
        self.gen = torch.Generator().manual_seed(int(seed))

    def products(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A fresh random unit ``z`` and the ``K × P`` products :math:`h_k = H_k z`."""
        z = torch.randn(self.ops[0].size, generator=self.gen, dtype=torch.float64)
        z /= z.norm()
        return z, torch.stack([op.matvec(z) for op in self.ops])

    @staticmethod
    def variance(h: torch.Tensor) -> float:
        """hess_var = mean_k |h_k|^2 - |mean_k h_k|^2."""
        return float(h.pow(2).sum(1).mean() - h.mean(0).pow(2).sum())


class DampingLearner(_HessianNoise):
    """The authors' damping-gap learner: δ from the Hessian noise variance, every ``every`` steps.

    With a random unit ``z`` and the products :math:`h_k = H_k z` of the statistics batches,
    :math:`\\delta_t = 0.7\\,\\delta_{t-1} + 0.3\\,(\\delta_{\\min} + \\text{hess\\_var})` (module
    docstring; ``adam_damping_gap.py``, ``KFAC_damping_gap.py``): δ never falls below δ_min.

    Args:
        model, loss_fn, stats_batches, seed, compile: as :class:`_HessianNoise`.
        delta_min: δ_min, the floor and initial damping (``--damping``).
        every: update δ every this many optimiser steps (``damping_gap``).
        decay: weight of the previous δ in the moving average (0.7).
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
        compile: bool = False,  # noqa: A002 - the setting's name
    ) -> None:
        require(delta_min >= 0, "optimizer.eps", f"the learner's delta_min must be >= 0 (got {delta_min})")
        require(every >= 1, "optimizer.learner.every", f"must be >= 1 (got {every})")
        require(0 <= decay < 1, "optimizer.learner.decay", f"must be in [0, 1) (got {decay})")
        super().__init__(model, loss_fn, stats_batches, seed, compile)
        self.delta_min, self.every, self.decay = float(delta_min), int(every), float(decay)
        self.delta = float(initial)
        self.steps = 0
        self.history: list[tuple[int, float, float]] = []

    def hessian_variance(self) -> float:
        """hess_var for a fresh random unit z."""
        return self.variance(self.products()[1])

    def update(self, lr: float = 0.0) -> float:  # noqa: ARG002 - the shrinkage learner's signature
        """Draw z, measure hess_var and move δ by the moving-average rule; returns the new δ."""
        var = self.hessian_variance()
        target = self.delta_min + var
        self.delta = target if self.delta == 0 else self.decay * self.delta + (1 - self.decay) * target
        self.history.append((self.steps, self.delta, var))
        return self.delta

    def start(self, optimizer: torch.optim.Optimizer) -> None:
        """Before the first optimiser step: the first update, as the authors' loop runs it at step 0
        (``KFAC_damping_gap.py``: ``if steps % damping_gap == 0`` before the step; CLAIMS.md v3). The
        optimiser therefore never steps at the starting damping δ_min alone."""
        set_damping(optimizer, self.update(float(optimizer.param_groups[0]["lr"])))

    def after_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Count an optimiser step; every ``every`` steps update δ and set it as the optimiser's
        damping (Adam's ε, K-FAC's λ)."""
        self.steps += 1
        if self.steps % self.every == 0:
            set_damping(optimizer, self.update(float(optimizer.param_groups[0]["lr"])))

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


class ShrinkageLearner(DampingLearner):
    """The linear-shrinkage (Ledoit–Wolf) learner of the authors' ``autodamping_KFAC.py``.

    With the mean product :math:`\\bar h = \\frac1K\\sum_k h_k` over the K statistics batches, the
    Rayleigh quotient :math:`\\mu = z^T\\bar h` and the distance to the shrinkage target
    :math:`\\Delta = \\|\\bar h - \\mu z\\|^2`, the shrinkage intensity is

    .. math:: \\alpha = \\mathrm{clip}\\Big(1 - \\frac{\\text{hess\\_var}}{K\\,\\Delta},
              \\alpha_{\\min}, 1\\Big),
              \\qquad \\bar\\alpha \\leftarrow d\\,\\bar\\alpha + (1 - d)\\,\\alpha,
              \\qquad \\delta = \\frac{1 - \\bar\\alpha}{\\bar\\alpha} + \\eta

    (``d = decay``, the authors' 0.5; η the current learning rate): α → 1 without batch noise, smaller
    with more. There is no floor: ᾱ starts at 1 / (1 + δ_0), the damping δ_0 the optimiser starts
    from, and forgets it geometrically. ``alpha_min`` keeps δ finite when the noise swamps Δ.

    Args:
        model, loss_fn, stats_batches, seed, every, decay, compile: as :class:`DampingLearner`.
        initial: δ_0. alpha_min: the floor of α (δ at most 1 / alpha_min + η).

    Attributes:
        delta, alpha: the current δ and ᾱ. history: ``(step, delta, hess_var)`` of every update.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        stats_batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
        initial: float,
        *,
        every: int = 1,
        decay: float = 0.5,
        seed: int = 5,
        alpha_min: float = 1e-3,
        compile: bool = False,  # noqa: A002 - the setting's name
    ) -> None:
        require(initial > 0, "optimizer.damping",
                f"the shrinkage learner's start (K-FAC's damping, Adam's eps) must be > 0 (got {initial})")
        require(0 < alpha_min < 1, "optimizer.learner.alpha_min", f"must be in (0, 1) (got {alpha_min})")
        super().__init__(model, loss_fn, stats_batches, 0.0, every=every, decay=decay, seed=seed,
                         initial=initial, compile=compile)
        self.alpha, self.alpha_min = 1.0 / (1.0 + float(initial)), float(alpha_min)

    def start(self, optimizer: torch.optim.Optimizer) -> None:  # noqa: ARG002 - the gap learner's signature
        """No update before the first step: the Ledoit–Wolf learner keeps version 2's timing (first
        update after ``every`` steps; reported beside the deciding gap learner, CLAIMS.md v3)."""

    def intensity(self) -> tuple[float, float]:
        """α of a fresh random unit z (clipped to [alpha_min, 1]) and its hess_var."""
        z, h = self.products()
        mean = h.mean(0)
        mu = float(z @ mean)
        spread = float((mean - mu * z).pow(2).sum())
        var = self.variance(h)
        raw = 1.0 - var / (len(h) * spread) if spread > 0 else self.alpha_min
        return min(1.0, max(self.alpha_min, raw)), var

    def update(self, lr: float = 0.0) -> float:
        """Measure α, move ᾱ and set δ = (1 − ᾱ)/ᾱ + lr; returns the new δ."""
        alpha, var = self.intensity()
        self.alpha = self.decay * self.alpha + (1 - self.decay) * alpha
        self.delta = (1 - self.alpha) / self.alpha + lr
        self.history.append((self.steps, self.delta, var))
        return self.delta

    def state_dict(self) -> dict:
        """:meth:`DampingLearner.state_dict` and ᾱ."""
        return {**super().state_dict(), "alpha": self.alpha}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        super().load_state_dict(state)
        self.alpha = float(state["alpha"])


def set_damping(optimizer: torch.optim.Optimizer, value: float) -> None:
    """Set the damping of every parameter group: Adam's ``eps`` or K-FAC's ``damping``."""
    for group in optimizer.param_groups:
        group["eps" if "eps" in group else "damping"] = value


def damping_of(optimizer: torch.optim.Optimizer) -> float:
    """The current damping (Adam's ε, K-FAC's λ); NaN for an optimiser without one (SGD)."""
    group = optimizer.param_groups[0]
    return float(group.get("eps", group.get("damping", float("nan"))))


def build_optimizer(cfg: DictConfig, model: nn.Module, task: str = "classification") -> torch.optim.Optimizer:
    """SGD with momentum, :class:`DampedAdam` or :class:`rmtloss.nets.kfac.KFAC` over ``model``'s
    parameters, from the ``optimizer`` config group."""
    require(
        cfg.name in OPTIMIZERS,
        "optimizer.name",
        f"unknown optimizer '{cfg.name}'; choose one of {', '.join(OPTIMIZERS)}",
    )
    if cfg.name == "sgd":
        require(cfg.lr > 0, "optimizer.lr", f"must be > 0 (got {cfg.lr})")
        require(cfg.weight_decay >= 0, "optimizer.weight_decay", f"must be >= 0 (got {cfg.weight_decay})")
        require(0 <= cfg.momentum < 1, "optimizer.momentum", f"must be in [0, 1) (got {cfg.momentum})")
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)
    if cfg.name == "kfac":
        return KFAC(  # checks its settings itself
            model, task, cfg.lr, momentum=cfg.momentum, damping=cfg.damping, weight_decay=cfg.weight_decay,
            stat_decay=cfg.stat_decay, kl_clip=cfg.kl_clip, cov_every=cfg.cov_every, inv_every=cfg.inv_every,
            fisher=cfg.fisher, shrinkage=bool(cfg.shrinkage), seed=int(cfg.seed),
        )
    return DampedAdam(  # checks lr, betas, eps and weight_decay itself
        model.parameters(),
        lr=cfg.lr,
        betas=tuple(cfg.betas),
        eps=cfg.eps,
        weight_decay=cfg.weight_decay,
        shrinkage=bool(cfg.shrinkage),
    )


def learner_enabled(cfg: DictConfig) -> bool:
    """Whether the ``optimizer`` config asks for a damping learner (Adam and K-FAC have one)."""
    return cfg.name in ("adam", "kfac") and bool(cfg.get("learner", {}).get("enabled", False))


def initial_damping(cfg: DictConfig) -> float:
    """The damping an optimiser config starts from: Adam's ``eps``, K-FAC's ``damping``."""
    return float(cfg.eps if cfg.name == "adam" else cfg.damping)


def build_learner(
    cfg: DictConfig, model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor
) -> DampingLearner:
    """The learner of ``cfg.learner`` (``variant``: ``gap`` or ``shrinkage``) on a seeded statistics
    subset of the training data ``(x, y)``, started from the optimiser's damping."""
    lc = cfg.learner
    require(lc.variant in LEARNERS, "optimizer.learner.variant",
            f"unknown learner '{lc.variant}'; choose one of {', '.join(LEARNERS)}")
    require(
        2 <= lc.stats_samples <= len(x),
        "optimizer.learner.stats_samples",
        f"must be in [2, {len(x)}], the training samples (got {lc.stats_samples})",
    )
    require(
        0 < lc.stats_batch <= lc.stats_samples,
        "optimizer.learner.stats_batch",
        f"must be in (0, stats_samples] (got {lc.stats_batch})",
    )
    gen = torch.Generator().manual_seed(int(lc.seed))
    idx = torch.randperm(len(x), generator=gen)[: int(lc.stats_samples)].to(x.device)
    batches = list(zip(x[idx].split(int(lc.stats_batch)), y[idx].split(int(lc.stats_batch)), strict=True))
    kw = {"every": int(lc.every), "decay": float(lc.decay), "seed": int(lc.seed),
          "compile": bool(lc.get("compile", False))}  # False in a run's config written before the setting
    if lc.variant == "shrinkage":
        return ShrinkageLearner(model, loss_fn, batches, initial_damping(cfg), alpha_min=float(lc.alpha_min),
                                **kw)
    return DampingLearner(model, loss_fn, batches, initial_damping(cfg), **kw)
