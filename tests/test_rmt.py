"""Local statistics against known spectra: GOE, Poisson, superpositions, zero modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rmtloss.errors import InputError
from rmtloss.rmt import (
    ENSEMBLES,
    MEAN_RTILDE,
    goe_eigenvalues,
    ks_spacing,
    mean_min_ratio,
    poisson_points,
    pooled_unfold,
    ratio_density,
    rtilde_cdf,
    spacing_cdf,
    spacing_density,
    spacing_ratios,
    superpose,
    zero_fraction,
)


@pytest.fixture(scope="module")
def goe_spectra():
    return goe_eigenvalues(1000, 20, seed=0)


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_reference_densities_integrate_to_one(ensemble):
    assert quad(lambda r: float(ratio_density(r, ensemble)), 0, np.inf)[0] == pytest.approx(1, 1e-7)
    assert quad(lambda s: float(spacing_density(s, ensemble)), 0, np.inf)[0] == pytest.approx(1, 1e-7)
    # unit mean spacing
    assert quad(lambda s: s * float(spacing_density(s, ensemble)), 0, np.inf)[0] == pytest.approx(1, 1e-3)


@pytest.mark.parametrize(("ensemble", "surmise"), [("poisson", 2 * math.log(2) - 1),
                                                   ("goe", 4 - 2 * math.sqrt(3)),
                                                   ("gue", 2 * math.sqrt(3) / math.pi - 0.5)])
def test_folded_ratio_cdf_gives_the_surmise_mean(ensemble, surmise):
    x = np.linspace(0, 1, 200001)
    mean = np.trapezoid(1 - rtilde_cdf(x, ensemble), x)
    assert mean == pytest.approx(surmise, abs=1e-6)


def test_goe_spacing_cdf_matches_density():
    s = np.linspace(0, 4, 4001)
    num = np.concatenate([[0], np.cumsum((spacing_density(s[1:], "gue") + spacing_density(s[:-1], "gue"))
                                         / 2 * np.diff(s))])
    np.testing.assert_allclose(spacing_cdf(s, "gue"), num, atol=1e-6)


def test_large_goe_samples_give_the_goe_mean_ratio(goe_spectra):
    mr = mean_min_ratio([spacing_ratios(ev, None) for ev in goe_spectra])
    assert abs(mr.mean - MEAN_RTILDE["goe"]) < 0.005
    assert mr.ci_low < mr.mean < mr.ci_high and mr.ci_low > 0.45


def test_poisson_points_give_the_poisson_mean_ratio():
    mr = mean_min_ratio([spacing_ratios(ev, None) for ev in poisson_points(1000, 20, seed=0)])
    assert abs(mr.mean - MEAN_RTILDE["poisson"]) < 0.005


def test_pooled_superposition_falls_below_045(goe_spectra):
    pooled = superpose(goe_spectra, len(goe_spectra))
    assert mean_min_ratio([spacing_ratios(ev, None) for ev in pooled]).mean < 0.45
    two = superpose(goe_spectra, 2)  # already two spectra move <r~> far from GOE
    assert mean_min_ratio([spacing_ratios(ev, None) for ev in two]).mean < 0.45


def test_degenerate_zeros_are_dropped_before_ratios():
    ev = goe_eigenvalues(400, 1, seed=3)[0]
    padded = np.concatenate([ev, np.zeros(200), 1e-15 * np.random.default_rng(0).standard_normal(50)])
    r = spacing_ratios(padded)
    assert np.all(np.isfinite(r)) and len(r) == 398
    assert abs(mean_min_ratio([r]).mean - MEAN_RTILDE["goe"]) < 0.03
    kept = spacing_ratios(padded, zero_cut=None)  # exact ties give r = 0 (and 0/0, s/0 dropped)
    assert np.all(r > 0) and np.sum(kept == 0) >= 1
    assert mean_min_ratio([kept]).mean < mean_min_ratio([r]).mean


def test_pooled_unfolding_tells_goe_from_poisson(goe_spectra):
    s_goe = pooled_unfold(goe_spectra, None)
    assert s_goe.mean() == pytest.approx(1, abs=0.02)
    assert ks_spacing(s_goe, "goe") < 0.03 < 0.15 < ks_spacing(s_goe, "poisson")
    s_poi = pooled_unfold(poisson_points(1000, 20, seed=1), None)
    assert ks_spacing(s_poi, "poisson") < 0.03 < 0.15 < ks_spacing(s_poi, "goe")


def test_too_small_inputs_raise_a_clear_error():
    with pytest.raises(InputError, match="too small"):
        mean_min_ratio([np.array([0.5])])
    with pytest.raises(InputError, match="at least 2 spectra"):
        pooled_unfold([np.arange(10.0)])


def test_zero_fraction_counts_relative_to_the_largest_eigenvalue():
    ev = np.array([0.0, 1e-12, -1e-9, 1e-5, 0.5, -1.0])
    frac = zero_fraction([ev], np.array([1e-11, 1e-8, 1e-4, 1.0]))
    np.testing.assert_allclose(frac, [2 / 6, 3 / 6, 4 / 6, 5 / 6])


def test_the_authors_unfoldr_cuts_absolutely_and_counts_ties_as_zero_spacings():
    """Their step counting function gives exactly-zero spacings to tied eigenvalues (the "spike at 0"
    of their float32 figures); an absolute cut at 1e-20 removes tiny values a cut at 0 keeps."""
    from rmtloss.rmt import authors_pooled_unfold

    base = goe_eigenvalues(200, 30, 5)  # 10 spectra unfolded against a pool of 20
    tied = [np.concatenate([ev, np.full(40, 1e-30)]) for ev in base]
    s0 = authors_pooled_unfold(tied, 0.0)
    s20 = authors_pooled_unfold(tied, 1e-20)
    assert np.sum(s0 == 0) - np.sum(s20 == 0) >= 39 * 10  # 39 zero spacings per unfolded spectrum
    assert np.sum(s20 == 0) < 0.02 * len(s20) and len(s0) == len(s20) + 10 * 40
    # exact zeros fall to a cut at 0 already
    zeros = [np.concatenate([ev, np.zeros(40)]) for ev in base]
    assert len(authors_pooled_unfold(zeros, 0.0)) == len(s20)
