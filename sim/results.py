"""Writing one run's results to a folder, atomically, and reading them back.

A run folder holds::

    weekly.parquet     the weekly table (one row a week: ``week`` and the outcome columns)
    by_kind.parquet    the by-kind table (one row per week and provider kind; runs written
                       before it existed lack it: see :func:`read_by_kind`)
    by_area.parquet    the by-area table (one row per week and area: the main outcomes per
                       area and their weights; runs written before it existed lack it:
                       see :func:`read_by_area`)
    providers.parquet  per-provider snapshots (only if ``output.agent_snapshot_every`` > 0)
    areas.csv          the areas: index (as in snapshots), code, name (e.g. the ICBs), providers
    summary.json       the run's scalars (final-year means, values at the switch, calibration)
    config.yaml        the resolved scenario as plain YAML (every key of ``sim.SimConfig``)
    provenance.json    seed, package versions, git commit, platform, times, command line,
                       and the run's fingerprint (sim.identity: scenario, provider file, code)

Everything is first written into a temporary sibling folder (``<name>.tmp-<pid>``)
and the folder is then renamed to its final name, so a reader (or a resumed sweep)
never sees half a run: a folder is *complete* when it has its final name and its
``provenance.json``, which is written last. Whether a complete folder can be *reused*
for a job is :func:`run_status`: its files read back whole and its fingerprint is the
job's. Plain formats only (Parquet, JSON,
YAML): no pickle, so results stay readable across Python and library versions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.config import to_dict
from sim.identity import fingerprint as fingerprint_of
from sim.identity import stale_reason
from sim.replaced import replaced_mechanisms

if TYPE_CHECKING:
    from sim.runner import RunResult

WEEKLY = "weekly.parquet"
BY_KIND = "by_kind.parquet"
BY_AREA = "by_area.parquet"
PROVIDERS = "providers.parquet"
AREAS = "areas.csv"
SUMMARY = "summary.json"
CONFIG = "config.yaml"
PROVENANCE = "provenance.json"
#: Files every complete run folder holds; PROVENANCE is written last and marks completion.
#: BY_KIND and BY_AREA are not among them: runs written before they existed stay complete
#: and readable.
RUN_FILES: tuple[str, ...] = (WEEKLY, SUMMARY, CONFIG, PROVENANCE)
#: Distributions whose versions provenance records.
PACKAGES: tuple[str, ...] = ("collabsim", "numpy", "pandas", "mesa", "hydra-core", "omegaconf",
                             "scipy", "pyarrow", "numba", "llvmlite")
FORMAT_VERSION = 1
#: Subfolder of an output folder (a single run's Hydra output dir, or a sweep's job
#: folder) that holds the run itself.
RUN_SUBDIR = "run"
#: Names of folders and files in the middle of being written or replaced: never complete.
SCRATCH = re.compile(r"\.(tmp|old)-\d+$")


def is_scratch(name: str) -> bool:
    """Whether a file or folder name is a temporary one (``<name>.tmp-<pid>``/``.old-<pid>``)."""
    return bool(SCRATCH.search(name))


def run_folder(output_dir: str | os.PathLike) -> Path:
    """The run folder inside an output folder: ``<output_dir>/run``."""
    return Path(output_dir) / RUN_SUBDIR


def write_run(folder: str | os.PathLike, result: RunResult, extra: dict | None = None, *,
              started: datetime | None = None, finished: datetime | None = None,
              overwrite: bool = False, fingerprint: dict | None = None) -> Path:
    """Write one run into ``folder`` so that it appears complete or not at all.

    Args:
        folder: the final run folder (must not exist yet unless ``overwrite``); its
            parent is created if needed.
        result: what :func:`sim.run` returned.
        extra: JSON-serialisable facts added to provenance under ``"extra"`` (e.g. the
            Hydra overrides, a sweep's job number).
        started, finished: when the run started and ended (timezone-aware); by default
            ``finished`` is now and ``started`` is ``finished - result.wall_seconds``.
        overwrite: replace an existing folder at ``folder`` (the old one is moved aside
            first and deleted only once the new one is in place).
        fingerprint: what produced the run (:func:`sim.identity.fingerprint`, taken
            before the run started); computed now from ``result.config`` if not given.

    Returns:
        The final folder's path.

    Raises:
        FileExistsError: ``folder`` exists and ``overwrite`` is false.
    """
    final = Path(folder)
    if final.exists() and not overwrite:
        raise FileExistsError(f"run folder {str(final)!r} already exists")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    with _removed_on_failure(tmp):
        if tmp.exists():  # left over by a crashed process that had our pid
            shutil.rmtree(tmp)
        tmp.mkdir()
        result.weekly.to_parquet(tmp / WEEKLY, index=False)
        if result.by_kind is not None:
            result.by_kind.to_parquet(tmp / BY_KIND, index=False)
        if result.by_area is not None:
            result.by_area.to_parquet(tmp / BY_AREA, index=False)
        if result.providers is not None:
            result.providers.to_parquet(tmp / PROVIDERS, index=False)
        if result.areas is not None:
            result.areas.to_csv(tmp / AREAS, index=False)
        _write_text(tmp / SUMMARY, _to_json(result.summary))
        _write_text(tmp / CONFIG, _to_yaml(to_dict(result.config)))
        prov = provenance(result, extra=extra, started=started, finished=finished,
                          fingerprint=fingerprint)
        _write_text(tmp / PROVENANCE, _to_json(prov))  # last: marks the run complete
        fsync_dir(tmp)
        commit_folder(tmp, final, overwrite)
    return final


def is_complete(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a whole run written by :func:`write_run` (safe to skip/reuse)."""
    folder = Path(folder)
    if not folder.is_dir() or is_scratch(folder.name):
        return False
    return all((folder / name).is_file() for name in RUN_FILES)


#: What :func:`run_status` can say of a job's run folder.
STATUSES: tuple[str, ...] = ("complete", "missing", "incomplete", "unreadable", "stale")


def run_status(folder: str | os.PathLike, expected: dict | str | None = None,
               weeks: int | None = None) -> tuple[str, str]:
    """Whether a run folder can be reused for a job, and if not, why.

    Cheap enough for every job of a sweep before launch: JSON files are parsed and the
    weekly table's Parquet footer is read (not its data).

    Args:
        folder: the run folder (``<job>/run``).
        expected: the job's fingerprint (:func:`sim.identity.fingerprint`, or its
            ``run`` digest); None skips the comparison (an old plan without one).
        weeks: the number of weekly rows the job writes (burn-in + policy weeks);
            None skips the count.

    Returns:
        ``(status, reason)``: status one of :data:`STATUSES`; reason a short phrase for
        people ("weekly.parquet cannot be read", "made by other code"), empty when
        complete or missing.
    """
    folder = Path(folder)
    if not folder.exists():
        return "missing", ""
    if not is_complete(folder):
        return "incomplete", "interrupted before it was written whole"
    try:
        prov = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
        json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        if not isinstance(prov, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        return "unreadable", f"its JSON files cannot be read ({type(err).__name__})"
    reason = stale_reason(prov.get("fingerprint"), expected)
    if reason:  # before the week count: another scenario may have other weeks
        return "stale", reason
    try:
        import pyarrow.parquet as pq

        rows = pq.read_metadata(folder / WEEKLY).num_rows
    except Exception as err:  # pyarrow raises several types for a damaged file
        return "unreadable", f"{WEEKLY} cannot be read ({type(err).__name__})"
    if weeks is not None and rows != weeks:
        return "unreadable", f"{WEEKLY} has {rows} weeks, the job needs {weeks}"
    return "complete", ""


def read_run(folder: str | os.PathLike) -> tuple[pd.DataFrame, dict, dict, dict]:
    """Load a complete run folder: ``(weekly, summary, config_dict, provenance)``.

    ``config_dict`` is plain nested dicts; ``sim.config.from_dict(config_dict)`` turns
    it back into a validated SimConfig (to re-run the scenario).

    Raises:
        FileNotFoundError: ``folder`` is not a complete run folder.
    """
    folder = Path(folder)
    if not is_complete(folder):
        raise FileNotFoundError(f"{str(folder)!r} is not a complete run folder "
                                f"(expected {', '.join(RUN_FILES)})")
    weekly = pd.read_parquet(folder / WEEKLY)
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    config = read_config(folder)
    prov = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    return weekly, summary, config, prov


def read_by_kind(folder: str | os.PathLike) -> pd.DataFrame | None:
    """A complete run folder's by-kind table (one row per week and provider kind), or None
    for a run written before the table existed.

    Raises:
        FileNotFoundError: ``folder`` is not a complete run folder.
    """
    return _optional_table(folder, BY_KIND)


def read_by_area(folder: str | os.PathLike) -> pd.DataFrame | None:
    """A complete run folder's by-area table (one row per week and area, as
    ``RunResult.by_area``), or None for a run written before the table existed.

    Raises:
        FileNotFoundError: ``folder`` is not a complete run folder.
    """
    return _optional_table(folder, BY_AREA)


def _optional_table(folder: str | os.PathLike, name: str) -> pd.DataFrame | None:
    """A complete run folder's table ``name``, or None if the run has none."""
    folder = Path(folder)
    if not is_complete(folder):
        raise FileNotFoundError(f"{str(folder)!r} is not a complete run folder "
                                f"(expected {', '.join(RUN_FILES)})")
    path = folder / name
    return pd.read_parquet(path) if path.is_file() else None


def find_runs(root: str | os.PathLike) -> list[Path]:
    """Every complete run folder at or below ``root``, sorted by path (for sweeps, reports)."""
    root = Path(root)
    found = {p.parent for p in root.rglob(PROVENANCE) if is_complete(p.parent)}
    return sorted(found)


# --------------------------------------------------------------------------- provenance
def provenance(result: RunResult, extra: dict | None = None, started: datetime | None = None,
               finished: datetime | None = None, fingerprint: dict | None = None) -> dict:
    """What is needed to reproduce or audit a run: seed, versions, code, machine, times,
    and the fingerprint a resumed sweep compares with its job's."""
    finished = finished or datetime.now(UTC)
    started = started or finished - timedelta(seconds=float(result.wall_seconds))
    prov: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "seed": int(result.seed),
        "replicate": int(result.replicate),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "wall_seconds": float(result.wall_seconds),
        # CPU time of the run's own process over the same span (None: result built by hand)
        "cpu_seconds": None if result.cpu_seconds is None else float(result.cpu_seconds),
        "versions": package_versions(),
        "git": git_state(),
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
            "python_implementation": platform.python_implementation(),
            "cpu_count": os.cpu_count(),
        },
        "command": shlex.join(sys.argv),
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
        "inputs": _inputs(result),
        # mechanism functions replaced in memory (notebooks/06): not the package's model
        "replaced_mechanisms": replaced_mechanisms(),
        "fingerprint": fingerprint or fingerprint_of(result.config),
    }
    if extra:
        prov["extra"] = extra
    return prov


