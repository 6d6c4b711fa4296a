"""Damped Adam, the RMT damping learner, the noisy quadratic model and the optimisers stage."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from conftest import assert_resumes_like_uninterrupted, run_in_process, run_stage, toy_dataset
from rmtloss.errors import ConfigError
from rmtloss.fits import exp_fit, returns_fits
from rmtloss.nets import nqm, optim, training
from rmtloss.nets.models import mse


@pytest.mark.parametrize("delta", [0.0, 1e-8, 1e-3, 0.1, 1.0, 10.0])
def test_damping_is_a_learning_rate_reduction_plus_linear_shrinkage(delta):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 60))
    b = x @ x.T / 60  # a curvature estimate
    s, rho = optim.shrinkage_form(delta)
    assert 0 <= rho < 1
    np.testing.assert_allclose(
        b + delta * np.eye(30), s * ((1 - rho) * b + rho * np.eye(30)), rtol=1e-12, atol=1e-12
    )
    with pytest.raises(ConfigError, match="optimizer.eps"):
        optim.shrinkage_form(-0.1)


def _net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def _train_steps(model: nn.Module, opt: torch.optim.Optimizer, steps: int = 25) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x, y = torch.randn(16, 6, generator=gen), torch.randint(0, 3, (16,), generator=gen)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_damped_adam_without_shrinkage_is_torch_adam_step_for_step(wd):
    a, b = _net(), _net()
    ours = _train_steps(a, optim.DampedAdam(a.parameters(), lr=0.01, eps=1e-3, weight_decay=wd))
    ref = _train_steps(b, torch.optim.Adam(b.parameters(), lr=0.01, eps=1e-3, weight_decay=wd, foreach=False))
    for p, q in zip(ours, ref, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)
    assert not torch.equal(ours[0], _net()[0].weight)  # it moved


def test_shrinkage_multiplies_the_learning_rate_by_one_plus_eps():
    a, b = _net(), _net()
    ours = _train_steps(a, optim.DampedAdam(a.parameters(), lr=0.01, eps=0.5, shrinkage=True))
    ref = _train_steps(b, torch.optim.Adam(b.parameters(), lr=0.015, eps=0.5, foreach=False))
    for p, q in zip(ours, ref, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_damped_adam_state_dict_round_trip_continues_identically():
    a, b = _net(), _net()
    opt_a = optim.DampedAdam(a.parameters(), lr=0.01, eps=1e-2, shrinkage=True)
    _train_steps(a, opt_a, 10)
    b.load_state_dict(a.state_dict())
    opt_b = optim.DampedAdam(b.parameters(), lr=0.01, eps=1e-2, shrinkage=True)
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))  # torch shares tensors otherwise
    for p, q in zip(_train_steps(a, opt_a, 5), _train_steps(b, opt_b, 5), strict=True):
        assert torch.equal(p, q)


def _isotropic_problem(c: list[float]) -> tuple[nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    """A linear model whose batch k has Hessian c_k I (mse loss: H_k = (2/b) X_k^T X_k with X_k = a_k I)."""
    model = nn.Linear(4, 1, bias=False).double()
    batches = [
        (math.sqrt(ck * 4 / 2) * torch.eye(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64))
        for ck in c
    ]
    return model, batches


def test_learner_noise_variance_and_delta_sequence_on_a_known_quadratic():
    c = [0.5, 1.0, 2.0, 4.5]
    var = float(np.mean(np.square(c)) - np.mean(c) ** 2)  # |H_k z|^2 = c_k^2 for every unit z
    model, batches = _isotropic_problem(c)
    learner = optim.DampingLearner(model, mse, batches, delta_min=0.1, every=3, seed=0)
    assert learner.hessian_variance() == pytest.approx(var, rel=1e-12)
    opt = optim.DampedAdam(model.parameters(), lr=1e-3, eps=0.1, shrinkage=True)
    eps_seen = []
    for _ in range(9):
        learner.after_step(opt)
        eps_seen.append(opt.param_groups[0]["eps"])
    # delta_0 = 0: the first update sets delta_min + var, the fixed point of the moving average
    assert eps_seen[:2] == [0.1, 0.1] and eps_seen[2] == pytest.approx(0.1 + var)
    assert [h[0] for h in learner.history] == [3, 6, 9]
    # from another start the moving average approaches delta_min + var geometrically (0.7^t)
    learner = optim.DampingLearner(model, mse, batches, delta_min=0.1, seed=0, initial=10.0)
    seq = [learner.update() for _ in range(5)]
    expected = [0.1 + var + 0.7 ** (t + 1) * (10.0 - 0.1 - var) for t in range(5)]
    np.testing.assert_allclose(seq, expected, rtol=1e-12)


def test_the_gap_learner_updates_before_the_first_step_and_the_shrinkage_learner_does_not():
    """CLAIMS.md v3: the authors' KFAC_damping_gap.py updates the damping at step 0, so the first
    optimiser step already uses delta_min + hess_var; the Ledoit-Wolf learner keeps v2's timing."""
    c = [0.5, 1.0, 2.0, 4.5]
    var = float(np.mean(np.square(c)) - np.mean(c) ** 2)
    model, batches = _isotropic_problem(c)
    opt = optim.DampedAdam(model.parameters(), lr=1e-3, eps=0.1, shrinkage=True)
    gap = optim.DampingLearner(model, mse, batches, delta_min=0.1, every=3, seed=0)
    gap.start(opt)
    assert opt.param_groups[0]["eps"] == pytest.approx(0.1 + var) and gap.history[0][0] == 0
    for _ in range(3):
        gap.after_step(opt)
    assert [h[0] for h in gap.history] == [0, 3]
    opt = optim.DampedAdam(model.parameters(), lr=1e-3, eps=0.1, shrinkage=True)
    lw = optim.ShrinkageLearner(model, mse, batches, 0.1, every=3, seed=0)
    lw.start(opt)
    assert opt.param_groups[0]["eps"] == 0.1 and lw.history == []


