"""K-FAC (rmtloss.nets.kfac) and the linear-shrinkage damping learner (rmtloss.nets.optim)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from conftest import assert_resumes_like_uninterrupted, run_in_process, toy_dataset
from rmtloss.errors import ConfigError
from rmtloss.hessian import exact_ggn
from rmtloss.nets import optim
from rmtloss.nets.kfac import KFAC, kronecker_factors
from rmtloss.nets.models import mse

F64 = torch.float64


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _two_layer(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()


def _block_diag(model: nn.Module, factors: dict) -> torch.Tensor:
    """blockdiag(G_l ⊗ A_l) over the layers, in the order of ``model.parameters()``."""
    return torch.block_diag(*[torch.kron(g, a) for a, g in factors.values()])


def test_factors_of_linear_least_squares_are_its_exact_fisher():
    """A single linear layer with squared error: the type-2 Fisher G ⊗ A is the Hessian (2/N) X̃ᵀX̃."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 4, generator=gen, dtype=F64), torch.randn(50, generator=gen, dtype=F64)
    model = nn.Linear(4, 1).double()
    (a, g), = kronecker_factors(model, "regression", x, y, fisher="type-2").values()
    xt = torch.cat([x, torch.ones(50, 1, dtype=F64)], 1)
    torch.testing.assert_close(a * g, 2 * xt.T @ xt / 50, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(torch.kron(g, a), exact_ggn(model, mse, [(x, y)]), rtol=1e-12, atol=1e-14)


def test_factors_of_one_sample_equal_the_ggn_blocks_of_a_two_layer_net():
    """For one sample Σ_c (ã ⊗ g_c)(ã ⊗ g_c)ᵀ = ããᵀ ⊗ Σ_c g_c g_cᵀ: K-FAC's type-2 blocks are exact."""
    model = _two_layer()
    x, y = torch.randn(1, 5, dtype=F64), torch.tensor([2])
    factors = kronecker_factors(model, "classification", x, y, fisher="type-2")
    assert list(factors) == ["0", "2"]
    ggn = exact_ggn(model, nn.functional.cross_entropy, [(x, y)])
    blocks = _block_diag(model, factors)
    sizes = [24, 15]  # (5 + 1) x 4 and (4 + 1) x 3, weights and biases joint as [W, b] rows
    masks = torch.block_diag(*[torch.ones(s, s) for s in sizes]).bool()
    ggn_joint = _to_joint(model, ggn)
    torch.testing.assert_close(blocks[masks], ggn_joint[masks], rtol=1e-10, atol=1e-12)


def _joint_order(model: nn.Module) -> list[int]:
    """Indices that reorder parameters ``[W1, b1, W2, b2]`` (flattened) into rows ``[W_l | b_l]``."""
    order, start = [], 0
    for layer in (m for m in model.modules() if isinstance(m, nn.Linear)):
        out, inp = layer.weight.shape
        for o in range(out):
            order += [start + o * inp + i for i in range(inp)] + [start + out * inp + o]
        start += out * inp + out
    return order


def _to_joint(model: nn.Module, mat: torch.Tensor) -> torch.Tensor:
    idx = _joint_order(model)
    return mat[idx][:, idx]


def test_one_kfac_step_is_the_damped_natural_gradient_step_of_its_factors():
    model = _two_layer(1)
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(40, 5, generator=gen, dtype=F64), torch.randint(0, 3, (40,), generator=gen)
    lr, lam = 0.3, 0.05
    opt = KFAC(model, "classification", lr, momentum=0.0, damping=lam, kl_clip=0.0, cov_every=1,
               inv_every=1, fisher="type-2", shrinkage=False)
    factors = kronecker_factors(model, "classification", x, y, fisher="type-2")
    before = _flat(model)
    opt.observe(x, y)
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    grad = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    opt.step()
    idx = _joint_order(model)
    fisher = _block_diag(model, factors)
    step = torch.linalg.solve(fisher + lam * torch.eye(len(idx), dtype=F64), grad[idx])
    expected = before.clone()
    expected[idx] -= lr * step
    torch.testing.assert_close(_flat(model), expected, rtol=1e-9, atol=1e-12)


def test_kfac_on_least_squares_takes_the_newton_step_to_the_minimiser():
    """Where the Fisher is known (a linear model, squared error), lr 1 and no damping: one step lands
    on the least-squares solution."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(60, 3, generator=gen, dtype=F64)
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=F64) + 0.3 + 0.1 * torch.randn(60, generator=gen, dtype=F64)
    model = nn.Linear(3, 1).double()
    opt = KFAC(model, "regression", 1.0, momentum=0.0, damping=1e-12, kl_clip=0.0, fisher="type-2",
               shrinkage=False)
    opt.observe(x, y)
    mse(model(x), y).backward()
    opt.step()
    xt = torch.cat([x, torch.ones(60, 1, dtype=F64)], 1)
    best = torch.linalg.lstsq(xt, y[:, None]).solution[:, 0]
    torch.testing.assert_close(_flat(model), best, rtol=1e-8, atol=1e-9)


def test_kl_clipping_bounds_the_step():
    model = _two_layer(4)
    x, y = torch.randn(30, 5, dtype=F64), torch.randint(0, 3, (30,))
    opt = KFAC(model, "classification", 10.0, momentum=0.0, damping=1e-4, kl_clip=1e-3, shrinkage=False)
    opt.observe(x, y)
    nn.functional.cross_entropy(model(x), y).backward()
    grads = opt.gradient_matrices()
    opt._invert()
    nat = opt.natural_gradients(grads, 1e-4)
    vg = sum(float((nat[n] * grads[n]).sum()) for n in nat)
    before = _flat(model)
    opt.step()
    moved = _flat(model) - before
    # the clipped step -lr nu v with nu = sqrt(kappa / (lr^2 v.g)) < 1 has lr^2 nu^2 v.g = kappa
    nu = math.sqrt(1e-3 / (100.0 * vg))
    assert nu < 1
    v_norm = float(torch.cat([v.reshape(-1) for v in nat.values()]).norm())
    assert float(moved.norm()) == pytest.approx(10.0 * nu * v_norm, rel=1e-9)


def _scaled_problem(scales: list[float], diag: list[float]) -> tuple[nn.Module, list]:
    """A linear model whose batch k has Hessian s_k D (squared error: H_k = (2/b) X_kᵀX_k)."""
    p = len(diag)
    model = nn.Linear(p, 1, bias=False).double()
    d = torch.tensor(diag, dtype=F64)
    batches = [(math.sqrt(s * p / 2) * torch.diag(d.sqrt()), torch.zeros(p, dtype=F64)) for s in scales]
    return model, batches


def _direction(p: int, seed: int) -> torch.Tensor:
    z = torch.randn(p, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return z / z.norm()


@pytest.mark.parametrize("scales", [[1.0, 1.0, 1.0, 1.0], [0.5, 1.0, 1.5, 2.0]])
def test_shrinkage_intensity_matches_its_closed_form(scales):
    """H_k = s_k D: hess_var = var(s) |Dz|², Δ = mean(s)² |Dz − (zᵀDz) z|², α = 1 − hess_var / (K Δ);
    without batch noise (equal s_k) α = 1."""
    diag = [0.2, 0.5, 1.0, 3.0, 6.0]
    model, batches = _scaled_problem(scales, diag)
    learner = optim.ShrinkageLearner(model, mse, batches, initial=1.0, seed=7)
    alpha, var = learner.intensity()
    z, d = _direction(5, 7), torch.tensor(diag, dtype=F64)
    s = np.asarray(scales)
    dz = d * z
    var_exp = float(s.var() * dz.pow(2).sum())
    spread = float(s.mean() ** 2 * (dz - (z @ dz) * z).pow(2).sum())
    assert var == pytest.approx(var_exp, abs=1e-12)
    assert alpha == pytest.approx(1 - var_exp / (len(s) * spread), rel=1e-10)
    assert (alpha == 1.0) == (s.var() == 0)


def test_shrinkage_learner_forgets_its_start():
    """From initial damping 1e-4 and 10, the damping sequences meet (ᾱ halves its distance each update)."""
    model, batches = _scaled_problem([0.5, 1.0, 1.5, 2.0], [0.2, 0.5, 1.0, 3.0, 6.0])
    seqs = []
    for start in (1e-4, 10.0):
        learner = optim.ShrinkageLearner(model, mse, batches, initial=start, seed=3)
        seqs.append([learner.update(lr=0.01) for _ in range(30)])
    lo, hi = np.asarray(seqs)
    assert abs(lo[0] - hi[0]) > 0.5  # distinct after the first update
    assert abs(lo[-1] - hi[-1]) < 1e-6 * max(abs(lo[-1]), 1.0)
    assert np.all(lo > 0.01)  # damping = (1 - alpha)/alpha + lr >= lr: no floor but the learning rate


def _kfac_cfg(epochs: int, every: int, **learner: object) -> OmegaConf:
    return OmegaConf.create({
        "model": {"name": "mlp", "hidden": [8]},
        "data": {},
        "optimizer": {
            "name": "kfac", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "damping": 0.1,
            "stat_decay": 0.95, "kl_clip": 0.01, "cov_every": 2, "inv_every": 5, "fisher": "mc",
            "shrinkage": True, "seed": 0,
            "learner": {"enabled": True, "variant": "shrinkage", "every": 3, "stats_samples": 64,
                        "stats_batch": 16, "decay": 0.5, "seed": 5, "alpha_min": 1e-3, **learner},
        },
        "train": {"epochs": epochs, "batch_size": 32, "schedule": "linear", "seed": 3,
                  "checkpoint_every": every, "resume": True},
    })


def test_kfac_with_the_learner_learns_and_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    ref_rows, saved = assert_resumes_like_uninterrupted(_kfac_cfg(6, 2), toy_dataset(), tmp_path, monkeypatch)
    assert ref_rows[-1]["test_metric"] > 0.75 and ref_rows[-1]["damping"] != 0.1  # learned, and moved
    assert saved["optimizer"]["kfac"]["factors"] and saved["learner"]["alpha"] < 1


def test_kfac_steps_only_after_observing_a_batch():
    model = _two_layer()
    opt = KFAC(model, "classification", 0.1)
    nn.functional.cross_entropy(model(torch.randn(4, 5, dtype=F64)), torch.tensor([0, 1, 2, 0])).backward()
    with pytest.raises(ConfigError, match="observe"):
        opt.step()


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ("optimizer.damping=0.0", "optimizer.damping"),
        ("optimizer.damping=-1.0", "optimizer.damping"),
        ("optimizer.cov_every=0", "optimizer.cov_every"),
        ("optimizer.inv_every=0", "optimizer.inv_every"),
        ("optimizer.learner.every=0", "optimizer.learner.every"),
    ],
)
def test_bad_kfac_settings_are_refused_naming_the_setting(tmp_path, override, setting):
    res = run_in_process("train", "model=mlp", "data=digits", "optimizer=kfac", "train.epochs=1", override,
                         out=tmp_path / "out")
    assert res.returncode != 0 and setting.split(".")[-1] in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_statistics_subset_larger_than_the_data_is_refused(tmp_path):
    res = run_in_process("train", "model=mlp", "data=digits", "optimizer=kfac", "train.epochs=1",
                         "optimizer.learner.enabled=true", "optimizer.learner.stats_samples=5000",
                         out=tmp_path / "out")
    assert res.returncode == 2 and "optimizer.learner.stats_samples" in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_learner_requires_at_least_two_batches():
    model, batches = _scaled_problem([1.0], [1.0, 2.0])
    with pytest.raises(ConfigError, match="stats_samples"):
        optim.ShrinkageLearner(model, mse, batches, initial=1.0)


def test_rank_deficient_float32_factors_decompose_in_float64():
    """A factor of rank 5 in 300 dimensions (few samples, as a VGG-16 convolution's from one batch):
    non-negative eigenvalues, the null space at float32 rounding level (the absolute floor 1e-10 is
    the authors'), and the factor rebuilt."""
    from rmtloss.nets.kfac import symmetric_eigen

    x = torch.randn(300, 5, generator=torch.Generator().manual_seed(0))
    factor = (x @ x.T / 5).float()
    d, q = symmetric_eigen(factor)
    assert d.dtype == q.dtype == torch.float32 and bool((d >= 0).all())
    assert bool((d[-5:] > 1).all()) and float(d[:-5].max()) < 1e-5 * float(d.max())
    torch.testing.assert_close(q @ torch.diag(d) @ q.T, factor, rtol=1e-4, atol=1e-4)
