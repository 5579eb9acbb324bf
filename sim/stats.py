"""Confidence intervals for means and differences: one place for the statistics of results.

Every interval in collabsim (the report's tables, the figures' bands, the validation's
criteria) comes from here, so that they agree. The intervals are Student t intervals
computed by :mod:`scipy.stats` (``ttest_1samp``, ``ttest_rel``, ``ttest_ind``), with the
degenerate cases decided here rather than left to SciPy's warnings:

- no finite value: mean, sd and interval are NaN;
- one value (n < 2): the mean is that value; sd and interval are NaN (no spread to use);
- zero variance: a point interval ``[mean, mean]`` (every replicate agrees exactly).

Non-finite values (NaN, ±inf) are dropped first: a replicate whose outcome is undefined
does not count. Nothing here imports the rest of :mod:`sim` (ground layer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Confidence level of every interval unless a caller asks otherwise (share 0-1).
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean (or mean difference) with its confidence interval.

    Attributes:
        n: finite values used (pairs for a paired difference).
        mean: their mean (the estimate), in the values' own unit.
        sd: their sample standard deviation (ddof 1); NaN if n < 2. For Welch's
            interval, the standard error of the difference.
        low, high: the interval's bounds, in the values' unit; NaN if n < 2.
    """

    n: int
    mean: float
    sd: float
    low: float
    high: float

    def excludes(self, value: float = 0.0) -> bool:
        """True if ``value`` lies outside the interval (False when the interval is NaN)."""
        return bool(self.low > value or self.high < value)


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    return x[np.isfinite(x)]


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level={level!r} is not a confidence level; allowed (0, 1)")


def mean_interval(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Interval:
    """Student t interval of the mean of ``values`` (``scipy.stats.ttest_1samp``).

    Args:
        values: one value per replicate (any unit); non-finite values are dropped.
        level: confidence level, share 0-1.
    """
    _check_level(level)
    x = _finite(values)
    n = len(x)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n < 2:
        return Interval(n, mean, math.nan, math.nan, math.nan)
    if x.min() == x.max():  # identical values (their float mean and sd may be off by 1e-17)
        return Interval(n, float(x[0]), 0.0, float(x[0]), float(x[0]))
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=level)
    return Interval(n, mean, float(x.std(ddof=1)), float(ci.low), float(ci.high))


def paired_interval(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                    level: float = LEVEL) -> Interval:
    """Student t interval of the mean paired difference ``a - b`` (``scipy.stats.ttest_rel``).

    ``a[i]`` and ``b[i]`` are the same replicate under two scenarios (common random
    numbers). A pair with a non-finite member is dropped.

    Raises:
        ValueError: if ``a`` and ``b`` differ in length (they cannot be paired).
    """
    _check_level(level)
    xa = np.asarray(a, dtype=float).ravel()
    xb = np.asarray(b, dtype=float).ravel()
    if len(xa) != len(xb):
        raise ValueError(f"paired_interval needs pairs: a has {len(xa)} values, b has "
                         f"{len(xb)}")
    keep = np.isfinite(xa) & np.isfinite(xb)
    xa, xb = xa[keep], xb[keep]
    d = xa - xb
    n = len(d)
    if n < 2 or d.min() == d.max():
        return mean_interval(d, level)  # the degenerate cases, decided in one place
    ci = stats.ttest_rel(xa, xb).confidence_interval(confidence_level=level)
    return Interval(n, float(d.mean()), float(d.std(ddof=1)), float(ci.low), float(ci.high))


def welch_interval(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                   level: float = LEVEL) -> Interval:
    """Welch's interval of ``mean(a) - mean(b)`` for unpaired samples (``ttest_ind``).

    For contrast with :func:`paired_interval`: what the same runs would give without
    pairing. ``n`` is the smaller sample's size; ``sd`` is the difference's standard
    error. NaN if either sample has fewer than two finite values; a point interval if
    both have zero variance.
    """
    _check_level(level)
    xa, xb = _finite(a), _finite(b)
    n = min(len(xa), len(xb))
    diff = float(xa.mean() - xb.mean()) if n else math.nan
    if n < 2:
        return Interval(n, diff, math.nan, math.nan, math.nan)
    if xa.min() == xa.max() and xb.min() == xb.max():
        return Interval(n, diff, 0.0, diff, diff)
    se = math.sqrt(xa.var(ddof=1) / len(xa) + xb.var(ddof=1) / len(xb))
    ci = stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(confidence_level=level)
    return Interval(n, diff, se, float(ci.low), float(ci.high))


def interval_bounds(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, level: float = LEVEL
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`mean_interval` from per-group moments (for bands over many weeks).

    Args:
        mean, sd, n: per group, the mean, sample sd (ddof 1) and count of finite values
            (e.g. the columns of ``groupby(...).agg(["mean", "std", "count"])``).
        level: confidence level, share 0-1.

    Returns:
        (low, high) arrays, with the same degenerate cases as :func:`mean_interval`:
        NaN where n < 2, the mean itself where the sd is zero.
    """
    _check_level(level)
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(sd == 0.0, 0.0, half)
    half = np.where(n >= 2, half, np.nan)
    return mean - half, mean + half
