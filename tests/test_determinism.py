"""Determinism: the same scenario and seed give the same weekly table, bit for bit.

Everything random comes from the model's own generators, seeded from the run's
seed (Starsim's first kind of test). Paired comparisons between scenarios rely on
this, and so does running replicates in parallel.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pandas as pd
import pytest

import sim
from sim import CollaborationModel


@pytest.fixture(scope="module")
def config(make_config):
    return make_config({"time": {"burn_in_weeks": 26, "policy_weeks": 52}}, seed=5)


def layout(model: CollaborationModel) -> dict[str, np.ndarray]:
    st = model.state
    return {"kind": st.kind, "area": st.area, "xy": st.xy, "funded": st.funded}


def test_same_seed_same_table(config) -> None:
    first, second = sim.run(config), sim.run(config)
    pd.testing.assert_frame_equal(first.weekly, second.weekly, check_exact=True)
    assert first.summary == second.summary
    assert len(first.weekly) == 26 + 52


@pytest.mark.parametrize("regime", ["none", "mandated", "hybrid"])
def test_same_seed_same_table_under_every_regime(make_config, regime: str) -> None:
    config = make_config({"time": {"burn_in_weeks": 13, "policy_weeks": 26}}, regime=regime,
                         seed=9)
    pd.testing.assert_frame_equal(sim.run(config).weekly, sim.run(config).weekly,
                                  check_exact=True)


def test_different_seed_different_table(config) -> None:
    a = sim.run(config, seed=1).weekly
    b = sim.run(config, seed=2).weekly
    assert not a.equals(b)
    # not just one column: the dynamics differ throughout
    differing = [c for c in sim.COLUMNS if not np.array_equal(a[c], b[c])]
    assert {"care_coordination", "mean_belief", "vacancy_rate"} <= set(differing)


def test_seed_argument_overrides_config_seed(config) -> None:
    via_argument = sim.run(config, seed=8)
    via_config = sim.run(dataclasses.replace(config, seed=8))
    assert via_argument.seed == via_config.seed == 8
    pd.testing.assert_frame_equal(via_argument.weekly, via_config.weekly, check_exact=True)


def test_model_rng_argument_matches_config_seed(config) -> None:
    by_rng = CollaborationModel(config, rng=8)
    by_config = CollaborationModel(dataclasses.replace(config, seed=8))
    for _ in range(20):
        by_rng.step()
        by_config.step()
    pd.testing.assert_frame_equal(by_rng.datacollector.get_model_vars_dataframe(),
                                  by_config.datacollector.get_model_vars_dataframe(),
                                  check_exact=True)


def test_stepping_the_model_matches_run(config) -> None:
    model = CollaborationModel(config)
    model.run()
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    weekly["week"] = weekly["week"].astype(np.int64)
    pd.testing.assert_frame_equal(sim.run(config).weekly, weekly, check_exact=True)


def test_replicate_argument_overrides_config_replicate(config) -> None:
    via_argument = sim.run(config, replicate=2)
    via_config = sim.run(dataclasses.replace(config, replicate=2))
    assert via_argument.replicate == via_config.replicate == 2
    assert via_argument.config.replicate == 2 and via_argument.seed == config.seed
    pd.testing.assert_frame_equal(via_argument.weekly, via_config.weekly, check_exact=True)
    assert not via_argument.weekly.equals(sim.run(config).weekly)


def test_run_rejects_bad_replicates_and_positional_seeds(config) -> None:
    with pytest.raises(sim.ConfigError, match=r"replicate=-1 is out of range"):
        sim.run(config, replicate=-1)
    with pytest.raises(sim.ConfigError, match=r"replicate=1\.5 is not an integer"):
        sim.run(config, replicate=1.5)
    with pytest.raises(sim.ConfigError, match="seed=True is not an integer"):
        sim.run(config, seed=True)
    with pytest.raises(TypeError):  # run(config, 3) would be ambiguous: keyword-only
        sim.run(config, 3)
    assert sim.run(config, replicate=np.int64(1)).replicate == 1


def test_run_many_parallel_equals_serial(make_config) -> None:
    short = {"time": {"burn_in_weeks": 13, "policy_weeks": 26}}
    scenarios = {"local": make_config(short, regime="local"),
                 "mandated": make_config(short, regime="mandated")}
    serial = sim.run_many(scenarios, replicates=[3, 4], workers=1)
    parallel = sim.run_many(scenarios, replicates=[3, 4], workers=2)
    assert isinstance(serial, sim.ManyResult)
    pd.testing.assert_frame_equal(serial.weekly, parallel.weekly, check_exact=True)
    pd.testing.assert_frame_equal(serial.summaries, parallel.summaries, check_exact=True)
    assert set(serial.weekly["scenario"]) == set(scenarios)
    assert list(serial.summaries[["scenario", "seed", "replicate"]].itertuples(
        index=False, name=None)) == [("local", 0, 3), ("local", 0, 4), ("mandated", 0, 3),
                                     ("mandated", 0, 4)]
    # each (scenario, replicate) is exactly the single run with that replicate
    one = sim.run(scenarios["mandated"], replicate=4)
    rows = serial.weekly[(serial.weekly["scenario"] == "mandated")
                         & (serial.weekly["replicate"] == 4)]
    pd.testing.assert_frame_equal(
        rows.drop(columns=["scenario", "seed", "replicate"]).reset_index(drop=True),
        one.weekly, check_exact=True)
    summary = serial.summaries.set_index(["scenario", "replicate"]).loc[("mandated", 4)]
    for key, value in one.summary.items():
        assert summary[key] == value or (value != value and summary[key] != summary[key]), key


def test_run_many_pairs_by_replicate_under_one_root_seed(make_config) -> None:
    """Same replicate index, same streams: a scenario identical to another gives the
    identical run (zero paired difference), and seed= moves every scenario together."""
    short = {"time": {"burn_in_weeks": 13, "policy_weeks": 13}}
    a = make_config(short, regime="local")
    many = sim.run_many({"a": a, "same as a": a}, replicates=range(2))
    s = many.summaries.set_index(["scenario", "replicate"])["care_coordination"]
    assert s.loc["a"].equals(s.loc["same as a"]) and s.loc["a"].nunique() == 2
    other = sim.run_many({"a": a}, replicates=range(2), seed=7).summaries
    assert set(other["seed"]) == {7}
    assert not other["care_coordination"].equals(s.loc["a"].reset_index(drop=True))
    pd.testing.assert_frame_equal(
        other.drop(columns=["scenario"]).iloc[[1]].reset_index(drop=True),
        sim.run_many([dataclasses.replace(a, seed=7)], replicates=[1]).summaries.drop(
            columns=["scenario"]), check_exact=True)


def test_run_many_does_not_depend_on_the_order_of_scenarios(make_config) -> None:
    short = {"time": {"burn_in_weeks": 13, "policy_weeks": 13}}
    a, b = make_config(short, regime="local"), make_config(short, regime="none")
    key = ["scenario", "replicate", "week"]
    one = sim.run_many({"a": a, "b": b}, [1, 2]).weekly.sort_values(key).reset_index(drop=True)
    two = sim.run_many({"b": b, "a": a}, [2, 1]).weekly.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_run_many_seeds_argument_is_gone_with_a_clear_message(config) -> None:
    with pytest.raises(TypeError, match=r"replicates=range\(n\)"):
        sim.run_many({"a": config}, seeds=[1, 2])


def test_same_seed_same_provider_layout(config) -> None:
    first, second = CollaborationModel(config), CollaborationModel(config)
    for name, value in layout(first).items():
        np.testing.assert_array_equal(value, layout(second)[name], err_msg=name)
    np.testing.assert_array_equal(first.state.culture, second.state.culture)
    assert [a.pos_km for a in first.agents] == [a.pos_km for a in second.agents]
    other = CollaborationModel(config, rng=config.seed + 1)
    assert not np.array_equal(first.state.xy, other.state.xy)


def test_layout_seed_fixes_the_geography(make_config) -> None:
    fixed = make_config({"system": {"layout_seed": 42}})
    maps = [CollaborationModel(fixed, rng=seed) for seed in (1, 2, 3)]
    for model in maps[1:]:
        for name, value in layout(model).items():
            np.testing.assert_array_equal(value, layout(maps[0])[name], err_msg=name)
    # the same map, different dynamics
    short = dataclasses.replace(fixed, time=dataclasses.replace(fixed.time, burn_in_weeks=13,
                                                                policy_weeks=13))
    assert not sim.run(short, seed=1).weekly.equals(sim.run(short, seed=2).weekly)


def test_scenarios_with_the_same_seed_share_one_map(make_config) -> None:
    # Paired comparisons need the same providers in the same places across scenarios.
    local = CollaborationModel(make_config(regime="local"), rng=6)
    mandated = CollaborationModel(make_config({"context": {"initial_trust": 0.8}},
                                              regime="mandated"), rng=6)
    for name, value in layout(local).items():
        np.testing.assert_array_equal(value, layout(mandated)[name], err_msg=name)


def test_no_global_random_state(config) -> None:
    np_before = np.random.get_state()[1].copy()  # noqa: NPY002
    py_before = random.getstate()
    first = sim.run(config).weekly
    assert np.array_equal(np.random.get_state()[1], np_before)  # noqa: NPY002
    assert random.getstate() == py_before
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    pd.testing.assert_frame_equal(sim.run(config).weekly, first, check_exact=True)
