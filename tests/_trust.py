"""Helpers shared by the "results you can trust" catalogue (tests/test_trust_*.py).

Every case runs the real command (``python -m sim.cli``, the console script's code
path) in a temporary folder on the 40-provider teaching system over 4 + 4 weeks, so a
run takes well under a second and the command's start-up dominates.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "sim.cli"]
REPORT = [sys.executable, "-c", "import sys; from sim.cli import report_main; "
                                "sys.exit(report_main())"]
FAST = ["system=teaching", "time.burn_in_weeks=4", "time.policy_weeks=4"]
#: A sweep of 4 runs: two regimes x two replicates, one process, no figures.
SWEEP = ["-m", *FAST, "regime=local,mandated", "replicate=0,1", "hydra.launcher.n_jobs=1",
         "hydra.callbacks.sweep.figures=false"]
JOBS = [f"regime={r},replicate={i}" for r in ("local", "mandated") for i in (0, 1)]
#: Exit statuses (sim/cli.py): 2 a mistake found before anything runs, 1 cannot write.
REFUSED, CANNOT_WRITE = 2, 1


def env() -> dict:
    return {k: v for k, v in os.environ.items()
            if k not in ("HYDRA_FULL_ERROR", "_COLLABSIM_TEST_FAIL", "PYTHONPATH")}


def collabsim(cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``collabsim`` in ``cwd`` and capture its output."""
    return subprocess.run([*COMMAND, *args], cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=timeout)


def start(cwd: Path, *args: str) -> subprocess.Popen:
    """Start ``collabsim`` in ``cwd`` without waiting (for concurrency cases)."""
    return subprocess.Popen([*COMMAND, *args], cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def report(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``collabsim-report`` in ``cwd``."""
    return subprocess.run([*REPORT, *args], cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=180)


def sweep(cwd: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess:
    """The 4-run sweep into ``folder``."""
    return collabsim(cwd, *SWEEP, f"hydra.sweep.dir={folder}", *extra)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (the lock file aside) -> a digest of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "sweep.lock"}


def copy_sweep(done: Path, dest: Path) -> Path:
    """A copy of a finished sweep folder (its runs stay reusable: same fingerprints)."""
    shutil.copytree(done, dest, symlinks=True)
    return dest


def one_line_error(stderr: str) -> str:
    """The single ``collabsim: error:`` line of a refused command (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [x for x in stderr.splitlines() if x.startswith("collabsim: error:")]
    assert len(lines) == 1, stderr
    return lines[0]
