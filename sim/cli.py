"""The command line: ``collabsim`` and ``collabsim-report`` parse, dispatch and print.

Nothing here simulates or knows a file format: one run goes through
:func:`sim.runs.run_scenario`, a sweep's jobs through :func:`sim.sweep.execute`, a
report through :func:`sim.report.build_report`; Hydra's runtime is read through
:mod:`sim.hydra_glue`. Where things go::

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
:class:`SweepCallback` validates every job first, shows progress and writes the report
(:mod:`sim.report`); the end of a sweep and ``collabsim-report`` both write the report
through :func:`write_report`. ``collabsim --help`` and ``collabsim --keys [WORD]`` print
:mod:`sim.usage`'s text (Hydra's own help stays ``--hydra-help``). The validation suite
has its own command (``collabsim-validate``).

Exit status: 0 success; 2 a configuration error found by the schema's validation
(``collabsim: error: ...`` on stderr, no traceback, no run folder left behind);
3 a sweep finished but some of its runs failed (each has ``FAILED.json``; the report
lists them); 1 an error reported by Hydra itself (unknown key, misspelt config group
option, wrong type), a bug or an unwritable results folder; 130 interrupted (Ctrl-C
or SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from sim import hydra_glue
from sim.config import ConfigError, SimConfig, config_dir, register_configs
from sim.outcomes import COLUMNS, calibration_table
from sim.processes import stop_idle_workers
from sim.results import is_complete, run_folder
from sim.runs import check_inputs, claim_folder, display_path, run_scenario
from sim.sweep_store import mark_report, report_is_current, typed_overrides

PROG = "collabsim"
REPORT_PROG = "collabsim-report"


# --------------------------------------------------------------------------- printing
def print_summary(config: SimConfig, summary: dict, wall_seconds: float,
                  stream: TextIO | None = None) -> None:
    """Print the outcome table and the calibration table, readable in a terminal."""
    out = stream or sys.stdout
    t = config.time
    print(f"{PROG}: system={config.system.name} regime={config.regime.name} "
          f"seed={config.seed} replicate={config.replicate}: {t.burn_in_weeks} weeks "
          f"burn-in + {t.policy_weeks} weeks under the regime, {wall_seconds:.1f} s", file=out)
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


# --------------------------------------------------------------------------- errors
def fail(err: BaseException | str, status: int = 2) -> NoReturn:
    """Print ``collabsim: error: <message>`` on stderr and exit (no traceback).

    The first line says what is wrong; detail lines (e.g. each bad row of a provider
    CSV) follow as the message gives them.
    """
    message = str(err).strip() or type(err).__name__
    sys.stdout.flush()
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(status)


# --------------------------------------------------------------------------- Hydra callbacks
class ValidateFirst(hydra_glue.Callback):
    """Hydra callback (``hydra.callbacks`` in configs/config.yaml): validate the scenario
    before Hydra creates the run's output folder, so a typo leaves nothing on disk."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        try:
            check_inputs(hydra_glue.scenario_from(config))
        except ConfigError as err:
            fail(err)
        run_dir = hydra_glue.default_run_dir(config)
        if run_dir is not None:  # runs started in the same second get a folder each
            try:
                hydra_glue.set_run_dir(config, claim_folder(run_dir))
            except OSError as err:
                fail(f"cannot write results: {err}", 1)


#: The running sweep's progress printer (kept out of the callback, which Hydra pickles).
_PROGRESS: dict[str, Any] = {}


