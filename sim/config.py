"""The one typed schema for every parameter, its validation and its Hydra registration.

Every field carries its unit and its allowed range in ``metadata``; :func:`validate`
checks them all at start, so a typo or an absurd value fails before any week is
simulated. Hydra rejects unknown keys and wrong types through the structured
config registered in :func:`register_configs`.

Context parameters (what the world does: initial trust, culture spread, demand)
live in :class:`ContextConfig`; policy levers (what policy chooses) live in
:class:`RegimeConfig`, :class:`MonitoringConfig`, :class:`LeadershipConfig` and
:class:`WorkforceConfig`'s ``labour_supply``; mechanism coefficients live in the
remaining groups.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARE = (0.0, 1.0)


def param(default: Any, unit: str, low: float | None = None, high: float | None = None,
          choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its unit and allowed range recorded for validation."""
    meta = {"unit": unit, "low": low, "high": high, "choices": choices}
    return field(default=default, metadata=meta)


class ConfigError(ValueError):
    """A configuration value outside what the schema allows (user error, not a bug)."""


# --------------------------------------------------------------------------- system
@dataclass
class SystemConfig:
    """Which provider population to simulate.

    ``name`` selects a built-in system (``teaching`` ~40 providers, ``ics`` ~400,
    ``england`` ~16,000 over 42 areas) or ``csv`` to load ``path``.
    """

    name: str = param("ics", "-", choices=("teaching", "ics", "england", "csv"))
    path: str | None = param(None, "path to a provider CSV (system=csv only)")
    scale: float = param(1.0, "multiplier on built-in provider counts", 0.01, 16.0)
    layout_seed: int | None = param(
        None, "seed of the geography; None derives it from the run seed", 0, None)


# --------------------------------------------------------------------------- time
@dataclass
class TimeConfig:
    """Simulated horizon: a status-quo burn-in, then the regime for ``policy_weeks``."""

    burn_in_weeks: int = param(416, "weeks", 0, 2080)
    policy_weeks: int = param(260, "weeks", 1, 5200)


# --------------------------------------------------------------------------- context
@dataclass
class ContextConfig:
    """Uncertainties: properties of the world that policy does not choose."""

    initial_trust: float = param(0.45, "share 0-1: generalised trust before any partnership",
                                 *SHARE)
    trust_spread: float = param(0.1, "sd of providers' generalised trust", 0.0, 0.5)
    culture_spread: float = param(0.2, "sd of working culture around the area's mean, per "
                                  "dimension (0-1 scale)", 0.0, 0.5)
    priority_concentration: float = param(
        2.0, "Dirichlet concentration of local priorities (high = similar priorities)",
        0.05, 1000.0)
    demand_ratio: float = param(0.8, "external demand / capacity of a fully staffed provider",
                                0.1, 3.0)
    demand_growth: float = param(0.0, "demand growth per year (share)", -0.5, 0.5)
    seasonality: float = param(0.06, "amplitude of the winter peak in demand (share)", 0.0, 0.9)
    initial_quality_spread: float = param(0.12, "sd of quality of practice (0-1 scale)",
                                          0.0, 0.5)


# --------------------------------------------------------------------------- regime
@dataclass
class RegimeConfig:
    """Policy levers that decide how partnerships form, run and end after the burn-in.

    The four presets ``none``, ``local``, ``mandated`` and ``hybrid`` are files in
    ``configs/regime/``; every lever can also be set on its own.
    """

    name: str = param("local", "label of the preset (free text, used in reports)")
    partner_choice: str = param("local", "who chooses partners",
                                choices=("none", "local", "assigned", "both"))
    maintain: bool = param(True, "whether existing partnerships are maintained (upkeep)")
    may_exit: bool = param(True, "whether partners may leave a partnership")
    contracts: str = param("optional", "contracts", choices=("none", "optional", "required"))
    contract_formality: float = param(0.7, "formality of a contract (0 informal - 1 formal)",
                                      *SHARE)
    existing: str = param("kept", "what happens to existing partnerships at the switch",
                          choices=("kept", "superseded"))
    reporting_fte: float = param(0.0, "FTE per partnership per side per week of mandated "
                                 "reporting", 0.0, 5.0)
    priorities: str = param("local", "who sets priorities", choices=("local", "national"))
    shared_goals: bool = param(True, "partnerships agree priorities and milestones")
    review_weeks: int = param(0, "weeks between an authority's reviews of the partnerships it "
                              "assigned, ending failing ones and assigning replacements "
                              "(0 = never)", 0, 5200)
    review_target: float = param(0.0, "on-time share of a provider's handoffs to a kind, "
                                 "over a review period, below which the authority assigns "
                                 "it one more partner of that kind (0 = never adds)", *SHARE)


