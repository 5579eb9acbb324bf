"""Outcomes per area: declared in the registry, computed each week, adding up to the
nation, carried by RunResult and run_many, written with every run and read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.area_effects import CONDITIONS, CONTEXT_COLUMNS, EFFECT_COLUMNS, build_area_effects
from sim.config import from_dict
from sim.identity import fingerprint
from sim.loading import load_config
from sim.outcome_spec import (
    AREA_KEYS,
    AREA_WEIGHTS,
    BY_AREA,
    BY_AREA_COLUMNS,
    MAIN_OUTCOMES,
    OUTCOMES,
)
from sim.outcomes import gini, national_from_areas
from sim.report import add_scenarios, build_report, collect, reference_map
from sim.results import BY_AREA as BY_AREA_FILE
from sim.results import is_complete, read_by_area, read_run, write_run
from sim.runs import run_scenario
from sim.sweep_store import write_manifest

TEACHING = {"seed": 2, "system": {"name": "teaching"},
            "time": {"burn_in_weeks": 6, "policy_weeks": 4}}
#: England's 42 ICBs and ~16,600 providers for six weeks (half a second), mandated so
#: that the switch supersedes partnerships and survival is defined.
ENGLAND = {"seed": 4, "system": {"name": "england"}, "regime": {"name": "mandated"},
           "time": {"burn_in_weeks": 3, "policy_weeks": 3}}
#: England at a twentieth of its providers (~830): small areas, where some weeks an
#: area has nothing due or loses all its partnerships (undefined values must still add up).
#: The seed is one whose run has all three undefined cases the test below requires (most
#: seeds have two; seed 4 lost the third when the history of collaboration began to last).
SMALL_ENGLAND = {**ENGLAND, "seed": 5, "system": {"name": "england", "scale": 0.05},
                 "time": {"burn_in_weeks": 8, "policy_weeks": 8}}
ICS = {"seed": 4, "system": {"name": "ics"}, "regime": {"name": "mandated"},
       "time": {"burn_in_weeks": 8, "policy_weeks": 8}}


@pytest.fixture(scope="module")
def england() -> sim.RunResult:
    return sim.run(from_dict(ENGLAND))


def test_every_main_outcome_is_declared_per_area_with_a_rule_that_names_real_columns():
    assert set(MAIN_OUTCOMES) <= set(BY_AREA)
    assert BY_AREA_COLUMNS == (*AREA_KEYS, *BY_AREA, *AREA_WEIGHTS)
    columns = set(BY_AREA_COLUMNS)
    for o in OUTCOMES:
        rule = o.by_area
        if rule is None:
            continue
        if rule.rule in ("mean", "ratio", "pooled_sd"):
            assert rule.weight in columns, o.name
        if rule.rule == "ratio":
            assert rule.numerator in AREA_WEIGHTS, o.name
        if rule.rule == "pooled_sd":
            assert rule.mean in BY_AREA, o.name


def check_areas_add_up(result: sim.RunResult) -> None:
    """Every per-area outcome gives the weekly table's national value by its rule."""
    table, weekly = result.by_area, result.weekly.set_index("week")
    assert list(table.columns) == list(BY_AREA_COLUMNS)
    assert len(table) == len(weekly) * len(result.areas)
    national = national_from_areas(table)
    combined = [o.name for o in OUTCOMES if o.by_area and o.by_area.rule != "within"]
    assert list(national.columns) == combined
    for name in combined:
        np.testing.assert_allclose(national[name].to_numpy(), weekly[name].to_numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)
    # the Gini is within areas: test_area_gini_is_the_gini_of_the_areas_providers


def test_ics_areas_add_up_to_the_nation() -> None:
    result = sim.run(from_dict(ICS))
    check_areas_add_up(result)
    # one area: its values are the national values, the Gini included
    np.testing.assert_allclose(result.by_area["workload_gini"],
                               result.weekly["workload_gini"], rtol=1e-9)


def test_england_areas_add_up_to_the_nation(england) -> None:
    assert len(england.areas) == 42
    check_areas_add_up(england)
    after = england.by_area[england.by_area["week"] >= 0]
    assert after["partnership_survival"].notna().all()
    assert england.by_area["partnerships_at_switch"].sum() > 0


def test_small_england_areas_add_up_even_where_an_area_is_undefined() -> None:
    result = sim.run(from_dict(SMALL_ENGLAND))
    check_areas_add_up(result)
    table = result.by_area
    assert table["mean_trust"].isna().any()  # areas without partnerships some weeks
    # interactions of partnerships that all ended during the week: the ratio rule
    assert ((table["n_partnerships"] == 0) & (table["interactions"] > 0)).any()
    # areas with no partnership at the switch: survival undefined there, not 0
    assert table.loc[table["week"] >= 0, "partnership_survival"].isna().any()


