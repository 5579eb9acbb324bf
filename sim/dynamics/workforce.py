"""Workforce: staff leave under sustained overload and stay with faith; vacancies fill slowly."""

from __future__ import annotations

import numpy as np

from sim.config import WorkforceConfig
from sim.dynamics.belief import NEUTRAL_FAITH
from sim.dynamics.sums import masked_sum
from sim.jit import kernel

WEEKS_PER_YEAR = 52.0
#: Bounds of the factor by which faith scales leaving, ``1 - faith_sensitivity (faith -
#: NEUTRAL_FAITH)`` (assumption: faith never stops staff leaving altogether, and lost
#: faith at most doubles it).
LOYALTY_MIN, LOYALTY_MAX = 0.1, 2.0


@kernel
def overload_memory(previous: np.ndarray, pressure: np.ndarray, weeks: float) -> np.ndarray:
    """Exponentially weighted overload, clip(pressure - 1, 0, 1), remembered over ``weeks``.

    Overload is capped at 1 (double the workload staff can carry): beyond that,
    staff cannot work harder, they only see more patients wait.
    """
    alpha = 1.0 / weeks
    return (1.0 - alpha) * previous + alpha * np.clip(pressure - 1.0, 0.0, 1.0)


def leave_rate(base_annual: np.ndarray, overload: np.ndarray, faith: np.ndarray,
               p: WorkforceConfig) -> np.ndarray:
    """Share of staff leaving this week.

    Args:
        base_annual: leavers per FTE per year at no overload and neutral faith (N).
        overload: remembered overload (N, >= 0).
        faith: staff faith in collaboration, 0-1 (N); ``NEUTRAL_FAITH`` is neutral.
    """
    return leave_rate_kernel(base_annual, overload, faith, p.overload_sensitivity,
                             p.faith_sensitivity)


@kernel
def leave_rate_kernel(base_annual, overload, faith, overload_sensitivity, faith_sensitivity):
    """:func:`leave_rate` with its parameters as numbers."""
    stress = 1.0 + overload_sensitivity * overload
    loyalty = np.clip(1.0 - faith_sensitivity * (faith - NEUTRAL_FAITH), LOYALTY_MIN,
                      LOYALTY_MAX)
    return np.minimum(base_annual / WEEKS_PER_YEAR * stress * loyalty, 1.0)


@kernel
def update_staff(staff: np.ndarray, funded: np.ndarray, leave: np.ndarray,
                 fill_rate: np.ndarray, labour_supply: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply leavers and recruits; return new staff (FTE), leavers and recruits (FTE)."""
    leavers = staff * leave
    vacant = np.maximum(funded - staff + leavers, 0.0)
    recruits = vacant * np.minimum(fill_rate * labour_supply, 1.0)
    return np.minimum(staff - leavers + recruits, funded), leavers, recruits


@kernel
def by_sector(values: np.ndarray, social: np.ndarray) -> np.ndarray:
    """Sums of a per-provider quantity over [NHS, adult social care] providers (2,)."""
    return np.array([masked_sum(values, np.logical_not(social)), masked_sum(values, social)])


@kernel
def annual_turnover(leavers: np.ndarray, staff: np.ndarray, weeks_run: int) -> np.ndarray:
    """Leavers per FTE per year, by sector, over the recent weeks recorded.

    Args:
        leavers: (TURNOVER_WINDOW_WEEKS, 2) leavers (FTE) by sector, newest week first.
        staff: (TURNOVER_WINDOW_WEEKS, 2) staff in post (FTE) by sector, the same weeks.
        weeks_run: weeks simulated so far (the window is full after a year).

    Returns:
        [NHS, social care] annual turnover; NaN for a sector with no staff.
    """
    weeks = min(weeks_run, len(leavers))
    out = np.full(2, np.nan)
    for sector in range(2):
        left, held = 0.0, 0.0
        for week in range(weeks):  # week by week, as NumPy sums a column of rows
            left += leavers[week, sector]
            held += staff[week, sector]
        mean_staff = held / weeks
        if mean_staff > 0:
            out[sector] = left * WEEKS_PER_YEAR / max(weeks, 1) / mean_staff
    return out
