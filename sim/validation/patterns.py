"""The eleven patterns of MODEL.md: what each compares, how it is measured, what must hold.

A pattern names its scenarios (dotted-key changes over the base scenario; a config
group's key selects a preset of ``configs/``), a measure that turns one replicate's
results (one :class:`sim.RunResult` per scenario, all sharing that replicate's random
streams) into one effect per criterion, and its criteria, each stated before running.

A criterion passes when the 95% interval of its effect over paired replicates lies
beyond its *smallest meaningful effect* in the stated direction. Today every
``smallest_effect`` is 0 (the interval must only exclude zero); restating a criterion
(issue 17) means changing that one number here.

Nothing here tunes the model: patterns must emerge from the mechanisms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.runner import RunResult
from sim.stats import Interval
from sim.validation import measures as M
from sim.validation.scenarios import PresetValue


@dataclass(frozen=True)
class Criterion:
    """One check, stated before running.

    Attributes:
        name: short key, unique within its pattern.
        statement: the criterion in words (the report's and the JSON's wording).
        direction: +1 if the effect must be positive, -1 if negative.
        smallest_effect: the smallest effect that matters, in the effect's own unit
            (>= 0); the interval must clear it in ``direction``.
    """

    name: str
    statement: str
    direction: int
    smallest_effect: float = 0.0

    def __post_init__(self) -> None:
        if self.direction not in (-1, 1):
            raise ValueError(f"criterion {self.name}: direction={self.direction!r}; "
                             "allowed -1 or +1")
        if not self.smallest_effect >= 0:
            raise ValueError(f"criterion {self.name}: smallest_effect="
                             f"{self.smallest_effect!r} must be >= 0 (direction gives the sign)")

    def passes(self, interval: Interval) -> bool:
        """True if the whole interval lies beyond ``smallest_effect`` in ``direction``."""
        if self.direction > 0:
            return bool(interval.low > self.smallest_effect)
        return bool(interval.high < -self.smallest_effect)


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
    # the burn-in is the same under both regimes (common random numbers): either will do
    had = M.with_working_partnership(r["mandated"], switch)
    if had.all() or not had.any():
        return [float("nan")]
    return [float(drop[had].mean() - drop[~had].mean())]


def _contracts(r: Mapping[str, RunResult]) -> list[float]:
    def gain(context: str, column: str) -> float:
        return (M.policy_mean(r[f"formal_{context}"], column)
                - M.policy_mean(r[f"informal_{context}"], column))

    gain_diverse = gain("diverse", "mean_trust")
    return [gain("diverse", "partnership_survival"),
            gain_diverse,
            gain_diverse - gain("similar", "mean_trust"),
            gain("high_trust", "partnership_survival")
            - gain("low_trust", "partnership_survival")]


def _culture(r: Mapping[str, RunResult]) -> list[float]:
    return [M.policy_mean(r["similar"], c) - M.policy_mean(r["diverse"], c)
            for c in ("mean_trust", "care_coordination")]


def _leadership(r: Mapping[str, RunResult]) -> list[float]:
    def gap(supply: str) -> float:
        return (M.policy_mean(r[f"realist_{supply}"], "mean_belief")
                - M.policy_mean(r[f"denier_{supply}"], "mean_belief"))

    short = gap("shortage")
    return [short, short - gap("plenty")]


COMPLEXITY_LEVELS = (1, 8, 48)


def _complexity(r: Mapping[str, RunResult]) -> list[float]:
    low, mid, high = (M.policy_mean(r[f"max_{k}"], "care_coordination")
                      for k in COMPLEXITY_LEVELS)
    return [mid - low, mid - high]


SHOCK = {"start_week": 26, "weeks": 8}


def _trust_asymmetry(r: Mapping[str, RunResult]) -> list[float]:
    s, k = SHOCK["start_week"], SHOCK["weeks"]
    shocked = r["shocked"]
    before, bottom, after = (M.weekly_value(shocked, "mean_trust", w)
                             for w in (s - 1, s + k - 1, s + 2 * k - 1))
    fall, recovery = before - bottom, after - bottom
    return [fall - recovery]


#: Random pairs drawn for pattern 8's geography without choice.
RANDOM_PAIRS = 20000


def _distance(r: Mapping[str, RunResult]) -> list[float]:
    local = r["local"]
    weeks = M.last_year_every(local, 4)  # pooled: every 4th week of the last year
    rng = np.random.default_rng(local.config.replicate)
    d_random = M.random_pair_distance(local, RANDOM_PAIRS, rng)
    return [d_random - M.partner_distance(local, weeks[-1]), M.on_time_slope(local, weeks)]


def _monitoring(r: Mapping[str, RunResult]) -> list[float]:
    end = r["flat"].config.time.policy_weeks - 1

    def gain(first: int, last: int) -> float:
        return (M.policy_mean(r["invest"], "care_coordination", first, last)
                - M.policy_mean(r["flat"], "care_coordination", first, last))

    early, late = gain(0, 12), gain(end - M.YEAR + 1, end)
    return [late, late - early]


def _ambition(r: Mapping[str, RunResult]) -> list[float]:
    return [M.policy_mean(r["competing"], "quality_spread")
            - M.policy_mean(r["aligned"], "quality_spread")]


def _allocation(r: Mapping[str, RunResult]) -> list[float]:
    return [M.policy_mean(r["none"], c) - M.policy_mean(r["local"], c)
            for c in ("workload_gini", "vacancy_rate")]


# --------------------------------------------------------------------------- scenarios

_FRESH = {"time.burn_in_weeks": 0, "context.initial_trust": 0.1}
_CONTRACTS = {"formal": "required", "informal": "none"}
_CONTEXTS = {"diverse": {"context.culture_spread": 0.35},
             "similar": {"context.culture_spread": 0.05},
             "high_trust": {"context.initial_trust": 0.9},
             "low_trust": {"context.initial_trust": 0.1}}
_SUPPLY = {"shortage": PresetValue("workforce", "shortage", "labour_supply"), "plenty": 1.3}
_STYLES = {"realist": "enthusiastic_realist", "denier": "enthusiastic_denier"}

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "1_mandates", "Mandates and existing partnerships", "[M23], [HF17]",
        "mandated vs local after a 2-year burn-in; and with no burn-in and low initial "
        "trust (0.1)",
        {"mandated": {"regime": "mandated"}, "local": {"regime": "local"},
         "mandated_fresh": {"regime": "mandated", **_FRESH},
         "local_fresh": {"regime": "local", **_FRESH}},
        _mandates,
        (Criterion("coordination", "with working local partnerships, mandated minus local "
                   "care_coordination (policy-period mean) < 0", -1),
         Criterion("faith", "with working local partnerships, mandated minus local "
                   "mean_belief < 0", -1),
         Criterion("no_partnerships", "with no burn-in and low trust, mandated minus local "
                   "care_coordination > 0 (at least as well)", +1))),
    Pattern(
        "2_crowding_out", "Crowding out", "[M23], [FJ01]",
        "mandated vs local, same burn-in; providers with and without working local "
        "partnerships (mean trust >= 0.5) at the switch",
        # one policy year is all the measure reads; yearly snapshots hold the switch and
        # the year's end (weeks -1 and 51)
        {regime: {"regime": regime, "time.policy_weeks": M.YEAR,
                  "output.agent_snapshot_every": M.YEAR}
         for regime in ("mandated", "local")},
        _crowding_out,
        (Criterion("faith_drop", "(mandated - local) change in faith over the first policy "
                   "year, providers with working partnerships minus those without, < 0",
                   -1),)),
    Pattern(
        "3_contracts", "Contracts", "[M23], [A21]",
        "local regime with contracts required (formality 0.7) vs none; diverse (culture "
        "sd 0.35) vs similar (0.05) cultures; high (0.9) vs low (0.1) initial trust",
        {f"{formal}_{context}": {"regime": "local", "regime.contracts": contracts, **changes}
         for context, changes in _CONTEXTS.items()
         for formal, contracts in _CONTRACTS.items()},
        _contracts,
        (Criterion("survival", "diverse cultures: formal minus informal "
                   "partnership_survival > 0", +1),
         Criterion("trust", "diverse cultures: formal minus informal mean_trust > 0", +1),
         Criterion("dissimilar_most", "trust gain from contracts larger between diverse "
                   "than similar cultures (difference > 0)", +1),
         Criterion("high_trust_shrinks", "survival gain from contracts at high trust "
                   "minus at low trust < 0", -1))),
    Pattern(
        "4_culture", "Culture", "[M23]",
        "culture sd 0.05 vs 0.35 (default regime)",
        {"similar": _CONTEXTS["similar"], "diverse": _CONTEXTS["diverse"]},
        _culture,
        (Criterion("trust", "similar minus diverse mean_trust > 0", +1),
         Criterion("coordination", "similar minus diverse care_coordination > 0", +1))),
    Pattern(
        "5_leadership", "Leadership under shortage", "[M23]",
        "enthusiastic realists vs enthusiastic deniers, with a shortage (labour supply 0.6) "
        "and with plenty (1.3)",
        {f"{style}_{supply}": {"leadership": preset, "workforce.labour_supply": value}
         for supply, value in _SUPPLY.items() for style, preset in _STYLES.items()},
        _leadership,
        (Criterion("shortage", "with a shortage, realist minus denier mean_belief > 0", +1),
         Criterion("small_without", "that gap minus the gap without a shortage > 0", +1))),
    Pattern(
        "6_complexity", "Complexity", "[M23]",
        f"local regime, at most {COMPLEXITY_LEVELS} partners per small provider, "
        "providers joining up to the limit (no weight on expected paperwork when choosing)",
        {f"max_{k}": {"regime": "local", "partnerships.max_partners": k,
                      "partnerships.candidates": 16, "partnerships.value_burden": 0.0}
         for k in COMPLEXITY_LEVELS},
        _complexity,
        (Criterion("rises", f"care_coordination at {COMPLEXITY_LEVELS[1]} minus at "
                   f"{COMPLEXITY_LEVELS[0]} partners > 0", +1),
         Criterion("then_falls", f"care_coordination at {COMPLEXITY_LEVELS[1]} minus at "
                   f"{COMPLEXITY_LEVELS[2]} partners > 0", +1))),
    Pattern(
        "7_trust_asymmetry", "Trust asymmetry", "[S93], [VH03]",
        f"local regime; intake falls 80% for {SHOCK['weeks']} weeks from policy week "
        f"{SHOCK['start_week']}",
        {"shocked": {"regime": "local", "shock.start_week": SHOCK["start_week"],
                     "shock.weeks": SHOCK["weeks"], "shock.intake_loss": 0.8}},
        _trust_asymmetry,
        (Criterion("falls_faster", f"mean_trust lost over the {SHOCK['weeks']} shock weeks "
                   f"minus regained over the next {SHOCK['weeks']} > 0", +1),)),
    Pattern(
        "8_distance", "Distance", "[M23]",
        "local regime: partners at the end of the run vs random linked pairs in the same "
        "area; on-time share of partner handoffs against distance, pooled over the last "
        "year (every 4 weeks)",
        # weekly snapshots: the measure picks every 4th week of the last year
        {"local": {"regime": "local", "output.agent_snapshot_every": 1}},
        _distance,
        (Criterion("clustered", "mean distance of random linked pairs minus of partners "
                   "(km) > 0", +1),
         Criterion("falls_with_distance", "slope of on-time share on distance (per km) "
                   "< 0", -1))),
    Pattern(
        "9_monitoring", "Monitoring", "[M23], [HF17]",
        "investment in data maturity (target 0.9) vs none, default regime",
        {"invest": {"monitoring": "invest"}, "flat": {}},
        _monitoring,
        (Criterion("improves", "final-year care_coordination, invest minus none > 0", +1),
         Criterion("not_at_once", "that gain minus the gain in the first 13 weeks > 0",
                   +1))),
    Pattern(
        "10_ambition", "Ambition", "[M23]",
        "agreed milestones and aligned priorities (Dirichlet 20) vs no milestones and "
        "competing priorities (Dirichlet 0.5)",
        {"aligned": {"regime.shared_goals": True, "context.priority_concentration": 20.0},
         "competing": {"regime.shared_goals": False, "context.priority_concentration": 0.5}},
        _ambition,
        (Criterion("spreads_practice", "competing minus aligned quality_spread > 0", +1),)),
    Pattern(
        "11_allocation", "Allocation of resources", "[M23]",
        "local regime vs none (no collaboration support)",
        {"local": {"regime": "local"}, "none": {"regime": "none"}},
        _allocation,
        (Criterion("workload", "none minus local workload_gini > 0", +1),
         Criterion("vacancies", "none minus local vacancy_rate > 0", +1))),
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