def test_area_gini_is_the_gini_of_the_areas_providers() -> None:
    """The grouped Gini equals gini() over each area's providers, from a snapshot."""
    config = from_dict({**SMALL_ENGLAND, "output": {"agent_snapshot_every": 4}})
    result = sim.run(config)
    snap = result.providers[result.providers["week"] == result.providers["week"].max()]
    week = int(snap["week"].iloc[0])
    rows = result.by_area[result.by_area["week"] == week].set_index("area")
    for area, providers in snap.groupby("area"):
        expected = gini(np.minimum(providers["pressure"].to_numpy(), 3.0))
        assert rows.loc[area, "workload_gini"] == pytest.approx(expected, abs=1e-12)
        assert rows.loc[area, "providers"] == len(providers)
        assert rows.loc[area, "quality_spread"] == pytest.approx(
            providers["quality"].std(ddof=0), abs=1e-12)


def test_by_area_is_keyed_by_the_areas_of_the_run(england) -> None:
    table = england.by_area
    weeks = england.weekly["week"].to_numpy()
    assert table["week"].tolist() == np.repeat(weeks, 42).tolist()
    first = table[table["week"] == weeks[0]].reset_index(drop=True)
    assert first["area"].tolist() == england.areas["area"].tolist()
    assert first["area_code"].astype(str).tolist() == england.areas["area_code"].tolist()
    assert first["area_name"].astype(str).tolist() == england.areas["area_name"].tolist()
    assert first["providers"].tolist() == england.areas["providers"].tolist()
    assert set(table["area_code"].astype(str)) == set(england.areas["area_code"])
    assert all(code.startswith("E54") for code in table["area_code"].astype(str))


def test_by_area_is_written_and_read_back_and_older_runs_still_read(tmp_path) -> None:
    result = sim.run(from_dict(TEACHING))
    folder = write_run(tmp_path / "run", result)
    assert (folder / BY_AREA_FILE).is_file()
    pd.testing.assert_frame_equal(read_by_area(folder), result.by_area)
    (folder / BY_AREA_FILE).unlink()  # a run written before the table existed
    assert is_complete(folder)
    weekly, *_ = read_run(folder)
    assert len(weekly) == len(result.weekly)
    assert read_by_area(folder) is None
    with pytest.raises(FileNotFoundError, match="not a complete run folder"):
        read_by_area(tmp_path / "nothing")


