"""The week's measurements and run summaries, for the outcomes of the registry.

Every outcome is declared once, in :data:`sim.outcome_spec.OUTCOMES` (re-exported
here). :func:`measure` computes every outcome of a week into a mapping keyed by
name, which Mesa's DataCollector reads through :class:`functools.partial` reporters
(:func:`reporters`), the by-kind outcomes into one row per kind of provider and the
by-area outcomes into one row per area (the model keeps them; :func:`by_kind_frame` and
:func:`by_area_frame` make the tables; :func:`national_from_areas` combines areas back
into national values as each outcome's :class:`ByArea` declares).

Adding an outcome: one :class:`Outcome` in :data:`sim.outcome_spec.OUTCOMES` and one
line in :func:`measure`; an outcome also reported by kind (``by_kind=True``) gets its
numerator and denominator per group in :func:`_group_sums` instead, and its system-wide
value is derived from them, so that the two never disagree. An outcome also reported per
area (``by_area=ByArea(...)``) gets one line in :func:`_area_table`; the same grouped
sums give its per-area value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from sim.dynamics.sums import masked_sum, pairwise_sum
from sim.dynamics.workforce import annual_turnover
from sim.jit import kernel
from sim.kinds import ACUTE_FTE_PER_BED, KIND_NAMES, N_KINDS, SOCIAL_CARE, Kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import CollaborationModel

from sim.outcome_spec import (  # noqa: F401  (re-exported: the registry's public names)
    AREA_KEYS,
    AREA_WEIGHTS,
    BY_AREA,
    BY_AREA_COLUMNS,
    BY_KIND,
    BY_KIND_COLUMNS,
    CALIBRATION,
    COLUMNS,
    GINI_PRESSURE_CAP,
    MAIN_OUTCOMES,
    OUTCOMES,
    SUMMARY_WEEKS,
    ByArea,
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
        interactions_held: the same interactions per provider, each partnership's
            counted half at each of its two providers (so that areas add up).
    """

    new: np.ndarray
    success: np.ndarray
    reneged: np.ndarray
    workload: np.ndarray
    interactions: float
    served: np.ndarray
    interactions_held: np.ndarray


@dataclass(frozen=True)
class Week:
    """One week's measurements: every outcome, and the by-kind outcomes per kind.

    Attributes:
        values: every outcome of the registry by name (NaN where undefined).
        by_kind: (number of kinds, len(BY_KIND)) array: row k holds kind k's values of
            the outcomes in :data:`BY_KIND`, in that order.
        by_area: (number of areas, len(BY_AREA) + len(AREA_WEIGHTS)) array: row a holds
            area a's values of the outcomes in :data:`BY_AREA`, then its weights
            (:data:`AREA_WEIGHTS`), in that order.
    """

    values: dict[str, float]
    by_kind: np.ndarray
    by_area: np.ndarray


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, 1 all in one)."""
    return float(_gini(np.ascontiguousarray(x, dtype=np.float64)))


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN (undefined) where the denominator is not positive."""
    return float(numerator / denominator) if denominator > 0 else math.nan


# --------------------------------------------------------------------------- kernels
# The week's outcomes are some hundred sums; written as NumPy calls they cost more in
# per-call overhead than in arithmetic (issue 16), so they are compiled, in few calls.
# Sums over all items use NumPy's own order (``pairwise_sum``), grouped sums run in item
# order as ``np.bincount`` adds, so that each outcome is the number NumPy gave.

@kernel
def _gini(x):
    """Gini coefficient of non-negative ``x`` (0 equal, 1 all in one): ``gini``'s
    formula, sum of (2 rank - n - 1) x over n times the total, on sorted values."""
    n = len(x)
    xs = np.sort(x)
    total = pairwise_sum(xs)
    if n == 0 or total <= 0:
        return 0.0
    weighted = np.empty(n)
    for i in range(n):
        weighted[i] = (2.0 * (i + 1) - n - 1) * xs[i]
    return pairwise_sum(weighted) / (n * total)


#: The by-kind outcomes' numerators and denominators, rows of :func:`_group_sums`'
#: output in this order (the registry's order, checked below).
_PARTS = ("care_coordination", "delayed_handoffs", "vacancy_rate", "unmet_demand",
          "mean_trust", "mean_belief", "admin_burden", "mean_belief_staff",
          "partners_per_provider", "emergency_admissions")
assert _PARTS == BY_KIND, "one computation per by-kind outcome, in registry order"


