"""The ``collabsim`` command: run one scenario composed from ``configs/`` and write it to disk.

``main`` is a thin Hydra entry point around :func:`run_scenario`, a plain function
that tests and scripts can call with any composed config. Where things go::

    results/runs/<date>_<time>_<regime>_seed<seed>/     Hydra's output dir (one run)
        .hydra/            Hydra's record: composed config, overrides, hydra.yaml
        collabsim.log      Hydra's job log
        run/               the run itself, written atomically by sim.results.write_run:
            weekly.parquet, summary.json, config.yaml, provenance.json (written last)

Hydra creates its output dir (and ``.hydra/``) before our code runs, so the run is
written into the ``run/`` subfolder through a temporary sibling that is renamed
when whole: ``<output dir>/run/provenance.json`` existing means the run is complete.

A sweep (an experiment that sets ``hydra.mode: MULTIRUN``, or ``-m``) runs each job
through :func:`sim.sweep.execute` into ``results/sweeps/<name>/<swept values>/run/``;
:class:`sim.sweep.SweepCallback` validates every job first, shows progress and writes
the report (:mod:`sim.report`). ``task: validation`` runs :mod:`sim.validation` instead.

Exit status: 0 success; 2 a configuration error found by the schema's validation
(``collabsim: error: ...`` on stderr, no traceback, no run folder left behind);
3 a sweep finished but some of its runs failed (each has ``FAILED.json``; the report
lists them); 1 an error reported by Hydra itself (unknown key, misspelt config group
option, wrong type), a bug or an unwritable results folder; 130 interrupted (Ctrl-C
or SIGTERM).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from sim.config import (
    ConfigError,
    SimConfig,
    config_dir,
    register_configs,
    set_dotted,
    to_sim_config,
)
from sim.outcomes import COLUMNS, calibration_table
from sim.results import is_complete, write_run

#: Subfolder of Hydra's output dir that holds the run (see sim.results).
RUN_SUBDIR = "run"
PROG = "collabsim"


# --------------------------------------------------------------------------- the plain function
def run_scenario(cfg: Any, output_dir: str | os.PathLike | None = None, *,
                 progress: bool | None = None, stream: TextIO | None = None) -> Path:
    """Validate a composed config, run it, print its summary and write it to disk.

    Args:
        cfg: a composed Hydra config (DictConfig, with or without the ``hydra`` node),
            a plain nested dict, or a :class:`SimConfig`.
        output_dir: folder that receives the ``run/`` subfolder; default: Hydra's
            ``runtime.output_dir`` (so it must be given outside a Hydra app).
        progress: force the weekly progress bar on or off (None keeps the config's).
        stream: where the tables are printed (default stdout).

    Returns:
        The complete run folder (``<output_dir>/run``).

    Raises:
        ConfigError: a value the schema rejects, or a bad provider CSV
            (``sim.system.SystemDataError``); raised before anything is written.
        FileExistsError: ``<output_dir>/run`` already exists.
    """
    from sim.runner import run

    out = stream or sys.stdout
    config = scenario_from(cfg)
    check_inputs(config)
    if output_dir is None:
        output_dir = _hydra_output_dir()
        if output_dir is None:
            raise ValueError("run_scenario needs output_dir outside a Hydra app")
    folder = Path(output_dir) / RUN_SUBDIR
    if folder.exists():
        raise FileExistsError(f"{_show(folder)} already exists; a run is never overwritten "
                              "(start again a second later, or set hydra.run.dir=...)")
    to_run = config
    if progress is not None and progress != config.output.progress_bar:
        to_run = dataclasses.replace(
            config, output=dataclasses.replace(config.output, progress_bar=progress))
    started = datetime.now(UTC)
    result = run(to_run, config.seed)
    finished = datetime.now(UTC)
    # Record the scenario as the user gave it: the progress bar is display only.
    result = dataclasses.replace(result, config=config)
    # Write before printing, so that a closed pipe (collabsim | head) loses nothing.
    written = write_run(folder, result, extra=_hydra_facts(), started=started,
                        finished=finished)
    print_summary(config, result.summary, result.wall_seconds, stream=out)
    print(f"\nresults: {_show(written)}", file=out)
    out.flush()
    return written


def scenario_from(cfg: Any) -> SimConfig:
    """A validated SimConfig from a composed config; ``???`` (missing) values are errors.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    if isinstance(cfg, SimConfig):
        return cfg
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(cfg, DictConfig):
        return to_sim_config(cfg)
    try:
        job = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"])
        missing = sorted(OmegaConf.missing_keys(job))
        if not missing:
            return to_sim_config(job)
        data = OmegaConf.to_container(job, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None)
        first = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"{key}: {first}" if key else first) from None
    for key in missing:  # let the schema explain what a missing value needs (system.path)
        set_dotted(data, key, None)
    to_sim_config(data)
    raise ConfigError(f"{missing[0]} has no value; set it on the command line "
                      f"({missing[0]}=...)")


