"""The validation package: the patterns (reduced), the harness, the command.

Each criterion must hold with a statistical criterion: the 95% interval of its paired
effect over replicates clears the criterion's smallest meaningful effect in the stated
direction. The reduced run uses a shorter horizon and fewer replicates; the full version
is ``uv run collabsim-validate``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.validation as V
from sim.decomposition import regime_levers
from sim.outcome_spec import outcome
from sim.regimes import STATUS_QUO
from sim.stats import Interval
from sim.validation import scenarios
from sim.validation.cli import main
from sim.validation.patterns import Criterion

REPLICATES = 8
REDUCED = ["time.burn_in_weeks=78", "time.policy_weeks=156"]
#: A tiny scenario for the harness's own tests: the teaching system, short horizon.
TINY = ("system=teaching", "time.burn_in_weeks=52", "time.policy_weeks=60")


@pytest.fixture(scope="module")
def reduced_summary() -> dict[tuple[str, str], dict]:
    effects = V.measure_patterns(REDUCED, range(REPLICATES), workers=2)
    return {(r["pattern"], r["criterion"]): r for r in V.summarise_patterns(effects)}


CRITERIA = [(p.key, c.statement) for p in V.PATTERNS for c in p.criteria]
#: The committed full report (``uv run collabsim-validate``, 20 replicates at the defaults):
#: one row per criterion.
FULL_REPORT = Path(__file__).resolve().parents[1] / "docs" / "validation" / "validation.json"
FULL_ROWS: list[dict] = json.loads(FULL_REPORT.read_text(encoding="utf-8"))
#: Criteria that passed in the committed full report: these must hold in the reduced run
#: too; the rest are expected failures, reported there honestly. Read from the report
#: itself, so that regenerating it is the one step that updates this set. Comparisons
#: with published levels (e.g. five-year growth of admissions) are left out: the reduced
#: run's shorter horizon changes the level they compare.
HOLDS: set[tuple[str, str]] = {(row["pattern"], row["criterion"]) for row in FULL_ROWS
                               if row["passed"] and row["form"] != "comparison"}


def test_full_report_states_every_current_criterion() -> None:
    """The committed report was made with today's patterns: every criterion appears in it
    (and no retired one), so a pattern restated without regenerating the report fails."""
    reported = {(row["pattern"], row["criterion"]) for row in FULL_ROWS}
    assert reported == set(CRITERIA), (
        f"docs/validation/ is stale; regenerate it with `uv run collabsim-validate`. "
        f"Missing: {sorted(set(CRITERIA) - reported)}; retired: {sorted(reported - set(CRITERIA))}")


def test_patterns_are_defined() -> None:
    assert len(V.PATTERNS) == 12
    assert len({p.key for p in V.PATTERNS}) == 12
    for p in V.PATTERNS:
        assert len({c.name for c in p.criteria}) == len(p.criteria), p.key
        assert p.scenarios, p.key


def test_every_criterion_states_its_smallest_effect() -> None:
    """Every criterion has a smallest meaningful effect > 0 and says why; where the
    effect is a difference of an outcome, the value is the registry's."""
    for p in V.PATTERNS:
        for c in p.criteria:
            assert c.smallest_effect > 0 and c.basis and c.unit, (p.key, c.name)
    crit = {(p.key, c.name): c for p in V.PATTERNS for c in p.criteria}
    for key, name in [(("1_mandates", "coordination"), "care_coordination"),
                      (("1_mandates", "faith"), "mean_belief"),
                      (("3_contracts", "survival"), "partnership_survival"),
                      (("11_allocation", "vacancies"), "vacancy_rate"),
                      (("8_distance", "nearer_than_candidates"), "partner_distance_km")]:
        assert crit[key].smallest_effect == outcome(name).smallest_difference, key
    # "at least as well" is a non-inferiority criterion, stated as such
    assert crit[("1_mandates", "no_partnerships")].form == "non-inferiority"
    # raw clustering follows from candidates being the nearest providers: not evidence
    assert not crit[("8_distance", "clustered")].is_evidence
    assert crit[("12_admissions", "care_home_ratio")].published == (0.60, 1.0)


