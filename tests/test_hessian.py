"""Exact Hessians and GGNs against closed forms and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rmtloss.hessian import exact_ggn, exact_hessian, exact_matrix, flat_params, functional_loss, hvp
from rmtloss.nets.models import mlp, mse


@pytest.fixture
def softmax_problem():
    gen = torch.Generator().manual_seed(0)
    d, c, n = 5, 4, 57
    model = nn.Linear(d, c).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=gen)
    return model, x, y


def softmax_hessian_closed_form(model: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """H = (1/n) sum_i (diag p_i - p_i p_i^T) (x) x~_i x~_i^T in the (W row-major, b) order."""
    p = torch.softmax(model(x), dim=1)
    c, d = model.weight.shape
    h_ww = torch.zeros(c * d, c * d, dtype=x.dtype)
    h_wb = torch.zeros(c * d, c, dtype=x.dtype)
    h_bb = torch.zeros(c, c, dtype=x.dtype)
    for pi, xi in zip(p, x, strict=True):
        a = torch.diag(pi) - torch.outer(pi, pi)
        h_ww += torch.kron(a, torch.outer(xi, xi))
        h_wb += torch.kron(a, xi[:, None])
        h_bb += a
    top = torch.cat([h_ww, h_wb], 1)
    bottom = torch.cat([h_wb.T, h_bb], 1)
    return torch.cat([top, bottom], 0) / len(x)


def test_softmax_regression_hessian_matches_closed_form(softmax_problem):
    model, x, y = softmax_problem
    h = exact_hessian(model, nn.functional.cross_entropy, [(x, y)])
    torch.testing.assert_close(h, softmax_hessian_closed_form(model, x), rtol=1e-10, atol=1e-12)


def test_softmax_regression_has_shift_invariance_zero_modes(softmax_problem):
    model, x, y = softmax_problem
    ev = torch.linalg.eigvalsh(exact_hessian(model, nn.functional.cross_entropy, [(x, y)]))
    d = x.shape[1]
    assert (ev.abs() < 1e-10 * ev.abs().max()).sum() >= d + 1
    assert ev.min() > -1e-10  # convex loss


def test_uneven_batches_give_the_full_data_hessian(softmax_problem):
    model, x, y = softmax_problem
    loss = nn.functional.cross_entropy
    whole = exact_hessian(model, loss, [(x, y)])
    parts = exact_hessian(model, loss, [(x[:30], y[:30]), (x[30:50], y[30:50]), (x[50:], y[50:])])
    torch.testing.assert_close(parts, whole, rtol=1e-10, atol=1e-13)


def test_hvp_matches_finite_differences_of_the_gradient():
    torch.manual_seed(1)
    model = mlp([6, 8, 5, 3]).double()
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.randint(0, 3, (40,))
    loss = functional_loss(model, nn.functional.cross_entropy)
    theta = flat_params(model)
    v = torch.randn(theta.shape, dtype=torch.float64)
    eps = 1e-5
    grad = torch.func.grad(loss)
    fd = (grad(theta + eps * v, x, y) - grad(theta - eps * v, x, y)) / (2 * eps)
    got = hvp(model, nn.functional.cross_entropy, [(x, y)], v)
    torch.testing.assert_close(got, fd, rtol=1e-6, atol=1e-8)


def test_exact_hessian_columns_are_hessian_vector_products():
    torch.manual_seed(2)
    model = mlp([4, 6, 2]).double()
    data = [(torch.randn(10, 4, dtype=torch.float64), torch.randint(0, 2, (10,)))]
    h = exact_hessian(model, nn.functional.cross_entropy, data, chunk_size=7)
    v = torch.randn(h.shape[0], dtype=torch.float64)
    torch.testing.assert_close(h @ v, hvp(model, nn.functional.cross_entropy, data, v))
    torch.testing.assert_close(h, h.T)
    # the stages' one entry point: the same Hessian (every product in one call), the GGN, a clear refusal
    ce = nn.functional.cross_entropy
    torch.testing.assert_close(exact_matrix(model, ce, data, "hessian"), h)
    torch.testing.assert_close(exact_matrix(model, ce, data, "ggn"), exact_ggn(model, ce, data))
    with pytest.raises(ValueError, match="'hessian' or 'ggn'"):
        exact_matrix(model, ce, data, "fisher")


def test_ggn_of_squared_error_regression_is_gradient_outer_products():
    torch.manual_seed(3)
    model = mlp([3, 7, 1]).double()
    x, y = torch.randn(9, 3, dtype=torch.float64), torch.randn(9, dtype=torch.float64)
    g = exact_ggn(model, mse, [(x, y)])
    grads = []
    for xi in x:
        model.zero_grad()
        model(xi[None])[0, 0].backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    jac = torch.stack(grads)
    torch.testing.assert_close(g, 2 * jac.T @ jac / len(x), rtol=1e-10, atol=1e-12)
    assert int((torch.linalg.eigvalsh(g).abs() > 1e-10).sum()) <= len(x)


def test_ggn_equals_hessian_for_a_linear_model_with_squared_error():
    torch.manual_seed(4)
    model = nn.Linear(5, 1).double()
    data = [(torch.randn(20, 5, dtype=torch.float64), torch.randn(20, dtype=torch.float64))]
    np.testing.assert_allclose(exact_ggn(model, mse, data).numpy(),
                               exact_hessian(model, mse, data).numpy(), atol=1e-12)
