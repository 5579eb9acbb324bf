"""Scenario sweeps: Hydra multiruns with paired replicates, resumable and fault-isolated.

A sweep (``collabsim experiment=mandate_vs_local``, or ``collabsim -m key=a,b ...``) is
one Hydra multirun. Hydra's sweeper expands the swept values into jobs and a launcher
(local processes by default; SLURM through submitit; Ray) runs them. This module is
the engine a long sweep needs; the command line (:mod:`sim.cli`) calls it from Hydra's
entry point and callbacks, and the folder format lives in :mod:`sim.sweep_store`:

* :func:`start_sweep`, in the process that launches the sweep, before any job starts:
  plans the jobs, validates every job's scenario against the schema (a bad value fails
  at once), refuses a folder that is not a sweep and a sweep another process is
  working on (a lock held until this process ends), decides which jobs' runs can be
  reused (:func:`sim.results.run_status`: the run reads back whole and its fingerprint
  is the job's), refuses or re-runs stale runs as the user chose, writes the plan
  (``sweep.json``) and makes Hydra launch only the jobs that need a run.
  :class:`sim.progress.Progress` then watches the job folders.
* :func:`execute`, for each launched job, wherever it runs: a job whose run is already
  reusable is skipped; a job that raises writes ``FAILED.json`` (with the traceback)
  into its folder and returns, so one bad run neither stops nor loses the others.
* :func:`sweep_overrides`, for the command line: the sweep folder is named after the
  command (``results/sweeps/<experiment>[_<other overrides>]``), never a timestamp, so
  that running the same command again finds the earlier runs and runs only those that
  are missing, incomplete, unreadable or failed.

Paired replicates: every scenario of a sweep uses the same root ``seed`` and the same
``replicate`` indices, and the model's stream is the replicate-th child of the seed, so
scenario differences are computed per replicate (common random numbers), exactly as
:func:`sim.runner.run_many` pairs them.

Test-only hook: if the environment variable ``_COLLABSIM_TEST_FAIL`` holds an override
(e.g. ``replicate=1``), jobs of a sweep whose overrides include it raise instead of
running. The test suite uses it to check that failures are isolated and reported; it
has no use outside the tests.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim import hydra_glue
from sim.config import ConfigError, SimConfig, from_dict, set_dotted
from sim.design import (
    DESIGN_KEY,
    DesignSpec,
    design_spec,
    point_overrides,
    point_values,
    sample,
    write_design,
)
from sim.identity import fingerprint
from sim.results import run_folder, run_status
from sim.runs import check_inputs, run_scenario
from sim.sweep_store import (
    FAILED,
    SWEEP_ROOT,
    SweepRefused,
    check_sweep_folder,
    is_replication_key,
    job_names,
    lock_sweep,
    replicate_of,
    sweep_name,
    tidy_job_dir,
    write_failure,
    write_manifest,
)

#: Test-only failure injection (see the module docstring).
TEST_FAIL_ENV = "_COLLABSIM_TEST_FAIL"
PROG = "collabsim"
#: What to do with stale runs (made from another scenario, provider file or code):
#: "refuse" (the default: stop, change nothing, say how many and why) or "rerun".
STALE_CHOICES: tuple[str, ...] = ("refuse", "rerun")
#: The override that chooses it (a setting of the sweep callback in configs/config.yaml).
STALE_KEY = "hydra.callbacks.sweep.stale"


# --------------------------------------------------------------------------- naming
def sweep_overrides(argv: Sequence[str]) -> list[str]:
    """Hydra overrides that name a sweep's folder after its command line.

    ``collabsim experiment=culture`` sweeps into ``results/sweeps/culture``; other
    overrides are added to the name (``culture_time.policy_weeks=52``), sorted, so that
    the same command always finds the same folder. Job folders are named by
    :func:`sim.sweep_store.job_names` (the swept values). Nothing is added if the user
    set ``hydra.sweep.dir`` or if the arguments do not parse (Hydra will say why).
    """
    try:
        overrides = hydra_glue.command_line_overrides(argv)
        parsed = hydra_glue.parse_overrides(overrides)
    except (Exception, SystemExit):
        return []
    keys = [_key(o) for o in overrides]
    experiment = None
    others = []
    for o, p in zip(overrides, parsed, strict=True):
        key = _key(o)
        if key.startswith(("hydra.", "hydra/")) or key == "hydra":
            continue
        if key == "experiment":
            experiment = str(p.value()) if p.value() is not None else None
            continue
        others.append(o)
    if "hydra.sweep.dir" in keys:
        return []
    return [f"hydra.sweep.dir='{SWEEP_ROOT}/{sweep_name(experiment, others)}'"]


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
        given = hydra_glue.command_line_overrides(argv)
    except (Exception, SystemExit):
        return argv
    at = 0
    if given:
        last = given[-1]
        at = max(i for i, a in enumerate(argv) if a == last) + 1
    return argv[:at] + extra + argv[at:]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


# --------------------------------------------------------------------------- planning
@dataclass
class Plan:
    """A sweep's jobs (override lists, in launch order), their folders and what each
    needs: ``status[i]`` is :func:`sim.results.run_status`'s verdict on job i's run
    (filled in by :func:`start_sweep`), ``reasons[i]`` why it cannot be reused."""

    sweep_dir: Path
    jobs: list[list[str]]
    subdirs: list[str]
    fingerprints: list[dict] = field(default_factory=list)
    weeks: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    #: a design sweep's (spec, SALib problem, points matrix, seed); None for other sweeps
    design: tuple | None = None
    #: a design sweep: each job's point values (``{dotted key: value}``)
    values: list[dict] = field(default_factory=list)
    #: a design sweep: the sweeper's own jobs, which every point is crossed with
    basic: list[list[str]] = field(default_factory=list)

    @property
    def job_dirs(self) -> list[Path]:
        return [self.sweep_dir / s for s in self.subdirs]

    @property
    def to_launch(self) -> list[int]:
        """Indices of the jobs that need a run (all of them before statuses are known)."""
        if not self.status:
            return list(range(len(self.jobs)))
        return [i for i, s in enumerate(self.status) if s != "complete"]

    def counts(self, status: str) -> Counter:
        """How many jobs have ``status``, by reason (``Counter({"made by other code": 12})``)."""
        return Counter(r for s, r in zip(self.status, self.reasons, strict=True) if s == status)


def plan_jobs(config: Any) -> list[list[str]]:
    """The jobs Hydra's basic sweeper will launch for this multirun config, in order."""
    return hydra_glue.expand_sweep(config)


