"""Random-matrix statistics: reference laws, local statistics, control ensembles."""

from rmtloss.rmt.ensembles import goe, goe_eigenvalues, poisson_points, superpose
from rmtloss.rmt.laws import (
    ENSEMBLES,
    MEAN_RTILDE,
    ratio_density,
    rtilde_cdf,
    spacing_cdf,
    spacing_density,
)
from rmtloss.rmt.local_stats import (
    MIN_UNFOLD_LEVELS,
    SHAPE_LEVELS,
    MeanRatio,
    authors_pooled_unfold,
    bootstrap_ks_spacing,
    drop_zero_modes,
    folded,
    ks_distance,
    ks_rtilde,
    ks_spacing,
    mean_min_ratio,
    per_spectrum_unfold,
    pooled_unfold,
    shape_levels,
    spacing_ratios,
    unfold_each,
    unfold_spectrum,
    unfolding_control,
    zero_fraction,
)

__all__ = ["ENSEMBLES", "MEAN_RTILDE", "MIN_UNFOLD_LEVELS", "SHAPE_LEVELS", "bootstrap_ks_spacing",
           "shape_levels", "unfolding_control", "MeanRatio", "authors_pooled_unfold",
           "drop_zero_modes", "folded", "goe",
           "goe_eigenvalues", "ks_distance", "ks_rtilde", "ks_spacing", "mean_min_ratio",
           "per_spectrum_unfold",
           "poisson_points", "pooled_unfold", "ratio_density", "rtilde_cdf", "spacing_cdf",
           "spacing_density", "spacing_ratios", "superpose", "unfold_each",
           "unfold_spectrum", "zero_fraction"]
