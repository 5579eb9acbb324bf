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

from sim.geography import partner_candidates
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


def chosen_partner_on_time(result: RunResult, week: int) -> tuple[np.ndarray, np.ndarray]:
    """Per provider, how its locally chosen partnerships worked at ``week``.

    Returns:
        (count, on_time): the number of chosen (not mandated) partnerships it held, and
        the share of the handoffs it sent to those partners that week that were on
        time (flow-weighted, share 0-1; NaN where it held none or sent nothing).
        What the provider experienced, not the trust or lost choice that a mechanism
        reads.
    """
    n = len(providers_at(result, week))
    ps = partnerships_at(result, week)
    chosen = ~ps["mandated"].to_numpy(dtype=bool)
    a, b = ps["a"].to_numpy()[chosen], ps["b"].to_numpy()[chosen]
    f_ab, f_ba = ps["flow_ab"].to_numpy()[chosen], ps["flow_ba"].to_numpy()[chosen]
    ok_ab = f_ab * ps["on_time_ab"].to_numpy()[chosen]
    ok_ba = f_ba * ps["on_time_ba"].to_numpy()[chosen]
    count = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    sent = np.bincount(a, f_ab, minlength=n) + np.bincount(b, f_ba, minlength=n)
    on_time = np.bincount(a, ok_ab, minlength=n) + np.bincount(b, ok_ba, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sent > 1e-9, on_time / sent, np.nan)
    return count, share


def half_times(series: pd.Series, start: int, horizon: int) -> tuple[float, float, float]:
    """Fall and recovery half-times of a weekly series after a shock starting at ``start``.

    Args:
        series: weekly values indexed by week (e.g. ``mean_trust``).
        start: the shock's first week; the level before it is the mean of the 4 weeks
            before.
        horizon: weeks after ``start`` in which the lowest point (the trough) is sought.

    Returns:
        (drop, fall_weeks, recovery_weeks): the drop from the level before to the trough
        (in the series' unit); weeks from the shock's start until half the drop was
        lost; weeks from the trough until half of it was regained. A recovery that does
        not reach half by the end of the series counts the weeks to the end (a lower
        bound, which can only understate the asymmetry).
    """
    before = float(series.loc[start - 4:start - 1].mean())
    window = series.loc[start:start + horizon - 1]
    trough_week = int(window.idxmin())
    drop = before - float(window.min())
    if not drop > 0:
        return drop, float("nan"), float("nan")
    fell = window.loc[:trough_week]
    fall = int(fell.index[(fell <= before - drop / 2).to_numpy()][0]) - start + 1
    after = series.loc[trough_week:]
    back = after.index[(after >= before - drop / 2).to_numpy()]
    end = int(back[0]) if len(back) else int(series.index[-1])
    return drop, float(fall), float(end - trough_week)


def partner_distance(result: RunResult, week: int) -> float:
    """Mean straight-line distance between partners at ``week`` (km)."""
    return float(partnerships_at(result, week)["distance_km"].mean())


def candidate_distance_gap(result: RunResult, week: int) -> float:
    """How much nearer partners are than the candidates they were chosen from (km).

    A provider choosing partners considers its ``partnerships.candidates`` nearest
    providers of each linked kind (:func:`sim.geography.partner_candidates`). For each
    side of each locally chosen partnership at ``week`` whose partner is among that
    side's candidates of the partner's kind: the mean distance to those candidates
    minus the distance to the partner. Returns the mean over such sides (NaN if none).
    A choice that ignored distance would pick among its candidates without regard to
    it, so the gap would be zero on average; candidates being the nearest providers is
    the design, and does not count.
    """
    first = int(result.providers["week"].iloc[0])  # position and kind never change
    p = providers_at(result, first)
    kind, xy = p["kind"].to_numpy(), p[["x_km", "y_km"]].to_numpy()
    per = result.config.partnerships.candidates
    pool = partner_candidates(kind, xy, per).reshape(len(p), -1, per)
    ps = partnerships_at(result, week)
    ps = ps[~ps["mandated"].to_numpy(dtype=bool)]
    me = np.concatenate([ps["a"].to_numpy(), ps["b"].to_numpy()])
    them = np.concatenate([ps["b"].to_numpy(), ps["a"].to_numpy()])
    cands = pool[me, kind[them]]  # (sides, per)
    chose = (cands == them[:, None]).any(axis=1)
    me, them, cands = me[chose], them[chose], cands[chose]
    if len(me) == 0:
        return float("nan")
    valid = cands >= 0
    d_pool = np.hypot(*(xy[np.where(valid, cands, 0)] - xy[me][:, None, :]).transpose(2, 0, 1))
    mean_pool = (d_pool * valid).sum(axis=1) / valid.sum(axis=1)
    d_partner = np.hypot(*(xy[them] - xy[me]).T)
    return float((mean_pool - d_partner).mean())


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