@kernel
def _group_sums(group, groups, funded, staff, reneged, workload, faith, admin_share, degree,
                sender, route_kind, acute, new, success, delayed, a, b, trust):
    """Numerator and denominator of every by-kind outcome (rows in :data:`_PARTS`
    order) per group of providers: two (len(_PARTS), groups) arrays.

    ``group`` holds each provider's group (kind or area), 0..groups-1. Flows count in the
    sender's group, a partnership's trust at each end in the group of the provider who
    holds it. A denominator of NaN marks a count (the value is the numerator itself).
    Each sum runs in item order (providers, route groups, then the a-ends of
    partnerships before their b-ends), as ``np.bincount`` adds.
    """
    num = np.zeros((10, groups))
    den = np.zeros((10, groups))
    for i in range(len(group)):
        g = group[i]
        num[2, g] += funded[i] - staff[i]  # vacant posts, FTE
        den[2, g] += funded[i]
        num[3, g] += reneged[i]  # episodes
        den[3, g] += workload[i]
        num[5, g] += faith[i]
        den[5, g] += 1.0  # providers
        num[6, g] += admin_share[i] * staff[i]  # FTE on paperwork
        den[6, g] += staff[i]
        num[7, g] += faith[i] * staff[i]
        den[4, g] += degree[i]  # partners held
    for j in range(len(sender)):
        g = group[sender[j]]
        num[0, g] += new[j] * success[j]  # handed over on time, episodes
        den[0, g] += new[j]
        num[1, g] += delayed[j]
        num[9, g] += new[j] if route_kind[j] == acute else 0.0  # admissions
    for p in range(len(a)):
        num[4, group[a[p]]] += trust[p, 0]
    for p in range(len(b)):
        num[4, group[b[p]]] += trust[p, 1]
    for g in range(groups):
        den[1, g] = np.nan
        den[7, g] = den[6, g]  # staff in post
        num[8, g] = den[4, g]  # partners per provider
        den[8, g] = den[5, g]
        den[9, g] = np.nan
    return num, den


@kernel
def _kind_values(num, den):
    """By-kind values (kinds, len(_PARTS)) and the system's values and denominators
    (len(_PARTS),) from the grouped numerators and denominators: a group's value is
    numerator / denominator, NaN where that is not positive; the system's is the ratio of
    the totals; a count (NaN denominator) is the numerator itself, summed."""
    rows, groups = num.shape
    by_kind = np.empty((groups, rows))
    whole = np.empty(rows)
    totals = np.empty(rows)
    for r in range(rows):
        count = np.isnan(den[r, 0])
        top, bottom = -0.0, -0.0
        for g in range(groups):  # few groups: NumPy adds them one by one too
            top += num[r, g]
            bottom += den[r, g]
            if count:
                by_kind[g, r] = num[r, g]
            else:
                by_kind[g, r] = num[r, g] / den[r, g] if den[r, g] > 0 else np.nan
        top, bottom = 0.0 + top, 0.0 + bottom
        totals[r] = bottom
        if count:
            whole[r] = top
        else:
            whole[r] = top / bottom if bottom > 0 else np.nan
    return by_kind, whole, totals


#: The outcomes :func:`_week_scalars` computes, in the order of its output.
_SCALARS = ("workload_gini", "vacancy_gini", "quality_mean", "quality_spread",
            "nhs_vacancy_rate", "social_care_vacancy_rate", "delayed_discharge_share",
            "mean_confidence", "mean_formality", "partner_distance_km", "mandated_share",
            "care_home_served", "partnerships_formed", "survivors", "interactions_held")