def test_learner_refuses_a_single_statistics_batch():
    model, batches = _isotropic_problem([1.0])
    with pytest.raises(ConfigError, match="stats_samples"):
        optim.DampingLearner(model, mse, batches, delta_min=0.1)


def _adam_cfg(epochs: int, every: int) -> OmegaConf:
    return OmegaConf.create(
        {
            "model": {"name": "mlp", "hidden": [8]},
            "data": {},
            "optimizer": {
                "name": "adam",
                "lr": 0.01,
                "betas": [0.9, 0.999],
                "eps": 1e-3,
                "weight_decay": 0.0,
                "shrinkage": True,
                "learner": {
                    "enabled": True,
                    "every": 2,
                    "stats_samples": 64,
                    "stats_batch": 16,
                    "decay": 0.7,
                    "seed": 5,
                    "variant": "gap",
                    "alpha_min": 1e-3,
                },
            },
            "train": {
                "epochs": epochs,
                "batch_size": 32,
                "schedule": "linear",
                "seed": 3,
                "checkpoint_every": every,
                "resume": True,
            },
        }
    )


def test_adam_with_the_learner_resumed_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    ref_rows, _ = assert_resumes_like_uninterrupted(_adam_cfg(6, 2), toy_dataset(), tmp_path, monkeypatch)
    assert ref_rows[-1]["damping"] > 1e-3  # the learner moved epsilon


