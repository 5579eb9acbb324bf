"""Issue 16's figures: targets, the measurements the task processes cannot make, the table.

Each figure is measured for two trees of code in the same benchmark run: the reference
commit (``benchmarks.reference``) and this checkout. The harness (``benchmarks.run``)
times the single runs, the growth exponent and the sweep with each tree's own
``benchmarks.tasks``; this module measures what needs a whole process from the outside:

* **first run**: ``python -c "import sim; sim.run(<ICS config>)"`` as a subprocess, from
  process start to exit (start-up, imports and any compilation included);
* **main job**: the README's main command ``collabsim experiment=mandate_vs_local`` with
  2 workers, its sweep folder in a temporary directory deleted afterwards; the figure is
  wall time / (total run CPU time / 2), the run CPU times read from the runs'
  ``provenance.json`` (``cpu_seconds``; a tree that records only ``wall_seconds``, such
  as the reference ``ec88c6e``, is measured with those, and the report says so).

and builds the "Issue 16 targets" table: one row per figure with both values, the
improvement factor, the target and the verdict.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.reference import environment

#: Workers of the main job (issue 16: "80 ICS runs, 2 workers"); the figure divides by it.
MAIN_JOB_WORKERS = 2
#: The README's main command, as arguments of ``collabsim``.
MAIN_JOB = ("experiment=mandate_vs_local",)
#: Replicates per regime in the main job as the experiment declares it (4 regimes x 20).
MAIN_JOB_REPLICATES = 20
MAIN_JOB_REGIMES = 4


@dataclass(frozen=True)
class Target:
    """One row of issue 16's table.

    Attributes:
        label: the figure, with its unit.
        op: ``"<="`` (lower is better) or ``">="`` (higher is better).
        value: the absolute target, in the figure's unit.
        improvement: the least improvement over the reference measured in the same run
            (x; reference / this code for a lower-is-better figure), or None.
        percent: show the figure as a percentage (a share 0-1).
    """

    label: str
    op: str
    value: float
    improvement: float | None = None
    percent: bool = False

    def met(self, measured: float) -> bool:
        return measured <= self.value if self.op == "<=" else measured >= self.value

    def factor(self, reference: float, this: float) -> float | None:
        """How many times better this code is than the reference (> 1: better)."""
        num, den = (reference, this) if self.op == "<=" else (this, reference)
        return num / den if den else None

    def describe(self) -> str:
        shown = f"{100 * self.value:.0f}%" if self.percent else f"{self.value:g}"
        text = f"{self.op} {shown}"
        return text + (f" and >= {self.improvement:g}x reference" if self.improvement else "")


#: Issue 16's targets (its "Deliver" table), one declaration each.
TARGETS: dict[str, Target] = {
    "ics_seconds": Target("ICS, burn-in + 5 years, one run (s)", "<=", 0.2, 3.0),
    "england_seconds": Target("England, burn-in + 5 years, one run (s)", "<=", 5.0, 3.0),
    "growth_exponent": Target("growth exponent, 400 to 66,000 providers", "<=", 1.05),
    "main_job_overhead": Target("main job (80 ICS runs, 2 workers), wall / (run CPU / 2)",
                                "<=", 1.25),
    "parallel_efficiency": Target("fresh-pool parallel efficiency, 8 ICS runs", ">=", 0.90,
                                  percent=True),
    "first_run_seconds": Target("a fresh process's first ICS run, start-up included (s)",
                                "<=", 3.0),
    "england_memory_gb": Target("peak memory, England (GB)", "<=", 0.5),
}


# --------------------------------------------------------------------------- processes
def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children and theirs."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def timed_process(command: list[str], tree: Path, cwd: Path, timeout: float,
                  what: str) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``command`` with ``tree``'s code; return it, its wall time and its CPU time (s).

    The CPU time is that of the process and of the children it waited for.

    Raises:
        RuntimeError: the command failed (its exit status and the end of its stderr).
    """
    cpu0, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=environment(tree), capture_output=True,
                          text=True, timeout=timeout)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed with {tree}'s code (exit {proc.returncode}):\n"
                           f"{proc.stderr[-4000:]}")
    return proc, wall, cpu


