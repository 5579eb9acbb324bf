"""Workforce: staff leave under sustained overload and stay with faith; vacancies fill slowly."""

from __future__ import annotations

import numpy as np

from sim.config import WorkforceConfig


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
        faith: staff faith in collaboration, 0-1 (N); 0.5 is neutral.
    """
    stress = 1.0 + p.overload_sensitivity * overload
    loyalty = np.clip(1.0 - p.faith_sensitivity * (faith - 0.5), 0.1, 2.0)
    return np.minimum(base_annual / 52.0 * stress * loyalty, 1.0)


def update_staff(staff: np.ndarray, funded: np.ndarray, leave: np.ndarray,
                 fill_rate: np.ndarray, labour_supply: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply leavers and recruits; return new staff (FTE), leavers and recruits (FTE)."""
    leavers = staff * leave
    vacant = np.maximum(funded - staff + leavers, 0.0)
    recruits = vacant * np.minimum(fill_rate * labour_supply, 1.0)
    return np.minimum(staff - leavers + recruits, funded), leavers, recruits