def plan_sweep(config: Any) -> Plan:
    """Expand and validate a multirun config's jobs, name their folders, fingerprint them.

    Raises:
        ConfigError: no jobs (an empty list of values), the same job twice, a bad
            ``hydra.launcher.n_jobs``, a number written with ``_``, or a job's scenario
            is invalid (naming the job, the key, the value and what is allowed).
        Hydra's own exceptions for unknown keys or options (as Hydra reports them).
    """
    given = list(hydra_glue.select(config, "hydra.overrides.task") or [])
    params = hydra_glue.select(config, "hydra.sweeper.params") or {}
    from sim.inputs import check_number_text

    check_number_text([*given, *(f"{k}={v}" for k, v in params.items())])
    _check_workers(config)
    jobs = plan_jobs(config)
    spec = design_of(config)
    if not jobs:
        empty = [text for text, n in hydra_glue.sweep_values(config) if n == 0]
        raise ConfigError(f"the sweep has no jobs: {' '.join(empty) or 'a swept value list'} "
                          "lists no values; give at least one (e.g. replicate=0,1 or "
                          "replicate='range(0,20)')")
    seen = Counter(tuple(job) for job in jobs)
    twice = [job for job, n in seen.items() if n > 1]
    if twice:
        raise ConfigError(f"the sweep lists the job {' '.join(twice[0])} {seen[twice[0]]} "
                          "times: a swept value repeats (as in replicate=0,0); list each value "
                          "once")
    if spec is not None:
        return _plan_design(config, spec, jobs)
    configs = validate_jobs(config, jobs)
    subdirs = job_names(jobs)
    if len(set(subdirs)) < len(subdirs):  # a digest collision: never in practice
        raise ConfigError("two jobs of the sweep would share a folder; report this as a bug")
    return Plan(Path(str(config.hydra.sweep.dir)), jobs, subdirs,
                fingerprints=[fingerprint(c) for c in configs],
                weeks=[c.time.burn_in_weeks + c.time.policy_weeks for c in configs])


