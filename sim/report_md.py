"""report.md: a sweep's tables told for a policy reader.

:func:`markdown` turns the tables :mod:`sim.report` computed (scenario means, paired
differences) into text: a title and opening lines that name the system and every
override, a short "Main findings" paragraph generated from the difference tables, a
table at a glance, one section per main outcome, and how sure the numbers are. The
wording of each number and judgement comes from :mod:`sim.wording` (hence from the
outcome registry). Nothing here reads files: the caller passes what it found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import wording as w
from sim.outcome_spec import MAIN_OUTCOMES, outcome


@dataclass
class ReportFacts:
    """What the report describes, gathered by :func:`sim.report.build_report`.

    Attributes:
        sweep_dir: the sweep folder, as the user named it.
        name: the experiment's name, or None for an ad hoc sweep.
        question: the experiment's question, if any.
        system: the system every run simulated (``teaching``, ``ics`` ...), or None.
        burn_in_weeks, policy_weeks: the runs' horizon, weeks (None if unknown).
        factors: the swept keys with their values in sweep order.
        fixed: the overrides every run shares (key -> value).
        order: the scenario labels in sweep order.
        refs: each compared scenario's reference scenario.
        reference: the reference as given (overrides).
        runs: one row per run (``scenario``, ``status``, ``seed``, ``replicate``, outcomes).
        scenarios, differences: :func:`sim.report.scenario_table`, ``difference_table``.
        failed: failure records (``job``, ``error``, ``message``).
        missing: planned jobs with neither a run nor a failure.
        planned: the number of planned runs.
        figures: figure name -> path relative to the report folder.
        failed_name: the failure record's file name (``FAILED.json``).
        area_section: the section on effects by area (:mod:`sim.area_effects`), for a
            system of several areas; empty otherwise.
    """

    sweep_dir: Path
    name: str | None
    question: str | None
    system: str | None
    burn_in_weeks: int | None
    policy_weeks: int | None
    factors: dict[str, list[Any]]
    fixed: dict[str, Any]
    order: Sequence[str]
    refs: dict[str, str]
    reference: dict
    runs: pd.DataFrame
    scenarios: pd.DataFrame
    differences: pd.DataFrame
    failed: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    planned: int = 0
    figures: dict[str, str] = field(default_factory=dict)
    failed_name: str = "FAILED.json"
    area_section: list[str] = field(default_factory=list)

    @property
    def done(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "complete"]

    @property
    def main(self) -> list[str]:
        shown = set(self.scenarios["outcome"])
        return [c for c in MAIN_OUTCOMES if c in shown]


def show_value(v: Any) -> str:
    """An override's value as the command line writes it (``0.1``, not ``0.1000``)."""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def title(f: ReportFacts) -> str:
    """The report's title: what was run, on which system."""
    if f.name:
        what = f.name
    else:
        what = "Sweep of " + ", ".join(f.factors) if f.factors else "Sweep"
    return f"{what} on the {f.system} system" if f.system else what


def overrides_line(f: ReportFacts) -> str:
    """Every override of the sweep: the experiment, what every run shares, what varies."""
    parts = [f"`experiment={f.name}`"] if f.name else []
    parts += [f"`{k}={show_value(v)}`" for k, v in f.fixed.items()]
    parts += [f"`{k}={','.join(show_value(v) for v in vals)}`"
              for k, vals in f.factors.items()]
    return " ".join(parts) if parts else "none (the defaults)"


# --------------------------------------------------------------------------- per outcome
@dataclass
class _Shown:
    """One outcome's numbers as they will read (decimals shared within each table)."""

    col: str
    value_decimals: int
    diff_decimals: int


