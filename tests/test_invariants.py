"""Invariants that hold for every valid scenario, checked over random configs (hypothesis).

The strategy follows the schema: it reads each field's ``low``/``high``/``choices``
from ``dataclasses.fields(...).metadata``, so a new parameter is exercised as soon
as it is declared. Regimes are the four presets or random lever settings that pass
:func:`sim.config.validate`. Each example steps the teaching system through a short
burn-in and policy period and checks the state every few weeks.

More examples: ``COLLABSIM_HYPOTHESIS_EXAMPLES=500 uv run pytest tests/test_invariants.py``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

import sim
from sim import COLUMNS, OUTCOMES, CollaborationModel
from sim.config import ConfigError, SimConfig, from_dict
from sim.kinds import KIND_NAMES
from sim.outcomes import BY_KIND, BY_KIND_COLUMNS, Week, WeekFlows, measure

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MAX_EXAMPLES = int(os.environ.get("COLLABSIM_HYPOTHESIS_EXAMPLES", "25"))
CHECK_EVERY = 5  # weeks

#: Outcomes that may be NaN in a week: those whose registry entry says when.
MAY_BE_UNDEFINED = {o.name for o in OUTCOMES if o.undefined}

#: Groups not drawn at random: system, time and output are set separately (to keep
#: runs short) and the regime has its own strategy. Every other group, including any
#: added later, is drawn from its metadata.
FIXED_GROUPS = ("seed", "system", "time", "output", "regime")


def schema_fields(cls: type = SimConfig, prefix: str = "") -> dict[str, dataclasses.Field]:
    """Every leaf field of the schema by dotted key."""
    out = {}
    for f in dataclasses.fields(cls):
        sub = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(sub):
            out.update(schema_fields(type(sub), f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = f
    return out


FIELDS = schema_fields()


def value_strategy(f: dataclasses.Field) -> st.SearchStrategy | None:
    """Values the schema allows for one field (None for free text)."""
    m, kind = f.metadata, str(f.type)
    if m.get("choices"):
        return st.sampled_from(m["choices"])
    if "bool" in kind:
        return st.booleans()
    low, high = m.get("low"), m.get("high")
    if "int" in kind and "float" not in kind:
        return st.integers(int(low), int(high if high is not None else low + 1000))
    if "float" in kind:
        return st.floats(low, high if high is not None else low + 1000.0,
                         allow_nan=False, allow_infinity=False)
    return None


#: Values the schema allows that break the model, each to be pinned by an xfail test;
#: the strategy steers clear of them so that it keeps looking for new problems.
KNOWN_BUGS: dict[str, object] = {}
#: Outcomes known to leave their declared bounds (checked only to be non-negative meanwhile).
KNOWN_OUT_OF_BOUNDS: set[str] = set()

RANDOM_KEYS = sorted(k for k, f in FIELDS.items()
                     if k.split(".")[0] not in FIXED_GROUPS and value_strategy(f) is not None)
LEVERS = {k.split(".")[1]: value_strategy(f) for k, f in FIELDS.items()
          if k.startswith("regime.") and value_strategy(f) is not None}
PRESETS = {p.stem: OmegaConf.to_container(OmegaConf.load(p))
           for p in sorted((CONFIGS / "regime").glob("*.yaml"))}


def nested(flat: dict) -> dict:
    out: dict = {}
    for key, value in flat.items():
        *groups, leaf = key.split(".")
        node = out
        for group in groups:
            node = node.setdefault(group, {})
        node[leaf] = value
    return out


@st.composite
def configs(draw) -> SimConfig:
    """A random valid scenario on the teaching system, short enough to run in a blink."""
    keys = draw(st.lists(st.sampled_from(RANDOM_KEYS), max_size=10, unique=True))
    flat = {k: draw(value_strategy(FIELDS[k]), label=k) for k in keys}
    if any(k in KNOWN_BUGS and flat[k] == KNOWN_BUGS[k] for k in flat):
        reject()
    data = nested(flat)
    data["seed"] = draw(st.integers(0, 2**32), label="seed")
    data["system"] = {"name": "teaching", "scale": draw(st.sampled_from([0.01, 0.3, 1.0, 2.0]),
                                                       label="system.scale")}
    data["time"] = {"burn_in_weeks": draw(st.integers(0, 30), label="burn_in_weeks"),
                    "policy_weeks": draw(st.integers(1, 40), label="policy_weeks")}
    preset = draw(st.sampled_from([*PRESETS, "random levers"]), label="regime")
    if preset in PRESETS:
        data["regime"] = dict(PRESETS[preset])
    else:
        data["regime"] = {name: draw(s, label=f"regime.{name}") for name, s in LEVERS.items()}
    try:
        return from_dict(data)
    except ConfigError as error:
        # Values were drawn inside their ranges, so only a contradiction of levers
        # may be refused; anything else means the schema and its metadata disagree.
        if "contradict" in str(error):
            reject()
        raise


def check_state(model: CollaborationModel) -> None:
    """Invariants of the model's state after a step."""
    st_, ps, n = model.state, model.partnerships, model.n_providers
    week = f"week {model.week}"
    # workforce: 0 <= staff in post <= funded posts
    assert np.all(st_.staff >= 0.0), week
    assert np.all(st_.staff <= st_.funded * (1 + 1e-12)), week
    # patients are conserved: everyone who arrived is still waiting or has left
    arrived, inside, left = model.patients_arrived, model.patients_in_system, model.patients_left
    assert np.isclose(arrived, inside + left, rtol=1e-9, atol=1e-6), \
        f"{week}: arrived {arrived} != in system {inside} + left {left}"
    assert np.all(st_.backlog >= 0.0) and np.all(model.delayed >= 0.0), week
    # provider shares stay shares
    for name in ("faith", "maturity", "quality", "admin_share", "base_trust", "enthusiasm",
                 "realism", "experience", "culture"):
        values = getattr(st_, name)
        assert np.all(np.isfinite(values)), f"{week}: {name} not finite"
        assert np.all((values >= 0.0) & (values <= 1.0)), f"{week}: {name} outside [0, 1]"
    assert np.allclose(st_.priorities.sum(axis=1), 1.0)
    # partnerships: a < b strictly, no duplicates, ends are providers
    a, b = ps.a, ps.b
    assert np.all(a < b), f"{week}: self- or unordered partnership"
    assert np.all((a >= 0) & (b < n)), week
    assert len(np.unique(ps.keys())) == len(ps), f"{week}: duplicate partnership"
    for name in ("trust", "confidence", "formality"):
        values = getattr(ps, name)
        assert np.all(np.isfinite(values)), f"{week}: {name} not finite"
        assert np.all((values >= 0.0) & (values <= 1.0)), f"{week}: {name} outside [0, 1]"
    assert np.all((ps.progress >= 0.0) & (ps.progress < 1.0)), week
    assert np.all(ps.formed_week < model.week), week
    # the degree the model keeps is the one the partnerships imply
    np.testing.assert_array_equal(model.degree, ps.degree(), err_msg=week)
    assert int(ps.degree().sum()) == 2 * len(ps)
    # outcomes of this week agree with the state
    assert model.outcome_values["n_partnerships"] == len(ps)
    assert int(ps.at_switch.sum()) <= model.partnerships_at_switch or not model.switched


