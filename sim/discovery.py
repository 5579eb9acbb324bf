"""Scenario discovery: under which conditions one regime beats another.

A Latin hypercube over the declared uncertainties is run under two regimes with paired
replicates (the sweep does that); this module reads the results (it never runs a model):

- :func:`paired_effects`: per design point, the mean over replicates of the treatment's
  outcome minus the reference's, paired by replicate (common random numbers), with its
  standard error;
- :func:`find_boxes`: PRIM (the Patient Rule Induction Method) finds boxes of conditions
  (a range per parameter) where the treatment clearly helps, or clearly does worse;
- :func:`describe_box`, :func:`plot_tradeoff`, :func:`write_report`: the boxes in words,
  the peeling trade-off figure and the report with tidy tables.

PRIM is EMA Workbench's (:mod:`ema_workbench.analysis.prim`, Kwakkel's implementation
of Friedman and Fisher's algorithm as adapted for scenario discovery by Bryant and
Lempert, 2010): it is the implementation the field's scenario discovery studies use,
it peels and pastes, and it reports quasi-p-values for each restriction. Its import
costs several seconds (it pulls in seaborn, scikit-learn, statsmodels and altair), so it
is imported inside :func:`find_boxes` only.

**Which box is reported.** PRIM peels a trajectory of ever smaller, denser boxes. The
box chosen is the densest on the trajectory whose coverage of the cases still to be
explained is at least ``min_coverage`` (default one half); among steps within
``DENSITY_TIE`` (one point of density) of that density, the one with the highest
coverage, because peeling that buys less than a point of density is noise, not
structure. Restrictions whose quasi-p-value (EMA's one-sided binomial test, Bryant and
Lempert) is above ``significance`` are then dropped (EMA's ``drop_restriction``), so
that a parameter that does nothing is not reported as a condition. A box is kept only
if it restricts at least one parameter, at least half its points are cases (``min_density``)
and its density is significantly above the share of cases among the points searched
(one-sided binomial test); after a box is found, its
points are removed and PRIM looks for the next one, up to ``max_boxes``.

From Python, on results already on disk (``X_frame``: the design, one row per point)::

    from sim import discovery as sd
    effects = sd.paired_effects(runs, treatment="mandated", reference="local",
                                outcome="care_coordination")
    t = sd.default_threshold("care_coordination")
    boxes = [b for d in sd.DIRECTIONS
             for b in sd.find_boxes(X_frame, effects["effect"], threshold=t, direction=d)]
    sd.write_report(folder, effects=X_frame.join(effects), boxes=boxes,
                    settings={"treatment": "mandated", "reference": "local",
                              "outcome": "care_coordination", "threshold": t})
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

#: The two kinds of case: the treatment beats the reference by more than the threshold,
#: or does worse by more than it.
DIRECTIONS = ("helps", "worse")
#: Steps of the trajectory within this much density (share 0-1) of the densest eligible
#: one count as equally dense; the one with the most coverage is chosen.
DENSITY_TIE = 0.01
#: Columns of boxes.csv.
BOX_COLUMNS = ("box", "direction", "parameter", "low", "high", "coverage", "density", "mass")
#: Columns of trajectory.csv.
TRAJECTORY_COLUMNS = ("box", "direction", "step", "coverage", "density", "mass", "n",
                      "cases", "res_dim", "chosen")
REPORT = "discovery.md"
FIGURES = "figures"
TABLES = ("effects", "boxes", "trajectory")


@dataclass(frozen=True)
class Box:
    """One box of conditions PRIM found, with the trajectory it was chosen from.

    Attributes:
        name: ``<direction>-<i>`` (``helps-1``), unique in one analysis.
        direction: ``"helps"`` or ``"worse"``.
        threshold: the effect beyond which a point is a case (outcome units), or None if
            the cases were given as a boolean y.
        limits: the restricted parameters' ranges: ``{key: (low, high)}``, inclusive.
        ranges: the sampled range of every parameter: ``{key: (low, high)}``.
        p_values: each restriction's quasi-p-value (the smaller of its two sides').
        coverage: share 0-1 of all cases that lie in the box.
        density: share 0-1 of the box's points that are cases.
        mass: share 0-1 of all points that lie in the box.
        n: points in the box; cases: cases in it.
        total_cases: cases among all points; n_points: all points.
        trajectory: the peeling and pasting trajectory: step, coverage, density, mass, n,
            cases, res_dim (restricted parameters), chosen (the step chosen).
        dropped: restrictions of the chosen step dropped as not significant.
    """

    name: str
    direction: str
    threshold: float | None
    limits: dict[str, tuple[float, float]]
    ranges: dict[str, tuple[float, float]]
    p_values: dict[str, float]
    coverage: float
    density: float
    mass: float
    n: int
    cases: int
    total_cases: int
    n_points: int
    trajectory: pd.DataFrame = field(repr=False)
    dropped: tuple[str, ...] = ()


# --------------------------------------------------------------------------- effects
def paired_effects(runs: pd.DataFrame, *, treatment: str, reference: str,
                   outcome: str) -> pd.DataFrame:
    """Per design point: the treatment's paired effect on an outcome, over replicates.

    Replicate r of both regimes shares its seed (common random numbers), so the
    difference within a replicate removes most of the noise both runs share.

    Args:
        runs: one row per run: ``point``, ``replicate``, ``regime`` and ``outcome``.
        treatment, reference: the two values of ``regime`` to compare.
        outcome: the outcome column (outcome units).

    Returns:
        One row per point (sorted): point, effect (mean of treatment - reference over
        replicates, outcome units), se (its standard error; NaN with one pair), n_pairs,
        treatment_mean, reference_mean.

    Raises:
        ValueError: a column or regime is missing; a (point, replicate, regime) appears
            twice; a replicate lacks one regime of the pair (named); the outcome is not
            finite in a run of the pair.
    """
    need = ["point", "replicate", "regime", outcome]
    missing = [c for c in need if c not in runs.columns]
    if missing:
        raise ValueError(f"runs has no column(s) {missing}; it has {list(runs.columns)}")
    regimes = set(runs["regime"].unique())
    for name in (treatment, reference):
        if name not in regimes:
            raise ValueError(f"regime {name!r} is not in runs; it has {sorted(regimes)}")
    sub = runs[runs["regime"].isin([treatment, reference])]
    dup = sub.duplicated(["point", "replicate", "regime"])
    if dup.any():
        first = sub.loc[dup].iloc[0]
        raise ValueError(f"point {first['point']}, replicate {first['replicate']} has "
                         f"regime {first['regime']!r} twice; each must be one run")
    wide = sub.pivot(index=["point", "replicate"], columns="regime", values=outcome)
    lone = wide[~np.isfinite(wide[[treatment, reference]].to_numpy(float)).all(axis=1)]
    present = sub.set_index(["point", "replicate", "regime"]).index
    unpaired = [(p, r) for p, r in lone.index
                if (p, r, treatment) not in present or (p, r, reference) not in present]
    if unpaired:
        shown = ", ".join(f"point {p} replicate {r}" for p, r in unpaired[:5])
        more = f" and {len(unpaired) - 5} more" if len(unpaired) > 5 else ""
        raise ValueError(f"{len(unpaired)} run(s) miss their pair ({treatment} vs "
                         f"{reference}): {shown}{more}")
    if len(lone):
        p, r = lone.index[0]
        raise ValueError(f"{outcome} is not finite at point {p} replicate {r}; an undefined "
                         "outcome cannot be compared")
    diff = (wide[treatment] - wide[reference]).rename("d").reset_index()
    g = diff.groupby("point")["d"]
    out = pd.DataFrame({"effect": g.mean(), "se": g.std(ddof=1) / np.sqrt(g.count()),
                        "n_pairs": g.count().astype(int),
                        "treatment_mean": wide[treatment].groupby("point").mean(),
                        "reference_mean": wide[reference].groupby("point").mean()})
    return out.reset_index().sort_values("point").reset_index(drop=True)


def default_threshold(outcome: str) -> float:
    """The outcome's smallest meaningful difference from the registry (outcome units)."""
    from sim.outcome_spec import outcome as spec

    return spec(outcome).smallest_difference