@kernel
def _week_scalars(kind, social, pressure, gini_cap, staff, funded, quality, served,
                  sender, delayed, acute, care_home, acute_fte_per_bed, confidence,
                  formality, distance, mandated, at_switch, formed_week, week,
                  interactions_held):
    """The system-wide outcomes that are not by kind (see :data:`_SCALARS`), each the
    number its NumPy expression gave: Gini coefficients of capped workload / capacity
    and of vacancy, quality's mean and standard deviation, vacancy of NHS and of social
    care posts (share), acute providers' delayed handoffs per bed (episodes / bed),
    partnerships' means (NaN without partnerships), care homes' residents served,
    partnerships formed this week and formed before the switch (counts), interactions."""
    n, e = len(kind), len(formality)
    out = np.full(len(_SCALARS), np.nan)
    capped = np.empty(n)
    vacancy = np.empty(n)
    for i in range(n):
        capped[i] = min(pressure[i], gini_cap)
        vacancy[i] = 1.0 - staff[i] / funded[i]
    out[0] = _gini(capped)
    out[1] = _gini(vacancy)
    mean = pairwise_sum(quality) / n
    deviation = np.empty(n)
    for i in range(n):
        d = quality[i] - mean
        deviation[i] = d * d
    out[2] = mean
    out[3] = np.sqrt(pairwise_sum(deviation) / n)
    nhs = np.logical_not(social[kind])
    staff_nhs, funded_nhs = masked_sum(staff, nhs), masked_sum(funded, nhs)
    staff_sc, funded_sc = masked_sum(staff, social[kind]), masked_sum(funded, social[kind])
    out[4] = 1.0 - (staff_nhs / funded_nhs if funded_nhs > 0 else np.nan)
    out[5] = 1.0 - (staff_sc / funded_sc if funded_sc > 0 else np.nan)
    waiting = np.zeros(n)  # delayed handoffs per provider, as np.bincount adds them
    for j in range(len(sender)):
        waiting[sender[j]] += delayed[j]
    is_acute = kind == acute
    beds = masked_sum(funded, is_acute) / acute_fte_per_bed
    out[6] = masked_sum(waiting, is_acute) / beds if beds > 0 else np.nan
    if e:
        out[7] = pairwise_sum(confidence.ravel()) / (2 * e)
        out[8] = pairwise_sum(formality) / e
        out[9] = pairwise_sum(distance) / e
        out[10] = np.sum(mandated) / e  # a count: exact in any order
    out[11] = masked_sum(served, kind == care_home)
    out[12] = np.sum(formed_week == week)
    out[13] = np.sum(at_switch)
    out[14] = pairwise_sum(interactions_held)
    return out


Parts = tuple[np.ndarray, np.ndarray]


def _group_parts(model: CollaborationModel, flows: WeekFlows, group: np.ndarray,
                 groups: int) -> Parts:
    """Per group of providers, numerator and denominator of every by-kind outcome: two
    (len(BY_KIND), groups) arrays (:func:`_group_sums`).

    Args:
        group: each provider's group index, 0..groups-1 (``state.kind``, ``state.area``).
        groups: the number of groups.

    A group's value is numerator / denominator (NaN where the denominator is 0); the
    system's value is the ratio of the totals, so that both come from one sum per group.
    O(providers + route groups + partnerships), one compiled pass.
    """
    st, ps, r = model.state, model.partnerships, model.routes
    return _group_sums(group, groups, st.funded, st.staff, flows.reneged, flows.workload,
                       st.faith, st.admin_share, model.degree, r.sender, r.kind,
                       int(Kind.ACUTE), flows.new, flows.success, model.delayed, ps.a, ps.b,
                       ps.trust)


