"""The outcome registry, the week's measurements, and run summaries.

Every outcome is declared once, in :data:`OUTCOMES`: its name (a public column of
the weekly table), meaning, unit, which direction is better, bounds, whether it is
a main outcome, the smallest difference that matters in practice, and when it is
undefined. The column list, the ODD table, the report's wording and the invariant
tests derive from it. :func:`measure_week` computes every outcome of a week into
a mapping keyed by name, which Mesa's DataCollector reads through :class:`functools.partial`
reporters (:func:`reporters`).

Adding an outcome: one :class:`Outcome` in :data:`OUTCOMES` and one line in
:func:`measure_week`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from sim.dynamics.workforce import TURNOVER_WINDOW_WEEKS, annual_turnover
from sim.kinds import ACUTE_FTE_PER_BED, SOCIAL_CARE, Kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import CollaborationModel

Kind_ = Literal["share", "count", "number"]
Better = Literal["higher", "lower"] | None

#: Utilisation above this counts as this in ``workload_gini`` (workload / capacity):
#: a provider three times over capacity is already failing; beyond that the Gini would
#: measure how the model caps pressure (``flows.MAX_PRESSURE``), not inequality of
#: workload (assumption).
GINI_PRESSURE_CAP = 3.0
#: Weeks at the end of the policy period that a run's summary averages over (one year,
#: so that winter and summer weigh alike).
SUMMARY_WEEKS = 52


@dataclass(frozen=True)
class Outcome:
    """One outcome column: what it measures and how to read it.

    Attributes:
        name: the column name (public: analysis code, notebooks and reports use it).
        meaning: one line, for docs and reports.
        unit: the unit of a value, e.g. ``"share 0-1"``, ``"episodes"``, ``"km"``.
        kind: ``"share"`` (a proportion: reports may print it as a percentage),
            ``"count"`` (of patients or partnerships) or ``"number"`` (anything else:
            scores 0-1, rates, distances).
        better: ``"higher"``, ``"lower"``, or None where neither is better in itself.
        low, high: bounds every defined value lies within (``math.inf`` if unbounded).
        main: a main outcome (MODEL.md's outcome table): shown first in reports.
        smallest_difference: the smallest difference between scenarios that matters in
            practice, in ``unit``; why, in ``evidence``.
        evidence: why ``smallest_difference`` (and any bound that is not obvious).
        undefined: when the value is undefined (NaN in the weekly table), or None if
            it is always defined.
    """

    name: str
    meaning: str
    unit: str
    kind: Kind_
    better: Better
    low: float
    high: float
    main: bool
    smallest_difference: float
    evidence: str
    undefined: str | None = None

    @property
    def description(self) -> str:
        """The meaning, with when it is undefined (one line)."""
        if self.undefined is None:
            return self.meaning
        return f"{self.meaning}; undefined (NaN) when {self.undefined}"

    @property
    def direction(self) -> int:
        """+1 if higher is better, -1 if lower is better, 0 if neither."""
        return {"higher": 1, "lower": -1, None: 0}[self.better]


INF = math.inf
_NO_PARTNERSHIPS = "there are no active partnerships"
_SCORE = ("a twentieth of the 0-1 scale, a fifth of a point on a five-point survey item "
          "(assumption)")

#: Every outcome, MODEL.md's table first (the main outcomes), then breakdowns used by
#: calibration and validation. The order is the column order of the weekly table.
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("care_coordination",
            "share of handoffs due this week that were completed this week (per route, "
            "weighted by new handoffs)",
            "share 0-1", "share", "higher", 0.0, 1.0, True, 0.01,
            "one percentage point of handoffs on time (assumption)",
            undefined="no handoffs are due"),
    Outcome("delayed_handoffs",
            "patients waiting for a handoff at the end of the week (delayed transfers of "
            "care)",
            "episodes", "count", "lower", 0.0, INF, True, 1.0,
            "one patient; the count grows with the system, so compare systems by "
            "delayed_discharge_share"),
    Outcome("vacancy_rate", "1 - staff in post / funded posts, all providers",
            "share 0-1", "share", "lower", 0.0, 1.0, True, 0.005,
            "half a percentage point, about 7,000 of the NHS's ~1.5 million posts "
            "(133,000 vacancies, 1 in 11 [CAL]); published rates moved 1-2 points in six "
            "months in 2021-22 [CAL]"),
    Outcome("unmet_demand",
            "episodes that left a backlog unserved this week (reneged) / workload waiting "
            "for service that week (backlog plus new arrivals)",
            "share 0-1", "share", "lower", 0.0, 1.0, True, 0.01,
            "one percentage point of the week's workload (assumption)",
            undefined="no workload waits for service"),
    Outcome("workload_gini",
            f"Gini coefficient of utilisation (workload / capacity, capped at "
            f"{GINI_PRESSURE_CAP:g}) across providers",
            "0-1", "number", "lower", 0.0, 1.0, True, 0.01,
            "one Gini point, the change usually called noticeable in inequality "
            "statistics (assumption)"),
    Outcome("mean_trust", "mean trust over active partnerships, both directions",
            "0-1", "number", "higher", 0.0, 1.0, True, 0.05, _SCORE,
            undefined=_NO_PARTNERSHIPS),
    Outcome("mean_belief", "mean staff faith in collaboration over providers (unweighted)",
            "0-1", "number", "higher", 0.0, 1.0, True, 0.05, _SCORE),
    Outcome("n_partnerships", "active partnerships",
            "partnerships", "count", None, 0.0, INF, True, 1.0, "one partnership"),
    Outcome("partnership_survival",
            "share of the partnerships that existed just before the switch still active "
            "(links a mandate supersedes count as ended; partnerships formed or assigned at "
            "or after the switch are not counted)",
            "share 0-1", "share", "higher", 0.0, 1.0, True, 0.05,
            "one partnership in twenty (assumption)",
            undefined="the regime has not yet started, or no partnership existed at the "
                      "switch"),
    Outcome("admin_burden",
            "share of staff time on collaboration paperwork and data building, weighted "
            "by staff in post",
            "share 0-1", "share", "lower", 0.0, 1.0, True, 0.01,
            "one percentage point of staff time, about 20 minutes per FTE per week "
            "(assumption)"),
    Outcome("quality_mean", "mean quality of practice over providers",
            "0-1", "number", "higher", 0.0, 1.0, True, 0.01,
            "a hundredth of the 0-1 scale (assumption)"),
    Outcome("quality_spread", "standard deviation of quality of practice over providers",
            "0-1", "number", "lower", 0.0, 0.5, True, 0.01,
            "a hundredth of the 0-1 scale (assumption); at most 0.5, the sd of values in "
            "[0, 1]"),
    Outcome("communication",
            "interactions per active partnership this week (directed handoff flows, "
            "directed aid, milestones)",
            "per partnership per week", "number", "higher", 0.0, INF, True, 0.1,
            "one more interaction every ten weeks (assumption)",
            undefined=_NO_PARTNERSHIPS),
    Outcome("nhs_vacancy_rate",
            "vacancy rate of NHS providers (acute, mental health, community, PCN)",
            "share 0-1", "share", "lower", 0.0, 1.0, False, 0.005,
            "half a percentage point, as vacancy_rate",
            undefined="the system has no NHS provider"),
    Outcome("social_care_vacancy_rate",
            "vacancy rate of adult social care (care homes, local authorities)",
            "share 0-1", "share", "lower", 0.0, 1.0, False, 0.005,
            "half a percentage point, as vacancy_rate",
            undefined="the system has no social care provider"),
    Outcome("nhs_turnover",
            f"leavers over the last (up to) {TURNOVER_WINDOW_WEEKS} weeks / mean staff in "
            "post, NHS",
            "per year", "number", "lower", 0.0, INF, False, 0.01,
            "one percentage point a year; social care turnover fell 4 points in a year, "
            "30% to 26% [CAL]",
            undefined="the NHS providers have no staff"),
    Outcome("social_care_turnover", "the same for adult social care",
            "per year", "number", "lower", 0.0, INF, False, 0.01,
            "one percentage point a year, as nhs_turnover",
            undefined="the social care providers have no staff"),
    Outcome("delayed_discharge_share",
            "patients waiting at acute trusts for a handoff (delayed hospital patients) / "
            f"hospital beds (funded acute FTE / {ACUTE_FTE_PER_BED:g})",
            "patients per bed", "number", "lower", 0.0, INF, False, 0.005,
            "half a percentage point of beds, about 500 of England's ~100,000 [CAL]",
            undefined="the system has no acute trust"),
    Outcome("vacancy_gini", "Gini coefficient of providers' vacancy rates",
            "0-1", "number", "lower", 0.0, 1.0, False, 0.01, "one Gini point, as workload_gini"),
    Outcome("mean_confidence", "mean confidence over active partnerships, both directions",
            "0-1", "number", "higher", 0.0, 1.0, False, 0.05, _SCORE,
            undefined=_NO_PARTNERSHIPS),
    Outcome("mean_formality", "mean contract formality over active partnerships",
            "0-1", "number", None, 0.0, 1.0, False, 0.05, _SCORE,
            undefined=_NO_PARTNERSHIPS),
    Outcome("partner_distance_km", "mean straight-line distance between partners",
            "km", "number", None, 0.0, INF, False, 1.0,
            "one kilometre, a few minutes by road in a town (assumption)",
            undefined=_NO_PARTNERSHIPS),
    Outcome("mandated_share", "share of active partnerships assigned by an authority",
            "share 0-1", "share", None, 0.0, 1.0, False, 0.05,
            "one partnership in twenty (assumption)",
            undefined=_NO_PARTNERSHIPS),
)

_BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
#: The outcome column names, in the order of the weekly table.
COLUMNS: tuple[str, ...] = tuple(_BY_NAME)
#: The main outcomes (MODEL.md's outcome table), in column order.
MAIN_OUTCOMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.main)


class UnknownOutcome(KeyError):
    """An outcome name that is not in the registry (the message lists the valid ones)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def outcome(name: str) -> Outcome:
    """The registry entry of outcome ``name``.

    Raises:
        UnknownOutcome: (a ``KeyError``) ``name`` is not an outcome; the message lists
            the valid names.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownOutcome(f"unknown outcome {name!r}; valid outcomes: "
                             f"{', '.join(COLUMNS)}") from None


@dataclass(frozen=True)
class Target:
    """A published figure the status quo should land near (calibration.md)."""

    column: str
    low: float
    high: float
    source: str


CALIBRATION: tuple[Target, ...] = (
    Target("nhs_vacancy_rate", 0.08, 0.12,
           "NHS vacancy rate: registered nursing 9.2-11.9% (2021-22), all posts ~1 in 11 "
           "(NHS Digital; NHS Improvement)"),
    Target("social_care_vacancy_rate", 0.07, 0.106,
           "adult social care vacancy rate 7.0-10.6% (Skills for Care, 2021/22-2024/25)"),
    Target("social_care_turnover", 0.26, 0.30,
           "adult social care turnover 26-30% a year (Skills for Care, 2022/23-2023/24)"),
    Target("delayed_discharge_share", 0.09, 0.135,
           "patients delayed though fit for discharge: 9,150-13,440 of ~100,000 beds "
           "(House of Commons Library, Dec 2021-Dec 2022)"),
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