# --------------------------------------------------------------------------- first run
def first_run_command(weeks: tuple[int, int], system: str = "ics") -> list[str]:
    """``python -c`` that imports ``sim``, runs one scenario and prints where sim was."""
    overrides = [f"system={system}", f"time.burn_in_weeks={weeks[0]}",
                 f"time.policy_weeks={weeks[1]}"]
    code = ("import sim; sim.run(sim.load_config(" + repr(overrides) + ")); "
            "print(sim.__file__)")
    return [sys.executable, "-c", code]


def first_run(tree: Path, weeks: tuple[int, int], system: str = "ics",
              timeout: float = 600.0) -> dict:
    """One fresh process's first run with ``tree``'s code, from process start to exit.

    The process runs in ``tree`` (``python -c`` puts the current folder first on the
    path), so it imports that tree's ``sim``; the path it prints is checked.

    Raises:
        RuntimeError: ``tree`` has no ``sim`` package, the process failed, or it
            imported ``sim`` from another tree.
    """
    if not (tree / "sim" / "__init__.py").is_file():
        raise RuntimeError(f"no sim package in {tree}")
    proc, wall, cpu = timed_process(first_run_command(weeks, system), tree, tree, timeout,
                                    "first run")
    imported = Path(proc.stdout.strip().splitlines()[-1]).resolve()
    if not imported.is_relative_to(tree.resolve()):
        raise RuntimeError(f"first run imported sim from {imported}, not from {tree}")
    return {"system": system, "weeks": sum(weeks), "seconds": wall, "cpu_seconds": cpu,
            "cpu_share": cpu / wall}


def summarise_first_runs(results: list[dict]) -> dict:
    """Median wall time of repeated first runs, with every value and CPU/wall."""
    return {**{k: results[0][k] for k in ("system", "weeks")},
            "seconds": statistics.median(r["seconds"] for r in results),
            "all": [r["seconds"] for r in results],
            "cpu_share": statistics.median(r["cpu_share"] for r in results)}


# --------------------------------------------------------------------------- main job
def collabsim() -> list[str]:
    """How to start ``collabsim`` with this virtual environment's Python."""
    script = Path(sys.executable).with_name("collabsim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sim.cli"]


def main_job_arguments(sweep_dir: Path, replicates: int | None = None,
                       weeks: tuple[int, int] | None = None) -> list[str]:
    """``collabsim``'s arguments for the main job with 2 workers, writing into ``sweep_dir``.

    Args:
        replicates: replicates per regime (default: the experiment's own, 20).
        weeks: (burn-in, policy) weeks per run (default: each tree's own defaults).
    """
    args = [*MAIN_JOB, f"hydra.launcher.n_jobs={MAIN_JOB_WORKERS}",
            f"hydra.sweep.dir={sweep_dir}"]
    if replicates is not None:
        args.append(f"replicate=range(0,{replicates})")
    if weeks is not None:
        args += [f"time.burn_in_weeks={weeks[0]}", f"time.policy_weeks={weeks[1]}"]
    return args


def run_cpu(sweep_dir: Path) -> dict:
    """Total run CPU time of a sweep folder's runs, from their ``provenance.json``.

    A run that records no ``cpu_seconds`` (code older than that field) counts with its
    ``wall_seconds``, which is at least its CPU time; ``source`` says which was used.

    Raises:
        RuntimeError: the folder holds no run.
    """
    files = sorted(sweep_dir.rglob("provenance.json"))
    if not files:
        raise RuntimeError(f"no runs (provenance.json) under {sweep_dir}")
    cpu, wall, with_cpu = 0.0, 0.0, 0
    weeks = set()
    for f in files:
        prov = json.loads(f.read_text())
        wall += float(prov["wall_seconds"])
        if prov.get("cpu_seconds") is not None:
            cpu += float(prov["cpu_seconds"])
            with_cpu += 1
        else:
            cpu += float(prov["wall_seconds"])
        config = f.with_name("config.yaml")
        if config.is_file():  # the horizon each run simulated, for the report
            weeks.add(_weeks(config.read_text()))
    source = ("cpu_seconds" if with_cpu == len(files) else
              "wall_seconds" if with_cpu == 0 else
              f"cpu_seconds ({with_cpu} runs), wall_seconds (the other {len(files) - with_cpu})")
    return {"runs": len(files), "run_cpu_seconds": cpu, "run_wall_seconds": wall,
            "source": source, "weeks_per_run": sorted(w for w in weeks if w)}


