"""K-FAC with eigen-decomposed Kronecker factors: the second-order optimiser of the damping paper.

Kronecker-factored approximate curvature (Martens & Grosse 2015, "Optimizing neural networks with
Kronecker-factored approximate curvature", ICML; convolutions: Grosse & Martens 2016) in the form
the damping paper's experiments use (Granziol & Baskerville 2022, arXiv 2011.08181; the authors'
``optimizers/kfac.py``).

For a ``Linear`` or ``Conv2d`` layer with weight ``W`` (and bias ``b``, folded in as a last input
column) the Fisher block is approximated by a Kronecker product :math:`G \\otimes A` of the input
covariance :math:`A = E[\\tilde a \\tilde a^T]` (``ã``: the layer input with a 1 appended; for a
convolution its patches) and the covariance :math:`G = E[g g^T]` of the gradients with respect to the
layer output, labels drawn from the model's predictive distribution (``fisher="mc"``, the
authors' choice; ``"type-2"`` uses the exact output Hessian, ``"empirical"`` the true labels). The
factors of a batch come from curvlinops' :class:`curvlinops.KFACLinearOperator`
(``compute_kronecker_factors``, weights and biases joint); this module only keeps their moving
averages and applies them:

* every ``cov_every`` steps, :math:`\\bar A \\leftarrow s\\bar A + (1-s)A` and the same for ``G``
  (``s = stat_decay``; the first batch sets them);
* every ``inv_every`` steps, :math:`\\bar A = Q_a\\,\\mathrm{diag}(d_a)Q_a^T`,
  :math:`\\bar G = Q_g\\,\\mathrm{diag}(d_g)Q_g^T` (eigenvalues below 1e-10 set to 0);
* every step, the natural gradient of the joint gradient matrix :math:`\\nabla = [\\nabla_W, \\nabla_b]`,

  .. math:: V = Q_g\\Big[\\frac{Q_g^T \\nabla Q_a}{d_g d_a^T + \\lambda}\\Big]Q_a^T
            = (\\bar G \\otimes \\bar A + \\lambda I)^{-1}\\,\\mathrm{vec}(\\nabla),

  rescaled by :math:`\\nu = \\min(1, \\sqrt{\\kappa / (\\eta^2 \\sum V \\odot \\nabla)})` (KL clipping,
  ``kl_clip`` = κ; off at 0), replaces the gradient in an SGD step with momentum and L2 weight
  decay. With ``shrinkage`` the learning rate is :math:`\\eta(1+\\lambda)` (as
  :class:`rmtloss.nets.optim.DampedAdam`: damping then only shrinks the curvature towards the
  identity).

Parameters of other layers (BatchNorm's scale and shift) take that SGD step with their plain
gradient. The factor pass is one extra forward and backward on the batch every ``cov_every``
steps, in the model's current mode (BatchNorm's running statistics see the batch twice then).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
from torch import nn

from rmtloss.errors import require

LAYERS = (nn.Linear, nn.Conv2d)
FISHER_TYPES = ("mc", "type-2", "empirical")
EIG_FLOOR = 1e-10  # eigenvalues of the factors below this are set to 0 (the authors' eps)


def kronecker_factors(
    model: nn.Module, task: str, x: torch.Tensor, y: torch.Tensor, fisher: str = "mc", seed: int = 0
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """K-FAC's factors ``{layer name: (A, G)}`` of the mean loss on one batch (curvlinops).

    Args:
        model: the network; its ``Linear`` and ``Conv2d`` layers get factors.
        task: ``"classification"`` (cross-entropy) or ``"regression"`` (squared error of one output).
        x, y: the batch. fisher: ``"mc"`` | ``"type-2"`` | ``"empirical"``. seed: of the MC labels.

    Returns:
        For each layer (named as in ``model.named_modules()``) the input factor ``A``
        (``in [+ 1]`` square, the bias as the last coordinate) and the output-gradient factor
        ``G`` (``out`` square), such that the layer's Fisher block is ``G ⊗ A`` for the row-major
        ``[W, b]`` vectorisation.
    """
    require(fisher in FISHER_TYPES, "optimizer.fisher",
            f"must be one of {', '.join(FISHER_TYPES)} (got {fisher})")
    with warnings.catch_warnings():  # curvlinops' linear_operator dependency scripts with torch.jit on import
        warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
        from curvlinops import KFACLinearOperator
    layers = {n: m for n, m in model.named_modules() if isinstance(m, LAYERS)}
    params = [p for m in layers.values() for p in m.parameters(recurse=False) if p.requires_grad]
    loss = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
    target = y if task == "classification" else y.reshape(-1, 1).to(x.dtype)
    op = KFACLinearOperator(
        model, loss, params, [(x, target)], check_deterministic=False, fisher_type=fisher, seed=int(seed),
        separate_weight_and_bias=False, num_data=len(x), num_per_example_loss_terms=1,
    )
    op.compute_kronecker_factors()
    state = op.state_dict()
    a_cov, g_cov = state["input_covariances"], state["gradient_covariances"]
    return {n: (a_cov[n], g_cov[n]) for n in layers if n in g_cov}


def symmetric_eigen(factor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (below 1e-10 set to 0) and eigenvectors of a PSD factor, in its dtype.

    Computed in float64: a float32 ``eigh`` of a rank-deficient factor fails to converge (a VGG-16
    convolution's 4609-sided input factor from 16 samples does). Should float64 fail too, the
    factor is shifted by 1e-12 of its mean eigenvalue, which the floor then removes.
    """
    f = factor.double()
    f = (f + f.T) / 2
    try:
        d, q = torch.linalg.eigh(f)
    except torch.linalg.LinAlgError:
        shift = 1e-12 * float(f.diagonal().mean().abs()) + 1e-30
        d, q = torch.linalg.eigh(f + shift * torch.eye(len(f), dtype=f.dtype, device=f.device))
        d = d - shift
    return d.masked_fill(d < EIG_FLOOR, 0).to(factor.dtype), q.to(factor.dtype)