class SweepCallback(hydra_glue.Callback):
    """Hydra callback for multiruns: validate every job first, plan, watch, report.

    Configured in ``configs/config.yaml`` as ``hydra.callbacks.sweep``; an experiment
    sets ``reference`` (the scenario paired differences are taken against, as a
    mapping of overrides, e.g. ``{regime: local}``; keys left out are matched within
    each level, so ``{leadership: enthusiastic_realist}`` compares within each
    workforce) and ``question`` (one sentence for the report). ``report: false`` skips
    the report at the end of a sweep, ``figures: false`` only its figures;
    ``stale: rerun`` replaces runs made from another scenario, provider file or code
    (the default, ``refuse``, stops and says how many and why: :func:`sim.sweep.start_sweep`);
    ``decomposition: true`` (a two-level factorial) also writes each factor's main effect
    and the important interactions (:mod:`sim.decomposition`) into ``decomposition/``.
    ``design`` makes the sweep a design sweep (:mod:`sim.design`: its points are sampled
    from the uncertainties' plausible ranges, crossed with the sweeper's jobs); at its
    end the analysis it names runs (:mod:`sim.analyses`: sensitivity or discovery).
    """

    def __init__(self, reference: Any = None, question: str | None = None,
                 report: bool = True, figures: bool = True,
                 decomposition: bool = False, stale: str = "refuse",
                 design: Any = None) -> None:
        self.stale = stale
        self.reference = hydra_glue.plain(reference) or {}
        self.question = question
        self.report = report
        self.figures = figures
        self.decomposition = decomposition
        self.design = hydra_glue.plain(design)

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from sim.progress import Progress
        from sim.report import ReportError, check_reference
        from sim.sweep import start_sweep
        from sim.sweep import workers as sweep_workers

        try:
            if self.report and not self.design:  # a reference that names no scenario
                check_reference(hydra_glue.expand_sweep(config), self.reference)
            plan = start_sweep(config, self.reference, self.question, self.stale)
        except ConfigError as err:
            fail(err)
        except ReportError as err:
            fail(f"{err}; choose one with hydra.callbacks.sweep.reference={{KEY:VALUE}}")
        except OSError as err:  # Hydra would only warn about an exception in a callback
            fail(f"cannot write the sweep folder: {err}", 1)
        except hydra_glue.hydra_errors() as err:
            # an unknown key or option in some job: say it as Hydra would, before
            # anything is written (Hydra itself would first create the sweep folder)
            sys.stdout.flush()
            print(str(err).strip(), file=sys.stderr)
            print("\nSet the environment variable HYDRA_FULL_ERROR=1 for a complete stack "
                  "trace.", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        if not plan.to_launch:  # every run is reusable: report without starting a launcher
            print(f"{PROG}: all {len(plan.jobs)} runs in {display_path(plan.sweep_dir)} are "
                  "complete; nothing to run", file=sys.stderr, flush=True)
            if self.design:
                self.on_multirun_end(config)
                raise SystemExit(0)
            if self.report and report_is_current(plan.sweep_dir, self.reference, self.figures):
                print(f"{PROG}: report (up to date): "
                      f"{display_path(plan.sweep_dir / 'report' / 'report.md')}", file=sys.stderr)
                raise SystemExit(0)
            self.on_multirun_end(config)
            raise SystemExit(0)
        launcher = hydra_glue.select(config, "hydra.runtime.choices.hydra/launcher")
        progress = Progress(plan.job_dirs, workers=sweep_workers(config))
        print(f"{PROG}: sweep of {len(plan.jobs)} runs into {display_path(plan.sweep_dir)} "
              f"(launcher {launcher}); {progress.already} already complete",
              file=sys.stderr, flush=True)
        progress.start()
        _PROGRESS[str(Path(str(config.hydra.sweep.dir)))] = progress  # a design's stage is below

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        progress = _PROGRESS.pop(str(sweep_dir), None)
        if progress is not None:
            progress.stop()
        # the launcher's idle workers go: what comes next (the report's figures) runs
        # on forks of this process, which has imported what they need
        stop_idle_workers()
        if self.design:
            _end_design_stage(config, sweep_dir)
            return
        _tidy_chunks(sweep_dir)
        if not self.report:
            return
        report = write_report(sweep_dir, figures=self.figures)
        mark_report(sweep_dir, self.reference, self.figures)  # a rerun may then keep it
        if self.decomposition and not report.failed:
            from sim.decomposition import main as decompose

            status = decompose([str(sweep_dir)])
            if status:
                raise SystemExit(status)
        if report.failed:
            print(f"{PROG}: error: {len(report.failed)} of {report.planned} runs failed "
                  f"(see FAILED.json in their folders and the report); run the same "
                  f"command again to retry them", file=sys.stderr, flush=True)
            raise SystemExit(3)


def _end_design_stage(config: Any, sweep_dir: Path) -> None:
    """After a design sweep's stage: tidy, then analyse, or run the next stage first.

    Sensitivity runs in two stages, each a sweep of its own in the experiment's folder:
    screening (Morris) decides which parameters go on, and the Sobol' stage is then
    launched as the same command with ``design.stage=sobol`` and those parameters (a
    process of its own, with the same launcher; it resumes like any sweep). The
    analysis of the whole experiment is written by the first stage's process.
    """
    from sim import analyses
    from sim.sweep import design_of

    spec = design_of(config)
    stage_dir = sweep_dir / spec.stage
    _tidy_chunks(stage_dir)
    failed = analyses.failed_runs(stage_dir)
    if failed:
        print(f"{PROG}: error: {failed} runs of {display_path(stage_dir)} failed (see "
              "FAILED.json in their folders); run the same command again to retry them; "
              "no analysis was written", file=sys.stderr, flush=True)
        raise SystemExit(3)
    try:
        if spec.analysis == "sensitivity" and spec.stage == "screening":
            kept = analyses.screen_folder(stage_dir)
            print(f"{PROG}: screening keeps {len(kept)} of {len(spec.keys)} parameters for "
                  f"Sobol' indices: {', '.join(kept)}", file=sys.stderr, flush=True)
            _run_stage(sweep_dir, "sobol", {"parameters": "[" + ",".join(kept) + "]"})
        if spec.stage != "sobol":  # the sobol stage's own process leaves the analysis
            folder = analyses.analyse(sweep_dir)
            print(f"{PROG}: analysis: {display_path(folder)}/{spec.analysis}.md", flush=True)
    except analyses.AnalysisError as err:
        fail(err, 1)
    except SystemExit:
        raise
    except Exception as err:  # Hydra would turn an exception in a callback into a warning
        fail(f"the analysis could not be written ({type(err).__name__}: {err}); the runs "
             f"are kept; rebuild it with `python -m sim.analyses {display_path(sweep_dir)}`", 1)


def _tidy_chunks(sweep_dir: Path) -> None:
    """Remove Hydra's record of each launched chunk (its folder, once empty): the runs
    are in their own folders, with their own provenance."""
    from sim.sweep import CHUNK_PREFIX

    for chunk in sorted(sweep_dir.glob(f"{CHUNK_PREFIX}*")):
        hydra_glue.remove_job_files(chunk, default_name=PROG)


def _run_stage(sweep_dir: Path, stage: str, settings: dict[str, str]) -> None:
    """Run the next stage of a design experiment: this command again, with the stage set."""
    import subprocess

    key = "hydra.callbacks.sweep.design"
    argv = [a for a in sys.argv[1:] if not a.startswith(("hydra.sweep.dir=", f"{key}.stage=",
                                                         f"{key}.parameters="))]
    argv += [f"hydra.sweep.dir='{sweep_dir}'", f"{key}.stage={stage}"]
    argv += [f"{key}.{k}={v}" for k, v in settings.items()]
    status = subprocess.call([sys.executable, "-m", "sim.cli", *argv])
    if status:
        raise SystemExit(status)


# --------------------------------------------------------------------------- one job
def _task(cfg: Any) -> Any:
    """The function Hydra calls once per job: dispatch, and turn user errors into exits.

    A job of a sweep goes through :func:`sim.sweep.execute` (skip if complete, record a
    failure and carry on); a single run prints its tables and fails loudly.
    """
    output_dir = hydra_glue.output_dir()
    if hydra_glue.in_sweep():
        from sim.sweep import execute_job

        return execute_job(cfg, output_dir, hydra_glue.task_overrides(),
                           hydra_glue.job_facts())
    try:
        config = hydra_glue.scenario_from(cfg)
        result = run_scenario(config, output_dir, hydra_glue.job_facts(),
                              progress=_want_progress_bar())
        # printed after the run is written, so that a closed pipe (| head) loses nothing
        print_summary(config, result.summary, result.wall_seconds)
        print(f"\nresults: {display_path(run_folder(output_dir))}")
        sys.stdout.flush()
    except ConfigError as err:
        _discard_hydra_output(output_dir)
        fail(err)
    except FileExistsError as err:
        fail(err, status=1)
    except BrokenPipeError:  # stdout closed early (collabsim | head): the run is written
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None
    except OSError as err:  # e.g. a full disk: write_run removed its temporary folder
        _discard_hydra_output(output_dir)
        fail(f"cannot write results: {err.strerror or err} "
             f"({display_path(err.filename or output_dir)}); nothing was written", 1)
    except KeyboardInterrupt:
        _discard_hydra_output(output_dir)
        sys.stdout.flush()
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        raise SystemExit(130) from None
    return None


def _want_progress_bar() -> bool | None:
    """Show weekly progress for a single run in a terminal, unless the user chose."""
    if not hydra_glue.run_mode_is_single():
        return None
    if any(o.lstrip("+~").startswith("output.progress_bar")
           for o in hydra_glue.task_overrides()):
        return None
    return bool(sys.stdout.isatty() and sys.stderr.isatty()) or None


def _discard_hydra_output(output_dir: Path | None) -> None:
    """Remove what Hydra wrote for a job that produced no run (its ``.hydra/`` and log)."""
    if output_dir is None or is_complete(run_folder(output_dir)):
        return
    hydra_glue.remove_job_files(output_dir, default_name=PROG)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _check_results_folder(root: Path = Path("results")) -> None:
    """Fail clearly (exit 1) when the results folder cannot be written, before Hydra tries."""
    if root.exists() and not root.is_dir():
        fail(f"cannot write results: '{display_path(root)}' exists and is not a folder", 1)
    if root.is_dir() and not os.access(root, os.W_OK | os.X_OK):
        fail(f"cannot write results: the folder '{display_path(root)}' is not writable", 1)


def _own_help(args: Sequence[str]) -> None:
    """``--help``/``-h`` and ``--keys [WORD]``: print (:mod:`sim.usage`) and exit 0.

    Hydra's own help would print every key's value without units or meanings; its
    options stay available as ``--hydra-help``.
    """
    from sim import usage

    if "--keys" in args:
        rest = list(args[args.index("--keys") + 1:])
        word = rest[0] if rest and not rest[0].startswith("-") else None
        _print_and_exit(usage.keys_text(word))
    if "--help" in args or "-h" in args:
        _print_and_exit(usage.help_text(PROG))


def _print_and_exit(text: str) -> NoReturn:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # collabsim --keys | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(0)


def main() -> None:
    """Entry point of the ``collabsim`` console script."""
    import hydra

    from sim.sweep import with_sweep_overrides

    _own_help(sys.argv[1:])
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


# --------------------------------------------------------------------------- reports
def write_report(sweep_dir: Path, reference: dict | None = None, figures: bool = True,
                 prog: str = PROG) -> Any:
    """Build a sweep's report and say where it is: the one path for every report.

    Both the end of a sweep and ``collabsim-report`` come here. A report is replaced
    only by a whole new one (:func:`sim.report.build_report`); a folder without runs or
    a reference that names no scenario exits with status 2 and the old report untouched.

    Returns:
        the :class:`sim.report.Report`.
    """
    from sim.report import ReportError, build_report

    try:
        report = build_report(sweep_dir, reference=reference, figures=figures)
    except (FileNotFoundError, ReportError) as err:
        sys.stdout.flush()
        print(f"{prog}: error: {err}", file=sys.stderr, flush=True)
        if isinstance(err, ReportError):
            print(f"{prog}: the existing report, if any, is unchanged", file=sys.stderr,
                  flush=True)
        raise SystemExit(2) from None
    except Exception as err:  # Hydra turns an exception in a callback into a warning, exit 0
        fail(f"the report could not be built ({type(err).__name__}: {err}); the runs and "
             f"the existing report, if any, are kept; rebuild it with {REPORT_PROG} "
             f"{display_path(sweep_dir)}", 1)
    complete = int((report.runs["status"] == "complete").sum())
    where = display_path(report.path)
    print(f"{prog}: {complete} complete runs, {len(report.failed)} failed, "
          f"{len(report.missing)} missing; report: {where}/report.md (and report.html)",
          flush=True)
    return report


def report_main(argv: Sequence[str] | None = None) -> int:
    """``collabsim-report SWEEP_DIR``: rebuild a sweep's report from its run folders."""
    parser = argparse.ArgumentParser(
        prog=REPORT_PROG,
        description="Rebuild a sweep's report (report.md, report.html, tables, figures) "
                    "from its run folders; never re-runs the model. The old report is "
                    "replaced only when the new one is complete.")
    parser.add_argument("sweep_dir", help="a sweep folder, e.g. results/sweeps/mandate_vs_local")
    parser.add_argument("--reference", action="append", metavar="KEY=VALUE", default=[],
                        help="the reference scenario, e.g. --reference regime=local "
                             "(repeatable; default: what the sweep recorded); one that "
                             "names no scenario of the sweep is an error")
    parser.add_argument("--no-figures", action="store_true",
                        help="no figures (tables, report.md and report.html only)")
    args = parser.parse_args(argv)
    folder = Path(args.sweep_dir)
    if not folder.is_dir():
        print(f"{REPORT_PROG}: error: {folder} is not a folder", file=sys.stderr)
        return 2
    from sim.design import DESIGN_JSON

    if (folder / DESIGN_JSON).is_file() or any(folder.glob(f"*/{DESIGN_JSON}")):
        top = folder.parent if (folder / DESIGN_JSON).is_file() else folder
        print(f"{REPORT_PROG}: error: {folder} holds a design experiment (sensitivity or "
              f"discovery), whose points are not scenarios to compare; its analysis is "
              f"rebuilt with `python -m sim.analyses {top}`", file=sys.stderr)
        return 2
    try:
        swept = [o.input_line for o in hydra_glue.parse_overrides(args.reference)
                 if o.is_sweep_override()]
        reference = dict(typed_overrides(args.reference)) if args.reference else None
    except Exception as err:  # Hydra's parser: not KEY=VALUE
        swept, reference = [str(err).strip().splitlines()[0]], None
    if swept:
        print(f"{REPORT_PROG}: error: --reference {' '.join(args.reference)}: expected one "
              f"KEY=VALUE per option, e.g. --reference regime=local ({swept[0]})",
              file=sys.stderr)
        return 2
    write_report(folder, reference=reference, figures=not args.no_figures, prog=REPORT_PROG)
    return 0


if __name__ == "__main__":
    main()
