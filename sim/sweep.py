"""Scenario sweeps: Hydra multiruns with paired replicates, resumable and fault-isolated.

A sweep (``collabsim experiment=mandate_vs_local``, or ``collabsim -m key=a,b ...``) is
one Hydra multirun. Hydra's sweeper expands the swept values into jobs and a launcher
(local processes by default; SLURM through submitit; Ray) runs them. This module
adds what a long sweep needs, in three places:

* :class:`SweepCallback` (``hydra.callbacks.sweep`` in ``configs/config.yaml``), in the
  process that launches the sweep: before any job starts it validates every job's
  scenario against the schema (a bad value fails at once with the usual one-line
  error), writes the sweep's plan (``sweep.json``), removes half-written leftovers of
  an interrupted sweep and prints progress as runs finish; at the end it builds the
  report (:mod:`sim.report`) and sets the exit status.
* :func:`execute`, called by the ``collabsim`` job function for each job, wherever it
  runs: a job whose run is already complete is skipped before anything is simulated;
  a job that raises writes ``FAILED.json`` (with the traceback) into its folder and
  returns, so one bad run neither stops nor loses the others.
* :func:`sweep_overrides`, used by ``collabsim``'s entry point: the sweep folder is
  named after the command line (``results/sweeps/<experiment>[_<other overrides>]``),
  never a timestamp, so that running the same command again finds the earlier runs
  and runs only those that are missing, incomplete or failed.

Layout of a sweep folder::

    results/sweeps/mandate_vs_local/
        sweep.json                        the plan: jobs, reference scenario, question
        multirun.yaml                     Hydra's record of the sweep
        regime=local,replicate=0/         one job; name = its overrides (not experiment)
            .hydra/  collabsim.log        Hydra's record of the job
            run/                          the run, written atomically (sim.results)
            FAILED.json                   only if the run raised: error and traceback
        report/                           written atomically by sim.report
            report.md  runs.csv  runs.parquet  scenarios.csv  differences.csv  figures/

Paired replicates: every scenario of a sweep uses the same root ``seed`` and the same
``replicate`` indices, and the model's stream is the replicate-th child of the seed, so
scenario differences are computed per replicate (common random numbers). A scenario
is the set of a job's overrides other than ``replicate``, ``seed`` and ``experiment``.

Test-only hook: if the environment variable ``_COLLABSIM_TEST_FAIL`` holds an override
(e.g. ``replicate=1``), jobs of a sweep whose overrides include it raise instead of
running. The test suite uses it to check that failures are isolated and reported; it
has no use outside the tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sim.config import ConfigError
from sim.results import _SCRATCH, is_complete

#: Where sweeps go, relative to the folder collabsim runs from.
SWEEP_ROOT = "results/sweeps"
#: The plan of a sweep, written when it starts (read by the report).
MANIFEST = "sweep.json"
#: Written into a job's folder when its run raised.
FAILED = "FAILED.json"
#: Subfolder of a job's folder that holds the run (as for single runs).
RUN_SUBDIR = "run"
#: Overrides that choose a replicate rather than a scenario (runs are paired on them).
REPLICATION_KEYS: tuple[str, ...] = ("seed", "replicate")
#: Overrides that are neither scenario nor replicate.
IGNORED_KEYS: tuple[str, ...] = ("experiment",)
#: Test-only failure injection (see the module docstring).
TEST_FAIL_ENV = "_COLLABSIM_TEST_FAIL"
PROG = "collabsim"


# --------------------------------------------------------------------------- naming
def sweep_overrides(argv: Sequence[str]) -> list[str]:
    """Hydra overrides that name a sweep's folders after its command line.

    ``collabsim experiment=culture`` sweeps into ``results/sweeps/culture``; other
    overrides are added to the name (``culture_time.policy_weeks=52``), sorted, so that
    the same command always finds the same folder. Overrides that are not swept (the
    same in every job) are left out of the job folders' names, which are then just the
    swept values (``regime=local,replicate=3``). Nothing is added for what the user set
    (``hydra.sweep.dir``, the excluded keys) or if the arguments do not parse (Hydra
    will say why).
    """
    try:
        from hydra._internal.utils import get_args_parser

        args, _ = get_args_parser().parse_known_args(list(argv))
        overrides = [str(o) for o in (args.overrides or [])]
        parsed = parse_overrides(overrides)
    except (Exception, SystemExit):
        return []
    keys = [_key(o) for o in overrides]
    experiment = None
    others, fixed = [], []
    for o, p in zip(overrides, parsed, strict=True):
        key = _key(o)
        if key.startswith(("hydra.", "hydra/")) or key == "hydra":
            continue
        if key == "experiment":
            experiment = str(p.value()) if p.value() is not None else None
            continue
        others.append(o)
        if not p.is_sweep_override():
            fixed.append(p.key_or_group)
    out = []
    if "hydra.sweep.dir" not in keys:
        name = slug(experiment) if experiment else "sweep"
        if others:
            name = f"{name}_{slug('_'.join(sorted(others)))}"
        if len(name) > 120:
            digest = hashlib.sha1(name.encode()).hexdigest()[:8]
            name = f"{name[:100]}-{digest}"
        out.append(f"hydra.sweep.dir='{SWEEP_ROOT}/{name}'")
    if fixed and "hydra.job.config.override_dirname.exclude_keys" not in keys:
        items = ",".join(f"'{k}'" for k in ["experiment", *dict.fromkeys(fixed)])
        out.append(f"hydra.job.config.override_dirname.exclude_keys=[{items}]")
    return out


def with_sweep_overrides(argv: Sequence[str]) -> list[str]:
    """``argv`` with :func:`sweep_overrides` placed next to the user's own overrides.

    Hydra's parser wants the overrides together: they go right after the last one the
    user gave, or first when there is none (never after a flag that takes a value).
    """
    argv = list(argv)
    extra = sweep_overrides(argv)
    if not extra:
        return argv
    try:
        from hydra._internal.utils import get_args_parser

        given = [str(o) for o in (get_args_parser().parse_known_args(argv)[0].overrides
                                  or [])]
    except (Exception, SystemExit):
        return argv
    at = 0
    if given:
        last = given[-1]
        at = max(i for i, a in enumerate(argv) if a == last) + 1
    return argv[:at] + extra + argv[at:]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def slug(text: str) -> str:
    """A folder-name-safe version of override text (letters, digits, ``._=,+-``)."""
    return re.sub(r"[^A-Za-z0-9._=,+\-]+", "_", text).strip("_") or "_"


# --------------------------------------------------------------------------- planning
def parse_overrides(strings: Sequence[str]) -> list:
    """Hydra ``Override`` objects for override strings (their typed values, keys)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(strings))