# --------------------------------------------------------------------------- levers
@dataclass
class MonitoringConfig:
    """Investment in data maturity (ability to see partners' performance)."""

    initial_maturity: float = param(0.3, "share 0-1", *SHARE)
    target_maturity: float = param(0.3, "share 0-1 that investment builds towards", *SHARE)
    build_rate: float = param(0.01, "share of the gap to target closed per week", 0.0, 1.0)
    build_cost: float = param(0.02, "share of staff time per unit of gap while building",
                              0.0, 0.5)
    max_lag_weeks: int = param(8, "weeks of lag at zero maturity", 0, 52)
    noise: float = param(0.5, "relative noise of observations at zero maturity", 0.0, 3.0)


@dataclass
class LeadershipConfig:
    """Senior leaders' enthusiasm for collaboration and realism about shortages."""

    enthusiasm: float = param(0.6, "mean share 0-1", *SHARE)
    realism: float = param(0.5, "mean share 0-1: acknowledging workforce shortages", *SHARE)
    spread: float = param(0.1, "sd across providers", 0.0, 0.5)


@dataclass
class WorkforceConfig:
    """Staff leaving and recruitment; ``labour_supply`` is the shortage lever."""

    labour_supply: float = param(1.0, "multiplier on recruitment (1 = today's labour market)",
                                 0.0, 5.0)
    initial_vacancy: float = param(0.1, "share of funded posts vacant at start", 0.0, 0.9)
    turnover_nhs: float = param(0.10, "leavers per FTE per year, NHS providers, unstressed",
                                0.0, 2.0)
    turnover_social_care: float = param(0.27, "leavers per FTE per year, social care, "
                                        "unstressed", 0.0, 2.0)
    fill_rate_nhs: float = param(0.021, "share of NHS vacancies filled per week", 0.0, 1.0)
    fill_rate_social_care: float = param(0.05, "share of social care vacancies filled per "
                                         "week", 0.0, 1.0)
    overload_sensitivity: float = param(1.5, "relative rise in leaving per unit of sustained "
                                        "overload", 0.0, 20.0)
    faith_sensitivity: float = param(0.6, "relative fall in leaving per unit of faith above "
                                     "0.5", 0.0, 2.0)
    overload_memory_weeks: float = param(13.0, "weeks over which overload is remembered",
                                         1.0, 520.0)