def test_run_many_gathers_the_by_area_tables_paired() -> None:
    config = from_dict(TEACHING)
    many = sim.run_many({"a": config}, replicates=[0, 1])
    assert list(many.by_area.columns) == ["scenario", "seed", "replicate", *BY_AREA_COLUMNS]
    one = sim.run(config, replicate=1).by_area
    mine = many.by_area[many.by_area["replicate"] == 1].drop(
        columns=["scenario", "seed", "replicate"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, one)


def test_national_from_areas_combines_a_region_of_hand_made_areas() -> None:
    """The rules on numbers worked by hand: weighted mean, sum, ratio, pooled sd."""
    rows = pd.DataFrame({name: [np.nan, np.nan] for name in BY_AREA_COLUMNS})
    rows["week"] = [0, 0]
    rows["care_coordination"] = [0.5, np.nan]  # the second area has nothing due
    rows["handoffs_due"] = [10.0, 0.0]
    rows["vacancy_rate"] = [0.1, 0.2]
    rows["funded_fte"] = [100.0, 300.0]
    rows["delayed_handoffs"] = [3.0, 4.5]
    rows["communication"] = [2.0, np.nan]  # its partnerships ended during the week
    rows["n_partnerships"] = [3.0, 0.0]
    rows["interactions"] = [6.0, 3.0]
    rows["quality_mean"] = [0.4, 0.6]
    rows["quality_spread"] = [0.1, 0.0]
    rows["providers"] = [1, 1]
    out = national_from_areas(rows).iloc[0]
    assert out["care_coordination"] == pytest.approx(0.5)
    assert out["vacancy_rate"] == pytest.approx((10 + 60) / 400)
    assert out["delayed_handoffs"] == pytest.approx(7.5)
    assert out["communication"] == pytest.approx(9 / 3)
    # pooled over equal weights: within-area variance (0.1² + 0²) / 2, between-area
    # variance ((0.4 - 0.5)² + (0.6 - 0.5)²) / 2
    assert out["quality_spread"] == pytest.approx(np.sqrt(0.005 + 0.01))
    assert "workload_gini" not in out.index


# --------------------------------------------------------------------------- the report
def make_sweep(folder: Path, *overrides: str, regimes=("local", "mandated"),
               replicates=(0, 1)) -> Path:
    """A sweep folder as ``collabsim -m`` leaves it (its plan, one run folder per job),
    made in this process without Hydra, so that the report reads what a sweep writes."""
    jobs, subdirs, prints, weeks = [], [], [], []
    for regime in regimes:
        for r in replicates:
            job = [f"regime={regime}", f"replicate={r}", *overrides]
            config = load_config(job)
            run_scenario(config, folder / str(len(jobs)))
            jobs.append(job)
            subdirs.append(str(len(subdirs)))
            prints.append(fingerprint(config))
            weeks.append(config.time.burn_in_weeks + config.time.policy_weeks)
    write_manifest(folder, jobs, subdirs, experiment=None, question=None,
                   reference={"regime": "local"}, command="test", launcher=None,
                   fingerprints=prints, weeks=weeks)
    return folder


#: A tiny sweep on full England (42 ICBs, ~16,600 providers): 4 + 4 weeks, local and
#: mandated, 2 replicates; 4 runs in about 2 s (8 + 8 weeks took 5 s).
ENGLAND_SWEEP = ("system=england", "time.burn_in_weeks=4", "time.policy_weeks=4")


@pytest.fixture(scope="module")
def england_report(tmp_path_factory):
    """The sweep and its report without the report's figures (a dozen PNGs, ~6 s); the
    per-area figures are drawn by test_the_forest_plot_and_map_are_drawn."""
    folder = make_sweep(tmp_path_factory.mktemp("england") / "sweep", *ENGLAND_SWEEP)
    return folder, build_report(folder, figures=False)


def test_the_forest_plot_and_map_are_drawn(england_report, tmp_path) -> None:
    folder, report = england_report
    runs, run_dirs, _, _, manifest = collect(folder)
    runs, factors, _, order = add_scenarios(runs, manifest)
    refs = reference_map(runs, factors, order, {"regime": "local"})
    (tmp_path / "figures").mkdir()
    areas = build_area_effects(runs, run_dirs, refs, report.differences, tmp_path)
    assert areas.figures == {"areas_forest_0": "figures/areas_forest_0.png",
                             "areas_map_0": "figures/areas_map_0.png"}
    assert (tmp_path / "figures" / "areas_forest_0.png").stat().st_size > 10_000
    assert (tmp_path / "figures" / "areas_map_0.png").stat().st_size > 10_000
    section = "\n".join(areas.section)
    assert "(figures/areas_forest_0.png)" in section and "(figures/areas_map_0.png)" in section
    # the same tables as the report's
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "by_area_effects.csv"),
        pd.read_csv(folder / "report" / "by_area_effects.csv"))


def test_england_sweep_report_has_the_per_area_tables_and_section(england_report) -> None:
    folder, report = england_report
    out = folder / "report"
    effects = pd.read_csv(out / "by_area_effects.csv", keep_default_na=False,
                          na_values=[""])
    assert list(effects.columns[:len(EFFECT_COLUMNS)]) == list(EFFECT_COLUMNS)
    assert set(effects.columns[len(EFFECT_COLUMNS):]) == set(CONDITIONS)
    # each ICB's history of integration programmes, from history.csv
    history = effects.drop_duplicates("area_code").set_index("area_code")["history"]
    assert set(history) == {0.0, 0.5, 1.0} and history["E54000048"] == 1.0  # Lancashire
    assert len(effects) == 42 * len(MAIN_OUTCOMES)  # one comparison
    assert set(effects["scenario"]) == {"regime=mandated"}
    assert set(effects["reference"]) == {"regime=local"}
    assert (effects["n_pairs"] == 2).all()
    assert not (out / "figures" / "areas_forest_0.png").exists()  # figures=False
    context = pd.read_csv(out / "by_area_context.csv")
    assert list(context.columns) == list(CONTEXT_COLUMNS)
    assert set(context["condition"]) <= set(CONDITIONS)
    assert context["rho"].between(-1, 1).all()
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## Effects by area" in text
    assert "Spearman's rank correlation" in text
    assert "by_area_effects.csv" in text
    assert report.areas is not None and len(report.areas.effects) == len(effects)


def test_an_areas_effect_is_the_mean_of_its_paired_differences_by_hand(england_report):
    """Recompute one area's effects from the run folders: final-year means of
    by_area.parquet, mandated minus local replicate by replicate."""
    folder, _ = england_report
    effects = pd.read_csv(folder / "report" / "by_area_effects.csv")
    plan = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    final: dict[tuple[str, int], pd.DataFrame] = {}
    for job in plan["jobs"]:
        table = read_by_area(folder / job["dir"] / "run")
        regime = job["overrides"][0].split("=")[1]
        replicate = int(job["overrides"][1].split("=")[1])
        final[regime, replicate] = table[table["week"] >= 0].groupby("area")[
            list(MAIN_OUTCOMES)].mean()
    for area in (0, 17, 41):
        for col in ("care_coordination", "mean_trust", "n_partnerships"):
            d = [final["mandated", r].loc[area, col] - final["local", r].loc[area, col]
                 for r in (0, 1)]
            row = effects[(effects["area"] == area) & (effects["outcome"] == col)].iloc[0]
            assert row["effect"] == pytest.approx(np.mean(d), rel=1e-9, abs=1e-12)
            assert row["sd"] == pytest.approx(np.std(d, ddof=1), rel=1e-6, abs=1e-12)
            assert bool(row["clear"]) == (row["ci_low"] > 0 or row["ci_high"] < 0)


