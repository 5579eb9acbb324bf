"""The week's measurements and run summaries, for the outcomes of the registry.

Every outcome is declared once, in :data:`sim.outcome_spec.OUTCOMES` (re-exported
here). :func:`measure_week` computes every outcome of a week into
a mapping keyed by name, which Mesa's DataCollector reads through :class:`functools.partial`
reporters (:func:`reporters`).

Adding an outcome: one :class:`Outcome` in :data:`sim.outcome_spec.OUTCOMES` and one
line in :func:`measure_week`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.dynamics.workforce import annual_turnover
from sim.kinds import ACUTE_FTE_PER_BED, SOCIAL_CARE, Kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import CollaborationModel

from sim.outcome_spec import (  # noqa: F401  (re-exported: the registry's public names)
    CALIBRATION,
    COLUMNS,
    GINI_PRESSURE_CAP,
    MAIN_OUTCOMES,
    OUTCOMES,
    SUMMARY_WEEKS,
    Outcome,
    Target,
    UnknownOutcome,
    outcome,
)


# --------------------------------------------------------------------------- measuring
@dataclass(frozen=True)
class WeekFlows:
    """This week's patient flows that outcomes count (the rest is read from the model).

    Attributes:
        new: new handoffs due per route group (episodes).
        success: share of each route group's due handoffs completed this week, 0-1.
        reneged: episodes per provider that left a backlog unserved this week.
        workload: episodes per provider waiting for service this week (before service).
        interactions: directed handoff flows, directed aid and milestones this week.
    """

    new: np.ndarray
    success: np.ndarray
    reneged: np.ndarray
    workload: np.ndarray
    interactions: float


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, 1 all in one)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    # elementwise product and sum, not a BLAS dot: much faster for one vector here
    return float(((2.0 * np.arange(1, n + 1) - n - 1) * x).sum() / (n * total))


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN (undefined) where the denominator is not positive."""
    return float(numerator / denominator) if denominator > 0 else math.nan


def _vacancy(staff: np.ndarray, funded: np.ndarray, mask: np.ndarray) -> float:
    return 1.0 - _ratio(staff[mask].sum(), funded[mask].sum())


def measure_week(model: CollaborationModel, flows: WeekFlows) -> dict[str, float]:
    """Every outcome of the week just stepped, keyed by name (one entry per outcome).

    An outcome that is undefined this week (see :attr:`Outcome.undefined`) is NaN.
    """
    st, ps = model.state, model.partnerships
    social = SOCIAL_CARE[st.kind]
    e = len(ps)
    if e:
        d = st.xy[ps.a] - st.xy[ps.b]
        distance = float(np.sqrt((d * d).sum(axis=1)).mean())
    else:
        distance = math.nan
    turnover = annual_turnover(model.leavers_window, model.staff_window, model.steps)
    acute = st.kind == Kind.ACUTE
    delayed_acute = np.bincount(model.routes.sender, model.delayed,
                                minlength=model.n_providers)[acute].sum()
    survivors = ps.at_switch.sum() if model.switched else math.nan
    return {
        "care_coordination": _ratio((flows.new * flows.success).sum(), flows.new.sum()),
        "delayed_handoffs": float(model.delayed.sum()),
        "vacancy_rate": float(1.0 - st.staff.sum() / st.funded.sum()),
        "unmet_demand": _ratio(flows.reneged.sum(), flows.workload.sum()),
        "workload_gini": gini(np.minimum(st.pressure, GINI_PRESSURE_CAP)),
        "mean_trust": float(ps.trust.mean()) if e else math.nan,
        "mean_belief": float(st.faith.mean()),
        "n_partnerships": e,
        "partnership_survival": _ratio(survivors, model.partnerships_at_switch),
        "admin_burden": float((st.admin_share * st.staff).sum() / st.staff.sum()),
        "quality_mean": float(st.quality.mean()),
        "quality_spread": float(st.quality.std()),
        "communication": flows.interactions / e if e else math.nan,
        "nhs_vacancy_rate": _vacancy(st.staff, st.funded, ~social),
        "social_care_vacancy_rate": _vacancy(st.staff, st.funded, social),
        "nhs_turnover": float(turnover[0]),
        "social_care_turnover": float(turnover[1]),
        "delayed_discharge_share": _ratio(delayed_acute,
                                          st.funded[acute].sum() / ACUTE_FTE_PER_BED),
        "vacancy_gini": gini(1.0 - st.staff / st.funded),
        "mean_confidence": float(ps.confidence.mean()) if e else math.nan,
        "mean_formality": float(ps.formality.mean()) if e else math.nan,
        "partner_distance_km": distance,
        "mandated_share": float(ps.mandated.mean()) if e else math.nan,
    }


def read_outcome(model: CollaborationModel, name: str) -> float:
    """This week's value of outcome ``name`` (a DataCollector reporter, via partial)."""
    return model.outcome_values[name]


def reporters() -> dict[str, str | Callable]:
    """Model reporters for Mesa's DataCollector: ``week``, then every outcome in order.

    Each outcome reporter is a ``functools.partial`` of a module-level function, so a
    model with its DataCollector pickles (parallel runs, checkpoints), unlike a lambda.
    """
    return {"week": "week", **{name: partial(read_outcome, name=name) for name in COLUMNS}}


# --------------------------------------------------------------------------- summaries
def summarise(weekly: pd.DataFrame, window: int = SUMMARY_WEEKS) -> dict:
    """Scalars of a run: each outcome's mean over the last ``window`` weeks of the policy
    period, its value at the switch, and the status quo's calibration figures.

    Means skip undefined (NaN) weeks: ``mean_trust`` is the mean over the weeks that had
    partnerships, and NaN only if no week in the window had any. Undefined values are
    ``math.nan`` (one object, so that equal summaries compare equal). The status quo is
    the last ``window`` weeks of the burn-in (week < 0); with a shorter burn-in,
    calibration figures are left out rather than invented.
    """
    policy = weekly[weekly["week"] >= 0]
    final = policy.tail(window) if len(policy) else weekly.tail(window)
    summary: dict = {col: _scalar(final[col].mean(skipna=True)) for col in COLUMNS}
    burn = weekly[weekly["week"] < 0]
    if len(burn):
        last = burn.iloc[-1]
        summary.update({f"at_switch.{col}": _scalar(last[col]) for col in COLUMNS})
    if len(burn) >= window:
        status_quo = burn.tail(window)
        for target in CALIBRATION:
            value = _scalar(status_quo[target.column].mean(skipna=True))
            summary[f"status_quo.{target.column}"] = value
            summary[f"status_quo.{target.column}.in_range"] = bool(
                target.low <= value <= target.high)
    return summary


def _scalar(value: float) -> float:
    value = float(value)
    return value if value == value else math.nan  # one NaN object for every undefined value


def calibration_table(summary: dict) -> pd.DataFrame:
    """Status quo figures next to their published ranges (empty without a year of burn-in)."""
    rows = []
    for t in CALIBRATION:
        key = f"status_quo.{t.column}"
        if key in summary:
            rows.append({"measure": t.column, "simulated": summary[key], "low": t.low,
                         "high": t.high, "in_range": summary[key + ".in_range"],
                         "source": t.source})
    return pd.DataFrame(rows)