def check_table(weekly: pd.DataFrame, config: SimConfig) -> None:
    """Invariants of the weekly outcome table."""
    assert list(weekly.columns) == ["week", *COLUMNS]
    assert len(weekly) == config.time.burn_in_weeks + config.time.policy_weeks
    assert np.array_equal(weekly["week"], np.arange(-config.time.burn_in_weeks,
                                                    config.time.policy_weeks))
    values = weekly[list(COLUMNS)].to_numpy(dtype=np.float64)
    infinite = {COLUMNS[j] for j in np.nonzero(np.isinf(values))[1]}
    assert not infinite, f"inf in {sorted(infinite)}"
    undefined = {COLUMNS[j] for j in np.nonzero(np.isnan(values))[1]}
    assert undefined <= MAY_BE_UNDEFINED, \
        f"NaN in {sorted(undefined - MAY_BE_UNDEFINED)}, which the registry says are always defined"
    for o in OUTCOMES:
        col = weekly[o.name].dropna()
        if o.name in KNOWN_OUT_OF_BOUNDS:
            assert (col >= 0.0).all(), f"{o.name} negative"
            continue
        inside = col.between(o.low, o.high)
        assert inside.all(), (f"{o.name} outside [{o.low}, {o.high}]: "
                              f"{col[~inside].head().to_dict()}")
    # undefined exactly when the registry says
    no_partners = weekly["n_partnerships"] == 0
    for name in ("mean_trust", "mean_confidence", "mean_formality", "partner_distance_km",
                 "mandated_share", "communication"):
        assert (weekly[name].isna() == no_partners).all(), name
    survival = weekly["partnership_survival"]
    assert survival[weekly["week"] < 0].isna().all(), "survival defined before the switch"
    # the network's accounts balance: this week's count is last week's plus formed minus ended
    change = np.diff(weekly["n_partnerships"].to_numpy(), prepend=0)
    assert (change == weekly["partnerships_formed"] - weekly["partnerships_ended"]).all()
    policy = weekly[weekly["week"] >= 0]
    reviews = (config.regime.partner_choice in ("assigned", "both")
               and config.regime.review_weeks > 0)
    if not config.regime.may_exit and config.regime.maintain and not reviews:
        # no exit (and no authority's review that ends failing assignments): whatever
        # the switch left of the earlier partnerships survives (or it stays undefined:
        # no partnership existed at the switch)
        assert policy["partnership_survival"].nunique(dropna=False) <= 1
        assert (np.diff(policy["n_partnerships"].to_numpy()) >= 0).all()


