"""The outcome registry: every outcome column declared once, and the calibration targets.

Each :class:`Outcome` names a public column of the weekly table with its meaning, unit,
which direction is better, bounds, whether it is a main outcome, the smallest difference
that matters in practice, and when it is undefined. The column list, the ODD table, the
report's wording, the command's summary and the invariant tests derive from it; the
computation of each outcome lives in :func:`sim.outcomes.measure_week`.

This module imports nothing of the model, so that reports and documentation can read
the registry without loading the mechanisms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.kinds import ACUTE_FTE_PER_BED, KIND_NAMES

#: Weeks of leavers and staff that annual turnover counts (one year, as published
#: turnover rates do [CAL]).
TURNOVER_WINDOW_WEEKS = 52

Kind_ = Literal["share", "count", "number"]
Better = Literal["higher", "lower"] | None
AreaRule = Literal["sum", "mean", "ratio", "pooled_sd", "within"]

#: Utilisation above this counts as this in ``workload_gini`` (workload / capacity):
#: a provider three times over capacity is already failing; beyond that the Gini would
#: measure how the model caps pressure (``flows.MAX_PRESSURE``), not inequality of
#: workload (assumption).
GINI_PRESSURE_CAP = 3.0
#: Weeks at the end of the policy period that a run's summary averages over (one year,
#: so that winter and summer weigh alike).
SUMMARY_WEEKS = 52


@dataclass(frozen=True)
class ByArea:
    """How an outcome is reported per area, and how its national value combines the areas'.

    An area's value is the same measure over the providers of that area only (for flows,
    the handoffs they send; for partnerships, each partnership counts half in the area
    of each of its two providers, so that a partnership within one area counts once
    there and one across two areas counts half in each). An area's value is NaN where
    the national one would be undefined for that area alone (e.g. no partnership in it).

    Attributes:
        rule: how the national value combines the areas' values (the identity
            :func:`sim.outcomes.national_from_areas` computes and the tests check):
            ``"sum"`` the sum over areas (counts); ``"mean"`` the mean of the areas'
            values weighted by the by-area table's column ``weight`` (areas whose value
            is undefined have weight 0); ``"ratio"`` the sum over areas of the by-area
            table's column ``numerator`` over the sum of its column ``weight`` (for a
            value whose numerator can be positive where its denominator is 0: an area's
            interactions this week when all its partnerships ended during the week);
            ``"pooled_sd"`` the pooled standard deviation:
            the square root of the ``weight``-weighted mean of each area's variance plus
            its squared deviation of the area's ``mean`` from the national mean;
            ``"within"`` the area's own value only: the national value is not a
            combination of the areas' (a Gini coefficient does not decompose into the
            areas' Gini coefficients).
        weight: for ``"mean"``, ``"ratio"`` and ``"pooled_sd"``, the column of the
            by-area table (:data:`BY_AREA_COLUMNS`) that weights each area.
        mean: for ``"pooled_sd"``, the outcome holding each area's mean.
        numerator: for ``"ratio"``, the column of the by-area table summed over areas.
    """

    rule: AreaRule
    weight: str | None = None
    mean: str | None = None
    numerator: str | None = None


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
        by_kind: also reported for each kind of provider, in the by-kind table
            (:data:`BY_KIND_COLUMNS`): the same measure over the providers of one kind
            only (for flows, the handoffs those providers send). A kind's value is NaN
            where the system-wide one would be undefined for that kind alone (e.g. no
            provider of the kind, or no handoffs due from it).
        by_area: also reported for each area (e.g. each ICB of ``system=england``), in
            the by-area table (:data:`BY_AREA_COLUMNS`), and how the national value
            combines the areas' (:class:`ByArea`); None if not reported per area.
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
    by_kind: bool = False
    by_area: ByArea | None = None

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
            undefined="no handoffs are due",
            by_kind=True,
            by_area=ByArea("mean", "handoffs_due")),
    Outcome("delayed_handoffs",
            "patients waiting for a handoff at the end of the week (delayed transfers of "
            "care)",
            "episodes", "count", "lower", 0.0, INF, True, 1.0,
            "one patient; the count grows with the system, so compare systems by "
            "delayed_discharge_share",
            by_kind=True,
            by_area=ByArea("sum")),
    Outcome("vacancy_rate", "1 - staff in post / funded posts, all providers",
            "share 0-1", "share", "lower", 0.0, 1.0, True, 0.005,
            "half a percentage point, about 7,000 of the NHS's ~1.5 million posts "
            "(133,000 vacancies, 1 in 11 [CAL]); published rates moved 1-2 points in six "
            "months in 2021-22 [CAL]",
            by_kind=True,
            by_area=ByArea("mean", "funded_fte")),
    Outcome("unmet_demand",
            "episodes that left a backlog unserved this week (reneged) / workload waiting "
            "for service that week (backlog plus new arrivals)",
            "share 0-1", "share", "lower", 0.0, 1.0, True, 0.01,
            "one percentage point of the week's workload (assumption)",
            undefined="no workload waits for service",
            by_kind=True,
            by_area=ByArea("mean", "workload")),
    Outcome("workload_gini",
            f"Gini coefficient of utilisation (workload / capacity, capped at "
            f"{GINI_PRESSURE_CAP:g}) across providers",
            "0-1", "number", "lower", 0.0, 1.0, True, 0.01,
            "one Gini point, the change usually called noticeable in inequality "
            "statistics (assumption)",
            by_area=ByArea("within")),
    Outcome("mean_trust", "mean trust over active partnerships, both directions",
            "0-1", "number", "higher", 0.0, 1.0, True, 0.05, _SCORE,
            undefined=_NO_PARTNERSHIPS,
            by_kind=True,
            by_area=ByArea("mean", "n_partnerships")),
    Outcome("mean_belief", "mean staff faith in collaboration over providers (unweighted)",
            "0-1", "number", "higher", 0.0, 1.0, True, 0.05, _SCORE,
            by_kind=True,
            by_area=ByArea("mean", "providers")),
    Outcome("n_partnerships", "active partnerships",
            "partnerships", "count", None, 0.0, INF, True, 1.0, "one partnership",
            by_area=ByArea("sum")),
    Outcome("partnership_survival",
            "share of the partnerships that existed just before the switch still active "
            "(links a mandate supersedes count as ended; partnerships formed or assigned at "
            "or after the switch are not counted)",
            "share 0-1", "share", "higher", 0.0, 1.0, True, 0.05,
            "one partnership in twenty (assumption)",
            undefined="the regime has not yet started, or no partnership existed at the "
                      "switch",
            by_area=ByArea("mean", "partnerships_at_switch")),
    Outcome("admin_burden",
            "share of staff time on collaboration paperwork and data building, weighted "
            "by staff in post",
            "share 0-1", "share", "lower", 0.0, 1.0, True, 0.01,
            "one percentage point of staff time, about 20 minutes per FTE per week "
            "(assumption)",
            by_kind=True,
            by_area=ByArea("mean", "staff_fte")),
    Outcome("quality_mean", "mean quality of practice over providers",
            "0-1", "number", "higher", 0.0, 1.0, True, 0.01,
            "a hundredth of the 0-1 scale (assumption)",
            by_area=ByArea("mean", "providers")),
    Outcome("quality_spread", "standard deviation of quality of practice over providers",
            "0-1", "number", "lower", 0.0, 0.5, True, 0.01,
            "a hundredth of the 0-1 scale (assumption); at most 0.5, the sd of values in "
            "[0, 1]",
            by_area=ByArea("pooled_sd", "providers", mean="quality_mean")),
    Outcome("communication",
            "interactions per active partnership this week (directed handoff flows, "
            "directed aid, milestones)",
            "per partnership per week", "number", "higher", 0.0, INF, True, 0.1,
            "one more interaction every ten weeks (assumption)",
            undefined=_NO_PARTNERSHIPS,
            by_area=ByArea("ratio", "n_partnerships", numerator="interactions")),
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
    # Breakdowns that show what moves: care_coordination is mostly PCN referrals and
    # mean_belief mostly care homes (90% of providers), so a change at acute trusts or
    # in most staff's faith can hide inside them.
    Outcome("discharge_coordination",
            "care_coordination of the handoffs acute trusts send (hospital discharges)",
            "share 0-1", "share", "higher", 0.0, 1.0, False, 0.01,
            "one percentage point of handoffs on time, as care_coordination",
            undefined="no acute trust has handoffs due"),
    Outcome("referral_coordination",
            "care_coordination of the handoffs PCNs send (referrals from primary care)",
            "share 0-1", "share", "higher", 0.0, 1.0, False, 0.01,
            "one percentage point of handoffs on time, as care_coordination",
            undefined="no PCN has handoffs due"),
    Outcome("care_home_coordination",
            "care_coordination of the handoffs care homes send (to hospitals and PCNs)",
            "share 0-1", "share", "higher", 0.0, 1.0, False, 0.01,
            "one percentage point of handoffs on time, as care_coordination",
            undefined="no care home has handoffs due"),
    Outcome("mean_belief_staff",
            "staff faith in collaboration, weighted by staff in post (the faith of the "
            "average member of staff rather than of the average provider)",
            "0-1", "number", "higher", 0.0, 1.0, False, 0.05, _SCORE,
            undefined="no provider has staff in post", by_kind=True),
    Outcome("partners_per_provider",
            "active partnerships a provider belongs to, mean over providers",
            "partnerships", "number", None, 0.0, INF, False, 0.1,
            "one more partner for one provider in ten (assumption)",
            undefined="the system has no provider", by_kind=True),
    Outcome("emergency_admissions",
            "emergency admissions: new handoffs to acute trusts due this week, from every "
            "kind of sender, after admissions avoided by support in primary and community "
            "care",
            "episodes per week", "number", "lower", 0.0, INF, False, 1.0,
            "one admission a week; compare growth (ratio to the status quo), not levels, "
            "with published figures [CAL]", by_kind=True),
    Outcome("care_home_admission_rate",
            "emergency admissions from care homes per resident per year: 52 x care homes' "
            "new handoffs to acute trusts this week / resident-weeks of care they served "
            "this week (a care home episode is a resident-week)",
            "per resident per year", "number", "lower", 0.0, INF, False, 0.035,
            "a twentieth of the published 0.70 a year [CAL]; rate ratios of enhanced "
            "support range 0.6-1.0 [CAL]",
            undefined="no care home served a resident this week"),
    Outcome("partnerships_formed",
            "partnerships formed this week: chosen by providers, or assigned by an authority "
            "at the switch or in place of failing ones at its review",
            "partnerships per week", "count", None, 0.0, INF, False, 1.0, "one partnership"),
    Outcome("partnerships_ended",
            "partnerships ended this week: left, lapsed, superseded at the switch, or ended "
            "as failing at an authority's review",
            "partnerships per week", "count", None, 0.0, INF, False, 1.0, "one partnership"),
)

_BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
#: The outcome column names, in the order of the weekly table.
COLUMNS: tuple[str, ...] = tuple(_BY_NAME)
#: The main outcomes (MODEL.md's outcome table), in column order.
MAIN_OUTCOMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.main)
#: The outcomes also reported by kind of provider, in column order.
BY_KIND: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.by_kind)
#: The columns of the by-kind table: one row per week and kind of provider (``kind`` is
#: a name of :data:`sim.kinds.KIND_NAMES`; ``providers`` how many of that kind exist).
BY_KIND_COLUMNS: tuple[str, ...] = ("week", "kind", "providers", *BY_KIND)
#: The kind names in the order of the by-kind table's rows within a week.
KINDS: tuple[str, ...] = KIND_NAMES
#: The outcomes also reported per area, in column order.
BY_AREA: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.by_area is not None)
#: What weights an area's values in the national ones (:class:`ByArea`), with its unit:
#: the by-area table's columns after the outcomes. Partnerships count half in the area
#: of each of their providers, as in :class:`ByArea`.
AREA_WEIGHTS: dict[str, str] = {
    "providers": "providers in the area (count)",
    "funded_fte": "funded posts of the area's providers (FTE)",
    "staff_fte": "staff in post at the area's providers (FTE)",
    "handoffs_due": "new handoffs due this week from the area's providers (episodes)",
    "workload": "episodes waiting for service this week at the area's providers (backlog "
                "plus new arrivals)",
    "partnerships_at_switch": "partnerships that existed just before the regime switch "
                              "(0 before it)",
    "interactions": "interactions this week of the area's partnerships (directed handoff "
                    "flows, directed aid, milestones; as communication counts them)",
}
#: The keys of the by-area table's rows: the week, then the area as in ``areas.csv``
#: (``area`` index as in snapshots, ``area_code``, e.g. an ICB's ONS code, or "" if the
#: system has none, ``area_name``).
AREA_KEYS: tuple[str, ...] = ("week", "area", "area_code", "area_name")
#: The columns of the by-area table: one row per week and area.
BY_AREA_COLUMNS: tuple[str, ...] = (*AREA_KEYS, *BY_AREA, *AREA_WEIGHTS)


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
