"""Demand, capacity and service: episodes of care arriving, served, waiting or lost."""

from __future__ import annotations

import numpy as np

#: Weeks from the winter peak of demand (early January) to the regime switch: a regime
#: takes effect on 1 April, when the NHS financial and planning year starts (integrated
#: care boards' joint forward plans run from April). Demand is then at its yearly mean,
#: falling, so the switch favours no regime by landing on a peak or a trough.
SWITCH_AFTER_WINTER_PEAK_WEEKS = 13


def weekly_demand(base: np.ndarray, week: int, seasonality: float, growth: float,
                  rng: np.random.Generator, peak_week: int = 0) -> np.ndarray:
    """External episodes arriving this week (Poisson around a seasonal, growing mean).

    Args:
        base: mean episodes/week per provider at week 0, without the seasonal swing.
        week: simulated week counted from the start of the run.
        seasonality: amplitude of the winter peak (share).
        growth: demand growth per year (share).
        peak_week: a week (counted like ``week``) at which the winter peak falls; it
            recurs every 52 weeks.
    """
    factor = (1.0 + seasonality * np.cos(2.0 * np.pi * (week - peak_week) / 52.0)) \
        * (1.0 + growth) ** (week / 52.0)
    return rng.poisson(base * factor).astype(np.float64)


def capacity(staff: np.ndarray, productivity: np.ndarray, admin_share: np.ndarray,
             aid_in: np.ndarray, aid_out: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Episodes/week a provider can deliver.

    Staff in post (FTE) times productivity (episodes/FTE/week), less the share of time
    on collaboration paperwork, plus staff time borrowed from partners, less time lent,
    less capacity blocked by patients waiting for a handoff (episodes/week).
    """
    own = staff * productivity * (1.0 - admin_share)
    return np.maximum(own + (aid_in - aid_out) * productivity - blocked, 0.0)


def serve(backlog: np.ndarray, cap: np.ndarray, renege_rate: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Serve what capacity allows; a share of those still waiting leave unserved.

    Returns:
        served, reneged (episodes), the backlog carried to next week, and pressure
        (workload / capacity; > 1 means overloaded).
    """
    served = np.minimum(backlog, cap)
    waiting = backlog - served
    reneged = waiting * renege_rate
    pressure = backlog / np.maximum(cap, 1e-9)
    return served, reneged, waiting - reneged, np.minimum(pressure, 10.0)