def test_registry_is_consistent() -> None:
    """Names unique and in column order; bounds, directions and kinds make sense."""
    assert [o.name for o in OUTCOMES] == list(COLUMNS) == list(sim.COLUMNS)
    assert len(set(COLUMNS)) == len(COLUMNS)
    assert set(sim.MAIN_OUTCOMES) == {o.name for o in OUTCOMES if o.main}
    for o in OUTCOMES:
        assert o.meaning and "\n" not in o.meaning and o.unit and o.evidence, o.name
        assert o.low < o.high, o.name
        assert o.better in ("higher", "lower", None), o.name
        assert o.kind in ("share", "count", "number"), o.name
        assert 0.0 < o.smallest_difference < o.high - o.low, o.name
        if o.kind == "share":
            assert (o.low, o.high) == (0.0, 1.0), o.name
        assert ("undefined (NaN)" in o.description) == (o.undefined is not None), o.name


def test_main_outcomes_are_model_md_outcome_table_first() -> None:
    main = [o.name for o in OUTCOMES if o.main]
    assert list(COLUMNS[:len(main)]) == main  # main outcomes come first in the table
    assert {"care_coordination", "delayed_handoffs", "vacancy_rate", "unmet_demand",
            "workload_gini", "mean_trust", "mean_belief", "n_partnerships",
            "partnership_survival", "admin_burden", "quality_mean", "quality_spread",
            "communication"} == set(main)


def test_outcome_lookup_names_the_valid_ones() -> None:
    assert sim.outcome("care_coordination").better == "higher"
    assert sim.outcome("care_coordination") is OUTCOMES[0]
    with pytest.raises(KeyError, match="unknown outcome 'care_coordinaton'.*care_coordination"):
        sim.outcome("care_coordinaton")
    with pytest.raises(sim.UnknownOutcome, match="mandated_share"):
        sim.outcome("trust")