def design_of(config: Any) -> DesignSpec | None:
    """The design a multirun config sets (``hydra.callbacks.sweep.design``), validated."""
    return design_spec(hydra_glue.plain(hydra_glue.select(config, f"{DESIGN_KEY}")),
                       system=str(hydra_glue.select(config, "system.name", "ics")))


def _plan_design(config: Any, spec: DesignSpec, basic: list[list[str]]) -> Plan:
    """A design sweep's plan: every design point crossed with every job of the sweeper.

    Job ``point=0017,replicate=2`` is the sweeper's job ``replicate=2`` with point 17's
    values added as overrides (its run is exactly that command's run). The points come
    from :func:`sim.design.sample`, seeded by the scenario's root ``seed``.
    """
    clash = sorted({o.split("=", 1)[0].lstrip("+~") for job in basic for o in job}
                   & set(spec.keys))
    if clash:
        raise ConfigError(f"{clash[0]} is both set by the sweep and sampled by its design "
                          f"({DESIGN_KEY}.parameters); remove one of the two")
    if spec.analysis == "discovery":
        swept = {o.split("=", 1)[1] for job in basic for o in job if o.startswith("regime=")}
        for role in ("treatment", "reference"):
            if getattr(spec, role) not in swept:
                runs = ", ".join(sorted(swept)) or "none"
                raise ConfigError(f"{DESIGN_KEY}.{role}={getattr(spec, role)!r} is not among "
                                  f"the regimes the sweep runs ({runs}); sweep it, e.g. "
                                  f"regime={spec.reference},{spec.treatment}")
    if spec.stage == "screening" and spec.screening_replicates:
        basic = _first_replicates(basic, spec.screening_replicates)
    seed = int(hydra_glue.select(config, "seed", 0) or 0)
    prob, x = sample(spec, seed)
    overrides = point_overrides(prob, x)
    values = point_values(prob, x)
    # one sweeper job: named by its replicate alone (job_names would list every override)
    basic_names = job_names(basic) if len(basic) > 1 else [
        ",".join(o for o in basic[0] if is_replication_key(o.split("=", 1)[0].lstrip("+~")))]
    jobs, subdirs, plan_values = [], [], []
    for i, (point, vals) in enumerate(zip(overrides, values, strict=True)):
        for job, name in zip(basic, basic_names, strict=True):
            jobs.append([*point, *job])
            subdirs.append(f"point={i:04d}" + (f",{name}" if name else ""))
            plan_values.append(vals)
    configs = validate_jobs(config, basic, values)
    # each stage is a sweep of its own inside the experiment's folder (screening/, sobol/)
    plan = Plan(Path(str(config.hydra.sweep.dir)) / spec.stage, jobs, subdirs,
                fingerprints=[fingerprint(c) for c in configs],
                weeks=[c.time.burn_in_weeks + c.time.policy_weeks for c in configs])
    plan.design = (spec, prob, x, seed)
    plan.values = plan_values
    plan.basic = basic
    return plan


def _check_workers(config: Any) -> None:
    """Refuse a launcher setting that cannot run anything (``hydra.launcher.n_jobs=0``)."""
    n = hydra_glue.select(config, "hydra.launcher.n_jobs")
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int) or n == 0:
        raise ConfigError(f"hydra.launcher.n_jobs={n!r} is not allowed; give the number of "
                          "processes to run at once (1, 2, ...), or -1 for one per core")


