"""The report of a sweep: tidy tables, intervals, paired differences, figures, report.md.

Built from a sweep folder's run folders alone (analysis never re-runs the model), at
the end of a sweep (by :class:`sim.cli.SweepCallback`) or on demand::

    uv run collabsim-report results/sweeps/mandate_vs_local
    uv run collabsim-report results/sweeps/culture --reference context.culture_spread=0.1

It writes ``<sweep>/report/`` atomically (a temporary folder renamed into place, the
previous report replaced only once the new one is whole)::

    report.md         for a policy researcher: what was compared, each outcome's scenario
                      means with 95% intervals and paired differences against the
                      reference scenario, how sure, which runs failed
    runs.parquet/csv  the tidy table: one row per run (scenario columns, seed, replicate,
                      status, every summary value)
    scenarios.csv     per scenario and outcome: n, mean, sd, 95% CI
    differences.csv   per scenario and outcome: paired difference with the reference
                      (mean, sd, 95% CI, relative, number of pairs, unpaired CI for contrast)
    weekly_means.csv  per scenario, week and main outcome: mean and 95% CI over replicates
    figures/          overview.png, differences.png and one PNG per main outcome

Statistics: a scenario's mean over replicates with a t-interval; a paired difference is
computed per replicate (same seed and replicate index: common random numbers) and its
mean gets a t-interval over replicates. Outcomes are the runs' summaries: the mean of
the final 52 weeks under the regime.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.outcome_spec import COLUMNS, MAIN_OUTCOMES
from sim.outcome_spec import OUTCOMES as REGISTRY
from sim.results import (
    PROVENANCE,
    RUN_SUBDIR,
    SUMMARY,
    WEEKLY,
    commit_folder,
    fsync_dir,
    read_config,
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


def _show_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


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
                         "clear": bool(n >= 2 and (low > 0 or high < 0))})
    return pd.DataFrame(rows, columns=["scenario", "reference", "outcome", "n_pairs",
                                       "difference", "sd", "ci_low", "ci_high", "relative",
                                       "reference_mean", "unpaired_ci_low",
                                       "unpaired_ci_high", "clear"])


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


# --------------------------------------------------------------------------- the report
def build_report(sweep_dir: str | os.PathLike, reference: dict | None = None,
                 figures: bool = True) -> Report:
    """Aggregate a sweep folder into ``<sweep>/report/`` (written atomically).

    Args:
        sweep_dir: the sweep folder (``results/sweeps/<name>``).
        reference: overrides naming the reference scenario (``{"regime": "local"}``);
            default: what the sweep recorded in ``sweep.json``, else its first scenario.
        figures: draw the figures (tables and report.md are always written).

    Raises:
        FileNotFoundError: the folder holds no run and no failure record.
    """
    from sim.plots import band, colour_map, grid_figure, outcome_figure

    sweep_dir = Path(sweep_dir)
    runs, run_dirs, failed, missing, manifest = collect(sweep_dir)
    if runs.empty:
        raise FileNotFoundError(f"no runs in {str(sweep_dir)!r} (expected job folders with "
                                "run/ or FAILED.json)")
    if reference is None:
        reference = (manifest or {}).get("reference") or {}
    runs, factors, fixed, order = add_scenarios(runs, manifest)
    outcomes = [c for c in COLUMNS if c in runs]
    main = [c for c in MAIN_OUTCOMES if c in runs]
    refs = reference_map(runs, factors, order, reference) if factors else {}
    scen = scenario_table(runs, order, outcomes)
    diffs = difference_table(runs, refs, outcomes)
    weekly = weekly_table(runs, run_dirs, main)
    planned = len((manifest or {}).get("jobs", [])) or len(runs)

    final = sweep_dir / REPORT_DIR
    tmp = sweep_dir / f"{REPORT_DIR}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "figures").mkdir(parents=True)
        tidy = runs.drop(columns=["_overrides"])
        lead = ["job", "scenario", *factors, "seed", "replicate", "status", "wall_seconds"]
        tidy = tidy[[c for c in lead if c in tidy] + [c for c in tidy if c not in lead]]
        tidy = tidy.sort_values(["scenario", "seed", "replicate"], key=_order_key(order),
                                kind="stable").reset_index(drop=True)
        for col in factors:
            tidy[col] = tidy[col].map(_show_value)
        tidy.to_parquet(tmp / "runs.parquet", index=False)
        spreadsheet_safe(tidy).to_csv(tmp / "runs.csv", index=False)
        spreadsheet_safe(scen).to_csv(tmp / "scenarios.csv", index=False)
        spreadsheet_safe(diffs).to_csv(tmp / "differences.csv", index=False)
        means = pd.concat([band(weekly, ["scenario", "week"], c).assign(outcome=c)
                           for c in main], ignore_index=True) if len(weekly) else None
        if means is not None:
            means[["scenario", "outcome", "week", "count", "mean", "low", "high"]].rename(
                columns={"count": "n", "low": "ci_low", "high": "ci_high"}).to_csv(
                tmp / "weekly_means.csv", index=False)
        figs: dict[str, str] = {}
        if figures and len(weekly):
            name = (manifest or {}).get("experiment") or "sweep"
            colours = colour_map(order)
            grid_figure(weekly, order, main, tmp / "figures" / "overview.png",
                        title=f"{name}: mean over replicates with 95% CI", colours=colours)
            figs["overview"] = "figures/overview.png"
            wd = weekly_differences(weekly, refs, main)
            if len(wd):
                dorder = list(dict.fromkeys(wd["scenario"]))
                dcolours = {lab: colours[s] for s in refs for lab in dorder
                            if lab == s or lab.startswith(f"{s} − (")}
                ref_text = ", ".join(sorted(set(refs.values())))
                grid_figure(wd, dorder, main, tmp / "figures" / "differences.png",
                            title=f"{name}: paired difference from the reference "
                                  f"({ref_text}), 95% CI", zero_line=True,
                            ylabel_suffix=" difference", colours=dcolours)
                figs["differences"] = "figures/differences.png"
            for col in main:
                outcome_figure(weekly, order, col, OUTCOMES.get(col, ("", 0))[0],
                               tmp / "figures" / f"{col}.png", colours=colours)
                figs[col] = f"figures/{col}.png"
        text = markdown(sweep_dir, runs, factors, fixed, order, refs, reference, scen, diffs,
                        failed, missing, planned, manifest, run_dirs, figs)
        with open(tmp / "report.md", "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(tmp)
        commit_folder(tmp, final, overwrite=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Report(final, runs, scen, diffs, failed, missing, planned)


def _order_key(order: Sequence[str]):
    rank = {name: i for i, name in enumerate(order)}

    def key(col: pd.Series) -> pd.Series:
        if col.name == "scenario":
            return col.map(rank)
        return col

    return key


def _decimals(low: float, high: float, value: float) -> int | None:
    """Decimals that show an interval's half-width to two significant digits."""
    half = (high - low) / 2 if math.isfinite(low) and math.isfinite(high) else math.nan
    scale = half if math.isfinite(half) and half > 0 else abs(value)
    if not math.isfinite(scale) or scale == 0:
        return None
    return int(min(max(1 - math.floor(math.log10(scale)), 0), 6))


def _fmt(x: Any, signed: bool = False, decimals: int | None = None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    if decimals is None:
        text = f"{x:,.4g}" if abs(x) < 1e6 else f"{x:,.0f}"
    else:
        text = f"{x:,.{decimals}f}"
    if signed and x > 0:
        text = "+" + text
    return text.replace("-", "−")


def _ci(low: float, high: float, signed: bool = False, decimals: int | None = None) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"{_fmt(low, signed, decimals)} to {_fmt(high, signed, decimals)}"


def _verdict(row: Any, outcome: str) -> str:
    if row.n_pairs < 2 or not math.isfinite(row.ci_low):
        return "too few pairs to say"
    if not row.clear:
        return "no clear difference (the interval includes 0)"
    higher = row.difference > 0
    better = OUTCOMES.get(outcome, ("", 0))[1]
    word = "higher" if higher else "lower"
    if better:
        good = (better > 0) == higher
        return f"clearly {word} ({'better' if good else 'worse'})"
    return f"clearly {word}"


def _describe_horizon(run_dirs: dict[str, Path]) -> str:
    for run in run_dirs.values():
        cfg = read_config(run)
        t, system = cfg.get("time", {}), cfg.get("system", {})
        policy = t.get("policy_weeks") or 0
        return (f"system `{system.get('name')}`, {t.get('burn_in_weeks')} weeks of status-quo "
                f"burn-in, then {policy} weeks under the regime; each outcome is the mean of "
                f"a run's final {min(52, policy) if policy else 52} weeks under the regime")
    return "no complete run"


def markdown(sweep_dir: Path, runs: pd.DataFrame, factors: Sequence[str], fixed: dict,
             order: Sequence[str], refs: dict[str, str], reference: dict | None,
             scen: pd.DataFrame, diffs: pd.DataFrame, failed: list[dict],
             missing: list[str], planned: int, manifest: dict | None,
             run_dirs: dict[str, Path], figs: dict[str, str]) -> str:
    """report.md: readable without knowing the code."""
    name = (manifest or {}).get("experiment") or sweep_dir.name
    done = runs[runs["status"] == "complete"]
    n_done = len(done)
    lines = [f"# Sweep report: {name}", ""]
    question = (manifest or {}).get("question")
    if question:
        lines += [f"> {question.strip()}", ""]
    lines += [f"Built {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from the run folders "
              f"in `{sweep_dir}` (rebuild with `collabsim-report {sweep_dir}`).", ""]
    lines += ["## What was compared", ""]
    if factors:
        first = runs.drop_duplicates("scenario").set_index("scenario")
        for k in factors:
            vals = list(dict.fromkeys(_show_value(first.loc[name, k]) for name in order))
            lines.append(f"- **{k}**: {', '.join(vals)}")
    else:
        lines.append("- one scenario (nothing varies between runs)")
    if fixed:
        lines.append("- the same in every run: " + ", ".join(
            f"`{k}={_show_value(v)}`" for k, v in fixed.items()))
    reps = done.groupby("scenario").size() if n_done else pd.Series(dtype=int)
    seeds = sorted({int(s) for s in done["seed"].dropna()}) if n_done else []
    replicates = sorted({int(r) for r in done["replicate"].dropna()}) if n_done else []
    rep_text = (f"replicates {_ranges(replicates)} of root seed "
                f"{', '.join(map(str, seeds))}" if replicates else "no replicates")
    lines += [f"- {len(order)} scenarios × up to {int(reps.max()) if len(reps) else 0} "
              f"replicates ({rep_text}); {_describe_horizon(run_dirs)}.",
              "- Every scenario runs the same replicates: replicate *r* gives every scenario "
              "the same random stream (common random numbers), so the scenarios are "
              "compared **replicate by replicate** (paired differences), which removes most "
              "of the chance variation between runs."]
    if refs:
        ref_names = sorted(set(refs.values()), key=list(order).index)
        spec = ", ".join(f"{k}={_show_value(v)}" for k, v in (reference or {}).items())
        lines.append(f"- **Reference**: {', '.join(ref_names)}"
                     + (f" (`{spec}` within each level of the other factors)"
                        if len(ref_names) > 1 else "")
                     + ". Differences below are *scenario − reference*.")
    lines += ["", f"**Runs**: {planned} planned, {n_done} complete, {len(failed)} failed, "
              f"{len(missing)} missing.", ""]
    if failed or missing:
        lines += ["**Results are incomplete**: the statistics below use the complete runs "
                  "only (see *Failed and missing runs*). Run the same command again to run "
                  "the missing and failed ones.", ""]

    # at a glance
    main = [c for c in MAIN_OUTCOMES if c in set(scen["outcome"])]
    if refs and len(diffs):
        lines += ["## At a glance", "",
                  "Paired difference from the reference, mean over replicates with its 95% "
                  "confidence interval; **bold** where the interval excludes 0.", ""]
        cols = list(refs)
        lines.append("| outcome | " + " | ".join(cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        for col in main:
            cells = []
            for s in cols:
                r = diffs[(diffs["scenario"] == s) & (diffs["outcome"] == col)]
                if r.empty:
                    cells.append("–")
                    continue
                r = r.iloc[0]
                d = _decimals(r.ci_low, r.ci_high, r.difference)
                text = f"{_fmt(r.difference, True, d)} ({_ci(r.ci_low, r.ci_high, True, d)})"
                cells.append(f"**{text}**" if r.clear else text)
            lines.append(f"| {col} | " + " | ".join(cells) + " |")
        lines.append("")

    lines += ["## Outcomes", ""]
    for col in main:
        desc, better = OUTCOMES.get(col, ("", 0))
        hint = {1: "higher is better", -1: "lower is better"}.get(better, "")
        lines += [f"### {col}", "", f"{desc}" + (f" ({hint})" if hint else "") + ".", ""]
        lines += ["| scenario | mean | 95% CI | n |", "|---|---|---|---|"]
        for r in scen[scen["outcome"] == col].itertuples(index=False):
            mark = " (reference)" if r.scenario in set(refs.values()) else ""
            d = _decimals(r.ci_low, r.ci_high, r.mean)
            lines.append(f"| {r.scenario}{mark} | {_fmt(r.mean, False, d)} | "
                         f"{_ci(r.ci_low, r.ci_high, False, d)} | {r.n} |")
        sub = diffs[diffs["outcome"] == col] if len(diffs) else diffs
        if len(sub):
            lines += ["", "| scenario − reference | difference | 95% CI | relative | pairs "
                      "| how sure |", "|---|---|---|---|---|---|"]
            for r in sub.itertuples(index=False):
                rel = f"{r.relative * 100:+.1f}%".replace("-", "−") if math.isfinite(
                    r.relative) else "–"
                d = _decimals(r.ci_low, r.ci_high, r.difference)
                lines.append(f"| {r.scenario} − {r.reference} | {_fmt(r.difference, True, d)} "
                             f"| {_ci(r.ci_low, r.ci_high, True, d)} | {rel} | {r.n_pairs} | "
                             f"{_verdict(r, col)} |")
        if col in figs:
            lines += ["", f"![{col}]({figs[col]})"]
        lines.append("")

    if "overview" in figs or "differences" in figs:
        lines += ["## Figures", ""]
        if "overview" in figs:
            lines += ["Each outcome week by week (years since the regime switch; the burn-in "
                      "is before 0): mean over replicates, band = 95% CI.", "",
                      f"![overview]({figs['overview']})", ""]
        if "differences" in figs:
            lines += ["Paired differences from the reference week by week, band = 95% CI: "
                      "where the band leaves 0, the scenarios differ.", "",
                      f"![differences]({figs['differences']})", ""]

    lines += ["## How sure", ""]
    lines += ["- An interval is a 95% confidence interval (Student's t over replicates). A "
              "difference whose interval excludes 0 is called *clear*; otherwise the runs "
              "cannot tell the scenarios apart on that outcome. With many outcomes and "
              "scenarios, expect about 1 in 20 clear results by chance when there is no "
              "real difference.",
              "- The intervals describe the model's chance variation, not whether the model "
              "is right: the model is exploratory (see docs/ODD.md)."]
    if len(diffs):
        w_p = (diffs["ci_high"] - diffs["ci_low"]).to_numpy(dtype=float)
        w_u = (diffs["unpaired_ci_high"] - diffs["unpaired_ci_low"]).to_numpy(dtype=float)
        ok = np.isfinite(w_p) & np.isfinite(w_u) & (w_p > 0)
        if ok.any():
            ratio = float(np.median(w_u[ok] / w_p[ok]))
            lines.append(f"- Pairing replicates made the intervals of the differences "
                         f"{ratio:.1f} times narrower (median over outcomes) than comparing "
                         "the same runs unpaired.")
    lines.append("")

    lines += ["## Failed and missing runs", ""]
    if not failed and not missing:
        lines.append("None: every planned run is complete.")
    for f in failed:
        lines.append(f"- **failed** `{f['job']}`: {f.get('error', '?')}: "
                     f"{str(f.get('message', '')).splitlines()[0] if f.get('message') else ''}"
                     f" (traceback in `{f['job']}/{FAILED}`)")
    for m in missing:
        lines.append(f"- **missing** `{m}`: not run, or interrupted")
    lines += ["", "## Files", "",
              "- `runs.csv`, `runs.parquet`: one row per run (scenario, seed, replicate, "
              "status and every summary value, including the outcomes not shown here)",
              "- `scenarios.csv`: per scenario and outcome, n, mean, sd and 95% CI",
              "- `differences.csv`: paired differences with the reference, every outcome",
              "- `weekly_means.csv`: the figures' data",
              "- each run: `<job>/run/` (weekly.parquet, summary.json, config.yaml, "
              "provenance.json)", ""]
    return "\n".join(lines)


def _ranges(values: Sequence[int]) -> str:
    """``0-19`` for consecutive integers, else a comma list."""
    values = sorted(values)
    if not values:
        return ""
    parts, start, prev = [], values[0], values[0]
    for v in values[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(f"{start}–{prev}" if prev > start else f"{start}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)