class KFAC(torch.optim.Optimizer):
    """K-FAC (module docstring) as a ``torch.optim`` optimiser over one model.

    Call :meth:`observe` with each training batch before :meth:`step` (it computes the factors
    when they are due); ``zero_grad``, ``state_dict`` and ``load_state_dict`` are as usual, the
    factors, their eigen-decompositions and the step count included.

    Args:
        model: the network (all its parameters are optimised).
        task: ``"classification"`` or ``"regression"``.
        lr: η. momentum, weight_decay: of the SGD step. damping: λ (learned when a damping learner
            drives it). stat_decay: s. kl_clip: κ (0: no clipping). cov_every, inv_every: update
            periods in steps. fisher: the factors' Fisher type. shrinkage: η(1 + λ). seed: of the
            MC labels (step ``t`` uses ``seed + t``).
    """

    def __init__(
        self,
        model: nn.Module,
        task: str,
        lr: float,
        *,
        momentum: float = 0.9,
        damping: float = 1e-3,
        weight_decay: float = 0.0,
        stat_decay: float = 0.95,
        kl_clip: float = 0.01,
        cov_every: int = 10,
        inv_every: int = 100,
        fisher: str = "mc",
        shrinkage: bool = True,
        seed: int = 0,
    ) -> None:
        require(lr > 0, "optimizer.lr", f"must be > 0 (got {lr})")
        require(0 <= momentum < 1, "optimizer.momentum", f"must be in [0, 1) (got {momentum})")
        require(math.isfinite(damping) and damping > 0, "optimizer.damping", f"must be > 0 (got {damping})")
        require(weight_decay >= 0, "optimizer.weight_decay", f"must be >= 0 (got {weight_decay})")
        require(0 <= stat_decay < 1, "optimizer.stat_decay", f"must be in [0, 1) (got {stat_decay})")
        require(kl_clip >= 0, "optimizer.kl_clip", f"must be >= 0, 0 for no clipping (got {kl_clip})")
        require(cov_every >= 1, "optimizer.cov_every", f"must be >= 1 (got {cov_every})")
        require(inv_every >= 1, "optimizer.inv_every", f"must be >= 1 (got {inv_every})")
        require(fisher in FISHER_TYPES, "optimizer.fisher", f"must be one of {', '.join(FISHER_TYPES)}")
        self.model, self.task = model, task
        self.layers = {n: m for n, m in model.named_modules() if isinstance(m, LAYERS)}
        require(bool(self.layers), "optimizer.name", "K-FAC needs a Linear or Conv2d layer; use sgd or adam")
        own = [p for m in self.layers.values() for p in m.parameters(recurse=False)]
        rest = [p for p in model.parameters() if all(p is not q for q in own)]
        groups = [{"params": own, "kfac": True}] + ([{"params": rest, "kfac": False}] if rest else [])
        defaults = {"lr": lr, "momentum": momentum, "damping": damping, "weight_decay": weight_decay,
                    "shrinkage": shrinkage}
        super().__init__(groups, defaults)
        self.stat_decay, self.kl_clip = float(stat_decay), float(kl_clip)
        self.cov_every, self.inv_every = int(cov_every), int(inv_every)
        self.fisher, self.seed = fisher, int(seed)
        self.steps = 0
        self.factors: dict[str, list[torch.Tensor]] = {}
        self.eigen: dict[str, list[torch.Tensor]] = {}

    def observe(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Update the factors' moving averages from the batch ``(x, y)`` when they are due."""
        if self.steps % self.cov_every:
            return
        s = self.stat_decay
        batch = kronecker_factors(self.model, self.task, x, y, self.fisher, self.seed + self.steps)
        for name, (a, g) in batch.items():
            if name not in self.factors:
                self.factors[name] = [a.detach().clone(), g.detach().clone()]
            else:
                self.factors[name][0].mul_(s).add_(a, alpha=1 - s)
                self.factors[name][1].mul_(s).add_(g, alpha=1 - s)

    def _invert(self) -> None:
        """Eigen-decompose the averaged factors (eigenvalues below 1e-10 set to 0)."""
        for name, (a, g) in self.factors.items():
            self.eigen[name] = [*symmetric_eigen(a), *symmetric_eigen(g)]

    def _gradient_matrix(self, layer: nn.Module) -> torch.Tensor:
        """``[∇W, ∇b]`` as an ``out × (in [+1])`` matrix (convolution kernels flattened)."""
        g = layer.weight.grad.reshape(layer.weight.shape[0], -1)
        return g if layer.bias is None else torch.cat([g, layer.bias.grad[:, None]], 1)

    def gradient_matrices(self) -> dict[str, torch.Tensor]:
        """``[∇W, ∇b]`` of every layer with a gradient."""
        return {n: self._gradient_matrix(m) for n, m in self.layers.items() if m.weight.grad is not None}

    def natural_gradients(self, grads: dict[str, torch.Tensor], damping: float) -> dict[str, torch.Tensor]:
        """:math:`(\\bar G \\otimes \\bar A + \\lambda I)^{-1}\\nabla` of each matrix of ``grads``."""
        out = {}
        for name, grad in grads.items():
            require(name in self.eigen, "optimizer", "K-FAC has no factors: call observe(x, y) before step()")
            d_a, q_a, d_g, q_g = self.eigen[name]
            v = q_g.T @ grad @ q_a
            out[name] = q_g @ (v / (d_g[:, None] * d_a[None, :] + damping)) @ q_a.T
        return out

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One K-FAC step (natural gradient, KL clipping, SGD with momentum)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self.steps % self.inv_every == 0 or not self.eigen:
            self._invert()
        group = self.param_groups[0]
        lr = group["lr"] * (1 + group["damping"] if group["shrinkage"] else 1)
        grads = self.gradient_matrices()
        nat = self.natural_gradients(grads, group["damping"])
        vg = sum(float((nat[n] * grads[n]).sum()) for n in nat)
        nu = min(1.0, math.sqrt(self.kl_clip / (lr**2 * vg))) if self.kl_clip > 0 and vg > 0 else 1.0
        for name, v in nat.items():
            layer = self.layers[name]
            cols = layer.weight[0].numel()
            layer.weight.grad.copy_(v[:, :cols].reshape(layer.weight.shape) * nu)
            if layer.bias is not None:
                layer.bias.grad.copy_(v[:, cols] * nu)
        for g in self.param_groups:
            self._sgd(g, lr if g["kfac"] else g["lr"])
        self.steps += 1
        return loss

    def _sgd(self, group: dict, lr: float) -> None:
        """SGD with momentum and L2 weight decay on the (preconditioned) gradients of ``group``."""
        for p in group["params"]:
            if p.grad is None:
                continue
            d = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
            if group["momentum"]:
                buf = self.state[p].get("momentum_buffer")
                if buf is None:
                    buf = self.state[p]["momentum_buffer"] = d.clone()
                else:
                    buf.mul_(group["momentum"]).add_(d)
                d = buf
            p.add_(d, alpha=-lr)

    def state_dict(self) -> dict:
        """The ``torch.optim`` state plus the step count, the factors and their eigen-decompositions."""
        return {**super().state_dict(),
                "kfac": {"steps": self.steps, "factors": self.factors, "eigen": self.eigen}}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        state_dict = dict(state_dict)
        extra = state_dict.pop("kfac")
        super().load_state_dict(state_dict)
        dev = next(self.model.parameters()).device
        self.steps = int(extra["steps"])
        self.factors = {n: [t.to(dev) for t in f] for n, f in extra["factors"].items()}
        self.eigen = {n: [t.to(dev) for t in e] for n, e in extra["eigen"].items()}
