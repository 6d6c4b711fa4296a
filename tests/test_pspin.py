"""Spherical p-spin complexity against check numbers of Auffinger, Ben Arous, Černý 2013
(thresholds, exact counts)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rmtloss.spinglass.pspin import (
    choromanska_mapping,
    e_inf,
    expected_critical_points,
    goe_sigma,
    i1,
    index_split_n3,
    kac_rice_mc,
    theta,
    theta_k,
    threshold,
)

THRESHOLDS = {  # p: (E_inf, E_0, E_1, E_2, E_5, E_10)
    3: (1.6329931619, 1.6569983635, 1.6528731981, 1.6502531274, 1.6458932566, 1.6425675639),
    4: (1.7320508076, 1.7940850282, 1.7833003013, 1.7764776117, 1.7651708564, 1.7565847859),
    5: (1.7888543820, 1.8879888264, 1.8705756355, 1.8595989163, 1.8414744928, 1.8277662457),
    10: (1.8973665961, 2.1353638005, 2.0921424910, 2.0652186050, 2.0212939173, 1.9885018819),
}


@pytest.mark.parametrize("p", sorted(THRESHOLDS))
def test_thresholds_match_the_check_numbers(p):
    want = THRESHOLDS[p]
    assert e_inf(p) == pytest.approx(want[0], abs=1e-10)
    for k, value in zip((0, 1, 2, 5, 10), want[1:], strict=True):
        assert threshold(k, p) == pytest.approx(value, abs=1e-9)
    ek = [threshold(k, p) for k in range(30)]
    assert np.all(np.diff(ek) < 0) and ek[-1] > e_inf(p)


def test_pointwise_complexities_for_p3():
    table = {-1.70: (0.0157692520, -0.0304456617, -0.0462149138, -0.0619841658),
             -1.66: (0.0040203351, -0.0018967448, -0.0059170799, -0.0099374150),
             -1.65: (0.0020071963, 0.0042538940, 0.0022466977, 0.0002395015),
             -1.64: (0.0005303220, 0.0098432683, 0.0093129463, 0.0087826243)}
    for u, (i, t0, t1, t2) in table.items():
        assert float(i1(u, 3)) == pytest.approx(i, abs=1e-9)
        assert float(theta(u, 3)) == pytest.approx(t0, abs=1e-9)
        assert float(theta_k(u, 0, 3)) == pytest.approx(t0, abs=1e-9)  # minima dominate low energy
        assert float(theta_k(u, 1, 3)) == pytest.approx(t1, abs=1e-9)
        assert float(theta_k(u, 2, 3)) == pytest.approx(t2, abs=1e-9)
    assert float(theta(-1.0, 3)) == pytest.approx(0.2215735903, abs=1e-9)
    assert float(theta(0.5, 3)) == pytest.approx(0.3465735903, abs=1e-9)
    assert float(theta_k(0.5, 4, 3)) == pytest.approx(0.0132402569, abs=1e-9)


@pytest.mark.parametrize("p", [3, 4, 10])
def test_index_complexity_is_continuous_at_the_edge(p):
    e = e_inf(p)
    for k in (0, 3):
        assert float(theta_k(-e - 1e-9, k, p)) == pytest.approx(float(theta_k(-e + 1e-9, k, p)), abs=1e-6)


def test_i1_closed_form_equals_quadrature():
    from scipy.integrate import quad

    e = e_inf(4)
    for u in (-1.8, -2.5, -4.0):
        want = 2 / e**2 * quad(lambda z: math.sqrt(z * z - e * e), -u, e, )[0] * -1
        assert float(i1(u, 4)) == pytest.approx(want, rel=1e-10)


def test_exact_goe_density_is_normalised_with_the_right_moments():
    for n in (3, 10, 25):
        x, sigma = goe_sigma(n)
        dx = x[1] - x[0]
        assert np.sum(sigma) * dx == pytest.approx(n, rel=1e-9)
        # ABC scale: E N^-1 tr M^2 = (N+1)/(2N), E N^-1 tr M^4 = (2N^2+5N+5)/(4N^2)
        assert np.sum(sigma * x**2) * dx / n / n == pytest.approx((n + 1) / (2 * n), rel=1e-8)
        fourth = (2 * n * n + 5 * n + 5) / (4 * n * n)
        assert np.sum(sigma * x**4) * dx / n / n**2 == pytest.approx(fourth, rel=1e-8)


@pytest.mark.parametrize(("p", "n", "total", "below0", "below1"), [
    (3, 3, 10.55235974, 5.27617987, 1.10219484),
    (3, 10, 286.91587955, 143.45793978, 10.60597260),
    (3, 20, 13842.22607262, 6921.11303631, 125.63921253),
    (4, 5, 65.88635911, 32.94317955, 4.29793048),
])
def test_exact_finite_n_counts_match_the_table(p, n, total, below0, below1):
    assert expected_critical_points(n, p) == pytest.approx(total, rel=1e-8)
    assert expected_critical_points(n, p, 0.0) == pytest.approx(below0, rel=1e-8)
    assert expected_critical_points(n, p, -1.0) == pytest.approx(below1, rel=1e-7)


def test_p2_is_exact_and_n3_has_a_closed_form():
    for n in (3, 5, 10):
        assert expected_critical_points(n, 2) == pytest.approx(2 * n, rel=1e-9)
    for p in (2, 3, 4, 5):
        closed = 2 + 8 * (p - 1) ** 1.5 / math.sqrt(3 * p - 2)
        assert expected_critical_points(3, p) == pytest.approx(closed, rel=1e-9)
    assert index_split_n3(3) == pytest.approx((3.13808994, 4.27617987, 3.13808994), abs=1e-7)


def test_kac_rice_monte_carlo_agrees_with_the_exact_index_split():
    mc = kac_rice_mc(3, 3, samples=4_000_000, seed=0)
    exact = np.array(index_split_n3(3))
    assert np.all(np.abs(mc.mean - exact) < 4 * mc.stderr), (mc.mean, mc.stderr)
    euler = mc.mean[0] - mc.mean[1] + mc.mean[2]  # chi(S^2) = 2
    assert euler == pytest.approx(2.0, abs=4 * float(np.sqrt(np.sum(mc.stderr**2))))


def test_finite_n_approaches_the_limit():
    u = -1.64
    gaps = [abs(math.log(expected_critical_points(n, 3, u)) / n - float(theta(u, 3))) for n in (10, 20, 40)]
    assert gaps[0] > gaps[1] > gaps[2]


def test_choromanska_mapping():
    assert choromanska_mapping(1000, 3) == (1000, 3)
    with pytest.raises(ValueError):
        choromanska_mapping(1, 3)