def start_sweep(config: Any, reference: Mapping | None, question: str | None,
                stale: str = "refuse") -> Plan:
    """Plan a sweep, take its lock, decide what to run, tidy, write its plan.

    Args:
        config: the multirun config (with ``hydra``).
        reference, question: recorded in the plan for the report.
        stale: "refuse" (default) or "rerun": what to do with runs whose fingerprint is
            not their job's (made from another scenario, provider file or code).
            Unreadable and interrupted runs are always run again.

    Returns:
        The plan with each job's status; Hydra will launch only :attr:`Plan.to_launch`.

    Raises:
        ConfigError: a planning error (:func:`plan_sweep`), or :class:`SweepRefused`: the
            folder is not a sweep, another process holds its lock, or it holds stale runs
            and ``stale`` is "refuse". Nothing is written or removed in any of these cases.
    """
    if stale not in STALE_CHOICES:
        raise ConfigError(f"{STALE_KEY}={stale!r} is not allowed; choose one of "
                          f"{', '.join(STALE_CHOICES)}")
    plan = plan_sweep(config)
    check_sweep_folder(plan.sweep_dir)
    created = not plan.sweep_dir.exists()
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = lock_sweep(plan.sweep_dir)
    except SweepRefused:
        if created:
            plan.sweep_dir.rmdir()
        raise
    try:
        _decide(plan, stale)
    except BaseException:
        lock.release()
        if created:
            with contextlib.suppress(OSError):
                plan.sweep_dir.rmdir()
        raise
    _LOCKS[str(plan.sweep_dir)] = lock  # held until this process ends (report included)
    launch = set(plan.to_launch)
    for i, job_dir in enumerate(plan.job_dirs):  # temporary names, and runs to be replaced
        tidy_job_dir(job_dir, remove_run=i in launch and plan.status[i] != "missing")
    choices = hydra_glue.select(config, "hydra.runtime.choices") or {}
    chunks = _chunks(plan, _chunk_size(plan, config))
    if plan.design:
        write_design(plan.sweep_dir, *plan.design)
    write_manifest(plan.sweep_dir, plan.jobs, plan.subdirs,
                   experiment=choices.get("experiment") if choices else None,
                   question=question, reference=dict(reference or {}),
                   command=" ".join(sys.argv),
                   launcher=choices.get("hydra/launcher") if choices else None,
                   fingerprints=plan.fingerprints, weeks=plan.weeks,
                   values=plan.values or None, chunks=chunks)
    if plan.design:
        stage = plan.design[0].stage  # Hydra's sweep folder holds the stage's folder
        hydra_glue.launch_as(plan.sweep_dir.parent,
                             [(plan.basic[members[0] % len(plan.basic)], f"{stage}/{name}")
                              for name, members in chunks.items()])
    else:  # a chunk is launched as its first job; the others set their own replicate
        hydra_glue.launch_as(plan.sweep_dir, [(plan.jobs[members[0]], name)
                                              for name, members in chunks.items()])
    _say(plan)
    return plan


#: The jobs a sweep launches are named ``chunk-0003``: each runs several of the sweep's
#: runs one after another (:func:`execute_chunk`), so that Hydra composes one config per
#: chunk rather than one per run (a few tenths of a second each, in the launching
#: process, one job after another: most of a short sweep's time before chunks).
CHUNK_PREFIX = "chunk-"
#: Launched jobs per worker: enough that workers finishing at different times share out
#: the last chunks, few enough that composing them costs little (technical).
CHUNKS_PER_WORKER = 4


def _chunk_size(plan: Plan, config: Any) -> int:
    """Runs per launched job: a design's ``chunk``, or about ``CHUNKS_PER_WORKER``
    launched jobs per worker."""
    if plan.design and plan.design[0].chunk:
        return plan.design[0].chunk
    return max(1, math.ceil(len(plan.to_launch)
                            / (CHUNKS_PER_WORKER * (workers(config) or 2))))


def workers(config: Any) -> int | None:
    """Runs the launcher runs at once, when its config says (joblib's ``n_jobs``)."""
    n = hydra_glue.select(config, "hydra.launcher.n_jobs")
    if not isinstance(n, int) or isinstance(n, bool):
        return None
    return n if n > 0 else max((os.cpu_count() or 1) + 1 + n, 1)  # joblib: -1 = all cores


def _chunks(plan: Plan, size: int) -> dict[str, list[int]]:
    """The jobs to launch, grouped so that one composed config serves every run of a
    chunk: a design's chunk shares one sweeper job (its replicate, regime, ...), and
    other sweeps' chunks share every override but the replicate and seed."""
    by_basic: dict[Any, list[int]] = {}
    for i in plan.to_launch:
        shared = (i % len(plan.basic) if plan.design else
                  tuple(o for o in plan.jobs[i] if not is_replication_key(_key(o))))
        by_basic.setdefault(shared, []).append(i)
    chunks: dict[str, list[int]] = {}
    for members in by_basic.values():
        for start in range(0, len(members), size):
            chunks[f"{CHUNK_PREFIX}{len(chunks):04d}"] = members[start:start + size]
    return chunks


