"""The ``collabsim`` command and the run folders it writes (sim.cli, sim.runs, sim.results).

The command runs as a subprocess in a temporary folder, as a user would run it, so
that Hydra's argument parsing, output folders and exit statuses are what is tested.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import results
from sim.config import SimConfig, from_dict
from sim.results import RUN_SUBDIR, find_runs, is_complete, json_safe, read_run, write_run
from sim.runner import RunResult
from sim.runs import run_scenario

SMALL = ["system=teaching", "time.burn_in_weeks=52", "time.policy_weeks=52"]
# The installed console script, as users run it; else the module's __main__ guard.
SCRIPT = Path(sys.executable).with_name("collabsim")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "sim.cli"]


def collabsim(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the command in ``cwd`` (so that results/ lands there) and capture its output."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([*COMMAND, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_folders(cwd: Path) -> list[Path]:
    """Every folder under results/runs (complete or not)."""
    runs = cwd / "results" / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def assert_user_error(proc: subprocess.CompletedProcess, cwd: Path, *words: str,
                      status: int | None = 2) -> None:
    """A clear message naming ``words``, no traceback, and no run folder on disk."""
    if status is None:
        assert proc.returncode != 0, proc.stdout
    else:
        assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert run_folders(cwd) == []
    assert find_runs(cwd) == []


# --------------------------------------------------------------------------- the command
def test_run_writes_a_complete_run_folder(tmp_path):
    proc = collabsim(tmp_path, *SMALL, "seed=5")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # readable tables on stdout
    assert "final year" in proc.stdout and "at switch" in proc.stdout
    assert "seed=5 replicate=0:" in proc.stdout
    assert "care_coordination" in proc.stdout
    assert "calibration" in proc.stdout and "nhs_vacancy_rate" in proc.stdout

    (job,) = run_folders(tmp_path)
    assert job.name.endswith("_local_seed5")
    folder = job / RUN_SUBDIR
    assert is_complete(folder)
    assert find_runs(tmp_path) == [folder]
    for name in ("weekly.parquet", "summary.json", "config.yaml", "provenance.json"):
        assert (folder / name).is_file(), name
    assert not list(job.glob("*.tmp-*"))

    weekly, summary, config, prov = read_run(folder)
    assert "week" in weekly.columns
    assert set(sim.COLUMNS) <= set(weekly.columns)
    assert len(weekly) == 104 and weekly["week"].iloc[0] == -52
    assert set(sim.COLUMNS) <= set(summary)
    assert config["seed"] == 5 and config["system"]["name"] == "teaching"
    assert from_dict(config).time.policy_weeks == 52  # the config re-validates
    assert prov["seed"] == 5
    for package in ("python", "numpy", "pandas", "mesa", "hydra-core", "scipy", "pyarrow"):
        assert prov["versions"][package], package
    assert prov["git"] is None or set(prov["git"]) == {"commit", "dirty"}
    assert prov["wall_seconds"] > 0 and prov["started"] <= prov["finished"]
    assert "system=teaching" in prov["command"]
    assert prov["extra"]["choices"]["system"] == "teaching"


def test_out_of_range_value_exits_2_and_leaves_nothing(tmp_path):
    proc = collabsim(tmp_path, *SMALL, "context.initial_trust=2")
    assert_user_error(proc, tmp_path, "collabsim: error:", "context.initial_trust", "2",
                      "[0, 1]")
    assert proc.stderr.count("\n") == 1  # one line


def test_unknown_key_fails_with_hydras_message(tmp_path):
    proc = collabsim(tmp_path, *SMALL, "context.foo=1")
    assert_user_error(proc, tmp_path, "foo", status=None)


def test_misspelt_group_option_lists_the_options(tmp_path):
    proc = collabsim(tmp_path, *SMALL, "regime=mandatd")
    assert_user_error(proc, tmp_path, "regime/mandatd", "mandated", status=None)


def test_csv_system_needs_a_path(tmp_path):
    proc = collabsim(tmp_path, "system=csv")
    assert_user_error(proc, tmp_path, "collabsim: error:", "system.path")


def test_bad_provider_csv_exits_2_before_any_folder(tmp_path):
    (tmp_path / "bad.csv").write_text("kind,x_km,y_km,area,size_fte\nhospital,1,2,A,10\n")
    proc = collabsim(tmp_path, "system=csv", "system.path=bad.csv")
    assert_user_error(proc, tmp_path, "collabsim: error:", "bad.csv", "hospital")


def test_ctrl_c_exits_130_and_writes_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    # pytest-xdist workers ignore SIGINT, and children inherit that: restore Ctrl-C
    proc = subprocess.Popen([*COMMAND, "system=england"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                             signal.default_int_handler))
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "results").rglob("overrides.yaml")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.1)
        time.sleep(1.0)  # inside the run (building England takes longer than this)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert run_folders(tmp_path) == [] and find_runs(tmp_path) == []


# --------------------------------------------------------------------------- run_scenario
def test_run_scenario_is_a_plain_function(tmp_path, capsys):
    config = sim.load_config(SMALL + ["seed=2"])
    facts = {"overrides": ["seed=2"], "launcher": "a script"}
    result = run_scenario(config, tmp_path / "job", facts)
    folder = tmp_path / "job" / RUN_SUBDIR
    assert is_complete(folder) and find_runs(tmp_path) == [folder]
    assert capsys.readouterr().out == ""  # printing is the command line's job
    weekly, summary, _, prov = read_run(folder)
    assert prov["extra"] == facts  # the caller's facts, recorded as given
    assert json_safe(result.summary) == summary
    pd.testing.assert_frame_equal(result.weekly, weekly, check_exact=True)
    with pytest.raises(FileExistsError):  # never overwrites a run
        run_scenario(config, tmp_path / "job")


def test_sim_run_replicate_is_the_command_lines_replicate(tmp_path):
    """sim.run(config, replicate=3) is exactly `collabsim replicate=3` (same overrides)."""
    proc = collabsim(tmp_path, *SMALL, "replicate=3", "hydra.run.dir=out")
    assert proc.returncode == 0, proc.stderr
    _, written, config, prov = read_run(tmp_path / "out" / RUN_SUBDIR)
    assert config["replicate"] == 3 and prov["replicate"] == 3 and prov["seed"] == 0
    result = sim.run(sim.load_config(SMALL), replicate=3)
    assert (result.replicate, result.seed) == (3, 0)
    assert json_safe(result.summary) == written
    # and it is another run than replicate 0, or root seed 3
    assert json_safe(sim.run(sim.load_config(SMALL)).summary) != written
    assert json_safe(sim.run(sim.load_config(SMALL), seed=3).summary) != written


# --------------------------------------------------------------------------- sim.results
def small_result(seed: int = 0) -> RunResult:
    weekly = pd.DataFrame({"week": range(-2, 3), **{c: [0.5] * 5 for c in sim.COLUMNS}})
    summary = {"care_coordination": 0.5, "delayed_handoffs": float("nan"), "ok": True}
    return RunResult(weekly, summary, SimConfig(seed=seed), seed, 0.25)


def test_write_and_read_a_run(tmp_path):
    folder = write_run(tmp_path / "a" / "run", small_result(3), extra={"job": 7})
    assert is_complete(folder)
    weekly, summary, config, prov = read_run(folder)
    pd.testing.assert_frame_equal(weekly, small_result().weekly)
    assert summary == {"care_coordination": 0.5, "delayed_handoffs": None, "ok": True}
    assert from_dict(config) == SimConfig(seed=3)
    assert prov["seed"] == 3 and prov["extra"] == {"job": 7}
    with pytest.raises(FileExistsError):
        write_run(folder, small_result(4))
    write_run(folder, small_result(4), overwrite=True)
    assert read_run(folder)[3]["seed"] == 4
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["run"]
    assert not is_complete(tmp_path / "a") and not is_complete(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        read_run(tmp_path / "a")


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_write_run_is_atomic(tmp_path, monkeypatch, error):
    real = results._write_text
    calls = []

    def write_then_fail(path, text):
        calls.append(path.name)
        real(path, text)
        raise error  # after the first file of this kind is on disk

    monkeypatch.setattr(results, "_write_text", write_then_fail)
    final = tmp_path / "run"
    with pytest.raises(type(error)):
        write_run(final, small_result())
    assert calls == ["summary.json"]
    assert not final.exists() and not is_complete(final)
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone too
    assert find_runs(tmp_path) == []


def test_a_temporary_folder_is_never_complete(tmp_path):
    folder = write_run(tmp_path / "run", small_result())
    scratch = tmp_path / f"run.tmp-{os.getpid()}"
    folder.rename(scratch)
    assert not is_complete(scratch)
    (scratch / "provenance.json").unlink()
    scratch.rename(folder)
    assert not is_complete(folder)


def test_summary_json_is_strict_json(tmp_path):
    folder = write_run(tmp_path / "run", small_result())
    text = (folder / "summary.json").read_text()
    assert "NaN" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