def test_every_outcome_is_measured_every_week_and_nothing_else(monkeypatch) -> None:
    """measure returns one value per registered outcome, every week, and the
    DataCollector's table has exactly the registry's columns in its order."""
    measured: list[set[str]] = []

    def spy(model, flows: WeekFlows) -> Week:
        week = measure(model, flows)
        measured.append(set(week.values))
        assert week.by_kind.shape == (len(KIND_NAMES), len(BY_KIND))
        return week

    monkeypatch.setattr("sim.outcomes.measure", spy)
    config = from_dict({"seed": 3, "system": {"name": "teaching"},
                        "time": {"burn_in_weeks": 3, "policy_weeks": 3}})
    model = CollaborationModel(config)
    model.run()
    assert len(measured) == 6
    assert all(names == set(COLUMNS) for names in measured)
    weekly = model.datacollector.get_model_vars_dataframe()
    assert list(weekly.columns) == ["week", *COLUMNS]
    assert weekly["n_partnerships"].tolist()[-1] == len(model.partnerships)


def test_by_kind_table_adds_up_to_the_system_values() -> None:
    """The by-kind table has one row per week and kind, and its values, weighted by what
    each kind contributes, give the weekly table's system-wide values: one computation."""
    config = from_dict({"seed": 5, "system": {"name": "teaching"},
                        "time": {"burn_in_weeks": 20, "policy_weeks": 10}})
    model = CollaborationModel(config)
    model.run()
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    kinds = model.by_kind_frame()
    assert list(kinds.columns) == list(BY_KIND_COLUMNS)
    assert len(kinds) == len(weekly) * len(KIND_NAMES)
    assert kinds["week"].tolist() == np.repeat(weekly["week"], len(KIND_NAMES)).tolist()
    assert list(kinds["kind"].cat.categories) == list(KIND_NAMES)
    counts = np.bincount(model.state.kind, minlength=len(KIND_NAMES))
    last = kinds[kinds["week"] == weekly["week"].iloc[-1]].reset_index(drop=True)
    np.testing.assert_array_equal(last["providers"], counts)
    end = weekly.iloc[-1]
    st_ = model.state
    staff = np.bincount(st_.kind, st_.staff, minlength=len(KIND_NAMES))
    funded = np.bincount(st_.kind, st_.funded, minlength=len(KIND_NAMES))
    # counts add up; provider means weighted by providers; staff-weighted by staff
    for name in ("emergency_admissions", "delayed_handoffs"):
        assert np.isclose(np.nansum(last[name]), end[name], rtol=1e-9), name
    for name in ("mean_belief", "partners_per_provider"):
        assert np.isclose(np.nansum(last[name] * counts) / counts.sum(), end[name]), name
    for name in ("mean_belief_staff", "admin_burden"):
        assert np.isclose(np.nansum(last[name] * staff) / staff.sum(), end[name]), name
    assert np.isclose(np.nansum(last["vacancy_rate"] * funded) / funded.sum(),
                      end["vacancy_rate"])
    # the named breakdowns are the by-kind coordination of their senders
    for name, kind in (("discharge_coordination", "acute"), ("referral_coordination", "pcn"),
                       ("care_home_coordination", "care_home")):
        assert np.isclose(end[name], last.loc[last["kind"] == kind, "care_coordination"].item(),
                          equal_nan=True), name
    # per-kind values lie within the registry's bounds
    for name in BY_KIND:
        o = sim.outcome(name)
        col = kinds[name].dropna()
        assert col.between(o.low, o.high).all(), name


def test_model_with_its_collector_pickles() -> None:
    import pickle

    config = from_dict({"seed": 3, "system": {"name": "teaching"},
                        "time": {"burn_in_weeks": 2, "policy_weeks": 2}})
    model = CollaborationModel(config)
    model.run(2)
    copy = pickle.loads(pickle.dumps(model))
    model.step()
    copy.step()
    pd.testing.assert_frame_equal(copy.datacollector.get_model_vars_dataframe(),
                                  model.datacollector.get_model_vars_dataframe(),
                                  check_exact=True)