# --------------------------------------------------------------------------- mechanisms
@dataclass
class HandoffConfig:
    """Handoffs along care pathways (care coordination)."""

    intake_margin: float = param(1.5, "intake an NHS provider keeps open for handoffs, "
                                 "relative to its expected inflow", 0.1, 10.0)
    intake_margin_social_care: float = param(1.22, "the same for social care (care homes, "
                                             "local authorities), whose capacity limits "
                                             "discharge", 0.1, 10.0)
    adhoc_base: float = param(1.5, "log-odds of an on-time ad hoc handoff", -10.0, 10.0)
    partner_base: float = param(1.0, "log-odds of an on-time handoff to a partner at zero "
                                "trust", -10.0, 10.0)
    reliance_weight: float = param(2.2, "log-odds per unit of reliance (trust or confidence)",
                                   0.0, 20.0)
    formality_weight: float = param(0.6, "log-odds per unit of contract formality (role "
                                    "clarity)", 0.0, 20.0)
    culture_weight: float = param(1.5, "log-odds per unit of culture similarity", 0.0, 20.0)
    data_weight: float = param(1.0, "log-odds per unit of the two sides' mean data maturity "
                               "(shared records, known requirements)", 0.0, 20.0)
    quality_weight: float = param(2.0, "log-odds per unit of the two sides' mean quality of "
                                  "practice above 0.6", 0.0, 20.0)
    faith_weight: float = param(1.0, "log-odds per unit of the two sides' mean staff faith "
                                "above 0.5", 0.0, 20.0)
    distance_scale_km: float = param(40.0, "km over which the odds fall by a factor e",
                                     0.1, 1000.0)
    adhoc_neighbours: int = param(1, "fewest nearby providers of each kind tried without a "
                                  "relationship", 1, 32)
    partner_preference: float = param(1.0, "routing weight of a partner relative to an ad hoc "
                                      "receiver of equal intake and success", 0.0, 100.0)
    delay_resolution: float = param(0.05, "share of patients waiting for a handoff whose wait "
                                    "ends another way each week (e.g. discharged home)",
                                    0.0, 1.0)
    renege_rate: float = param(0.25, "share of waiting backlog that leaves unserved per week",
                               0.0, 1.0)


@dataclass
class AidConfig:
    """Mutual aid: trusting partners lend spare staff time."""

    rate: float = param(0.3, "share of the smaller of slack and need lent per week at full "
                        "trust", 0.0, 1.0)
    formality_boost: float = param(1.0, "relative rise of lending with a formal agreement",
                                   0.0, 10.0)
    max_lend_share: float = param(0.5, "share of a lender's slack it may lend in a week",
                                  0.0, 1.0)


@dataclass
class TrustConfig:
    """Trust (relational) and confidence (evidence-based) in each direction."""

    gain: float = param(0.04, "share of the gap to 1 gained per week of good experience",
                        0.0, 1.0)
    loss: float = param(0.25, "share of trust lost per conflict", 0.0, 1.0)
    contract_softening: float = param(0.6, "share of a conflict's damage a formal contract "
                                      "absorbs", 0.0, 1.0)
    conflict_rate: float = param(0.25, "weekly chance of a conflict per unit of failure",
                                 0.0, 1.0)
    culture_conflict: float = param(2.0, "relative rise of conflicts per unit of culture "
                                    "distance", 0.0, 20.0)
    decay: float = param(0.004, "share of trust above the provider's baseline lost per week "
                         "without interaction", 0.0, 1.0)
    neglect_decay: float = param(0.03, "extra weekly decay when partnerships are not "
                                 "maintained", 0.0, 1.0)
    win_gain: float = param(0.08, "share of the gap to 1 gained at a milestone (small win)",
                            0.0, 1.0)
    confidence_rate: float = param(0.15, "weekly learning rate of confidence at full data "
                                   "maturity", 0.0, 1.0)
    generalised_rate: float = param(0.002, "weekly drift of generalised trust to experience",
                                    0.0, 1.0)


@dataclass
class FaithConfig:
    """Staff faith in collaboration (belief)."""

    rate: float = param(0.03, "share of the gap to target closed per week", 0.0, 1.0)
    leader_weight: float = param(0.5, "weight of leaders' (credible) enthusiasm", 0.0, 1.0)
    credibility_sensitivity: float = param(3.0, "loss of credibility per unit of overload for "
                                           "leaders who deny shortages", 0.0, 50.0)
    overload_erosion: float = param(0.8, "fall of target faith per unit of overload", 0.0,
                                    10.0)
    realism_protection: float = param(0.7, "share of overload erosion that realistic leaders "
                                      "avert", 0.0, 1.0)
    paperwork_erosion: float = param(1.5, "fall of target faith per unit of admin share",
                                     0.0, 20.0)
    crowding_out: float = param(0.35, "fall of target faith per unit of autonomy lost", 0.0,
                                5.0)
    crowding_recovery_weeks: float = param(156.0, "weeks for autonomy loss to fade by a "
                                           "factor e", 1.0, 5200.0)


