"""The week's measurements and run summaries, for the outcomes of the registry.

Every outcome is declared once, in :data:`sim.outcome_spec.OUTCOMES` (re-exported
here). :func:`measure` computes every outcome of a week into a mapping keyed by
name, which Mesa's DataCollector reads through :class:`functools.partial` reporters
(:func:`reporters`), and the by-kind outcomes into one row per kind of provider (the
model keeps them; :func:`by_kind_frame` makes the by-kind table).

Adding an outcome: one :class:`Outcome` in :data:`sim.outcome_spec.OUTCOMES` and one
line in :func:`measure`; an outcome also reported by kind (``by_kind=True``) gets its
numerator and denominator per kind in :func:`_kind_parts` instead, and its system-wide
value is derived from them, so that the two never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.dynamics.workforce import annual_turnover
from sim.kinds import ACUTE_FTE_PER_BED, KIND_NAMES, N_KINDS, SOCIAL_CARE, Kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import CollaborationModel

from sim.outcome_spec import (  # noqa: F401  (re-exported: the registry's public names)
    BY_KIND,
    BY_KIND_COLUMNS,
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

#: Weeks in a year, for annual rates from weekly counts.
WEEKS_PER_YEAR = 52


# --------------------------------------------------------------------------- measuring
@dataclass(frozen=True)
class WeekFlows:
    """This week's patient flows that outcomes count (the rest is read from the model).

    Attributes:
        new: new handoffs due per route group (episodes), after avoided admissions.
        success: share of each route group's due handoffs completed this week, 0-1.
        reneged: episodes per provider that left a backlog unserved this week.
        workload: episodes per provider waiting for service this week (before service).
        interactions: directed handoff flows, directed aid and milestones this week.
        served: episodes per provider served this week (for a care home, residents).
    """

    new: np.ndarray
    success: np.ndarray
    reneged: np.ndarray
    workload: np.ndarray
    interactions: float
    served: np.ndarray


@dataclass(frozen=True)
class Week:
    """One week's measurements: every outcome, and the by-kind outcomes per kind.

    Attributes:
        values: every outcome of the registry by name (NaN where undefined).
        by_kind: (number of kinds, len(BY_KIND)) array: row k holds kind k's values of
            the outcomes in :data:`BY_KIND`, in that order.
    """

    values: dict[str, float]
    by_kind: np.ndarray


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


def _by_kind(kind: np.ndarray, rows: list[np.ndarray]) -> np.ndarray:
    """Sums of each row of ``rows`` over items of each kind: a (len(rows), kinds) array.

    One ``np.bincount`` for all rows (kind + kinds x row number), which costs a fraction
    of one call per row on arrays of a few hundred items.
    """
    m = len(rows)
    index = (kind[None, :] + N_KINDS * np.arange(m)[:, None]).ravel()
    return np.bincount(index, np.concatenate(rows), minlength=N_KINDS * m).reshape(m, N_KINDS)


def _kind_parts(model: CollaborationModel, flows: WeekFlows) -> tuple[np.ndarray, np.ndarray]:
    """Per kind of provider, numerator and denominator of every by-kind outcome.

    Returns two (len(BY_KIND), kinds) arrays. A kind's value is numerator / denominator
    (NaN where the denominator is 0); the system's value is the ratio of the totals, so
    that both come from one sum per kind. A denominator of NaN marks a count (the value
    is the numerator itself).
    O(providers + route groups + partnerships): three grouped sums (``np.bincount``).
    """
    st, ps, r = model.state, model.partnerships, model.routes
    kind = st.kind
    (vacant, funded, reneged, workload, faith, count, admin, staff, faith_staff,
     partners) = _by_kind(kind, [st.funded - st.staff, st.funded, flows.reneged,
                                 flows.workload, st.faith, np.ones(len(kind)),
                                 st.admin_share * st.staff, st.staff, st.faith * st.staff,
                                 model.degree.astype(np.float64)])
    on_time, due, delayed, admissions = _by_kind(
        kind[r.sender], [flows.new * flows.success, flows.new, model.delayed,
                         np.where(r.kind == Kind.ACUTE, flows.new, 0.0)])
    trust_held = _by_kind(np.concatenate([kind[ps.a], kind[ps.b]]),
                          [np.concatenate([ps.trust[:, 0], ps.trust[:, 1]])])[0]
    nothing = np.full(N_KINDS, math.nan)  # the denominator of a count
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "care_coordination": (on_time, due),
        "delayed_handoffs": (delayed, nothing),
        "vacancy_rate": (vacant, funded),
        "unmet_demand": (reneged, workload),
        "mean_trust": (trust_held, partners),
        "mean_belief": (faith, count),
        "admin_burden": (admin, staff),
        "mean_belief_staff": (faith_staff, staff),
        "partners_per_provider": (partners, count),
        "emergency_admissions": (admissions, nothing),
    }
    assert tuple(parts) == BY_KIND, "one computation per by-kind outcome, in registry order"
    return (np.array([n for n, _ in parts.values()]), np.array([d for _, d in parts.values()]))


def measure(model: CollaborationModel, flows: WeekFlows) -> Week:
    """Every outcome of the week just stepped, system-wide and by kind of provider.

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
    care_home = st.kind == Kind.CARE_HOME
    delayed_acute = np.bincount(model.routes.sender, model.delayed,
                                minlength=model.n_providers)[acute].sum()
    survivors = ps.at_switch.sum() if model.switched else math.nan
    formed = int((ps.formed_week == model.week).sum())  # every row formed this week is active
    num, den = _kind_parts(model, flows)
    count = np.isnan(den[:, 0])  # counts: the value is the numerator itself
    with np.errstate(invalid="ignore", divide="ignore"):
        by_kind = np.where(count[:, None], num, num / np.where(den > 0, den, math.nan)).T
        totals = den.sum(axis=1)
        whole_values = np.where(count, num.sum(axis=1),
                                num.sum(axis=1) / np.where(totals > 0, totals, math.nan))
    whole = dict(zip(BY_KIND, whole_values.tolist(), strict=True))
    sent = by_kind[:, BY_KIND.index("care_coordination")]  # coordination of what each kind sends
    from_homes = num[BY_KIND.index("emergency_admissions"), Kind.CARE_HOME]
    values = {
        "care_coordination": whole["care_coordination"],
        "delayed_handoffs": whole["delayed_handoffs"],
        "vacancy_rate": whole["vacancy_rate"],
        "unmet_demand": whole["unmet_demand"],
        "workload_gini": gini(np.minimum(st.pressure, GINI_PRESSURE_CAP)),
        "mean_trust": whole["mean_trust"],
        "mean_belief": whole["mean_belief"],
        "n_partnerships": e,
        "partnerships_formed": formed,
        "partnerships_ended": model.partnerships_at_week_start + formed - e,
        "partnership_survival": _ratio(survivors, model.partnerships_at_switch),
        "admin_burden": whole["admin_burden"],
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
        "discharge_coordination": float(sent[Kind.ACUTE]),
        "referral_coordination": float(sent[Kind.PCN]),
        "care_home_coordination": float(sent[Kind.CARE_HOME]),
        "mean_belief_staff": whole["mean_belief_staff"],
        "partners_per_provider": whole["partners_per_provider"],
        "emergency_admissions": whole["emergency_admissions"],
        "care_home_admission_rate": _ratio(WEEKS_PER_YEAR * from_homes,
                                           flows.served[care_home].sum()),
    }
    return Week(values, by_kind)