def measure(model: CollaborationModel, flows: WeekFlows) -> Week:
    """Every outcome of the week just stepped, system-wide and by kind of provider.

    An outcome that is undefined this week (see :attr:`Outcome.undefined`) is NaN.
    """
    st, ps = model.state, model.partnerships
    e = len(ps)
    turnover = annual_turnover(model.leavers_window, model.staff_window, model.steps)
    num, den = _group_parts(model, flows, st.kind, N_KINDS)
    by_kind, whole_values, totals = _kind_values(num, den)
    whole = dict(zip(BY_KIND, whole_values.tolist(), strict=True))
    scalars = dict(zip(_SCALARS, _week_scalars(
        st.kind, SOCIAL_CARE, st.pressure, GINI_PRESSURE_CAP, st.staff, st.funded,
        st.quality, flows.served, model.routes.sender, model.delayed, int(Kind.ACUTE),
        int(Kind.CARE_HOME), ACUTE_FTE_PER_BED, ps.confidence, ps.formality, ps.distance,
        ps.mandated, ps.at_switch, ps.formed_week, model.week,
        flows.interactions_held).tolist(), strict=True))
    formed = int(scalars["partnerships_formed"])  # every row formed this week is active
    survivors = scalars["survivors"] if model.switched else math.nan
    sent = by_kind[:, BY_KIND.index("care_coordination")]  # coordination of what each kind sends
    from_homes = num[BY_KIND.index("emergency_admissions"), Kind.CARE_HOME]
    values = {
        "care_coordination": whole["care_coordination"],
        "delayed_handoffs": whole["delayed_handoffs"],
        "vacancy_rate": whole["vacancy_rate"],
        "unmet_demand": whole["unmet_demand"],
        "workload_gini": scalars["workload_gini"],
        "mean_trust": whole["mean_trust"],
        "mean_belief": whole["mean_belief"],
        "n_partnerships": e,
        "partnerships_formed": formed,
        "partnerships_ended": model.partnerships_at_week_start + formed - e,
        "partnership_survival": _ratio(survivors, model.partnerships_at_switch),
        "admin_burden": whole["admin_burden"],
        "quality_mean": scalars["quality_mean"],
        "quality_spread": scalars["quality_spread"],
        "communication": flows.interactions / e if e else math.nan,
        "nhs_vacancy_rate": scalars["nhs_vacancy_rate"],
        "social_care_vacancy_rate": scalars["social_care_vacancy_rate"],
        "nhs_turnover": float(turnover[0]),
        "social_care_turnover": float(turnover[1]),
        "delayed_discharge_share": scalars["delayed_discharge_share"],
        "vacancy_gini": scalars["vacancy_gini"],
        "mean_confidence": scalars["mean_confidence"],
        "mean_formality": scalars["mean_formality"],
        "partner_distance_km": scalars["partner_distance_km"],
        "mandated_share": scalars["mandated_share"],
        "discharge_coordination": float(sent[Kind.ACUTE]),
        "referral_coordination": float(sent[Kind.PCN]),
        "care_home_coordination": float(sent[Kind.CARE_HOME]),
        "mean_belief_staff": whole["mean_belief_staff"],
        "partners_per_provider": whole["partners_per_provider"],
        "emergency_admissions": whole["emergency_admissions"],
        "care_home_admission_rate": _ratio(WEEKS_PER_YEAR * from_homes,
                                           scalars["care_home_served"]),
    }
    if model.table.n_areas > 1:
        by_area = _group_parts(model, flows, st.area, model.table.n_areas)
        return Week(values, by_kind, _area_table(model, flows, by_area))
    return Week(values, by_kind, _one_area_row(model, values, totals,
                                               scalars["interactions_held"]))


def _one_area_row(model: CollaborationModel, values: dict[str, float], totals: np.ndarray,
                  interactions: float) -> np.ndarray:
    """The by-area table of a system with one area: the national values and weights
    (what :func:`_area_table` gives for one area, without grouping every array again).
    ``totals`` are the by-kind outcomes' denominators summed over kinds, ``interactions``
    the week's interactions held by providers."""
    weights = _area_weights(dict(zip(BY_KIND, totals.tolist(), strict=True)),
                            float(model.n_providers),
                            float(model.area_partnerships_at_switch[0]), interactions)
    return np.array([[*(values[name] for name in BY_AREA), *weights.values()]])


def _area_weights(den: dict, providers: Any, at_switch: Any, interactions: Any) -> dict:
    """The by-area weights in registry order, from the by-kind outcomes' denominators
    (``den``: outcome name -> denominator, per area or for the one area)."""
    weights = {
        "providers": providers,
        "funded_fte": den["vacancy_rate"],
        "staff_fte": den["admin_burden"],
        "handoffs_due": den["care_coordination"],
        "workload": den["unmet_demand"],
        "partnerships_at_switch": at_switch,
        "interactions": interactions,
    }
    assert tuple(weights) == tuple(AREA_WEIGHTS), "one computation per weight, in registry order"
    return weights


def partnerships_by_area(area: np.ndarray, a: np.ndarray, b: np.ndarray,
                         areas: int) -> np.ndarray:
    """Partnerships per area, each counting half in the area of each of its providers.

    Args:
        area: each provider's area index; a, b: the two providers of each partnership.
        areas: the number of areas.

    Returns:
        (areas,) array that sums to ``len(a)`` (a partnership within one area counts 1
        there, one across two areas 1/2 in each).
    """
    return 0.5 * (np.bincount(area[a], minlength=areas) + np.bincount(area[b], minlength=areas))


def _ratios(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator elementwise, NaN (undefined) where the denominator is not
    positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0),
                        math.nan)