def test_conditions_are_correlated_with_the_effects_as_stated(england_report) -> None:
    """by_area_context.csv holds Spearman's rho over areas of the effect with each
    condition, as the table of effects (which carries the conditions) gives it."""
    from scipy import stats

    folder, _ = england_report
    effects = pd.read_csv(folder / "report" / "by_area_effects.csv")
    context = pd.read_csv(folder / "report" / "by_area_context.csv")
    assert not context.empty
    for r in context.head(12).itertuples(index=False):
        rows = effects[effects["outcome"] == r.outcome][["effect", r.condition]].dropna()
        rho, p = stats.spearmanr(rows["effect"], rows[r.condition])
        assert r.rho == pytest.approx(rho, abs=1e-12) and r.p_value == pytest.approx(p)
        assert r.n_areas == len(rows)
    # the population is ONS's, from the ICB file
    first = effects.drop_duplicates("area").set_index("area_code")
    assert first.loc["E54000008", "population"] == 2550846


def test_the_report_counts_the_areas_that_move_clearly(england_report) -> None:
    folder, _ = england_report
    effects = pd.read_csv(folder / "report" / "by_area_effects.csv")
    text = (folder / "report" / "report.md").read_text(encoding="utf-8")
    text = text[text.index("## Effects by area"):]
    for col in ("care_coordination", "n_partnerships"):
        rows = effects[effects["outcome"] == col]
        up = int((rows["clear"] & (rows["effect"] > 0)).sum())
        down = int((rows["clear"] & (rows["effect"] < 0)).sum())
        line = next(x for x in text.splitlines() if x.startswith(f"| {col} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1].split()[0] == str(up) and cells[2].split()[0] == str(down)
        assert cells[3] == str(42 - up - down)


def test_a_single_area_sweep_has_no_per_area_section(tmp_path) -> None:
    folder = make_sweep(tmp_path / "sweep", "system=teaching", "time.burn_in_weeks=4",
                        "time.policy_weeks=4")
    report = build_report(folder, figures=False)
    assert report.areas is None
    assert not (folder / "report" / "by_area_effects.csv").exists()
    assert "## Effects by area" not in (folder / "report" / "report.md").read_text(
        encoding="utf-8")


def test_areas_that_are_not_icbs_get_tables_and_forest_plots_but_no_map(tmp_path) -> None:
    folder = make_sweep(tmp_path / "sweep", "system=england_synthetic", "system.scale=0.02",
                        "time.burn_in_weeks=4", "time.policy_weeks=4", replicates=(0,))
    runs, run_dirs, _, _, manifest = collect(folder)
    runs, factors, _, order = add_scenarios(runs, manifest)
    refs = reference_map(runs, factors, order, {"regime": "local"})
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    areas = build_area_effects(runs, run_dirs, refs, pd.DataFrame(), out)
    assert areas is not None and len(areas.areas) == 42
    assert "population" not in areas.effects
    assert (out / "figures" / "areas_forest_0.png").is_file()
    assert not (out / "figures" / "areas_map_0.png").exists()
    assert "No map: the areas are not England's ICBs" in "\n".join(areas.section)


def test_runs_with_different_areas_are_not_compared_area_by_area(tmp_path) -> None:
    """A sweep whose runs have different areas (it swept the system) gets a section that
    says why there is no per-area comparison, and no per-area table."""
    short = {"time": {"burn_in_weeks": 2, "policy_weeks": 2}}
    dirs, rows = {}, []
    for job, system in (("a", "england"), ("b", "england_synthetic")):
        result = sim.run(from_dict({**short, "system": {"name": system, "scale": 0.02}}))
        dirs[job] = write_run(tmp_path / job, result)
        rows.append({"job": job, "scenario": system, "seed": 0, "replicate": 0,
                     "status": "complete"})
    out = tmp_path / "report"
    (out / "figures").mkdir(parents=True)
    areas = build_area_effects(pd.DataFrame(rows), dirs, {"england_synthetic": "england"},
                               pd.DataFrame(), out)
    assert areas is not None and areas.effects.empty
    assert "Not computed: runs a and b have different areas" in "\n".join(areas.section)
    assert not (out / "by_area_effects.csv").exists()
