"""Global laws, fits and distances: closed forms, known samples, recovery of fitted parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rmtloss.errors import InputError
from rmtloss.rmt import ensembles, families, global_laws, layered
from rmtloss.rmt.global_laws import Discrete
from rmtloss.spinglass import pspin


def test_ks_and_w1_of_a_two_point_law_against_the_uniform_law():
    law = Discrete.from_sample(np.array([0.0, 1.0, 1.0, 0.0]))
    uniform = lambda x: np.clip(x, 0.0, 1.0)  # noqa: E731
    assert global_laws.ks(law, uniform) == pytest.approx(0.5)
    assert global_laws.w1(law, uniform) == pytest.approx(0.25, abs=1e-4)


def test_ks_sees_an_atom_of_the_model_between_sample_points():
    law = Discrete.from_sample(np.array([-1.0, 1.0]))
    step = lambda x: (np.asarray(x) >= 0).astype(float)  # noqa: E731  (all mass at 0)
    assert global_laws.ks(law, step) == pytest.approx(0.5)


def test_discrete_law_merges_ties_and_weights():
    law = Discrete.from_sample(np.array([2.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.0]))
    assert law.values.tolist() == [1.0, 2.0] and law.weights.tolist() == [0.5, 0.5]
    assert law.moment(1) == pytest.approx(1.5)
    with pytest.raises(InputError, match="too small"):
        Discrete.from_sample(np.array([np.nan]))


def test_trim_top_removes_exactly_the_asked_mass():
    law = Discrete.from_sample(np.arange(10.0))
    trimmed = global_laws.trim_top(law, 0.25)  # 9, 8 and half of 7
    assert trimmed.values[-1] == 7.0
    assert trimmed.weights[-1] / trimmed.weights[0] == pytest.approx(0.5)


@pytest.mark.parametrize(("m", "r"), [(0.0, 2.0), (3.0, 0.5)])
def test_semicircle_cdf_integrates_its_density(m, r):
    for x in (m - 0.7 * r, m, m + 0.3 * r):
        assert global_laws.semicircle_cdf(x, m, r) == pytest.approx(
            quad(global_laws.semicircle_pdf, m - r, x, args=(m, r))[0], abs=1e-10
        )
    assert global_laws.semicircle_cdf(m + r, m, r) == 1.0
    assert global_laws.semicircle_cdf(m - 2 * r, m, r) == 0.0


@pytest.mark.parametrize(("sigma2", "q"), [(1.0, 0.3), (2.0, 1.0), (0.5, 2.5)])
def test_marchenko_pastur_mass_atom_mean_and_variance(sigma2, q):
    lo, hi = global_laws.mp_edges(sigma2, q)
    x = np.linspace(lo, hi, 200001)
    f = global_laws.mp_cdf(x, sigma2, q)
    atom = max(0.0, 1 - 1 / q)
    assert f[-1] == pytest.approx(1.0, abs=1e-6)
    assert global_laws.mp_cdf(-1e-12, sigma2, q) == 0.0
    assert global_laws.mp_cdf(0.0, sigma2, q) == pytest.approx(atom)
    dens = np.diff(f) / np.diff(x)  # continuous part (the atom is at 0 <= lo)
    mid = (x[1:] + x[:-1]) / 2
    mean = np.sum(mid * dens * np.diff(x))
    second = np.sum(mid**2 * dens * np.diff(x))
    assert mean == pytest.approx(sigma2, rel=1e-3)
    assert second - mean**2 == pytest.approx(sigma2**2 * q, rel=1e-2)
    assert np.allclose(dens[1000:-1000], global_laws.mp_pdf(mid[1000:-1000], sigma2, q), rtol=1e-2)


@pytest.mark.parametrize("method", ["moments", "cdf"])
def test_semicircle_fit_recovers_a_scaled_shifted_goe(method):
    rng = np.random.default_rng(0)
    n = 300
    ev = np.concatenate([np.linalg.eigvalsh(ensembles.goe(n, rng)) for _ in range(4)]) / math.sqrt(n)
    law = Discrete.from_sample(3.0 + 0.5 * ev)  # semicircle of centre 3, radius 1
    fit = global_laws.fit_semicircle(law, method)
    assert fit.params["m"] == pytest.approx(3.0, abs=0.02) and fit.params["r"] == pytest.approx(1.0, rel=0.02)
    assert fit.ks < 0.02
    centred = Discrete.from_sample(0.5 * ev)  # MP lives on [0, inf): half the mass out of its reach
    assert global_laws.fit_mp(centred, method).ks > 0.3


@pytest.mark.parametrize(("q", "method"), [(0.5, "moments"), (0.5, "cdf"), (2.0, "cdf")])
def test_marchenko_pastur_fit_recovers_a_wishart_sample(q, method):
    rng = np.random.default_rng(1)
    t = 800
    n = int(q * t)
    x = rng.standard_normal((n, t))
    ev = global_laws.snap_zeros(np.linalg.eigvalsh(1.5 * x @ x.T / t), 1e-9)
    fit = global_laws.fit_mp(Discrete.from_sample(ev), method)
    # the eigenvalues of XX^T/T with n/T = q: sigma^2 = 1.5, ratio q
    assert fit.params["sigma2"] == pytest.approx(1.5, rel=0.03)
    assert fit.params["q"] == pytest.approx(q, rel=0.05)
    assert fit.ks < 0.02
    assert global_laws.fit_semicircle(Discrete.from_sample(ev)).ks > 0.04


def test_family_fit_recovers_the_shape_and_zero_atom_of_its_own_sample():
    ev = families.sample("wishart_product", {"depth": 2, "ratio": 0.5}, 400, 2, seed=5)
    law = Discrete.from_sample(global_laws.snap_zeros(ev, 1e-9) * 7.0)
    fam = families.fit_family(
        law, "wishart_product", {"depth": [1, 2, 3], "ratio": [0.25, 0.5, 1.0]}, 400, 2, seed=1
    )
    best, fits = fam.best, fam.fits
    assert (best.params["depth"], best.params["ratio"]) == (2.0, 0.5)
    assert best.params["zero_weight"] == pytest.approx(0.5, abs=0.01)
    assert best.ks < 0.03
    assert max(f.ks for f in fits) > 0.1
    wrong = families.fit_family(law, "wigner_product", {"depth": [1, 2]}, 400, 1, seed=1).best
    assert wrong.ks > 3 * best.ks


def test_fuss_catalan_moments_of_square_wishart_products():
    rng = np.random.default_rng(2)
    for depth in (1, 2, 3):
        ev = np.concatenate(
            [np.linalg.eigvalsh(ensembles.wishart_product([300] * (depth + 1), rng)) for _ in range(3)]
        )
        for k in (1, 2, 3):
            want = ensembles.fuss_catalan(k, depth)
            assert np.mean(ev**k) == pytest.approx(want, rel=0.05 * k), (depth, k)
    assert [ensembles.fuss_catalan(k, 2) for k in (1, 2, 3)] == [1.0, 3.0, 12.0]


@pytest.mark.parametrize("dims", [[400, 150, 300], [200, 50, 100, 300], [100, 300], [300, 100]])
def test_wishart_product_zero_mass_is_the_rank_formula(dims):
    ev = np.linalg.eigvalsh(ensembles.wishart_product(dims, np.random.default_rng(3)))
    zero = np.mean(np.abs(ev) <= 1e-13 * np.abs(ev).max())
    assert zero == pytest.approx(ensembles.product_zero_mass(dims), abs=1e-12)


def test_bauer_golinelli_check_values_and_a_sampled_diluted_wigner():
    want = [0.6544, 0.4559, 0.2161]  # Granziol 2020, arXiv 2006.07721
    assert ensembles.bauer_golinelli(np.array([0.5, 1.0, 2.0])) == pytest.approx(want, abs=1e-4)
    assert ensembles.bauer_golinelli(1e-6) == pytest.approx(1.0, abs=1e-5)
    c = np.linspace(0.1, math.e, 20)
    assert np.all(ensembles.bauer_golinelli(c) >= np.exp(-c))  # isolated vertices are a lower bound
    rng = np.random.default_rng(4)
    zero = np.mean(
        [
            np.mean(np.abs(ev) <= 1e-9 * np.abs(ev).max())
            for ev in (np.linalg.eigvalsh(ensembles.percolated_wigner(2000, 1.0, rng)) for _ in range(2))
        ]
    )
    assert zero == pytest.approx(ensembles.bauer_golinelli(1.0), abs=0.02)
    with pytest.raises(ValueError, match="c <= e"):
        ensembles.bauer_golinelli(3.0)


def test_unit_variance_of_wigner_products_and_diluted_wigner():
    rng = np.random.default_rng(5)
    for mat in (
        ensembles.wigner_product(400, 2, rng),
        ensembles.wigner_product(400, 3, rng),
        ensembles.percolated_wigner(1000, 4.0, rng),
    ):
        assert np.allclose(mat, mat.T)
        ev = np.linalg.eigvalsh(mat)
        assert abs(ev.mean()) < 0.05 and np.mean(ev**2) == pytest.approx(1.0, rel=0.1)


def test_index_fraction_under_the_semicircle_has_the_layered_threshold():
    p = 3
    e = np.linspace(-pspin.threshold(0, p), 0, 101)
    alpha = layered.semicircle_index(e, p)
    assert np.all(alpha[e < -pspin.e_inf(p)] == 0) and np.all(alpha[e > -pspin.e_inf(p) + 1e-3] > 0)
    assert alpha[-1] == pytest.approx(0.5) and np.all(np.diff(alpha) >= 0)


def test_the_scale_search_is_widened_off_its_boundary():
    """95% of the mass a uniform shape scaled by 1e-4, 1% at 100: the second-moment start is e^11 too
    large. Without widening the fit ends on the search's lower end (on_boundary, KS 0.50); widened
    three times it finds the scale (KS 0.016)."""
    rng = np.random.default_rng(0)
    shape = global_laws.Discrete.from_sample(rng.uniform(1, 2, 2000) / np.sqrt(7 / 3))
    law = global_laws.Discrete.from_sample(
        np.concatenate([rng.uniform(1, 2, 1980) * 1e-4, np.full(20, 100.0)])
    )
    stuck = global_laws.fit_scaled_shape(law, shape, "uniform", {}, max_widen=0)
    free = global_laws.fit_scaled_shape(law, shape, "uniform", {}, max_widen=3)
    assert stuck.on_boundary and stuck.ks > 0.4
    assert not free.on_boundary and free.ks < 0.05
    assert free.params["scale"] == pytest.approx(1e-4 * np.sqrt(7 / 3), rel=0.1)