def _shown(f: ReportFacts, col: str) -> _Shown:
    s = w.scale(col)
    scen = f.scenarios[f.scenarios["outcome"] == col]
    diffs = f.differences[f.differences["outcome"] == col] if len(f.differences) else \
        f.differences
    vd = w.decimals(col, ((scen["ci_high"] - scen["ci_low"]) / 2 * s).tolist(),
                    (scen["mean"] * s).tolist())
    dd = w.decimals(col, ((diffs["ci_high"] - diffs["ci_low"]) / 2 * s).tolist()
                    if len(diffs) else [], (diffs["difference"] * s).tolist()
                    if len(diffs) else [])
    return _Shown(col, vd, dd)


def _diff_cell(col: str, r: Any, d: int) -> str:
    """``−1.5 pp (−2.7 to −0.2)``, or ``undefined``."""
    if r.n_pairs == 0 or not math.isfinite(r.difference):
        return w.UNDEFINED
    ci = w.interval(col, r.ci_low, r.ci_high, d, signed=True)
    text = w.difference(col, r.difference, d)
    return f"{text} ({ci})" if ci != "–" else text


def _size_text(col: str, r: Any, shown: _Shown) -> str:
    """The size of a clear difference with its interval: ``1.5 pp (95% CI 0.2 to 2.7)``."""
    d, s = shown.diff_decimals, w.scale(col)
    low, high = sorted((abs(r.ci_low), abs(r.ci_high)))
    unit = f" {w.POINTS}" if outcome(col).kind == "share" else ""
    return (f"{w.number(abs(r.difference) * s, d)}{unit} (95% CI {w.number(low * s, d)} to "
            f"{w.number(high * s, d)})")


def _judgement(col: str, r: Any) -> str:
    return w.judge(col, r.difference, r.ci_low, r.ci_high, int(r.n_pairs))


def _judgement_text(col: str, r: Any) -> str:
    j = _judgement(col, r)
    if r.n_pairs < 2:
        return f"{w.UNCLEAR} (fewer than 2 pairs)"
    if j == w.UNCLEAR:
        return f"{w.UNCLEAR} (the interval includes 0)"
    return f"{j}: {w.direction(col, r.difference)}"


def _pair_name(f: ReportFacts, scenario: str, ref: str) -> str:
    return scenario if len(set(f.refs.values())) == 1 else f"{scenario} − ({ref})"


# --------------------------------------------------------------------------- sections
def main_findings(f: ReportFacts) -> list[str]:
    """A short paragraph per compared scenario, generated from the difference table.

    It names the main outcomes whose difference is clear and meaningful (with the
    estimate and its interval), then counts the negligible and unclear ones: it never
    says more than the tables show.
    """
    lines = ["## Main findings", ""]
    done = f.done
    if not f.refs or not len(f.differences):
        lines += ["Only one scenario has complete runs, so nothing is compared here; the "
                  "tables below give its means." if len(f.order) <= 1 else
                  "No paired differences could be computed (no scenario has a reference "
                  "with complete runs).", ""]
        return lines
    reps = done.groupby("scenario").size()
    ref_names = sorted(set(f.refs.values()), key=list(f.order).index)
    where = f" on the {f.system} system" if f.system else ""
    lines.append(f"Paired over up to {int(reps.max())} replicates{where}, compared with "
                 f"{' / '.join(ref_names)}:")
    lines.append("")
    main = f.main
    for scenario, ref in f.refs.items():
        rows = f.differences[(f.differences["scenario"] == scenario)
                             & f.differences["outcome"].isin(main)]
        meaningful, negligible, unclear = [], [], []
        for r in rows.itertuples(index=False):
            j = _judgement(r.outcome, r)
            if j == w.MEANINGFUL:
                meaningful.append(f"{r.outcome} {w.direction(r.outcome, r.difference)} by "
                                  f"{_size_text(r.outcome, r, _shown(f, r.outcome))}")
            elif j == w.NEGLIGIBLE:
                negligible.append(r.outcome)
            else:
                unclear.append(r.outcome)
        head = f"- **{_pair_name(f, scenario, ref)}**: "
        if meaningful:
            text = head + "; ".join(meaningful) + "."
        else:
            text = head + "no main outcome differs clearly and meaningfully."
        if negligible:
            text += (f" Clear but smaller than what matters: {', '.join(negligible)}.")
        if unclear:
            text += f" Unclear: {len(unclear)} of {len(rows)} main outcomes."
        lines.append(text)
    lines += ["", "*Clear*: the 95% interval of the paired difference excludes 0. "
              "*Meaningful*: the estimate is at least the outcome's smallest meaningful "
              "difference (listed under *How differences are judged*). These are results "
              "of an exploratory model, not a forecast."]
    if f.failed or f.missing:
        lines.append(f"They use the {len(done)} complete runs of {f.planned} planned.")
    lines.append("")
    return lines


