"""Free convolution with a semicircle, outlier locations, damped resolvents and outlier detection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from scipy.integrate import cumulative_trapezoid

from rmtloss.errors import ConfigError, InputError
from rmtloss.hessian import lanczos
from rmtloss.hessian.operators import DenseOperator
from rmtloss.nets import data
from rmtloss.rmt import ensembles, free
from rmtloss.rmt.global_laws import Discrete
from rmtloss.rmt.outliers import detect_outliers, detect_ritz_outliers

DELTA0 = Discrete(np.array([0.0]), np.array([1.0]))


def mp_bulk(n: int, seed: int) -> np.ndarray:
    """The synthetic experiments' bulk: half the mass at 0, top near 2.9."""
    return ensembles.mp_bulk(n, 0.5, np.random.default_rng(seed))


@pytest.mark.parametrize("theta", [1.2, 2.0, 5.0])
@pytest.mark.parametrize("s2", [0.25, 1.0])
def test_outlier_of_a_point_bulk_is_bbp(theta, s2):
    pred = free.outlier_location(theta, DELTA0, s2)
    assert pred.separated == (theta > np.sqrt(s2))
    assert pred.edge == pytest.approx(2 * np.sqrt(s2), rel=1e-9)  # semicircle of variance s2
    if pred.separated:
        assert pred.exact == pytest.approx(theta + s2 / theta, rel=1e-9)
    else:
        assert np.isnan(pred.exact)


def test_subordination_root_equals_the_first_order_form_on_an_mp_bulk():
    bulk = Discrete.from_sample(mp_bulk(800, 0))
    for s in (0.3, 0.6, 1.0):
        for theta in (4.0, 6.0):
            p = free.outlier_location(theta, bulk, s * s)
            assert p.separated and p.exact == pytest.approx(p.first_order, rel=1e-9)
            assert p.exact > theta + s * s / theta  # the bulk pushes harder than BBP's point mass


def test_a_spike_inside_the_bulk_is_refused():
    with pytest.raises(InputError, match="not above the bulk"):
        free.outlier_location(0.5, Discrete.from_sample(np.linspace(0, 1, 50)), 0.1)


def test_convolution_density_matches_a_sampled_matrix():
    rng = np.random.default_rng(1)
    n, s = 1000, 0.5
    a = mp_bulk(n, 2)
    ev = np.linalg.eigvalsh(np.diag(a) + s * ensembles.noise_matrix(n, "goe", rng))
    law = Discrete.from_sample(a)
    x = np.linspace(-1.5, 4.5, 300)
    dens = free.convolution_density(law, s * s, x)
    cdf = cumulative_trapezoid(dens, x, initial=0)
    assert cdf[-1] == pytest.approx(1.0, abs=2e-3)
    emp = np.searchsorted(np.sort(ev), x, side="right") / n
    assert np.abs(cdf - emp).max() < 0.01
    left, right = free.bulk_edges(law, s * s)
    assert abs(left - ev.min()) < 0.05 and abs(right - ev.max()) < 0.05
    assert free.convolution_density(law, s * s, np.array([right + 0.2]))[0] < 1e-4


def test_convolution_of_a_point_mass_is_the_semicircle():
    x = np.linspace(-1.9, 1.9, 9)
    dens = free.convolution_density(DELTA0, 1.0, x)
    assert np.allclose(dens, np.sqrt(4 - x**2) / (2 * np.pi), atol=1e-6)


def test_subordination_needs_the_upper_half_plane():
    with pytest.raises(InputError, match="Im z > 0"):
        free.subordination(DELTA0, 1.0, np.array([1.0 + 0j]))