def test_allocation_compares_with_the_status_quo_continued() -> None:
    """Pattern 11's reference is the burn-in's rules, read from sim.regimes.STATUS_QUO."""
    sq = scenarios.build([], V.patterns.pattern("11_allocation").scenarios["status_quo"])
    for f in dataclasses.fields(STATUS_QUO):
        if f.name != "name":
            assert getattr(sq.regime, f.name) == getattr(STATUS_QUO, f.name), f.name


@pytest.mark.parametrize(("pattern", "criterion"), CRITERIA,
                         ids=[f"{p}:{c[:40]}" for p, c in CRITERIA])
def test_pattern_holds(reduced_summary, pattern: str, criterion: str) -> None:
    if (pattern, criterion) not in HOLDS:
        pytest.xfail("does not hold in the full report (docs/validation/validation.md), or "
                     "compares a five-year level the reduced horizon cannot reach")
    row = reduced_summary[(pattern, criterion)]
    assert row["passed"], (f"{pattern}: {criterion}: effect {row['effect']:+.4g}, 95% interval "
                           f"[{row['ci_low']:+.4g}, {row['ci_high']:+.4g}] over "
                           f"{row['replicates']} replicates")


def test_complexity_fails_without_quadratic_paperwork() -> None:
    """A model whose paperwork does not grow with the partner count fails pattern 6's
    fall: the criterion tests the mechanism, not the design."""
    base = ["time.policy_weeks=104"]
    crit = V.patterns.pattern("6_complexity").criteria
    with_term = V.summarise_patterns(V.measure_patterns(
        base, range(3), workers=1, patterns=["6_complexity"]))
    without = V.summarise_patterns(V.measure_patterns(
        [*base, "paperwork.complexity_partners=1000"], range(3), workers=1,
        patterns=["6_complexity"]))
    falls = {r["name"]: r for r in with_term}["then_falls"]
    no_fall = {r["name"]: r for r in without}["then_falls"]
    assert crit[1].name == "then_falls"
    assert falls["passed"], falls
    assert not no_fall["passed"] and no_fall["effect"] < 0, no_fall


def test_interval_decides_pass() -> None:
    effects = pd.DataFrame({"pattern": "1_mandates", "criterion": "coordination",
                            "replicate": range(5), "effect": [-0.1, -0.2, -0.15, -0.12, -0.18]})
    (row,) = V.summarise_patterns(effects)
    assert row["passed"] and row["ci_high"] < -row["smallest_effect"]
    assert row["rule"] == "upper end < -0.01 share 0-1"
    effects["effect"] = [-0.1, 0.2, -0.15, 0.12, -0.18]
    (row,) = V.summarise_patterns(effects)
    assert not row["passed"] and row["ci_low"] < 0 < row["ci_high"]
    # excluding zero is not enough: the interval must clear the smallest effect
    effects["effect"] = [-0.004, -0.006, -0.005, -0.0055, -0.0045]
    (row,) = V.summarise_patterns(effects)
    assert not row["passed"] and row["ci_high"] < 0


def _c(direction: int = +1, form: str = "superiority", published=None) -> Criterion:
    return Criterion("c", "x", direction, 0.03, "share 0-1", "a stated reason", form=form,
                     published=published)


def test_smallest_effect_must_be_cleared() -> None:
    interval = Interval(n=5, mean=0.05, sd=0.01, low=0.02, high=0.08)
    assert not _c().passes(interval)  # excludes zero, but not 0.03
    assert _c().passes(Interval(5, 0.06, 0.01, 0.04, 0.08))
    assert _c(-1).passes(Interval(5, -0.06, 0.01, -0.08, -0.04))
    assert not _c(-1).passes(Interval(5, -0.05, 0.01, -0.08, -0.02))
    assert not _c().passes(Interval(1, 0.3, math.nan, math.nan, math.nan))
    # non-inferiority: the lower end above minus the smallest effect
    worse_but_not_much = Interval(5, -0.005, 0.01, -0.02, 0.01)
    assert _c(form="non-inferiority").passes(worse_but_not_much)
    assert not _c(form="non-inferiority").passes(Interval(5, -0.02, 0.01, -0.04, 0.0))
    assert _c(form="non-inferiority").threshold == -0.03
    # a published range: the interval must overlap it
    ranged = _c(form="published range", published=(0.6, 1.0))
    assert ranged.passes(Interval(5, 1.02, 0.01, 0.98, 1.06))
    assert not ranged.passes(Interval(5, 1.1, 0.01, 1.05, 1.15))
    assert ranged.rule == "interval overlaps [0.6, 1] share 0-1"
    assert not _c(form="design property").is_evidence
    with pytest.raises(ValueError, match="direction=0"):
        Criterion("c", "x", 0, 0.01, "u", "b")
    with pytest.raises(ValueError, match="smallest_effect=0.0 must be > 0"):
        Criterion("c", "x", +1, 0.0, "u", "b")
    with pytest.raises(ValueError, match="basis is empty"):
        Criterion("c", "x", +1, 0.01, "u", " ")
    with pytest.raises(ValueError, match="form='nonsense'"):
        _c(form="nonsense")
    with pytest.raises(ValueError, match="published range .low <= high. is required"):
        _c(form="published range")
    with pytest.raises(ValueError, match="published=.0.6, 1.0. with form='superiority'"):
        _c(published=(0.6, 1.0))