@dataclass
class PaperworkConfig:
    """Staff time spent on collaboration paperwork."""

    fte_per_partnership: float = param(0.04, "FTE per partnership per side, informal, similar "
                                       "cultures", 0.0, 10.0)
    formality_cost: float = param(1.0, "relative extra cost of a fully formal contract", 0.0,
                                  20.0)
    culture_cost: float = param(1.0, "relative extra cost per unit of culture distance", 0.0,
                                20.0)
    complexity_partners: float = param(4.0, "partners at which coordination overhead doubles "
                                       "the cost of each", 0.1, 1000.0)
    max_share: float = param(0.6, "ceiling on the share of staff time on paperwork", 0.0, 1.0)


@dataclass
class ImprovementConfig:
    """Joint improvement work and best-practice sharing."""

    progress_rate: float = param(0.06, "milestones per week at full alignment, trust and "
                                 "faith", 0.0, 5.0)
    no_goals_factor: float = param(0.3, "relative progress without agreed goals", 0.0, 1.0)
    sharing_rate: float = param(0.3, "share of the quality gap closed per milestone", 0.0,
                                1.0)


@dataclass
class CultureConfig:
    """Convergence of working cultures between interacting partners."""

    convergence_rate: float = param(0.004, "share of the culture gap closed per week of "
                                    "interaction", 0.0, 1.0)


@dataclass
class PartnershipConfig:
    """Forming and ending partnerships."""

    max_partners: int = param(6, "most partners a small provider keeps (scaled up by "
                              "management span for larger ones)", 0, 200)
    search_rate: float = param(0.25, "weekly chance a provider with full faith and "
                               "enthusiasm looks for a partner", 0.0, 1.0)
    candidates: int = param(3, "nearest providers of each pathway kind considered", 1, 32)
    risk_threshold: float = param(0.55, "value a candidate must exceed to be accepted", -5.0,
                                  5.0)
    value_trust: float = param(1.0, "weight of prior trust in a candidate", 0.0, 10.0)
    value_culture: float = param(0.5, "weight of culture similarity", 0.0, 10.0)
    value_alignment: float = param(0.3, "weight of aligned priorities", 0.0, 10.0)
    value_burden: float = param(3.0, "weight of the expected admin share a new partnership "
                                "adds", 0.0, 100.0)
    value_distance_km: float = param(40.0, "km over which a candidate's value falls by 1",
                                     0.1, 10000.0)
    exit_threshold: float = param(0.2, "trust below which a partner leaves", 0.0, 1.0)
    exit_rate: float = param(0.1, "weekly chance a partner below threshold leaves", 0.0, 1.0)
    assigned_per_kind: int = param(1, "partners of each pathway kind an authority assigns",
                                   1, 10)


@dataclass
class ShockConfig:
    """A temporary loss of intake across the system (e.g. a winter crisis or an IT outage).

    For ``weeks`` weeks from ``start_week`` (counted from the regime switch), every
    provider's intake for handoffs falls by ``intake_loss``: handoffs fail, partners
    quarrel, and trust is tested. Off by default.
    """

    start_week: int = param(0, "week of the shock, counted from the regime switch", -5200,
                            5200)
    weeks: int = param(0, "weeks the shock lasts (0 = no shock)", 0, 520)
    intake_loss: float = param(0.8, "share of intake lost while it lasts", *SHARE)


@dataclass
class OutputConfig:
    """What is collected and shown."""

    agent_snapshot_every: int = param(0, "weeks between per-provider snapshots (0 = none)",
                                      0, 5200)
    progress_bar: bool = param(False, "show a progress bar over weeks")


