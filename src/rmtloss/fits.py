"""Curve fits of measured series: a straight line (outlier shifts against 1/b − 1/N) and the
exponential a + b exp(c t) of diminishing returns (best test error against the training budget).
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


def exp_fit(t: np.ndarray, y: np.ndarray, p0: tuple[float, float, float]) -> dict:
    """Least-squares fit of y = a + b exp(c t) and its R^2 (NaNs when the fit fails)."""
    from scipy.optimize import curve_fit

    def model(t: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a + b * np.exp(c * t)

    try:
        (a, b, c), _ = curve_fit(model, t, y, p0=p0, maxfev=20000)
    except RuntimeError as exc:
        log.warning("exponential fit failed: %s", exc)
        return {"a": math.nan, "b": math.nan, "c": math.nan, "r2": math.nan}
    resid = y - model(t, a, b, c)
    r2 = 1 - float(np.sum(resid**2) / np.sum((y - y.mean()) ** 2))
    return {"a": float(a), "b": float(b), "c": float(c), "r2": r2}
