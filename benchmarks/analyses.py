"""How long the design experiments take (issue 12: sensitivity and discovery).

Usage::

    uv run python -m benchmarks.analyses                 # both, teaching system (minutes)
    uv run python -m benchmarks.analyses --system ics    # both on the ICS system (long)
    uv run python -m benchmarks.analyses --only sensitivity

Runs ``collabsim experiment=<name> system=<system>`` with the experiment's default
settings, as a user would, into a fresh temporary folder (so nothing is reused), and
reports the wall time from the command's start to its analysis on disk, with the number
of runs each stage made and the machine's load before and after (a busy machine
inflates the figure). Targets (issue 12): under 5 minutes on 2 cores on the teaching
system, under 45 minutes on the ICS system.

Writes ``benchmarks/results/<timestamp>_analyses_<system>.md`` and ``.json`` and prints
the markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import RESULTS, ROOT, load, machine, table

#: Issue 12's targets: wall seconds per experiment on 2 cores, by system.
TARGETS = {"teaching": 300.0, "ics": 2700.0}
EXPERIMENTS = ("sensitivity", "discovery")


def time_experiment(name: str, system: str, folder: Path) -> dict:
    """Run one experiment into ``folder``; its wall time, exit status and runs per stage."""
    cmd = [sys.executable, "-m", "sim.cli", f"experiment={name}", f"system={system}",
           f"hydra.sweep.dir={folder}"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    stages = {}
    for plan in sorted(folder.glob("*/sweep.json")):
        stages[plan.parent.name] = len(json.loads(plan.read_text())["jobs"])
    report = folder / "analysis" / f"{name}.md"
    return {"experiment": name, "system": system, "wall_seconds": wall,
            "status": proc.returncode, "runs": stages, "analysis": report.is_file(),
            "target_seconds": TARGETS.get(system),
            "stderr_tail": proc.stderr[-2000:] if proc.returncode else ""}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.analyses", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", default="teaching", choices=tuple(TARGETS))
    ap.add_argument("--only", choices=EXPERIMENTS)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    report: dict = {"timestamp": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": machine(), "load_start": load(), "results": []}
    with tempfile.TemporaryDirectory(prefix="collabsim-bench-") as tmp:
        for name in [args.only] if args.only else EXPERIMENTS:
            print(f"timing experiment={name} system={args.system} ...", file=sys.stderr,
                  flush=True)
            report["results"].append(time_experiment(name, args.system, Path(tmp) / name))
    report["load_end"] = load()
    rows = []
    for r in report["results"]:
        ok = r["status"] == 0 and r["analysis"]
        verdict = ("met" if r["wall_seconds"] <= r["target_seconds"] else "missed") if ok \
            else f"failed (exit {r['status']})"
        runs = ", ".join(f"{k} {v}" for k, v in r["runs"].items())
        rows.append([r["experiment"], r["system"], f"{r['wall_seconds']:.0f} s", runs,
                     f"{r['target_seconds']:.0f} s", verdict])
    text = "\n".join([
        f"# Design experiments: wall time ({report['timestamp']})", "",
        f"Machine: {report['machine'].get('logical_cores', '?')} cores; load before "
        f"{report['load_start']}, after {report['load_end']}.", "",
        table(["experiment", "system", "wall", "runs per stage", "target", "verdict"], rows),
    ])
    if not args.no_write:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S") + f"_analyses_{args.system}"
        (args.out / f"{stem}.md").write_text(text + "\n")
        (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(text)
    return report


if __name__ == "__main__":
    main()
