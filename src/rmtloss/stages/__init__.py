"""The stages: Hydra apps that compute (train, spectra, analysis, densities, outliers, complexity,
optimisers) and that draw and decide (figures, claims). Each is run as ``python -m rmtloss.<stage>``
(or ``python -m rmtloss.stages.<stage>``), imports library code only and never another stage, and
shares the shape of :func:`rmtloss.stage.stage`."""