def _area_gini(x: np.ndarray, area: np.ndarray, count: np.ndarray) -> np.ndarray:
    """:func:`gini` of non-negative ``x`` within each area: one sort of all values by
    (area, value), then grouped sums, not a loop over areas. NaN for an area without
    providers."""
    # One float sort on area x (max + 1) + value, several times faster than a lexsort;
    # it can only swap values closer than the key's rounding (~1e-14), which leaves each
    # Gini coefficient the same to within that rounding.
    order = np.argsort(area * (float(x.max(initial=0.0)) + 1.0) + x)
    xs, group = x[order], area[order]
    start = np.cumsum(count) - count  # first sorted position of each area
    rank = np.arange(1, len(xs) + 1) - start[group]  # 1-based rank within the area
    areas = len(count)
    weighted = np.bincount(group, (2.0 * rank - count[group] - 1.0) * xs, minlength=areas)
    total = np.bincount(group, xs, minlength=areas)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = weighted / (count * total)
    return np.where(count == 0, math.nan, np.where(total > 0, g, 0.0))


def _area_table(model: CollaborationModel, flows: WeekFlows, parts: Parts) -> np.ndarray:
    """Every by-area outcome and weight of the week, one row per area (see :class:`Week`).

    ``parts`` are the numerators and denominators of the by-kind outcomes grouped by area
    (:func:`_group_parts`); the outcomes that are not by kind come from grouped sums over
    the arrays the week already holds: O(providers + partnerships), and one sort of
    providers' utilisation for the Gini coefficients.
    """
    st, ps = model.state, model.partnerships
    areas = model.table.n_areas
    area = st.area
    num, den = parts
    part = dict(zip(BY_KIND, zip(num, den, strict=True), strict=True))
    count = part["mean_belief"][1]  # providers per area
    partnerships = part["mean_trust"][1] / 2.0  # each partnership's two ends, halved
    at_switch = model.area_partnerships_at_switch
    survivors = partnerships_by_area(area, ps.a[ps.at_switch], ps.b[ps.at_switch], areas)
    interactions = np.bincount(area, flows.interactions_held, minlength=areas)
    quality_mean = _ratios(np.bincount(area, st.quality, minlength=areas), count)
    deviation = st.quality - np.nan_to_num(quality_mean)[area]
    quality_spread = np.sqrt(_ratios(np.bincount(area, deviation * deviation,
                                                 minlength=areas), count))

    def of(name: str) -> np.ndarray:
        n, d = part[name]
        return n if np.isnan(d).all() else _ratios(n, d)

    values = {
        "care_coordination": of("care_coordination"),
        "delayed_handoffs": of("delayed_handoffs"),
        "vacancy_rate": of("vacancy_rate"),
        "unmet_demand": of("unmet_demand"),
        "workload_gini": _area_gini(np.minimum(st.pressure, GINI_PRESSURE_CAP), area,
                                    count.astype(np.int64)),
        "mean_trust": of("mean_trust"),
        "mean_belief": of("mean_belief"),
        "n_partnerships": partnerships,
        "partnership_survival": _ratios(survivors, at_switch) if model.switched
        else np.full(areas, math.nan),
        "admin_burden": of("admin_burden"),
        "quality_mean": quality_mean,
        "quality_spread": quality_spread,
        "communication": _ratios(interactions, partnerships),
    }
    weights = _area_weights({name: d for name, (_, d) in part.items()}, count, at_switch,
                            interactions)
    assert tuple(values) == BY_AREA, "one computation per by-area outcome, in registry order"
    return np.column_stack([*values.values(), *weights.values()])


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


def by_area_frame(weeks: np.ndarray, tables: list[np.ndarray] | np.ndarray,
                  areas: pd.DataFrame) -> pd.DataFrame:
    """The by-area table: one row per week and area (tidy, long format).

    Args:
        weeks: the weeks measured (counted from the switch), one per table.
        tables: one (number of areas, len(BY_AREA) + len(AREA_WEIGHTS)) array per week
            (see :class:`Week`).
        areas: one row per area, in area index order, with ``area_code`` and
            ``area_name`` (``ProviderTable.area_frame()``, as ``areas.csv``).

    Returns:
        A DataFrame with :data:`BY_AREA_COLUMNS`; ``area_code`` and ``area_name`` are
        categoricals; rows week by week, areas in index order within a week.
    """
    weeks = np.asarray(weeks, dtype=np.int64)
    n_areas = len(areas)
    width = len(BY_AREA) + len(AREA_WEIGHTS)
    values = (np.asarray(tables, dtype=np.float64).reshape(-1, width) if len(weeks)
              else np.zeros((0, width)))
    frame = pd.DataFrame(values, columns=[*BY_AREA, *AREA_WEIGHTS])
    frame["providers"] = frame["providers"].astype(np.int64)
    keys = {
        "week": np.repeat(weeks, n_areas),
        "area": np.tile(np.arange(n_areas, dtype=np.int64), len(weeks)),
        "area_code": pd.Categorical(np.tile(areas["area_code"].astype(str).to_numpy(),
                                            len(weeks))),
        "area_name": pd.Categorical(np.tile(areas["area_name"].astype(str).to_numpy(),
                                            len(weeks))),
    }
    for position, (name, column) in enumerate(keys.items()):
        frame.insert(position, name, column)
    return frame


