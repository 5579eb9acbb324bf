"""How long re-running a complete sweep takes (issue 11: under 10 s for the main job).

Usage::

    uv run python -m benchmarks.resume            # the main job: experiment=mandate_vs_local
    uv run python -m benchmarks.resume --quick    # the same experiment on the teaching system,
                                                  # 4 replicates and a short horizon (~1 min)

Runs the sweep once into ``--sweep-dir`` if it is not complete yet (the first run of the
main job computes its 80 runs: several minutes on 2 cores; later calls reuse them), then
re-runs the same command ``--repeats`` times, each in a fresh process as a user would,
and reports the median wall time against the target. Each re-run must exit 0, say that
every run is complete, launch nothing and leave every run untouched (their
``provenance.json`` keep their modification times); otherwise the benchmark says so and
gives no verdict. The report records the machine's load before and after, as the main
suite does (``benchmarks/run.py``): a busy machine inflates the figure.

Writes ``benchmarks/results/<timestamp>_resume[_quick].md`` and ``.json`` and prints the
markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import RESULTS, ROOT, load, machine, table

#: Issue 11's target: re-running a complete main job finishes in under this (s).
TARGET_SECONDS = 10.0
#: What --quick changes: the teaching system, 4 replicates, 26 + 26 weeks.
QUICK = ["system=teaching", "replicate=range(0,4)", "time.burn_in_weeks=26",
         "time.policy_weeks=26"]


def command(experiment: str, sweep_dir: Path, quick: bool) -> list[str]:
    """The ``collabsim`` command of the sweep (the console script's code path)."""
    return [sys.executable, "-m", "sim.cli", f"experiment={experiment}",
            *(QUICK if quick else []), f"hydra.sweep.dir={sweep_dir}"]


def provenance_times(sweep_dir: Path) -> dict[str, int]:
    """Each run's ``provenance.json`` modification time (ns): a re-run must not change them."""
    return {p.parent.parent.name: p.stat().st_mtime_ns
            for p in sweep_dir.glob("*/run/provenance.json")}


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if k != "_COLLABSIM_TEST_FAIL"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=7200)
    return time.perf_counter() - t0, proc


def measure(experiment: str, sweep_dir: Path, repeats: int, quick: bool,
            log=lambda msg: None) -> dict:
    """Make the sweep complete (if needed), then time ``repeats`` re-runs of it."""
    cmd = command(experiment, sweep_dir, quick)
    out: dict = {"experiment": experiment, "quick": quick, "sweep_dir": str(sweep_dir),
                 "command": " ".join(cmd[3:]), "load_start": load()}
    log(f"first run (computes only the runs that are missing): {' '.join(cmd[3:])}")
    first, proc = timed(cmd, ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"the sweep failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    out["first_seconds"] = first
    out["runs"] = len(provenance_times(sweep_dir))
    before = provenance_times(sweep_dir)
    times, problems = [], []
    for i in range(repeats):
        seconds, proc = timed(cmd, ROOT)
        log(f"re-run {i + 1}/{repeats}: {seconds:.2f} s")
        times.append(seconds)
        if proc.returncode != 0:
            problems.append(f"re-run {i + 1} exited {proc.returncode}: {proc.stderr[-500:]}")
        elif "nothing to run" not in proc.stderr:
            problems.append(f"re-run {i + 1} launched jobs: {proc.stderr[-500:]}")
    if provenance_times(sweep_dir) != before:
        problems.append("a re-run rewrote runs that were complete")
    median = statistics.median(times)
    out.update(rerun_seconds=times, median_seconds=median, problems=problems,
               load_end=load(), target_seconds=TARGET_SECONDS,
               passed=None if problems or quick else median <= TARGET_SECONDS)
    return out


def markdown(result: dict, info: dict) -> str:
    verdict = {True: "pass", False: "FAIL", None: "no verdict"}[result["passed"]]
    lines = [f"# Re-running a complete sweep ({'quick' if result['quick'] else 'full'})", "",
             f"{info['timestamp']}; {info['machine']['cpu']} ({info['machine']['usable_cores']} "
             f"usable cores), Python {info['machine']['python']}, commit "
             f"{info['machine']['git_commit']}"
             + (" (sim/ or configs/ modified)" if info['machine']['model_code_modified'] else ""),
             "", f"Command: `collabsim {result['command']}`", "",
             table(["figure", "measured", "target", "result"],
                   [["re-run of a complete sweep, median (s)", result["median_seconds"],
                     f"<= {result['target_seconds']:g}", verdict],
                    ["re-runs (s)", ", ".join(f"{t:.2f}" for t in result["rerun_seconds"]),
                     "", ""],
                    ["runs in the sweep", result["runs"], "", ""],
                    ["first run, computing what was missing (s)", result["first_seconds"],
                     "", ""],
                    ["1-min load average before / after",
                     f"{result['load_start'][0]:.2f} / {result['load_end'][0]:.2f}", "", ""]]),
             "", "What a re-run does: start Python and Hydra, compose and validate every "
             "job's scenario, fingerprint them, read back every run's files (JSON parsed, "
             "the weekly table's Parquet footer read), decide that nothing needs running, "
             "and keep the report if `report-inputs.json` says it was built from exactly this "
             "plan (else rebuild it: tables, figures, report.md); no launcher is started "
             "and no job process is created. The first re-run after the sweep itself keeps "
             "the report the sweep wrote.", ""]
    if result["quick"]:
        lines += ["Quick mode (teaching system, 4 replicates): indicative only, no verdict.", ""]
    for p in result["problems"]:
        lines.append(f"- **problem**: {p}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.resume", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiment", default="mandate_vs_local",
                    help="the sweep (default: the main job, mandate_vs_local)")
    ap.add_argument("--quick", action="store_true",
                    help="teaching system, 4 replicates, 26 + 26 weeks (about a minute)")
    ap.add_argument("--sweep-dir", type=Path,
                    help="where the sweep lives (default results/benchmarks/<experiment>"
                         "[_quick]; kept, so later calls reuse its runs)")
    ap.add_argument("--repeats", type=int, default=3, help="timed re-runs (default 3)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for the report")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    sweep_dir = (args.sweep_dir or ROOT / "results" / "benchmarks"
                 / f"{args.experiment}{'_quick' if args.quick else ''}").resolve()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    info = {"timestamp": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "machine": machine()}
    result = measure(args.experiment, sweep_dir, args.repeats, args.quick, log)
    text = markdown(result, info)
    if not args.no_write:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S") + "_resume" + (
            "_quick" if args.quick else "")
        (args.out / f"{stem}.md").write_text(text)
        (args.out / f"{stem}.json").write_text(json.dumps({**info, **result}, indent=2) + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