def test_scenario_layers() -> None:
    base = ["system=teaching", "regime.contracts=required", "context.initial_trust=0.4"]
    setting = {"context.initial_trust": 0.2, "workforce.labour_supply": 0.6}
    pattern = {"regime": "mandated", "workforce.labour_supply": 1.3, "regime.shared_goals": True}
    out = scenarios.compose(base, setting, pattern)
    # a later layer wins a key; a preset chosen later drops earlier keys of its section
    assert "context.initial_trust=0.2" in out and "workforce.labour_supply=1.3" in out
    assert "regime=mandated" in out and "regime.shared_goals=true" in out
    assert not any(o.startswith("regime.contracts") for o in out)
    config = scenarios.build(base, setting, pattern, replicate=4)
    assert (config.regime.name, config.replicate, config.context.initial_trust) == (
        "mandated", 4, 0.2)
    # presets' values come from configs/, not from copies
    shortage = scenarios.PresetValue("workforce", "shortage", "labour_supply").resolve()
    assert shortage == sim.load_config(["workforce=shortage"]).workforce.labour_supply
    # built configs are the caller's own: changing one does not leak into the next
    config.time.policy_weeks = 7
    assert scenarios.build(base, setting, pattern).time.policy_weeks != 7


def test_patterns_run_through_the_public_runner(monkeypatch) -> None:
    """A tiny pattern end to end: every scenario of a job is run by sim.run as one replicate,
    and the snapshot-based measures (patterns 2 and 8) read RunResult data only."""
    calls: list[tuple[str, int]] = []
    real_run = sim.run

    def spy(config, *args, **kwargs):
        assert not args and set(kwargs) == {"replicate"}, \
            "validation must pass only a replicate, never a seed: replicates pair runs"
        calls.append((config.regime.name, kwargs["replicate"]))
        return real_run(config, **kwargs)

    monkeypatch.setattr(V.runner, "run", spy)
    effects = V.measure_patterns(TINY, [0, 3], workers=1,
                                 patterns=["2_crowding_out", "8_distance"])
    assert list(effects["pattern"].unique()) == ["2_crowding_out", "8_distance"]
    assert effects.groupby("pattern")["replicate"].apply(list).to_dict() == {
        "2_crowding_out": [0, 3], "8_distance": [0, 0, 0, 3, 3, 3]}
    assert effects["effect"].notna().all()
    assert calls == [("mandated", 0), ("local", 0), ("mandated", 3), ("local", 3),
                     ("local", 0), ("local", 3)]
    distance = effects[effects["criterion"] == "clustered"]["effect"]
    assert (distance > 0).all()  # partners are nearer than random linked pairs, in km


def test_measures_need_their_snapshots() -> None:
    result = sim.run(sim.load_config(list(TINY)))
    from sim.validation import measures

    with pytest.raises(ValueError, match="output.agent_snapshot_every > 0"):
        measures.faith_change(result, -1, 51)
    snap = sim.run(sim.load_config([*TINY, "output.agent_snapshot_every=4"]))
    with pytest.raises(ValueError, match="no provider snapshot at week 0"):
        measures.providers_at(snap, 0)
    assert len(measures.providers_at(snap, 3)) == snap.providers["provider"].nunique()


