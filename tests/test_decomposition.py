"""The regime decomposition (sim.decomposition, configs/experiment/regime_decomposition.yaml).

Most tests build a synthetic paired 2^k design whose effects are known (no simulation):
the estimates must recover them, the intervals cover them, and the text must say only
what the intervals show. One end-to-end test runs the real command on the teaching
system with three of the six levers and a short horizon.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim import decomposition as dec

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "configs" / "experiment" / "regime_decomposition.yaml"
FACTORS = {"a": ("lo", "hi"), "b": (False, True), "c": (0.0, 0.03), "d": ("x", "y")}


def design(main: dict[str, float], inter: dict[tuple[str, str], float] | None = None,
           three: float = 0.0, replicates: int = 20, noise: float = 0.002,
           seed: int = 0, factors: dict = FACTORS) -> pd.DataFrame:
    """A paired 2^k table: outcome ``y`` (and ``z``, additive) with known effects.

    ``main[f]`` is outcome(high) − outcome(low) averaged over the rest; ``inter[(f, g)]``
    the two-factor interaction in the same convention (half the difference of f's effect
    at g high and g low); ``three`` a three-factor interaction of the first three factors.
    Each replicate adds a shift common to all its cells (what pairing removes).
    """
    rng = np.random.default_rng(seed)
    names = list(factors)
    rows = []
    for r in range(replicates):
        shift = rng.normal(0.0, 0.05)  # 25x the noise: unpaired intervals would be wide
        for bits in itertools.product((0, 1), repeat=len(names)):
            x = {f: 2 * b - 1 for f, b in zip(names, bits, strict=True)}
            y = 0.6 + shift + sum(main.get(f, 0.0) / 2 * x[f] for f in names)
            y += sum(v / 2 * x[f] * x[g] for (f, g), v in (inter or {}).items())
            y += three / 2 * x[names[0]] * x[names[1]] * x[names[2]]
            row = {f: factors[f][b] for f, b in zip(names, bits, strict=True)}
            row.update(replicate=r, status="complete", y=y + rng.normal(0.0, noise),
                       z=0.3 + shift + 0.01 * x[names[0]] + rng.normal(0.0, noise))
            rows.append(row)
    return pd.DataFrame(rows)


def effect(effects: pd.DataFrame, name: str, outcome: str = "y") -> pd.Series:
    return effects[(effects["outcome"] == outcome) & (effects["effect"] == name)].iloc[0]


MAIN = {"a": -0.03, "b": 0.01, "c": -0.006, "d": 0.0}
INTER = {("a", "c"): 0.008}


# --------------------------------------------------------------------------- estimation
def test_recovers_main_effects_and_interaction_with_covering_intervals():
    effects = dec.factorial_effects(design(MAIN, INTER), FACTORS, ["y", "z"])
    assert set(effects.columns) >= {"outcome", "effect", "order", "estimate", "low", "high",
                                    "n_replicates"}
    for f, truth in MAIN.items():
        row = effect(effects, f)
        assert row.order == 1 and row.n_replicates == 20
        assert row.estimate == pytest.approx(truth, abs=0.001)
        assert row.low <= truth <= row.high
        assert row.high - row.low < 0.004  # pairing removes the shared shift
    for f, g in itertools.combinations(FACTORS, 2):
        row = effect(effects, f"{f} × {g}")
        assert row.order == 2
        assert row.estimate == pytest.approx(INTER.get((f, g), 0.0), abs=0.001)
    row = effect(effects, "a × c")
    assert row.excludes_zero and row.low <= 0.008 <= row.high
    assert not effect(effects, "d").excludes_zero


def test_intervals_cover_the_truth_95_times_in_100():
    """Coverage over 200 synthetic designs (2^3, 5 replicates, 7 effects each)."""
    factors = {"a": (0, 1), "b": (0, 1), "c": (0, 1)}
    truth = {"a": 0.02, "b": -0.01, "c": 0.0, "a × b": 0.005, "a × c": 0.0, "b × c": 0.0,
             dec.GAP: 0.01}
    covered = []
    for seed in range(200):
        runs = design({"a": 0.02, "b": -0.01}, {("a", "b"): 0.005}, replicates=5,
                      noise=0.01, seed=seed, factors=factors)
        effects = dec.factorial_effects(runs, factors, ["y"]).set_index("effect")
        low, high = effects["low"].to_dict(), effects["high"].to_dict()
        covered += [low[name] <= value <= high[name] for name, value in truth.items()]
    assert 0.925 <= np.mean(covered) <= 0.975  # 1400 intervals: sd 0.006


def test_total_gap_is_the_paired_corner_difference_and_shares_add_up():
    runs = design(MAIN, INTER)
    effects = dec.factorial_effects(runs, FACTORS, ["y"])
    gap = effect(effects, dec.GAP)
    hi = runs[(runs.a == "hi") & runs.b & (runs.c == 0.03) & (runs.d == "y")]
    lo = runs[(runs.a == "lo") & ~runs.b & (runs.c == 0.0) & (runs.d == "x")]
    paired = hi.set_index("replicate")["y"] - lo.set_index("replicate")["y"]
    assert gap.estimate == pytest.approx(paired.mean())
    assert gap.estimate == pytest.approx(sum(MAIN.values()), abs=0.002)
    # two-factor interactions cancel out of the corner difference: main effects add up
    mains = effects[(effects["outcome"] == "y") & (effects["order"] == 1)]
    assert mains["share_of_gap"].sum() == pytest.approx(1.0, abs=0.1)
    assert effect(effects, "a").share_of_gap == pytest.approx(-0.03 / -0.026, abs=0.1)
    assert not effect(effects, dec.REST).excludes_zero


def test_a_three_lever_interaction_is_what_the_main_effects_leave_of_the_gap():
    effects = dec.factorial_effects(design(MAIN, three=0.01), FACTORS, ["y"])
    rest = effect(effects, dec.REST)
    assert rest.estimate == pytest.approx(0.01, abs=0.002)
    assert rest.excludes_zero
    text = dec.markdown(effects, ["y"])
    assert "three or more levers acting together" in text


def test_additive_design_has_no_important_interaction():
    effects = dec.factorial_effects(design(MAIN), FACTORS, ["y", "z"])
    assert dec.important_interactions(effects, 0.25).empty
    assert "Important interactions" in dec.markdown(effects, ["y"])
    assert ": none." in dec.markdown(effects, ["y"])


def test_important_interactions_need_a_clear_interval_and_a_size():
    effects = dec.factorial_effects(design(MAIN, INTER), FACTORS, ["y"])
    imp = dec.important_interactions(effects, 0.25)
    assert list(imp["effect"]) == ["a × c"]
    assert imp["relative_to_largest_main"].iloc[0] == pytest.approx(0.008 / 0.03, abs=0.05)
    assert dec.important_interactions(effects, 0.5).empty  # 27% of the largest < 50%
    with pytest.raises(ValueError, match="threshold"):
        dec.important_interactions(effects, -1)


def test_a_noisy_interaction_is_not_important():
    noisy = design(MAIN, {("a", "c"): 0.008}, noise=0.05, replicates=3, seed=1)
    effects = dec.factorial_effects(noisy, FACTORS, ["y"])
    row = effect(effects, "a × c")
    assert not row.excludes_zero
    assert "a × c" not in set(dec.important_interactions(effects)["effect"])


def test_levels_are_matched_across_types_and_orientation_follows_low_high():
    runs = design(MAIN)
    as_text = runs.assign(b=runs["b"].map({True: "true", False: "false"}),
                          c=runs["c"].astype(str))
    flipped = dict(FACTORS, a=("hi", "lo"))
    one = dec.factorial_effects(as_text, FACTORS, ["y"])
    two = dec.factorial_effects(runs, flipped, ["y"])
    assert effect(one, "b").estimate == pytest.approx(effect(
        dec.factorial_effects(runs, FACTORS, ["y"]), "b").estimate)
    assert effect(two, "a").estimate == pytest.approx(-effect(one, "a").estimate)


# --------------------------------------------------------------------------- bad designs
def test_unbalanced_design_fails_naming_the_missing_cell():
    runs = design(MAIN, replicates=4)
    gone = (runs.replicate == 2) & (runs.a == "hi") & runs.b & (runs.c == 0.0) & (runs.d == "x")
    with pytest.raises(ValueError, match=r"unbalanced design: replicate 2 lacks 1 of 16 cells, "
                                         r"e\.g\. a=hi, b=True, c=0, d=x"):
        dec.factorial_effects(runs[~gone], FACTORS, ["y"])
    # a failed run is a missing cell too
    failed = runs.assign(status=np.where(gone, "failed", "complete"))
    with pytest.raises(ValueError, match="replicate 2 lacks 1 of 16"):
        dec.factorial_effects(failed, FACTORS, ["y"])
    kept = dec.factorial_effects(runs[~gone], FACTORS, ["y"], drop_incomplete=True)
    assert kept.attrs["dropped_replicates"] == [2]
    assert set(kept["n_replicates"]) == {3}


def test_a_cell_run_twice_fails():
    runs = design(MAIN, replicates=3)
    with pytest.raises(ValueError, match="more than one run in the same replicate"):
        dec.factorial_effects(pd.concat([runs, runs.iloc[[5]]]), FACTORS, ["y"])


@pytest.mark.parametrize("change, message", [
    ({"a": "middle"}, r"factor a must have exactly two levels, lo and hi; the runs have "
                      r"middle, lo, hi"),
    ({"a": "lo"}, r"factor a must have exactly two levels, lo and hi; the runs have lo$"),
])
def test_a_factor_without_exactly_its_two_levels_fails(change, message):
    runs = design(MAIN, replicates=2)
    key, value = next(iter(change.items()))
    if value == "middle":
        runs.loc[runs.index[:3], key] = value
    else:
        runs[key] = value
    with pytest.raises(ValueError, match=message):
        dec.factorial_effects(runs, FACTORS, ["y"])


def test_missing_columns_are_named():
    runs = design(MAIN, replicates=2)
    with pytest.raises(ValueError, match="lacks column.*e, coordination"):
        dec.factorial_effects(runs, dict(FACTORS, e=(0, 1)), ["coordination"])


# --------------------------------------------------------------------------- the text
def test_sentence_claims_only_what_the_intervals_show():
    runs = design(MAIN, INTER).rename(columns={"y": "care_coordination"})
    effects = dec.factorial_effects(runs, FACTORS, ["care_coordination"])
    text = dec.markdown(effects, ["care_coordination"])
    gap = effect(effects, dec.GAP, "care_coordination")
    # a 0-1 outcome in points (0-100), the gap as a size with its interval
    assert (f"`care_coordination` is {abs(gap.estimate) * 100:.2f} points lower under the "
            f"mandated regime than under the locally led one (interval "
            f"−{abs(gap.low) * 100:.2f} to −{abs(gap.high) * 100:.2f})") in text
    # the largest clear lever, as a size with its interval flipped to sizes
    assert "Of this gap, a accounts for about 3.04 points (2.99 to 3.09), 112% of it" in text
    assert "Working the other way: b +1.00 points (+0.94 to +1.07)" in text
    assert "The intervals of d include zero" in text  # the null lever is not credited
    # a table row per main effect plus the gap and the rest, sorted by size
    table = [line for line in text.splitlines() if line.startswith("| `")]
    assert [line.split("`")[1] for line in table[:4]] == ["a", "b", "c", "d"]


def test_no_gap_no_attribution():
    # levers that cancel: no gap between the corners (seed 1: its interval includes 0)
    flat = design({"a": 0.01, "b": -0.01}, noise=0.004, replicates=6, seed=1)
    effects = dec.factorial_effects(flat, FACTORS, ["y"])
    assert not effect(effects, dec.GAP).excludes_zero
    text = dec.markdown(effects, ["y"])
    assert "do not clearly differ" in text and "accounts for" not in text
    assert "clearly move it on their own: b −0.0100 (−0.0121 to −0.0078); a +0.0092" in text
    assert "The intervals of d, c include zero" in text


def test_figure_is_written(tmp_path):
    effects = dec.factorial_effects(design(MAIN, INTER), FACTORS, ["y"])
    out = dec.figure(effects, "y", tmp_path / "y.png")
    assert out.stat().st_size > 5000
    with pytest.raises(ValueError, match="no effects for outcome 'q'"):
        dec.figure(effects, "q", tmp_path / "q.png")


# --------------------------------------------------------------------------- the experiment
def test_experiment_sweeps_exactly_the_levers_that_separate_the_presets():
    levers = dec.regime_levers()
    assert set(levers) == {"regime.partner_choice", "regime.may_exit", "regime.contracts",
                           "regime.existing", "regime.reporting_fte", "regime.priorities"}
    cfg = OmegaConf.load(EXPERIMENT)
    params = OmegaConf.to_container(cfg.hydra.sweeper.params)
    assert params.pop("replicate") == "range(0,10)"
    assert list(params) == list(levers)
    for key, (low, high) in levers.items():
        values = [dec._norm(v) for v in str(params[key]).split(",")]
        assert values == [dec._norm(low), dec._norm(high)], key  # local value first
    reference = OmegaConf.to_container(cfg.hydra.callbacks.sweep.reference)
    assert {k: dec._norm(v) for k, v in reference.items()} == {
        k: dec._norm(low) for k, (low, _) in levers.items()}
    assert cfg.regime.name == "decomposition"


# --------------------------------------------------------------------------- end to end
SCRIPT = Path(sys.executable).with_name("collabsim")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "sim.cli"]


def test_end_to_end_through_the_command(tmp_path, capsys):
    """Two levers x 3 replicates on the teaching system: the sweep writes its
    decomposition itself, and the analysis command rebuilds it from the run folders.

    The other levers are fixed at their local values on the command line (a fixed value
    replaces the experiment's sweep of that key).
    """
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    sweep_dir = tmp_path / "results" / "sweeps" / "small"
    run = subprocess.run(
        [*COMMAND, "experiment=regime_decomposition", "system=teaching",
         "time.burn_in_weeks=20", "time.policy_weeks=20", "regime.existing=kept",
         "regime.may_exit=true", "regime.contracts=optional", "regime.priorities=local",
         "replicate=0,1,2",
         f"hydra.sweep.dir={sweep_dir}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    runs = dec.read_sweep(sweep_dir)
    assert sorted(runs.attrs["factors"]) == ["regime.partner_choice", "regime.reporting_fte"]
    assert len(runs) == 12 and set(runs["replicate"]) == {0, 1, 2}
    written = sweep_dir / dec.OUT_DIR / "effects.csv"
    assert written.is_file(), "the sweep did not write its decomposition"
    first = pd.read_csv(written)

    analyse = [sys.executable, "-m", "sim.decomposition", str(sweep_dir)]
    done = subprocess.run(analyse, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = sweep_dir / dec.OUT_DIR
    effects = pd.read_csv(out / "effects.csv")
    pd.testing.assert_frame_equal(effects, first)  # the same analysis of the same runs
    assert set(effects["outcome"]) == set(dec.OUTCOMES)
    assert set(effects.loc[effects["order"] == 1, "effect"]) == set(runs.attrs["factors"])
    assert list(effects.loc[effects["order"] == 2, "effect"].unique()) == [
        "regime.partner_choice × regime.reporting_fte"]
    assert (effects["n_replicates"] == 3).all()
    # paperwork: reporting adds it, in every replicate
    rep = effects[(effects.outcome == "admin_burden")
                  & (effects.effect == "regime.reporting_fte")].iloc[0]
    assert rep.estimate > 0
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        f"{o}.png" for o in dec.OUTCOMES)
    assert "`care_coordination`" in (out / "decomposition.md").read_text(encoding="utf-8")

    # a second run replaces its own folder; a foreign file stops it and is kept
    (out / "decomposition.md").write_text("stale", encoding="utf-8")
    assert dec.main([str(sweep_dir)]) == 0
    assert (out / "decomposition.md").read_text(encoding="utf-8") != "stale"
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert dec.main([str(sweep_dir)]) == 1
    assert "notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not list(sweep_dir.glob(f"{dec.OUT_DIR}.*"))  # no temporary folder left
