"""Results you can trust (issue 10): inputs that cannot be read fail fast, sweeps that
would run nothing (or one job twice) are refused, job folders are a function of the
scenario and stay inside the sweep folder, and the Python API checks what it runs.

Command-line cases run ``python -m sim.cli`` in a temporary folder and check the exit
status, the one ``collabsim: error:`` line, and that nothing is left under
``results/``; API cases check that every mistake is a ``sim.ConfigError`` naming the
key, raised before anything runs.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from _trust import (
    CANNOT_WRITE,
    COMMAND,
    FAST,
    REFUSED,
    collabsim,
    env,
    one_line_error,
)

import sim
from sim.identity import fingerprint, stale_reason
from sim.inputs import check_provider_file
from sim.results import find_runs, run_folder, run_status
from sim.runs import claim_folder, run_scenario
from sim.sweep_store import (
    NotASweep,
    job_names,
    read_manifest,
    spreadsheet_safe,
    sweep_name,
    tidy_job_dir,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "system" / "example_providers.csv"


def nothing_written(cwd: Path) -> None:
    """No file under results/ (empty folders are harmless) and no run anywhere."""
    results = cwd / "results"
    files = [p for p in results.rglob("*") if p.is_file()] if results.exists() else []
    assert files == [] and find_runs(cwd) == []


@pytest.fixture(scope="module")
def config() -> sim.SimConfig:
    return sim.load_config(FAST)


# --------------------------------------------------------------------------- provider files
def test_a_fifo_as_provider_file_fails_at_once(tmp_path):
    fifo = tmp_path / "providers.csv"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    proc = collabsim(tmp_path, "system=csv", f"system.path={fifo}", *FAST[1:], timeout=60)
    assert proc.returncode == REFUSED
    assert "is a FIFO (named pipe), not a regular file" in one_line_error(proc.stderr)
    assert time.perf_counter() - t0 < 60
    nothing_written(tmp_path)


def test_a_device_as_provider_file_fails_at_once(tmp_path):
    proc = collabsim(tmp_path, "system=csv", "system.path=/dev/zero", *FAST[1:], timeout=60)
    assert proc.returncode == REFUSED
    assert "system.path='/dev/zero' is a character device" in one_line_error(proc.stderr)
    nothing_written(tmp_path)


def test_a_file_name_too_long_fails_cleanly(tmp_path):
    long = "p" * 300 + ".csv"
    proc = collabsim(tmp_path, "system=csv", f"system.path={long}", *FAST[1:])
    assert proc.returncode == REFUSED
    assert "the file name is too long for this system (304 bytes in one name" in \
        one_line_error(proc.stderr)
    nothing_written(tmp_path)
    assert not list(tmp_path.rglob(".hydra"))


def test_a_gzip_provider_file_is_named_as_such(tmp_path):
    packed = tmp_path / "providers.csv.gz"
    packed.write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    proc = collabsim(tmp_path, "system=csv", f"system.path={packed}", *FAST[1:])
    assert proc.returncode == REFUSED
    line = one_line_error(proc.stderr)
    assert "is a gzip-compressed file, not a CSV file; decompress it first" in line
    assert "Latin-1" not in proc.stderr
    nothing_written(tmp_path)


def test_a_provider_file_over_the_size_limit_is_refused(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text(EXAMPLE.read_text())
    system = sim.load_config(["system=csv", f"system.path={big}"]).system
    with pytest.raises(sim.ConfigError, match=r"is 832 bytes; a provider file may be at most "
                                              r"100 bytes"):
        check_provider_file(system, limit=100)
    check_provider_file(system)  # under the real limit


def test_the_api_refuses_a_fifo_before_reading_it(tmp_path):
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    config = sim.load_config(["system=csv", f"system.path={fifo}", *FAST[1:]])
    with pytest.raises(sim.ConfigError, match="is a FIFO"):
        sim.CollaborationModel(config)


# --------------------------------------------------------------------------- command-line values
@pytest.mark.parametrize("mode, override, message", [
    ([], "time.policy_weeks=1_0", "time.policy_weeks=1_0: the number 1_0 is written with '_'"),
    (["-m"], "replicate=0,1_0", "replicate=0,1_0: the number 1_0 is written with '_'"),
])
def test_numbers_with_underscores_are_refused(tmp_path, mode, override, message):
    proc = collabsim(tmp_path, *mode, *FAST, override)
    assert proc.returncode == REFUSED
    assert message in one_line_error(proc.stderr)
    nothing_written(tmp_path)


def test_n_jobs_zero_is_refused(tmp_path):
    proc = collabsim(tmp_path, "-m", *FAST, "replicate=0,1", "hydra.launcher.n_jobs=0")
    assert proc.returncode == REFUSED
    assert "hydra.launcher.n_jobs=0 is not allowed" in one_line_error(proc.stderr)
    nothing_written(tmp_path)


def test_an_empty_replicate_range_runs_nothing_and_says_so(tmp_path):
    proc = collabsim(tmp_path, "-m", *FAST, "replicate=range(0,0)")
    assert proc.returncode == REFUSED
    assert "the sweep has no jobs: replicate=range(0,0) lists no values" in \
        one_line_error(proc.stderr)
    nothing_written(tmp_path)


def test_a_duplicated_replicate_is_refused_naming_it(tmp_path):
    proc = collabsim(tmp_path, "-m", *FAST, "replicate=0,0")
    assert proc.returncode == REFUSED
    line = one_line_error(proc.stderr)
    assert "lists the job" in line and "replicate=0 2 times" in line
    assert "hydra.sweep.subdir" not in line
    nothing_written(tmp_path)


def test_a_full_disk_fails_cleanly_and_writes_nothing(tmp_path):
    def small_files() -> None:  # files over 20 kB cannot be written (EFBIG, like ENOSPC)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    proc = subprocess.run([*COMMAND, *FAST], cwd=tmp_path, env=env(), capture_output=True,
                          text=True, timeout=180, preexec_fn=small_files)
    assert proc.returncode == CANNOT_WRITE, proc.stderr
    line = one_line_error(proc.stderr)
    assert "cannot write results:" in line and "File too large" in line
    assert "nothing was written" in line
    nothing_written(tmp_path)
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


# --------------------------------------------------------------------------- folders
def test_job_folders_of_path_like_values_are_distinct_and_inside(tmp_path):
    for sub in ("data", "data_x"):
        (tmp_path / sub).mkdir()
    (tmp_path / "data" / "x.csv").write_text(EXAMPLE.read_text())
    (tmp_path / "data_x.csv").write_text(EXAMPLE.read_text())
    work = tmp_path / "work"
    work.mkdir()
    proc = collabsim(work, "-m", "system=csv", "system.path=../data/x.csv,../data_x.csv",
                     *FAST[1:], "hydra.callbacks.sweep.figures=false")
    assert proc.returncode == 0, proc.stderr
    (folder,) = (work / "results" / "sweeps").iterdir()
    jobs = sorted(p for p in folder.iterdir() if (p / "run").is_dir())
    assert len(jobs) == 2 and all(j.parent == folder for j in jobs)
    assert all(".." not in j.name and "/" not in j.name for j in jobs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "data_x", "data_x.csv", "work"]


def test_names_are_unique_for_values_a_slug_would_merge():
    a, b = "system.path=data/x.csv", "system.path=data_x.csv"
    assert sweep_name(None, [a]) != sweep_name(None, [b])
    names = job_names([[a, "replicate=0"], [b, "replicate=0"], ["system.path=../../etc",
                                                                 "replicate=0"]])
    assert len(set(names)) == 3
    assert names[1] == "system.path=data_x.csv"  # plain text keeps its name (replicate is fixed)
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_long_values_get_short_unique_names():
    jobs = [[f"regime.name={'a' * 200}{i}"] for i in range(2)]
    names = job_names(jobs)
    assert len(set(names)) == 2 and all(len(n) <= 120 for n in names)
    assert len(sweep_name("x", [f"k={'v' * 300}"])) <= 120


def test_tidying_removes_exact_scratch_names_only(tmp_path):
    job = tmp_path / "regime=local,replicate=0"
    ours = ["run.tmp-12", "run.old-3", "FAILED.json.tmp-5", "FAILED.json"]
    theirs = ["run.bak", "notes.tmp-3", "run.tmp-x", "draft.old-1", "run"]
    for name in ours + theirs:
        (job / name).mkdir(parents=True) if "json" not in name else (job / name).touch()
    assert tidy_job_dir(job) == len(ours)
    assert sorted(p.name for p in job.iterdir()) == sorted(theirs)
    assert tidy_job_dir(job, remove_run=True) == 1 and not (job / "run").exists()


def test_claimed_folders_never_collide(tmp_path):
    base = tmp_path / "results" / "runs" / "2026-01-01_00-00-00_local_seed0"
    got = [claim_folder(base) for _ in range(3)]
    assert [p.name for p in got] == [base.name, f"{base.name}-2", f"{base.name}-3"]


def test_a_damaged_plan_is_not_a_sweep(tmp_path):
    (tmp_path / "sweep.json").write_text("{\"jobs\": 3}")
    with pytest.raises(NotASweep, match="cannot be read as a sweep plan"):
        read_manifest(tmp_path)


def test_spreadsheet_safe_text_cells():
    import pandas as pd

    frame = pd.DataFrame({"a": ["=1+2", "-2+3", "+x", "@SUM(A1)", "plain", None],
                          "n": [-2.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    safe = spreadsheet_safe(frame)
    assert list(safe["a"][:5]) == ["'=1+2", "'-2+3", "'+x", "'@SUM(A1)", "plain"]
    assert pd.isna(safe["a"][5]) and list(safe["n"]) == list(frame["n"])  # others unchanged
    assert frame["a"][0] == "=1+2"  # the input is not changed


# --------------------------------------------------------------------------- identity
def test_fingerprints_tell_scenario_inputs_and_code_apart(config, tmp_path):
    fp = fingerprint(config)
    assert fp == fingerprint(sim.load_config(FAST)) and fp["inputs"] is None
    other = fingerprint(dataclasses.replace(config, replicate=1))
    assert other["run"] != fp["run"] and stale_reason(other, fp) == "made from another scenario"
    assert stale_reason({**fp, "code": "x", "run": "y"}, fp) == "made by other code"
    assert stale_reason(None, fp) == "made before collabsim recorded run fingerprints"
    assert stale_reason(fp, fp) is None
    csv = tmp_path / "p.csv"
    csv.write_text(EXAMPLE.read_text())
    with_csv = sim.load_config(["system=csv", f"system.path={csv}"])
    first = fingerprint(with_csv)
    csv.write_text(EXAMPLE.read_text() + "\n")
    assert stale_reason(first, fingerprint(with_csv)) is not None
    assert stale_reason(first, fingerprint(with_csv)) == \
        "made from another version of the provider file"


def test_run_status_reads_a_run_back(config, tmp_path):
    run_scenario(config, tmp_path)
    run, fp = run_folder(tmp_path), fingerprint(config)
    assert run_status(run, fp, 8) == ("complete", "")
    assert run_status(run, fp, 9) == ("unreadable", "weekly.parquet has 8 weeks, the job "
                                                    "needs 9")
    assert run_status(run, fingerprint(dataclasses.replace(config, seed=3)), 8)[0] == "stale"
    assert run_status(tmp_path / "nothing", fp, 8) == ("missing", "")


# --------------------------------------------------------------------------- the API
def test_a_config_changed_after_validation_is_refused_by_the_model():
    bad = sim.load_config(FAST)  # a fresh one: the fixture's is shared
    bad.context.initial_trust = 5
    with pytest.raises(sim.ConfigError, match=r"context\.initial_trust=5 is out of range"):
        sim.CollaborationModel(bad)


def test_run_refuses_a_negative_horizon_set_after_validation(config):
    bad = sim.load_config(FAST)
    bad.time.policy_weeks = -5
    with pytest.raises(sim.ConfigError, match=r"time\.policy_weeks=-5 is out of range"):
        sim.run(bad)


def test_run_many_checks_every_config_before_running_any(config):
    bad = sim.load_config(FAST)
    bad.context.initial_trust = 5
    t0 = time.perf_counter()
    with pytest.raises(sim.ConfigError, match=r"context\.initial_trust"):
        sim.run_many({"good": config, "bad": bad}, replicates=range(50))
    assert time.perf_counter() - t0 < 5  # nothing ran


@pytest.mark.parametrize("call", [
    lambda c: sim.run(c, seed=1.7),
    lambda c: sim.run(c, replicate=2.0),
    lambda c: sim.run(c, replicate=True),
    lambda c: sim.CollaborationModel(c, rng=1.7),
    lambda c: sim.run_many([c], replicates=[0, 1.5]),
])
def test_seeds_and_replicates_must_be_whole_numbers(config, call):
    with pytest.raises(sim.ConfigError, match="is not an integer"):
        call(config)


def test_numpy_integers_are_whole_numbers(config):
    assert sim.run(config, replicate=np.int64(1), seed=np.uint8(2)).replicate == 1


def test_run_many_reads_a_generator_of_replicates_for_every_scenario(config):
    other = sim.load_config([*FAST, "regime=mandated"])
    many = sim.run_many({"a": config, "b": other}, replicates=(r for r in (0, 1)))
    assert list(zip(many.summaries["scenario"], many.summaries["replicate"], strict=True)) == [
        ("a", 0), ("a", 1), ("b", 0), ("b", 1)]


@pytest.mark.parametrize("scenarios, replicates, message", [
    ("one", [0], "replicates is empty"),
    ({}, [0], "needs at least one scenario"),
    ([], None, "needs at least one scenario"),
    ("one", 3, "must be an iterable of whole numbers"),
])
def test_run_many_refuses_empty_or_odd_arguments(config, scenarios, replicates, message):
    if scenarios == "one":
        scenarios = [config]
        replicates = [] if replicates == [0] else replicates
    with pytest.raises(sim.ConfigError, match=message):
        sim.run_many(scenarios, replicates=replicates)


def test_run_refuses_a_dict_naming_what_to_use():
    with pytest.raises(sim.ConfigError, match="must be a sim.SimConfig, not dict; build one with "
                                              r"sim.load_config"):
        sim.run({"seed": 1})


@pytest.mark.parametrize("overrides, message", [
    (["regime=mandatd"], "regime=mandatd is not an option of group regime"),
    (["contxt.initial_trust=0.3"], "unknown key(s) contxt.initial_trust"),
    (["time.policy_weeks=abc"], "time.policy_weeks='abc' must be a whole number"),
    (["time.policy_weeks=1_0"], "the number 1_0 is written with '_'"),
])
def test_load_config_mistakes_are_config_errors(overrides, message):
    with pytest.raises(sim.ConfigError) as err:
        sim.load_config(overrides)
    assert message in str(err.value)