def test_report_files(tmp_path) -> None:
    settings = V.Settings(overrides=TINY, replicates=3, robustness_replicates=2,
                          decomposition_replicates=2, workers=1,
                          patterns=("7_trust_asymmetry", "10_ambition"), out=tmp_path)
    status = V.run_validation(settings, progress=False)
    entries = json.loads((tmp_path / "validation.json").read_text())
    assert {e["pattern"] for e in entries} == {"7_trust_asymmetry", "10_ambition"}
    for e in entries:
        assert {"pattern", "criterion", "effect", "ci_low", "ci_high", "passed"} <= set(e)
        assert e["replicates"] == 3
    assert status == (0 if all(e["passed"] for e in entries) else 3)
    report = (tmp_path / "validation.md").read_text()
    assert "## Calibration of the status quo" in report and "## Robustness" in report
    assert (f"`uv run collabsim-validate --replicates 3 --robustness-replicates 2 "
            f"--decomposition-replicates 2 --workers 1 "
            f"--patterns 7_trust_asymmetry 10_ambition --out {tmp_path} system=teaching "
            "time.burn_in_weeks=52 time.policy_weeks=60`") in report
    assert (tmp_path / "figures" / "7_trust_asymmetry.png").stat().st_size > 0
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert set(effects["setting"]) == {"defaults", *V.ROBUSTNESS}
    assert not list(tmp_path.glob(".validation-staging-*"))
    # the regime decomposition: each of the six levers' main effect on every outcome it
    # reports, with an interval from the two replicates, a figure and a section
    levers = pd.read_csv(tmp_path / "decomposition.csv")
    mains = levers[levers["order"] == 1]
    assert set(mains["effect"]) == set(regime_levers())
    assert (mains.groupby("outcome").size() == 6).all()
    assert (levers["n_replicates"] == 2).all()
    assert (levers["low"] <= levers["estimate"]).all()
    assert (levers["estimate"] <= levers["high"]).all()
    assert "## Regime decomposition: which lever" in report
    assert "2 paired replicates per cell" in report
    assert (tmp_path / "figures" / "decomposition_care_coordination.png").stat().st_size > 0


def test_unknown_pattern_is_a_config_error(tmp_path) -> None:
    with pytest.raises(sim.ConfigError, match="12_nonsense.*choose from 1_mandates"):
        V.run_validation(V.Settings(patterns=("12_nonsense",), out=tmp_path), progress=False)
    assert not list(tmp_path.iterdir())


def test_settings_are_checked() -> None:
    with pytest.raises(sim.ConfigError, match="replicates=1 is not allowed; an integer >= 2"):
        V.Settings(replicates=1)
    with pytest.raises(sim.ConfigError, match="workers=0"):
        V.Settings(workers=0)
    with pytest.raises(sim.ConfigError, match="decomposition_replicates=1 is not allowed"):
        V.Settings(decomposition_replicates=1)


def test_command_help() -> None:
    script = Path(sys.executable).with_name("collabsim-validate")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True,
                         timeout=120).stdout
    for option in ("--replicates", "--robustness-replicates", "--decomposition-replicates",
                   "--workers", "--patterns",
                   "--out", "KEY=VALUE", "11_allocation"):
        assert option in out


def test_command_runs_and_reports(tmp_path, capsys) -> None:
    (tmp_path / "decomposition.csv").write_text("from an earlier report\n")
    status = main(["--replicates", "2", "--robustness-replicates", "0", "--workers", "1",
                   "--decomposition-replicates", "0", "--patterns", "10_ambition",
                   "--out", str(tmp_path), "--no-progress", *TINY])
    # a decomposition that did not run now is not left beside a report it does not belong to
    assert not (tmp_path / "decomposition.csv").exists()
    assert "Regime decomposition" not in (tmp_path / "validation.md").read_text()
    entries = json.loads((tmp_path / "validation.json").read_text())
    assert {e["pattern"] for e in entries} == {"10_ambition"}
    assert len(entries) == len(V.patterns.pattern("10_ambition").criteria)
    assert status == (0 if all(e["passed"] for e in entries) else 3)
    assert "criteria passed at the defaults" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--patterns", "12_nonsense"], "unknown validation pattern(s) 12_nonsense"),
    (["context.initial_trust=2.0"], "context.initial_trust=2.0 is out of range"),
    (["--replicates", "1"], "replicates=1 is not allowed"),
])
def test_command_errors(tmp_path, capsys, args, message) -> None:
    assert main([*args, "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("collabsim-validate: error:") and message in err
    assert not list(tmp_path.iterdir())