def check_inputs(config: SimConfig) -> None:
    """Read a provider CSV now, so that a bad file fails before any folder is created."""
    if config.system.name == "csv" and config.system.path:
        from sim.system import load_csv

        load_csv(config.system.path)


# --------------------------------------------------------------------------- printing
def print_summary(config: SimConfig, summary: dict, wall_seconds: float,
                  stream: TextIO | None = None) -> None:
    """Print the outcome table and the calibration table, readable in a terminal."""
    out = stream or sys.stdout
    t = config.time
    print(f"{PROG}: system={config.system.name} regime={config.regime.name} "
          f"seed={config.seed}: {t.burn_in_weeks} weeks burn-in + {t.policy_weeks} weeks "
          f"under the regime, {wall_seconds:.1f} s", file=out)
    print(f"\n{'outcome':<26}{'final year':>12}{'at switch':>12}", file=out)
    for col in COLUMNS:
        at = summary.get(f"at_switch.{col}")
        print(f"{col:<26}{_num(summary.get(col)):>12}{_num(at):>12}", file=out)
    table = calibration_table(summary)
    print("\ncalibration: status quo (last 52 weeks of burn-in) vs published range",
          file=out)
    if table.empty:
        print("  (needs at least 52 weeks of burn-in: time.burn_in_weeks >= 52)", file=out)
        return
    print(f"{'measure':<26}{'simulated':>12}  {'published':<15}in range", file=out)
    for row in table.itertuples(index=False):
        rng = f"{row.low:g} - {row.high:g}"
        print(f"{row.measure:<26}{_num(row.simulated):>12}  {rng:<15}"
              f"{'yes' if row.in_range else 'no'}", file=out)


def _num(value: float | None) -> str:
    if value is None or value != value:  # missing, or undefined (NaN): see sim.outcome(name)
        return "-"
    return f"{value:.4g}"


# --------------------------------------------------------------------------- Hydra glue
try:
    from hydra.experimental.callback import Callback as _Callback
except ImportError:  # pragma: no cover - hydra-core is a dependency
    _Callback = object  # type: ignore[assignment,misc]


class ValidateFirst(_Callback):
    """Hydra callback (``hydra.callbacks`` in configs/config.yaml): validate the scenario
    before Hydra creates the run's output folder, so a typo leaves nothing on disk."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        try:
            check_inputs(scenario_from(config))
        except ConfigError as err:
            fail(err)


def fail(err: BaseException | str, status: int = 2) -> NoReturn:
    """Print ``collabsim: error: <message>`` on stderr and exit (no traceback).

    The first line says what is wrong; detail lines (e.g. each bad row of a provider
    CSV) follow as the message gives them.
    """
    message = str(err).strip() or type(err).__name__
    sys.stdout.flush()
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(status)


def _task(cfg: Any) -> Any:
    """The function Hydra calls once per job: run the scenario, turn user errors into exits.

    ``task: validation`` hands the scenario to :func:`sim.validation.run_validation`; a
    job of a sweep goes through :func:`sim.sweep.execute` (skip if complete, record a
    failure and carry on); a single run prints its tables and fails loudly.
    """
    output_dir = _hydra_output_dir()
    if _task_name(cfg) == "validation":
        return _validation(cfg, output_dir)
    if _in_sweep():
        from hydra.core.hydra_config import HydraConfig

        from sim.sweep import execute

        return execute(cfg, output_dir, list(HydraConfig.get().overrides.task))
    try:
        run_scenario(cfg, output_dir, progress=_want_progress_bar())
    except ConfigError as err:
        _discard_hydra_output(output_dir)
        fail(err)
    except FileExistsError as err:
        fail(err, status=1)
    except BrokenPipeError:  # stdout closed early (collabsim | head): the run is written
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None
    except KeyboardInterrupt:
        _discard_hydra_output(output_dir)
        sys.stdout.flush()
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        raise SystemExit(130) from None
    return None


def _task_name(cfg: Any) -> str:
    """``task`` of the composed config ("run" when the schema has no such key)."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        return str(OmegaConf.select(cfg, "task", default="run") or "run")
    return str(getattr(cfg, "task", None) or (cfg.get("task") if isinstance(cfg, dict)
                                               else None) or "run")