def plan_jobs(config: Any) -> list[list[str]]:
    """The jobs Hydra's basic sweeper will launch for this multirun config, in order.

    The same expansion as ``BasicSweeper.sweep``: the experiment's
    ``hydra.sweeper.params`` first, then the command line's overrides.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from omegaconf import OmegaConf

    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    batches = BasicSweeper.split_arguments(parse_overrides(args), None)
    return [list(job) for batch in batches for job in batch]


def job_subdir(config: Any, job: Sequence[str], num: int) -> str:
    """The subfolder Hydra gives job ``num`` (``hydra.sweep.subdir`` resolved for it)."""
    from hydra._internal.config_loader_impl import get_overrides_dirname
    from omegaconf import OmegaConf, open_dict

    conf = config.hydra.job.config.override_dirname
    dirname = get_overrides_dirname(parse_overrides(job), list(conf.exclude_keys),
                                    conf.item_sep, conf.kv_sep)
    hydra_node = OmegaConf.create(OmegaConf.to_container(config.hydra, resolve=False))
    with open_dict(hydra_node):
        hydra_node.job.override_dirname = dirname
        hydra_node.job.num = num
        hydra_node.job.id = f"{hydra_node.job.name}_{num}"
    root = OmegaConf.create({"hydra": hydra_node})
    try:
        return str(OmegaConf.select(root, "hydra.sweep.subdir"))
    except Exception:  # an interpolation into the task config: fall back to Hydra's default
        return dirname


def scenario_of(overrides: Sequence[str]) -> dict[str, Any]:
    """A job's scenario: its overrides without replicate, seed and experiment (typed)."""
    out: dict[str, Any] = {}
    for o in parse_overrides(overrides):
        key = o.key_or_group
        if key in REPLICATION_KEYS or key in IGNORED_KEYS or key.startswith("hydra"):
            continue
        out[key] = o.value()
    return out