@dataclass
class ValidationConfig:
    """The validation task (``collabsim experiment=validation``): patterns and calibration."""

    replicates: int = param(20, "paired replicates per pattern at the defaults", 2, 10000)
    robustness_replicates: int = param(10, "paired replicates per robustness setting "
                                       "(0 = skip robustness)", 0, 10000)
    workers: int = param(2, "parallel processes", 1, 256)
    patterns: list[str] = field(default_factory=list)  # pattern keys; empty = all eleven


# --------------------------------------------------------------------------- root
@dataclass
class SimConfig:
    """A whole scenario. ``SimConfig()`` is the default: the ICS system, locally led."""

    seed: int = param(0, "root seed (0 is a valid seed)", 0, 2**63 - 1)
    replicate: int = param(0, "replicate index: the run's random stream is the replicate-th "
                           "child of the root seed, shared by every scenario of a sweep "
                           "(common random numbers)", 0, 10**9)
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
    shock: ShockConfig = field(default_factory=ShockConfig)
    task: str = param("run", "what collabsim does with the scenario: simulate it, or run the "
                      "validation suite around it", choices=("run", "validation"))
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def __post_init__(self) -> None:
        validate(self)


# --------------------------------------------------------------------------- validation
def _check_field(path: str, value: Any, meta: dict, type_: Any) -> None:
    """Raise ConfigError if ``value`` breaks the range or choices recorded for ``path``."""
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
               f"{'inf' if high is None else f'{high:g}'}] ({meta.get('unit')})")
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
            _check_field(path, value, dict(f.metadata), f.type)


def validate(config: SimConfig) -> SimConfig:
    """Check every value against its recorded range and the levers against each other.

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
    if regime.review_weeks and regime.partner_choice not in ("assigned", "both"):
        raise ConfigError(f"regime.review_weeks={regime.review_weeks} needs partner_choice "
                          f"'assigned' or 'both' (got {regime.partner_choice!r}): only an "
                          "authority that assigns partnerships reviews them")
    return config


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
    """Build a SimConfig from nested dicts, rejecting unknown keys by name."""
    return _build(SimConfig, data, "")


def _build(cls: type, data: dict, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got "
                          f"{type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(prefix + u for u in unknown)}; "
                          f"valid keys: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in data.items():
        f = fields[name]
        sub = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(sub):
            kwargs[name] = _build(type(sub), value, f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(f"{prefix}{name}", value, f)
    obj = cls.__new__(cls)
    # Fill defaults first, then the given values; validation runs once at the root.
    for name, f in fields.items():
        if name in kwargs:
            setattr(obj, name, kwargs[name])
        elif f.default_factory is not dataclasses.MISSING:
            setattr(obj, name, f.default_factory())
        else:
            setattr(obj, name, f.default)
    if cls is SimConfig:
        validate(obj)
    return obj


def _coerce(path: str, value: Any, f: dataclasses.Field) -> Any:
    """Check a leaf's type against the field's annotation; whole numbers pass as floats."""
    _check_type(path, value, f.type)
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if "float" in kind and isinstance(value, int):
        return float(value)
    return value


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted == "a.b"`` in nested config dicts."""
    *parents, leaf = dotted.split(".")
    for p in parents:
        data = data[p]
    data[leaf] = value


def to_dict(config: SimConfig) -> dict:
    """The config as plain nested dicts (for YAML/JSON provenance)."""
    return dataclasses.asdict(config)


def load_config(overrides: list[str] | None = None, experiment: str | None = None) -> SimConfig:
    """Compose ``configs/`` with Hydra overrides from Python (notebooks, tests, scripts).

    Args:
        overrides: Hydra override strings, e.g. ``["system=teaching", "regime=mandated"]``.
        experiment: name of a file in ``configs/experiment/`` to apply first.

    Returns:
        A validated SimConfig. Sweep settings of an experiment are ignored here.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    overrides = list(overrides or [])
    if experiment:
        overrides.insert(0, f"experiment={experiment}")  # configs: `experiment: null`
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    return to_sim_config(cfg)