def test_no_partnerships_gives_undefined_means_not_zeros() -> None:
    """With no partnership ever formed, partnership means are NaN and the summary's
    final-year mean is NaN too (nothing to average), never 0 that reads as a result."""
    config = from_dict({"seed": 1, "system": {"name": "teaching"},
                        "time": {"burn_in_weeks": 0, "policy_weeks": 4},
                        "partnerships": {"risk_threshold": 1.0},
                        "context": {"initial_trust": 0.0, "trust_spread": 0.0}})
    result = sim.run(config)
    weekly = result.weekly
    assert (weekly["n_partnerships"] == 0).all(), "the scenario was meant to have none"
    assert weekly["mean_trust"].isna().all() and weekly["partnership_survival"].isna().all()
    assert math.isnan(result.summary["mean_trust"])
    assert weekly["care_coordination"].notna().all()


def test_summary_averages_over_defined_weeks_only() -> None:
    from sim.outcomes import summarise

    weekly = pd.DataFrame({"week": [-1, 0, 1, 2], **{c: [0.5] * 4 for c in COLUMNS}})
    weekly["mean_trust"] = [0.9, np.nan, 0.2, 0.4]
    weekly["partnership_survival"] = [np.nan, np.nan, np.nan, np.nan]
    summary = summarise(weekly)
    assert summary["mean_trust"] == pytest.approx(0.3)  # weeks 1 and 2, not week 0 as 0
    assert math.isnan(summary["partnership_survival"])
    assert math.isnan(summary["at_switch.partnership_survival"])
    again = summarise(weekly.copy())
    assert summary == again  # undefined values compare equal (one NaN object)


def test_strategy_covers_the_schema() -> None:
    # Every numeric or choice field of the mechanism groups, and every lever.
    assert len(RANDOM_KEYS) > 60
    assert set(LEVERS) >= {"partner_choice", "maintain", "may_exit", "contracts",
                           "contract_formality", "existing", "reporting_fte", "priorities",
                           "shared_goals"}
    assert set(PRESETS) >= {"none", "local", "mandated", "hybrid"}


@settings(max_examples=MAX_EXAMPLES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(config=configs())
def test_invariants_hold_for_random_valid_configs(config: SimConfig) -> None:
    note(f"regime={config.regime}")
    model = CollaborationModel(config)
    total = config.time.burn_in_weeks + config.time.policy_weeks
    for week in range(1, total + 1):
        model.step()
        if week % CHECK_EVERY == 0 or week == total or week == config.time.burn_in_weeks + 1:
            check_state(model)
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    check_table(weekly, config)


@settings(max_examples=max(5, MAX_EXAMPLES // 5), deadline=None)
@given(seed=st.integers(0, 2**32), regime=st.sampled_from(sorted(PRESETS)))
def test_invariants_hold_on_defaults_over_a_longer_horizon(seed: int, regime: str) -> None:
    data = {"seed": seed, "system": {"name": "teaching"},
            "time": {"burn_in_weeks": 52, "policy_weeks": 104}, "regime": PRESETS[regime]}
    config = from_dict(data)
    model = CollaborationModel(config)
    for week in range(1, 157):
        model.step()
        if week % 13 == 0:
            check_state(model)
    check_table(model.datacollector.get_model_vars_dataframe().reset_index(drop=True), config)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_zero_paperwork_ceiling_keeps_the_state_finite() -> None:
    config = from_dict({"system": {"name": "teaching"}, "paperwork": {"max_share": 0.0},
                        "time": {"burn_in_weeks": 4, "policy_weeks": 4}})
    model = CollaborationModel(config)
    for _ in range(8):
        model.step()
        check_state(model)


def test_unmet_demand_is_a_share_under_seasonal_overload() -> None:
    config = from_dict({"seed": 0, "system": {"name": "teaching"},
                        "time": {"burn_in_weeks": 0, "policy_weeks": 104},
                        "context": {"demand_ratio": 3.0, "seasonality": 0.9}})
    model = CollaborationModel(config)
    model.run()
    unmet = model.datacollector.get_model_vars_dataframe()["unmet_demand"]
    assert unmet.between(0.0, 1.0).all(), f"max {unmet.max():.4f}"

