"""Measures of one run, computed from its :class:`sim.RunResult` alone.

The weekly outcome table (``result.weekly``: ``week`` counted from the regime switch,
negative during the burn-in) and, for runs with ``output.agent_snapshot_every`` > 0,
the per-provider and per-partnership snapshots (``result.providers``,
``result.partnerships``). A snapshot's ``week`` is the week just simulated: ``-1`` is the
state at the regime switch (after the whole burn-in), ``51`` the state after the first
policy year. Nothing here steps a model or reads its private state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.kinds import LINKED
from sim.runner import RunResult

#: Weeks in a year (the unit of "the first policy year", "the last year").
YEAR = 52


def policy_mean(result: RunResult, column: str, first: int = 0, last: int | None = None
                ) -> float:
    """Mean of a weekly outcome over policy weeks ``first`` to ``last`` (inclusive)."""
    w = result.weekly
    sel = w["week"] >= first
    if last is not None:
        sel &= w["week"] <= last
    return float(w.loc[sel, column].mean())


def weekly_value(result: RunResult, column: str, week: int) -> float:
    """A weekly outcome in one week (counted from the regime switch)."""
    return float(result.weekly.set_index("week").loc[week, column])


def _at(frame: pd.DataFrame | None, week: int, what: str, result: RunResult) -> pd.DataFrame:
    if frame is None:
        raise ValueError(f"this measure needs {what} snapshots: run with "
                         "output.agent_snapshot_every > 0")
    rows = frame[frame["week"] == week]
    if rows.empty and what == "provider":
        every = result.config.output.agent_snapshot_every
        raise ValueError(f"no provider snapshot at week {week}; output.agent_snapshot_every="
                         f"{every} snapshots weeks w with (w + 1) % {every} == 0")
    return rows


def providers_at(result: RunResult, week: int) -> pd.DataFrame:
    """The per-provider snapshot of ``week``, one row per provider in index order."""
    return _at(result.providers, week, "provider", result).sort_values("provider")


def partnerships_at(result: RunResult, week: int) -> pd.DataFrame:
    """The active partnerships at ``week`` (empty if none; needs provider snapshots there)."""
    providers_at(result, week)  # the snapshot week must exist even when no partnership does
    return _at(result.partnerships, week, "partnership", result)


def faith_change(result: RunResult, start: int, end: int) -> np.ndarray:
    """Per provider, staff faith in collaboration at ``end`` minus at ``start`` (share 0-1)."""
    return (providers_at(result, end)["faith"].to_numpy()
            - providers_at(result, start)["faith"].to_numpy())


def with_working_partnership(result: RunResult, week: int, min_trust: float = 0.5
                             ) -> np.ndarray:
    """Per provider: has at least one locally formed (not mandated) partnership whose mean
    trust (both directions, share 0-1) is at least ``min_trust`` at ``week``."""
    n = len(providers_at(result, week))
    ps = partnerships_at(result, week)
    trust = (ps["trust_ab"].to_numpy() + ps["trust_ba"].to_numpy()) / 2
    working = (trust >= min_trust) & ~ps["mandated"].to_numpy(dtype=bool)
    return (np.bincount(ps["a"].to_numpy()[working], minlength=n)
            + np.bincount(ps["b"].to_numpy()[working], minlength=n)) > 0


def partner_distance(result: RunResult, week: int) -> float:
    """Mean straight-line distance between partners at ``week`` (km)."""
    return float(partnerships_at(result, week)["distance_km"].mean())


def random_pair_distance(result: RunResult, pairs: int, rng: np.random.Generator) -> float:
    """Mean distance (km) of random pairs of providers of linked kinds in the same area.

    The geography without choice: what partners' distance would be if they were drawn
    at random among the pairs a care pathway links. ``pairs`` pairs are drawn, then those
    of the same provider, different areas or unlinked kinds are dropped.
    """
    first = int(result.providers["week"].iloc[0])  # position, area and kind never change
    p = providers_at(result, first)
    kind, area = p["kind"].to_numpy(), p["area"].to_numpy()
    xy = p[["x_km", "y_km"]].to_numpy()
    n = len(p)
    i = rng.integers(0, n, pairs)
    j = rng.integers(0, n, pairs)
    ok = (i != j) & (area[i] == area[j]) & LINKED[kind[i], kind[j]]
    return float(np.hypot(*(xy[i[ok]] - xy[j[ok]]).T).mean())


def on_time_slope(result: RunResult, weeks: list[int]) -> float:
    """Slope (per km) of the on-time share of partner handoffs on distance.

    Pools both directions of every partnership with a flow (> 1e-6 episodes a week) over
    the snapshots of ``weeks``; a least-squares line, NaN with fewer than three flows.
    """
    frame = pd.concat([partnerships_at(result, w) for w in weeks], ignore_index=True)
    flows = pd.concat([
        frame[["distance_km", "flow_ab", "on_time_ab"]].set_axis(["d", "flow", "ok"], axis=1),
        frame[["distance_km", "flow_ba", "on_time_ba"]].set_axis(["d", "flow", "ok"], axis=1)])
    flows = flows[flows["flow"] > 1e-6]
    if len(flows) <= 2:
        return float("nan")
    return float(np.polyfit(flows["d"], flows["ok"], 1)[0])


def last_year_every(result: RunResult, every: int) -> list[int]:
    """Weeks (from the switch) of the run's last year that are whole multiples of ``every``
    weeks from the start of the run (burn-in included)."""
    t = result.config.time
    total = t.burn_in_weeks + t.policy_weeks
    return [w - t.burn_in_weeks for w in range(max(total - YEAR, 0), total) if w % every == 0]