def at_a_glance(f: ReportFacts) -> list[str]:
    """Every main outcome's paired differences side by side, judged."""
    if not f.refs or not len(f.differences):
        return []
    cols = list(f.refs)
    lines = ["## At a glance", "",
             "Paired difference from the reference (mean over replicates, 95% interval); "
             "shares in percentage points (pp). **Bold**: clear and meaningful.", "",
             "| outcome | " + " | ".join(_pair_name(f, s, f.refs[s]) for s in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for col in f.main:
        d = _shown(f, col).diff_decimals
        cells = []
        for s in cols:
            r = f.differences[(f.differences["scenario"] == s)
                              & (f.differences["outcome"] == col)]
            if r.empty:
                cells.append("–")
                continue
            r = r.iloc[0]
            text = _diff_cell(col, r, d)
            j = _judgement(col, r)
            cells.append(f"**{text}**" if j == w.MEANINGFUL else
                         f"{text}, negligible" if j == w.NEGLIGIBLE else text)
        lines.append(f"| {col} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def outcome_section(f: ReportFacts, col: str) -> list[str]:
    """One main outcome: meaning, threshold, scenario means, paired differences, figure."""
    o = outcome(col)
    shown = _shown(f, col)
    unit = w.value_unit(col)
    better = {"higher": "higher is better", "lower": "lower is better"}.get(o.better or "",
                                                                           "neither is better")
    lines = [f"### {col}", "",
             f"{o.meaning[0].upper()}{o.meaning[1:]}. Shown in {unit}; {better}; a "
             f"difference matters from {w.threshold_text(col)}.", ""]
    done = f.done
    lines += [f"| scenario | mean ({unit}) | 95% CI | runs |", "|---|---|---|---|"]
    undefined_any = False
    for r in f.scenarios[f.scenarios["outcome"] == col].itertuples(index=False):
        mark = " (reference)" if r.scenario in set(f.refs.values()) else ""
        total = int((done["scenario"] == r.scenario).sum())
        runs_text = str(r.n) if r.n == total else f"{r.n} of {total} (undefined in " \
                                                  f"{total - r.n})"
        undefined_any |= r.n < total
        lines.append(f"| {r.scenario}{mark} | {w.value(col, r.mean, shown.value_decimals)} "
                     f"| {w.interval(col, r.ci_low, r.ci_high, shown.value_decimals)} "
                     f"| {runs_text} |")
    if undefined_any and o.undefined:
        lines += ["", f"*Undefined* where {o.undefined}; such runs are left out of the "
                  "mean, never counted as 0."]
    sub = f.differences[f.differences["outcome"] == col] if len(f.differences) else \
        f.differences
    if len(sub):
        dunit = "pp" if o.kind == "share" else o.unit
        rel = o.kind != "share"
        lines += ["", f"| scenario − reference | difference ({dunit}) | 95% CI |"
                  + (" relative |" if rel else "") + " pairs | judgement |",
                  "|---|---|---|" + ("---|" if rel else "") + "---|---|"]
        for r in sub.itertuples(index=False):
            d = shown.diff_decimals
            diff = (w.difference(col, r.difference, d).replace(f" {w.POINTS}", "")
                    if r.n_pairs else w.UNDEFINED)
            cells = [f"{r.scenario} − {r.reference}", diff,
                     w.interval(col, r.ci_low, r.ci_high, d, signed=True)]
            if rel:
                cells.append(f"{r.relative * 100:+.0f}%".replace("-", "−")
                             if math.isfinite(r.relative) else "–")
            cells += [str(r.n_pairs), _judgement_text(col, r)]
            lines.append("| " + " | ".join(cells) + " |")
    if col in f.figures:
        lines += ["", f"![{col} over time]({f.figures[col]})"]
    lines.append("")
    return lines


def how_sure(f: ReportFacts) -> list[str]:
    """How the intervals and judgements are made, with each main outcome's threshold."""
    lines = ["## How sure", "",
             "- An interval is a 95% confidence interval (Student's t over replicates). A "
             "difference is **clear** when its interval excludes 0; otherwise it is "
             "**unclear**: the runs cannot tell the scenarios apart on that outcome. With "
             "many outcomes and scenarios, expect about 1 in 20 clear results by chance "
             "when there is no real difference.",
             "- A clear difference is **meaningful** when its estimate is at least the "
             "outcome's smallest meaningful difference, and **negligible** when it is "
             "smaller: real in the model, too small to matter in practice.",
             "- The intervals describe the model's chance variation, not whether the model "
             "is right: the model is exploratory (see docs/ODD.md)."]
    diffs = f.differences
    if len(diffs):
        w_p = (diffs["ci_high"] - diffs["ci_low"]).to_numpy(dtype=float)
        w_u = (diffs["unpaired_ci_high"] - diffs["unpaired_ci_low"]).to_numpy(dtype=float)
        ok = np.isfinite(w_p) & np.isfinite(w_u) & (w_p > 0)
        if ok.any():
            ratio = float(np.median(w_u[ok] / w_p[ok]))
            lines.append(f"- Pairing replicates made the intervals of the differences "
                         f"{ratio:.1f} times narrower (median over outcomes) than comparing "
                         "the same runs unpaired.")
    lines += ["", "### How differences are judged", "",
              "| outcome | smallest meaningful difference | why |", "|---|---|---|"]
    for col in f.main:
        o = outcome(col)
        lines.append(f"| {col} | {w.threshold_text(col)} | {o.evidence} |")
    lines.append("")
    return lines


def markdown(f: ReportFacts) -> str:
    """The whole of report.md."""
    done = f.done
    lines = [f"# {title(f)}", ""]
    if f.question:
        lines += [f"> {f.question.strip()}", ""]
    horizon = ""
    if f.burn_in_weeks is not None and f.policy_weeks is not None:
        final = min(52, f.policy_weeks) if f.policy_weeks else 52
        horizon = (f" {f.burn_in_weeks} weeks of status-quo burn-in, then {f.policy_weeks} "
                   f"weeks under the regime; each outcome is a run's mean over its final "
                   f"{final} weeks.")
    lines += [f"**System**: {f.system or 'unknown'}.{horizon}", "",
              f"**Overrides**: {overrides_line(f)}.", ""]
    lines += main_findings(f)
    lines += ["## What was compared", ""]
    if f.factors:
        for k, vals in f.factors.items():
            lines.append(f"- **{k}**: {', '.join(show_value(v) for v in vals)}")
    else:
        lines.append("- one scenario (nothing varies between runs)")
    if f.fixed:
        lines.append("- the same in every run: " + ", ".join(
            f"`{k}={show_value(v)}`" for k, v in f.fixed.items()))
    reps = done.groupby("scenario").size() if len(done) else pd.Series(dtype=int)
    seeds = sorted({int(s) for s in done["seed"].dropna()}) if len(done) else []
    replicates = sorted({int(r) for r in done["replicate"].dropna()}) if len(done) else []
    rep_text = (f"replicates {_ranges(replicates)} of root seed "
                f"{', '.join(map(str, seeds))}" if replicates else "no replicates")
    lines += [f"- {len(f.order)} scenarios × up to {int(reps.max()) if len(reps) else 0} "
              f"replicates ({rep_text}).",
              "- Every scenario runs the same replicates: replicate *r* gives every scenario "
              "the same random stream (common random numbers), so the scenarios are "
              "compared **replicate by replicate** (paired differences), which removes most "
              "of the chance variation between runs."]
    if f.refs:
        ref_names = sorted(set(f.refs.values()), key=list(f.order).index)
        spec = ", ".join(f"{k}={show_value(v)}" for k, v in (f.reference or {}).items())
        lines.append(f"- **Reference**: {', '.join(ref_names)}"
                     + (f" (`{spec}` within each level of the other factors)"
                        if len(ref_names) > 1 else "")
                     + ". Differences below are *scenario − reference*.")
    lines += ["", f"**Runs**: {f.planned} planned, {len(done)} complete, {len(f.failed)} "
              f"failed, {len(f.missing)} missing.", ""]
    if f.failed or f.missing:
        lines += ["**Results are incomplete**: the statistics below use the complete runs "
                  "only (see *Failed and missing runs*). Run the same command again to run "
                  "the missing and failed ones.", ""]
    lines += at_a_glance(f)
    lines += ["## Outcomes", "",
              "Shares are shown as percentages and their differences in percentage points "
              "(pp); counts as counts; other measures in their own unit.", ""]
    for col in f.main:
        lines += outcome_section(f, col)
    figs = f.figures
    if "overview" in figs or "differences" in figs:
        lines += ["## Figures", ""]
        if "overview" in figs:
            lines += ["Each outcome week by week (years since the regime switch; the burn-in "
                      "is before 0): mean over replicates, band = 95% CI.", "",
                      f"![overview of every main outcome]({figs['overview']})", ""]
        if "differences" in figs:
            lines += ["Paired differences from the reference week by week, band = 95% CI: "
                      "where the band leaves 0, the scenarios differ.", "",
                      f"![paired differences over time]({figs['differences']})", ""]
    lines += f.area_section
    lines += how_sure(f)
    lines += ["## Failed and missing runs", ""]
    if not f.failed and not f.missing:
        lines.append("None: every planned run is complete.")
    for rec in f.failed:
        message = str(rec.get("message") or "").splitlines()
        lines.append(f"- **failed** `{rec['job']}`: {rec.get('error', '?')}: "
                     f"{message[0] if message else ''} (traceback in "
                     f"`{rec['job']}/{f.failed_name}`)")
    for m in f.missing:
        lines.append(f"- **missing** `{m}`: not run, or interrupted")
    lines += ["", "## Files", "",
              f"Built {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from the run "
              f"folders in `{f.sweep_dir}`; rebuild with `collabsim-report {f.sweep_dir}` "
              "(`--reference KEY=VALUE` for another reference).", "",
              "- `report.html`: this report as one self-contained page (figures embedded)",
              "- `runs.csv`, `runs.parquet`: one row per run (scenario, seed, replicate, "
              "status and every summary value, including the outcomes not shown here)",
              "- `scenarios.csv`: per scenario and outcome, n, mean, sd and 95% CI",
              "- `differences.csv`: paired differences with the reference, every outcome, "
              "with the judgement",
              "- `weekly_means.csv`: the figures' data",
              "- each run: `<job>/run/` (weekly.parquet, by_kind.parquet, by_area.parquet, "
              "areas.csv, summary.json, config.yaml, provenance.json)", ""]
    return "\n".join(lines)


def _ranges(values: Sequence[int]) -> str:
    """``0–19`` for consecutive integers, else a comma list."""
    values = sorted(values)
    if not values:
        return ""
    parts, start, prev = [], values[0], values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(f"{start}–{prev}" if prev > start else f"{start}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)