def _validation(cfg: Any, output_dir: Path | None) -> None:
    """Run the validation suite into Hydra's output dir and exit with its status."""
    from sim.validation import run_validation

    try:
        config = scenario_from(cfg)
        check_inputs(config)
    except ConfigError as err:
        _discard_hydra_output(output_dir)
        fail(err)
    try:
        status = run_validation(config, output_dir)
    except ConfigError as err:  # e.g. an unknown validation pattern: found before any run
        _discard_hydra_output(output_dir)
        fail(err)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print(f"{PROG}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(int(status or 0))


def _in_sweep() -> bool:
    """Whether this job is one of a multirun (a single run has Hydra's mode RUN; a sweep's
    jobs have MULTIRUN, or no mode when the sweep came from ``-m``)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode != RunMode.RUN


def _hydra_output_dir() -> Path | None:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return Path(HydraConfig.get().runtime.output_dir)


def _hydra_facts() -> dict:
    """Hydra's view of the job, for provenance (empty outside a Hydra app)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    facts = {
        "overrides": list(hc.overrides.task),
        "choices": {k: v for k, v in OmegaConf.to_container(hc.runtime.choices).items()
                    if not k.startswith("hydra/")},
        "output_dir": hc.runtime.output_dir,
        "mode": "RUN" if hc.mode == RunMode.RUN else "MULTIRUN",
    }
    if hc.job.get("num") is not None:
        facts["job_num"] = hc.job.num
    launcher = hc.runtime.choices.get("hydra/launcher")
    if launcher and facts["mode"] == "MULTIRUN":
        facts["launcher"] = launcher
    return facts


def _want_progress_bar() -> bool | None:
    """Show weekly progress for a single run in a terminal, unless the user chose."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    if any(o.lstrip("+~").startswith("output.progress_bar") for o in hc.overrides.task):
        return None
    if hc.mode != RunMode.RUN:
        return None
    return bool(sys.stdout.isatty() and sys.stderr.isatty()) or None


def _discard_hydra_output(output_dir: Path | None) -> None:
    """Remove what Hydra wrote for a job that produced no run (its ``.hydra/`` and log).

    Only Hydra's own files are removed, then the folder if it is empty: a user's
    ``hydra.run.dir=.`` must never lose anything else.
    """
    if output_dir is None or is_complete(output_dir / RUN_SUBDIR):
        return
    from hydra.core.hydra_config import HydraConfig

    subdir = HydraConfig.get().output_subdir if HydraConfig.initialized() else ".hydra"
    if subdir:
        shutil.rmtree(output_dir / subdir, ignore_errors=True)
    name = HydraConfig.get().job.name if HydraConfig.initialized() else PROG
    log = output_dir / f"{name}.log"
    try:
        log.unlink(missing_ok=True)
        output_dir.rmdir()
    except OSError:
        pass


def _show(path: Path) -> str:
    """A path relative to the current folder when it is below it, else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _check_results_folder(root: Path = Path("results")) -> None:
    """Fail clearly (exit 1) when the results folder cannot be written, before Hydra tries."""
    if root.exists() and not root.is_dir():
        fail(f"cannot write results: '{_show(root)}' exists and is not a folder", 1)
    if root.is_dir() and not os.access(root, os.W_OK | os.X_OK):
        fail(f"cannot write results: the folder '{_show(root)}' is not writable", 1)


def main() -> None:
    """Entry point of the ``collabsim`` console script."""
    import hydra

    from sim.sweep import with_sweep_overrides

    _check_results_folder()
    # SIGTERM (a scheduler or `kill`) stops a run like Ctrl-C: nothing half-written.
    signal.signal(signal.SIGTERM, _terminate)
    register_configs()  # before Hydra composes: configs/config.yaml extends sim_schema
    # A sweep's folder is named after the command (not the time), so that running the
    # same command again resumes it; an explicit hydra.sweep.dir=... wins.
    sys.argv[1:] = with_sweep_overrides(sys.argv[1:])
    entry = hydra.main(config_path=str(config_dir()), config_name="config",
                       version_base="1.3")(_task)
    try:
        entry()
    except KeyboardInterrupt:  # e.g. while Hydra composes, before _task runs
        sys.stdout.flush()
        print(f"{PROG}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
