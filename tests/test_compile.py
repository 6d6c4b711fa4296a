"""Compiled curvature products (``compile=True``) against eager ones: both HVP modes, matvec and
matmat, the gradient, an uneven last batch, BatchNorm in eval mode; the first-use cross-check and the
fallback to eager.

Most tests use the ``aot_eager`` backend (Dynamo's graph capture of the ``torch.func`` transforms and
AOT autograd, no code generation: seconds); one uses ``inductor``, the default, which generates C++.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from rmtloss.errors import ConfigError
from rmtloss.hessian import HessianOperator

CE = nn.functional.cross_entropy


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    """Dynamo caches graphs per code object, across operators and backends: start each test afresh."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4))


def _cnn() -> nn.Module:  # 1 x 6 x 6 images; a batch-normalised convolution (eval mode: running statistics)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 4))
    model.train()(torch.randn(32, 1, 6, 6))  # running statistics away from 0 / 1
    return model.eval()


def _data(shape: tuple[int, ...], n: int, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, *shape, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (n,), generator=gen)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("make, shape", [(_mlp, (6,)), (_cnn, (1, 6, 6))], ids=["mlp", "cnn_batchnorm"])
def test_compiled_products_equal_eager_ones(make, shape, mode):
    torch.manual_seed(0)
    model = make().double()
    data = _data(shape, 23, 8)  # batches of 8, 8 and 7: the last one gets its own graph
    eager = HessianOperator(model, CE, data, mode=mode, check_deterministic=False)
    comp = HessianOperator(model, CE, data, mode=mode, check_deterministic=False, compile=True,
                           compile_backend="aot_eager")
    gen = torch.Generator().manual_seed(2)
    v = torch.randn(eager.size, generator=gen, dtype=torch.float64)
    m = torch.randn(eager.size, 3, generator=gen, dtype=torch.float64)
    for _ in range(2):  # each graph's first call is cross-checked inside the operator, the second is not
        torch.testing.assert_close(comp.matvec(v), eager.matvec(v), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(comp.matmat(m), eager.matmat(m), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(comp.gradient(), eager.gradient(), rtol=1e-10, atol=1e-12)
    assert set(comp._compiled) == {"product", "gradient"}
    # checked graphs: products of 1 and 3 columns and the gradient, each on batches of 8 and of 7
    assert len(comp._checked) == 6 and {key[0] for key in comp._checked} == {"product", "gradient"}


def test_inductor_compiles_the_product_of_an_mlp():
    torch.manual_seed(0)
    model, data = _mlp().double(), _data((6,), 16, 8)
    eager = HessianOperator(model, CE, data, check_deterministic=False)
    comp = HessianOperator(model, CE, data, check_deterministic=False, compile=True)
    v = torch.randn(eager.size, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager: inductor compiled it
        out = comp.matvec(v)
    torch.testing.assert_close(out, eager.matvec(v), rtol=1e-10, atol=1e-12)


def test_a_compiled_product_that_disagrees_with_eager_is_refused():
    torch.manual_seed(0)
    model, data = _mlp().double(), _data((6,), 16, 8)
    op = HessianOperator(model, CE, data, check_deterministic=False, compile=True,
                         compile_backend="aot_eager")
    right = op._batch_columns
    op._compiled["product"] = lambda cols, x, y: right(cols, x, y) * (1 + 1e-6)  # a silently wrong graph
    with pytest.raises(ConfigError, match=r"compile.*differs from the eager one by a relative 1e-06"):
        op.matvec(torch.ones(op.size, dtype=torch.float64))


def test_a_backend_that_fails_falls_back_to_eager_with_one_warning():
    def broken(gm, example_inputs):  # noqa: ANN001, ANN202, ARG001
        raise RuntimeError("no C++ compiler here")

    torch.manual_seed(0)
    model, data = _mlp().double(), _data((6,), 16, 8)
    eager = HessianOperator(model, CE, data, check_deterministic=False)
    op = HessianOperator(model, CE, data, check_deterministic=False, compile=True, compile_backend=broken)
    v = torch.randn(op.size, dtype=torch.float64)
    with pytest.warns(UserWarning, match="torch.compile failed for the product"):
        out = op.matvec(v)
    torch.testing.assert_close(out, eager.matvec(v), rtol=1e-12, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: later products run eagerly without a warning
        op.matvec(v)


def test_the_learners_compiled_products_follow_the_live_parameters(monkeypatch):
    import functools

    from torch._dynamo.utils import counters

    from rmtloss.nets import optim

    torch.manual_seed(0)
    model = _mlp().double()
    batches = _data((6,), 32, 8)  # four statistics batches of one shape
    eager = optim.DampingLearner(model, CE, batches, 1e-3, seed=3)
    aot = functools.partial(HessianOperator, compile_backend="aot_eager")
    monkeypatch.setattr(optim, "HessianOperator", aot)
    comp = optim.DampingLearner(model, CE, batches, 1e-3, seed=3, compile=True)
    counters.clear()  # Dynamo's counters outlive torch._dynamo.reset()
    for _ in range(3):  # the products of a compiled graph follow in-place updates of the weights
        (_, h), (_, h_comp) = eager.products(), comp.products()
        assert torch.allclose(h_comp, h, rtol=1e-10, atol=1e-12) and h.abs().max() > 0
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.5).add_(0.1)
    # one graph serves the four batches' operators (Dynamo guards on the batch shape, not on the
    # operator object)
    assert counters["stats"]["unique_graphs"] == 1, dict(counters["stats"])


@pytest.mark.parametrize(("setting", "calls", "columns", "shapes", "expected"), [
    (True, 0, 8, 1, True), ("True", 0, 1, 1, True), ("true", 0, 1, 1, True), (False, 10**9, 1, 1, False),
    ("False", 10**9, 1, 1, False), ("auto", 0.999, 1, 1, False), ("auto", 1, 1, 1, True),
    ("auto", 10**3, 8, 1, False), ("auto", 1.999, 1, 2, False), ("auto", 2, 1, 2, True),
])
def test_the_compile_setting_resolves_auto_by_the_planned_products(setting, calls, columns, shapes, expected):
    from rmtloss.hessian import COMPILE_MIN_CALLS, compile_wanted

    # calls in units of COMPILE_MIN_CALLS; a batch shape is a graph to compile
    assert compile_wanted(setting, int(calls * COMPILE_MIN_CALLS), columns, shapes) is expected


def test_an_unknown_compile_setting_is_refused():
    from rmtloss.hessian import compile_wanted

    with pytest.raises(ConfigError, match="compile"):
        compile_wanted("sometimes", 10)
