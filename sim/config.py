"""The one typed schema of a scenario: every parameter declared once, and its validation.

Each field is made with :func:`sim.paramspec.param` and declares its default, unit,
meaning, allowed range or choices, role (lever, uncertainty, structural, technical),
evidence and, for uncertainties, the plausible range that sensitivity analysis
samples. :func:`parameters` lists them; the ODD's parameter tables, help texts and
sliders derive from them. :func:`validate` checks every value at start, so that a
typo or an absurd value fails before any week is simulated, with a
:class:`ConfigError` that names the key, the value and what is allowed.

Plain nested dicts are the fast way in and out (:func:`from_dict`, :func:`to_dict`,
:func:`set_dotted`); :func:`sim.loading.load_config` composes ``configs/`` with
Hydra and applies overrides on top.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.paramspec import ROLES, Parameter, collect, param

if TYPE_CHECKING:
    import pandas as pd

SHARE = (0.0, 1.0)
#: The systems on which a parameter of England's areas acts (``param(systems=...)``).
ENGLAND_ONLY = ("england",)
LEVER, UNCERTAIN, STRUCTURAL, TECHNICAL = "lever", "uncertainty", "structural", "technical"


class ConfigError(ValueError):
    """A configuration value outside what the schema allows (user error, not a bug)."""


# --------------------------------------------------------------------------- system
@dataclass
class SystemConfig:
    """Which provider population to simulate.

    ``name`` selects a built-in system (``teaching`` ~40 providers, ``ics`` ~400,
    ``england`` ~16,600 over the 42 real integrated care boards, ``england_synthetic``
    as many over 42 random areas) or ``csv`` to load ``path``.
    """

    name: str = param("ics", "-", "built-in system, or csv for your own provider list",
                      role=STRUCTURAL, evidence="[CAL]; Design",
                      choices=("teaching", "ics", "england", "england_synthetic",
                               "csv"))
    path: str | None = param(None, "path", "provider CSV (system=csv only)",
                             role=TECHNICAL, evidence="Technical")
    scale: float = param(1.0, "multiplier", "on built-in provider counts", 0.01, 16.0,
                         role=STRUCTURAL, evidence="[CAL]; Design")
    layout_seed: int | None = param(None, "seed", "seed of the geography; None derives it "
                                    "from the run seed", 0, None,
                                    role=TECHNICAL, evidence="Technical")


# --------------------------------------------------------------------------- time
@dataclass
class TimeConfig:
    """Simulated horizon: a status-quo burn-in, then the regime for ``policy_weeks``."""

    burn_in_weeks: int = param(416, "weeks", "under the status quo before the switch, long "
                               "enough for the partnerships to mature (trust and their number "
                               "change by under 1% a year after year 7 of the status quo)",
                               0, 2080, role=STRUCTURAL, evidence="[M23]; Design")
    policy_weeks: int = param(260, "weeks", "under the regime after the switch", 1, 5200,
                              role=STRUCTURAL, evidence="Design")


# --------------------------------------------------------------------------- context
@dataclass
class ContextConfig:
    """Uncertainties: properties of the world that policy does not choose."""

    # 0.25-0.65: from a system scarred by failed partnerships to one with a history of
    # joint working; MODEL.md's "low" and "high" trust settings fall inside.
    initial_trust: float = param(0.45, "share 0-1", "generalised trust before any "
                                 "partnership", *SHARE, role=UNCERTAIN,
                                 evidence="[AG08]; Assumption", plausible=(0.25, 0.65))
    trust_spread: float = param(0.1, "sd", "of providers' generalised trust (0-1 scale)",
                                0.0, 0.5, role=UNCERTAIN, evidence="[AG08]; Assumption",
                                plausible=(0.05, 0.2))
    # 0.1-0.3: the two settings of experiment=culture
    culture_spread: float = param(0.2, "sd", "of working culture around the area's mean, "
                                  "per dimension (0-1 scale)", 0.0, 0.5, role=UNCERTAIN,
                                  evidence="[M23], [Ax97]; Assumption", plausible=(0.1, 0.3))
    priority_concentration: float = param(
        2.0, "Dirichlet concentration", "of local priorities (high = similar priorities)",
        0.05, 1000.0, role=UNCERTAIN, evidence="[M23]; Assumption", plausible=(0.5, 8.0))
    demand_ratio: float = param(0.8, "ratio", "external demand / capacity of a fully "
                                "staffed provider", 0.1, 3.0, role=UNCERTAIN,
                                evidence="[M23], [CAL]; Calibrated", plausible=(0.7, 0.9))
    # England's demand grows ~2-3% a year; the default (0) isolates the regimes' effects
    demand_growth: float = param(0.0, "share per year", "growth of demand from the regime "
                                 "switch on (the burn-in holds today's demand)", -0.5, 0.5,
                                 role=UNCERTAIN, evidence="[CAL]; Assumption",
                                 plausible=(-0.01, 0.03))
    seasonality: float = param(0.06, "share", "amplitude of the winter peak in demand",
                               0.0, 0.9, role=UNCERTAIN, evidence="Assumption",
                               plausible=(0.02, 0.12))
    initial_quality_spread: float = param(0.12, "sd", "of quality of practice (0-1 scale)",
                                          0.0, 0.5, role=UNCERTAIN,
                                          evidence="[M23]; Assumption",
                                          plausible=(0.06, 0.2))
    # Area context: inert unless the areas are England's ICBs (system=england), so that
    # one-area and synthetic systems are unchanged (sim/area_context.py, ODD "Area context");
    # designs on other systems leave these out (systems=ENGLAND_ONLY).
    regional_labour_market: float = param(
        1.0, "share 0-1", "how far each ICB's turnover and vacancy follow its NHS England "
        "region's published rates relative to England's (0 = every area at the national "
        "rates; system=england only)", *SHARE, role=UNCERTAIN,
        evidence="[RLM]; Assumption", plausible=(0.0, 1.0), systems=ENGLAND_ONLY)
    collaboration_history: float = param(
        0.2, "share 0-1", "how far leaders' enthusiasm (all run) and generalised trust "
        "(at the start) in an ICB with the fullest history of integration programmes (a "
        "pioneer and an early ICS) sit above those in one with none; centred, England's "
        "population-weighted means unchanged (system=england only)",
        *SHARE, role=UNCERTAIN, evidence="[AG08], [M23], [HIST]; Assumption",
        plausible=(0.0, 0.4), systems=ENGLAND_ONLY)
    area_leadership_spread: float = param(
        0.05, "sd", "between ICBs, of each ICB's offset of leaders' enthusiasm and realism "
        "from the national means; centred, population-weighted mean 0 (system=england only)",
        0.0, 0.5, role=UNCERTAIN, evidence="[M23], [A22]; Assumption", plausible=(0.0, 0.1),
        systems=ENGLAND_ONLY)


# --------------------------------------------------------------------------- regime
@dataclass
class RegimeConfig:
    """Policy levers that decide how partnerships form, run and end after the burn-in.

    The four presets ``none``, ``local``, ``mandated`` and ``hybrid`` are files in
    ``configs/regime/``; every lever can also be set on its own.
    """

    name: str = param("local", "text", "label of the preset (used in reports and folder "
                      "names)", role=TECHNICAL, evidence="Technical")
    partner_choice: str = param("local", "-", "who chooses partners", role=LEVER,
                                evidence="[M23], [HF17], [GN06]; Lever",
                                choices=("none", "local", "assigned", "both"))
    maintain: bool = param(True, "flag", "existing partnerships are maintained (upkeep)",
                           role=LEVER, evidence="[VH03]; Lever")
    may_exit: bool = param(True, "flag", "partners may leave a partnership", role=LEVER,
                           evidence="[M23], [HF17]; Lever")
    contracts: str = param("optional", "-", "whether partnerships sign contracts",
                           role=LEVER, evidence="[M23], [A21], [HF17]; Lever",
                           choices=("none", "optional", "required"))
    contract_formality: float = param(0.7, "share 0-1", "formality of a contract (0 "
                                      "informal - 1 formal)", *SHARE, role=LEVER,
                                      evidence="[M23], [A21]; Lever", plausible=(0.0, 1.0))
    existing: str = param("kept", "-", "what happens to existing partnerships at the switch",
                          role=LEVER, evidence="[M23]; Lever",
                          choices=("kept", "superseded"))
    reporting_fte: float = param(0.0, "FTE per week", "per partnership per side, of mandated "
                                 "reporting to the authority (no published estimate of the "
                                 "time a partnership's returns take)", 0.0, 5.0, role=LEVER,
                                 evidence="[M23]; Lever", plausible=(0.0, 0.1))
    priorities: str = param("local", "-", "who sets priorities", role=LEVER,
                            evidence="[M23]; Lever", choices=("local", "national"))
    shared_goals: bool = param(True, "flag", "partnerships agree priorities and milestones",
                               role=LEVER, evidence="[M23], [AG08]; Lever")
    review_weeks: int = param(52, "weeks", "between an assigning authority's reviews of the "
                              "partnerships it assigned, which end failing ones and fill the "
                              "pathways they leave uncovered (0 = never; inert where nobody "
                              "assigns): integrated care boards plan annually", 0, 5200,
                              role=LEVER, evidence="[M23], [HF17]; Lever",
                              plausible=(0.0, 104.0))
    review_target: float = param(0.7, "share 0-1", "on-time share of an assigned "
                                 "partnership's handoffs over a review period below which "
                                 "the authority, if its data show the record, ends it as "
                                 "failing (0 = never ends one)", *SHARE, role=UNCERTAIN,
                                 evidence="[M23], [HF17]; Assumption", plausible=(0.5, 0.9))


# --------------------------------------------------------------------------- levers
@dataclass
class MonitoringConfig:
    """Investment in data maturity (ability to see partners' performance)."""

    initial_maturity: float = param(0.3, "share 0-1", "data maturity at the start", *SHARE,
                                    role=UNCERTAIN, evidence="[M23], [HF17]; Assumption",
                                    plausible=(0.15, 0.45))
    # the slider runs from today's maturity to monitoring=invest's 0.9
    target_maturity: float = param(0.3, "share 0-1", "data maturity that investment builds "
                                   "towards", *SHARE, role=LEVER,
                                   evidence="[M23], [HF17]; Lever", plausible=(0.3, 0.9))
    build_rate: float = param(0.01, "share per week", "of the gap to target closed", 0.0,
                              1.0, role=UNCERTAIN, evidence="[HF17]; Assumption",
                              plausible=(0.005, 0.02))
    build_cost: float = param(0.02, "share of staff time", "per unit of gap while building",
                              0.0, 0.5, role=UNCERTAIN, evidence="[HF17]; Assumption",
                              plausible=(0.01, 0.04))
    max_lag_weeks: int = param(8, "weeks", "lag of observed performance at zero maturity",
                               0, 52, role=UNCERTAIN, evidence="[M23]; Assumption",
                               plausible=(4, 13))
    noise: float = param(0.5, "relative sd", "noise of observations at zero maturity", 0.0,
                         3.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                         plausible=(0.25, 1.0))


@dataclass
class LeadershipConfig:
    """Senior leaders' enthusiasm for collaboration and realism about shortages."""

    enthusiasm: float = param(0.6, "share 0-1", "mean leaders' enthusiasm for collaboration",
                              *SHARE, role=LEVER, evidence="[M23], [A22]; Lever",
                              plausible=(0.2, 0.9))
    realism: float = param(0.5, "share 0-1", "mean leaders' acknowledgement of workforce "
                           "shortages", *SHARE, role=LEVER, evidence="[M23]; Lever",
                           plausible=(0.1, 0.9))
    spread: float = param(0.1, "sd", "of enthusiasm and realism across providers", 0.0, 0.5,
                          role=UNCERTAIN, evidence="Assumption", plausible=(0.05, 0.2))


@dataclass
class WorkforceConfig:
    """Staff leaving and recruitment; ``labour_supply`` is the shortage lever."""

    # workforce=shortage is 0.6
    labour_supply: float = param(1.0, "multiplier", "on recruitment (1 = today's labour "
                                 "market)", 0.0, 5.0, role=LEVER,
                                 evidence="[M23], [CAL]; Lever", plausible=(0.5, 1.5))
    initial_vacancy: float = param(0.1, "share 0-1", "of funded posts vacant at start", 0.0,
                                   0.9, role=UNCERTAIN, evidence="[CAL]; Assumption",
                                   plausible=(0.07, 0.13))
    # The four calibrated rates vary by about a fifth either side: wider and the status
    # quo leaves the published vacancy and turnover ranges of calibration.md.
    turnover_nhs: float = param(0.10, "per year", "leavers per FTE, NHS providers, "
                                "unstressed", 0.0, 2.0, role=UNCERTAIN,
                                evidence="[CAL]; Calibrated", plausible=(0.08, 0.12))
    turnover_social_care: float = param(0.27, "per year", "leavers per FTE, social care, "
                                        "unstressed", 0.0, 2.0, role=UNCERTAIN,
                                        evidence="[CAL]; Calibrated", plausible=(0.23, 0.3))
    fill_rate_nhs: float = param(0.021, "share per week", "of NHS vacancies filled", 0.0,
                                 1.0, role=UNCERTAIN, evidence="[CAL]; Calibrated",
                                 plausible=(0.017, 0.025))
    fill_rate_social_care: float = param(0.05, "share per week", "of social care vacancies "
                                         "filled", 0.0, 1.0, role=UNCERTAIN,
                                         evidence="[CAL]; Calibrated",
                                         plausible=(0.04, 0.06))
    overload_sensitivity: float = param(1.5, "relative rise", "in leaving per unit of "
                                        "sustained overload", 0.0, 20.0, role=UNCERTAIN,
                                        evidence="[M23]; Assumption", plausible=(0.75, 3.0))
    faith_sensitivity: float = param(0.6, "relative fall", "in leaving per unit of faith "
                                     "above 0.5 (no source found shows that faith in "
                                     "collaboration keeps staff; kept as an uncertainty whose "
                                     "range includes almost no effect)", 0.0, 2.0,
                                     role=UNCERTAIN, evidence="Assumption",
                                     plausible=(0.05, 1.0))
    overload_memory_weeks: float = param(13.0, "weeks", "over which overload is remembered",
                                         1.0, 520.0, role=UNCERTAIN, evidence="Assumption",
                                         plausible=(6.0, 26.0))


# --------------------------------------------------------------------------- mechanisms
@dataclass
class HandoffConfig:
    """Handoffs along care pathways (care coordination)."""

    intake_margin: float = param(1.5, "ratio", "intake an NHS provider keeps open for "
                                 "handoffs, relative to its expected inflow", 0.1, 10.0,
                                 role=UNCERTAIN, evidence="Assumption",
                                 plausible=(1.25, 2.0))
    # narrow: delayed discharges respond steeply to it (calibration.md). Calibrated on the
    # median over replicate maps after the eight-year burn-in: at 1.22 the median map had
    # 3.8% of beds delayed and 7.4% NHS vacancies (both below their published ranges), at
    # 1.12 10.6% and 10.8%, at 1.05 13.8% and 12.9% (8 maps each; ODD, Calibration).
    intake_margin_social_care: float = param(1.12, "ratio", "the same for social care (care "
                                             "homes, local authorities), whose capacity "
                                             "limits discharge", 0.1, 10.0, role=UNCERTAIN,
                                             evidence="[CAL]; Calibrated",
                                             plausible=(1.07, 1.18))
    adhoc_base: float = param(1.5, "log-odds", "of an on-time ad hoc handoff", -10.0, 10.0,
                              role=UNCERTAIN, evidence="[CAL]; Calibrated",
                              plausible=(1.0, 2.0))
    partner_base: float = param(1.0, "log-odds", "of an on-time handoff to a partner at "
                                "zero trust", -10.0, 10.0, role=UNCERTAIN,
                                evidence="[CAL]; Calibrated", plausible=(0.5, 1.5))
    # how much relationships matter for coordination: the central mechanism of MODEL.md
    reliance_weight: float = param(2.2, "log-odds per unit", "of reliance (trust or "
                                   "confidence)", 0.0, 20.0, role=UNCERTAIN,
                                   evidence="[M23], [A21]; Assumption",
                                   plausible=(1.0, 3.5))
    formality_weight: float = param(0.6, "log-odds per unit", "of contract formality (role "
                                    "clarity)", 0.0, 20.0, role=UNCERTAIN,
                                    evidence="[M23], [HF17]; Assumption",
                                    plausible=(0.2, 1.2))
    culture_weight: float = param(1.5, "log-odds per unit", "of culture similarity", 0.0,
                                  20.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                  plausible=(0.75, 2.5))
    data_weight: float = param(1.0, "log-odds per unit", "of the two sides' mean data "
                               "maturity (shared records, known requirements)", 0.0, 20.0,
                               role=UNCERTAIN, evidence="[M23]; Assumption",
                               plausible=(0.5, 2.0))
    quality_weight: float = param(2.0, "log-odds per unit", "of the two sides' mean quality "
                                  "of practice above 0.6", 0.0, 20.0, role=UNCERTAIN,
                                  evidence="[M23]; Assumption", plausible=(1.0, 3.0))
    faith_weight: float = param(1.0, "log-odds per unit", "of the two sides' mean staff "
                                "faith above 0.5", 0.0, 20.0, role=UNCERTAIN,
                                evidence="[M23]; Assumption", plausible=(0.5, 2.0))
    distance_scale_km: float = param(40.0, "km", "over which the odds fall by a factor e",
                                     0.1, 1000.0, role=UNCERTAIN,
                                     evidence="[M23]; Assumption", plausible=(20.0, 80.0))
    # structural: it shapes the routes built once at the start, not a behaviour
    adhoc_neighbours: int = param(1, "count", "fewest nearby providers of each kind tried "
                                  "without a relationship", 1, 32, role=STRUCTURAL,
                                  evidence="Assumption")
    partner_preference: float = param(1.0, "relative weight", "in routing of a partner, "
                                      "relative to an ad hoc receiver of equal intake and "
                                      "success", 0.0, 100.0, role=UNCERTAIN,
                                      evidence="[GN06]; Assumption", plausible=(0.5, 2.0))
    delay_resolution: float = param(0.05, "share per week", "of patients waiting for a "
                                    "handoff whose wait ends another way (e.g. discharged "
                                    "home)", 0.0, 1.0, role=UNCERTAIN,
                                    evidence="[CAL]; Calibrated", plausible=(0.035, 0.07))
    renege_rate: float = param(0.25, "share per week", "of waiting backlog that leaves "
                               "unserved", 0.0, 1.0, role=UNCERTAIN, evidence="Assumption",
                               plausible=(0.15, 0.4))


@dataclass
class AidConfig:
    """Mutual aid: trusting partners lend spare staff time."""

    rate: float = param(0.3, "share per week", "of the smaller of slack and need lent at "
                        "full trust", 0.0, 1.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                        plausible=(0.15, 0.5))
    formality_boost: float = param(1.0, "relative rise", "of lending with a formal agreement",
                                   0.0, 10.0, role=UNCERTAIN, evidence="[HF17]; Assumption",
                                   plausible=(0.5, 2.0))
    max_lend_share: float = param(0.5, "share 0-1", "of a lender's slack it may lend in a "
                                  "week", 0.0, 1.0, role=UNCERTAIN, evidence="Assumption",
                                  plausible=(0.3, 0.7))


@dataclass
class TrustConfig:
    """Trust (relational) and confidence (evidence-based) in each direction."""

    gain: float = param(0.04, "share per week", "of the gap to 1 gained per week of good "
                        "experience", 0.0, 1.0, role=UNCERTAIN, evidence="[VH03]; Assumption",
                        plausible=(0.02, 0.08))
    loss: float = param(0.25, "share 0-1", "of trust lost per conflict", 0.0, 1.0,
                        role=UNCERTAIN, evidence="[S93]; Assumption", plausible=(0.15, 0.4))
    contract_softening: float = param(0.6, "share 0-1", "of a conflict's damage a formal "
                                      "contract absorbs", 0.0, 1.0, role=UNCERTAIN,
                                      evidence="[M23], [A21]; Assumption",
                                      plausible=(0.4, 0.8))
    conflict_rate: float = param(0.25, "chance per week", "of a conflict per unit of "
                                 "failure", 0.0, 1.0, role=UNCERTAIN,
                                 evidence="[VH03]; Assumption", plausible=(0.15, 0.4))
    culture_conflict: float = param(2.0, "relative rise", "of conflicts per unit of culture "
                                    "distance", 0.0, 20.0, role=UNCERTAIN,
                                    evidence="[M23]; Assumption", plausible=(1.0, 3.0))
    decay: float = param(0.004, "share per week", "of trust above the provider's baseline "
                         "lost without interaction", 0.0, 1.0, role=UNCERTAIN,
                         evidence="[VH03]; Assumption", plausible=(0.002, 0.008))
    neglect_decay: float = param(0.03, "share per week", "extra decay when partnerships are "
                                 "not maintained", 0.0, 1.0, role=UNCERTAIN,
                                 evidence="[VH03]; Assumption", plausible=(0.015, 0.06))
    win_gain: float = param(0.08, "share 0-1", "of the gap to 1 gained at a milestone "
                            "(small win)", 0.0, 1.0, role=UNCERTAIN,
                            evidence="[AG08], [VH03]; Assumption", plausible=(0.04, 0.15))
    confidence_rate: float = param(0.15, "share per week", "learning rate of confidence at "
                                   "full data maturity", 0.0, 1.0, role=UNCERTAIN,
                                   evidence="[A21]; Assumption", plausible=(0.08, 0.25))
    generalised_rate: float = param(0.002, "share per week", "drift of generalised trust "
                                    "towards experience", 0.0, 1.0, role=UNCERTAIN,
                                    evidence="[AG08]; Assumption", plausible=(0.001, 0.004))


@dataclass
class FaithConfig:
    """Staff faith in collaboration (belief)."""

    rate: float = param(0.03, "share per week", "of the gap to target faith closed", 0.0,
                        1.0, role=UNCERTAIN, evidence="Assumption", plausible=(0.015, 0.06))
    leader_weight: float = param(0.5, "weight 0-1", "of leaders' (credible) enthusiasm in "
                                 "target faith", 0.0, 1.0, role=UNCERTAIN,
                                 evidence="[M23], [A22]; Assumption", plausible=(0.3, 0.7))
    credibility_sensitivity: float = param(3.0, "per unit of overload", "loss of "
                                           "credibility of leaders who deny shortages",
                                           0.0, 50.0, role=UNCERTAIN,
                                           evidence="[M23], [A22]; Assumption",
                                           plausible=(1.5, 5.0))
    overload_erosion: float = param(0.8, "per unit of overload", "fall of target faith",
                                    0.0, 10.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                    plausible=(0.4, 1.2))
    realism_protection: float = param(0.7, "share 0-1", "of overload erosion that realistic "
                                      "leaders avert", 0.0, 1.0, role=UNCERTAIN,
                                      evidence="[M23]; Assumption", plausible=(0.5, 0.9))
    paperwork_erosion: float = param(1.5, "per unit of admin share", "fall of target faith",
                                     0.0, 20.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                     plausible=(0.75, 2.5))
    crowding_out: float = param(0.35, "per unit of autonomy lost", "fall of target faith",
                                0.0, 5.0, role=UNCERTAIN,
                                evidence="[FJ01], [M23]; Assumption", plausible=(0.15, 0.6))
    crowding_recovery_weeks: float = param(156.0, "weeks", "for autonomy loss to fade by a "
                                           "factor e", 1.0, 5200.0, role=UNCERTAIN,
                                           evidence="[FJ01]; Assumption",
                                           plausible=(78.0, 312.0))


@dataclass
class PaperworkConfig:
    """Staff time spent on collaboration paperwork."""

    fte_per_partnership: float = param(0.04, "FTE", "per partnership per side, informal, "
                                       "similar cultures", 0.0, 10.0, role=UNCERTAIN,
                                       evidence="[M23]; Assumption", plausible=(0.02, 0.08))
    formality_cost: float = param(1.0, "relative extra", "cost of a fully formal contract",
                                  0.0, 20.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                  plausible=(0.5, 2.0))
    culture_cost: float = param(1.0, "relative extra", "cost per unit of culture distance",
                                0.0, 20.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                plausible=(0.5, 2.0))
    complexity_partners: float = param(4.0, "partners", "at which coordination overhead "
                                       "doubles the cost of each", 0.1, 1000.0,
                                       role=UNCERTAIN, evidence="[M23]; Assumption",
                                       plausible=(2.0, 8.0))
    # structural: a safety ceiling that rarely binds, not a behaviour
    max_share: float = param(0.6, "share 0-1", "ceiling on the share of staff time on "
                             "paperwork", 0.0, 1.0, role=STRUCTURAL, evidence="Assumption")


@dataclass
class ImprovementConfig:
    """Joint improvement work and best-practice sharing."""

    progress_rate: float = param(0.06, "milestones per week", "at full alignment, trust and "
                                 "faith", 0.0, 5.0, role=UNCERTAIN,
                                 evidence="[M23], [AG08]; Assumption", plausible=(0.03, 0.12))
    no_goals_factor: float = param(0.3, "relative progress", "without agreed goals", 0.0,
                                   1.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                   plausible=(0.1, 0.5))
    sharing_rate: float = param(0.3, "share 0-1", "of the quality gap closed per milestone",
                                0.0, 1.0, role=UNCERTAIN, evidence="[M23]; Assumption",
                                plausible=(0.15, 0.5))


@dataclass
class CultureConfig:
    """Convergence of working cultures between interacting partners."""

    convergence_rate: float = param(0.004, "share per week", "of the culture gap closed "
                                    "while interacting", 0.0, 1.0, role=UNCERTAIN,
                                    evidence="[Ax97]; Assumption", plausible=(0.002, 0.008))


@dataclass
class PartnershipConfig:
    """Forming and ending partnerships."""

    max_partners: int = param(6, "count", "most partners a small provider keeps (scaled up "
                              "by management span for larger ones)", 0, 200, role=UNCERTAIN,
                              evidence="[M23]; Assumption", plausible=(4, 10))
    search_rate: float = param(0.25, "chance per week", "that a provider with full faith and "
                               "enthusiasm looks for a partner", 0.0, 1.0, role=UNCERTAIN,
                               evidence="[M23], [A22]; Assumption", plausible=(0.1, 0.4))
    # structural: the size of the neighbour lists built once at the start
    candidates: int = param(3, "count", "nearest providers of each pathway kind considered",
                            1, 32, role=STRUCTURAL, evidence="[M23]; Assumption")
    risk_threshold: float = param(0.55, "value", "a candidate must exceed to be accepted",
                                  -5.0, 5.0, role=UNCERTAIN,
                                  evidence="[A21], [GN06]; Assumption", plausible=(0.4, 0.7))
    value_trust: float = param(1.0, "weight", "of prior trust in a candidate's value", 0.0,
                               10.0, role=UNCERTAIN, evidence="[GN06]; Assumption",
                               plausible=(0.5, 1.5))
    value_culture: float = param(0.5, "weight", "of culture similarity in a candidate's "
                                 "value", 0.0, 10.0, role=UNCERTAIN,
                                 evidence="[M23], [Ax97]; Assumption", plausible=(0.25, 1.0))
    value_alignment: float = param(0.3, "weight", "of aligned priorities in a candidate's "
                                   "value", 0.0, 10.0, role=UNCERTAIN,
                                   evidence="[M23]; Assumption", plausible=(0.15, 0.6))
    value_burden: float = param(3.0, "weight", "of the expected admin share a new "
                                "partnership adds", 0.0, 100.0, role=UNCERTAIN,
                                evidence="[M23]; Assumption", plausible=(1.5, 5.0))
    value_distance_km: float = param(40.0, "km", "over which a candidate's value falls by 1",
                                     0.1, 10000.0, role=UNCERTAIN,
                                     evidence="[M23]; Assumption", plausible=(20.0, 80.0))
    exit_threshold: float = param(0.2, "share 0-1", "trust below which a partner leaves",
                                  0.0, 1.0, role=UNCERTAIN,
                                  evidence="[GN06], [A21]; Assumption", plausible=(0.1, 0.3))
    exit_rate: float = param(0.1, "chance per week", "that a partner below the threshold "
                             "leaves", 0.0, 1.0, role=UNCERTAIN,
                             evidence="[GN06]; Assumption", plausible=(0.05, 0.2))
    # a lever: how many partners a mandate assigns is the authority's choice
    assigned_per_kind: int = param(1, "count", "partners of each pathway kind an authority "
                                   "assigns", 1, 10, role=LEVER, evidence="[M23]; Lever",
                                   plausible=(1, 3))


@dataclass
class AdmissionsConfig:
    """Emergency admissions avoided by proactive support from primary and community care.

    A share of the emergency admissions that care homes, PCNs and community trusts send
    to acute trusts is avoided in proportion to the support the sender receives (its
    best working partnership with a supporting kind; ``sim.dynamics.admissions``).
    Each share is the share avoided at full support (trust 1 both ways); 0 switches the
    channel off for those senders.
    """

    # Rushcliffe's enhanced support: rate ratio 0.60 for emergency admissions [L19], so at
    # most ~40% avoidable; Wakefield 27% fewer avoidable admissions, Sutton no clear
    # effect [CAL]: the low end near 0.
    care_home_avoidable: float = param(0.3, "share 0-1", "of care homes' emergency "
                                       "admissions avoided at full support from PCNs and "
                                       "community trusts", *SHARE, role=UNCERTAIN,
                                       evidence="[L19], [CAL]; Assumption",
                                       plausible=(0.1, 0.45))
    # Ambulatory-care-sensitive conditions are ~20% of emergency admissions [B13], an upper
    # bound on what support avoids; not all of them are avoidable, hence half by default.
    # Below 1: community trusts are fully supported at the status quo, so a share of 1
    # would mean they admit no one today and infinitely many without support.
    primary_avoidable: float = param(0.1, "share 0-1", "of PCNs' and community trusts' "
                                     "emergency admissions avoided at full support from "
                                     "each other", 0.0, 0.9, role=UNCERTAIN,
                                     evidence="[B13]; Assumption", plausible=(0.0, 0.2))


@dataclass
class ShockConfig:
    """A temporary loss of intake across the system (e.g. a winter crisis or an IT outage).

    For ``weeks`` weeks from ``start_week`` (counted from the regime switch), every
    provider's intake for handoffs falls by ``intake_loss``: handoffs fail, partners
    quarrel, and trust is tested. Off by default: a stress test a scenario switches on
    (structural), not an uncertainty that sensitivity analysis samples.
    """

    start_week: int = param(0, "week", "of the shock, counted from the regime switch",
                            -5200, 5200, role=STRUCTURAL, evidence="Design")
    weeks: int = param(0, "weeks", "the shock lasts (0 = no shock)", 0, 520,
                       role=STRUCTURAL, evidence="Design")
    intake_loss: float = param(0.8, "share 0-1", "of intake lost while it lasts", *SHARE,
                               role=STRUCTURAL, evidence="[S93], [VH03]; Design")


@dataclass
class OutputConfig:
    """What is collected and shown."""

    agent_snapshot_every: int = param(0, "weeks", "between per-provider snapshots (0 = "
                                      "none)", 0, 5200, role=TECHNICAL, evidence="Technical")
    progress_bar: bool = param(False, "flag", "show a progress bar over weeks",
                               role=TECHNICAL, evidence="Technical")


# --------------------------------------------------------------------------- root
@dataclass
class SimConfig:
    """A whole scenario. ``SimConfig()`` is the default: the ICS system, locally led."""

    seed: int = param(0, "seed", "root seed (0 is a valid seed)", 0, 2**63 - 1,
                      role=TECHNICAL, evidence="Technical")
    replicate: int = param(0, "index", "the run's random stream is the replicate-th child of "
                           "the root seed, shared by every scenario of a sweep (common "
                           "random numbers)", 0, 10**9, role=TECHNICAL, evidence="Technical")
    system: SystemConfig = field(default_factory=SystemConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    leadership: LeadershipConfig = field(default_factory=LeadershipConfig)
    workforce: WorkforceConfig = field(default_factory=WorkforceConfig)
    handoffs: HandoffConfig = field(default_factory=HandoffConfig)
    aid: AidConfig = field(default_factory=AidConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    faith: FaithConfig = field(default_factory=FaithConfig)
    paperwork: PaperworkConfig = field(default_factory=PaperworkConfig)
    improvement: ImprovementConfig = field(default_factory=ImprovementConfig)
    culture: CultureConfig = field(default_factory=CultureConfig)
    partnerships: PartnershipConfig = field(default_factory=PartnershipConfig)
    admissions: AdmissionsConfig = field(default_factory=AdmissionsConfig)
    shock: ShockConfig = field(default_factory=ShockConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def __post_init__(self) -> None:
        validate(self)


# --------------------------------------------------------------------------- parameters
@functools.cache
def _all_parameters() -> tuple[Parameter, ...]:
    return collect(SimConfig)


def parameters(role: str | None = None) -> list[Parameter]:
    """The schema's parameters in schema order, optionally only those of one role.

    Args:
        role: ``"lever"``, ``"uncertainty"``, ``"structural"``, ``"technical"`` or
            ``None`` for all.

    Raises:
        ConfigError: for an unknown role, listing the roles.
    """
    if role is not None and role not in ROLES:
        raise ConfigError(f"role={role!r} is not a parameter role; choose one of "
                          f"{', '.join(ROLES)}")
    return [p for p in _all_parameters() if role is None or p.role == role]


def parameter(key: str) -> Parameter:
    """The declaration of one dotted key, e.g. ``parameter("context.initial_trust")``.

    Raises:
        ConfigError: for an unknown key, naming close matches.
    """
    for p in _all_parameters():
        if p.key == key:
            return p
    check_key(key)
    raise ConfigError(f"{key} is a section, not a parameter; its parameters are "
                      f"{', '.join(key + '.' + n for n in sections()[key])}")


@functools.cache
def sections() -> dict[str, list[str]]:
    """Section name (``""`` for the root, ``"context"``, ...) -> the names directly inside."""
    out: dict[str, list[str]] = {"": []}
    for p in _all_parameters():
        parts = p.key.split(".")
        for depth in range(len(parts)):
            parent, name = ".".join(parts[:depth]), parts[depth]
            out.setdefault(parent, [])
            if name not in out[parent]:
                out[parent].append(name)
    return out


def check_key(key: str) -> None:
    """Raise ConfigError, naming close matches, unless ``key`` is a parameter or a section.

    The message lists the valid names of the deepest section that exists on the way
    (``contxt.initial_trust`` -> the root's; ``context.inital_trust`` -> context's).
    """
    if key in sections() or any(p.key == key for p in _all_parameters()):
        return
    parts = key.split(".")
    depth = 0
    while depth < len(parts) - 1 and ".".join(parts[:depth + 1]) in sections():
        depth += 1
    parent = ".".join(parts[:depth])
    raise ConfigError(unknown_key_message([key], sections()[parent],
                                          parent + "." if parent else ""))


def parameters_frame(role: str | None = None) -> pd.DataFrame:
    """:func:`parameters` as a table (one row per parameter), for notebooks.

    Columns are the fields of :class:`sim.Parameter`, with ``plausible`` split into
    ``plausible_low`` and ``plausible_high`` (NaN where none is declared).
    """
    import pandas as pd

    rows = []
    for p in parameters(role):
        row = dataclasses.asdict(p)
        plausible = row.pop("plausible")
        row["plausible_low"], row["plausible_high"] = plausible or (math.nan, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- validation
def _describe(meta: Any) -> str:
    """``(unit): meaning`` of a field's declaration, as validation messages show it."""
    unit, meaning = meta.get("unit", ""), meta.get("meaning", "")
    return f"({unit}): {meaning}" if meaning else f"({unit})"


def _check_field(path: str, value: Any, meta: Any) -> None:
    """Raise ConfigError if ``value`` breaks the range or choices declared for ``path``."""
    if value is None:
        return
    choices = meta.get("choices")
    if choices is not None:
        if value not in choices:
            raise ConfigError(f"{path}={value!r} is not allowed; choose one of "
                              f"{', '.join(choices)}")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    low, high = meta.get("low"), meta.get("high")
    allowed = (f"allowed [{'-inf' if low is None else f'{low:g}'}, "
               f"{'inf' if high is None else f'{high:g}'}] {_describe(meta)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}={value!r} must be a finite number; {allowed}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{path}={value!r} is out of range; {allowed}")


def _check_type(path: str, value: Any, annotation: Any) -> None:
    """Reject a value whose type does not match the field's annotation (Python-built configs)."""
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if value is None:
        if "None" not in kind:
            raise ConfigError(f"{path} must not be empty (null)")
        return
    if kind.startswith("list"):
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        want = "a list of names"
    elif "bool" in kind:
        ok = isinstance(value, bool)
        want = "true or false"
    elif "int" in kind and "float" not in kind:
        ok = isinstance(value, int) and not isinstance(value, bool)
        want = "a whole number"
    elif "float" in kind:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        want = "a number"
    elif "str" in kind:
        ok = isinstance(value, str)
        want = "text"
    else:
        return
    if not ok:
        raise ConfigError(f"{path}={value!r} must be {want}")


def _walk(obj: Any, prefix: str = "") -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _walk(value, path + ".")
        else:
            _check_type(path, value, f.type)
            _check_field(path, value, f.metadata)


def validate(config: SimConfig) -> SimConfig:
    """Check every value against its declared range and the levers against each other.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    _walk(config)
    system = config.system
    if system.name == "csv" and not system.path:
        raise ConfigError("system.path is required when system.name='csv' "
                          "(give system.path=FILE with a provider CSV)")
    if system.name != "csv" and system.path:
        raise ConfigError(f"system.path={system.path!r} is only used with system=csv; "
                          f"got system.name={system.name!r}")
    regime = config.regime
    if not re.fullmatch(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*", regime.name) or ".." in regime.name:
        raise ConfigError(f"regime.name={regime.name!r} is not allowed: it names result "
                          "folders, so use letters, digits and _ . + - only (no '/' or '..')")
    if regime.contracts == "required" and regime.contract_formality == 0.0:
        raise ConfigError("regime.contracts='required' with regime.contract_formality=0 is "
                          "contradictory; set a formality in (0, 1] or contracts='none'")
    return config


def unknown_key_message(keys: list[str], valid: list[str], prefix: str = "") -> str:
    """``unknown key(s) a.b (did you mean a.c?); valid keys: ...`` for keys under ``prefix``.

    Args:
        keys: the unknown dotted keys.
        valid: the names valid at that level (or full dotted keys).
        prefix: the section they were found in, with its dot (``"context."``), or ``""``.
    """
    hints = []
    for key in keys:
        leaf = key[len(prefix):] if prefix and key.startswith(prefix) else key
        head, dot, rest = leaf.partition(".")  # the first name that is not valid
        close = difflib.get_close_matches(head, valid, n=3, cutoff=0.6)
        if close:
            hints.append(f"{key} (did you mean "
                         f"{' or '.join(prefix + c + dot + rest for c in close)}?)")
        else:
            hints.append(key)
    return f"unknown key(s) {', '.join(hints)}; valid keys: {', '.join(sorted(valid))}"


# --------------------------------------------------------------------------- dicts
def to_sim_config(cfg: Any) -> SimConfig:
    """Turn a composed DictConfig (or plain dict) into a validated :class:`SimConfig`.

    Keys Hydra adds (``hydra``) and sweep bookkeeping outside the schema are dropped.
    """
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        data = OmegaConf.to_container(cfg, resolve=True)
    else:
        data = dict(cfg)
    data = {k: v for k, v in data.items() if k != "hydra"}
    return from_dict(data)


def from_dict(data: dict) -> SimConfig:
    """Build a validated SimConfig from nested dicts; absent keys take their defaults.

    This is the fast path (no Hydra): ``from_dict({"context": {"initial_trust": 0.3}})``.
    ``data`` is not modified and not kept.

    Raises:
        ConfigError: for an unknown key (naming close matches and the valid keys), a
            wrong type, a value out of range, or contradictory levers.
    """
    return _build(SimConfig, data, "")


def _build(cls: type, data: dict, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got "
                          f"{type(data).__name__}")
    layout = _layout(cls)
    unknown = sorted(set(data) - set(layout))
    if unknown:
        raise ConfigError(unknown_key_message([prefix + u for u in unknown], list(layout),
                                              prefix))
    obj = cls.__new__(cls)
    # Fill defaults, then the given values; validation runs once, at the root.
    for name, (f, section) in layout.items():
        if name in data:
            value = data[name]
            if section is not None:
                value = _build(section, value, f"{prefix}{name}.")
            else:
                value = _coerce(f"{prefix}{name}", value, f)
        elif section is not None:
            value = section()
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            value = f.default
        setattr(obj, name, value)
    if cls is SimConfig:
        validate(obj)
    return obj


@functools.cache
def _layout(cls: type) -> dict[str, tuple[dataclasses.Field, type | None]]:
    """Each field of ``cls`` with the dataclass of its section (None for a leaf)."""
    out = {}
    for f in dataclasses.fields(cls):
        sub = (f.default_factory() if f.default_factory is not dataclasses.MISSING
               else None)
        out[f.name] = (f, type(sub) if dataclasses.is_dataclass(sub) else None)
    return out


def _coerce(path: str, value: Any, f: dataclasses.Field) -> Any:
    """Check a leaf's type against the field's annotation; whole numbers pass as floats."""
    _check_type(path, value, f.type)
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if "float" in kind and isinstance(value, int):
        return float(value)
    return value


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted == "a.b"`` in nested config dicts.

    The sections on the way must exist (a KeyError names the first one that does not);
    the leaf is created or replaced. Nothing is validated until :func:`from_dict`.
    """
    *parents, leaf = dotted.split(".")
    for p in parents:
        data = data[p]
    data[leaf] = value


def to_dict(config: SimConfig) -> dict:
    """The config as plain nested dicts (for YAML/JSON provenance); ``from_dict`` inverts it."""
    return dataclasses.asdict(config)


# --------------------------------------------------------------------------- Hydra
CONFIG_GROUPS = ("system", "regime", "workforce", "leadership", "monitoring")


def config_dir() -> Path:
    """Folder of the Hydra config tree (``configs/`` in a checkout, packaged in a wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "configs", here / "_configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no Hydra configs found next to {here}")


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore so that ``configs/config.yaml`` is typed."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="sim_schema", node=SimConfig)
