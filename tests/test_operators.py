"""The validation ladder of the Hessian engine: dense matrices with known spectra, then networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rmtloss.errors import ConfigError
from rmtloss.hessian import (
    DenseOperator,
    GGNOperator,
    HessianOperator,
    exact_hessian,
    hutchinson_trace,
    lanczos,
    slq,
    top_eigenpairs,
)
from rmtloss.nets.models import mlp

CE = nn.functional.cross_entropy


def wishart(n: int, t: int, seed: int) -> torch.Tensor:
    x = torch.randn(n, t, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x @ x.T / t


def spiked(n: int, spikes: list[float], seed: int) -> torch.Tensor:
    """Y = diag(spikes, 0, ...) + Z Z^T / (2n): Papyan's outlier test (curvlinops' example)."""
    y = wishart(n, 2 * n, seed)
    y[range(len(spikes)), range(len(spikes))] += torch.tensor(spikes, dtype=torch.float64)
    return y


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = mlp([6, 8, 4]).double()
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(57, 6, generator=gen, dtype=torch.float64), torch.randint(0, 4, (57,), generator=gen)
    return model, x, y


def test_full_lanczos_on_a_wishart_matrix_recovers_every_eigenvalue():
    a = wishart(80, 200, 0)
    res = lanczos(DenseOperator(a), 80, seed=0)
    np.testing.assert_allclose(res.ritz_values, np.linalg.eigvalsh(a.numpy()), rtol=1e-9, atol=1e-12)
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.converged.all()


def test_top_eigenpairs_find_the_spikes_of_a_spiked_matrix():
    a = spiked(400, [5.0, 4.0, 3.0], 1)
    exact = np.linalg.eigvalsh(a.numpy())[::-1][:3]
    res = top_eigenpairs(DenseOperator(a), k=3, num_steps=60, seed=2)
    np.testing.assert_allclose(res.values, exact, rtol=1e-8)
    assert res.converged.all() and np.all(res.residuals < 1e-6)
    np.testing.assert_allclose(np.abs(res.vectors @ res.vectors.T), np.eye(3), atol=1e-8)


def test_ritz_residuals_equal_the_true_residuals():
    a = spiked(300, [6.0], 3)
    res = lanczos(DenseOperator(a), 25, seed=0)
    top = top_eigenpairs(DenseOperator(a), k=1, num_steps=25, seed=0)
    assert res.residuals[-1] == pytest.approx(top.residuals[0], rel=1e-6, abs=1e-12)


def test_matmat_equals_stacked_matvecs(net):
    model, x, y = net
    for cls in (HessianOperator, GGNOperator):
        op = cls(model, CE, [(x, y)])
        v = torch.randn(op.size, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
        stacked = torch.stack([op.matvec(v[:, i]) for i in range(5)], 1)
        torch.testing.assert_close(op.matmat(v), stacked, rtol=1e-12, atol=1e-14)


def test_reverse_over_reverse_products_equal_the_exact_hessian(net):
    model, x, y = net
    exact = exact_hessian(model, CE, [(x, y)])
    batches = [(x[:30], y[:30]), (x[30:], y[30:])]
    fwd, rev = HessianOperator(model, CE, batches), HessianOperator(model, CE, batches, mode="reverse")
    v = torch.randn(fwd.size, 6, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    torch.testing.assert_close(rev.matmat(v), exact @ v, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(rev.matvec(v[:, 0]), fwd.matvec(v[:, 0]), rtol=1e-10, atol=1e-13)
    with pytest.raises(ConfigError, match="mode"):
        HessianOperator(model, CE, batches, mode="sideways")


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_matmat_shares_the_forward_and_backward_pass_between_columns(mode):
    """K columns of ``matmat`` cost, in floating-point operations (torch's counter), at most one
    gradient's pass plus K tangent passes, F(grad) + K (F(hvp) - F(grad)): the primal pass is shared.
    K separate products would cost K F(hvp), (K - 1) F(grad) more."""
    from torch.utils.flop_counter import FlopCounterMode

    def flops(fn) -> int:  # noqa: ANN001
        with FlopCounterMode(display=False) as counter:
            fn()
        return counter.get_total_flops()

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                          nn.Flatten(), nn.Linear(6 * 8 * 8, 3)).double()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(16, 1, 8, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (16,), generator=gen)
    op = HessianOperator(model, CE, [(x[:10], y[:10]), (x[10:], y[10:])], mode=mode)
    grad, hvp = flops(op.gradient), flops(lambda: op.matvec(torch.ones(op.size, dtype=torch.float64)))
    assert grad > 0 and hvp >= 2 * grad  # a product is a gradient's pass and at least one more
    for k in (2, 8):
        mat = torch.ones(op.size, k, dtype=torch.float64)
        assert flops(lambda mat=mat: op.matmat(mat)) <= grad + k * (hvp - grad), k


def test_uneven_batches_do_not_change_the_operator(net):
    model, x, y = net
    whole = HessianOperator(model, CE, [(x, y)])
    parts = HessianOperator(model, CE, [(x[:30], y[:30]), (x[30:50], y[30:50]), (x[50:], y[50:])])
    loader = DataLoader(TensorDataset(x, y), batch_size=25, shuffle=False)  # 25, 25, 7
    v = torch.randn(whole.size, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(parts.matmat(v), whole.matmat(v), rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(HessianOperator(model, CE, loader).matmat(v), whole.matmat(v),
                               rtol=1e-10, atol=1e-13)


def test_ggn_equals_jacobian_sandwich_built_by_hand(net):
    model, x, y = net
    params = list(model.parameters())
    jac_rows, h_blocks = [], []
    for xi in x:
        out = model(xi[None])[0]
        rows = [torch.cat([g.reshape(-1) for g in torch.autograd.grad(out[c], params, retain_graph=True)])
                for c in range(out.numel())]
        jac_rows.append(torch.stack(rows))
        p = torch.softmax(out.detach(), 0)
        h_blocks.append(torch.diag(p) - torch.outer(p, p))
    g = sum(j.T @ h @ j for j, h in zip(jac_rows, h_blocks, strict=True)) / len(x)
    torch.testing.assert_close(GGNOperator(model, CE, [(x, y)]).to_dense(), g, rtol=1e-10, atol=1e-12)


def test_lanczos_extreme_eigenvalues_of_a_network_match_its_exact_hessian(net):
    model, x, y = net
    exact = np.linalg.eigvalsh(exact_hessian(model, CE, [(x, y)]).numpy())
    op = HessianOperator(model, CE, [(x[:40], y[:40]), (x[40:], y[40:])])
    res = lanczos(op, 60, seed=0)
    assert op.size == 92
    for got, want in ((res.ritz_values[-1], exact[-1]), (res.ritz_values[0], exact[0])):
        assert abs(got - want) / abs(exact).max() < 1e-8


def test_slq_moments_match_traces_of_powers(net):
    model, x, y = net
    op = HessianOperator(model, CE, [(x, y)])
    h = op.to_dense()
    res = slq(op, num_steps=12, num_probes=30, seed=0)
    # exact per probe for degree <= 2m - 1: compare with v^T H^k v / v^T v for the same probes,
    # and the probe average with tr(H^k)/P within 4 standard errors
    for k in (1, 2, 3, 5):
        per_probe = []
        for s in res.seeds:
            gen = torch.Generator().manual_seed(int(s))
            v = torch.randint(0, 2, (op.size,), generator=gen, dtype=torch.float64) * 2 - 1
            per_probe.append(float(v @ torch.linalg.matrix_power(h, k) @ v / (v @ v)))
        assert res.moment(k) == pytest.approx(np.mean(per_probe), rel=1e-9, abs=1e-15)
        trace = float(torch.trace(torch.linalg.matrix_power(h, k))) / op.size
        assert abs(res.moment(k) - trace) < 4 * np.std(per_probe, ddof=1) / np.sqrt(len(per_probe))
    radius = float(torch.linalg.eigvalsh(h).abs().max())
    grid = np.linspace(-1.5, 1.5, 3001) * radius
    dens = res.density(grid, sigma=0.02 * radius)
    assert np.trapezoid(dens, grid) == pytest.approx(1.0, abs=1e-3)


def test_hutchinson_trace_covers_the_true_trace(net):
    model, x, y = net
    op = HessianOperator(model, CE, [(x, y)])
    res = hutchinson_trace(op, num_probes=200, seed=0)
    true = float(torch.trace(op.to_dense()))
    assert abs(res.estimate - true) < 4 * res.stderr and res.stderr > 0


def test_parameter_subset_is_a_diagonal_block(net):
    model, x, y = net
    full = exact_hessian(model, CE, [(x, y)])
    op = HessianOperator(model, CE, [(x, y)], params=["2.weight", "2.bias"])
    n0 = sum(p.numel() for p in list(model.parameters())[:2])
    torch.testing.assert_close(op.to_dense(), full[n0:, n0:], rtol=1e-10, atol=1e-13)
    with pytest.raises(ConfigError, match="unknown parameter"):
        HessianOperator(model, CE, [(x, y)], params=["nope"])


def test_batchnorm_policy_is_explicit():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    model.train()
    x, y = torch.randn(40, 5, dtype=torch.float64), torch.randint(0, 3, (40,))
    shuffled = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True)
    with pytest.raises(ConfigError, match="shuffle=False"):
        HessianOperator(model, CE, shuffled, bn_mode="train")
    fixed = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=False)
    train_op = HessianOperator(model, CE, fixed, bn_mode="train")
    eval_op = HessianOperator(model, CE, fixed)  # eval: running statistics
    v = torch.randn(train_op.size, dtype=torch.float64)
    assert not torch.allclose(train_op.matvec(v), eval_op.matvec(v))
    assert model.training  # the caller's mode is restored

    class Reshuffled:  # a re-iterable whose batches change between passes (not a DataLoader)
        def __init__(self) -> None:
            self.gen = torch.Generator().manual_seed(0)

        def __iter__(self):
            perm = torch.randperm(40, generator=self.gen)
            return iter([(x[perm[i:i + 10]], y[perm[i:i + 10]]) for i in range(0, 40, 10)])

    with pytest.raises(ConfigError, match="differ"):  # batch statistics change with the batches
        HessianOperator(model, CE, Reshuffled(), bn_mode="train")


def test_probes_advanced_together_equal_separate_lanczos_runs():
    a = spiked(150, [4.0, 3.0], 7)
    together = slq(DenseOperator(a), num_steps=20, num_probes=5, seed=3, probes_per_pass=4)
    for i, seed in enumerate(together.seeds):
        alone = lanczos(DenseOperator(a), 20, seed=int(seed))
        np.testing.assert_allclose(together.nodes[i], alone.ritz_values, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(together.weights[i], alone.weights, rtol=1e-8, atol=1e-12)


def test_lanczos_stops_at_an_invariant_subspace():
    a = torch.diag(torch.tensor([1.0, 2.0, 3.0] + [0.0] * 47, dtype=torch.float64))
    res = lanczos(DenseOperator(a), 30, seed=0)
    assert res.num_steps <= 4 and res.beta_last == 0.0
    assert {round(t, 10) for t in res.ritz_values} <= {0.0, 1.0, 2.0, 3.0}


def test_operator_gradient_is_the_mean_loss_gradient(net):
    model, x, y = net
    op = HessianOperator(model, CE, [(x[:20], y[:20]), (x[20:], y[20:])])
    loss = CE(model(x), y)
    want = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])
    torch.testing.assert_close(op.gradient(), want, rtol=1e-10, atol=1e-13)