def national_from_areas(by_area: pd.DataFrame) -> pd.DataFrame:
    """The national value of every by-area outcome that combines, from the areas' values.

    Applies each outcome's :class:`ByArea` rule week by week; outcomes whose rule is
    ``"within"`` (the Gini coefficient) are left out, since their national value is not
    a combination of the areas'. Useful to combine areas into regions (pass the rows of
    the areas of one region) and to check that areas add up to the nation.

    Args:
        by_area: a by-area table (:data:`BY_AREA_COLUMNS`), or the rows of some areas.

    Returns:
        One row per week (index ``week``), one column per combined outcome; NaN where
        every area's value is undefined (or no area has weight).
    """
    groups = by_area.groupby("week", sort=True)
    out = {}
    for name in BY_AREA:
        rule = outcome(name).by_area
        if rule.rule == "within":
            continue
        value = by_area[name].to_numpy(dtype=np.float64)
        if rule.rule == "sum":
            out[name] = groups[name].sum(min_count=1)
            continue
        if rule.rule == "ratio":
            sums = groups[[rule.numerator, rule.weight]].sum()
            out[name] = sums[rule.numerator] / sums[rule.weight].where(sums[rule.weight] > 0)
            continue
        weight = by_area[rule.weight].to_numpy(dtype=np.float64)
        weight = np.where(np.isfinite(value), weight, 0.0)  # undefined areas weigh nothing
        value = np.where(weight > 0, value, 0.0)
        parts = pd.DataFrame({"week": by_area["week"].to_numpy(), "w": weight,
                              "wv": weight * value})
        if rule.rule == "pooled_sd":  # within-area variance plus between-area variance
            mean = by_area[rule.mean].to_numpy(dtype=np.float64)
            parts["wm"] = weight * np.where(weight > 0, mean, 0.0)
            parts["wm2"] = parts["wm"] * np.where(weight > 0, mean, 0.0)
            parts["wv"] = weight * value * value
        sums = parts.groupby("week", sort=True).sum()
        total = sums["w"].where(sums["w"] > 0)
        if rule.rule == "mean":
            out[name] = sums["wv"] / total
        else:
            mean_all = sums["wm"] / total
            out[name] = np.sqrt(np.maximum((sums["wv"] + sums["wm2"]) / total
                                           - mean_all * mean_all, 0.0))
    return pd.DataFrame(out)


def read_outcome(model: CollaborationModel, name: str) -> float:
    """This week's value of outcome ``name`` (a DataCollector reporter, via partial)."""
    return model.outcome_values[name]


def reporters() -> dict[str, str | Callable]:
    """Model reporters for Mesa's DataCollector: ``week``, then every outcome in order.

    Each outcome reporter is a ``functools.partial`` of a module-level function, so a
    model with its DataCollector pickles (parallel runs, checkpoints), unlike a lambda.
    """
    return {"week": "week", **{name: partial(read_outcome, name=name) for name in COLUMNS}}


class OutcomeCollector(mesa.DataCollector):
    """Mesa's DataCollector (``model.datacollector``), reading the outcome columns from
    the values the week has already computed (``model.outcome_values``).

    Mesa calls each reporter and deep-copies what it returns, some thirty calls a week
    (issue 16: a twentieth of an ICS step); an outcome's value is a float or an int,
    immutable, so the outcome reporters of :func:`reporters` are read straight from the
    mapping instead. Every other reporter (``week``, any a user adds) and any agent
    reporter is collected by Mesa as usual; the table is the same.
    """

    def collect(self, model) -> None:
        """Record this week: the outcome columns, then Mesa's collection of the rest."""
        values = model.outcome_values
        mine, others = self.model_reporters, {}
        for var, reporter in mine.items():
            if isinstance(reporter, partial) and reporter.func is read_outcome:
                self.model_vars[var].append(values[reporter.keywords["name"]])
            else:
                others[var] = reporter
        if not others:  # Mesa records the collection's time only with model reporters
            self._collection_steps.append(model.time)
        self.model_reporters = others
        try:
            super().collect(model)
        finally:
            self.model_reporters = mine


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
