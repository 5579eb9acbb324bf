"""Scenario sweeps: Hydra multiruns with paired replicates, resumable and fault-isolated.

A sweep (``collabsim experiment=mandate_vs_local``, or ``collabsim -m key=a,b ...``) is
one Hydra multirun. Hydra's sweeper expands the swept values into jobs and a launcher
(local processes by default; SLURM through submitit; Ray) runs them. This module is
the engine a long sweep needs; the command line (:mod:`sim.cli`) calls it from Hydra's
entry point and callbacks, and the folder format lives in :mod:`sim.sweep_store`:

* :func:`start_sweep`, in the process that launches the sweep, before any job starts:
  plans the jobs, validates every job's scenario against the schema (a bad value fails
  at once), writes the plan (``sweep.json``) and removes half-written leftovers of an
  interrupted sweep. :class:`sim.progress.Progress` then watches the job folders.
* :func:`execute`, for each job, wherever it runs: a job whose run is already complete
  is skipped before anything is simulated; a job that raises writes ``FAILED.json``
  (with the traceback) into its folder and returns, so one bad run neither stops nor
  loses the others.
* :func:`sweep_overrides`, for the command line: the sweep folder is named after the
  command (``results/sweeps/<experiment>[_<other overrides>]``), never a timestamp, so
  that running the same command again finds the earlier runs and runs only those that
  are missing, incomplete or failed.

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

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim import hydra_glue
from sim.config import ConfigError, from_dict
from sim.results import is_complete, run_folder
from sim.runs import check_inputs, run_scenario
from sim.sweep_store import (
    FAILED,
    SWEEP_ROOT,
    clean_sweep_dir,
    is_replication_key,
    replicate_of,
    sweep_name,
    tidy_job_dir,
    write_failure,
    write_manifest,
)

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
        overrides = hydra_glue.command_line_overrides(argv)
        parsed = hydra_glue.parse_overrides(overrides)
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
        out.append(f"hydra.sweep.dir='{SWEEP_ROOT}/{sweep_name(experiment, others)}'")
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
    """A sweep's jobs (override lists, in launch order) and their folders."""

    sweep_dir: Path
    jobs: list[list[str]]
    subdirs: list[str]

    @property
    def job_dirs(self) -> list[Path]:
        return [self.sweep_dir / s for s in self.subdirs]


def plan_jobs(config: Any) -> list[list[str]]:
    """The jobs Hydra's basic sweeper will launch for this multirun config, in order."""
    return hydra_glue.expand_sweep(config)


def plan_sweep(config: Any) -> Plan:
    """Expand and validate a multirun config's jobs and name their folders.

    Raises:
        ConfigError: a job's scenario is invalid, or two jobs would share a folder.
        Hydra's own exceptions for unknown keys or options (as Hydra reports them).
    """
    jobs = plan_jobs(config)
    validate_jobs(config, jobs)
    subdirs = [hydra_glue.job_subdir(config, job, i) for i, job in enumerate(jobs)]
    if len(set(subdirs)) < len(subdirs):
        raise ConfigError("two jobs of the sweep would share a folder; keep "
                          "hydra.sweep.subdir=${hydra.job.override_dirname}")
    return Plan(Path(str(config.hydra.sweep.dir)), jobs, subdirs)


def start_sweep(config: Any, reference: Mapping | None, question: str | None) -> Plan:
    """Plan a sweep (:func:`plan_sweep`), create its folder, tidy it and write its plan.

    Nothing is written if planning fails.
    """
    plan = plan_sweep(config)
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    clean_sweep_dir(plan.sweep_dir)
    choices = hydra_glue.select(config, "hydra.runtime.choices") or {}
    write_manifest(plan.sweep_dir, plan.jobs, plan.subdirs,
                   experiment=choices.get("experiment") if choices else None,
                   question=question, reference=dict(reference or {}),
                   command=" ".join(sys.argv),
                   launcher=choices.get("hydra/launcher") if choices else None)
    return plan


def validate_jobs(config: Any, jobs: Sequence[Sequence[str]]) -> None:
    """Compose and validate every job's scenario before any is launched.

    Jobs that differ only in seed or replicate share one composition; their seed and
    replicate values are then checked against the schema one by one.

    Raises:
        ConfigError: naming the job, the key, the value and what is allowed.
        Hydra's own exceptions for unknown keys or options (as Hydra reports them).
    """
    composed: dict[tuple, dict] = {}
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
            from_dict(data)
        except ConfigError as err:
            raise ConfigError(f"{err}{where}") from None


# --------------------------------------------------------------------------- jobs
def execute(cfg: Any, output_dir: str | os.PathLike, overrides: Sequence[str] = (),
            facts: Mapping[str, Any] | None = None) -> dict:
    """Run one job of a sweep into ``output_dir``: skip it if complete, record a failure.

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
    if is_complete(run_folder(output_dir)):
        return {"status": "skipped", "dir": str(output_dir)}
    tidy_job_dir(output_dir)
    started = datetime.now(UTC)
    try:
        _test_hook(overrides)
        run_scenario(hydra_glue.scenario_from(cfg), output_dir, facts, progress=False)
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