def replicate_of(overrides: Sequence[str]) -> dict[str, Any]:
    """A job's replicate: its ``seed`` and ``replicate`` overrides (typed), if given."""
    return {o.key_or_group: o.value() for o in parse_overrides(overrides)
            if o.key_or_group in REPLICATION_KEYS}


def validate_jobs(config: Any, jobs: Sequence[Sequence[str]]) -> None:
    """Compose and validate every job's scenario before any is launched.

    Jobs that differ only in seed or replicate share one composition; their seed and
    replicate values are then checked against the schema one by one.

    Raises:
        ConfigError: naming the job, the key, the value and what is allowed.
        Hydra's own exceptions for unknown keys or options (as Hydra reports them).
    """
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from sim.cli import check_inputs, scenario_from
    from sim.config import from_dict

    loader = GlobalHydra.instance().config_loader()
    composed: dict[tuple, dict] = {}
    for num, job in enumerate(jobs):
        parsed = parse_overrides(job)
        group = tuple(str(o.input_line) for o in parsed
                      if o.key_or_group not in REPLICATION_KEYS)
        where = f" (sweep job #{num}: {' '.join(job)})"
        try:
            if group not in composed:
                cfg = loader.load_sweep_config(config, list(job))
                config_ = scenario_from(cfg)
                check_inputs(config_)
                job_cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
                composed[group] = OmegaConf.to_container(job_cfg, resolve=True)
            data = dict(composed[group])
            data.update(replicate_of(job))
            from_dict(data)
        except ConfigError as err:
            raise ConfigError(f"{err}{where}") from None


# --------------------------------------------------------------------------- jobs
def execute(cfg: Any, output_dir: str | os.PathLike, overrides: Sequence[str] = ()) -> dict:
    """Run one job of a sweep into ``output_dir``: skip it if complete, record a failure.

    Returns:
        ``{"status": "skipped" | "complete" | "failed", "dir": output_dir}``; a failure
        also writes ``FAILED.json`` (error, traceback, overrides, host, times).
    """
    from sim.cli import run_scenario

    output_dir = Path(output_dir)
    if is_complete(output_dir / RUN_SUBDIR):
        return {"status": "skipped", "dir": str(output_dir)}
    tidy_job_dir(output_dir)
    started = datetime.now(UTC)
    try:
        _test_hook(overrides)
        run_scenario(cfg, output_dir, progress=False, stream=io.StringIO())
    except Exception as err:  # isolate it: record and go on with the other jobs
        write_failure(output_dir, err, overrides, started)
        print(f"{PROG}: run failed: {' '.join(overrides)}: {type(err).__name__}: {err} "
              f"(details in {output_dir / FAILED})", file=sys.stderr, flush=True)
        return {"status": "failed", "dir": str(output_dir),
                "error": f"{type(err).__name__}: {err}"}
    return {"status": "complete", "dir": str(output_dir)}


def _test_hook(overrides: Sequence[str]) -> None:
    """Test-only: raise if ``_COLLABSIM_TEST_FAIL`` names one of this job's overrides."""
    target = os.environ.get(TEST_FAIL_ENV)
    if target and target in overrides:
        raise RuntimeError(f"failure injected by the test hook {TEST_FAIL_ENV}={target}")


