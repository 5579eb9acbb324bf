"""The patterns of MODEL.md: what each compares, how it is measured, what must hold.

A pattern names its scenarios (dotted-key changes over the base scenario; a config
group's key selects a preset of ``configs/``), a measure that turns one replicate's
results (one :class:`sim.RunResult` per scenario, all sharing that replicate's random
streams) into one effect per criterion, and its criteria, each stated before running.

A criterion is worth something only if a model without the mechanism would fail it
(MODEL.md, validation). So every criterion states its *smallest meaningful effect*:
the outcome registry's ``smallest_difference`` (:mod:`sim.outcome_spec`) where the
effect is a difference of an outcome, otherwise a value justified in the criterion.
A criterion passes only when the 95% interval of its effect over paired replicates
clears that effect in the stated direction; a *non-inferiority* criterion ("at least as
well") passes when the interval's lower end lies above minus the smallest effect. A
*design property* follows from how the model is built (e.g. candidates are the nearest
providers); it is checked and reported, but it is not evidence and is counted apart.

Nothing here tunes the model: patterns must emerge from the mechanisms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sim.config import RegimeConfig
from sim.outcome_spec import outcome
from sim.regimes import STATUS_QUO
from sim.runner import RunResult
from sim.stats import Interval
from sim.validation import measures as M
from sim.validation.scenarios import PresetValue

Form = Literal["superiority", "non-inferiority", "design property", "published range",
               "comparison"]
FORMS: tuple[str, ...] = ("superiority", "non-inferiority", "design property",
                          "published range", "comparison")
#: Forms with a published range (decided by overlap) and forms that are not evidence.
RANGED: tuple[str, ...] = ("published range", "comparison")
NOT_EVIDENCE: tuple[str, ...] = ("design property", "comparison")


@dataclass(frozen=True)
class Criterion:
    """One check, stated before running.

    Attributes:
        name: short key, unique within its pattern.
        statement: the criterion in words (the report's and the JSON's wording).
        direction: +1 if the effect must be positive, -1 if negative.
        smallest_effect: the smallest effect that matters, in ``unit`` (> 0); the
            interval must clear it in ``direction`` (or, non-inferiority, must not
            reach it against ``direction``).
        unit: the effect's unit, e.g. ``"share 0-1"``, ``"km"``, ``"weeks"``.
        basis: why ``smallest_effect`` (the registry's wording, or the justification).
        form: ``"superiority"`` (the effect is at least ``smallest_effect`` in
            ``direction``), ``"non-inferiority"`` (at least as well: the effect is not
            worse than ``smallest_effect`` against ``direction``) or ``"design
            property"`` (decided like superiority, but follows from the design and is
            not evidence) or ``"published range"`` (the interval overlaps ``published``;
            ``smallest_effect`` is then the resolution at which a difference matters) or
            ``"comparison"`` (a published figure shown beside the simulated one, decided
            like a published range but not evidence: e.g. a figure the scenario was set
            to match).
        published: (low, high) of a published range, for ``"published range"`` only.
    """

    name: str
    statement: str
    direction: int
    smallest_effect: float
    unit: str
    basis: str
    form: Form = "superiority"
    published: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.direction not in (-1, 1):
            raise ValueError(f"criterion {self.name}: direction={self.direction!r}; "
                             "allowed -1 or +1")
        if not self.smallest_effect > 0:
            raise ValueError(f"criterion {self.name}: smallest_effect="
                             f"{self.smallest_effect!r} must be > 0 (direction gives the "
                             "sign): a criterion that only excludes zero could pass with an "
                             "effect too small to matter")
        if not self.basis.strip():
            raise ValueError(f"criterion {self.name}: basis is empty; say why the smallest "
                             f"effect is {self.smallest_effect!r}")
        if self.form not in FORMS:
            raise ValueError(f"criterion {self.name}: form={self.form!r}; allowed "
                             f"{', '.join(FORMS)}")
        ranged = self.form in RANGED
        if ranged != (self.published is not None) or (
                ranged and not self.published[0] <= self.published[1]):
            raise ValueError(f"criterion {self.name}: published={self.published!r} with "
                             f"form={self.form!r}; a published range (low <= high) is "
                             "required with forms 'published range' and 'comparison', "
                             "and only with them")

    @property
    def threshold(self) -> float:
        """The bound the interval must clear, signed: the decision rule in one number."""
        sign = -1 if self.form == "non-inferiority" else 1
        return sign * self.direction * self.smallest_effect

    @property
    def rule(self) -> str:
        """The decision rule in words, e.g. ``"lower end > +0.01"``."""
        if self.published is not None:
            low, high = self.published
            return f"interval overlaps [{low:.4g}, {high:.4g}] {self.unit}"
        end = "lower end" if self.direction > 0 else "upper end"
        op = ">" if self.direction > 0 else "<"
        return f"{end} {op} {self.threshold:+.4g} {self.unit}"

    @property
    def is_evidence(self) -> bool:
        """False for a design property or a comparison (reported, not counted as
        evidence)."""
        return self.form not in NOT_EVIDENCE

    def passes(self, interval: Interval) -> bool:
        """True if the whole interval lies beyond :attr:`threshold` in ``direction``
        (False when the interval is undefined); for a published range, True if the
        interval overlaps it."""
        if self.published is not None:
            low, high = self.published
            return bool(interval.low <= high and interval.high >= low)
        if self.direction > 0:
            return bool(interval.low > self.threshold)
        return bool(interval.high < self.threshold)


def of_outcome(name: str, times: float = 1.0, per: str = "") -> dict[str, Any]:
    """``smallest_effect``, ``unit`` and ``basis`` of a criterion on a difference of
    outcome ``name``, from the outcome registry (one declaration per fact).

    Args:
        name: an outcome of :data:`sim.outcome_spec.OUTCOMES`.
        times: multiplier (e.g. ``0.1`` for "per km" over a 10 km span); 1 by default.
        per: appended to the unit and basis when ``times`` rescales it (e.g. ``"per km"``).
    """
    o = outcome(name)
    unit = f"{o.unit} {per}".strip()
    basis = f"{name}'s smallest meaningful difference, {o.smallest_difference:g} {o.unit} " \
            f"({o.evidence})"
    return {"smallest_effect": o.smallest_difference * times, "unit": unit, "basis": basis}


Scenarios = Mapping[str, Mapping[str, Any]]
Measure = Callable[[Mapping[str, RunResult]], Sequence[float]]


@dataclass(frozen=True)
class Pattern:
    """A pattern of MODEL.md.

    Attributes:
        key: ``"<number>_<name>"``, e.g. ``"1_mandates"``.
        title, evidence: its heading and the references it rests on.
        description: the scenarios in words (for the report).
        scenarios: scenario name -> dotted-key changes over the base scenario.
        measure: one replicate's results (scenario name -> RunResult) -> one effect per
            criterion, in the criteria's order.
        criteria: what must hold.
    """

    key: str
    title: str
    evidence: str
    description: str
    scenarios: Scenarios
    measure: Measure = field(repr=False)
    criteria: tuple[Criterion, ...]


# --------------------------------------------------------------------------- measures
# Each takes {scenario name: RunResult} for one replicate; "policy mean" is the mean over
# the whole policy period unless a window is named.


def _mandates(r: Mapping[str, RunResult]) -> list[float]:
    pm = M.policy_mean
    return [pm(r["mandated"], "care_coordination") - pm(r["local"], "care_coordination"),
            pm(r["mandated"], "mean_belief") - pm(r["local"], "mean_belief"),
            pm(r["mandated_fresh"], "care_coordination")
            - pm(r["local_fresh"], "care_coordination")]


def _crowding_out(r: Mapping[str, RunResult]) -> list[float]:
    switch, year_on = -1, M.YEAR - 1  # snapshot weeks: at the switch, after a policy year
    drop = (M.faith_change(r["mandated"], switch, year_on)
            - M.faith_change(r["local"], switch, year_on))
    # the burn-in is the same under both regimes (common random numbers): either will do.
    # Groups by what providers experienced (on-time handoffs to their chosen partners),
    # not by the input of crowding out (the share of chosen partnerships a mandate ends)
    count, on_time = M.chosen_partner_on_time(r["mandated"], switch)
    had = (count > 0) & np.isfinite(on_time)
    if had.sum() < 2:
        return [float("nan")]
    worked = on_time >= np.median(on_time[had])
    better, worse = had & worked, had & ~worked
    if not better.any() or not worse.any():
        return [float("nan")]
    return [float(drop[better].mean() - drop[worse].mean())]


def _contracts(r: Mapping[str, RunResult]) -> list[float]:
    def gain(context: str, column: str) -> float:
        return (M.policy_mean(r[f"formal_{context}"], column)
                - M.policy_mean(r[f"informal_{context}"], column))

    gain_diverse = gain("diverse", "mean_trust")
    return [gain("diverse", "partnership_survival"),
            gain_diverse,
            gain_diverse - gain("similar", "mean_trust"),
            gain("high_trust", "partnership_survival")
            - gain("low_trust", "partnership_survival"),
            gain("diverse", "care_coordination"),
            gain("diverse", "mean_belief")]


def _culture(r: Mapping[str, RunResult]) -> list[float]:
    return [M.policy_mean(r["similar"], c) - M.policy_mean(r["diverse"], c)
            for c in ("mean_trust", "care_coordination")]


def _leadership(r: Mapping[str, RunResult]) -> list[float]:
    def gap(supply: str) -> float:
        return (M.policy_mean(r[f"realist_{supply}"], "mean_belief")
                - M.policy_mean(r[f"denier_{supply}"], "mean_belief"))

    short = gap("shortage")
    return [short, short - gap("plenty")]


#: Pattern 6: partners an authority imposes per pathway kind (0: nobody is assigned).
#: Levels chosen from what the model does: from 1 to 2 coordination already falls, so
#: the rise can only show between none and one, the fall between one and four.
COMPLEXITY_LEVELS = (0, 1, 4)


def _complexity_scenario(k: int) -> dict[str, Any]:
    # a system without partnerships (no burn-in), then the mandate's levers: providers
    # can neither refuse nor leave, so the number of partners is the authority's alone
    changes: dict[str, Any] = {"regime": "mandated", "time.burn_in_weeks": 0}
    if k == 0:
        changes["regime.partner_choice"] = "none"
    else:
        changes["partnerships.assigned_per_kind"] = k
    return changes


def _complexity(r: Mapping[str, RunResult]) -> list[float]:
    none, one, many = (M.policy_mean(r[f"assigned_{k}"], "care_coordination")
                       for k in COMPLEXITY_LEVELS)
    return [one - none, one - many]


#: Pattern 7's moderate shock: 40% of intake lost for 8 weeks from policy week 26.
SHOCK = {"start_week": 26, "weeks": 8, "intake_loss": 0.4}
#: Weeks after the shock's start in which trust's lowest point is sought.
TROUGH_HORIZON = M.YEAR


def _trust_asymmetry(r: Mapping[str, RunResult]) -> list[float]:
    trust = r["shocked"].weekly.set_index("week")["mean_trust"]
    drop, fall, recovery = M.half_times(trust, SHOCK["start_week"], TROUGH_HORIZON)
    return [drop, recovery - fall]


#: Random pairs drawn for pattern 8's geography without choice.
RANDOM_PAIRS = 20000


def _distance(r: Mapping[str, RunResult]) -> list[float]:
    local = r["local"]
    weeks = M.last_year_every(local, 4)  # pooled: every 4th week of the last year
    rng = np.random.default_rng(local.config.replicate)
    d_random = M.random_pair_distance(local, RANDOM_PAIRS, rng)
    return [d_random - M.partner_distance(local, weeks[-1]),
            M.candidate_distance_gap(local, weeks[-1]),
            M.on_time_slope(local, weeks)]


def _monitoring(r: Mapping[str, RunResult]) -> list[float]:
    end = r["flat"].config.time.policy_weeks - 1

    def gain(first: int, last: int) -> float:
        return (M.policy_mean(r["invest"], "care_coordination", first, last)
                - M.policy_mean(r["flat"], "care_coordination", first, last))

    early, late = gain(0, 12), gain(end - M.YEAR + 1, end)
    return [late, late - early]


def _ambition(r: Mapping[str, RunResult]) -> list[float]:
    pm = M.policy_mean
    return [pm(r["no_goals"], "quality_spread") - pm(r["goals"], "quality_spread"),
            pm(r["competing"], "quality_spread") - pm(r["aligned"], "quality_spread")]


def _allocation(r: Mapping[str, RunResult]) -> list[float]:
    return [M.policy_mean(r["status_quo"], c) - M.policy_mean(r["local"], c)
            for c in ("workload_gini", "vacancy_rate")]


def _growth(result: RunResult) -> float:
    """Growth of emergency admissions over the policy period (share): the mean of its last
    year over the mean of the year before the switch, minus 1."""
    end = result.config.time.policy_weeks - 1
    return (M.policy_mean(result, "emergency_admissions", end - M.YEAR + 1, end)
            / M.policy_mean(result, "emergency_admissions", -M.YEAR, -1) - 1.0)


def _admissions(r: Mapping[str, RunResult]) -> list[float]:
    still, programme = _growth(r["status_quo"]), _growth(r["programme"])
    ratio = (M.policy_mean(r["supported"], "care_home_admission_rate")
             / M.policy_mean(r["unsupported"], "care_home_admission_rate"))
    return [still - programme, ratio, still, programme]


# --------------------------------------------------------------------------- scenarios

_FRESH = {"time.burn_in_weeks": 0, "context.initial_trust": 0.1}
_CONTRACTS = {"formal": "required", "informal": "none"}
_CONTEXTS = {"diverse": {"context.culture_spread": 0.35},
             "similar": {"context.culture_spread": 0.05},
             "high_trust": {"context.initial_trust": 0.9},
             "low_trust": {"context.initial_trust": 0.1}}
_SUPPLY = {"shortage": PresetValue("workforce", "shortage", "labour_supply"), "plenty": 1.3}
_STYLES = {"realist": "enthusiastic_realist", "denier": "enthusiastic_denier"}
#: Priority concentrations of pattern 10 (Dirichlet): aligned and competing priorities.
_ALIGNED, _COMPETING = 20.0, 0.5
#: The status quo continued: the burn-in's rules (sim.regimes.STATUS_QUO) after the
#: switch, every lever read from that constant; its label is a valid folder name.
STATUS_QUO_CONTINUED: dict[str, Any] = {
    **{f"regime.{f.name}": getattr(STATUS_QUO, f.name)
       for f in dataclasses.fields(RegimeConfig) if f.name != "name"},
    "regime.name": "status_quo"}

#: Pattern 12: demand growth per year that makes demand grow 12% over five years
#: (1.12 ** (1 / 5) - 1), the published growth of emergency admissions in areas with
#: neither programme, 2013-2018 [CAL]; the admissions themselves are measured.
ADMISSIONS_DEMAND_GROWTH = round(1.12 ** (1 / 5) - 1, 4)
#: Pattern 12's collaboration programme: the locally led regime (locally designed, like
#: the vanguards the published figures come from).
PROGRAMME = "local"
#: Pattern 12's published figures [CAL] (BMC Health Services Research 2021; Rushcliffe,
#: Wakefield, Sutton), share over five years and rate ratio.
GROWTH_WITHOUT = (0.12, 0.12)
GROWTH_WITH = (0.035, 0.088)
CARE_HOME_RATIO = (0.60, 1.0)
_GROWTH_POINT = ("one percentage point of five-year growth: a fifth of the smallest "
                 "published gap between areas with and without a programme (12% vs "
                 "3.5-8.8%) (assumption)")
_RATIO_RESOLUTION = ("care_home_admission_rate's smallest meaningful difference over the "
                     "published 0.70 a year: a rate ratio of 0.05")


def _fresh_status_quo(choice: str) -> dict[str, Any]:
    """A system without partnerships (no burn-in) under the status quo's levers, except
    who forms partnerships: ``assigned`` (each provider gets its nearest partner of each
    pathway kind, so every care home has a PCN partner) or ``none`` (nobody has one)."""
    return {**STATUS_QUO_CONTINUED, "time.burn_in_weeks": 0,
            "regime.partner_choice": choice}


_C = "care_coordination"
_B = "mean_belief"
_T = "mean_trust"
_S = "partnership_survival"
#: Pattern 7's smallest asymmetry, in weeks.
ASYMMETRY_WEEKS = 4.0
#: Pattern 8: the distance over which coordination's smallest difference should show (km).
DISTANCE_SPAN_KM = 10.0

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "1_mandates", "Mandates and existing partnerships", "[M23], [HF17]",
        "mandated vs local after the burn-in (the status quo's network in steady state); "
        "and with no burn-in and low initial trust (0.1)",
        {"mandated": {"regime": "mandated"}, "local": {"regime": "local"},
         "mandated_fresh": {"regime": "mandated", **_FRESH},
         "local_fresh": {"regime": "local", **_FRESH}},
        _mandates,
        (Criterion("coordination", "with working local partnerships, mandated minus local "
                   "care_coordination (policy-period mean) < 0", -1, **of_outcome(_C)),
         Criterion("faith", "with working local partnerships, mandated minus local "
                   "mean_belief < 0", -1, **of_outcome(_B)),
         Criterion("no_partnerships", "with no burn-in and low trust, mandated does at least "
                   "as well as local on care_coordination (non-inferiority)", +1,
                   **of_outcome(_C), form="non-inferiority"))),
    Pattern(
        "2_crowding_out", "Crowding out", "[M23], [FJ01]",
        "mandated vs local, same burn-in; among providers with locally chosen "
        "partnerships at the switch, those whose handoffs to those partners were on time "
        "at least as often as the median provider's (partnerships that worked) vs the rest "
        "(groups by what providers experienced, not by the share of chosen partnerships "
        "a mandate ended, which is crowding out's own input)",
        # one policy year is all the measure reads; yearly snapshots hold the switch and
        # the year's end (weeks -1 and 51)
        {regime: {"regime": regime, "time.policy_weeks": M.YEAR,
                  "output.agent_snapshot_every": M.YEAR}
         for regime in ("mandated", "local")},
        _crowding_out,
        (Criterion("faith_drop", "(mandated - local) change in faith over the first policy "
                   "year, providers whose chosen partnerships worked minus the rest, < 0",
                   -1, **of_outcome(_B)),)),
    Pattern(
        "3_contracts", "Contracts", "[M23], [A21]",
        "local regime with contracts required (formality 0.7) vs none; diverse (culture "
        "sd 0.35) vs similar (0.05) cultures; high (0.9) vs low (0.1) initial trust",
        {f"{formal}_{context}": {"regime": "local", "regime.contracts": contracts, **changes}
         for context, changes in _CONTEXTS.items()
         for formal, contracts in _CONTRACTS.items()},
        _contracts,
        (Criterion("survival", "diverse cultures: formal minus informal "
                   "partnership_survival > 0", +1, **of_outcome(_S)),
         Criterion("trust", "diverse cultures: formal minus informal mean_trust > 0", +1,
                   **of_outcome(_T)),
         Criterion("dissimilar_most", "trust gain from contracts larger between diverse "
                   "than similar cultures (difference > 0)", +1, **of_outcome(_T)),
         Criterion("high_trust_shrinks", "survival gain from contracts at high trust "
                   "minus at low trust < 0", -1, **of_outcome(_S)),
         Criterion("coordination", "diverse cultures: formal minus informal "
                   "care_coordination > 0", +1, **of_outcome(_C)),
         Criterion("faith", "diverse cultures: contracts keep faith at least as high as "
                   "informal partnerships, despite their paperwork (non-inferiority on "
                   "mean_belief)", +1, **of_outcome(_B), form="non-inferiority"))),
    Pattern(
        "4_culture", "Culture", "[M23]",
        "culture sd 0.05 vs 0.35 (default regime)",
        {"similar": _CONTEXTS["similar"], "diverse": _CONTEXTS["diverse"]},
        _culture,
        (Criterion("trust", "similar minus diverse mean_trust > 0", +1, **of_outcome(_T)),
         Criterion("coordination", "similar minus diverse care_coordination > 0", +1,
                   **of_outcome(_C)))),
    Pattern(
        "5_leadership", "Leadership under shortage", "[M23]",
        "enthusiastic realists vs enthusiastic deniers, with a shortage (labour supply 0.6) "
        "and with plenty (1.3)",
        {f"{style}_{supply}": {"leadership": preset, "workforce.labour_supply": value}
         for supply, value in _SUPPLY.items() for style, preset in _STYLES.items()},
        _leadership,
        (Criterion("shortage", "with a shortage, realist minus denier mean_belief > 0", +1,
                   **of_outcome(_B)),
         Criterion("small_without", "that gap minus the gap without a shortage > 0", +1,
                   **of_outcome(_B)))),
    Pattern(
        "6_complexity", "Complexity", "[M23]",
        f"a system without partnerships (no burn-in) under the mandate's levers, with "
        f"{COMPLEXITY_LEVELS[0]}, {COMPLEXITY_LEVELS[1]} or {COMPLEXITY_LEVELS[2]} partners "
        "imposed per pathway kind (0: nobody assigned); providers can neither refuse nor "
        "leave. Without the paperwork's growth with the partner count "
        "(paperwork.complexity_partners 1000), coordination keeps rising from 1 to 4 and "
        "the fall fails",
        {f"assigned_{k}": _complexity_scenario(k) for k in COMPLEXITY_LEVELS},
        _complexity,
        (Criterion("rises", f"care_coordination with {COMPLEXITY_LEVELS[1]} imposed partner "
                   f"per kind minus with {COMPLEXITY_LEVELS[0]} > 0", +1, **of_outcome(_C)),
         Criterion("then_falls", f"care_coordination with {COMPLEXITY_LEVELS[1]} minus with "
                   f"{COMPLEXITY_LEVELS[2]} imposed partners per kind > 0", +1,
                   **of_outcome(_C)))),
    Pattern(
        "7_trust_asymmetry", "Trust asymmetry", "[S93], [VH03]",
        f"local regime; a moderate shock: intake falls {SHOCK['intake_loss']:.0%} for "
        f"{SHOCK['weeks']} weeks from policy week {SHOCK['start_week']}; mean_trust's drop "
        "from its level before (mean of 4 weeks) to its lowest point within a year, the "
        "weeks until half the drop was lost, and the weeks from the lowest point until half "
        "was regained",
        {"shocked": {"regime": "local", "shock.start_week": SHOCK["start_week"],
                     "shock.weeks": SHOCK["weeks"],
                     "shock.intake_loss": SHOCK["intake_loss"],
                     # two policy years hold the shock and the recovery the measure reads
                     "time.policy_weeks": 3 * M.YEAR}},
        _trust_asymmetry,
        (Criterion("shock_matters", "the shock lowers mean_trust (drop > 0): the times below "
                   "mean something only if it does", +1, **of_outcome(_T)),
         Criterion("falls_faster", "weeks to regain half the drop minus weeks to lose it > 0",
                   +1, ASYMMETRY_WEEKS, "weeks",
                   "four weeks, a month: the cadence of the monthly performance reports by "
                   "which partners would notice a difference (assumption)"))),
    Pattern(
        "8_distance", "Distance", "[M23]",
        "local regime: partners at the end of the run vs random linked pairs in the same "
        "area (a design property: candidates are the nearest providers) and vs the "
        "candidates each provider chose from (partnerships.candidates nearest per kind: "
        "what a choice without a distance term would not show); on-time share of partner "
        "handoffs against distance, pooled over the last year (every 4 weeks)",
        # weekly snapshots: the measure picks every 4th week of the last year
        {"local": {"regime": "local", "output.agent_snapshot_every": 1}},
        _distance,
        (Criterion("clustered", "mean distance of random linked pairs minus of partners "
                   "(km) > 0", +1, **of_outcome("partner_distance_km"),
                   form="design property"),
         Criterion("nearer_than_candidates", "mean distance of the candidates a provider "
                   "chose from minus of the partner it chose (km) > 0", +1,
                   **of_outcome("partner_distance_km")),
         Criterion("falls_with_distance", "slope of on-time share on distance (per km) < 0",
                   -1, **{**of_outcome(_C, 1 / DISTANCE_SPAN_KM, "per km"),
                          "basis": f"care_coordination's smallest meaningful difference "
                          f"({outcome(_C).smallest_difference:g}) over {DISTANCE_SPAN_KM:g} "
                          "km, about the mean distance between partners in the ICS"}))),
    Pattern(
        "9_monitoring", "Monitoring", "[M23], [HF17]",
        "investment in data maturity (target 0.9) vs none, default regime",
        {"invest": {"monitoring": "invest"}, "flat": {}},
        _monitoring,
        (Criterion("improves", "final-year care_coordination, invest minus none > 0", +1,
                   **of_outcome(_C)),
         Criterion("not_at_once", "that gain minus the gain in the first 13 weeks > 0",
                   +1, **of_outcome(_C)))),
    Pattern(
        "10_ambition", "Ambition", "[M23]",
        "one lever at a time: agreed milestones (shared goals) on vs off at the default "
        "priority concentration; aligned (Dirichlet 20) vs competing (0.5) priorities, "
        "with shared goals on",
        {"goals": {"regime.shared_goals": True},
         "no_goals": {"regime.shared_goals": False},
         "aligned": {"regime.shared_goals": True,
                     "context.priority_concentration": _ALIGNED},
         "competing": {"regime.shared_goals": True,
                       "context.priority_concentration": _COMPETING}},
        _ambition,
        (Criterion("milestones", "without minus with shared goals, quality_spread > 0", +1,
                   **of_outcome("quality_spread")),
         Criterion("aligned_priorities", "competing minus aligned priorities (goals on), "
                   "quality_spread > 0", +1, **of_outcome("quality_spread")))),
    Pattern(
        "11_allocation", "Allocation of resources", "[M23]",
        "the locally led programme vs the status quo continued (the burn-in's rules after "
        "the switch, sim.regimes.STATUS_QUO)",
        {"local": {"regime": "local"}, "status_quo": STATUS_QUO_CONTINUED},
        _allocation,
        (Criterion("workload", "status quo minus local workload_gini > 0", +1,
                   **of_outcome("workload_gini")),
         Criterion("vacancies", "status quo minus local vacancy_rate > 0", +1,
                   **of_outcome("vacancy_rate")))),
    Pattern(
        "12_admissions", "Admissions against published effect sizes", "[CAL]",
        f"demand grows {ADMISSIONS_DEMAND_GROWTH:.2%} a year (12% over five years) from the switch"
        " (the burn-in at today's demand); emergency admissions' growth over the policy period "
        f"(last year over the year before the switch) under the {PROGRAMME} programme vs the "
        "status quo continued; and the care-home admission rate (policy-period mean) in a system "
        "without partnerships (no burn-in, the status quo's levers) where an authority gives "
        "every provider its nearest partner of each pathway kind (every care home a PCN partner) "
        "vs where nobody forms partnerships. Published: +12% growth without a programme, +3.5% to"
        " +8.8% with one (BMC HSR 2021); rate ratios 0.60-1.0 for enhanced support in care homes "
        "(Rushcliffe, Wakefield, Sutton)",
        {"status_quo": {**STATUS_QUO_CONTINUED,
                        "context.demand_growth": ADMISSIONS_DEMAND_GROWTH},
         "programme": {"regime": PROGRAMME,
                       "context.demand_growth": ADMISSIONS_DEMAND_GROWTH},
         "supported": _fresh_status_quo("assigned"),
         "unsupported": _fresh_status_quo("none")},
        _admissions,
        (Criterion("growth_slowed", f"admissions growth, status quo continued minus "
                   f"{PROGRAMME} programme > 0", +1, 0.01, "share over the policy period",
                   _GROWTH_POINT),
         Criterion("care_home_ratio", "care-home admission rate, every care home with a PCN "
                   "partner / none with one, within the published rate ratios", -1, 0.05,
                   "ratio", _RATIO_RESOLUTION, form="published range",
                   published=CARE_HOME_RATIO),
         Criterion("growth_without", "admissions growth under the status quo continued, "
                   "beside the published growth without a programme", +1, 0.01,
                   "share over the policy period", _GROWTH_POINT, form="comparison",
                   published=GROWTH_WITHOUT),
         Criterion("growth_with", f"admissions growth under the {PROGRAMME} programme, "
                   "beside the published growth with one", +1, 0.01,
                   "share over the policy period", _GROWTH_POINT, form="comparison",
                   published=GROWTH_WITH))),
)

#: Other plausible settings at which every pattern is checked again (robustness); a
#: pattern that sets the same key itself keeps its own value.
ROBUSTNESS: dict[str, dict[str, Any]] = {
    "low initial trust (0.2)": {"context.initial_trust": 0.2},
    "high initial trust (0.7)": {"context.initial_trust": 0.7},
    "workforce shortage (labour supply 0.6)": {"workforce.labour_supply": 0.6},
    "no shortage (labour supply 1.3)": {"workforce.labour_supply": 1.3},
}


def pattern(key: str) -> Pattern:
    """The pattern called ``key``.

    Raises:
        KeyError: naming the key and listing the patterns.
    """
    for p in PATTERNS:
        if p.key == key:
            return p
    raise KeyError(f"{key!r} is not a validation pattern; choose from "
                   f"{', '.join(p.key for p in PATTERNS)}")


def choose(keys: Sequence[str] | None) -> list[Pattern]:
    """The patterns named in ``keys`` in the order of :data:`PATTERNS` (all if empty).

    Raises:
        sim.ConfigError: if a key names no pattern (listing them all).
    """
    from sim.config import ConfigError

    known = [p.key for p in PATTERNS]
    unknown = [k for k in keys or () if k not in known]
    if unknown:
        raise ConfigError(f"unknown validation pattern(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(known)}")
    return [p for p in PATTERNS if not keys or p.key in keys]
