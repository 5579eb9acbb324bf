"""The on-disk format of a sweep: folder names, the plan file, failure records.

The sweep engine (:mod:`sim.sweep`) writes this format and the report
(:mod:`sim.report`) reads it; both take every name and rule from here. Layout::

    results/sweeps/<name>/                SWEEP_ROOT / sweep_name(experiment, overrides)
        sweep.json                        MANIFEST: the plan (jobs, reference, question)
        multirun.yaml                     Hydra's record of the sweep
        regime=local,replicate=0/         one job; its name = its swept overrides
            .hydra/  collabsim.log        Hydra's record of the job
            run/                          RUN_SUBDIR: the run, written atomically (sim.results)
            FAILED.json                   FAILED: only if the run raised (error, traceback)
        report/                           REPORT_DIR: written atomically by sim.report

A job's *scenario* is its overrides other than the replication keys (``seed``,
``replicate``) and ``experiment``; its *replicate* is its ``seed`` and ``replicate``
overrides. Runs of different scenarios with the same replicate share their random
streams (common random numbers), so the report pairs them on the replication keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.hydra_glue import parse_overrides
from sim.results import RUN_SUBDIR, is_complete, is_scratch, write_json_atomic

#: Where sweeps go, relative to the folder collabsim runs from.
SWEEP_ROOT = "results/sweeps"
#: The plan of a sweep, written when it starts (read by progress and the report).
MANIFEST = "sweep.json"
#: Written into a job's folder when its run raised.
FAILED = "FAILED.json"
#: The report's folder inside a sweep folder.
REPORT_DIR = "report"
#: Overrides that choose a replicate rather than a scenario (runs are paired on them).
REPLICATION_KEYS: tuple[str, ...] = ("seed", "replicate")
#: Overrides that are neither scenario nor replicate.
IGNORED_KEYS: tuple[str, ...] = ("experiment",)
#: Longest sweep folder name before it is shortened with a digest.
MAX_NAME = 120

__all__ = ["FAILED", "IGNORED_KEYS", "MANIFEST", "REPLICATION_KEYS", "REPORT_DIR", "RUN_SUBDIR",
           "SWEEP_ROOT", "clean_sweep_dir", "read_failure", "read_manifest", "replicate_of",
           "scenario_of", "slug", "sweep_name", "tidy_job_dir", "typed_overrides",
           "write_failure", "write_manifest"]


# --------------------------------------------------------------------------- names
def slug(text: str) -> str:
    """A folder-name-safe version of override text (letters, digits, ``._=,+-``)."""
    return re.sub(r"[^A-Za-z0-9._=,+\-]+", "_", text).strip("_") or "_"


def sweep_name(experiment: str | None, overrides: Sequence[str]) -> str:
    """A sweep folder's name: the experiment (or ``sweep``) and the other overrides, sorted.

    The same command always gives the same name, so running it again resumes the sweep;
    names longer than :data:`MAX_NAME` end in a digest of the full name.
    """
    name = slug(experiment) if experiment else "sweep"
    if overrides:
        name = f"{name}_{slug('_'.join(sorted(overrides)))}"
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:100]}-{digest}"
    return name


def is_replication_key(key: str) -> bool:
    """Whether an override key chooses a replicate (paired on) rather than a scenario."""
    return key in REPLICATION_KEYS


def is_scenario_key(key: str) -> bool:
    """Whether an override key is part of a job's scenario."""
    return not (key in REPLICATION_KEYS or key in IGNORED_KEYS or key.startswith("hydra"))


def typed_overrides(overrides: Sequence[str]) -> list[tuple[str, Any]]:
    """``(key, typed value)`` of override strings (``0.1`` a float, ``local`` a string).

    Strings Hydra cannot parse are split at the first ``=`` and kept as text, so that a
    report can still be built from an old or hand-edited plan.
    """
    try:
        parsed = parse_overrides(overrides)
    except Exception:
        return [(o.split("=", 1)[0], o.split("=", 1)[-1]) for o in overrides]
    return [(o.key_or_group, o.value()) for o in parsed]


def scenario_of(overrides: Sequence[str]) -> dict[str, Any]:
    """A job's scenario: its overrides without replicate, seed and experiment (typed)."""
    return {k: v for k, v in typed_overrides(overrides) if is_scenario_key(k)}


def replicate_of(overrides: Sequence[str]) -> dict[str, Any]:
    """A job's replicate: its ``seed`` and ``replicate`` overrides (typed), if given."""
    return {k: v for k, v in typed_overrides(overrides) if is_replication_key(k)}


# --------------------------------------------------------------------------- the plan
def write_manifest(sweep_dir: Path, jobs: Sequence[Sequence[str]], subdirs: Sequence[str], *,
                   experiment: str | None, question: str | None, reference: dict,
                   command: str, launcher: str | None) -> Path:
    """Record the sweep's plan (``sweep.json``) for progress and the report."""
    data = {
        "experiment": experiment,
        "question": question,
        "reference": reference,
        "command": command,
        "launcher": launcher,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "jobs": [{"num": i, "overrides": list(job), "dir": sub}
                 for i, (job, sub) in enumerate(zip(jobs, subdirs, strict=True))],
    }
    return write_json_atomic(Path(sweep_dir) / MANIFEST, data)


def read_manifest(sweep_dir: str | os.PathLike) -> dict | None:
    """The plan a sweep recorded when it started, or None."""
    path = Path(sweep_dir) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- failures
def write_failure(job_dir: Path, err: BaseException, overrides: Sequence[str],
                  started: datetime) -> Path:
    """Write ``FAILED.json`` atomically: what failed, why, where and when."""
    job_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "overrides": list(overrides),
        "error": type(err).__name__,
        "message": str(err),
        "traceback": "".join(traceback.format_exception(err)),
        "started": started.isoformat(timespec="seconds"),
        "failed": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    return write_json_atomic(job_dir / FAILED, record)


def read_failure(path: Path) -> dict:
    """A ``FAILED.json`` record; an unreadable one says so rather than failing the reader."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"error": "unreadable FAILED.json"}


# --------------------------------------------------------------------------- tidying
def tidy_job_dir(job_dir: Path) -> None:
    """Remove what an interrupted or failed attempt left: temporary run folders, an
    incomplete ``run/`` and an old ``FAILED.json``."""
    if not job_dir.is_dir():
        return
    for child in job_dir.iterdir():
        if child.name.startswith(RUN_SUBDIR + ".") and is_scratch(child.name):
            shutil.rmtree(child, ignore_errors=True)
    run = job_dir / RUN_SUBDIR
    if run.exists() and not is_complete(run):
        shutil.rmtree(run, ignore_errors=True)
    (job_dir / FAILED).unlink(missing_ok=True)


def clean_sweep_dir(sweep_dir: Path) -> int:
    """Remove temporary folders and files left by killed runs anywhere in a sweep folder."""
    removed = 0
    if not sweep_dir.is_dir():
        return removed
    for path in list(sweep_dir.rglob("*")):
        if is_scratch(path.name) and path.exists():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed
