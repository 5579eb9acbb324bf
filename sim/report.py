"""The report of a sweep: tidy tables, intervals, paired differences, figures, report.md.

Built from a sweep folder's run folders alone (analysis never re-runs the model), at
the end of a sweep (by :class:`sim.cli.SweepCallback`) or on demand::

    uv run collabsim-report results/sweeps/mandate_vs_local
    uv run collabsim-report results/sweeps/culture --reference context.culture_spread=0.1

It writes ``<sweep>/report/`` atomically (a temporary folder renamed into place, the
previous report replaced only once the new one is whole; a reference that names no
scenario of the sweep is a :class:`ReportError` and leaves the old report as it was)::

    report.md         for a policy reader (:mod:`sim.report_md`): main findings, what was
                      compared, each outcome's scenario means with 95% intervals and
                      paired differences against the reference, judged against the
                      outcome's smallest meaningful difference; how sure; failed runs
    report.html       the same as one self-contained page (:mod:`sim.report_html`)
    runs.parquet/csv  the tidy table: one row per run (scenario columns, seed, replicate,
                      status, every summary value)
    scenarios.csv     per scenario and outcome: n, mean, sd, 95% CI
    differences.csv   per scenario and outcome: paired difference with the reference
                      (mean, sd, 95% CI, relative, number of pairs, unpaired CI for contrast)
    weekly_means.csv  per scenario, week and main outcome: mean and 95% CI over replicates
    figures/          overview.png, differences.png and one PNG per main outcome
    by_area_*.csv     for a system of several areas (England's 42 ICBs), the effects per
                      area with forest plots and maps (:mod:`sim.area_effects`)

Statistics: a scenario's mean over replicates with a t-interval; a paired difference is
computed per replicate (same seed and replicate index: common random numbers) and its
mean gets a t-interval over replicates. Outcomes are the runs' summaries: the mean of
the final 52 weeks under the regime.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import wording
from sim.area_effects import CONTEXT_FILE, EFFECTS_FILE, AreaEffects, build_area_effects
from sim.outcome_spec import COLUMNS, MAIN_OUTCOMES
from sim.outcome_spec import OUTCOMES as REGISTRY
from sim.report_md import ReportFacts, markdown, show_value, title
from sim.results import (
    PROVENANCE,
    RUN_SUBDIR,
    SUMMARY,
    WEEKLY,
    read_config,
    replacing_folder,
    run_status,
)
from sim.stats import mean_interval
from sim.sweep_store import (
    FAILED,
    REPORT_DIR,
    is_scenario_key,
    read_failure,
    require_manifest,
    spreadsheet_safe,
    typed_overrides,
)

# The report and figures show MAIN_OUTCOMES (all of COLUMNS are in the CSV tables).
#: What each outcome means, and which direction is better (+1 higher, -1 lower, 0 neither),
#: from the outcome registry.
OUTCOMES: dict[str, tuple[str, int]] = {o.name: (o.description, o.direction)
                                        for o in REGISTRY}
LEVEL = 0.95
#: What a report folder holds: these tables and pages, and ``figures/`` of PNG images.
RUNS_TABLE, RUNS_CSV, SCENARIOS_CSV, DIFFERENCES_CSV, WEEKLY_MEANS_CSV = (
    "runs.parquet", "runs.csv", "scenarios.csv", "differences.csv", "weekly_means.csv")
REPORT_MD, REPORT_HTML, FIGURES = "report.md", "report.html", "figures"
REPORT_FILES = {RUNS_TABLE, RUNS_CSV, SCENARIOS_CSV, DIFFERENCES_CSV, WEEKLY_MEANS_CSV,
                REPORT_MD, REPORT_HTML, FIGURES, EFFECTS_FILE, CONTEXT_FILE}


@dataclass
class Report:
    """What :func:`build_report` wrote and found."""

    path: Path
    runs: pd.DataFrame
    scenarios: pd.DataFrame
    differences: pd.DataFrame
    failed: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    planned: int = 0
    areas: AreaEffects | None = None


# --------------------------------------------------------------------------- collecting
def collect(sweep_dir: str | os.PathLike) -> tuple[pd.DataFrame, dict[str, Path], list[dict],
                                                    list[str], dict | None]:
    """Read exactly the jobs a sweep planned (``sweep.json``), nothing else in the folder.

    A job counts as complete only if its ``run/`` reads back whole (JSON files parse,
    the weekly table has the planned number of weeks) and carries the fingerprint the
    plan expects (:func:`sim.results.run_status`); copies such as ``run.bak/``, other
    folders and other sweeps are never read. A run that is stale or unreadable is listed
    as failed, with the reason, so that it is seen and never counted.

    Returns:
        ``(runs, run_dirs, failed, missing, manifest)``: the tidy table (one row per run,
        failed runs included with ``status == "failed"``), each complete run's folder by
        job name, the failure records, the planned jobs that have neither a run nor a
        failure (e.g. an interrupted sweep), and the sweep's plan.

    Raises:
        NotASweep: the folder has no plan, holds several sweeps, or its plan is damaged
            (a ``FileNotFoundError``).
    """
    sweep_dir = Path(sweep_dir)
    manifest = require_manifest(sweep_dir)
    rows: list[dict] = []
    run_dirs: dict[str, Path] = {}
    failed: list[dict] = []
    missing: list[str] = []
    for planned in manifest["jobs"]:
        job, overrides = str(planned["dir"]), list(planned["overrides"])
        run = sweep_dir / job / RUN_SUBDIR
        status, reason = run_status(run, planned.get("fingerprint"), planned.get("weeks"))
        row = _read_job(run, job, overrides) if status == "complete" else None
        if row is None and status == "complete":
            status, reason = "unreadable", "its files cannot be read"
        if row is not None:
            rows.append(row)
            run_dirs[job] = run
            continue
        marker = sweep_dir / job / FAILED
        if marker.is_file():
            record = read_failure(marker)
        elif status == "missing":
            missing.append(job)
            continue
        else:  # never counted, never silently dropped
            record = {"error": f"{status} run", "message": f"run/ {reason}; run the sweep "
                      "again to replace it"}
        record["job"] = job
        failed.append(record)
        rep = dict(typed_overrides(overrides))
        rows.append({"job": job, "status": "failed", "seed": rep.get("seed"),
                     "replicate": rep.get("replicate"), "_overrides": overrides})
    runs = pd.DataFrame(rows)
    return runs, run_dirs, failed, missing, manifest


def _read_job(run: Path, job: str, overrides: list[str]) -> dict | None:
    """One complete run's row of the tidy table, or None if its files cannot be read."""
    try:
        prov = json.loads((run / PROVENANCE).read_text(encoding="utf-8"))
        summary = json.loads((run / SUMMARY).read_text(encoding="utf-8"))
        replicate = prov.get("replicate")
        if replicate is None:
            replicate = read_config(run).get("replicate", 0)
    except (OSError, ValueError, AttributeError):
        return None
    row = {"job": job, "status": "complete", "seed": prov.get("seed"),
           "replicate": replicate, "wall_seconds": prov.get("wall_seconds"),
           "_overrides": overrides}
    row.update({k: v for k, v in summary.items() if not isinstance(v, bool)})
    return row


def add_scenarios(runs: pd.DataFrame, manifest: dict | None) -> tuple[pd.DataFrame, list[str],
                                                                       dict, list[str]]:
    """Scenario columns from each run's overrides.

    Returns:
        ``(runs, factors, fixed, order)``: runs with a ``scenario`` label and one column
        per factor (an override whose value varies between runs); the overrides shared by
        every run; and the scenario labels in the sweep's job order.
    """
    scen = [{k: v for k, v in typed_overrides(o) if is_scenario_key(k)}
            for o in runs["_overrides"]]
    keys: list[str] = []
    for s in scen:
        keys += [k for k in s if k not in keys]
    factors = [k for k in keys if len({_norm(s.get(k)) for s in scen}) > 1]
    fixed = {k: scen[0].get(k) for k in keys if k not in factors} if scen else {}
    runs = runs.copy()
    for k in factors:
        runs[k] = [s.get(k) for s in scen]
    runs["scenario"] = [label({k: s.get(k) for k in factors}) for s in scen]
    # order: the sweep's job order when known, else first appearance
    order: list[str] = []
    if manifest:
        by_job = dict(zip(runs["job"], runs["scenario"], strict=True))
        for j in manifest.get("jobs", []):
            name = by_job.get(j["dir"])
            if name is None:
                s = dict(typed_overrides(j["overrides"]))
                name = label({k: s.get(k) for k in factors})
            if name not in order:
                order.append(name)
    for name in runs["scenario"]:
        if name not in order:
            order.append(name)
    order = [o for o in order if o in set(runs["scenario"])]
    return runs, factors, fixed, order


def label(values: dict) -> str:
    """A scenario's name: ``key=value`` pairs, or ``all runs`` when nothing varies."""
    return ", ".join(f"{k}={_show_value(v)}" for k, v in values.items()) or "all runs"


_show_value = show_value


def _norm(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return float(v)
    return str(v)


# --------------------------------------------------------------------------- statistics
def t_interval(values: np.ndarray) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, low, high) of a 95% t-interval for the mean; NaN bounds if n < 2."""
    i = mean_interval(values, LEVEL)
    return i.n, i.mean, i.sd, i.low, i.high


def scenario_table(runs: pd.DataFrame, order: Sequence[str],
                   outcomes: Sequence[str]) -> pd.DataFrame:
    """Per scenario and outcome: replicates, mean, sd and 95% CI (complete runs only)."""
    done = runs[runs["status"] == "complete"]
    rows = []
    for name in order:
        sub = done[done["scenario"] == name]
        for col in outcomes:
            if col not in sub:
                continue
            n, mean, sd, low, high = t_interval(sub[col].to_numpy(dtype=float))
            rows.append({"scenario": name, "outcome": col, "n": n, "mean": mean, "sd": sd,
                         "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["scenario", "outcome", "n", "mean", "sd", "ci_low",
                                       "ci_high"])


def reference_map(runs: pd.DataFrame, factors: Sequence[str], order: Sequence[str],
                  reference: dict | None) -> dict[str, str]:
    """Each scenario's reference scenario (itself excluded).

    ``reference`` gives values for some factors; a scenario's reference agrees with it
    on every other factor. Without one, the first scenario of the sweep is the reference.
    """
    first = runs.drop_duplicates("scenario").set_index("scenario")
    values = {name: {k: first.loc[name, k] for k in factors} for name in order}
    spec = {k: v for k, v in (reference or {}).items() if k in factors}
    if not spec and order:
        spec = dict(values[order[0]])
    by_values = {tuple(_norm(v[k]) for k in factors): name for name, v in values.items()}
    out = {}
    for name in order:
        target = dict(values[name])
        target.update(spec)
        ref = by_values.get(tuple(_norm(target[k]) for k in factors))
        if ref is not None and ref != name:
            out[name] = ref
    return out


def difference_table(runs: pd.DataFrame, refs: dict[str, str],
                     outcomes: Sequence[str]) -> pd.DataFrame:
    """Paired differences scenario - reference per replicate, with 95% CIs.

    Pairs are runs with the same seed and replicate. ``unpaired_ci_low/high`` is the
    Welch interval the same runs would give without pairing, for contrast.
    """
    from scipy import stats

    done = runs[runs["status"] == "complete"]
    key = ["seed", "replicate"]
    rows = []
    for name, ref in refs.items():
        a = done[done["scenario"] == name].drop_duplicates(key).set_index(key)
        b = done[done["scenario"] == ref].drop_duplicates(key).set_index(key)
        both = a.index.intersection(b.index)
        for col in outcomes:
            if col not in a or col not in b:
                continue
            d = a.loc[both, col].to_numpy(dtype=float) - b.loc[both, col].to_numpy(dtype=float)
            n, mean, sd, low, high = t_interval(d)
            ref_mean = float(np.nanmean(b[col].to_numpy(dtype=float))) if len(b) else math.nan
            xa, xb = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
            ul = uh = math.nan
            if len(xa) >= 2 and len(xb) >= 2:
                va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
                se = math.sqrt(va + vb)
                if se > 0:
                    dof = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))
                    half = float(stats.t.ppf(0.5 + LEVEL / 2, dof)) * se
                else:
                    half = 0.0
                diff = xa.mean() - xb.mean()
                ul, uh = diff - half, diff + half
            rel = mean / ref_mean if ref_mean and math.isfinite(ref_mean) else math.nan
            rows.append({"scenario": name, "reference": ref, "outcome": col, "n_pairs": n,
                         "difference": mean, "sd": sd, "ci_low": low, "ci_high": high,
                         "relative": rel, "reference_mean": ref_mean,
                         "unpaired_ci_low": ul, "unpaired_ci_high": uh,
                         "clear": bool(n >= 2 and (low > 0 or high < 0)),
                         "judgement": wording.judge(col, mean, low, high, n)})
    return pd.DataFrame(rows, columns=["scenario", "reference", "outcome", "n_pairs",
                                       "difference", "sd", "ci_low", "ci_high", "relative",
                                       "reference_mean", "unpaired_ci_low",
                                       "unpaired_ci_high", "clear", "judgement"])


# --------------------------------------------------------------------------- weekly
def weekly_table(runs: pd.DataFrame, run_dirs: dict[str, Path],
                 outcomes: Sequence[str]) -> pd.DataFrame:
    """The main outcomes of every complete run, week by week (long: one row a run-week)."""
    frames = []
    done = runs[runs["status"] == "complete"]
    for row in done.itertuples(index=False):
        weekly = pd.read_parquet(run_dirs[row.job] / WEEKLY,
                                 columns=["week", *[c for c in outcomes]])
        weekly.insert(0, "replicate", row.replicate)
        weekly.insert(0, "seed", row.seed)
        weekly.insert(0, "scenario", row.scenario)
        frames.append(weekly)
    if not frames:
        return pd.DataFrame(columns=["scenario", "seed", "replicate", "week", *outcomes])
    return pd.concat(frames, ignore_index=True)


def weekly_differences(weekly: pd.DataFrame, refs: dict[str, str],
                       outcomes: Sequence[str]) -> pd.DataFrame:
    """Per week, each scenario minus its reference in the same replicate (long table)."""
    key = ["seed", "replicate", "week"]
    frames = []
    for name, ref in refs.items():
        a = weekly[weekly["scenario"] == name].set_index(key)[list(outcomes)]
        b = weekly[weekly["scenario"] == ref].set_index(key)[list(outcomes)]
        d = (a - b).dropna(how="all").reset_index()
        d.insert(0, "scenario", f"{name} − ({ref})" if len(set(refs.values())) > 1
                 else name)
        frames.append(d)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --------------------------------------------------------------------------- the reference
class ReportError(ValueError):
    """A report that cannot be built as asked (the message says why and what is allowed)."""


def reference_problem(runs: pd.DataFrame, factors: Sequence[str], fixed: dict,
                      order: Sequence[str], reference: dict | None) -> str | None:
    """Why ``reference`` names no scenario of the sweep, or None if it names one.

    Every key of the reference must be a swept key (a factor) with a value some scenario
    has, or a key every run shares with the same value; together they must match at
    least one scenario. The message lists the scenarios.
    """
    if not reference:
        return None
    first = runs.drop_duplicates("scenario").set_index("scenario")
    values = {name: {k: _norm(first.loc[name, k]) for k in factors} for name in order}
    spec = {}
    for key, value in reference.items():
        if key in factors:
            spec[key] = _norm(value)
        elif key not in fixed or _norm(fixed[key]) != _norm(value):
            spec = None
            break
    if spec is not None and any(all(v[k] == x for k, x in spec.items())
                                for v in values.values()):
        return None
    given = " ".join(f"{k}={_show_value(v)}" for k, v in reference.items())
    swept = ", ".join(factors) if factors else "nothing (one scenario)"
    return (f"the reference {given} names no scenario of this sweep; its scenarios are: "
            f"{'; '.join(order)} (swept: {swept})")


def check_reference(jobs: Sequence[Sequence[str]], reference: dict | None) -> None:
    """Check a sweep's reference against its planned jobs (override lists).

    Raises:
        ReportError: the reference names no scenario of the plan (listing them).
    """
    if not reference or not jobs:
        return
    plan = pd.DataFrame({"job": [str(i) for i in range(len(jobs))],
                         "_overrides": [list(j) for j in jobs]})
    runs, factors, fixed, order = add_scenarios(plan, None)
    problem = reference_problem(runs, factors, fixed, order, reference)
    if problem:
        raise ReportError(problem)


# --------------------------------------------------------------------------- the report
def build_report(sweep_dir: str | os.PathLike, reference: dict | None = None,
                 figures: bool = True) -> Report:
    """Aggregate a sweep folder into ``<sweep>/report/``, replacing it only when whole.

    Every table, figure, ``report.md`` and ``report.html`` is written into a temporary
    folder first, which then replaces the old report in one rename; on any error the old
    report is left as it was.

    Args:
        sweep_dir: the sweep folder (``results/sweeps/<name>``).
        reference: overrides naming the reference scenario (``{"regime": "local"}``);
            default: what the sweep recorded in ``sweep.json``, else its first scenario.
        figures: draw the figures (tables, report.md and report.html are always written).

    Raises:
        FileNotFoundError: the folder holds no run and no failure record.
        ReportError: the reference (given, or recorded by the sweep) names no scenario of
            the sweep; the message lists them.
        FileExistsError: ``<sweep>/report/`` holds files a report does not write (see
            :data:`REPORT_FILES`): it is never replaced, so nothing of the user's is lost.
    """
    from sim.plots import band
    from sim.report_html import write_html

    sweep_dir = Path(sweep_dir)
    runs, run_dirs, failed, missing, manifest = collect(sweep_dir)
    if runs.empty:
        raise FileNotFoundError(f"no runs in {str(sweep_dir)!r} (expected job folders with "
                                "run/ or FAILED.json)")
    if reference is None:
        reference = (manifest or {}).get("reference") or {}
    runs, factors, fixed, order = add_scenarios(runs, manifest)
    problem = reference_problem(runs, factors, fixed, order, reference)
    if problem:
        raise ReportError(problem)
    outcomes = [c for c in COLUMNS if c in runs]
    main = [c for c in MAIN_OUTCOMES if c in runs]
    refs = reference_map(runs, factors, order, reference) if factors else {}
    with warnings.catch_warnings():
        # replicates that agree to the last digits: SciPy's t-test warns, the interval holds
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        scen = scenario_table(runs, order, outcomes)
        diffs = difference_table(runs, refs, outcomes)
    weekly = weekly_table(runs, run_dirs, main)
    planned = len((manifest or {}).get("jobs", [])) or len(runs)
    facts = _facts(sweep_dir, manifest, runs, run_dirs, factors, fixed, order, refs,
                   reference, scen, diffs, failed, missing, planned)

    final = sweep_dir / REPORT_DIR
    # never replace a report folder holding files this report did not write
    with replacing_folder(final, REPORT_FILES, FIGURES) as tmp:
        tidy = runs.drop(columns=["_overrides"])
        lead = ["job", "scenario", *factors, "seed", "replicate", "status", "wall_seconds"]
        tidy = tidy[[c for c in lead if c in tidy] + [c for c in tidy if c not in lead]]
        tidy = tidy.sort_values(["scenario", "seed", "replicate"], key=_order_key(order),
                                kind="stable").reset_index(drop=True)
        for col in factors:
            tidy[col] = tidy[col].map(_show_value)
        tidy.to_parquet(tmp / RUNS_TABLE, index=False)
        spreadsheet_safe(tidy).to_csv(tmp / RUNS_CSV, index=False)
        spreadsheet_safe(scen).to_csv(tmp / SCENARIOS_CSV, index=False)
        spreadsheet_safe(diffs).to_csv(tmp / DIFFERENCES_CSV, index=False)
        means = pd.concat([band(weekly, ["scenario", "week"], c).assign(outcome=c)
                           for c in main], ignore_index=True) if len(weekly) else None
        if means is not None:
            means[["scenario", "outcome", "week", "count", "mean", "low", "high"]].rename(
                columns={"count": "n", "low": "ci_low", "high": "ci_high"}).to_csv(
                tmp / WEEKLY_MEANS_CSV, index=False)
        figs: dict[str, str] = {}
        if figures and len(weekly):
            figs = _draw_figures(weekly, order, main, refs, tmp, title(facts))
        areas = build_area_effects(runs, run_dirs, refs, diffs, tmp, figures=figures,
                                   title=title(facts))
        if areas is not None:
            figs.update(areas.figures)
            facts.area_section = areas.section
        facts.figures = figs
        text = markdown(facts)
        _write_text(tmp / REPORT_MD, text)
        write_html(text, tmp, tmp / REPORT_HTML, title=title(facts))
    return Report(final, runs, scen, diffs, failed, missing, planned, areas)


def _draw_figures(weekly: pd.DataFrame, order: Sequence[str], main: Sequence[str],
                  refs: dict[str, str], out: Path, name: str) -> dict[str, str]:
    """The overview, the paired differences and one figure per main outcome, drawn
    side by side (:func:`sim.plots.draw`) into ``out/figures``; name -> relative path."""
    from sim.plots import colour_map, draw, grid_figure, outcome_figure

    colours = colour_map(order)
    files = {"overview": "figures/overview.png"}
    drawings = [(grid_figure, (weekly, order, main, out / files["overview"]),
                 {"title": f"{name}: mean over replicates with 95% CI", "colours": colours})]
    wd = weekly_differences(weekly, refs, main)
    if len(wd):
        dorder = list(dict.fromkeys(wd["scenario"]))
        dcolours = {lab: colours[s] for s in refs for lab in dorder
                    if lab == s or lab.startswith(f"{s} − (")}
        ref_text = ", ".join(sorted(set(refs.values())))
        files["differences"] = "figures/differences.png"
        drawings.append((grid_figure, (wd, dorder, main, out / files["differences"]), {
            "title": f"{name}: paired difference from the reference ({ref_text}), 95% CI",
            "zero_line": True, "ylabel_suffix": " difference", "colours": dcolours}))
    for col in main:  # each with only its own column: less to hand to another process
        files[col] = f"figures/{col}.png"
        drawings.append((outcome_figure, (weekly[["scenario", "week", col]], order, col,
                                          OUTCOMES.get(col, ("", 0))[0], out / files[col]),
                         {"colours": colours}))
    draw(drawings)
    return files


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _facts(sweep_dir: Path, manifest: dict | None, runs: pd.DataFrame,
           run_dirs: dict[str, Path], factors: Sequence[str], fixed: dict,
           order: Sequence[str], refs: dict[str, str], reference: dict, scen: pd.DataFrame,
           diffs: pd.DataFrame, failed: list[dict], missing: list[str],
           planned: int) -> ReportFacts:
    """What report.md needs, from the tables and one run's resolved config."""
    system = burn_in = policy = None
    for run in run_dirs.values():
        cfg = read_config(run)
        system = (cfg.get("system") or {}).get("name")
        burn_in = (cfg.get("time") or {}).get("burn_in_weeks")
        policy = (cfg.get("time") or {}).get("policy_weeks")
        break
    first = runs.drop_duplicates("scenario").set_index("scenario")
    levels = {k: list(dict.fromkeys(first.loc[name, k] for name in order)) for k in factors}
    return ReportFacts(
        sweep_dir=sweep_dir, name=(manifest or {}).get("experiment"),
        question=(manifest or {}).get("question"), system=system, burn_in_weeks=burn_in,
        policy_weeks=policy, factors=levels, fixed=dict(fixed), order=list(order),
        refs=refs, reference=dict(reference or {}), runs=runs, scenarios=scen,
        differences=diffs, failed=failed, missing=missing, planned=planned,
        failed_name=FAILED)


def _order_key(order: Sequence[str]):
    rank = {name: i for i, name in enumerate(order)}

    def key(col: pd.Series) -> pd.Series:
        if col.name == "scenario":
            return col.map(rank)
        return col

    return key
