"""Faults: SIGTERM during a run and a sweep, and a results folder that cannot be written.

Each leaves every completed run intact and readable, nothing that looks complete for
the interrupted one, and a rerun completes the sweep with the same results as an
uninterrupted one. (SIGINT and SIGKILL are covered in test_cli.py and test_sweeps.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from sim.results import find_runs, read_run

COMMAND = [sys.executable, "-m", "sim.cli"]
SWEEP = ["-m", "system=teaching", "time.burn_in_weeks=26", "time.policy_weeks=26",
         "regime=local,none", "replicate=0,1,2", "hydra.sweep.dir=sweep",
         "hydra.launcher.n_jobs=1"]


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


def _wait_for(predicate, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigterm_during_a_run_writes_nothing(tmp_path: Path) -> None:
    proc = subprocess.Popen([*COMMAND, "system=england"], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: list((tmp_path / "results").rglob("overrides.yaml")), proc)
        time.sleep(1.0)  # building England takes longer than this
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert find_runs(tmp_path / "results") == []


def _tables(root: Path) -> dict[str, pd.DataFrame]:
    return {str(run.relative_to(root)): read_run(run)[0] for run in find_runs(root)}


def test_sigterm_during_a_sweep_then_resume_matches_an_uninterrupted_sweep(
        tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    done = subprocess.run([*COMMAND, *SWEEP], cwd=reference, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    expected = _tables(reference / "sweep")
    assert len(expected) == 6

    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen([*COMMAND, *SWEEP], cwd=work, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: len(find_runs(work / "sweep")) >= 2, proc, seconds=300)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in err
    partial = _tables(work / "sweep")
    assert 2 <= len(partial) < 6  # the completed runs are intact and readable
    for name, table in partial.items():
        pd.testing.assert_frame_equal(table, expected[name], check_exact=True)

    resumed = subprocess.run([*COMMAND, *SWEEP], cwd=work, env=_env(),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    final = _tables(work / "sweep")
    assert sorted(final) == sorted(expected)
    for name, table in final.items():
        pd.testing.assert_frame_equal(table, expected[name], check_exact=True)


def test_a_results_path_that_is_not_a_folder_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("not a folder")
    proc = subprocess.run([*COMMAND, "system=teaching", "time.burn_in_weeks=4",
                           "time.policy_weeks=4"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "cannot write results" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "results").read_text() == "not a folder"