def _weeks(config_text: str) -> int | None:
    """burn_in_weeks + policy_weeks from a run's ``config.yaml`` (plain YAML)."""
    import yaml

    t = (yaml.safe_load(config_text) or {}).get("time") or {}
    try:
        return int(t["burn_in_weeks"]) + int(t["policy_weeks"])
    except (KeyError, TypeError, ValueError):
        return None


def main_job(tree: Path, replicates: int | None = None, weeks: tuple[int, int] | None = None,
             timeout: float = 7200.0) -> dict:
    """Run the main job with ``tree``'s code in a temporary folder, measure, delete it.

    Returns:
        ``overhead`` = wall / (run CPU / workers), the command, the wall and CPU time
        of the whole command (its process tree), the runs' total CPU time and its source.
    """
    scratch = Path(tempfile.mkdtemp(prefix="collabsim-main-job-"))
    try:
        sweep_dir = scratch / "sweep"
        args = main_job_arguments(sweep_dir, replicates, weeks)
        # cwd: the scratch folder, so that nothing relative can land in a checkout
        _, wall, cpu = timed_process(collabsim() + args, tree, scratch, timeout, "main job")
        runs = run_cpu(sweep_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    expected = (replicates or MAIN_JOB_REPLICATES) * MAIN_JOB_REGIMES
    if runs["runs"] != expected:
        raise RuntimeError(f"main job with {tree}'s code wrote {runs['runs']} runs, "
                           f"expected {expected}")
    shown = [a if not a.startswith("hydra.sweep.dir=") else "hydra.sweep.dir=<temporary>"
             for a in args]
    return {"command": " ".join(["collabsim", *shown]),
            "full": replicates in (None, MAIN_JOB_REPLICATES) and weeks is None,
            "workers": MAIN_JOB_WORKERS, "wall_seconds": wall, "process_cpu_seconds": cpu,
            "cpu_share": cpu / wall, **runs,
            "overhead": wall / (runs["run_cpu_seconds"] / MAIN_JOB_WORKERS),
            # the same with the runs' wall times: the only basis code without
            # cpu_seconds offers, so the one to compare such a reference on
            "overhead_wall_basis": wall / (runs["run_wall_seconds"] / MAIN_JOB_WORKERS)}


# --------------------------------------------------------------------------- the table
def figures(side: dict) -> dict[str, tuple[float | None, float | None, str]]:
    """Each figure's value, CPU/wall and how it was measured, for one tree's results.

    Args:
        side: ``{"systems": [...], "scaling": {...} | None, "sweep": ... | None,
            "first_run": ... | None, "main_job": ... | None}`` as the harness collects.
    """
    by_system = {s["system"]: s for s in side.get("systems") or []}
    out: dict[str, tuple[float | None, float | None, str]] = {}
    for key, system in (("ics_seconds", "ics"), ("england_seconds", "england")):
        s = by_system.get(system)
        out[key] = ((s["full_horizon_seconds"], s["step_cpu_share"],
                     "total s, median" if s["full_horizon_measured"] else
                     f"projected from {s['weeks']} weeks") if s else (None, None, ""))
    sc = side.get("scaling")
    out["growth_exponent"] = (
        (sc["total"]["exponent"], min(p["step_cpu_share"] for p in sc["points"]),
         f"{len(sc['points'])} sizes, {sc['points'][0]['providers']:,} to "
         f"{sc['points'][-1]['providers']:,} providers") if sc else (None, None, ""))
    mj = side.get("main_job")
    out["main_job_overhead"] = (
        (mj["overhead"], mj["cpu_share"],
         f"{mj['runs']} runs x {'/'.join(map(str, mj['weeks_per_run'])) or '?'} weeks, "
         f"run CPU from {mj['source']}") if mj else (None, None, ""))
    sw = side.get("sweep")
    out["parallel_efficiency"] = (
        (sw["efficiency_cold"], sw.get("process_cpu_share"),
         f"{sw['runs']} {sw['system']} runs, fresh pool (warm: "
         f"{100 * sw['efficiency_warm']:.0f}%)") if sw else (None, None, ""))
    fr = side.get("first_run")
    out["first_run_seconds"] = (
        (fr["seconds"], fr["cpu_share"], f"{fr['system']}, {fr['weeks']} weeks, median")
        if fr else (None, None, ""))
    eng = by_system.get("england")
    out["england_memory_gb"] = ((eng["peak_rss_mb"] / 1024, eng["step_cpu_share"],
                                 "peak RSS of the run's own process") if eng
                                else (None, None, ""))
    return out


def table(this: dict, reference: dict | None, quick: bool) -> dict[str, dict]:
    """Issue 16's rows: both values, improvement, target and verdict for each figure.

    A verdict is None when a part of it was not measured (no reference for a figure
    with an improvement target, a skipped figure) or in quick mode.
    """
    mine = figures(this)
    ref = figures(reference) if reference else {}
    rows = {}
    for key, target in TARGETS.items():
        value, share, how = mine[key]
        ref_value, ref_share, ref_how = ref.get(key, (None, None, ""))
        factor = (target.factor(ref_value, value)
                  if value is not None and ref_value is not None else None)
        basis = _main_job_basis(key, this, reference)
        if basis:  # the reference's runs record no CPU time: compare on wall times
            factor = target.factor(*basis)
            how += (f"; improvement on the runs' wall times, the reference's only basis "
                    f"(this code: {basis[1]:.3g})")
        checks = [target.met(value) if value is not None else None]
        if target.improvement:
            checks.append(factor >= target.improvement if factor is not None else None)
        verdict = (False if False in checks else None if None in checks else True)
        rows[key] = {"figure": target.label, "reference": ref_value, "this": value,
                     "improvement": factor, "target": target.describe(),
                     "pass": None if quick else verdict,
                     "cpu_wall": {"reference": ref_share, "this": share},
                     "how": how + (f"; reference: {ref_how}" if ref_how and ref_how != how
                                   else "")}
    return rows


def _main_job_basis(key: str, this: dict, reference: dict | None
                    ) -> tuple[float, float] | None:
    """(reference, this) main-job figures on the runs' wall times, when the reference's
    runs lack ``cpu_seconds`` and this code's have them; else None."""
    if key != "main_job_overhead" or not reference:
        return None
    ref, mine = reference.get("main_job"), this.get("main_job")
    if not ref or not mine or ref["source"] != "wall_seconds" or mine["source"] == ref["source"]:
        return None
    return ref["overhead_wall_basis"], mine["overhead_wall_basis"]


def markdown(section: dict, commit: str | None) -> list[str]:
    """The "Issue 16 targets" section as markdown lines."""
    from benchmarks.run import table as md_table

    def show(key: str, v: float | None) -> str:
        if v is None:
            return "not measured"
        return f"{100 * v:.1f}%" if TARGETS[key].percent else f"{v:.3g}"

    def share(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.0f}%"

    ref_name = f"reference ({commit})" if commit else "reference (none)"
    rows = []
    for key, r in section["rows"].items():
        status = {True: "pass", False: "**FAIL**", None: "n/a"}[r["pass"]]
        rows.append([r["figure"], show(key, r["reference"]), show(key, r["this"]),
                     "-" if r["improvement"] is None else f"{r['improvement']:.2f}x",
                     r["target"], status,
                     f"{share(r['cpu_wall']['reference'])} / {share(r['cpu_wall']['this'])}",
                     r["how"]])
    out = ["## Issue 16 targets", ""]
    out.append(md_table(["figure", ref_name, "this code", "improvement", "target", "result",
                         "CPU/wall ref / this", "how measured"], rows))
    out.append("")
    out.append(f"Both trees measured in this run, repetitions interleaved (reference, then "
               f"this code). Load average (1/5/15 min) at start {section['load_start']}, at "
               f"end {section['load_end']}. *Improvement*: how many times better this code "
               "is (reference / this for a lower-is-better figure, this / reference for "
               "efficiency); > 1 is better. *CPU/wall*: CPU time the measured process got "
               "over its wall time (runs: while stepping; sweep, first run and main job: "
               "the whole process tree, so up to 200% with 2 workers); well below 100% "
               "for one process means other processes took the CPU.")
    out.append("")
    out += [f"- {n}" for n in section["notes"]]
    if section["notes"]:
        out.append("")
    return out
