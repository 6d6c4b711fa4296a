"""Rank-one deformation of the p-spin Hessian (general activations): sharp factor and index."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rmtloss.spinglass.activations import energy_to_goe, prefactor, prefactor_mc, semicircle_g


def test_prefactor_table_values_and_theta_zero():
    table = {(-1, -2): 0.4142, (-1, -3): 0.6458, (0.5, -2): 1.2929, (0.5, -3): 1.1771,
             (2, -2): 2.1716, (2, -3): 1.7085}
    for (theta, x), want in table.items():
        assert float(prefactor(theta, x)) == pytest.approx(want, abs=1e-4)
    assert np.allclose(prefactor(0.0, np.linspace(-3, -1.5, 7)), 1.0)  # theta -> 0 is ABC


def test_g_is_minus_the_semicircle_stieltjes_transform():
    # e^T (M - x)^{-1} e -> -g(x) for a large GOE in ABC's convention
    rng = np.random.default_rng(0)
    n = 1500
    a = rng.standard_normal((n, n))
    m = (a + a.T) / (2 * math.sqrt(n))
    for x in (-2.0, -3.0):
        quad = np.linalg.solve(m - x * np.eye(n), np.eye(n)[:, 0])[0]
        assert quad == pytest.approx(-float(semicircle_g(x)), abs=0.03)
    with pytest.raises(ValueError, match="below the bulk"):
        semicircle_g(-1.0)


def test_monte_carlo_ratio_and_interlacing():
    mc = prefactor_mc(200, [-1.0, 2.0], [-2.0, -3.0], samples=120, seed=1)
    theory = prefactor(mc.thetas[:, None], mc.xs[None])
    assert np.all(np.abs(mc.ratio - theory) < 4 * mc.stderr + 5e-3)  # 4 s.e. plus O(1/N) bias
    assert mc.max_index_shift <= 1  # a rank-one change moves the index by at most one
    shifted = prefactor_mc(60, [3.0], [-2.0], samples=20, seed=2)  # outlier at 3 + 1/6 crosses 0
    assert shifted.max_index_shift == 1


def test_energy_to_goe_maps_the_edge():
    assert float(energy_to_goe(-2 * math.sqrt(2 / 3), 3)) == pytest.approx(-math.sqrt(2))


def test_piecewise_linear_fits_are_exact_for_relu_and_improve_with_pieces():
    from rmtloss.spinglass.activations import piecewise_linear_fit

    relu = piecewise_linear_fit("relu", 2)
    assert relu.l2_error < 1e-10 and np.allclose(relu.slopes, [0, 1], atol=1e-10)
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(relu(x), np.maximum(x, 0), atol=1e-10)
    for name in ("tanh", "sigmoid", "gelu"):
        errors = [piecewise_linear_fit(name, k).l2_error for k in (1, 2, 4, 8)]
        assert errors[-1] < errors[0]
        assert all(b <= a + 1e-12 for a, b in zip(errors[:-1], errors[1:], strict=True))
    tanh = piecewise_linear_fit("tanh", 3)
    # continuity at the knots
    for k in tanh.knots:
        assert tanh(np.array([k - 1e-9]))[0] == pytest.approx(tanh(np.array([k + 1e-9]))[0], abs=1e-7)
    with pytest.raises(ValueError, match="unknown activation"):
        piecewise_linear_fit("swish2", 3)