def test_effective_damping_against_monte_carlo():
    rng = np.random.default_rng(3)
    n, s = 1000, 0.3
    a = np.sort(rng.uniform(0.5, 3.0, n))
    law = Discrete.from_sample(a)
    deltas = np.array([0.0, 0.1, 0.5])
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    traces, forms = [], []
    for _ in range(4):
        vals, vecs = np.linalg.eigh(np.diag(a) + s * ensembles.noise_matrix(n, "goe", rng))
        traces.append([np.mean(1 / (vals + d)) for d in deltas])
        forms.append([np.sum((vecs.T @ v) ** 2 / (vals + d)) for d in deltas])
    d_eff = free.effective_damping(law, s * s, deltas)
    assert np.all(d_eff < deltas)
    assert np.allclose(free.damped_trace(law, s * s, deltas), np.mean(traces, 0), rtol=3e-3)
    det = np.array([np.sum(v**2 / (a + d)) for d in d_eff])
    naive = np.array([np.sum(v**2 / (a + d)) for d in deltas])
    emp = np.mean(forms, 0)
    assert np.all(np.abs(det - emp) / emp < 0.01)
    assert np.all(np.abs(det - emp) < np.abs(naive - emp))


def test_damping_inside_the_noisy_spectrum_is_refused():
    law = Discrete.from_sample(np.linspace(0.0, 1.0, 100))
    with pytest.raises(InputError, match="not left of the spectrum"):
        free.effective_damping(law, 0.04, 0.1)  # left edge about -0.4


@pytest.mark.parametrize("kind", ensembles.NOISE_KINDS)
def test_noise_matrices_have_unit_variance(kind):
    x = ensembles.noise_matrix(600, kind, np.random.default_rng(0), sparsity=0.1)
    assert np.allclose(x, x.T)
    assert np.trace(x @ x) / 600 == pytest.approx(1.0, abs=0.06)


def test_unknown_noise_kind_names_the_options():
    with pytest.raises(ValueError, match="rademacher"):
        ensembles.noise_matrix(10, "cauchy", np.random.default_rng(0))


def test_goe_spectra_have_no_outliers():
    rng = np.random.default_rng(5)
    counts = [detect_outliers(np.linalg.eigvalsh(ensembles.noise_matrix(400, "goe", rng))).count
              for _ in range(30)]
    assert sum(counts) == 0


@pytest.mark.parametrize("noise", ["goe", "rademacher"])
def test_planted_spikes_are_found(noise):
    rng = np.random.default_rng(6)
    n, spikes = 800, np.array([1.6, 2.5, 4.0])   # outliers at 2.23, 2.9, 4.25; edge 2
    for _ in range(5):
        a = np.zeros(n)
        a[: len(spikes)] = spikes
        ev = np.linalg.eigvalsh(np.diag(a) + ensembles.noise_matrix(n, noise, rng))
        det = detect_outliers(ev)
        assert det.count == 3
        assert det.edge == pytest.approx(2.0, abs=0.05)
        assert np.allclose(np.sort(det.outliers), spikes + 1 / spikes, atol=0.1)


def test_detection_refuses_small_or_broken_spectra():
    with pytest.raises(InputError, match="too small"):
        detect_outliers(np.arange(5.0))
    with pytest.raises(InputError, match="non-finite"):
        detect_outliers(np.array([np.nan] + [1.0] * 40))


def test_converged_ritz_values_give_the_spikes():
    rng = np.random.default_rng(7)
    n = 600
    a = np.zeros(n)
    a[:2] = [3.0, 5.0]
    mat = np.diag(a) + ensembles.noise_matrix(n, "goe", rng)
    res = lanczos(DenseOperator(torch.as_tensor(mat)), 60, seed=0, tol=1e-6)
    det = detect_ritz_outliers(res.ritz_values, res.converged)
    assert det.count == 2
    assert np.allclose(det.outliers, np.linalg.eigvalsh(mat)[::-1][:2], atol=1e-8)


def test_gaussian_mixture_is_seeded_and_balanced():
    cfg = OmegaConf.load("config/data/mixture.yaml")
    cfg.classes = 5
    ds = data.load(cfg)
    assert ds.num_classes == 5 and ds.x_train.shape[1] == 20
    assert np.bincount(ds.y_train.numpy(), minlength=5).min() > 0.15 * len(ds.y_train)
    assert torch.equal(data.load(cfg).x_train, ds.x_train)
    cfg.classes = 1
    with pytest.raises(ConfigError, match="data.classes"):
        data.load(cfg)