def package_versions() -> dict[str, str | None]:
    """Python's version and the installed versions of the packages results depend on,
    as this process first found them (what its code was imported from): read once per
    process, not once per run."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> tuple[tuple[str, str | None], ...]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return tuple(versions.items())


def git_state(path: str | os.PathLike | None = None) -> dict | None:
    """Commit and dirty flag of the git checkout holding the ``sim`` package, else None.

    ``dirty`` is true when tracked files differ from the commit or untracked,
    non-ignored files exist: the results may then not be reproducible from the commit.
    Asked of ``git`` once per process and folder (:func:`_git_state`).
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    state = _git_state(str(where))
    return None if state is None else dict(state)


@functools.cache
def _git_state(where: str) -> dict | None:
    """:func:`git_state` as first seen by this process, asked once per folder: the code a
    process runs is what it imported, so a later commit does not change what its runs
    ran, and two ``git`` processes per run cost a sweep's worker about 30 ms each run."""
    try:
        commit = _git(Path(where), "rev-parse", "HEAD")
        status = _git(Path(where), "status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return None
    if not commit:
        return None
    return {"commit": commit, "dirty": bool(status)}


def _git(where: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True,
                         timeout=10, check=True)
    return out.stdout.strip()


def _inputs(result: RunResult) -> dict:
    """Input files the run read (a provider CSV), with their checksums."""
    path = getattr(result.config.system, "path", None)
    if not path:
        return {}
    p = Path(path)
    entry: dict[str, Any] = {"path": str(path), "absolute": str(p.resolve())}
    if p.is_file():
        entry["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
        entry["bytes"] = p.stat().st_size
    return {"system.path": entry}


# --------------------------------------------------------------------------- formats
def json_safe(value: Any) -> Any:
    """A value as ``summary.json`` stores it: NumPy scalars become Python ones, NaN/inf
    become None (null), paths become text; dict keys become text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _to_json(data: dict) -> str:
    return json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"


def _to_yaml(data: dict) -> str:
    """``data`` as OmegaConf writes it (``OmegaConf.to_yaml``: its YAML dumper, keys in
    order). Plain data (what ``to_dict`` gives: dicts, lists, text, numbers, booleans,
    None) is dumped directly, which gives the same text without building an OmegaConf
    container first (three quarters of the time, once per run); anything else (a
    tuple, an enum, a path, which OmegaConf converts) goes through OmegaConf."""
    from omegaconf import OmegaConf

    if not _plain(data):
        return OmegaConf.to_yaml(OmegaConf.create(data))
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    return yaml.dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=get_omega_conf_dumper())


def _plain(value: Any) -> bool:
    """Whether ``value`` is JSON-like: dicts with text keys, lists, text, numbers, None."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def from_yaml(text: str) -> dict:
    """Plain nested dicts from YAML text as :func:`write_run` writes ``config.yaml``."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.create(text), resolve=False)


def read_config(folder: str | os.PathLike) -> dict:
    """A run folder's ``config.yaml`` as plain nested dicts (no check that the run is whole)."""
    return from_yaml((Path(folder) / CONFIG).read_text(encoding="utf-8"))


def write_json_atomic(path: str | os.PathLike, data: dict) -> Path:
    """Write JSON through a temporary file renamed into place (never half a file).

    NumPy scalars become Python ones and NaN/inf become null, as in ``summary.json``.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        _write_text(tmp, json.dumps(json_safe(data), indent=2, allow_nan=False, default=str)
                    + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_text(path: Path, text: str) -> None:
    """Write and flush to disk (the rename that follows must not publish an empty file)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


# --------------------------------------------------------------------------- atomicity
@contextlib.contextmanager
def _removed_on_failure(tmp: Path) -> Iterator[None]:
    """Delete the temporary folder if anything (including Ctrl-C) interrupts the write."""
    try:
        yield
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def commit_folder(tmp: Path, final: Path, overwrite: bool) -> None:
    """Rename a finished temporary folder to its final name (atomic on one filesystem).

    With ``overwrite``, an existing ``final`` is moved aside first and deleted only once
    the new folder is in place (put back if the rename fails).
    """
    old = None
    if final.exists() and overwrite:
        old = final.with_name(f"{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    try:
        os.rename(tmp, final)
    except OSError:
        if old is not None:
            os.replace(old, final)  # put the previous run back
        raise
    fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def replacing_folder(final: Path, own: set[str], figures: str = "figures") -> Iterator[Path]:
    """Write a folder whole or not at all: yields a temporary sibling to write into.

    Before anything is written, a ``final`` holding entries other than ``own`` (or files
    other than ``.png`` in its ``figures`` subfolder) is refused, so a folder the program
    did not write is never replaced. When the block ends without error the temporary
    folder replaces ``final`` in one rename (:func:`commit_folder`); on any error it is
    removed and ``final`` is left as it was.

    Raises:
        FileExistsError: ``final`` holds entries this writer does not write.
    """
    if final.exists():
        foreign = [c.name for c in final.iterdir() if c.name not in own]
        if (final / figures).is_dir():
            foreign += [f"{figures}/{f.name}" for f in (final / figures).iterdir()
                        if f.suffix != ".png"]
        if foreign:
            raise FileExistsError(f"{final} holds files this report did not write "
                                  f"({', '.join(sorted(foreign)[:3])}); move them away first")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / figures).mkdir(parents=True)
        yield tmp
        fsync_dir(tmp)
        commit_folder(tmp, final, overwrite=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk where the OS allows it (not on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