def cases(effect: np.ndarray | pd.Series, *, threshold: float, direction: str,
          better: Literal["higher", "lower"] = "higher") -> np.ndarray:
    """Which points are cases: the effect beyond the threshold in the given direction.

    ``helps``: the treatment is better by more than ``threshold`` (effect > +threshold
    where higher is better, < -threshold where lower is); ``worse``: it is worse by more.

    Raises:
        ValueError: an unknown direction or ``better``, or a negative threshold.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r}; allowed: {', '.join(DIRECTIONS)}")
    if better not in ("higher", "lower"):
        raise ValueError(f"better={better!r}; allowed: higher, lower (the outcome's "
                         "registry says which; an outcome where neither is better has no "
                         "'helps')")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold={threshold!r} must be a finite size >= 0 (outcome "
                         "units)")
    signed = np.asarray(effect, dtype=float) * (1 if better == "higher" else -1)
    return signed > threshold if direction == "helps" else signed < -threshold


# --------------------------------------------------------------------------- PRIM
def find_boxes(X_frame: pd.DataFrame, y: np.ndarray | pd.Series, *, threshold: float | None,
               direction: str, peel_alpha: float = 0.05, mass_min: float = 0.05,
               better: Literal["higher", "lower"] = "higher", paste_alpha: float = 0.05,
               min_coverage: float = 0.5, min_density: float = 0.5, max_boxes: int = 2,
               significance: float = 0.05) -> list[Box]:
    """PRIM boxes of conditions where the cases concentrate (EMA Workbench's PRIM).

    Args:
        X_frame: one row per design point, one numeric column per parameter (dotted keys).
        y: the scored effect per point (outcome units; the cases are then
            :func:`cases` of it) or a boolean array of cases (threshold unused).
        threshold: size of effect that makes a case (outcome units); None only with a
            boolean y.
        direction: ``"helps"`` or ``"worse"``.
        peel_alpha: share 0-1 of points peeled per step (PRIM's alpha).
        mass_min: smallest box, as a share 0-1 of all points.
        better: which way the outcome is better (from the registry).
        paste_alpha: share 0-1 of points added per pasting step.
        min_coverage: least coverage 0-1 of the cases still to explain that the chosen
            box keeps (see the module's docstring for the rule).
        min_density: least density 0-1 of a box that is kept: a box where fewer than half
            the conditions are cases says more about where they are not.
        max_boxes: most boxes to find.
        significance: level of the quasi-p-values and of the box's binomial test.

    Returns:
        The boxes, best first; empty when there are no cases, or none concentrates them.
    """
    X_frame = X_frame.reset_index(drop=True)
    y_arr = np.asarray(y)
    if len(y_arr) != len(X_frame):
        raise ValueError(f"y has {len(y_arr)} values for {len(X_frame)} design points")
    non_numeric = [c for c in X_frame.columns if not pd.api.types.is_numeric_dtype(X_frame[c])]
    if non_numeric:
        raise ValueError(f"X_frame column(s) {non_numeric} are not numeric; PRIM here "
                         "restricts numeric uncertainties only")
    if y_arr.dtype == bool:
        case = y_arr
        if direction not in DIRECTIONS:
            raise ValueError(f"direction={direction!r}; allowed: {', '.join(DIRECTIONS)}")
    else:
        if threshold is None:
            raise ValueError("threshold is None but y is a scored effect; give a threshold "
                             "in outcome units, or a boolean y")
        case = cases(y_arr, threshold=threshold, direction=direction, better=better)
    if not 0 < min_coverage <= 1:
        raise ValueError(f"min_coverage={min_coverage!r} must be in (0, 1]")
    total = int(case.sum())
    if total == 0 or total == len(case):
        return []  # nothing to find, or cases everywhere: no condition separates them

    prim = _prim_module()
    ranges = {c: (float(X_frame[c].min()), float(X_frame[c].max())) for c in X_frame}
    with warnings.catch_warnings():
        # EMA's own use of pandas APIs that pandas has deprecated (inplace=True, ...)
        warnings.filterwarnings("ignore", module="ema_workbench")
        warnings.simplefilter("ignore", FutureWarning)
        return _peel_boxes(prim, X_frame, case, ranges, direction, threshold, peel_alpha,
                           paste_alpha, mass_min, min_coverage, min_density, max_boxes,
                           significance)


def _peel_boxes(prim, X_frame, case, ranges, direction, threshold, peel_alpha, paste_alpha,
                mass_min, min_coverage, min_density, max_boxes, significance) -> list[Box]:
    """Find boxes one after another (EMA removes each box's points before the next)."""
    from scipy.stats import binomtest

    p = prim.Prim(X_frame.astype(float), case.astype(int), peel_alpha=peel_alpha,
                  paste_alpha=paste_alpha, mass_min=mass_min)
    boxes: list[Box] = []
    taken = np.zeros(len(case), bool)  # points of the boxes found (EMA removes them)
    for i in range(max_boxes):
        remaining = np.flatnonzero(~taken)
        left = int(case[remaining].sum())
        if left == 0:
            break
        ema_box = p.find_box()
        if ema_box is None:
            break
        box = _choose(ema_box, p, case, remaining, left, ranges, direction, threshold,
                      f"{direction}-{i + 1}", min_coverage, significance)
        if box is None:
            break
        base = left / len(remaining)
        if not box.limits or box.density < min_density or binomtest(box.cases, box.n, base,
                                       alternative="greater").pvalue >= significance:
            break
        boxes.append(box)
        taken[ema_box.yi] = True
    return boxes


def _prim_module():
    import logging

    with warnings.catch_warnings():
        # "ipyparallel not installed": EMA's cluster evaluator, which discovery never uses
        warnings.simplefilter("ignore", UserWarning)
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def _restricted(lims: pd.DataFrame, ranges: Mapping[str, tuple[float, float]]
                ) -> dict[str, tuple[float, float]]:
    out = {}
    for c, (lo, hi) in ranges.items():
        low, high = float(lims[c].iloc[0]), float(lims[c].iloc[1])
        if low > lo or high < hi:
            out[c] = (low, high)
    return out


def _qp(values: Any) -> float:
    sides = [float(v) for v in values if v is not None and float(v) >= 0]  # -1: side free
    return min(sides) if sides else math.nan


def _choose(ema_box, p, case, remaining, left, ranges, direction, threshold, name,
            min_coverage, significance) -> Box | None:
    """Pick a step of EMA's trajectory by the module's rule and drop weak restrictions."""
    traj = ema_box.peeling_trajectory.reset_index(drop=True)
    cov_left = traj["k"].astype(float) / left
    eligible = traj[cov_left >= min_coverage * (1 - 1e-12)]
    if eligible.empty:
        return None
    top = eligible["density"].max()
    near = eligible[eligible["density"] >= top - DENSITY_TIE]
    step = int(near.sort_values(["coverage", "density"], ascending=False).index[0])
    ema_box.select(step)
    dropped = []
    current = step
    while True:
        limits = _restricted(ema_box.box_lims[current], ranges)
        qps = {k: _qp(v) for k, v in ema_box.p_values[current].items() if k in limits}
        weak = [k for k, q in qps.items() if math.isfinite(q) and q > significance]
        if not weak or len(limits) == 1:
            break
        worst = max(weak, key=lambda k: qps[k])
        ema_box.drop_restriction(worst)  # appends the wider box to the trajectory
        dropped.append(worst)
        current = len(ema_box.peeling_trajectory) - 1
    row = ema_box.peeling_trajectory.iloc[current]
    trajectory = pd.DataFrame({
        "step": traj.index.to_numpy(), "coverage": traj["coverage"].astype(float),
        "density": traj["density"].astype(float), "mass": traj["mass"].astype(float),
        "n": traj["n"].astype(int), "cases": traj["k"].astype(int),
        "res_dim": traj["res_dim"].astype(int), "chosen": traj.index == step})
    return Box(name=name, direction=direction, threshold=threshold, limits=limits,
               ranges=dict(ranges), p_values={k: qps.get(k, math.nan) for k in limits},
               coverage=float(row["coverage"]), density=float(row["density"]),
               mass=float(row["mass"]), n=int(row["n"]), cases=int(row["k"]),
               total_cases=int(case.sum()), n_points=len(case), trajectory=trajectory,
               dropped=tuple(dropped))


# --------------------------------------------------------------------------- words
def _num(x: float) -> str:
    return f"{x:.3g}"


def condition(key: str, low: float, high: float, ranges: Mapping[str, tuple[float, float]]
              ) -> str:
    """One restriction in words: ``x is below 0.34`` / ``above`` / ``between a and b``."""
    lo, hi = ranges.get(key, (-math.inf, math.inf))
    if low <= lo:
        return f"{key} is below {_num(high)}"
    if high >= hi:
        return f"{key} is above {_num(low)}"
    return f"{key} is between {_num(low)} and {_num(high)}"


def describe_box(box: Box, *, outcome_label: str, treatment: str, reference: str,
                 threshold_text: str | None = None) -> str:
    """The box in words a policy reader understands, with its mass, density and coverage.

    Args:
        box: a box of :func:`find_boxes`.
        outcome_label: the outcome in words (``care coordination``).
        treatment, reference: the two regimes, as the reader knows them.
        threshold_text: the threshold in words (``1 percentage point``); default the
            box's threshold as a plain number in outcome units.
    """
    where = " and ".join(condition(k, lo, hi, box.ranges) for k, (lo, hi) in box.limits.items())
    if threshold_text is None and box.threshold is not None:
        threshold_text = f"{box.threshold:g}"
    by = f" by more than {threshold_text}" if threshold_text else ""
    what = (f"{treatment} beats {reference} on {outcome_label}{by}" if box.direction == "helps"
            else f"{treatment} does clearly worse than {reference} on {outcome_label}{by}")
    return (f"Where {where} ({box.mass:.0%} of the conditions sampled), {what} in "
            f"{box.density:.0%} of cases (density), and this box holds {box.coverage:.0%} of "
            f"all such cases (coverage).")


def threshold_words(outcome: str | None, threshold: float) -> str:
    """A threshold in the outcome's shown unit (``1 percentage point``), from the registry.

    An outcome that is not registered (or None) gets the plain number.
    """
    from sim import wording
    from sim.outcome_spec import UnknownOutcome

    try:
        size = threshold * wording.scale(outcome)
        unit = wording.difference_unit(outcome)
    except (UnknownOutcome, TypeError):
        return f"{threshold:g}"
    if size == 1 and unit.endswith("s") and unit.count(" ") <= 1:
        unit = unit[:-1]  # 1 percentage point, as sim.wording.threshold_text says it
    return f"{size:g} {unit}"


# --------------------------------------------------------------------------- figure
def plot_tradeoff(box: Box, path: str | os.PathLike) -> Path:
    """The peeling trajectory as coverage against density, the chosen box marked."""
    from sim.plots import pyplot

    plt = pyplot()
    t = box.trajectory
    fig, ax = plt.subplots(figsize=(6, 4.5))
    pts = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=16,
                     zorder=2)
    from matplotlib.ticker import MaxNLocator

    fig.colorbar(pts, ax=ax, label="parameters restricted",
                 ticks=MaxNLocator(integer=True))
    chosen = t[t["chosen"]]
    ax.scatter(chosen["coverage"], chosen["density"], s=110, facecolors="none",
               edgecolors="tab:red", lw=1.5, zorder=3, label="chosen step")
    ax.scatter([box.coverage], [box.density], marker="*", s=160, color="tab:red", zorder=4,
               label="reported box" + (" (weak restrictions dropped)" if box.dropped else ""))
    ax.set_xlabel("coverage (share of all cases in the box)", fontsize=8)
    ax.set_ylabel("density (share of the box's points that are cases)", fontsize=8)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"PRIM peeling trajectory: {box.name}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


# --------------------------------------------------------------------------- report
def _tables(effects: pd.DataFrame, boxes: Sequence[Box], settings: Mapping[str, Any]
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if "effect" not in effects.columns:
        raise ValueError(f"effects has no 'effect' column; it has {list(effects.columns)} "
                         "(per point: the parameters, effect and se, as paired_effects gives "
                         "them joined to the design)")
    effects = effects.copy()
    for direction in DIRECTIONS:
        col = f"case_{direction}"
        if col in effects:
            continue
        if "threshold" not in settings:
            raise ValueError(f"effects has no {col!r} column and settings has no "
                             "'threshold' to compute it from (outcome units)")
        effects[col] = cases(effects["effect"], threshold=float(settings["threshold"]),
                             direction=direction, better=settings.get("better", "higher"))
    rows = [{"box": b.name, "direction": b.direction, "parameter": k, "low": lo,
             "high": hi, "coverage": b.coverage, "density": b.density, "mass": b.mass}
            for b in boxes for k, (lo, hi) in b.limits.items()]
    box_table = pd.DataFrame(rows, columns=list(BOX_COLUMNS))
    traj = [b.trajectory.assign(box=b.name, direction=b.direction) for b in boxes]
    trajectory = (pd.concat(traj, ignore_index=True)[list(TRAJECTORY_COLUMNS)] if traj
                  else pd.DataFrame(columns=list(TRAJECTORY_COLUMNS)))
    return effects, box_table, trajectory


def _markdown(effects: pd.DataFrame, boxes: Sequence[Box], settings: Mapping[str, Any],
              figures: Mapping[str, str]) -> str:
    treatment = str(settings.get("treatment", "the treatment"))
    reference = str(settings.get("reference", "the reference"))
    name = settings.get("outcome")
    label = str(name).replace("_", " ") if name else "the outcome"
    threshold_text = settings.get("threshold_text")
    if threshold_text is None and "threshold" in settings:
        threshold_text = threshold_words(name, float(settings["threshold"]))
    lines = ["# Scenario discovery", "",
             f"Under which conditions {treatment} beats {reference} on {label}, and where it "
             "does clearly worse: PRIM (EMA Workbench) on the paired effect at each point "
             "of a Latin hypercube over the declared uncertainties.", "",
             "## What was run", ""]
    lines += [f"- {k}: {v}" for k, v in settings.items()]
    lines += ["", "Each point's effect is the mean over replicates of the treatment's "
              "outcome minus the reference's, paired by replicate (common random numbers), "
              "so that replicate noise both runs share cancels.", "",
              "Coverage: share of all cases that lie in the box. Density: share of the "
              "box's points that are cases. Mass: share of all conditions sampled that lie "
              "in the box. The box reported is the densest step of PRIM's trajectory that "
              "keeps at least the stated coverage; restrictions that are not significant "
              "(quasi-p-value) are dropped.", ""]
    n = len(effects)
    for direction in DIRECTIONS:
        found = [b for b in boxes if b.direction == direction]
        k = int(effects[f"case_{direction}"].sum())
        title = "Where it helps" if direction == "helps" else "Where it does clearly worse"
        lines += [f"## {title}", "",
                  f"{k} of {n} points ({k / n:.0%}) are cases." if n else "No points.", ""]
        if not found:
            why = (" (there are none)" if k == 0 else
                   "; they are the common case, found across most of the conditions sampled"
                   if n and k / n > 0.5 else
                   "; with few cases, more points would be needed to tell" if k < 10 else "")
            lines += [f"No box was found: PRIM found no region of the conditions sampled "
                      f"where these cases concentrate{why}.", ""]
        for b in found:
            lines += [f"### {b.name}", "",
                      describe_box(b, outcome_label=label, treatment=treatment,
                                   reference=reference, threshold_text=threshold_text), "",
                      f"Coverage {b.coverage:.0%}, density {b.density:.0%}, mass "
                      f"{b.mass:.0%} ({b.cases} cases in {b.n} points).", "",
                      "| parameter | low | high | quasi-p |", "|---|---:|---:|---:|"]
            for key, (lo, hi) in b.limits.items():
                lines.append(f"| {key} | {_num(lo)} | {_num(hi)} | {b.p_values[key]:.2g} |")
            if b.dropped:
                lines += ["", f"Dropped as not significant: {', '.join(b.dropped)}."]
            if b.name in figures:
                lines += ["", f"![{b.name}]({figures[b.name]})"]
            lines.append("")
    lines += ["Tables: effects.csv, boxes.csv, trajectory.csv (and .parquet) beside this "
              "report.", ""]
    return "\n".join(lines)


def _own() -> set[str]:
    """The entries :func:`write_report` writes into its folder."""
    return {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")} | {REPORT, FIGURES}


def write_report(folder: str | os.PathLike, *, effects: pd.DataFrame, boxes: Sequence[Box],
                 settings: Mapping[str, Any]) -> Path:
    """Write the tables, trade-off figures and ``discovery.md`` into ``folder``, atomically.

    Written into a temporary sibling folder that replaces ``folder`` in one rename
    (:func:`sim.results.commit_folder`); on any error nothing is left of it and an
    earlier ``folder`` is as it was. A ``folder`` holding files this function does not
    write is never replaced (FileExistsError).

    Args:
        folder: the report folder, e.g. ``<sweep>/discovery``.
        effects: per point: the parameters, ``effect`` and ``se`` (outcome units);
            ``case_helps`` / ``case_worse`` are added from ``settings["threshold"]`` and
            ``settings.get("better", "higher")`` unless present.
        boxes: the boxes of :func:`find_boxes` (both directions).
        settings: what was run (``treatment``, ``reference``, ``outcome``, ``threshold``,
            optionally ``threshold_text`` and anything else), listed in the report.

    Returns:
        ``folder``.
    """
    from sim.results import replacing_folder

    final = Path(folder)
    with replacing_folder(final, _own(), FIGURES) as tmp:
        effects, box_table, trajectory = _tables(effects, boxes, settings)
        for name, table in (("effects", effects), ("boxes", box_table),
                            ("trajectory", trajectory)):
            table.to_csv(tmp / f"{name}.csv", index=False)
            table.to_parquet(tmp / f"{name}.parquet", index=False)
        figures = {}
        for b in boxes:
            rel = f"{FIGURES}/tradeoff_{b.name}.png"
            plot_tradeoff(b, tmp / rel)
            figures[b.name] = rel
        (tmp / REPORT).write_text(_markdown(effects, boxes, settings, figures),
                                  encoding="utf-8")
    return final
