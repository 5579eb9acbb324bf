"""Schema validation: a typo or an absurd value fails at start, naming the key and the fix.

Both ways of building a config are covered: nested dicts through
:func:`sim.config.from_dict` (no Hydra) and Hydra composition of ``configs/``
through :func:`sim.load_config`.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from hydra.errors import HydraException
from omegaconf import OmegaConf

import sim
from sim.config import (
    CONFIG_GROUPS,
    ConfigError,
    ContextConfig,
    RegimeConfig,
    SimConfig,
    TimeConfig,
    from_dict,
    load_config,
    to_dict,
    validate,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
EXAMPLE_CSV = CONFIGS / "system" / "example_providers.csv"
SHORT = ["system=teaching", "time.burn_in_weeks=26", "time.policy_weeks=26"]


def nested(key: str, value: object) -> dict:
    """``"context.initial_trust", 0.7`` -> ``{"context": {"initial_trust": 0.7}}``."""
    *groups, leaf = key.split(".")
    data: dict = {leaf: value}
    for group in reversed(groups):
        data = {group: data}
    return data


def meta(key: str) -> dict:
    """The ``param(...)`` metadata (unit, low, high, choices) of a dotted key."""
    cls: type = SimConfig
    *groups, leaf = key.split(".")
    for group in groups:
        f = {f.name: f for f in dataclasses.fields(cls)}[group]
        cls = type(f.default_factory())
    return dict({f.name: f for f in dataclasses.fields(cls)}[leaf].metadata)


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


# --------------------------------------------------------------------------- defaults
def test_default_config_is_valid() -> None:
    config = SimConfig()
    assert validate(config) is config
    assert config.seed == 0
    assert config.system.name == "ics"


def test_hydra_defaults_match_the_schema_defaults() -> None:
    # configs/config.yaml promises "the default scenario"; it must be SimConfig().
    assert load_config() == SimConfig()


def test_round_trip_through_plain_dicts() -> None:
    config = load_config(["system=teaching", "regime=mandated", "seed=12"])
    assert from_dict(to_dict(config)) == config


def test_hydra_and_dicts_build_the_same_config() -> None:
    via_hydra = load_config([*SHORT, "regime=hybrid", "context.initial_trust=0.7", "seed=4"])
    data = {"seed": 4, "system": {"name": "teaching"},
            "time": {"burn_in_weeks": 26, "policy_weeks": 26},
            "context": {"initial_trust": 0.7},
            "regime": OmegaConf.to_container(OmegaConf.load(CONFIGS / "regime" / "hybrid.yaml"))}
    assert via_hydra == from_dict(data)


# --------------------------------------------------------------------------- groups
GROUP_CASES = [(g, o) for g in CONFIG_GROUPS for o in options(g)]


def test_every_group_has_options() -> None:
    for group in CONFIG_GROUPS:
        assert options(group), f"configs/{group}/ has no option files"
    assert {"teaching", "ics", "england", "csv"} <= set(options("system"))
    assert {"none", "local", "mandated", "hybrid"} <= set(options("regime"))


@pytest.mark.parametrize(("group", "option"), GROUP_CASES,
                         ids=[f"{g}={o}" for g, o in GROUP_CASES])
def test_every_group_option_composes(group: str, option: str) -> None:
    overrides = [f"{group}={option}"]
    if (group, option) == ("system", "csv"):
        overrides.append(f"system.path={EXAMPLE_CSV}")
    config = load_config(overrides)
    assert isinstance(config, SimConfig)
    chosen = getattr(config, group)
    for key, value in OmegaConf.to_container(OmegaConf.load(
            CONFIGS / group / f"{option}.yaml")).items():
        if value == "???":  # mandatory, given on the command line
            continue
        assert getattr(chosen, key) == value, f"{group}={option}: {key}"


EXPERIMENTS = options("experiment")


@pytest.mark.parametrize("name", EXPERIMENTS or [
    pytest.param(None, marks=pytest.mark.skip(reason="no files in configs/experiment/ yet"))])
def test_every_experiment_composes(name: str) -> None:
    assert isinstance(load_config(["system=teaching"], experiment=name), SimConfig)


# --------------------------------------------------------------------------- ranges
OUT_OF_RANGE = [
    ("context.initial_trust", 1.5),
    ("context.initial_trust", -0.1),
    ("context.demand_ratio", 0.0),
    ("context.demand_growth", -0.75),
    ("workforce.labour_supply", -1.0),
    ("trust.loss", 1.01),
    ("handoffs.distance_scale_km", 0.0),
    ("regime.reporting_fte", 6.0),
    ("monitoring.target_maturity", 2.0),
    ("system.scale", 100.0),
    ("partnerships.max_partners", -1),
    ("partnerships.max_partners", 201),
    ("monitoring.max_lag_weeks", 53),
    ("time.policy_weeks", 0),
    ("time.burn_in_weeks", -4),
    ("system.layout_seed", -3),
    ("seed", -1),
]


def assert_names_range(message: str, key: str, value: object) -> None:
    m = meta(key)
    assert f"{key}={value!r}" in message
    assert f"{m['low']:g}" in message
    if m["high"] is not None:
        assert f"{m['high']:g}" in message


@pytest.mark.parametrize(("key", "value"), OUT_OF_RANGE, ids=[f"{k}={v}" for k, v in OUT_OF_RANGE])
def test_out_of_range_from_dict(key: str, value: float) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(nested(key, value))
    assert_names_range(str(info.value), key, value)


@pytest.mark.parametrize(("key", "value"), OUT_OF_RANGE, ids=[f"{k}={v}" for k, v in OUT_OF_RANGE])
def test_out_of_range_through_hydra(key: str, value: float) -> None:
    with pytest.raises(ConfigError) as info:
        load_config([f"{key}={value}"])
    assert_names_range(str(info.value), key, value)


def test_out_of_range_in_the_dataclass_itself() -> None:
    with pytest.raises(ConfigError, match=r"context\.initial_trust=1\.5"):
        SimConfig(context=ContextConfig(initial_trust=1.5))


def test_range_bounds_are_inclusive() -> None:
    config = from_dict({"context": {"initial_trust": 1.0, "demand_ratio": 0.1},
                        "partnerships": {"max_partners": 200}, "time": {"burn_in_weeks": 0}})
    assert config.context.initial_trust == 1.0 and config.time.burn_in_weeks == 0


NON_FINITE = [
    ("context.initial_trust", math.nan),
    ("context.demand_ratio", math.inf),
    ("handoffs.adhoc_base", -math.inf),
    ("workforce.overload_memory_weeks", math.nan),
]


@pytest.mark.parametrize(("key", "value"), NON_FINITE, ids=[f"{k}={v}" for k, v in NON_FINITE])
def test_non_finite_rejected(key: str, value: float) -> None:
    for build in (lambda: from_dict(nested(key, value)),
                  lambda: load_config([f"{key}={value}"])):
        with pytest.raises(ConfigError) as info:
            build()
        message = str(info.value)
        assert "finite" in message
        assert_names_range(message, key, value)


# --------------------------------------------------------------------------- types
WRONG_TYPES = [
    ("context.initial_trust", "high", "number"),
    ("context.initial_trust", "0.5", "number"),
    ("context.initial_trust", True, "number"),
    ("partnerships.max_partners", 2.5, "whole number"),
    ("partnerships.max_partners", 3.0, "whole number"),
    ("time.burn_in_weeks", "52", "whole number"),
    ("regime.maintain", 1, "true or false"),
    ("regime.may_exit", "yes", "true or false"),
    ("regime.contracts", 3, "text"),
    ("context.demand_ratio", None, "empty"),
]


@pytest.mark.parametrize(("key", "value", "words"), WRONG_TYPES,
                         ids=[f"{k}={v!r}" for k, v, _ in WRONG_TYPES])
def test_wrong_type_from_dict(key: str, value: object, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(nested(key, value))
    message = str(info.value)
    assert key in message and words in message


def test_ints_are_accepted_as_floats() -> None:
    config = from_dict({"context": {"demand_ratio": 1}})
    assert config.context.demand_ratio == 1.0 and isinstance(config.context.demand_ratio, float)


def test_group_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="context must be a mapping"):
        from_dict({"context": 0.5})


HYDRA_WRONG_TYPES = ["context.initial_trust=abc", "partnerships.max_partners=1.5",
                     "time.burn_in_weeks=3.0", "regime.maintain=maybe"]


@pytest.mark.parametrize("override", HYDRA_WRONG_TYPES)
def test_wrong_type_through_hydra(override: str) -> None:
    with pytest.raises(HydraException) as info:
        load_config([override])
    assert override.split("=")[0] in str(info.value)


@pytest.mark.parametrize("config", [
    lambda: SimConfig(context=ContextConfig(initial_trust="0.5")),
    lambda: SimConfig(time=TimeConfig(burn_in_weeks=2.5)),
    lambda: SimConfig(regime=RegimeConfig(maintain="no")),
], ids=["str-for-float", "float-for-int", "str-for-bool"])
def test_wrong_type_in_the_dataclass_itself(config) -> None:
    with pytest.raises(ConfigError):
        config()


# --------------------------------------------------------------------------- unknown keys
@pytest.mark.parametrize(("data", "key", "valid"), [
    ({"context": {"foo": 1}}, "context.foo", "initial_trust"),
    ({"context": {"initial_trsut": 0.5}}, "context.initial_trsut", "initial_trust"),
    ({"foo": 1}, "foo", "context"),
    ({"regime": {"exit": True}}, "regime.exit", "may_exit"),
])
def test_unknown_key_from_dict(data: dict, key: str, valid: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(data)
    message = str(info.value)
    assert "unknown key" in message and key in message
    assert "valid keys" in message and valid in message  # the list of valid ones


@pytest.mark.parametrize("override", ["context.foo=1", "context.initial_trsut=0.5", "foo=1"])
def test_unknown_key_through_hydra(override: str) -> None:
    # Hydra's structured config rejects it with its own error type.
    with pytest.raises(HydraException) as info:
        load_config([override])
    assert override.split("=")[0].split(".")[-1] in str(info.value)


def test_unknown_key_appended_through_hydra_is_caught_by_the_schema() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) context\.foo; valid keys: .*"
                       r"initial_trust"):
        load_config(["+context.foo=1"])


# --------------------------------------------------------------------------- choices
@pytest.mark.parametrize(("key", "value"), [
    ("regime.contracts", "sometimes"),
    ("regime.partner_choice", "random"),
    ("regime.existing", "merged"),
    ("regime.priorities", "regional"),
    ("system.name", "wales"),
])
def test_unknown_choice_lists_the_allowed(key: str, value: str) -> None:
    allowed = meta(key)["choices"]
    for build in (lambda: from_dict(nested(key, value)),
                  lambda: load_config([f"{key}={value}"])):
        with pytest.raises(ConfigError) as info:
            build()
        message = str(info.value)
        assert f"{key}={value!r}" in message
        assert all(choice in message for choice in allowed), message


@pytest.mark.parametrize(("group", "option"), [("regime", "sometimes"), ("system", "wales")])
def test_unknown_group_option_lists_the_available(group: str, option: str) -> None:
    with pytest.raises(HydraException) as info:
        load_config([f"{group}={option}"])
    message = str(info.value)
    assert option in message
    assert all(o in message for o in options(group))


# --------------------------------------------------------------------------- levers
CONTRADICTIONS = {
    "required-informal-contract": ({"regime": {"contracts": "required",
                                               "contract_formality": 0.0}},
                                   ["regime.contracts", "regime.contract_formality"]),
    "local-reviews": ({"regime": {"review_weeks": 52, "partner_choice": "local"}},
                      ["regime.review_weeks", "local"]),
    "path-without-csv": ({"system": {"name": "teaching", "path": str(EXAMPLE_CSV)}},
                         ["system.path", "teaching"]),
}


@pytest.mark.parametrize("case", CONTRADICTIONS, ids=list(CONTRADICTIONS))
def test_contradictory_levers_rejected(case: str) -> None:
    data, words = CONTRADICTIONS[case]
    with pytest.raises(ConfigError) as info:
        from_dict(data)
    for word in words:
        assert word in str(info.value)


def test_contradiction_through_hydra() -> None:
    with pytest.raises(ConfigError, match="regime.contracts='required' with "
                       "regime.contract_formality=0 is contradictory"):
        load_config(["regime=mandated", "regime.contract_formality=0"])


@pytest.mark.parametrize("data", [
    {"regime": {"partner_choice": "local"}, "partnerships": {"max_partners": 0}},
    {"regime": {"contracts": "required", "contract_formality": 0.01}},
    {"regime": {"contracts": "none", "contract_formality": 0.0}},
    {"regime": {"existing": "superseded", "partner_choice": "both"}},
    {"regime": {"existing": "superseded", "partner_choice": "assigned"}},
])
def test_neighbouring_lever_combinations_are_valid(data: dict) -> None:
    assert isinstance(from_dict(data), SimConfig)


def test_csv_system_needs_a_path() -> None:
    with pytest.raises(ConfigError, match="system.path is required"):
        from_dict({"system": {"name": "csv"}})
    with pytest.raises(ConfigError, match="system.path is required"):
        load_config(["system=csv"])
    config = load_config(["system=csv", f"system.path={EXAMPLE_CSV}"])
    assert config.system.name == "csv" and config.system.path == str(EXAMPLE_CSV)


# --------------------------------------------------------------------------- seeds
def test_seed_zero_is_a_seed() -> None:
    zero = load_config([*SHORT, "seed=0"])
    assert zero.seed == 0
    first, again = sim.run(zero), sim.run(zero)
    other = sim.run(load_config([*SHORT, "seed=1"]))
    assert first.seed == 0
    assert first.weekly.equals(again.weekly)  # 0 is not "no seed": it is reproducible
    assert not first.weekly.equals(other.weekly)  # and it is not the same as seed 1
    assert sim.run(zero, seed=0).weekly.equals(first.weekly)


def test_largest_seed_is_valid() -> None:
    assert from_dict({"seed": 2**63 - 1}).seed == 2**63 - 1