def tidy_job_dir(output_dir: Path) -> None:
    """Remove what an interrupted or failed attempt left: temporary run folders, an
    incomplete ``run/`` and an old ``FAILED.json``."""
    if not output_dir.is_dir():
        return
    for child in output_dir.iterdir():
        if child.name.startswith(RUN_SUBDIR + ".") and _SCRATCH.search(child.name):
            shutil.rmtree(child, ignore_errors=True)
    run = output_dir / RUN_SUBDIR
    if run.exists() and not is_complete(run):
        shutil.rmtree(run, ignore_errors=True)
    (output_dir / FAILED).unlink(missing_ok=True)


def write_failure(output_dir: Path, err: BaseException, overrides: Sequence[str],
                  started: datetime) -> Path:
    """Write ``FAILED.json`` atomically: what failed, why, where and when."""
    output_dir.mkdir(parents=True, exist_ok=True)
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
    return write_json_atomic(output_dir / FAILED, record)


def write_json_atomic(path: Path, data: dict) -> Path:
    """Write JSON through a temporary file renamed into place (never half a file)."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def clean_sweep_dir(sweep_dir: Path) -> int:
    """Remove temporary folders and files left by killed runs anywhere in a sweep folder."""
    removed = 0
    if not sweep_dir.is_dir():
        return removed
    for path in list(sweep_dir.rglob("*")):
        if _SCRATCH.search(path.name) and path.exists():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


# --------------------------------------------------------------------------- progress
class Progress:
    """Prints "k of n runs done, time left" as the runs of a sweep finish.

    It watches the sweep's job folders from the launching process, so it works with
    every launcher whose jobs write to a filesystem this process sees.
    """

    def __init__(self, job_dirs: Sequence[Path], stream: TextIO | None = None,
                 interval: float = 0.5) -> None:
        self.dirs = [Path(d) for d in job_dirs]
        self.stream = stream or sys.stderr
        self.interval = interval
        self.start_time = time.time()
        self.already = sum(is_complete(d / RUN_SUBDIR) for d in self.dirs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self._last: tuple[int, int] | None = None
        self._printed: tuple[int, int] | None = None
        self._last_print = 0.0

    def counts(self) -> tuple[int, int]:
        """(complete, failed in this session) over the planned jobs."""
        done = failed = 0
        for d in self.dirs:
            if is_complete(d / RUN_SUBDIR):
                done += 1
            else:
                f = d / FAILED
                with contextlib.suppress(OSError):
                    if f.stat().st_mtime >= self.start_time - 1:
                        failed += 1
        return done, failed

    def start(self) -> None:
        n = len(self.dirs)
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        if tty:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=n, initial=self.already, unit="run", file=self.stream,
                             desc=PROG, dynamic_ncols=True)
        self._thread = threading.Thread(target=self._loop, name="collabsim-progress",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.update()

    def update(self, final: bool = False) -> None:
        done, failed = self.counts()
        if (done, failed) == self._last and (not final or self._bar is not None
                                             or self._printed == self._last):
            return
        n = len(self.dirs)
        if self._bar is not None:
            self._bar.n = done + failed
            self._bar.set_postfix_str(f"{failed} failed" if failed else "", refresh=False)
            self._bar.refresh()
        else:
            now = time.time()
            if not final and now - self._last_print < 1.0 and done + failed < n:
                return  # at most a line a second
            self._last_print = now
            self._printed = (done, failed)
            print(self.line(done, failed), file=self.stream, flush=True)
        self._last = (done, failed)

    def line(self, done: int, failed: int) -> str:
        n = len(self.dirs)
        elapsed = time.time() - self.start_time
        new = done - self.already + failed
        text = f"{PROG}: {done + failed}/{n} runs finished"
        if failed:
            text += f" ({failed} failed)"
        text += f", {_clock(elapsed)} elapsed"
        left = n - done - failed
        if new > 0 and left > 0:
            text += f", about {_clock(elapsed / new * left)} left"
        return text

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.update(final=True)
        if self._bar is not None:
            self._bar.close()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# --------------------------------------------------------------------------- callback
try:
    from hydra.experimental.callback import Callback as _Callback
except ImportError:  # pragma: no cover - hydra-core is a dependency
    _Callback = object  # type: ignore[assignment,misc]

#: The running sweep's progress printer (kept out of the callback, which Hydra pickles).
_PROGRESS: dict[str, Progress] = {}


class SweepCallback(_Callback):
    """Hydra callback for multiruns: validate every job first, plan, watch, report.

    Configured in ``configs/config.yaml`` as ``hydra.callbacks.sweep``; an experiment
    sets ``reference`` (the scenario paired differences are taken against, as a
    mapping of overrides, e.g. ``{regime: local}``; keys left out are matched within
    each level, so ``{leadership: enthusiastic_realist}`` compares within each
    workforce) and ``question`` (one sentence for the report). ``report: false`` skips
    the report at the end of a sweep, ``figures: false`` only its figures.
    """

    def __init__(self, reference: Any = None, question: str | None = None,
                 report: bool = True, figures: bool = True) -> None:
        self.reference = _plain(reference) or {}
        self.question = question
        self.report = report
        self.figures = figures

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        from sim.cli import fail

        try:
            jobs = plan_jobs(config)
            validate_jobs(config, jobs)
        except ConfigError as err:
            fail(err)
        except (HydraException, OmegaConfBaseException) as err:
            # an unknown key or option in some job: say it as Hydra would, before
            # anything is written (Hydra itself would first create the sweep folder)
            sys.stdout.flush()
            print(str(err).strip(), file=sys.stderr)
            print("\nSet the environment variable HYDRA_FULL_ERROR=1 for a complete stack "
                  "trace.", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        sweep_dir = Path(str(config.hydra.sweep.dir))
        subdirs = [job_subdir(config, job, i) for i, job in enumerate(jobs)]
        if len(set(subdirs)) < len(subdirs):
            fail(ConfigError("two jobs of the sweep would share a folder; keep "
                             "hydra.sweep.subdir=${hydra.job.override_dirname}"))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        clean_sweep_dir(sweep_dir)
        write_manifest(sweep_dir, config, jobs, subdirs, self.reference, self.question)
        progress = Progress([sweep_dir / s for s in subdirs])
        from omegaconf import OmegaConf

        launcher = OmegaConf.select(config, "hydra.runtime.choices.hydra/launcher")
        print(f"{PROG}: sweep of {len(jobs)} runs into {_show(sweep_dir)} "
              f"(launcher {launcher}); {progress.already} already complete",
              file=sys.stderr, flush=True)
        progress.start()
        _PROGRESS[str(sweep_dir)] = progress

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        progress = _PROGRESS.pop(str(sweep_dir), None)
        if progress is not None:
            progress.stop()
        if not self.report:
            return
        from sim.report import build_report

        report = build_report(sweep_dir, figures=self.figures)
        print(f"{PROG}: report: {_show(report.path / 'report.md')}", file=sys.stderr)
        if report.failed:
            print(f"{PROG}: error: {len(report.failed)} of {report.planned} runs failed "
                  f"(see FAILED.json in their folders and the report); run the same "
                  f"command again to retry them", file=sys.stderr, flush=True)
            raise SystemExit(3)


def write_manifest(sweep_dir: Path, config: Any, jobs: Sequence[Sequence[str]],
                   subdirs: Sequence[str], reference: dict, question: str | None) -> Path:
    """Record the sweep's plan (``sweep.json``) for progress and the report."""
    from omegaconf import OmegaConf

    choices = OmegaConf.select(config, "hydra.runtime.choices") or {}
    experiment = choices.get("experiment") if choices else None
    data = {
        "experiment": experiment,
        "question": question,
        "reference": reference,
        "command": " ".join(sys.argv),
        "launcher": choices.get("hydra/launcher") if choices else None,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "jobs": [{"num": i, "overrides": list(job), "dir": sub}
                 for i, (job, sub) in enumerate(zip(jobs, subdirs, strict=True))],
    }
    return write_json_atomic(sweep_dir / MANIFEST, data)


def read_manifest(sweep_dir: str | os.PathLike) -> dict | None:
    """The plan a sweep recorded when it started, or None."""
    path = Path(sweep_dir) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _plain(value: Any) -> Any:
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _show(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
