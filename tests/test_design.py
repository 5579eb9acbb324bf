"""Design sweeps (sim.design, sim.sweep's design plan, sim.analyses): the points, their jobs,
their runs, resuming, and the analyses read back from disk.

The end-to-end tests run ``collabsim experiment=sensitivity`` and ``experiment=discovery``
as a user would, shrunk to seconds: the teaching system, 8 + 8 weeks, three or four
parameters, the smallest samples SALib accepts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import design
from sim.config import ConfigError

SCRIPT = Path(sys.executable).with_name("collabsim")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "sim.cli"]
KEY = "hydra.callbacks.sweep.design"
SHORT = ["time.burn_in_weeks=8", "time.policy_weeks=8", "hydra.launcher.n_jobs=1"]
THREE = f"{KEY}.parameters=[context.initial_trust,trust.loss,partnerships.max_partners]"
TWO = f"{KEY}.parameters=[context.initial_trust,trust.loss]"


def collabsim(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "_COLLABSIM_TEST_FAIL"}
    return subprocess.run([*COMMAND, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(("raw", "words"), [
    ({"analysis": "sensitivty"}, ["design.analysis='sensitivty'", "sensitivity, discovery"]),
    ({"analysis": "sensitivity", "trajectory": 4}, ["design.trajectory", "trajectories"]),
    ({"analysis": "sensitivity", "levels": 3}, ["levels=3", "even"]),
    ({"analysis": "sensitivity", "base_samples": 48}, ["base_samples=48", "32 or 64"]),
    ({"analysis": "sensitivity", "trajectories": 0}, ["trajectories=0", "at least 2"]),
    ({"analysis": "sensitivity", "keep_share": 1.5}, ["keep_share=1.5", "between 0 and 1"]),
    ({"analysis": "sensitivity", "stage": "lhs"}, ["stage='lhs'", "screening, sobol"]),
    ({"analysis": "sensitivity", "parameters": ["context.initial_trust", "regime.contracts"]},
     ["regime.contracts", "lever", "--keys"]),
    ({"analysis": "sensitivity", "parameters": ["context.initial_trust", "trust.nope"]},
     ["trust.nope", "no such parameter"]),
    ({"analysis": "sensitivity", "parameters": ["context.initial_trust"]}, ["at least two"]),
    ({"analysis": "discovery", "outcome": "coordination"}, ["'coordination' is not an outcome"]),
    ({"analysis": "discovery", "treatment": "local"}, ["both 'local'"]),
])
def test_bad_design_settings_are_named(raw, words):
    with pytest.raises(ConfigError) as err:
        design.design_spec(raw)
    for word in words:
        assert word in str(err.value)


def test_default_parameters_are_every_declared_uncertainty():
    spec = design.design_spec({"analysis": "sensitivity"})
    assert spec.stage == "screening" and spec.method == "morris"
    assert spec.keys == tuple(p.key for p in sim.parameters("uncertainty"))


def test_a_design_samples_only_the_uncertainties_that_act_on_its_system():
    """England's area context does nothing on another system: a screening that sampled
    it there could only report it as having no effect, which a reader would take for a
    finding about places."""
    from omegaconf import OmegaConf

    from sim.sweep import design_of

    england_only = {p.key for p in sim.parameters("uncertainty") if p.systems}
    assert england_only == {"context.regional_labour_market", "context.collaboration_history",
                            "context.area_leadership_spread"}
    everything = tuple(p.key for p in sim.parameters("uncertainty"))
    for system in ("teaching", "ics", "england_synthetic", "csv"):
        keys = design.design_spec({"analysis": "sensitivity"}, system=system).keys
        assert keys == tuple(k for k in everything if k not in england_only), system
    assert design.design_spec({"analysis": "discovery"}, system="england").keys == everything
    composed = OmegaConf.create({"system": {"name": "teaching"}, "hydra": {"callbacks": {
        "sweep": {"design": {"analysis": "sensitivity"}}}}})
    assert not england_only & set(design_of(composed).keys)
    listed = {"analysis": "sensitivity",
              "parameters": ["context.initial_trust", "context.collaboration_history"]}
    with pytest.raises(ConfigError, match=r"'context.collaboration_history', which acts only "
                                          r"on system=england, not on system=ics"):
        design.design_spec(listed, system="ics")
    assert design.design_spec(listed, system="england").keys == tuple(listed["parameters"])


# --------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("raw", [
    {"analysis": "sensitivity", "trajectories": 3},
    {"analysis": "sensitivity", "stage": "sobol", "base_samples": 8},
    {"analysis": "discovery", "points": 20},
])
def test_points_lie_in_the_plausible_ranges_and_repeat_with_the_seed(raw):
    spec = design.design_spec(raw)
    prob, x = design.sample(spec, seed=0)
    declared = {p.key: p for p in sim.parameters()}
    assert x.shape[1] == len(spec.keys) == prob["num_vars"]
    for j, key in enumerate(prob["names"]):
        low, high = declared[key].plausible
        assert (x[:, j] >= low).all() and (x[:, j] <= high).all(), key
        if declared[key].type == "int":
            assert (x[:, j] == np.rint(x[:, j])).all(), key
    again = design.sample(spec, seed=0)[1]
    other = design.sample(spec, seed=1)[1]
    assert np.array_equal(x, again) and not np.array_equal(x, other)


def test_a_point_is_its_overrides():
    spec = design.design_spec({"analysis": "discovery", "points": 5})
    prob, x = design.sample(spec, seed=3)
    for overrides, values in zip(design.point_overrides(prob, x),
                                 design.point_values(prob, x), strict=True):
        config = sim.load_config(overrides)
        for key, value in values.items():
            section, leaf = key.rsplit(".", 1)
            got = getattr(getattr(config, section), leaf)
            assert got == value and type(got) is type(value), key


def test_smaller_sobol_samples_are_prefixes_of_larger_ones():
    """What the convergence study relies on, and what lets a larger sample resume."""
    small = design.design_spec({"analysis": "sensitivity", "stage": "sobol", "base_samples": 8,
                                "parameters": ["context.initial_trust", "trust.loss",
                                               "trust.gain"]})
    large = dataclasses.replace(small, base_samples=32)
    xs, xl = design.sample(small, 0)[1], design.sample(large, 0)[1]
    assert len(xs) == 8 * 5 and len(xl) == 32 * 5
    assert np.array_equal(xs, xl[:len(xs)])


# --------------------------------------------------------------------------- end to end
def experiment_folder(cwd: Path, name: str) -> Path:
    (folder,) = [p for p in (cwd / "results" / "sweeps").iterdir() if p.name.startswith(name)]
    return folder


def job_summary(stage: Path, job: str) -> dict:
    return json.loads((stage / job / "run" / "summary.json").read_text())


@pytest.fixture(scope="module")
def sensitivity_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("sensitivity")
    proc = collabsim(cwd, "experiment=sensitivity", *SHORT, THREE,
                     f"{KEY}.trajectories=2", f"{KEY}.base_samples=4")
    return cwd, proc


def test_sensitivity_runs_both_stages_and_writes_its_analysis(sensitivity_run):
    cwd, proc = sensitivity_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = experiment_folder(cwd, "sensitivity")
    screening, sobol = folder / "screening", folder / "sobol"
    _, prob, x = design.read_design(screening)
    assert x.shape == (2 * 4, 3)
    jobs = json.loads((screening / "sweep.json").read_text())["jobs"]
    # screening runs replicate 0 only (screening_replicates: 1); Sobol' both replicates
    assert len(jobs) == 8 and all(j["dir"].endswith("replicate=0") for j in jobs)
    assert all((screening / j["dir"] / "run").is_dir() for j in jobs)
    sobol_jobs = json.loads((sobol / "sweep.json").read_text())["jobs"]
    assert {j["dir"].rsplit("=", 1)[1] for j in sobol_jobs} == {"0", "1"}
    assert not list(screening.glob("chunk-*"))  # Hydra's records of the chunks are tidied
    settings, sprob, sx = design.read_design(sobol)
    kept = sprob["names"]
    assert set(kept) <= set(prob["names"]) and len(kept) >= 2
    assert sx.shape == (4 * (len(kept) + 2), len(kept))
    analysis = folder / "analysis"
    for name in ("sensitivity.md", "morris.csv", "sobol.csv", "convergence.csv", "noise.csv"):
        assert (analysis / name).is_file(), name
    morris = pd.read_csv(analysis / "morris.csv")
    assert set(morris["parameter"]) == set(prob["names"])
    assert set(morris["outcome"]) == set(sim.MAIN_OUTCOMES)
    sobol_table = pd.read_csv(analysis / "sobol.csv")
    assert set(sobol_table["parameter"]) == set(kept)
    assert set(sobol_table["outcome"]) == set(sim.MAIN_OUTCOMES)


def test_a_design_point_is_the_run_of_its_command(sensitivity_run):
    """A point's run is exactly `collabsim <the point's overrides> replicate=r`."""
    cwd, _ = sensitivity_run
    screening = experiment_folder(cwd, "sensitivity") / "screening"
    job = json.loads((screening.parent / "sobol" / "sweep.json").read_text())["jobs"][5]
    assert job["dir"] == "point=0002,replicate=1"
    screening = screening.parent / "sobol"
    overrides = [o for o in job["overrides"] if not o.startswith("replicate=")]
    replicate = int(next(o for o in job["overrides"] if o.startswith("replicate="))[10:])
    config = sim.load_config(["system=teaching", "time.burn_in_weeks=8",
                              "time.policy_weeks=8", *overrides])
    result = sim.run(config, replicate=replicate)
    recorded = job_summary(screening, job["dir"])
    for name in sim.MAIN_OUTCOMES:
        assert result.summary[name] == pytest.approx(recorded[name], nan_ok=True), name


def test_the_analysis_is_a_function_of_the_folder(sensitivity_run):
    """sim.analyses reads the runs on disk back: the same tables as the written analysis."""
    from sim import analyses

    cwd, _ = sensitivity_run
    folder = experiment_folder(cwd, "sensitivity")
    tables = analyses.sensitivity(folder)
    written = pd.read_csv(folder / "analysis" / "sobol.csv")
    pd.testing.assert_frame_equal(tables["sobol"].reset_index(drop=True)[written.columns],
                                  written, check_dtype=False, atol=1e-9)


def test_the_same_command_again_runs_nothing(sensitivity_run):
    cwd, _ = sensitivity_run
    folder = experiment_folder(cwd, "sensitivity")
    before = {p: p.stat().st_mtime_ns for p in folder.glob("*/point=*/run/provenance.json")}
    proc = collabsim(cwd, "experiment=sensitivity", *SHORT, THREE,
                     f"{KEY}.trajectories=2", f"{KEY}.base_samples=4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("nothing to run") == 2  # both stages
    after = {p: p.stat().st_mtime_ns for p in folder.glob("*/point=*/run/provenance.json")}
    assert before == after and len(before) > 0


def test_another_design_in_the_same_folder_is_refused(sensitivity_run, tmp_path):
    """Other parameters draw other points: the old runs are stale and never mixed in."""
    cwd, _ = sensitivity_run
    folder = experiment_folder(cwd, "sensitivity")
    other = f"{KEY}.parameters=[context.initial_trust,trust.loss,trust.gain]"
    proc = collabsim(cwd, "experiment=sensitivity", *SHORT, other,
                     f"{KEY}.trajectories=2", f"{KEY}.base_samples=4",
                     f"hydra.sweep.dir='{folder}'")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "another scenario" in proc.stderr and "stale=rerun" in proc.stderr
    assert design.read_design(folder / "screening")[2].shape[0] == 8  # unchanged


def test_discovery_compares_two_regimes_at_each_point(tmp_path):
    proc = collabsim(tmp_path, "experiment=discovery", *SHORT, f"{KEY}.points=8", TWO,
                     f"{KEY}.threshold=0.0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = experiment_folder(tmp_path, "discovery")
    stage = folder / "lhs"
    effects = pd.read_csv(folder / "analysis" / "effects.csv")
    assert len(effects) == 8
    # the effect at a point is the mean of its paired differences, by hand from the runs
    point = 4
    diffs = [job_summary(stage, f"point={point:04d},regime=mandated,replicate={r}")
             ["care_coordination"]
             - job_summary(stage, f"point={point:04d},regime=local,replicate={r}")
             ["care_coordination"] for r in (0, 1)]
    assert effects.loc[effects.index[point], "effect"] == pytest.approx(np.mean(diffs))
    assert (folder / "analysis" / "discovery.md").is_file()
    assert (folder / "analysis" / "boxes.csv").is_file()


def test_a_discovery_without_its_regimes_is_refused(tmp_path):
    proc = collabsim(tmp_path, "experiment=discovery", *SHORT, "regime=local,hybrid")
    assert proc.returncode == 2
    assert "treatment='mandated' is not among the regimes" in proc.stderr
    assert not (tmp_path / "results" / "sweeps").exists() or not any(
        (tmp_path / "results" / "sweeps").rglob("point=*"))


def test_a_failing_point_is_isolated_and_no_analysis_is_written(tmp_path):
    env_fail = {**os.environ, "_COLLABSIM_TEST_FAIL": "replicate=1"}
    proc = subprocess.run([*COMMAND, "experiment=sensitivity", *SHORT, TWO,
                           f"{KEY}.trajectories=2", f"{KEY}.screening_replicates=0",
                           "hydra.launcher.n_jobs=2"],
                          cwd=tmp_path, env=env_fail,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stderr[-3000:]
    screening = experiment_folder(tmp_path, "sensitivity") / "screening"
    assert len(list(screening.glob("point=*,replicate=1/FAILED.json"))) == 6
    assert len(list(screening.glob("point=*,replicate=0/run/provenance.json"))) == 6
    assert not (screening.parent / "analysis").exists()
    assert not (screening.parent / "sobol").exists()


def test_the_scenario_report_points_to_the_analysis(sensitivity_run):
    """A design's points are not scenarios: collabsim-report refuses and says what to run."""
    cwd, _ = sensitivity_run
    folder = experiment_folder(cwd, "sensitivity")
    script = Path(sys.executable).with_name("collabsim-report")
    for target in (folder, folder / "screening"):
        proc = subprocess.run([str(script), str(target)], capture_output=True, text=True)
        assert proc.returncode == 2
        assert f"python -m sim.analyses {folder}" in proc.stderr
    assert not (folder / "screening" / "report").exists()


def test_the_analysis_command_refuses_a_folder_without_a_design(tmp_path):
    from sim import analyses

    (tmp_path / "notes.txt").write_text("mine")
    assert analyses.main([str(tmp_path)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