def test_a_nan_loss_raises_diverged_with_its_epoch():
    cfg = OmegaConf.create(
        {
            "model": {"name": "mlp", "hidden": [8]},
            "data": {},
            "optimizer": {"name": "sgd", "lr": 1e6, "momentum": 0.9, "weight_decay": 0.0},
            "train": {
                "epochs": 20,
                "batch_size": 32,
                "schedule": "constant",
                "seed": 1,
                "checkpoint_every": 0,
                "resume": False,
            },
        }
    )
    with pytest.raises(training.Diverged, match="optimizer.lr") as exc:
        training.fit(cfg, toy_dataset(), torch.device("cpu"))
    assert 1 <= exc.value.epoch <= 20 and not math.isfinite(exc.value.loss)


def test_nqm_without_noise_is_newton_and_damping_slows_flat_directions():
    lam = nqm.spectrum(20, 0.5, 0.01, [1.0, 0.5], seed=0)
    assert lam[-1] == 1.0 and lam[-2] == 0.5 and np.all(lam > 0) and np.all(np.diff(lam) >= 0)
    exact = nqm.run(lam, 0.0, lr=1.0, steps=1, curvature_samples=200000, batch=10**12, k=1, seed=1)
    assert exact.loss[1] < 1e-3 * exact.loss[0]  # one (almost exact) Newton step
    big = nqm.run(lam, 100.0, lr=1.0, steps=1, curvature_samples=200000, batch=10**12, k=1, seed=1)
    # with delta >> lambda the step is lr (1 + delta) lambda / (lambda + delta) ~ lambda: gradient descent,
    # which moves the flattest direction by lambda_min |w_0| and the sharpest (lambda = 1) fully, as Newton
    assert big.flat < 0.05 * exact.flat and big.sharp == pytest.approx(exact.sharp, rel=0.05)


def test_exponential_fit_recovers_known_parameters():
    t = np.array([5, 10, 20, 40, 80, 160], float)
    fit = exp_fit(t, 0.05 + 0.4 * np.exp(-0.06 * t), (0.2, 0.1, -0.1))
    assert fit["a"] == pytest.approx(0.05, abs=1e-6) and fit["c"] == pytest.approx(-0.06, rel=1e-5)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-9) and fit["rss"] < 1e-12


def test_power_fit_recovers_a_power_law_and_beats_the_exponential_on_it():
    t = np.array([2, 4, 8, 16, 32, 64, 128], float)
    y = 0.05 + 0.4 * t**-0.5
    fits = returns_fits(t, y, (0.2, 0.1, -0.1))
    assert fits["power"]["k"] == pytest.approx(0.5, rel=1e-4) and fits["power"]["a"] == pytest.approx(
        0.05, rel=1e-3
    )
    assert fits["power"]["rss"] < 1e-3 * fits["exp"]["rss"]


SMALL = ["seeds=[1,2]", "train.epochs=3", "epsilons=[1e-8,1.0]", "optimizer.lr=0.01", "model=logistic"]


