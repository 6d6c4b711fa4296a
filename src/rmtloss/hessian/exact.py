r"""Exact Hessians and generalised Gauss-Newton matrices of small networks.

For a data set split into batches :math:`B_1, \dots, B_K` of sizes :math:`n_k` (:math:`N = \sum n_k`)
the mean loss is :math:`L(\theta) = \sum_k (n_k/N) L_{B_k}(\theta)`, so its Hessian is the
share-weighted sum of batch Hessians. Each batch Hessian is built in one vectorised call: the
Hessian-vector product :math:`v \mapsto \nabla_\theta(\nabla_\theta L \cdot v)`
(forward-over-reverse, :class:`~rmtloss.hessian.operators.HessianOperator`) ``vmap``-ped over the
columns of the identity. The
authors' script instead takes one backward pass per parameter (row by row, float32);
``benchmarks/exact_hessian.py`` compares the two.

The result is symmetrised, :math:`(H + H^\top)/2`, before any eigen-decomposition.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.func import hessian, jacrev, vmap

from rmtloss.hessian._functional import LossFn, flat_params, functional_model
from rmtloss.hessian.operators import HessianOperator

Batch = tuple[torch.Tensor, torch.Tensor]


def hvp(model: nn.Module, loss_fn: LossFn, data: Sequence[Batch], v: torch.Tensor) -> torch.Tensor:
    """Hessian-vector product :math:`Hv` of the mean loss over ``data`` (forward-over-reverse)."""
    return HessianOperator(model, loss_fn, data, check_deterministic=False).matvec(v)


def exact_hessian(model: nn.Module, loss_fn: LossFn, data: Sequence[Batch], *,
                  chunk_size: int | None = None) -> torch.Tensor:
    """Dense P x P Hessian of the mean loss over ``data``, symmetrised.

    Args:
        model: the network; its parameters' dtype sets the dtype of the result.
        loss_fn: ``loss_fn(outputs, targets)``, the batch mean.
        data: batches ``(x, y)``; each contributes with weight (its size) / (total size).
        chunk_size: number of Hessian-vector products evaluated at once (memory bound);
            ``None`` does all P at once.

    Returns:
        The symmetric Hessian, shape ``(P, P)``.
    """
    return HessianOperator(model, loss_fn, data, check_deterministic=False,
                           chunk_size=chunk_size).to_dense()


def activation_count(model: nn.Module, x_one: torch.Tensor) -> int:
    """How many numbers the network's leaf modules output for one sample (forward hooks): the
    activations a Hessian-vector product carries per sample."""
    total = 0

    def count(_module: nn.Module, _inputs: object, out: object) -> None:
        nonlocal total
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if torch.is_tensor(t):
                total += t.numel()

    handles = [m.register_forward_hook(count) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(x_one)
    finally:
        for h in handles:
            h.remove()
    return total


#: Memory a dense-Hessian job holds besides its matrices and products (torch, vmap), in GB (measured:
#: 0.26-0.61 GB peaks for P = 530-1290 at 64 products of 64 samples).
EXACT_OVERHEAD_GB = 0.3


def exact_memory_gb(num_params: int, activations: int, batch: int, chunk_size: int | None) -> float:
    r"""Estimated peak memory (GB, float64) of one dense Hessian of a batch and its eigenvalues:
    :math:`0.3 + 8\,[3P^2 + k\,(5 b\,a + 2P)] / 10^9` for P parameters, ``activations`` a per
    sample, b samples and k = ``chunk_size`` products at once (all P for ``None``): the matrix, its
    symmetrised copy and the eigen-solver's workspace, and per product the activations of
    forward-over-reverse. It is at or above every peak measured on 2026-12-06 (float64, CPU), by up to
    2.0x: an MLP (P = 1290, a = 90) 0.26 / 0.28 / 0.77 GB for (b, k) = (64, 64) / (256, 64) / (256,
    all), a BatchNorm residual CNN on 8x8 images (P = 530, a = 1898) 0.61 / 0.92 / 5.96 GB."""
    k = num_params if chunk_size is None else min(int(chunk_size), num_params)
    products = k * (5 * batch * activations + 2 * num_params)
    return EXACT_OVERHEAD_GB + 8.0 * (3 * num_params**2 + products) / 1e9


def exact_ggn(model: nn.Module, loss_fn: LossFn, data: Sequence[Batch]) -> torch.Tensor:
    r"""Dense generalised Gauss-Newton matrix of the mean loss, symmetrised.

    .. math:: G = \frac{1}{N} \sum_i J_i^\top \, \nabla^2_f \ell(f_i, y_i) \, J_i,
       \qquad J_i = \partial f(x_i; \theta) / \partial \theta .

    For a scalar regression with squared error this is
    :math:`(2/N) \sum_i \nabla f_i \nabla f_i^\top`, of rank at most N (the authors'
    ``get_exact_ggn_spectra.py`` drops the factor 2). Built from per-sample Jacobians (reverse
    mode over the outputs) and the output Hessians of the loss.
    """
    out = functional_model(model)
    theta = flat_params(model)
    g = torch.zeros(theta.numel(), theta.numel(), dtype=theta.dtype, device=theta.device)
    total = sum(len(x) for x, _ in data)

    def sample_loss(o: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_fn(o.unsqueeze(0), y.unsqueeze(0))

    for x, y in data:
        jac = jacrev(out)(theta, x)                       # (n, C, P)
        outputs = out(theta, x).detach()
        h_out = vmap(hessian(sample_loss))(outputs, y)    # (n, C, C)
        g += torch.einsum("ncp,ncd,ndq->pq", jac, h_out, jac) / total
    return (g + g.T) / 2


def exact_matrix(model: nn.Module, loss_fn: LossFn, data: Sequence[Batch], matrix: str, *,
                 chunk_size: int | None = None) -> torch.Tensor:
    """The dense curvature matrix ``matrix`` of the mean loss over ``data``: ``"hessian"``
    (:func:`exact_hessian`, ``chunk_size`` products per vectorised call) or ``"ggn"`` (:func:`exact_ggn`)."""
    if matrix == "hessian":
        return exact_hessian(model, loss_fn, data, chunk_size=chunk_size)
    if matrix == "ggn":
        return exact_ggn(model, loss_fn, data)
    raise ValueError(f"matrix must be 'hessian' or 'ggn', got {matrix!r}")


def ggn_class_means(model: nn.Module, data: Sequence[Batch], num_classes: int) -> torch.Tensor:
    r"""The class-mean part of the cross-entropy GGN (Papyan 2020, JMLR 21, Section 3).

    With :math:`p_i = \operatorname{softmax} f_i`, the output Hessian of the cross-entropy is
    :math:`\operatorname{diag} p_i - p_i p_i^\top = \sum_{c'} p_{ic'} (e_{c'} - p_i)(e_{c'} - p_i)^\top`,
    so :math:`G = \frac1N \sum_i \sum_{c'} p_{ic'} g_{ic'} g_{ic'}^\top` with
    :math:`g_{ic'} = J_i^\top (e_{c'} - p_i)` (minus the gradient of the loss had :math:`x_i` the label
    :math:`c'`). Grouping the terms by (true class :math:`y_i`, :math:`c'`),
    :class:`rmtloss.rmt.outliers.GroupMeans` splits :math:`G` into the part returned here,
    :math:`\frac1N \sum_{c,c'} W_{cc'} \delta_{cc'} \delta_{cc'}^\top` of rank at most :math:`C^2`,
    and the within-class scatter :math:`G - (\text{this})`, whose largest eigenvalue is the bulk edge.
    The model must be a classifier trained with the mean cross-entropy of its logits.
    """
    from rmtloss.rmt.outliers import GroupMeans

    out = functional_model(model)
    theta = flat_params(model)
    acc = GroupMeans(num_classes * num_classes, theta.numel())
    total = 0
    for x, y in data:
        jac = jacrev(out)(theta, x)                       # (n, C, P)
        p = torch.softmax(out(theta, x).detach(), dim=1)   # (n, C)
        g = jac - torch.einsum("nc,ncp->np", p, jac)[:, None, :]  # g[n, c'] = J^T (e_c' - p)
        groups = y[:, None] * num_classes + torch.arange(num_classes, device=y.device)[None, :]
        acc.add(g.reshape(-1, g.shape[-1]).cpu().numpy(), p.reshape(-1).cpu().numpy(),
                groups.reshape(-1).cpu().numpy())
        total += len(x)
    return torch.as_tensor(acc.part(total), dtype=theta.dtype, device=theta.device)
