"""sim.stats: confidence intervals against values computed by hand, and the degenerate cases.

Hand computations use the t quantiles of a printed table (two-sided 95%):
t(1) = 12.706, t(2) = 4.303, t(3) = 3.182, t(4) = 2.776.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import stats
from sim.plots import band
from sim.report import t_interval

T_TABLE = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764}


def test_mean_interval_known_answer() -> None:
    # x = 1, 2, 3, 4: mean 2.5, sd sqrt(5/3) = 1.29099, se = 0.645497, t(3) = 3.1824
    i = stats.mean_interval([1.0, 2.0, 3.0, 4.0])
    half = T_TABLE[3] * math.sqrt(5 / 3) / 2
    assert i.n == 4 and i.mean == 2.5 and i.sd == pytest.approx(math.sqrt(5 / 3))
    assert i.low == pytest.approx(2.5 - half, abs=1e-4)
    assert i.high == pytest.approx(2.5 + half, abs=1e-4)
    assert (i.low, i.high) == pytest.approx((0.445740, 4.554260), abs=1e-6)


def test_mean_interval_level() -> None:
    # 90%: t(4) = 2.1318; x = 0, 1, 2, 3, 4: mean 2, sd sqrt(2.5), se = 0.707107
    i = stats.mean_interval([0, 1, 2, 3, 4], level=0.90)
    assert (i.low, i.high) == pytest.approx((2 - 2.1318 * 0.707107, 2 + 2.1318 * 0.707107),
                                            abs=1e-4)
    wider = stats.mean_interval([0, 1, 2, 3, 4], level=0.99)
    assert wider.low < i.low and wider.high > i.high


def test_paired_interval_known_answer() -> None:
    # differences 2, 3, 1, 3: mean 2.25, sd sqrt(2.75/3) = 0.957427, se = 0.478714,
    # half width 3.182446 * 0.478714 = 1.523480
    i = stats.paired_interval([3, 5, 4, 6], [1, 2, 3, 3])
    assert i.n == 4 and i.mean == pytest.approx(2.25)
    assert i.sd == pytest.approx(math.sqrt(2.75 / 3))
    half = T_TABLE[3] * math.sqrt(2.75 / 3) / 2
    assert (i.low, i.high) == pytest.approx((2.25 - half, 2.25 + half), abs=1e-4)
    assert (i.low, i.high) == pytest.approx((0.726520, 3.773480), abs=1e-6)


def test_pairing_narrows_the_interval() -> None:
    # the same runs unpaired: a shared replicate effect inflates Welch's interval
    a = np.array([10.0, 20.0, 30.0, 40.0]) + np.array([1.0, 1.2, 0.9, 1.1])
    b = np.array([10.0, 20.0, 30.0, 40.0])
    paired, unpaired = stats.paired_interval(a, b), stats.welch_interval(a, b)
    assert paired.mean == pytest.approx(unpaired.mean)
    assert paired.excludes(0.0) and not unpaired.excludes(0.0)


def test_welch_interval_known_answer() -> None:
    # a = 1, 2, 3 (mean 2, var 1); b = 2, 4, 9, 1 (mean 4, var 38/3)
    # se^2 = 1/3 + 38/12 = 3.5; Welch-Satterthwaite df = 3.5^2 / ((1/3)^2/2 + (38/12)^2/3)
    i = stats.welch_interval([1, 2, 3], [2, 4, 9, 1])
    se = math.sqrt(3.5)
    df = 3.5**2 / ((1 / 3) ** 2 / 2 + (38 / 12) ** 2 / 3)
    assert df == pytest.approx(3.604905, abs=1e-6)
    from scipy.stats import t

    half = t.ppf(0.975, df) * se
    assert i.mean == -2.0 and i.sd == pytest.approx(se) and i.n == 3
    assert (i.low, i.high) == pytest.approx((-2 - half, -2 + half))
    assert (i.low, i.high) == pytest.approx((-7.426659, 3.426659), abs=1e-6)


@pytest.mark.parametrize("fn", [stats.mean_interval])
def test_degenerate_one_sample(fn) -> None:
    empty = fn([])
    assert empty.n == 0 and all(math.isnan(v) for v in (empty.mean, empty.low, empty.high))
    one = fn([0.3])
    assert one.n == 1 and one.mean == 0.3
    assert math.isnan(one.sd) and math.isnan(one.low) and math.isnan(one.high)
    assert not one.excludes(0.0)  # a NaN interval decides nothing
    flat = fn([0.2, 0.2, 0.2])  # float sd 3e-17, yet every replicate agrees: a point
    assert flat.sd == 0.0 and flat.low == flat.high == flat.mean == pytest.approx(0.2)
    assert flat.excludes(0.0) and not flat.excludes(0.2)


def test_non_finite_values_are_dropped() -> None:
    i = stats.mean_interval([1.0, np.nan, 2.0, np.inf, 3.0, 4.0])
    assert i == stats.mean_interval([1.0, 2.0, 3.0, 4.0])
    # a pair with a NaN member is dropped as a pair
    p = stats.paired_interval([3, 5, np.nan, 4, 6], [1, 2, 7, 3, 3])
    assert p == stats.paired_interval([3, 5, 4, 6], [1, 2, 3, 3])


def test_degenerate_paired_and_welch() -> None:
    same = stats.paired_interval([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert (same.mean, same.low, same.high) == (0.5, 0.5, 0.5)
    single = stats.paired_interval([1.0], [0.0])
    assert single.mean == 1.0 and math.isnan(single.low)
    with pytest.raises(ValueError, match="a has 2 values, b has 3"):
        stats.paired_interval([1, 2], [1, 2, 3])
    assert math.isnan(stats.welch_interval([1.0], [1.0, 2.0]).low)
    flat = stats.welch_interval([2.0, 2.0], [1.0, 1.0, 1.0])
    assert (flat.mean, flat.low, flat.high) == (1.0, 1.0, 1.0)


def test_bad_level_is_refused() -> None:
    with pytest.raises(ValueError, match=r"level=1\.5 .* allowed \(0, 1\)"):
        stats.mean_interval([1, 2, 3], level=1.5)


def test_vectorised_bounds_agree_with_mean_interval() -> None:
    groups = {"a": [1.0, 2.0, 3.0, 4.0], "b": [0.2, 0.2], "c": [5.0], "d": [1.0, 3.0, 2.0]}
    frame = pd.DataFrame([(g, v) for g, vs in groups.items() for v in vs],
                         columns=["scenario", "x"])
    table = band(frame, ["scenario"], "x").set_index("scenario")
    for g, vs in groups.items():
        i = stats.mean_interval(vs)
        row = table.loc[g]
        assert row["mean"] == pytest.approx(i.mean)
        if math.isnan(i.low):
            assert math.isnan(row["low"]) and math.isnan(row["high"])
        else:
            assert (row["low"], row["high"]) == pytest.approx((i.low, i.high), rel=1e-12)


def test_report_t_interval_uses_stats() -> None:
    assert t_interval(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(
        (4, 2.5, math.sqrt(5 / 3), 0.445740, 4.554260), abs=1e-6)
    n, mean, sd, low, high = t_interval(np.array([7.0]))
    assert (n, mean) == (1, 7.0) and math.isnan(low) and math.isnan(high)
