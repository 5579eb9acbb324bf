"""Per-area effects of a sweep: each scenario against its reference, area by area.

For a sweep whose system has more than one area (``system=england``: 42 ICBs), the
report (:func:`sim.report.build_report`) calls :func:`build_area_effects`, which reads
each complete run's by-area table (``by_area.parquet``; analysis never re-runs the
model) and writes into the report folder::

    by_area_effects.csv   per compared scenario, main outcome and area: the paired
                          difference of the area's final-year mean (scenario - reference,
                          replicate by replicate) with its 95% t-interval, the reference's
                          mean, whether the interval excludes 0, the judgement, and the
                          area's conditions at the switch
    by_area_context.csv   per compared scenario, main outcome and condition: Spearman's
                          rank correlation, over areas, of the effect with the condition
    figures/areas_forest_<i>.png, figures/areas_map_<i>.png
                          for the i-th compared scenario: forest plots sorted by effect,
                          and a map of the areas' centres sized by population and coloured
                          by effect (England's ICBs only: centres from sim/england.py)

and returns the report's section (:attr:`AreaEffects.section`). Statistics are the
report's: an area's outcome in a run is its mean over the final year under the regime
(as the run's summary is for the nation), and the paired intervals come from
:func:`sim.stats.paired_interval`, judged by :func:`sim.wording.judge`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim import wording
from sim.outcome_spec import BY_AREA, MAIN_OUTCOMES, SUMMARY_WEEKS, outcome
from sim.results import AREAS, read_by_area
from sim.stats import paired_interval
from sim.sweep_store import spreadsheet_safe

#: The conditions at the switch an area's effect is correlated with: name -> meaning.
#: Values are each area's at the last week of the burn-in (the status quo the regime
#: meets), averaged over the reference scenario's replicates; population and history
#: are the area's own (:func:`with_places`).
CONDITIONS: dict[str, str] = {
    "population": "resident population (ONS mid-2022; England's ICBs only)",
    "history": "history score of integration programmes: (any pioneer site + an early "
               "ICS) / 2, 0, 1/2 or 1 (sim/data/england/history.csv; England's ICBs only)",
    "providers": "providers in the area",
    "vacancy_rate": "vacancy rate at the switch",
    "mean_trust": "mean trust in partnerships at the switch",
    "mean_belief": "staff faith in collaboration at the switch",
    "partners_per_provider": "partnerships per provider at the switch (each partnership "
                             "counted at both ends)",
    "care_coordination": "care coordination at the switch",
}
#: The outcomes drawn in the forest plots and maps (every main outcome is in the tables).
FIGURE_OUTCOMES: tuple[str, ...] = ("care_coordination", "mean_trust", "vacancy_rate",
                                    "unmet_demand")
#: A condition "goes with" an effect when Spearman's two-sided p-value is below this.
SIGNIFICANCE = 0.05
#: Fewest areas with a defined effect for a rank correlation.
MIN_AREAS = 5
#: Columns of by_area_effects.csv before the conditions.
EFFECT_COLUMNS: tuple[str, ...] = (
    "scenario", "reference", "outcome", "area", "area_code", "area_name", "n_pairs",
    "effect", "sd", "ci_low", "ci_high", "reference_mean", "clear", "judgement")
#: Columns of by_area_context.csv.
CONTEXT_COLUMNS: tuple[str, ...] = ("scenario", "reference", "outcome", "condition", "rho",
                                    "p_value", "n_areas")

#: The tables :func:`build_area_effects` writes into the report folder.
EFFECTS_FILE, CONTEXT_FILE = "by_area_effects.csv", "by_area_context.csv"


@dataclass
class AreaEffects:
    """What :func:`build_area_effects` found and wrote.

    Attributes:
        effects: by_area_effects.csv as a DataFrame (:data:`EFFECT_COLUMNS` and one
            column per condition).
        context: by_area_context.csv as a DataFrame (:data:`CONTEXT_COLUMNS`).
        areas: one row per area (``area``, ``area_code``, ``area_name``, ``providers``,
            and ``population``, ``x_km``, ``y_km``, ``history`` where the areas are
            England's ICBs).
        figures: figure name -> path relative to the report folder.
        section: the report's markdown lines for the per-area effects.
    """

    effects: pd.DataFrame
    context: pd.DataFrame
    areas: pd.DataFrame
    figures: dict[str, str] = field(default_factory=dict)
    section: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading
def final_year(table: pd.DataFrame, window: int = SUMMARY_WEEKS) -> pd.DataFrame:
    """Each area's by-area outcomes averaged over the final ``window`` weeks under the
    regime, as :func:`sim.outcomes.summarise` averages the nation's (undefined weeks
    skipped; without policy weeks, the run's last ``window`` weeks). Index: ``area``."""
    weeks = np.sort(table["week"].unique())
    policy = weeks[weeks >= 0]
    kept = (policy if len(policy) else weeks)[-window:]
    rows = table[table["week"].isin(kept)]
    return rows.groupby("area", sort=True)[list(BY_AREA)].mean()


def at_switch(table: pd.DataFrame) -> pd.DataFrame | None:
    """Each area's conditions at the switch (the last burn-in week), or None without a
    burn-in. Index: ``area``; columns: the by-area conditions of :data:`CONDITIONS`."""
    last = table[table["week"] == -1]
    if last.empty:
        return None
    last = last.set_index("area")
    out = pd.DataFrame(index=last.index)
    out["providers"] = last["providers"].astype(float)
    for name in ("vacancy_rate", "mean_trust", "mean_belief", "care_coordination"):
        out[name] = last[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["partners_per_provider"] = 2.0 * last["n_partnerships"] / last["providers"]
    return out


class MixedAreas(ValueError):
    """The runs of a sweep do not share one set of areas (e.g. it sweeps the system)."""


def read_areas(runs: pd.DataFrame, run_dirs: dict[str, Path]
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """The final-year per-area outcomes and switch conditions of every complete run.

    Returns:
        ``(finals, conditions, areas)``: one row per run and area (``scenario``, ``seed``,
        ``replicate``, ``area`` and the by-area outcomes, resp. the conditions), and the
        areas of the first run (``areas.csv``); None if no complete run has a by-area
        table or the runs have fewer than two areas.

    Raises:
        MixedAreas: two runs have different areas (index, code or name); the message
            names the two jobs.
    """
    done = runs[runs["status"] == "complete"]
    areas, first = None, None
    for row in done.itertuples(index=False):  # first the areas: small files
        path = run_dirs[row.job] / AREAS
        if not path.is_file():  # written before areas were recorded
            continue
        mine = pd.read_csv(path, keep_default_na=False,
                           dtype={"area_code": str, "area_name": str})
        if areas is None:
            areas, first = mine, row.job
        elif not mine[["area", "area_code", "area_name"]].equals(
                areas[["area", "area_code", "area_name"]]):
            raise MixedAreas(f"runs {first} and {row.job} have different areas")
    if areas is None or len(areas) < 2:  # one area: the nation is the area
        return None
    finals, conditions = [], []
    for row in done.itertuples(index=False):
        table = read_by_area(run_dirs[row.job])
        if table is None:
            continue
        keys = {"scenario": row.scenario, "seed": row.seed, "replicate": row.replicate}
        finals.append(final_year(table).reset_index().assign(**keys))
        switch = at_switch(table)
        if switch is not None:
            conditions.append(switch.reset_index().assign(**keys))
    if not finals:
        return None
    cond = pd.concat(conditions, ignore_index=True) if conditions else pd.DataFrame()
    return pd.concat(finals, ignore_index=True), cond, areas


def with_places(areas: pd.DataFrame) -> pd.DataFrame:
    """``areas`` with ``population``, ``x_km``, ``y_km`` (sim/england.py) and ``history``
    (the history score, sim/england_context.py) where every area code is an ICB's
    (otherwise unchanged: a synthetic or user map has no places)."""
    from sim.england import load_icbs
    from sim.england_context import load_history

    icbs = load_icbs()
    index = {code: i for i, code in enumerate(icbs.codes)}
    codes = areas["area_code"].astype(str)
    if not codes.map(lambda c: c in index).all():
        return areas
    at = codes.map(index).to_numpy()
    return areas.assign(population=icbs.population[at].astype(float),
                        x_km=icbs.centre_km[at, 0], y_km=icbs.centre_km[at, 1],
                        history=load_history().score[at].astype(float))


# --------------------------------------------------------------------------- statistics
def effect_table(finals: pd.DataFrame, refs: dict[str, str], areas: pd.DataFrame,
                 outcomes: Sequence[str] = MAIN_OUTCOMES) -> pd.DataFrame:
    """Per compared scenario, outcome and area: the paired difference with its 95% CI.

    Pairs are runs with the same seed and replicate (common random numbers), as in the
    report's differences; an area's value in a run is its final-year mean.
    """
    key = ["seed", "replicate", "area"]
    rows = []
    for name, ref in refs.items():
        a = finals[finals["scenario"] == name].drop_duplicates(key).set_index(key)
        b = finals[finals["scenario"] == ref].drop_duplicates(key).set_index(key)
        both = a.index.intersection(b.index)
        for col in outcomes:
            # one row per pair of runs, one column per area
            xa = a.loc[both, col].unstack("area").reindex(columns=areas["area"])
            xb = b.loc[both, col].unstack("area").reindex(columns=areas["area"])
            ref_means = b[col].groupby(level="area").mean()
            for area in areas.itertuples(index=False):
                i = paired_interval(xa[area.area].to_numpy(dtype=float),
                                    xb[area.area].to_numpy(dtype=float))
                rows.append({"scenario": name, "reference": ref, "outcome": col,
                             "area": area.area, "area_code": area.area_code,
                             "area_name": area.area_name, "n_pairs": i.n,
                             "effect": i.mean, "sd": i.sd, "ci_low": i.low,
                             "ci_high": i.high,
                             "reference_mean": float(ref_means.get(area.area, math.nan)),
                             "clear": bool(i.n >= 2 and i.excludes(0.0)),
                             "judgement": wording.judge(col, i.mean, i.low, i.high, i.n)})
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def area_conditions(conditions: pd.DataFrame, areas: pd.DataFrame,
                    reference: str | None) -> pd.DataFrame:
    """Each area's conditions (:data:`CONDITIONS`): the mean over the reference scenario's
    replicates of its values at the switch, and its population. Index: ``area``."""
    out = pd.DataFrame(index=pd.Index(areas["area"], name="area"))
    own = [name for name in ("population", "history") if name in areas]
    for name in own:
        out[name] = areas.set_index("area")[name]
    if len(conditions) and reference is not None:
        mine = conditions[conditions["scenario"] == reference]
        means = mine.groupby("area").mean(numeric_only=True)
        for name in CONDITIONS:
            if name in means and name not in own:
                out[name] = means[name]
    return out[[c for c in CONDITIONS if c in out]]


def context_table(effects: pd.DataFrame, conditions: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rank correlation, over areas, of each effect with each condition.

    Areas whose effect or condition is undefined are left out; a correlation needs at
    least :data:`MIN_AREAS` areas and some spread in both (otherwise it is not listed).
    """
    from scipy import stats

    rows = []
    for (name, ref, col), sub in effects.groupby(["scenario", "reference", "outcome"],
                                                 sort=False):
        sub = sub.set_index("area")
        for cond in conditions:
            x = sub["effect"].to_numpy(dtype=float)
            y = conditions[cond].reindex(sub.index).to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < MIN_AREAS or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
                continue
            rho, p = stats.spearmanr(x[ok], y[ok])
            rows.append({"scenario": name, "reference": ref, "outcome": col,
                         "condition": cond, "rho": float(rho), "p_value": float(p),
                         "n_areas": int(ok.sum())})
    return pd.DataFrame(rows, columns=list(CONTEXT_COLUMNS))


# --------------------------------------------------------------------------- the report
def build_area_effects(runs: pd.DataFrame, run_dirs: dict[str, Path], refs: dict[str, str],
                       national: pd.DataFrame, out_dir: str | os.PathLike, *,
                       figures: bool = True, title: str = "") -> AreaEffects | None:
    """Per-area effects of a sweep, written into the report folder ``out_dir``.

    Args:
        runs: the report's tidy table (``job``, ``scenario``, ``seed``, ``replicate``,
            ``status``).
        run_dirs: each complete run's folder by job.
        refs: each compared scenario's reference scenario.
        national: the report's difference table (national paired differences), for the
            dashed line of the forest plots.
        out_dir: the report folder being written (tables there, figures in
            ``figures/``).
        figures: draw the forest plots and maps.
        title: the report's title, for the figures.

    Returns:
        What was written, with the report's section; None (nothing written) when the
        runs have one area, no by-area table, or nothing is compared.
    """
    if not refs:
        return None
    try:
        found = read_areas(runs, run_dirs)
    except MixedAreas as err:  # said in the report, never compared area by area
        return AreaEffects(pd.DataFrame(columns=list(EFFECT_COLUMNS)),
                           pd.DataFrame(columns=list(CONTEXT_COLUMNS)), pd.DataFrame(),
                           section=["## Effects by area", "",
                                    f"Not computed: {err}, so areas cannot be paired "
                                    "between scenarios.", ""])
    if found is None:
        return None
    finals, conditions, areas = found
    areas = with_places(areas)
    outcomes = [c for c in MAIN_OUTCOMES if c in finals]
    effects = effect_table(finals, refs, areas, outcomes)
    # each compared scenario meets the conditions of its own reference's runs
    cond_of = {ref: area_conditions(conditions, areas, ref) for ref in set(refs.values())}
    parts = [(effects[effects["scenario"] == name], cond_of[ref])
             for name, ref in refs.items()]
    context = pd.concat([context_table(rows, cond) for rows, cond in parts],
                        ignore_index=True)
    effects = pd.concat([rows.join(cond, on="area") for rows, cond in parts],
                        ignore_index=True)
    out = Path(out_dir)
    # names from a user's provider file could read as formulas in a spreadsheet
    spreadsheet_safe(effects).to_csv(out / EFFECTS_FILE, index=False)
    spreadsheet_safe(context).to_csv(out / CONTEXT_FILE, index=False)
    result = AreaEffects(effects, context, areas)
    if figures:
        result.figures = _figures(effects, areas, refs, national, out, title)
    result.section = section(result, refs)
    return result


def _figures(effects: pd.DataFrame, areas: pd.DataFrame, refs: dict[str, str],
             national: pd.DataFrame, out: Path, title: str) -> dict[str, str]:
    from sim.plots import area_forest_figure, area_map_figure

    figs: dict[str, str] = {}
    shown = [c for c in FIGURE_OUTCOMES if c in set(effects["outcome"])]
    if not shown:
        return figs
    places = areas.set_index("area")
    for i, (name, ref) in enumerate(refs.items()):
        mine = effects[effects["scenario"] == name]
        label = f"{name} − {ref}"
        panels = []
        for col in shown:
            rows = mine[mine["outcome"] == col]
            nat = national[(national["scenario"] == name) & (national["outcome"] == col)] \
                if len(national) else national
            panels.append((col, rows, float(nat["difference"].iloc[0]) if len(nat) else None))
        forest = f"figures/areas_forest_{i}.png"
        area_forest_figure(panels, out / forest,
                           title=f"{title}: {label} by area (final-year mean, 95% CI)")
        figs[f"areas_forest_{i}"] = forest
        if {"x_km", "y_km", "population"} <= set(places.columns):
            # population is among the effects' conditions already
            map_panels = [(col, mine[mine["outcome"] == col].join(
                places[["x_km", "y_km"]], on="area")) for col in shown]
            where = f"figures/areas_map_{i}.png"
            area_map_figure(map_panels, out / where, title=f"{label} by area")
            figs[f"areas_map_{i}"] = where
    return figs


def outcomes_of(effects: pd.DataFrame) -> list[str]:
    """The outcomes of an effect table, in table order."""
    return list(dict.fromkeys(effects["outcome"]))


def _goes_with(context: pd.DataFrame, name: str, col: str) -> str:
    """The conditions whose rank correlation with the effect is significant, strongest
    first: ``mean_trust (ρ = +0.52)``, or ``none``."""
    rows = context[(context["scenario"] == name) & (context["outcome"] == col)
                   & (context["p_value"] < SIGNIFICANCE)]
    if rows.empty:
        return "none"
    rows = rows.reindex(rows["rho"].abs().sort_values(ascending=False).index)
    return ", ".join(f"{r.condition} (ρ = {r.rho:+.2f})".replace("-", "−")
                     for r in rows.itertuples(index=False))


def section(result: AreaEffects, refs: dict[str, str]) -> list[str]:
    """The report's markdown section on per-area effects."""
    effects, context = result.effects, result.context
    n_areas = len(result.areas)
    pairs = int(effects["n_pairs"].max()) if len(effects) else 0
    lines = ["## Effects by area", "",
             f"Each of the {n_areas} areas on its own: the paired difference of the area's "
             "final-year mean (scenario − reference, replicate by replicate, over up to "
             f"{pairs} pairs) with its 95% interval, as for the nation above. An area "
             "moves **clearly** when its interval excludes 0; *up* and *down* say which "
             "way. Table: `by_area_effects.csv` (with each area's conditions at the "
             "switch).", ""]
    for i, (name, ref) in enumerate(refs.items()):
        mine = effects[effects["scenario"] == name]
        lines += [f"### {name} − {ref}", "",
                  "| outcome | areas clearly up | clearly down | unclear | conditions "
                  "that go with the effect |", "|---|---|---|---|---|"]
        for col in outcomes_of(mine):
            rows = mine[mine["outcome"] == col]
            up = int((rows["clear"] & (rows["effect"] > 0)).sum())
            down = int((rows["clear"] & (rows["effect"] < 0)).sum())
            better = outcome(col).better
            up_word = f"{up}" + (" (better)" if better == "higher" and up else
                                 " (worse)" if better == "lower" and up else "")
            down_word = f"{down}" + (" (better)" if better == "lower" and down else
                                     " (worse)" if better == "higher" and down else "")
            lines.append(f"| {col} | {up_word} | {down_word} | {len(rows) - up - down} "
                         f"| {_goes_with(context, name, col)} |")
        lines.append("")
        forest, where = f"areas_forest_{i}", f"areas_map_{i}"
        if forest in result.figures:
            lines += [f"Forest plots of {', '.join(FIGURE_OUTCOMES)}: areas sorted by "
                      "effect, bars the 95% intervals; blue clearly better, red clearly "
                      "worse, grey unclear; the dashed line is the national effect.", "",
                      f"![{name} − {ref} by area]({result.figures[forest]})", ""]
        if where in result.figures:
            lines += ["The same effects on a map: each area at its centre (ONS centroid, "
                      "British National Grid), sized by population, coloured by its effect "
                      "(blue better, red worse, white none); pale dots without an outline "
                      "are unclear.", "",
                      f"![{name} − {ref} on a map]({result.figures[where]})", ""]
        elif forest in result.figures:
            lines += ["No map: the areas are not England's ICBs, so they have no centres "
                      "to draw.", ""]
    names = "; ".join(f"*{k}*: {v}" for k, v in CONDITIONS.items())
    counts = [c for c in outcomes_of(effects) if outcome(c).kind == "count"]
    lines += ["**Which conditions go with the effect**: for each outcome, Spearman's rank "
              "correlation, over areas, between an area's effect and each of its conditions "
              "at the switch (the last burn-in week, mean over the reference's replicates): "
              f"{names}. A condition is listed when the two-sided p-value "
              "(`scipy.stats.spearmanr`) is below "
              f"{SIGNIFICANCE:g}, strongest first, with ρ > 0 meaning larger effects where "
              "the condition is higher. This is an association across areas, not a cause: "
              "conditions travel together (larger areas have more providers), and with "
              "many outcomes and conditions about 1 in 20 pairs pass by chance. "
              + (f"Effects on counts ({', '.join(counts)}) grow with an area's size, so "
                 "they go with population and providers by construction. " if counts else "")
              + "Every correlation is in `by_area_context.csv`.", ""]
    return lines