def measure_week(model: CollaborationModel, flows: WeekFlows) -> dict[str, float]:
    """Every outcome of the week just stepped, keyed by name (one entry per outcome).

    An outcome that is undefined this week (see :attr:`Outcome.undefined`) is NaN.
    """
    return measure(model, flows).values


def by_kind_frame(weeks: np.ndarray, tables: list[np.ndarray] | np.ndarray,
                  providers: np.ndarray) -> pd.DataFrame:
    """The by-kind table: one row per week and kind of provider (tidy, long format).

    Args:
        weeks: the weeks measured (counted from the switch), one per table.
        tables: one (number of kinds, len(BY_KIND)) array per week (see :class:`Week`).
        providers: how many providers of each kind the system has.

    Returns:
        A DataFrame with :data:`BY_KIND_COLUMNS`; ``kind`` is a categorical of the kind
        names in :data:`sim.kinds.KIND_NAMES` order.
    """
    weeks = np.asarray(weeks, dtype=np.int64)
    values = (np.asarray(tables, dtype=np.float64).reshape(-1, len(BY_KIND)) if len(weeks)
              else np.zeros((0, len(BY_KIND))))
    frame = pd.DataFrame(values, columns=list(BY_KIND))
    frame.insert(0, "providers", np.tile(np.asarray(providers, dtype=np.int64), len(weeks)))
    frame.insert(0, "kind", pd.Categorical.from_codes(np.tile(np.arange(N_KINDS), len(weeks)),
                                                      categories=list(KIND_NAMES)))
    frame.insert(0, "week", np.repeat(weeks, N_KINDS))
    return frame


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
