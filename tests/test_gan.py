"""The GAN spin-glass pipeline against independently computed check numbers (the authors'
constants, quartic and grids)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rmtloss.spinglass import gan, pspin

MAIN = gan.GanModel(3, 3, 1.0, 0.9)


@pytest.mark.parametrize(("p", "sigma", "b", "C"),
                         [(3, 1.0, 43.817805, 7.412824), (5, 1.0, 303.578655, 5.774399),
                          (3, 0.5, 21.908902, 8.095626), (5, 0.01, 3.035787, 9.582374)])
def test_constants_match_the_authors_table(p, sigma, b, C):
    m = gan.GanModel(p, p, sigma, 0.9)
    assert m.b == pytest.approx(b, abs=1e-6) and m.log_prefactor == pytest.approx(C, abs=1e-6)
    if (p, sigma) == (3, 1.0):
        assert (m.b1, m.s2, m.s12, m.c, m.edge_g) == pytest.approx((2.323790, 4718592, 4.5, 384, 19.5959),
                                                                  abs=1e-4)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="kappa"):
        gan.GanModel(3, 3, 1.0, 1.0)
    with pytest.raises(ValueError, match="sigma_z"):
        gan.GanModel(3, 3, 0.0, 0.5)


def test_density_check_numbers_at_x1_zero():
    z = np.array([0.0, 30.0, 60.0])
    args = (0.0, MAIN.kappa, MAIN.b, MAIN.b1)
    np.testing.assert_allclose(gan.lsd_qve(z, *args), [0.0102604, 0.0089813, 0.0026132], atol=2e-7)
    np.testing.assert_allclose(gan.lsd_quartic(z, *args), [0.0102604, 0.0089813, 0.0026132], atol=2e-7)
    np.testing.assert_allclose(gan.lsd_authors(z, *args), [0.0102576, 0.0089796, 0.0026230], atol=2e-7)


SETTINGS = [(1.5, .9, 1, .5), (4, .9, 1, .5), (1.1, .9, 1, .5), (0, .5, 1, 1), (2, .3, 1, 2)]


@pytest.mark.parametrize("setting", SETTINGS)
def test_quartic_agrees_with_the_fixed_point_and_has_mass_one(setting):
    sup = gan.support(*setting)
    assert sup.mass == pytest.approx(1, abs=1e-5)
    for lam, rho in sup.pieces:
        np.testing.assert_allclose(rho, gan.lsd_qve(lam, *setting), atol=2.5e-3)


def test_authors_sign_of_f_is_off_when_b1_is_comparable_to_b():
    z = np.linspace(-2.5, 2.5, 400)
    gap = np.abs(gan.lsd_authors(z, 0.0, 0.5, 1.0, 1.0) - gan.lsd_quartic(z, 0.0, 0.5, 1.0, 1.0)).max()
    assert gap > 0.1


@pytest.mark.parametrize("sigma", [1e-5, 1e-4])
def test_small_sigma_keeps_the_narrow_generator_block(sigma):
    m = gan.GanModel(5, 5, sigma, 0.9)
    for x1 in (-15.0, 10.0, 40.0):
        sup = gan.support(x1, m.kappa, m.b, m.b1)
        assert sup.mass == pytest.approx(1, abs=1e-4)
        near_zero = [np.trapezoid(r, lam) for lam, r in sup.pieces if lam[0] <= 0 <= lam[-1]]
        assert near_zero == [pytest.approx(1 - m.kappa, abs=1e-4)]


def test_density_matches_sampled_spectra():
    eig = gan.sample_eigenvalues(1000, 1.5, 0.9, 1.0, 0.5, samples=10, seed=1).ravel()
    edges = np.linspace(eig.min(), eig.max(), 31)
    hist = np.histogram(eig, edges, density=True)[0]
    fine = np.linspace(edges[0], edges[-1], 30 * 40 + 1)
    per_bin = gan.lsd_quartic(fine, 1.5, 0.9, 1.0, 0.5)[:-1].reshape(30, 40).mean(axis=1)
    assert np.abs(hist - per_bin).max() < 0.03


def test_log_potential_of_the_semicircle_matches_its_closed_form():
    radius = math.sqrt(2)
    lam = np.linspace(-radius, radius, 4000)
    rho = np.sqrt(np.maximum(radius**2 - lam**2, 0)) * 2 / (math.pi * radius**2)
    sup = gan.Support(((lam, rho),), ((-radius, radius),), float(np.trapezoid(rho, lam)))
    x = np.array([-3.0, -1.5, -1.0, -0.3, 0.0, 0.77, 1.41, 2.0, 10.0])
    np.testing.assert_allclose(gan.log_potential(x, sup), gan.semicircle_log_potential(x, radius), atol=1e-5)


def test_log_potential_matches_adaptive_quadrature():
    sup = gan.support(0.0, MAIN.kappa, MAIN.b, MAIN.b1, "authors")
    xs = np.array([-300.0, -100.0, 3.3, 120.0])
    want = [5.698374, 4.551444, 2.937838, 4.751528]
    np.testing.assert_allclose(gan.log_potential(xs, sup), want, atol=5e-5)
    lo, hi = sup.edges

    def f(lam: float, x: float) -> float:
        return gan.lsd_quartic(np.array([lam]), 0.0, MAIN.kappa, MAIN.b, MAIN.b1)[0] * math.log(abs(lam - x))

    ours = gan.log_potential(np.array([0.0]), gan.support(0.0, MAIN.kappa, MAIN.b, MAIN.b1))[0]
    exact = quad(f, lo, hi, args=(0.0,), points=[0.0], limit=400)[0]
    assert ours == pytest.approx(exact, abs=2e-5)


def test_exponent_check_numbers_and_symmetry():
    pts = {(-200, 0): 12.69457, (-100, -5): 9.23436, (0, 0): 10.34784, (100, 5): 9.23436, (300, -10): 1.95970}
    for (x, x1), want in pts.items():
        got = gan.exponent_grid(MAIN, np.array([float(x)]), np.array([float(x1)]), "authors").values[0, 0]
        assert got == pytest.approx(want, abs=1e-4)
    qve_like = gan.exponent_grid(MAIN, np.array([-100.0]), np.array([-5.0])).values[0, 0]
    assert qve_like == pytest.approx(9.23439, abs=1e-4)
    grid = gan.exponent_grid(MAIN, np.array([-120.0, -7.5, 40.0]), np.array([-6.0, 2.0]), nodes=2000)
    flipped = gan.exponent_grid(MAIN, np.array([-40.0, 7.5, 120.0]), np.array([-2.0, 6.0]), nodes=2000)
    np.testing.assert_allclose(grid.values, flipped.values[::-1, ::-1], atol=1e-6)


def test_fast_theta_map_equals_the_double_loop():
    rng = np.random.default_rng(0)
    xs, x1s = np.sort(rng.uniform(-50, 20, 40)), np.sort(rng.uniform(-15, 10, 15))
    values = rng.normal(size=(15, 40))
    values[rng.random(values.shape) < 0.1] = -np.inf
    u_d, u_g = np.linspace(-6, 6, 23), np.linspace(-0.2, 0.1, 19)
    fast = gan.theta_map(xs, x1s, values, 3, 384.0, u_d, u_g)
    slow = gan.theta_map_bruteforce(xs, x1s, values, 3, 384.0, u_d, u_g)
    assert np.isnan(fast).any() and np.isfinite(fast).any()
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("p", [3, 4])
def test_abc_embedding_through_the_gan_pipeline_reproduces_theta_p(p):
    """Semicircle of radius sqrt 2, constant K, weight (p-1)/p x^2, domain x <= sqrt(p/(2(p-1))) u."""
    radius = math.sqrt(2)
    lam = np.linspace(-radius, radius, 4000)
    rho = np.sqrt(np.maximum(2 - lam**2, 0)) / math.pi
    sup = gan.Support(((lam, rho),), ((-radius, radius),), float(np.trapezoid(rho, lam)))
    xs = np.arange(-3.0, 0.5, 1e-4)
    values = ((1 + math.log(2 * (p - 1))) / 2 - (p - 1) / p * xs**2 + gan.log_potential(xs, sup))[None, :]
    c = math.sqrt(p / (2 * (p - 1)))
    u = np.array([-1.9, -1.75, -1.7, -1.66, -1.5, -1.0, -0.5, 0.2])
    got = gan.theta_map(xs, np.array([0.0]), values, p, c, np.array([1e9]), u)[:, 0]
    np.testing.assert_allclose(got, pspin.theta(u, p), atol=2e-4)


def test_goe_rate_is_abc_i1_and_the_conventions_differ_in_sidedness():
    e = pspin.e_inf(3)
    u = np.array([-2.5, -2.0, -1.7])
    np.testing.assert_allclose(gan.goe_rate(u, e, "lower"), pspin.i1(u, 3), atol=1e-12)
    np.testing.assert_allclose(gan.goe_rate(-u, e, "two"), pspin.i1(u, 3), atol=1e-12)
    assert np.isinf(gan.goe_rate(-u, e, "lower")).all()
    assert np.isinf(gan.goe_rate(np.array([0.3]), e, "two")).all()
    pen_d, pen_g = gan.index_penalties(MAIN, np.array([-30.0, 30.0]), np.array([0.0]), "corrected")
    assert np.isfinite(pen_g[0, 0]) and np.isinf(pen_g[0, 1])          # only x <= -E_G allows a low index
    with pytest.raises(ValueError, match="convention"):
        gan.index_penalties(MAIN, np.array([0.0]), np.array([0.0]), "mine")


def test_index_maps_are_nested_and_k0_is_theta():
    xs, x1s = np.linspace(-500, 1.05 * MAIN.edge_g, 60), np.linspace(-15, 50, 30)
    grid = gan.exponent_grid(MAIN, xs, x1s, nodes=1000)
    u_d, u_g = np.linspace(-4, 2, 31), np.linspace(xs[0] / MAIN.c, xs[-1] / MAIN.c, 30)
    theta = gan.theta_map(xs, x1s, grid.values, 3, MAIN.c, u_d, u_g)
    np.testing.assert_array_equal(gan.index_theta(grid, MAIN, 0, 0, "authors", u_d, u_g), theta)
    t1 = gan.index_theta(grid, MAIN, 1, 1, "authors", u_d, u_g)
    t2 = gan.index_theta(grid, MAIN, 2, 1, "authors", u_d, u_g)
    ok = np.isfinite(t2)
    assert (t2[ok] <= t1[ok]).all() and (t1[np.isfinite(t1)] <= theta[np.isfinite(t1)]).all()
    kd, kg = gan.largest_index(grid, MAIN, 5, "authors", u_d, u_g)
    assert ((kd >= 0) == (np.nan_to_num(theta, nan=-1) > 0)).all()


def test_monte_carlo_log_determinant_of_identical_samples_is_exact():
    eig = np.tile(np.array([-1.0, 0.5, 2.0]), (4, 1))
    value, err = gan.log_abs_det_mc(eig, np.array([3.0, -2.0]))
    np.testing.assert_allclose(value, [np.log([4.0, 2.5, 1.0]).sum() / 3, np.log([1.0, 2.5, 4.0]).sum() / 3])
    np.testing.assert_allclose(err, 0, atol=1e-12)


def test_converged_theta_g_goes_below_the_grid_floor_and_sits_on_the_zero_of_e():
    x1s = np.linspace(-15, 40, 12)
    grid = gan.exponent_grid(MAIN, np.array([-500.0, 0.0]), x1s, nodes=1000)
    theta_g, left = gan.converged_theta_g(MAIN, grid)
    assert theta_g < -500 / MAIN.c and left < theta_g * MAIN.c
    at = gan.exponent_grid(MAIN, np.array([theta_g * MAIN.c * (1 + 1e-4), theta_g * MAIN.c * (1 - 1e-4)]),
                           x1s, nodes=1000).values.max(axis=0)
    assert at[0] < 0 < at[1]


def test_thresholds_and_boundary_of_a_known_region():
    u_d, u_g = np.linspace(-2, 2, 5), np.linspace(-1, 1, 5)
    theta = np.where(u_g[:, None] + u_d[None, :] > 0.5, 1.0, -1.0)
    t = gan.thresholds(theta, u_d, u_g)
    assert (t["theta_d"], t["theta_g"], t["theta_dg"]) == (0.0, -1.0, 1.0)
    np.testing.assert_array_equal(gan.min_u_g(theta, u_g), [np.nan, np.nan, 1.0, 0.0, -1.0])


def test_converged_theta_g_is_nan_where_the_grid_does_not_limit_it():
    tiny = gan.GanModel(5, 5, 1e-4, 0.9)           # E > 0 only near x = 0: far inside the grid
    grid = gan.exponent_grid(tiny, np.array([-1000.0, 0.0]), np.linspace(-15, 40, 6), nodes=1000)
    theta_g, left = gan.converged_theta_g(tiny, grid)
    assert math.isnan(theta_g) and left == -1000.0
