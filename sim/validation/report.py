"""Writing a validation's report: markdown, JSON, CSV tables and one figure per pattern.

Pure functions of the measured effects and their summary; nothing here runs the model.
Files are written into a staging folder and moved into place at the end, JSON last, so
that ``validation.json`` present means the report is complete.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import SimConfig
from sim.stats import mean_interval
from sim.validation.patterns import PATTERNS
from sim.validation.settings import Settings

#: The files a report consists of (besides ``figures/``), in the order they are moved in.
FILES = ("effects.csv", "robustness.csv", "calibration.csv", "validation.md",
         "validation.json")
#: Written when the regime decomposition ran (an older one is removed when it did not).
DECOMPOSITION_FILE = "decomposition.csv"
#: Sections run on their own and written beside the report as ``<name>.md`` (the
#: between-site pattern, ``collabsim-validate-sites``): a regenerated report keeps each,
#: between its :func:`markers`.
KEPT_SECTIONS = ("between_sites",)


def markers(name: str) -> tuple[str, str]:
    """The comment lines around a kept section in ``validation.md``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_report(settings: Settings, base: SimConfig, effects: pd.DataFrame,
                 summary: list[dict], robust: list[dict], calib: pd.DataFrame,
                 levers: pd.DataFrame | None = None) -> Path:
    """Write the whole report into ``settings.out``; returns the path of ``validation.md``.

    Args:
        settings: the validation run (its folder, replicates and command line).
        base: the base scenario (composed from ``settings.overrides``).
        effects: every replicate's effect (``setting`` column: "defaults" or a setting).
        summary: :func:`~sim.validation.runner.summarise_patterns` at the base scenario.
        robust: the same for each robustness setting, with a ``setting`` key.
        calib: :func:`~sim.validation.runner.calibration_runs`.
        levers: the regime decomposition's effects
            (:func:`~sim.validation.levers.lever_effects`), or None if it did not run.
    """
    out = settings.out
    stage = out / f".validation-staging-{os.getpid()}"
    stage.mkdir(parents=True, exist_ok=True)
    try:
        figures = _figures(effects[effects["setting"] == "defaults"], summary, stage)
        if levers is not None:
            figures.update(_lever_figures(levers, stage))
            levers.to_csv(stage / DECOMPOSITION_FILE, index=False)
        effects.to_csv(stage / "effects.csv", index=False)
        pd.DataFrame(robust).to_csv(stage / "robustness.csv", index=False)
        calib.to_csv(stage / "calibration.csv", index=False)
        (stage / "validation.md").write_text(
            markdown(settings, base, summary, robust, calib, figures, levers),
            encoding="utf-8")
        (stage / "validation.json").write_text(json.dumps(summary, indent=2),
                                               encoding="utf-8")
        (out / "figures").mkdir(exist_ok=True)
        for f in (stage / "figures").iterdir():
            f.replace(out / "figures" / f.name)
        for name in FILES:
            (stage / name).replace(out / name)
        if levers is not None:
            (stage / DECOMPOSITION_FILE).replace(out / DECOMPOSITION_FILE)
        else:  # a decomposition from an earlier report would not belong to this one
            (out / DECOMPOSITION_FILE).unlink(missing_ok=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out / "validation.md"


def _figures(effects: pd.DataFrame, summary: list[dict], folder: Path) -> dict[str, str]:
    """One figure per pattern: each replicate's effect, the mean and its 95% interval."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    (folder / "figures").mkdir(exist_ok=True)
    paths = {}
    for pattern in PATTERNS:
        sel = effects[effects["pattern"] == pattern.key]
        if sel.empty:
            continue
        crits = list(pattern.criteria)
        fig, axes = plt.subplots(1, len(crits), figsize=(3.2 * len(crits), 3.0), squeeze=False)
        for ax, crit in zip(axes[0], crits, strict=True):
            vals = sel[sel["criterion"] == crit.name]["effect"].dropna().to_numpy()
            row = next((r for r in summary if r["pattern"] == pattern.key
                        and r["criterion"] == crit.statement), None)
            jitter = np.linspace(-0.15, 0.15, len(vals)) if len(vals) else vals
            ax.scatter(jitter, vals, s=12, alpha=0.6, color="tab:blue")
            if row and np.isfinite(row["ci_low"]):
                ax.errorbar([0.45], [row["effect"]], yerr=[[row["effect"] - row["ci_low"]],
                                                           [row["ci_high"] - row["effect"]]],
                            fmt="o", color="tab:green" if row["passed"] else "tab:red",
                            capsize=4)
            ax.axhline(0.0, color="black", lw=0.8)
            if crit.published is not None:
                ax.axhspan(*crit.published, color="tab:orange", alpha=0.2, lw=0)
            else:
                ax.axhline(crit.threshold, color="tab:gray", lw=0.8, ls="--")
            ax.set_xlim(-0.5, 0.8)
            ax.set_xticks([])
            ax.set_title(crit.name, fontsize=9)
        fig.suptitle(f"{pattern.title}: paired effects per replicate", fontsize=10)
        fig.tight_layout()
        name = f"figures/{pattern.key}.png"
        fig.savefig(folder / name, dpi=90)
        plt.close(fig)
        paths[pattern.key] = name
    return paths


def _lever_figures(levers: pd.DataFrame, folder: Path) -> dict[str, str]:
    """The decomposition's ranked effects with intervals, one figure per outcome."""
    from sim import decomposition as D

    (folder / "figures").mkdir(exist_ok=True)
    paths = {}
    for outcome in dict.fromkeys(levers["outcome"]):
        name = f"figures/decomposition_{outcome}.png"
        D.figure(levers, outcome, folder / name)
        paths[f"decomposition:{outcome}"] = name
    return paths


RULE = ("Each criterion states its smallest meaningful effect (the outcome registry's "
        "smallest difference where the effect is a difference of an outcome, otherwise "
        "justified with the criterion) and passes only when the 95% interval of its paired "
        "effect (Student t over replicates) clears it in the stated direction. A "
        "non-inferiority criterion (\"at least as well\") passes when the interval's lower "
        "end lies above minus the smallest effect. A published-range criterion passes when "
        "the interval overlaps the published range. Design properties (which follow from "
        "how the model is built) and comparisons (published figures beside simulated ones, "
        "e.g. where a scenario was set to match) are reported, but not counted as "
        "evidence.")


def _fmt(x: float) -> str:
    return f"{x:+.4g}"


def _row_passed(r: dict) -> str:
    return "yes" if r["passed"] else "**no**"


def evidence(summary: list[dict]) -> list[dict]:
    """The rows of ``summary`` that count as evidence (not design properties or
    comparisons)."""
    from sim.validation.patterns import NOT_EVIDENCE

    return [r for r in summary if r["form"] not in NOT_EVIDENCE]


def markdown(settings: Settings, base: SimConfig, summary: list[dict], robust: list[dict],
             calib: pd.DataFrame, figures: dict[str, str],
             levers: pd.DataFrame | None = None) -> str:
    """The report as markdown: the verdicts, each pattern, the regime decomposition,
    calibration and robustness."""
    n_reps, n_robust = settings.replicates, settings.robustness_replicates
    lines = ["# Validation against the evidence", "",
             f"System `{base.system.name}`, burn-in {base.time.burn_in_weeks} weeks, policy "
             f"period {base.time.policy_weeks} weeks, root seed {base.seed}, {n_reps} paired "
             "replicates per pattern (every scenario of a pattern shares each replicate's map, "
             "burn-in and random streams).", "", RULE, "",
             f"Regenerated by `{settings.command()}`.", ""]
    counted = evidence(summary)
    others = [r for r in summary if r not in counted]
    passed = sum(r["passed"] for r in counted)
    lines += [f"**{passed} of {len(counted)} criteria pass at the defaults**"
              + (f" (besides {len(others)} design properties and comparisons, reported "
                 "apart)." if others else "."), "",
              "| pattern | criterion | form | smallest effect | decision rule | effect | "
              "95% interval | passed |",
              "|---|---|---|---|---|---|---|---|"]
    for r in summary:
        lines.append(f"| {r['pattern']} | {r['criterion']} | {r['form']} | "
                     f"{r['smallest_effect']:.4g} {r['unit']} | {r['rule']} | "
                     f"{_fmt(r['effect'])} | [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | "
                     f"{_row_passed(r)} |")
    lines += ["", "## Patterns", ""]
    for p in PATTERNS:
        rows = [r for r in summary if r["pattern"] == p.key]
        if not rows:
            continue
        lines += [f"### {p.key.split('_', 1)[0]}. {p.title} {p.evidence}", "",
                  f"Scenarios: {p.description}.", ""]
        for r in rows:
            verdict = "passed" if r["passed"] else "NOT passed"
            if r["form"] in ("design property", "comparison"):
                verdict += f" ({r['form']}, not evidence)"
            lines.append(f"- {r['criterion']} ({r['form']}; {r['rule']}): effect "
                         f"{_fmt(r['effect'])}, 95% interval [{_fmt(r['ci_low'])}, "
                         f"{_fmt(r['ci_high'])}]: {verdict}. Smallest meaningful effect: "
                         f"{r['smallest_effect']:.4g} {r['unit']}, {r['basis']}.")
        holds = [x for x in robust if x["pattern"] == p.key]
        if holds:
            broken = sorted({x["setting"] for x in holds if not x["passed"]})
            lines.append("- Robustness: " + ("holds at every other setting." if not broken
                                            else "breaks at " + "; ".join(broken) + "."))
        if p.key in figures:
            lines += ["", f"![{p.title}]({figures[p.key]})"]
        lines.append("")
    ranged = [r for r in summary if r.get("published") is not None]
    if ranged:
        lines += ["## Against published effect sizes", "",
                  "Simulated figures (mean and 95% interval over paired replicates) beside "
                  "the published ones: a comparison, not tuning.", "",
                  "| pattern | figure | simulated | 95% interval | published | overlaps |",
                  "|---|---|---|---|---|---|"]
        for r in ranged:
            low, high = r["published"]
            pub = f"{low:.4g}" if low == high else f"{low:.4g} to {high:.4g}"
            lines.append(f"| {r['pattern']} | {r['criterion']} | {r['effect']:.4g} | "
                         f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}] | {pub} | "
                         f"{_row_passed(r)} |")
        lines.append("")
    if levers is not None:
        from sim import decomposition as D

        section = D.markdown(levers)
        for outcome in dict.fromkeys(levers["outcome"]):
            key = f"decomposition:{outcome}"
            if key in figures:  # each outcome's figure after its table
                section = section.replace(f"### `{outcome}`",
                                          f"![{outcome}]({figures[key]})\n\n### `{outcome}`")
        lines += [section.replace("## Which lever", "## Regime decomposition: which lever", 1),
                  "", f"Run on the base scenario above with "
                  f"{settings.decomposition_replicates} paired replicates per cell; every "
                  f"effect is in `{DECOMPOSITION_FILE}`.", ""]
    if not calib.empty:
        lines += ["## Calibration of the status quo", "",
                  "The last year of the burn-in (informal, locally formed partnerships) over "
                  f"{calib['replicate'].nunique()} replicate maps: the mean with its 95% "
                  "interval, and the median, next to published figures for England. The "
                  "defaults were calibrated on the median map, because a few maps tip into "
                  "a low state (delayed discharges blocking acute capacity, acute staff "
                  "leaving) and pull the mean (docs/ODD.md, Calibration).", "",
                  "| measure | mean | 95% interval | median | published range | median in "
                  "range | mean in range | source |",
                  "|---|---|---|---|---|---|---|---|"]
        for measure, grp in calib.groupby("measure", sort=False):
            values = grp["value"].to_numpy()
            i = mean_interval(values)
            median = float(np.median(values))
            t = grp.iloc[0]

            def inside(x: float, t: pd.Series = t) -> str:
                return "yes" if t["low"] <= x <= t["high"] else "**no**"

            lines.append(f"| {measure} | {i.mean:.3f} | [{i.low:.3f}, {i.high:.3f}] | "
                         f"{median:.3f} | {t['low']:.3f}-{t['high']:.3f} | {inside(median)} | "
                         f"{inside(i.mean)} | {t['source']} |")
        lines.append("")
    for name in KEPT_SECTIONS:  # run on their own; not regenerated here
        kept = settings.out / f"{name}.md"
        if kept.is_file():
            start, end = markers(name)
            lines += [start, kept.read_text(encoding="utf-8").rstrip(), end, ""]
    if robust:
        lines += ["## Robustness", "",
                  f"Each pattern again at other plausible settings, {n_robust} paired "
                  "replicates each (a pattern that sets the same key itself keeps its own "
                  "value). Cells: passed criteria / criteria.", ""]
        settings = list(dict.fromkeys(x["setting"] for x in robust))
        lines += ["| pattern | " + " | ".join(settings) + " |",
                  "|---|" + "---|" * len(settings)]
        for p in PATTERNS:
            cells = []
            for s in settings:
                rows = [x for x in robust if x["pattern"] == p.key and x["setting"] == s]
                if rows:
                    cells.append(f"{sum(x['passed'] for x in rows)}/{len(rows)}")
            if cells:
                lines.append(f"| {p.key} | " + " | ".join(cells) + " |")
        fails = [x for x in robust if not x["passed"]]
        if fails:
            lines += ["", "Criteria that break:", ""]
            for x in fails:
                lines.append(f"- {x['setting']}: {x['pattern']}: {x['criterion']} (effect "
                             f"{x['effect']:+.4g}, [{x['ci_low']:+.4g}, {x['ci_high']:+.4g}])")
        lines.append("")
    return "\n".join(lines)
