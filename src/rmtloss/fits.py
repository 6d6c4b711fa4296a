"""Curve fits of measured series: a straight line (outlier shifts against 1/b − 1/N), and the
exponential a + b exp(c t) and power law a + b t^(-k) of diminishing returns (best test error
against the training budget).
"""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger("rmtloss.fits")


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares intercept, slope and R² of y against x."""
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    r2 = 1 - resid.var() / y.var() if y.var() > 0 else float("nan")
    return float(intercept), float(slope), float(r2)


def origin_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y = slope x (a line through the origin) and the R² of that line,
    1 - sum (y - slope x)² / sum (y - mean y)² (negative when the line is worse than the mean)."""
    slope = float(np.sum(x * y) / np.sum(x * x))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1 - float(np.sum((y - slope * x) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    return slope, r2


def _curve_fit(model, t: np.ndarray, y: np.ndarray, p0: tuple[float, ...], names: str) -> dict:  # noqa: ANN001
    """Least-squares fit of ``model(t, *params)`` (``scipy.optimize.curve_fit``): the parameters
    named by the letters of ``names``, R² and the residual sum of squares (NaNs when it fails)."""
    from scipy.optimize import curve_fit

    t, y = np.asarray(t, float), np.asarray(y, float)
    try:
        params, _ = curve_fit(model, t, y, p0=p0, maxfev=20000)
    except RuntimeError as exc:
        log.warning("fit of %s failed: %s", names, exc)
        return {**dict.fromkeys(names, math.nan), "r2": math.nan, "rss": math.nan}
    rss = float(np.sum((y - model(t, *params)) ** 2))
    r2 = 1 - rss / float(np.sum((y - y.mean()) ** 2))
    return {**{k: float(v) for k, v in zip(names, params, strict=True)}, "r2": r2, "rss": rss}


def exp_fit(t: np.ndarray, y: np.ndarray, p0: tuple[float, float, float]) -> dict:
    """Least-squares fit of y = a + b exp(c t): ``a, b, c``, R² and the residual sum of squares."""
    return _curve_fit(lambda t, a, b, c: a + b * np.exp(c * t), t, y, p0, "abc")


def power_fit(t: np.ndarray, y: np.ndarray, p0: tuple[float, float, float] | None = None) -> dict:
    """Least-squares fit of the power law y = a + b t^(-k): ``a, b, k``, R² and the residual sum of
    squares. The default start is a = min y, b = max y - min y (at t = 1), k = 1/2."""
    y = np.asarray(y, float)
    start = p0 or (float(y.min()), float(y.max() - y.min()), 0.5)
    return _curve_fit(lambda t, a, b, k: a + b * np.power(t, -k), t, y, start, "abk")


def returns_fits(budgets: np.ndarray, error: np.ndarray, p0: tuple[float, float, float]) -> dict:
    """Diminishing returns of a training budget (Baskerville, Granziol & Keating 2022, Section 6):
    the exponential a + b exp(c t) (started at ``p0``, the authors' choice) and, to tell it from a
    slower decay, the power law a + b t^(-k), both on the same points."""
    return {"exp": exp_fit(budgets, error, p0), "power": power_fit(budgets, error)}
