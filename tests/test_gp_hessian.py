"""The GP Hessian model: entry covariances, degeneracy, outliers and GOE local statistics."""

from __future__ import annotations

import numpy as np
import pytest

from rmtloss import rmt
from rmtloss.rmt import global_laws
from rmtloss.rmt.gp_hessian import GPHessian


def test_entry_variances_follow_kp_and_kpp():
    g = GPHessian(60, kp=2.0, kpp=0.5)
    rng = np.random.default_rng(0)
    hs = np.stack([g.sample(rng) for _ in range(400)])
    iu = np.triu_indices(60, 1)
    assert np.var(hs[:, iu[0], iu[1]]) == pytest.approx(0.5, rel=0.03)
    diag = hs[:, np.arange(60), np.arange(60)]
    assert np.var(diag) == pytest.approx(2 * 0.5 + 4.0, rel=0.15)  # independent 2k'' + common k'^2
    common = diag.mean(axis=1)
    assert np.var(common) == pytest.approx(4.0 + 2 * 0.5 / 60, rel=0.15)


def test_conditional_variant_shrinks_the_common_shift():
    assert GPHessian(10, 1.0, 0.1, conditional=1).shift_variance == 0.0
    assert GPHessian(10, 2.0, 0.1, conditional=4).shift_variance == pytest.approx(3.0)


def test_degeneracy_and_outliers():
    g = GPHessian(50, 1.0, 0.1, degeneracy=7, outliers=3, outlier_scale=50.0)
    ev = g.eigenvalues(4, seed=1)
    assert ev.shape == (4, 57)
    assert all(np.sum(np.abs(row) < 1e-12) >= 7 for row in ev)
    assert all(np.sum(row > 25.0) == 3 for row in ev)  # three diagonal outliers at 50(1 + z^2)
    with pytest.raises(ValueError, match="kpp > 0"):
        GPHessian(10, 1.0, 0.0)


def test_local_statistics_stay_goe_while_the_global_density_is_not_a_semicircle():
    ev = GPHessian(200, 1.0, 1e-4).eigenvalues(30, seed=2)
    mr = rmt.mean_min_ratio([rmt.spacing_ratios(row, None) for row in ev], n_boot=200)
    assert 0.51 <= mr.mean <= 0.55
    one = global_laws.fit_semicircle(global_laws.Discrete.from_sample(ev[0]))
    assert one.ks < 0.03  # one sample is a (shifted) semicircle
