"""The on-disk format of a sweep: folder names, the plan file, failure records.

The sweep engine (:mod:`sim.sweep`) writes this format and the report
(:mod:`sim.report`) reads it; both take every name and rule from here. Layout::

    results/sweeps/<name>/                SWEEP_ROOT / sweep_name(experiment, overrides)
        sweep.json                        MANIFEST: the plan (jobs, folders, fingerprints,
                                          weeks, reference, question)
        sweep.lock                        LOCK: held while a collabsim process works on it
        report-inputs.json                REPORT_STAMP: what report/ was built from
        multirun.yaml                     Hydra's record of the sweep
        regime=local,replicate=0/         one job; its name = job_names(): its swept overrides
            .hydra/  collabsim.log        Hydra's record of the job
            run/                          RUN_SUBDIR: the run, written atomically (sim.results)
            FAILED.json                   FAILED: only if the run raised (error, traceback)
        report/                           REPORT_DIR: written atomically by sim.report

Names are a function of the overrides and never leave the sweep folder: text that is
not plain (a path, a space, a quote) or too long is replaced by a short digest, so two
different values never share a folder. The sweep removes only what it wrote: temporary
run folders, by their exact names, inside its own planned job folders; a folder that
is not empty and holds no plan is not a sweep and is refused.

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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import ConfigError
from sim.hydra_glue import parse_overrides
from sim.results import RUN_SUBDIR, write_json_atomic

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
#: The lock file a collabsim process holds while it plans, runs or reports a sweep.
LOCK = "sweep.lock"
#: Longest sweep or job folder name before it is shortened with a digest.
MAX_NAME = 120
#: Format of sweep.json (2: jobs carry fingerprints and weeks; 1 had neither).
MANIFEST_FORMAT = 2
#: Temporary names a sweep's own jobs leave in a job folder when killed (sim.results).
_JOB_SCRATCH = re.compile(rf"{re.escape(RUN_SUBDIR)}\.(tmp|old)-\d+|"
                          rf"{re.escape(FAILED)}\.tmp-\d+")
#: Text that names a folder as it is (anything else gets a digest).
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+\-]*")

__all__ = ["FAILED", "IGNORED_KEYS", "LOCK", "MANIFEST", "REPLICATION_KEYS", "REPORT_DIR",
           "REPORT_STAMP", "RUN_SUBDIR", "SWEEP_ROOT", "NotASweep", "SweepRefused",
           "check_sweep_folder", "job_names", "lock_sweep", "mark_report", "read_failure",
           "read_manifest", "replicate_of", "report_inputs", "report_is_current",
           "require_manifest", "scenario_of", "slug", "spreadsheet_safe", "sweep_name",
           "sweeps_below", "tidy_job_dir", "typed_overrides", "write_failure",
           "write_manifest"]


class SweepRefused(ConfigError):
    """A sweep cannot start as asked (a foreign folder, stale runs, another process).

    A :class:`sim.ConfigError`, so that the command line reports it in one line.
    """


class NotASweep(FileNotFoundError):
    """A folder given as a sweep holds no plan (``sweep.json``), or holds several sweeps."""


# --------------------------------------------------------------------------- names
def slug(text: str) -> str:
    """A folder-name-safe version of override text (letters, digits, ``._=,+-``)."""
    return re.sub(r"[^A-Za-z0-9._=,+\-]+", "_", text).strip("_") or "_"


def _short(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _fit(name: str) -> str:
    """``name``, or its first 100 characters and a digest of all of it if it is too long."""
    return name if len(name) <= MAX_NAME else f"{name[:100]}-{_short(name)}"


def _shown(text: str, length: int) -> str:
    """The start of ``text`` as a readable, folder-safe fragment (no ``..``, no leading dot)."""
    return re.sub(r"\.{2,}", ".", slug(text)).strip("._")[:length]


def _part(text: str) -> str:
    """A folder-name-safe form of one override, unique: changed text gets a digest."""
    return text if slug(text) == text and ".." not in text else \
        f"{_shown(text, 40)}-{_short(text)}"


def sweep_name(experiment: str | None, overrides: Sequence[str]) -> str:
    """A sweep folder's name: the experiment (or ``sweep``) and the other overrides, sorted.

    The same command always gives the same name, so running it again resumes the sweep;
    an override that is not folder-safe as written (``system.path=data/x.csv``) ends in a
    digest of its text, so that it never shares a folder with another
    (``system.path=data_x.csv``); names longer than :data:`MAX_NAME` end in a digest of
    the full name.
    """
    name = _part(experiment) if experiment else "sweep"
    if overrides:
        name = f"{name}_{'_'.join(_part(o) for o in sorted(overrides))}"
    return _fit(name)


def job_names(jobs: Sequence[Sequence[str]]) -> list[str]:
    """Each job's folder name: its overrides whose values vary between jobs, sorted by key.

    ``regime=local,replicate=3`` for a job of ``regime=local,mandated replicate=0,1,2,3``
    (the same names Hydra's ``override_dirname`` gave, so earlier sweeps resume). A value
    that is not plain text (``/``, ``..``, spaces, quotes) is replaced by the start of its
    slug and a digest of the override, and a long name is shortened with a digest, so a
    name is one folder inside the sweep folder and two different jobs never share it.
    ``experiment`` is left out (the sweep folder names it); a sweep whose jobs all have
    the same overrides names them by all of them.
    """
    parsed = [[(o.split("=", 1)[0].lstrip("+~"), o) for o in job] for job in jobs]
    values: dict[str, set[str]] = {}
    for job in parsed:
        for key, text in job:
            values.setdefault(key, set()).add(text)
    varying = {k for k, v in values.items() if len(v) > 1 or any(
        k not in dict(job) for job in parsed)}
    names = []
    for job in parsed:
        keep = [(k, t) for k, t in job if k not in IGNORED_KEYS and (k in varying or not varying)]
        parts = []
        for key, text in sorted(keep, key=lambda kt: kt[1]):  # as Hydra sorts them
            value = text.split("=", 1)[1] if "=" in text else ""
            plain = _PLAIN.fullmatch(key) and (value == "" or _PLAIN.fullmatch(value)) \
                and ".." not in value
            parts.append(text if plain else f"{slug(key)}={_shown(value, 24)}-{_short(text)}")
        names.append(_fit(",".join(parts)) if parts else "job")
    return names


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
                   command: str, launcher: str | None,
                   fingerprints: Sequence[dict] | None = None,
                   weeks: Sequence[int] | None = None,
                   values: Sequence[dict] | None = None,
                   chunks: Mapping[str, Sequence[int]] | None = None) -> Path:
    """Record the sweep's plan (``sweep.json``) for progress and the report.

    Each job records its overrides, its folder and, when given, the fingerprint its run
    must have (:func:`sim.identity.fingerprint`) and the weeks its weekly table holds,
    so that the report counts only runs made for this plan. A design sweep's jobs also
    record their point's values (``{dotted key: value}``), and the plan records which
    jobs each launched chunk runs (``chunks``: name -> job numbers).
    """
    n = len(jobs)
    prints = list(fingerprints) if fingerprints is not None else [None] * n
    counts = list(weeks) if weeks is not None else [None] * n
    data = {
        "format": MANIFEST_FORMAT,
        "experiment": experiment,
        "question": question,
        "reference": reference,
        "command": command,
        "launcher": launcher,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "jobs": [{"num": i, "overrides": list(job), "dir": sub, "fingerprint": fp,
                  "weeks": w}
                 for i, (job, sub, fp, w) in enumerate(zip(jobs, subdirs, prints, counts,
                                                            strict=True))],
    }
    if values is not None:
        for entry, vals in zip(data["jobs"], values, strict=True):
            entry["values"] = dict(vals)
    if chunks is not None:
        data["chunks"] = {name: list(members) for name, members in chunks.items()}
    return write_json_atomic(Path(sweep_dir) / MANIFEST, data)


def read_manifest(sweep_dir: str | os.PathLike) -> dict | None:
    """The plan a sweep recorded when it started, or None if it has none.

    Raises:
        NotASweep: ``sweep.json`` exists but cannot be read as a plan, or a job's folder
            would lie outside the sweep folder.
    """
    path = Path(sweep_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        jobs = data["jobs"]
        dirs = [str(j["dir"]) for j in jobs]
        if not all(isinstance(j["overrides"], list) for j in jobs):
            raise TypeError("a job's overrides are not a list")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise NotASweep(f"{path} cannot be read as a sweep plan ({type(err).__name__}: "
                        f"{err})") from None
    for d in dirs:
        if not d or "/" in d or "\\" in d or d in (".", "..") or d.startswith("."):
            raise NotASweep(f"{path}: job folder {d!r} is not a folder inside the sweep "
                            "folder; the plan was edited or is damaged")
    return data


def sweeps_below(folder: Path, depth: int = 2) -> list[Path]:
    """Folders up to ``depth`` levels below ``folder`` that hold a sweep plan."""
    found: list[Path] = []
    level = [folder]
    for _ in range(depth):
        nxt = []
        for parent in level:
            try:
                children = [c for c in parent.iterdir() if c.is_dir()]
            except OSError:
                continue
            for c in sorted(children):
                if (c / MANIFEST).is_file():
                    found.append(c)
                nxt.append(c)
        level = nxt
    return found


def require_manifest(sweep_dir: Path) -> dict:
    """The sweep's plan; a folder without one, or holding other sweeps, is refused.

    Raises:
        NotASweep: no ``sweep.json`` (naming the sweeps found below, if any), or other
            sweeps' plans inside this sweep's folder.
    """
    manifest = read_manifest(sweep_dir)
    nested = sweeps_below(sweep_dir)
    shown = ", ".join(str(p.relative_to(sweep_dir)) for p in nested[:5]) + (
        ", ..." if len(nested) > 5 else "")
    if manifest is None:
        if nested:
            raise NotASweep(f"{sweep_dir} is not one sweep: it holds {len(nested)} sweep "
                            f"folders ({shown}); give one of them")
        raise NotASweep(f"{sweep_dir} is not a collabsim sweep folder (it has no {MANIFEST}; "
                        "give the folder a sweep wrote, e.g. results/sweeps/<name>)")
    if nested:
        raise NotASweep(f"{sweep_dir} holds other sweeps inside it ({shown}); their runs "
                        "could be mistaken for this sweep's: move them out")
    return manifest


def check_sweep_folder(sweep_dir: Path) -> None:
    """Refuse a sweep folder that exists, is not empty and holds no sweep plan.

    Raises:
        SweepRefused: naming the folder and what to do.
    """
    if not sweep_dir.exists():
        return
    if not sweep_dir.is_dir():
        raise SweepRefused(f"hydra.sweep.dir={str(sweep_dir)!r} exists and is not a folder; "
                           "choose another hydra.sweep.dir")
    if (sweep_dir / MANIFEST).is_file():
        return
    if any(sweep_dir.iterdir()):
        raise SweepRefused(f"hydra.sweep.dir={str(sweep_dir)!r} is not empty and is not a "
                           f"collabsim sweep (no {MANIFEST}); a sweep never writes into a "
                           "folder holding other files: choose a new or empty folder")


def lock_sweep(sweep_dir: Path):
    """Take the sweep folder's lock (``sweep.lock``) for this process, without waiting.

    The lock (the ``filelock`` library, an OS-level lock) is released when the returned
    object's ``release()`` is called or when the process ends, however it ends.

    Raises:
        SweepRefused: another process holds it.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(sweep_dir / LOCK, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise SweepRefused(f"another collabsim process is working on {sweep_dir} (it holds "
                           f"{sweep_dir / LOCK}); wait until it has finished, then run the "
                           "command again") from None
    return lock


# --------------------------------------------------------------------------- the report's inputs
#: Records what the current report was built from (written after a sweep's report).
REPORT_STAMP = "report-inputs.json"


def report_inputs(sweep_dir: Path, reference: Any, figures: bool) -> str | None:
    """A digest of what a sweep's report is built from, or None if there is no report.

    The plan's jobs and the fingerprints their runs must have, the reference, whether
    figures are drawn, and the report's own ``report.md`` (so a report rebuilt since,
    e.g. by ``collabsim-report --reference ...``, no longer matches).
    """
    md = sweep_dir / REPORT_DIR / "report.md"
    try:
        manifest = read_manifest(sweep_dir)
        text = md.read_bytes()
    except (OSError, NotASweep):
        return None
    if manifest is None:
        return None
    jobs = [(j["dir"], j["overrides"], j.get("fingerprint")) for j in manifest["jobs"]]
    payload = json.dumps([jobs, reference, bool(figures)], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode() + hashlib.sha256(text).digest()).hexdigest()


def mark_report(sweep_dir: Path, reference: Any, figures: bool) -> None:
    """Record that the report now in ``report/`` was built from the sweep's current plan."""
    digest = report_inputs(sweep_dir, reference, figures)
    if digest is not None:
        write_json_atomic(sweep_dir / REPORT_STAMP, {"inputs": digest})


def report_is_current(sweep_dir: Path, reference: Any, figures: bool) -> bool:
    """Whether ``report/`` was built from exactly the plan, reference and figures asked for
    (by :func:`mark_report`), so that a sweep with nothing to run need not rebuild it."""
    try:
        stamp = json.loads((sweep_dir / REPORT_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    digest = report_inputs(sweep_dir, reference, figures)
    return digest is not None and isinstance(stamp, dict) and stamp.get("inputs") == digest


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
def tidy_job_dir(job_dir: Path, remove_run: bool = False) -> int:
    """Clear a planned job's folder for a new attempt; returns how many entries went.

    Removes only what collabsim's own runs write there: temporary run folders and files
    by their exact names (``run.tmp-<pid>``, ``run.old-<pid>``, ``FAILED.json.tmp-<pid>``),
    an old ``FAILED.json``, and with ``remove_run`` the job's ``run/`` (when the sweep
    decided it cannot be reused: interrupted, unreadable, or stale and re-run).
    """
    if not job_dir.is_dir():
        return 0
    removed = 0
    for child in list(job_dir.iterdir()):
        if _JOB_SCRATCH.fullmatch(child.name):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed += 1
    run = job_dir / RUN_SUBDIR
    if remove_run and (run.exists() or run.is_symlink()):
        if run.is_dir() and not run.is_symlink():
            shutil.rmtree(run, ignore_errors=True)
        else:
            run.unlink(missing_ok=True)
        removed += 1
    if (job_dir / FAILED).exists():
        (job_dir / FAILED).unlink(missing_ok=True)
        removed += 1
    return removed


# --------------------------------------------------------------------------- tables
#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells a spreadsheet will show as text, never evaluate.

    A text cell starting with ``= + - @``, a tab or a carriage return gets a leading
    apostrophe (``=1+2`` -> ``'=1+2``), the mark spreadsheets read as "this is text".
    Numbers are left alone (``-2`` stays a number); use it for CSV files only.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = pd.Series([f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_START)
                                  else v for v in out[col]], index=out.index)
    return out
