"""The benchmark harness: run every measurement, compare with the targets, write a report.

Usage::

    uv run python -m benchmarks            # full suite (several minutes on 2 cores)
    uv run python -m benchmarks --quick    # smoke mode (teaching + ICS, short horizon)
    uv run python -m benchmarks --quick --systems teaching   # what the test runs

Writes ``benchmarks/results/<timestamp>.md`` and ``.json`` and prints the markdown.
Every measurement runs in a fresh Python process (``benchmarks.tasks``), so that
peak memory is that measurement's own and one run's garbage does not slow the
next; in ``--quick`` mode all measurements share one process to save start-up
time, and peak memory is then the process's. Timings are medians over
``--repeats`` repetitions, interleaved so that a burst of load from other
processes does not fall on one measurement only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import issue16, reference
from benchmarks.tasks import MARKER

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
FULL_WEEKS = (104, 260)  # the default scenario: two years of burn-in, five of policy

#: Targets of issue 5, kept as history below issue 16's (``benchmarks.issue16.TARGETS``);
#: they belong in the report, never in timed tests.
TARGETS = {
    "ics_seconds": ("ICS burn-in + 5 years (s)", "<=", 1.0),
    "england_seconds": ("England burn-in + 5 years (s)", "<=", 20.0),
    "growth_exponent": ("run time growth exponent with providers", "<=", 1.15),
    "england_memory_gb": ("peak memory, England (GB)", "<=", 2.0),
    "parallel_efficiency": ("parallel efficiency, 2 workers vs 1", ">=", 0.80),
    "data_collection_share": ("data collection share of step time", "<=", 0.10),
    "per_agent_speedup": ("vectorised vs per-agent reference, ICS (x)", ">=", 20.0),
}


#: A run that got less than this share of a CPU while stepping was slowed by other processes.
CONTENDED = 0.9


# --------------------------------------------------------------------------- running tasks
def run_tasks(specs: list[dict], tree: Path = ROOT, timeout: float = 3600.0) -> list[dict]:
    """Run ``specs`` in one new Python process with ``tree``'s code; one result per spec.

    The process runs ``tree``'s own ``benchmarks.tasks`` (in ``tree``, with ``tree``
    first on ``PYTHONPATH``), so the reference commit is measured by its own tasks.
    With a single spec, the result also gets ``process_cpu_share``: the CPU time of the
    process (and of the children it waited for, e.g. a sweep's workers) over its wall time.
    """
    cpu0, start = issue16.children_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.tasks"], input=json.dumps(specs),
                          capture_output=True, text=True, cwd=tree,
                          env=reference.environment(tree), timeout=timeout)
    wall, cpu = time.perf_counter() - start, issue16.children_cpu() - cpu0
    results = [json.loads(line[len(MARKER):]) for line in proc.stdout.splitlines()
               if line.startswith(MARKER)]
    if proc.returncode != 0 or len(results) != len(specs):
        raise RuntimeError(f"benchmark task failed (exit {proc.returncode}) in {tree} for "
                           f"{specs}:\n{proc.stderr[-4000:]}")
    if len(specs) == 1:
        results[0]["process_cpu_share"] = cpu / wall
    return results


class Runner:
    """Runs (tree, spec) pairs fresh (one process each) or, in quick mode, batched in one
    process per tree; every result is tagged with its tree's label."""

    def __init__(self, fresh: bool, trees: dict[str, Path], log) -> None:
        self.fresh = fresh
        self.trees = trees
        self.log = log

    def many(self, items: list[tuple[str, dict]]) -> list[dict]:
        out: list[dict] = []
        if not self.fresh:
            for label in dict.fromkeys(label for label, _ in items):
                specs = [spec for lab, spec in items if lab == label]
                self.log(f"  {len(specs)} task(s) in one process ({label}) ...")
                out += [{**r, "tree": label} for r in run_tasks(specs, self.trees[label])]
            return out
        for label, spec in items:
            self.log(f"  {describe(spec)} ({label}) ...")
            out += [{**r, "tree": label} for r in run_tasks([spec], self.trees[label])]
            self.log(f"    done in {out[-1]['task_wall_seconds']:.1f} s")
        return out


def describe(spec: dict) -> str:
    extra = f" x{spec['scale']:g}" if spec.get("scale", 1) != 1 else ""
    return f"{spec['task']} {spec['system']}{extra}"


# --------------------------------------------------------------------------- machine
def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 1024 ** 2
    except OSError:
        pass
    import mesa
    import pandas

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim", "configs"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit, dirty = "unknown", ""
    return {
        "cpu": cpu, "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gb": mem_gb, "os": platform.platform(), "python": platform.python_version(),
        "numpy": np.__version__, "mesa": mesa.__version__, "pandas": pandas.__version__,
        "git_commit": commit, "model_code_modified": bool(dirty),
    }


def load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# --------------------------------------------------------------------------- figures
def summarise_runs(results: list[dict]) -> dict:
    """Medians of repeated runs of one (system, scale), and derived rates."""
    first = results[0]
    med = {k: statistics.median(r[k] for r in results)
           for k in ("build_seconds", "step_seconds", "collect_frame_seconds", "total_seconds",
                     "mean_partnerships")}
    weeks, n = first["weeks"], first["providers"]
    years = weeks / 52.0
    return {
        "system": first["spec"]["system"], "scale": first["spec"].get("scale", 1.0),
        "providers": n, "weeks": weeks, "repeats": len(results), **med,
        "total_all": [r["total_seconds"] for r in results],
        "seconds_per_year": med["step_seconds"] / years,
        "provider_weeks_per_second": n * weeks / med["step_seconds"],
        "partnership_weeks_per_second": med["mean_partnerships"] * weeks / med["step_seconds"],
        # burn-in + 5 years, projected when a shorter horizon was run
        "full_horizon_seconds": (med["build_seconds"] + med["collect_frame_seconds"]
                                 * sum(FULL_WEEKS) / weeks
                                 + med["step_seconds"] * sum(FULL_WEEKS) / weeks),
        "full_horizon_measured": weeks == sum(FULL_WEEKS),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "step_cpu_share": statistics.median(r["step_cpu_share"] for r in results),
        "total_cpu_seconds": statistics.median(r["total_cpu_seconds"] for r in results),
        "rss_before_model_mb": statistics.median(r["rss_before_model_mb"] for r in results),
        "fresh_process": all(r["fresh_process"] for r in results),
    }


def fit_exponent(points: list[dict], key: str) -> dict:
    """Least-squares slope of log(seconds) on log(providers), with R²."""
    x = np.log([p["providers"] for p in points])
    y = np.log([p[key] for p in points])
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    ss = ((y - y.mean()) ** 2).sum()
    return {"exponent": float(slope), "r2": float(1 - (resid ** 2).sum() / ss) if ss else 1.0,
            "points": len(points)}


def verdict(key: str, value: float | None) -> dict:
    label, op, target = TARGETS[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {"figure": label, "value": None, "target": f"{op} {target:g}", "pass": None}
    ok = value <= target if op == "<=" else value >= target
    return {"figure": label, "value": value, "target": f"{op} {target:g}", "pass": bool(ok)}


# --------------------------------------------------------------------------- markdown
def table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "not measured"
    if unit == "%":
        return f"{100 * value:.1f}%"
    return f"{value:.{digits}g}{unit}"


def markdown(report: dict) -> str:
    m, out = report["machine"], []
    out.append(f"# collabsim benchmarks, {report['timestamp']}")
    out.append("")
    out.append(f"Command: `{report['command']}` ({report['mode']} mode, "
               f"{report['repeats']} repetition(s), medians). "
               f"Harness wall time {report['wall_seconds']:.0f} s.")
    out.append("")
    out.append(table(["machine", ""], [
        ["CPU", m["cpu"]], ["cores (logical / usable)", f"{m['logical_cores']} / "
                                                        f"{m['usable_cores']}"],
        ["memory", f"{m['memory_gb']:.1f} GB" if m["memory_gb"] else "?"],
        ["OS", m["os"]], ["Python / NumPy / Mesa / pandas",
                          f"{m['python']} / {m['numpy']} / {m['mesa']} / {m['pandas']}"],
        ["code", f"commit {m['git_commit']}"
                 + (" + uncommitted changes in sim/ or configs/" if m["model_code_modified"]
                    else "")],
        ["load average (1/5/15 min) at start / end",
         f"{report['load_start']} / {report['load_end']}"]]))
    out.append("")

    out += issue16.markdown(report["issue16"], (report.get("reference") or {}).get("commit"))
    out.append("## Issue 5 targets (history)")
    out.append("")
    rows = []
    for key, v in report["targets"].items():
        unit = "%" if key in ("parallel_efficiency", "data_collection_share") else ""
        note = report["target_notes"].get(key, "")
        status = {True: "pass", False: "**FAIL**", None: "n/a"}[v["pass"]]
        rows.append([v["figure"], fmt(v["value"], unit), v["target"] if not unit else
                     f"{v['target'].split()[0]} {100 * float(v['target'].split()[1]):.0f}%",
                     status, note])
    out.append(table(["figure", "measured", "target", "result", "how measured"], rows))
    out.append("")

    ref = report.get("reference") or {}
    commit = ref.get("commit")
    if report["systems"]:
        out.append("## Systems (default scenario: status-quo burn-in, then the local regime)")
        out.append("")
        rows = [[s["system"] + (f" x{s['scale']:g}" if s["scale"] != 1 else ""),
                 f"{s['providers']:,}", f"{s['mean_partnerships']:,.0f}", s["weeks"],
                 s["build_seconds"], s["step_seconds"], s["total_seconds"],
                 s["seconds_per_year"], f"{s['provider_weeks_per_second']:,.0f}",
                 f"{s['partnership_weeks_per_second']:,.0f}", f"{s['peak_rss_mb']:,.0f}",
                 f"{100 * s['step_cpu_share']:.0f}%"]
                for s in report["systems"] + [{**r, "system": f"{r['system']} ({commit})"}
                                              for r in ref.get("systems") or []]]
        out.append(table(["system", "providers", "mean partnerships", "weeks", "build s",
                          "steps s", "total s", "s per simulated year",
                          "provider-weeks/s", "partnership-weeks/s", "peak RSS MB",
                          "CPU/wall"], rows))
        out.append("")
        out.append("*s per simulated year*, *provider-weeks/s* and *partnership-weeks/s* use "
                   "the weekly steps only (not the one-off build of the system and its "
                   "neighbour lists); *total* is build + steps + the outcome table, as "
                   "`sim.run` does it. Peak RSS is the whole process's, including about "
                   f"{report['systems'][0]['rss_before_model_mb']:.0f} MB of imported "
                   "libraries. *CPU/wall* is the CPU time the run got over its wall time "
                   "while stepping: well below 100% means other processes competed for the "
                   "CPU and the timings are inflated.")
        out.append("")

    sc = report.get("scaling")
    if sc:
        out.append("## Growth of run time with the number of providers")
        out.append("")
        rows = [[p["system"] + f" x{p['scale']:g}", f"{p['providers']:,}",
                 f"{p['mean_partnerships']:,.0f}", p["weeks"], p["total_seconds"],
                 p["step_seconds"] / p["weeks"] * 1000, f"{p['peak_rss_mb']:,.0f}",
                 f"{100 * p['step_cpu_share']:.0f}%"]
                for p in sc["points"] + [{**r, "system": f"{r['system']} ({commit})"}
                                         for r in (ref.get("scaling") or {}).get("points", [])]]
        out.append(table(["system", "providers", "mean partnerships", "weeks", "total s",
                          "ms per week", "peak RSS MB", "CPU/wall"], rows))
        out.append("")
        out.append(f"Fitted exponent (log-log least squares over {sc['total']['points']} "
                   f"sizes): total run time ~ providers^**{sc['total']['exponent']:.3f}** "
                   f"(R² {sc['total']['r2']:.3f}); weekly steps only ~ "
                   f"providers^{sc['steps']['exponent']:.3f}; per partnership-week "
                   f"(steps vs mean partnerships) ^{sc['per_partnership']['exponent']:.3f}."
                   + (f" Reference ({commit}): total ~ providers^"
                      f"{ref['scaling']['total']['exponent']:.3f} (R² "
                      f"{ref['scaling']['total']['r2']:.3f})." if ref.get("scaling") else ""))
        out.append("")

    if report.get("shares"):
        out.append("## Where the step time goes")
        out.append("")
        for sh in report["shares"]:
            out.append(f"### {sh['spec']['system']} ({sh['providers']:,} providers, "
                       f"{sh['weeks']} weeks, {sh['step_seconds']:.2f} s of steps "
                       "with timing wrappers)")
            out.append("")
            out.append(table(["mechanism", "s", "share"],
                             [[g["group"], g["seconds"], f"{100 * g['share']:.1f}%"]
                              for g in sh["groups"]]))
            out.append("")
            out.append("Top functions (self time):")
            out.append("")
            out.append(table(["function", "calls", "s", "share"],
                             [[f"`{f['function']}`", f["calls"], f["seconds"],
                               f"{100 * f['share']:.1f}%"] for f in sh["functions"][:10]]))
            out.append("")

    sw = report.get("sweep")
    if sw:
        out.append("## Sweep throughput (`sim.run_many`, joblib)")
        out.append("")
        out.append(table(["", "value"], [
            ["runs", f"{sw['runs']} x {sw['system']} ({sw['providers']:,} providers, "
                     f"{sw['weeks']} weeks)"],
            ["1 worker (s)", sw["serial_seconds"]],
            ["2 workers, fresh pool (s)", sw["parallel_cold_seconds"]],
            ["2 workers, warm pool (s)", sw["parallel_warm_seconds"]],
            ["efficiency t1 / (2 t2), fresh pool", f"{100 * sw['efficiency_cold']:.0f}%"],
            ["efficiency t1 / (2 t2), warm pool", f"{100 * sw['efficiency_warm']:.0f}%"],
            ["runs per minute, 1 / 2 workers",
             f"{sw['runs_per_minute_serial']:.1f} / {sw['runs_per_minute_parallel']:.1f}"],
            ["provider-weeks/s, 2 workers", f"{sw['provider_weeks_per_second_parallel']:,.0f}"],
            ["1-min load average before / after (this sweep included)",
             f"{sw['load_start']:.2f} / {sw['load_end']:.2f}"],
        ]))
        out.append("")
        out.append("A fresh pool pays for starting the worker processes (each imports "
                   "NumPy, pandas, Mesa and the model); joblib keeps the pool for later "
                   "calls in the same process. With 2 cores, a load average above about 2 "
                   "during the sweep means other processes took CPU from the workers: the "
                   "efficiency is then understated.")
        out.append("")

    pa = report.get("per_agent")
    if pa:
        ch, ex = pa["checks"], pa["exact"]
        out.append("## Per-agent reference (`benchmarks/per_agent.py`)")
        out.append("")
        out.append(f"Handoff routing and trust, per agent (`mesa.Agent`s driven by "
                   f"`shuffle_do`) vs the model's vectorised functions, on {pa['system']} "
                   f"({pa['providers']:,} providers, {pa['route_groups']:,} route groups, "
                   f"{pa['adhoc_pairs']:,} ad hoc pairs, {pa['partnerships']:,} "
                   f"partnerships), from the state after the burn-in, {pa['weeks']} weeks x "
                   f"{pa['replicates']} replicates.")
        out.append("")
        out.append(table(["", "vectorised", "per-agent", "relative difference", "z", "ok"], [
            ["episodes handed over per week", ch["transferred"]["vectorised"],
             ch["transferred"]["per_agent"],
             f"{100 * ch['transferred']['relative_difference']:+.2f}%",
             ch["transferred"]["z"], ch["transferred"]["ok"]],
            ["mean trust", ch["mean_trust"]["vectorised"], ch["mean_trust"]["per_agent"],
             f"{100 * ch['mean_trust']['relative_difference']:+.2f}%", ch["mean_trust"]["z"],
             ch["mean_trust"]["ok"]],
            ["per-group handed over, correlation", "", "",
             f"r = {ch['per_group_correlation']['value']:.5f}", "",
             ch["per_group_correlation"]["ok"]],
            ["seconds per week", pa["seconds_per_week"]["vectorised"],
             pa["seconds_per_week"]["per_agent"], f"speed-up **{pa['speedup']:.0f}x**", "",
             ""],
        ]))
        out.append("")
        worst = max(ex["max_relative_difference"].values())
        out.append(f"With the random parts off (no observation noise, no conflicts) the two "
                   f"agree exactly over {ex['weeks']} weeks: largest relative difference "
                   f"{worst:.1e} ({'agree' if ex['agree'] else '**DISAGREE**'}). Receivers "
                   f"asked for more than their intake (rationing binds): "
                   f"{100 * pa['intake_binding_share']:.0f}%.")
        out.append("")

    if report.get("notes"):
        out.append("## Notes")
        out.append("")
        out += [f"- {n}" for n in report["notes"]]
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- main
def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke mode: short horizon, 1 repetition, one process, small sizes")
    ap.add_argument("--systems", nargs="+", choices=("teaching", "ics", "england"),
                    help="systems to time (default: all three; quick: teaching ics)")
    ap.add_argument("--repeats", type=int, help="repetitions per timing (default 3; quick 1)")
    ap.add_argument("--scaling", help="sizes for the growth fit, system:scale,... "
                    "(default ics:1,england:0.25,england:1,england:4; quick: the first "
                    "system at scales 1,2,4,8)")
    ap.add_argument("--sweep-runs", type=int, help="runs in the sweep (default 8; quick 4)")
    ap.add_argument("--skip", nargs="+", default=[],
                    choices=("scaling", "shares", "sweep", "per_agent", "first_run",
                             "main_job"))
    ap.add_argument("--reference", default=reference.REFERENCE_COMMIT, metavar="COMMIT",
                    help="commit measured beside this code in the same run (default "
                    f"{reference.REFERENCE_COMMIT}, issue 16's 'today')")
    ap.add_argument("--no-reference", action="store_true",
                    help="measure this code only (issue 16's improvement targets: n/a)")
    ap.add_argument("--main-job-replicates", type=int, metavar="N",
                    help="scale the main job down to N replicates per regime (default: the "
                    "experiment's 20; quick mode skips the main job unless this is given)")
    ap.add_argument("--main-job-weeks", metavar="BURN_IN,POLICY",
                    help="horizon of each main-job run (default: each tree's own defaults, "
                    "as the README's command; quick: 52,52)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for the report")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.main_job_replicates is not None and args.main_job_replicates < 1:
        ap.error(f"--main-job-replicates must be at least 1, not {args.main_job_replicates}")
    if args.main_job_weeks is not None:
        try:
            burn, policy = (int(w) for w in args.main_job_weeks.split(","))
            assert burn >= 0 and policy >= 1
        except (ValueError, AssertionError):
            ap.error(f"--main-job-weeks must be BURN_IN,POLICY (weeks, e.g. 104,260), not "
                     f"{args.main_job_weeks!r}")
        args.main_job_weeks = (burn, policy)
    if args.repeats is not None and args.repeats < 1:
        ap.error(f"--repeats must be at least 1, not {args.repeats}")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    quick = args.quick
    systems = args.systems or (["teaching", "ics"] if quick else ["teaching", "ics", "england"])
    repeats = args.repeats or (1 if quick else 3)
    burn_in, policy = (52, 52) if quick else FULL_WEEKS
    main_system = "ics" if "ics" in systems else systems[0]
    small = systems[0]
    if args.scaling:
        sizes = [(s.split(":")[0], float(s.split(":")[1])) for s in args.scaling.split(",")]
    elif quick:
        sizes = [(small, k) for k in (1.0, 2.0, 4.0, 8.0)]
    else:
        sizes = [("ics", 1.0), ("england", 0.25), ("england", 1.0), ("england", 4.0)]
    skip = set(args.skip)
    if quick and args.main_job_replicates is None:
        skip.add("main_job")  # minutes even scaled down: only when asked for
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    trees = {"this": ROOT}
    ref = None
    if not args.no_reference:
        try:
            trees["reference"] = reference.tree(args.reference)
        except reference.ReferenceError as err:
            raise SystemExit(f"python -m benchmarks: {err}") from None
        ref = {"commit": args.reference, "sha": trees["reference"].name,
               "tree": str(trees["reference"])}
    sides = [s for s in ("reference", "this") if s in trees]  # the reference first, always
    runner = Runner(fresh=not quick, trees=trees, log=log)
    report: dict = {
        "timestamp": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "command": "python -m benchmarks " + " ".join(argv if argv is not None
                                                      else sys.argv[1:]),
        "mode": "quick" if quick else "full", "repeats": repeats,
        "machine": machine(), "load_start": load(), "notes": [], "target_notes": {},
        "reference": ref,
    }
    log(f"collabsim benchmarks ({report['mode']}), load {report['load_start']}"
        + (f", beside {args.reference} ({trees['reference']})" if ref else ""))

    def run_spec(system: str, scale: float) -> dict:
        return {"task": "run", "system": system, "scale": scale, "burn_in_weeks": burn_in,
                "policy_weeks": policy}

    # Timed runs of the systems and the scaling sizes for both trees (repetition i of the
    # reference, then of this code, so that a burst of load hits both), then this code's
    # shares of step time, the sweep (both), the per-agent reference (this code).
    keys = [(s, 1.0) for s in systems]
    if "scaling" not in skip:
        keys += [k for k in sizes if k not in keys]
    items = [(side, run_spec(*k)) for _ in range(repeats) for k in keys for side in sides]
    if "shares" not in skip:
        share_systems = systems[:1] if quick else ([s for s in systems if s != "teaching"]
                                                   or systems[:1])
        items += [("this", {"task": "shares", "system": s, "scale": 1.0,
                            "burn_in_weeks": burn_in, "policy_weeks": policy})
                  for s in share_systems]
    if "sweep" not in skip:
        items += [(side, {"task": "sweep", "system": small if quick else main_system,
                          "runs": args.sweep_runs or (4 if quick else 8), "repeats": repeats,
                          "burn_in_weeks": burn_in, "policy_weeks": policy})
                  for side in sides]
    if "per_agent" not in skip:
        items.append(("this", {"task": "per_agent", "system": small if quick else main_system,
                               "weeks": 6 if quick else 12, "replicates": 4 if quick else 8,
                               "exact_weeks": 4 if quick else 8, "burn_in_weeks": burn_in,
                               "policy_weeks": policy}))
    log(f"{len(items)} measurements ({len(keys)} run configurations x {repeats} x "
        f"{len(sides)} tree(s))")
    done = runner.many(items)

    results = {side: _collect([r for r in done if r["tree"] == side], keys, sizes, systems,
                              skip) for side in sides}
    this = results["this"]
    report["systems"], report["scaling"] = this["systems"], this.get("scaling")
    report["shares"] = [r for r in done if r["spec"]["task"] == "shares"]
    report["sweep"] = this["sweep"]
    report["per_agent"] = next((r for r in done if r["spec"]["task"] == "per_agent"), None)

    # Whole processes, timed from outside: a fresh process's first ICS run, then the
    # main job (the slowest item, last).
    if "first_run" not in skip:
        weeks = (burn_in, policy)
        firsts: dict[str, list] = {side: [] for side in sides}
        for _ in range(repeats):
            for side in sides:
                log(f"  first run ics ({side}) ...")
                firsts[side].append(issue16.first_run(trees[side], weeks))
                log(f"    done in {firsts[side][-1]['seconds']:.1f} s")
        for side in sides:
            results[side]["first_run"] = issue16.summarise_first_runs(firsts[side])
    if "main_job" not in skip:
        weeks = args.main_job_weeks or ((burn_in, policy) if quick else None)
        for side in sides:
            log(f"  main job ({side}) ...")
            results[side]["main_job"] = issue16.main_job(trees[side], args.main_job_replicates,
                                                         weeks)
            log(f"    done in {results[side]['main_job']['wall_seconds']:.0f} s")
    report["first_run"] = this.get("first_run")
    report["main_job"] = this.get("main_job")
    if ref:
        ref.update({k: v for k, v in results["reference"].items()})

    report["load_end"] = load()
    report["wall_seconds"] = time.perf_counter() - started
    report["issue16"] = {"rows": issue16.table(this, results.get("reference"), quick),
                         "load_start": report["load_start"], "load_end": report["load_end"],
                         "notes": _issue16_notes(report, quick)}
    _targets(report)
    if quick:  # short horizon, small sizes, shared process: no verdicts on the record
        for key, v in report["targets"].items():
            if v["pass"] is not None:
                v["pass"] = None
                report["target_notes"][key] = "quick mode, indicative only: " \
                    + report["target_notes"].get(key, "")
    _notes(report, quick)
    text = markdown(report)
    if not args.no_write:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S") + ("_quick" if quick else "")
        (args.out / f"{stem}.md").write_text(text + "\n")
        (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
        report["written"] = [str(args.out / f"{stem}.md"), str(args.out / f"{stem}.json")]
        log(f"wrote {report['written'][0]} and .json")
    print(text)
    return report


def _collect(done: list[dict], keys: list[tuple], sizes: list[tuple], systems: list[str],
             skip: set[str]) -> dict:
    """One tree's timed runs, growth fit and sweep, from its task results."""
    runs: dict[tuple, list] = {k: [] for k in keys}
    for r in done:
        if r["spec"]["task"] == "run":
            runs[(r["spec"]["system"], r["spec"]["scale"])].append(r)
    summary = {k: summarise_runs(v) for k, v in runs.items()}
    out: dict = {"systems": [summary[(s, 1.0)] for s in systems], "scaling": None}
    if "scaling" not in skip:
        points = sorted((summary[k] for k in sizes), key=lambda p: p["providers"])
        out["scaling"] = {
            "points": points,
            "total": fit_exponent(points, "total_seconds"),
            "steps": fit_exponent(points, "step_seconds"),
            "per_partnership": _fit_partnerships(points),
        }
    out["sweep"] = next((r for r in done if r["spec"]["task"] == "sweep"), None)
    return out


def _issue16_notes(report: dict, quick: bool) -> list[str]:
    """What a reader of issue 16's table must know about how its figures were obtained."""
    notes = []
    ref = report.get("reference")
    if ref is None:
        notes.append("No reference measured (--no-reference): improvement targets are n/a.")
    else:
        where = Path(ref["tree"])
        where = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
        notes.append(f"Reference: commit {ref['commit']} ({ref['sha'][:12]}), extracted with "
                     f"`git archive` into `{where}`, run by its own `benchmarks.tasks` and "
                     "`collabsim` under this checkout's `.venv`.")
    for side, mj in (("reference", (ref or {}).get("main_job")),
                     ("this code", report.get("main_job"))):
        if not mj:
            continue
        notes.append(f"Main job ({side}): `{mj['command']}`, {mj['runs']} runs of "
                     f"{'/'.join(map(str, mj['weeks_per_run'])) or '?'} weeks, wall "
                     f"{mj['wall_seconds']:.1f} s, total run CPU {mj['run_cpu_seconds']:.1f} s "
                     f"(from {mj['source']}), process tree CPU/wall "
                     f"{100 * mj['cpu_share']:.0f}% of the {100 * mj['workers']}% two "
                     "workers could use (less means other processes took CPU, which "
                     "inflates wall / run CPU; the runs' own wall times sum to "
                     f"{mj['run_wall_seconds']:.1f} s, wall / (run wall / 2) = "
                     f"{mj['overhead_wall_basis']:.3g})"
                     + ("" if mj["full"] else "; SCALED DOWN, not the full main job")
                     + (". That code records no CPU time per run: its runs' `wall_seconds` "
                        "stand in, which are at least their CPU time, so its figure is if "
                        "anything understated" if mj["source"] == "wall_seconds" else "")
                     + ".")
    if not report.get("main_job"):
        notes.append("Main job not measured"
                     + (" (quick mode: give --main-job-replicates N for a scaled-down one)"
                        if quick else " (--skip main_job)") + ".")
    if quick:
        notes.append("Quick mode: short horizon (52 + 52 weeks; ICS and England figures "
                     "projected), small sizes, tasks batched in one process per tree; no "
                     "verdicts.")
    return notes


def _fit_partnerships(points: list[dict]) -> dict:
    x = np.log([max(p["mean_partnerships"], 1.0) for p in points])
    y = np.log([p["step_seconds"] for p in points])
    slope, _ = np.polyfit(x, y, 1)
    return {"exponent": float(slope), "points": len(points)}


def _targets(report: dict) -> None:
    by_system = {s["system"]: s for s in report["systems"]}
    notes = report["target_notes"]

    def horizon(key: str, system: str) -> float | None:
        s = by_system.get(system)
        if s is None:
            return None
        notes[key] = ("build + 364 weekly steps + outcome table, median"
                      if s["full_horizon_measured"] else
                      f"projected from {s['weeks']} weeks (quick mode)")
        if s["step_cpu_share"] < CONTENDED:
            notes[key] += (f"; CONTENDED (CPU/wall {100 * s['step_cpu_share']:.0f}%): "
                           f"CPU time {s['total_cpu_seconds']:.3g} s")
        return s["full_horizon_seconds"]

    t = {"ics_seconds": verdict("ics_seconds", horizon("ics_seconds", "ics")),
         "england_seconds": verdict("england_seconds",
                                    horizon("england_seconds", "england"))}
    sc = report.get("scaling")
    t["growth_exponent"] = verdict("growth_exponent", sc["total"]["exponent"] if sc else None)
    if sc:
        p = sc["points"]
        notes["growth_exponent"] = (f"total run time, {len(p)} sizes, {p[0]['providers']:,} to "
                                    f"{p[-1]['providers']:,} providers")
        if min(x["step_cpu_share"] for x in p) < CONTENDED:
            cpu = fit_exponent(p, "total_cpu_seconds")
            notes["growth_exponent"] += (f"; CONTENDED runs: exponent of CPU time "
                                         f"{cpu['exponent']:.3f}")
    eng = by_system.get("england")
    t["england_memory_gb"] = verdict("england_memory_gb",
                                     eng["peak_rss_mb"] / 1024 if eng else None)
    if eng:
        notes["england_memory_gb"] = "peak RSS of the run's own process (imports included)"
    sw = report.get("sweep")
    t["parallel_efficiency"] = verdict("parallel_efficiency",
                                       sw["efficiency_cold"] if sw else None)
    if sw:
        notes["parallel_efficiency"] = (f"{sw['runs']} {sw['system']} runs, fresh pool "
                                        f"(warm pool: {100 * sw['efficiency_warm']:.0f}%)")
        busy = max(sw["load_start"], sw["load_end"])
        if busy > 2.5:  # the sweep itself accounts for about 2 on 2 cores
            notes["parallel_efficiency"] += f"; CONTENDED (load average {busy:.1f})"
    shares = report.get("shares") or []
    if shares:
        big = max(shares, key=lambda s: s["providers"])
        t["data_collection_share"] = verdict("data_collection_share",
                                             big["data_collection_share"])
        others = ", ".join(f"{s['spec']['system']} {100 * s['data_collection_share']:.1f}%"
                           for s in shares if s is not big)
        notes["data_collection_share"] = (f"{big['spec']['system']}: outcomes.measure_week + "
                                          "datacollector.collect"
                                          + (f" (also {others})" if others else ""))
    else:
        t["data_collection_share"] = verdict("data_collection_share", None)
    pa = report.get("per_agent")
    ok = pa is not None and pa["system"] == "ics"
    t["per_agent_speedup"] = verdict("per_agent_speedup", pa["speedup"] if ok else None)
    if pa:
        notes["per_agent_speedup"] = (f"handoffs + trust, {pa['system']}, seconds per week, "
                                      "median" + ("" if ok else " (target is for ics)"))
    report["targets"] = t


def _notes(report: dict, quick: bool) -> None:
    notes = report["notes"]
    cores = report["machine"]["usable_cores"]
    worst = max(report["load_start"][:1] + report["load_end"][:1] or [0.0])
    if worst > 0.75 * (cores or 1):
        notes.append(f"Other processes were running (1-min load average up to {worst} on "
                     f"{cores} cores): timings are medians but may still be inflated, and "
                     "parallel efficiency suffers most.")
    if report["machine"]["model_code_modified"]:
        notes.append("The model code had uncommitted changes when measured "
                     "(`git status sim configs`).")
    if quick:
        notes.append("Quick mode: short horizon (52 + 52 weeks), one repetition, all "
                     "measurements of a tree in one process (peak memory is that "
                     "process's); figures are for checking the harness, not for the record.")