#: Sweep folder -> the lock this process holds on it (see :func:`release`).
_LOCKS: dict[str, Any] = {}


def release(sweep_dir: str | os.PathLike) -> None:
    """Release this process's lock on a sweep folder (it is released at exit anyway)."""
    lock = _LOCKS.pop(str(Path(sweep_dir)), None)
    if lock is not None:
        lock.release()


def _decide(plan: Plan, stale: str) -> None:
    """Fill in each job's status; refuse (changing nothing) if stale runs must not be re-run."""
    for job_dir, fp, weeks in zip(plan.job_dirs, plan.fingerprints, plan.weeks, strict=True):
        status, reason = run_status(run_folder(job_dir), fp, weeks)
        plan.status.append(status)
        plan.reasons.append(reason)
    stale_runs = plan.counts("stale")
    if stale_runs and stale == "refuse":
        raise SweepRefused(
            f"{_describe(stale_runs)} in {plan.sweep_dir}; they are never mixed with new "
            f"ones. Run the same command with {STALE_KEY}=rerun to replace them (the "
            "old runs are deleted), or choose another folder with hydra.sweep.dir=...")


def _describe(counts: Counter) -> str:
    """``"12 runs were made by other code and 1 run from another scenario"``."""
    parts = []
    for i, (reason, n) in enumerate(counts.most_common()):
        were = ("run was" if n == 1 else "runs were") if i == 0 else ("run" if n == 1
                                                                       else "runs")
        parts.append(f"{n} {were} {reason if i == 0 else reason.removeprefix('made ')}")
    return " and ".join(parts)


def _say(plan: Plan) -> None:
    """One line for each kind of run that cannot be reused and will be made again, and why."""
    stale = plan.counts("stale")
    if stale:
        print(f"{PROG}: {_describe(stale)}; running them again ({STALE_KEY}=rerun)",
              file=sys.stderr, flush=True)
    for status, what in (("unreadable", "cannot be read back whole"),
                         ("incomplete", "was interrupted before it was written whole")):
        counts = plan.counts(status)
        n = sum(counts.values())
        if n:
            why = "; ".join(r for r in counts if r and status == "unreadable")
            verb = what if n == 1 else what.replace("was ", "were ")
            print(f"{PROG}: {n} {'run' if n == 1 else 'runs'} {verb}"
                  + (f" ({why})" if why else "") + "; running again",
                  file=sys.stderr, flush=True)


def _first_replicates(jobs: list[list[str]], n: int) -> list[list[str]]:
    """The jobs whose replicate is among the first ``n`` replicate values the sweep lists."""
    values = list(dict.fromkeys(replicate_of(job).get("replicate") for job in jobs))
    keep = set(values[:n])
    return [job for job in jobs if replicate_of(job).get("replicate") in keep]


def validate_jobs(config: Any, jobs: Sequence[Sequence[str]],
                  points: Sequence[Mapping[str, Any]] = ({},)) -> list[SimConfig]:
    """Compose and validate every job's scenario before any is launched.

    Jobs that differ only in seed or replicate share one composition; their seed and
    replicate values are then checked against the schema one by one. A design sweep
    passes its points (``{dotted key: value}`` each): every job is then run at every
    point (point-major order), the point's values set on the job's composed scenario.

    Returns:
        Each job's scenario (at each point), in order.

    Raises:
        ConfigError: naming the job, the key, the value and what is allowed.
        Hydra's own exceptions for unknown keys or options (as Hydra reports them).
    """
    composed: dict[tuple, dict] = {}
    bases = []
    for num, job in enumerate(jobs):
        parsed = hydra_glue.parse_overrides(job)
        group = tuple(str(o.input_line) for o in parsed
                      if not is_replication_key(o.key_or_group))
        where = f" (sweep job #{num}: {' '.join(job)})"
        try:
            if group not in composed:
                cfg = hydra_glue.compose_job(config, job)
                check_inputs(hydra_glue.scenario_from(cfg))
                composed[group] = hydra_glue.job_config(cfg)
            data = dict(composed[group])
            data.update(replicate_of(job))
            bases.append(data)
        except ConfigError as err:
            raise ConfigError(f"{err}{where}") from None
    out = []
    for i, values in enumerate(points):
        for num, (job, base) in enumerate(zip(jobs, bases, strict=True)):
            try:
                out.append(from_dict(with_values(base, values)))
            except ConfigError as err:
                where = f"design point {i}, " if values else ""
                raise ConfigError(f"{err} ({where}sweep job #{num}: {' '.join(job)})") from None
    return out


