"""Demand, capacity and service: episodes of care arriving, served, waiting or lost."""

from __future__ import annotations

import numpy as np

from sim.config import ShockConfig
from sim.dynamics.sums import pairwise_sum
from sim.jit import kernel

#: Pressure (workload / capacity) is recorded at most this high: beyond ten times its
#: capacity a provider's pressure says nothing more (technical cap; assumption).
MAX_PRESSURE = 10.0
#: Share of intake margin a receiver closes per unit of its own pressure above 1: the full
#: margin up to pressure 1, shrinking to ``INTAKE_FLOOR`` at pressure 4 (assumption:
#: stretched providers accept fewer transfers, but never none).
INTAKE_SLOPE = 0.25
#: Share of its intake margin a receiver keeps open however stretched (assumption).
INTAKE_FLOOR = 0.25
#: At least this share of each provider's expected workload is external demand, however
#: many handoffs it expects (assumption: every provider has patients of its own).
MIN_EXTERNAL_SHARE = 0.1
#: Weeks from the winter peak of demand (early January) to the regime switch: a regime
#: takes effect on 1 April, when the NHS financial and planning year starts (integrated
#: care boards' joint forward plans run from April). Demand is then at its yearly mean,
#: falling, so the switch favours no regime by landing on a peak or a trough.
SWITCH_AFTER_WINTER_PEAK_WEEKS = 13


def weekly_demand(base: np.ndarray, week: int, seasonality: float, growth: float,
                  rng: np.random.Generator, peak_week: int = 0,
                  growth_start: int = 0) -> np.ndarray:
    """External episodes arriving this week (Poisson around a seasonal, growing mean).

    Args:
        base: mean episodes/week per provider at week 0, without the seasonal swing.
        week: simulated week counted from the start of the run.
        seasonality: amplitude of the winter peak (share).
        growth: demand growth per year (share).
        peak_week: a week (counted like ``week``) at which the winter peak falls; it
            recurs every 52 weeks.
        growth_start: the week (counted like ``week``) from which demand grows; before it
            demand holds its base level (the model passes the regime switch, so that the
            burn-in settles at today's demand and growth is part of the projection).
    """
    growing_weeks = max(week - growth_start, 0)
    factor = (1.0 + seasonality * np.cos(2.0 * np.pi * (week - peak_week) / 52.0)) \
        * (1.0 + growth) ** (growing_weeks / 52.0)
    return rng.poisson(base * factor).astype(np.float64)


@kernel
def capacity(staff: np.ndarray, productivity: np.ndarray, admin_share: np.ndarray,
             aid_in: np.ndarray, aid_out: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Episodes/week a provider can deliver.

    Staff in post (FTE) times productivity (episodes/FTE/week), less the share of time
    on collaboration paperwork, plus staff time borrowed from partners, less time lent,
    less capacity blocked by patients waiting for a handoff (episodes/week).
    """
    own = staff * productivity * (1.0 - admin_share)
    return np.maximum(own + (aid_in - aid_out) * productivity - blocked, 0.0)


@kernel
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
    return served, reneged, waiting - reneged, np.minimum(pressure, MAX_PRESSURE)


@kernel
def intake_capacity(intake_share: np.ndarray, cap: np.ndarray, pressure: np.ndarray
                    ) -> np.ndarray:
    """Episodes a receiver accepts from other providers this week.

    Its share of capacity open to handoffs, shrinking as its own workload rises:
    factor ``clip(1 + s (1 - pressure), INTAKE_FLOOR, 1)`` with ``s = INTAKE_SLOPE``.

    Args:
        intake_share: share of capacity open to handoffs (N).
        cap: this week's capacity, episodes/week (N).
        pressure: this week's workload / capacity (N).
    """
    shrink = np.clip((1.0 + INTAKE_SLOPE) - INTAKE_SLOPE * pressure, INTAKE_FLOOR, 1.0)
    return intake_share * cap * shrink


def intake_kept(shock: ShockConfig, week: int) -> float:
    """Share of intake kept this week: ``1 - intake_loss`` during a scenario's shock (weeks
    ``start_week`` to ``start_week + weeks - 1`` counted from the switch), else 1."""
    if shock.weeks and shock.start_week <= week < shock.start_week + shock.weeks:
        return 1.0 - shock.intake_loss
    return 1.0


@kernel
def episodes_leaving(served: np.ndarray, handed_on: np.ndarray, reneged: np.ndarray,
                     resolved: np.ndarray) -> float:
    """Episodes that left the system this week (for the patient ledger).

    Served episodes leave unless they need a handoff (``handed_on``: they stay as offered
    handoffs, or with the sender as emergency admissions avoided); episodes that left a
    backlog unserved and waits for a handoff that ended another way (e.g. discharged
    home) leave too.
    """
    return (pairwise_sum(reneged) + pairwise_sum(resolved) + pairwise_sum(served)
            - pairwise_sum(handed_on))