def test_epsilon_sweep_tunes_on_a_validation_split_records_a_diverged_rate_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    args = [
        "task=epsilon_sweep",
        "setting=mlp",
        *SMALL,
        "sgd.lrs=[1e30,0.03]",
        "tuning.seeds=[1]",
        "tuning.adam_lrs=[0.01]",
        "tuning.widen=1",
        "tuning.validation=0.25",
        "train.schedule=constant",
        "model=mlp",
        f"hydra.run.dir={out}",
    ]
    proc = run_stage("optimisers", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = json.loads((out / "stats.json").read_text())
    # the digits train split (1297) less a quarter held out for validation
    assert stats["n_validation"] == 324 and stats["n_train"] == 1297
    sgd = stats["sgd"]["tuning"]
    grid = {g["lr"]: g for g in sgd["grid"]}
    assert grid[1e30]["diverged"] == 1 and math.isnan(grid[1e30]["val_mean"])
    # 0.03 was best at the lower edge: the grid was widened once, below it, by its ratio
    assert sgd["widened"] == 1 and min(grid) == pytest.approx(0.03**2 / 1e30)
    assert stats["sgd"]["lr"] == sgd["lr"] and stats["sgd"]["diverged"] == 0
    assert sgd["interior"] == (sgd["lr"] == 0.03)
    # a one-point grid cannot be widened: its choice is never interior
    assert all(a["tuning"]["lr"] == 0.01 and not a["tuning"]["interior"] for a in stats["adam"])
    assert [a["eps"] for a in stats["adam"]] == [1e-8, 1.0] and all(
        len(a["final"]) == 2 for a in stats["adam"]
    )
    assert (out / "config.yaml").is_file() and (out / "provenance.json").is_file()
    # tuning runs: SGD 3 rates, Adam 2 x 1; final runs: (SGD + 2 Adam) x 2 seeds
    assert len(list((out / "arms").glob("tune_*.json"))) == 5
    assert len(list((out / "arms").glob("*.json"))) == 11 and not list((out / "arms").glob("*.pt"))
    # the curves go to samples.npz: (seeds, epochs + 1), SGD's damping NaN
    with np.load(out / "samples.npz") as npz:
        samples = dict(npz)
    adam = samples["test_error.adam_eps1e-08"]
    assert adam.shape == (2, 4) and np.all(np.isfinite(adam)) and np.all((adam >= 0) & (adam <= 1))
    assert adam[:, -1] == pytest.approx(stats["adam"][0]["final"])
    assert np.all(np.isnan(samples["damping.sgd"]))
    assert np.all(samples["damping.adam_eps1"] == 1.0)
    # a restarted job reads the finished runs back and writes the same numbers
    proc = run_stage("optimisers", *args)
    assert proc.returncode == 0 and "final test error" not in proc.stdout + proc.stderr
    assert json.loads((out / "stats.json").read_text()) == stats
    with np.load(out / "samples.npz") as npz:
        assert npz.keys() == samples.keys()
        assert all(np.array_equal(npz[k], samples[k], equal_nan=True) for k in samples)


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ("task=nonsense", "task"),
        ("optimizer=sgd", "optimizer"),
        ("epsilons=[-1.0]", "epsilons"),
        ("optimizer.learner.stats_batch=0", "optimizer.learner.stats_batch"),
        ("tuning.validation=0.9999", "tuning.validation"),
    ],
)
def test_bad_sweep_settings_are_refused_and_nothing_is_written(tmp_path, override, setting):
    task = "damping_learner" if "learner" in override else "epsilon_sweep"
    proc = run_in_process("optimisers", f"task={task}", *SMALL, override, out=tmp_path / "o")
    assert proc.returncode == 2 and f"`{setting}`" in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "o" / "stats.json").exists()


def test_shrinkage_noise_passes_on_the_noisy_model_and_fails_on_the_noise_free_one():
    """CLAIMS.md's negative control through the stage's task and the ledger: without gradient and
    curvature noise, damping only slows the Newton-like step, so the lowest loss is at a small eps."""
    from omegaconf import OmegaConf

    from rmtloss.ledger import decide
    from rmtloss.papers import CLAIMS
    from rmtloss.stages.optimisers import shrinkage_noise

    base = OmegaConf.load(Path(__file__).parents[1] / "config" / "optimisers.yaml").nqm
    verdicts = {}
    for name, over in (("noisy", {}), ("noise-free", {"batch": 10**9, "curvature_samples": 4000})):
        nqm_cfg = {**OmegaConf.to_container(base), "steps": 30, "samples": 2, "n": 20, "k": 5, **over}
        cfg = OmegaConf.create(
            {"setting": "nqm", "epsilons": [1e-8, 1e-4, 1e-3, 1e-2, 1e-1, 1.0], "nqm": nqm_cfg}
        )
        stats, _ = shrinkage_noise(cfg, None)
        verdicts[name] = decide(
            CLAIMS["shrinkage-noise"], [{"kind": "shrinkage_noise", **stats}], "c"
        ).verdict
    assert verdicts == {"noisy": "PASS", "noise-free": "FAIL"}