def with_values(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict:
    """A copy of a scenario's nested dict with dotted keys set (``{"trust.gain": 0.05}``)."""
    if not values:
        return dict(data)
    out = copy.deepcopy(dict(data))
    for key, value in values.items():
        set_dotted(out, key, value)
    return out


# --------------------------------------------------------------------------- jobs
def execute_job(cfg: Any, output_dir: str | os.PathLike, overrides: Sequence[str] = (),
                facts: Mapping[str, Any] | None = None) -> dict | list[dict]:
    """Run what a launched job of a sweep stands for: one run, or a design sweep's chunk."""
    if Path(output_dir).name.startswith(CHUNK_PREFIX):
        return execute_chunk(cfg, output_dir, facts)
    return execute(cfg, output_dir, overrides, facts)


def execute_chunk(cfg: Any, chunk_dir: str | os.PathLike,
                  facts: Mapping[str, Any] | None = None) -> list[dict]:
    """Run a sweep's chunk: each of its runs, one after another, into its own folder.

    The chunk's jobs, their replicates and a design's point values are read from the
    sweep's plan (``sweep.json``, written before launch); each job's scenario is the
    chunk's composed scenario with its replicate (and point) set, validated again by the
    schema, so its run is the run its recorded overrides name. Each job goes through
    :func:`execute` on its own: a failing one records ``FAILED.json`` and the others go on.
    """
    from sim.sweep_store import read_manifest

    chunk_dir = Path(chunk_dir)
    manifest = read_manifest(chunk_dir.parent) or {}
    members = (manifest.get("chunks") or {}).get(chunk_dir.name)
    if members is None:
        raise RuntimeError(f"{chunk_dir.name} is not a chunk of the plan in "
                           f"{chunk_dir.parent}; run the sweep's command again")
    base = hydra_glue.job_config(cfg) if not isinstance(cfg, SimConfig) else None
    out = []
    for i in members:
        job = manifest["jobs"][i]
        job_dir = chunk_dir.parent / job["dir"]
        try:
            scenario = from_dict(with_values(base, {**replicate_of(job["overrides"]),
                                                    **(job.get("values") or {})}))
        except ConfigError as err:
            write_failure(job_dir, err, job["overrides"], datetime.now(UTC))
            out.append({"status": "failed", "dir": str(job_dir), "error": str(err)})
            continue
        job_facts = {**(facts or {}), "overrides": job["overrides"],
                     "output_dir": str(job_dir), "chunk": chunk_dir.name}
        out.append(execute(scenario, job_dir, job["overrides"], job_facts))
    return out


def execute(cfg: Any, output_dir: str | os.PathLike, overrides: Sequence[str] = (),
            facts: Mapping[str, Any] | None = None) -> dict:
    """Run one job of a sweep into ``output_dir``: skip it if reusable, record a failure.

    Args:
        cfg: the job's composed config (DictConfig) or a SimConfig.
        output_dir: the job's folder; the run goes to ``<output_dir>/run``.
        overrides: the job's overrides (recorded in ``FAILED.json``).
        facts: what the launcher knows of the job, recorded in provenance.

    Returns:
        ``{"status": "skipped" | "complete" | "failed", "dir": output_dir}``; a failure
        also writes ``FAILED.json`` (error, traceback, overrides, host, times).
    """
    output_dir = Path(output_dir)
    started = datetime.now(UTC)
    try:
        _test_hook(overrides)
        scenario = hydra_glue.scenario_from(cfg)
        check_inputs(scenario)
        weeks = scenario.time.burn_in_weeks + scenario.time.policy_weeks
        status, _ = run_status(run_folder(output_dir), fingerprint(scenario), weeks)
        if status == "complete":
            return {"status": "skipped", "dir": str(output_dir)}
        # the launching process decided this job needs a run: clear what is in the way
        tidy_job_dir(output_dir, remove_run=status != "missing")
        run_scenario(scenario, output_dir, facts, progress=False)
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
