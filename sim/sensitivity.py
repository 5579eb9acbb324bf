"""Global sensitivity analysis of a sweep's results: which uncertain assumptions drive outcomes.

Two standard methods from SALib, run on results already on disk (nothing here runs or
steps a model):

- **Morris screening** (elementary effects, :func:`morris_indices`): cheap, ranks every
  declared uncertainty by ``mu_star`` (the mean absolute change of an outcome when the
  parameter moves one step of its range), so that :func:`screen` can drop those that do
  nothing before the costly Sobol design.
- **Sobol indices** (:func:`sobol_indices`): the share of an outcome's variance across the
  sampled assumptions that each parameter explains alone (first order, ``S1``) and with
  all its interactions (total, ``ST``), with bootstrap confidence intervals;
  :func:`sobol_convergence` repeats them on the first N/8, N/4, N/2 and N base samples
  and :func:`needed_base_samples` estimates how many base samples would let the top
  indices be ranked.

Inputs are plain SALib objects and tidy tables, so the functions work on any results
(the sweep's loader, a notebook, a synthetic test function):

- ``problem``: SALib's ``{"num_vars": k, "names": [dotted keys], "bounds": [[lo, hi], ...]}``;
- ``X``: the design matrix (points x k), row i = design point i, in SALib's sample order;
- ``runs``: one row per run with ``point`` (row of X), ``replicate`` and one float column
  per outcome (a run's final-year mean).

**Replicate noise.** Each design point is run with the same replicates (common random
numbers: replicate r has the same seed at every point). The indices are computed on the
replicate means (:func:`point_means`), so that the variance they apportion is mostly the
parameters'; :func:`noise_share` measures how much of the runs' spread is replicate
noise, and how much of it is left in the means.

From Python, on results already on disk::

    from sim import sensitivity as sa
    m = sa.morris_indices(problem_m, X_m, runs_m, outcomes, num_levels=4)
    kept = sa.screen(m)                       # the Sobol problem's names
    s = sa.sobol_indices(problem_s, runs_s, outcomes)
    sa.write_report(folder, morris=m, sobol=s, noise=sa.noise_share(runs_s, outcomes),
                    convergence=sa.sobol_convergence(problem_s, runs_s, outcomes),
                    screened=kept, settings={"system": "teaching"})
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Columns of the Morris table (:func:`morris_indices`).
MORRIS_COLUMNS = ("outcome", "parameter", "mu", "mu_star", "mu_star_low", "mu_star_high",
                  "sigma", "rank")
#: Columns of the Sobol table (:func:`sobol_indices`).
SOBOL_COLUMNS = ("outcome", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low",
                 "ST_high", "rank", "rankable", "n_base")
#: Columns of the noise table (:func:`noise_share`).
NOISE_COLUMNS = ("outcome", "replicates", "noise_variance", "total_variance", "noise_share",
                 "mean_noise_share")
#: A total index at or above this "explains most of the variation" (share 0-1).
MOST = 0.5
#: First-order index below this share of the total: the parameter acts mostly through
#: interactions with others (share 0-1 of ST), if ST itself is at least ``NOTABLE``.
THROUGH_INTERACTIONS = 0.5
#: A total index below this is not worth a sentence of its own (share 0-1 of variance).
NOTABLE = 0.05
#: Noise left in the replicate means above this share of their variance gets a sentence
#: on the bias it adds to every total index (share 0-1).
NOISE_BIAS = 0.05
#: How many of the top-ranked parameters :func:`needed_base_samples` wants ranked.
TOP = 3
#: Base sample sizes beyond this are reported as out of reach (2**20 base samples).
LARGEST_BASE = 2 ** 20
#: Files :func:`write_report` writes (so that it replaces only a folder of its own).
TABLES = ("morris", "sobol", "convergence", "noise")
REPORT = "sensitivity.md"
FIGURES = "figures"


# --------------------------------------------------------------------------- tables
def _check_runs(runs: pd.DataFrame, outcomes: Sequence[str],
                extra: Sequence[str] = ()) -> list[str]:
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("no outcomes given; name at least one column of runs")
    need = ["point", "replicate", *extra, *outcomes]
    missing = [c for c in need if c not in runs.columns]
    if missing:
        raise ValueError(f"runs has no column(s) {missing}; it has {list(runs.columns)} "
                         f"(one row per run: point, replicate{', ' if extra else ''}"
                         f"{', '.join(extra)} and one column per outcome)")
    return outcomes


def _names(points: Sequence[Any], limit: int = 10) -> str:
    shown = ", ".join(str(p) for p in list(points)[:limit])
    return shown + (f" and {len(points) - limit} more" if len(points) > limit else "")


def point_means(runs: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Replicate-averaged outcomes per design point, refusing incomplete points.

    Averaging a point's replicates removes most replicate noise before the indices
    apportion variance between parameters.

    Args:
        runs: one row per run: ``point``, ``replicate`` and the outcome columns.
        outcomes: the outcome columns to average (outcome units).

    Returns:
        One row per point (index ``point``, sorted), one column per outcome.

    Raises:
        ValueError: a column is missing; a (point, replicate) appears twice; a point
            lacks a replicate that other points have; or an outcome is not finite in
            some run. The message names the points.
    """
    outcomes = _check_runs(runs, outcomes)
    dup = runs.duplicated(["point", "replicate"])
    if dup.any():
        pts = sorted(runs.loc[dup, "point"].unique())
        raise ValueError(f"point(s) {_names(pts)} have the same replicate twice; each "
                         "(point, replicate) must be one run")
    replicates = sorted(runs["replicate"].unique())
    counts = runs.groupby("point")["replicate"].nunique()
    short = counts[counts < len(replicates)].index.tolist()
    if short:
        raise ValueError(f"point(s) {_names(short)} miss a replicate: every point needs "
                         f"replicates {_names(replicates)} (common random numbers pair "
                         "them across points)")
    values = runs[outcomes].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        pts = sorted(runs["point"].to_numpy()[rows].tolist())
        names = sorted({outcomes[c] for c in cols})
        raise ValueError(f"point(s) {_names(sorted(set(pts)))} miss outcome(s) {names} "
                         "(not finite in some run); an undefined outcome cannot be analysed")
    return runs.groupby("point")[outcomes].mean().sort_index()


def noise_share(runs: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """How much of the runs' spread is replicate noise rather than the parameters.

    Replicate r has the same seed at every point (common random numbers), so part of a
    replicate's deviation is shared by every point and cancels between points; only the
    rest moves the points' means apart. ``noise_variance`` is that rest: the variance of
    the point-by-replicate interaction (two-way residuals after each point's mean and each
    replicate's mean, over ``(points - 1) * (replicates - 1)`` degrees of freedom).
    ``total_variance`` is the variance of all runs (ddof 1) and ``noise_share`` their
    ratio (0 = all parameters, 1 = all noise). ``mean_noise_share`` is what is left in the
    replicate means the indices use: ``noise_variance / replicates`` over the variance of
    the point means. A variance at rounding level (an outcome that does not vary) gives NaN.

    Args:
        runs: one row per run: ``point``, ``replicate`` and the outcome columns.
        outcomes: the outcome columns (outcome units; variances in squared units).

    Raises:
        ValueError: as :func:`point_means`, or fewer than two replicates.
    """
    means = point_means(runs, outcomes)
    replicates = runs["replicate"].nunique()
    if replicates < 2:
        raise ValueError(f"noise_share needs at least two replicates per point; runs has "
                         f"{replicates}")
    rows = []
    for name in outcomes:
        table = runs.pivot_table(index="point", columns="replicate", values=name)
        resid = (table.sub(table.mean(axis=1), axis=0).sub(table.mean(axis=0), axis=1)
                 + float(table.to_numpy().mean()))
        dof = (table.shape[0] - 1) * (table.shape[1] - 1)
        noise = float((resid.to_numpy() ** 2).sum() / dof) if dof > 0 else math.nan
        total = float(runs[name].var(ddof=1))
        between = float(means[name].var(ddof=1)) if len(means) > 1 else math.nan
        # a variance at rounding level (an outcome that does not vary) has no share
        tiny = 1e-12 * max(float(np.abs(runs[name]).max()) ** 2, 1e-300)
        rows.append({"outcome": name, "replicates": int(replicates),
                     "noise_variance": noise, "total_variance": total,
                     "noise_share": noise / total if total > tiny else math.nan,
                     "mean_noise_share": (noise / replicates / between
                                          if between > tiny else math.nan)})
    return pd.DataFrame(rows, columns=list(NOISE_COLUMNS))


def _check_problem(problem: Mapping[str, Any]) -> tuple[list[str], int]:
    try:
        names = list(problem["names"])
        k = int(problem["num_vars"])
        bounds = problem["bounds"]
    except (KeyError, TypeError) as e:
        raise ValueError(f"problem must be SALib's dict with num_vars, names and bounds; "
                         f"missing {e}") from None
    if len(names) != k or len(bounds) != k:
        raise ValueError(f"problem declares num_vars={k} but {len(names)} names and "
                         f"{len(bounds)} bounds")
    return names, k


def morris_indices(problem: Mapping[str, Any], X: np.ndarray, runs: pd.DataFrame,
                   outcomes: Sequence[str], *, num_levels: int, conf_level: float = 0.95,
                   seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects of each parameter on each outcome (SALib), ranked.

    Screening is cheap enough to cover every declared uncertainty, so that the Sobol
    design spends its runs only on parameters that matter.

    Args:
        problem: SALib's problem dict.
        X: the Morris design (SALib.sample.morris), points x k, row i = point i.
        runs: one row per run (``point``, ``replicate``, outcomes); replicate-averaged.
        outcomes: outcome columns to analyse.
        num_levels: the grid levels the design was sampled with (as SALib's sampler).
        conf_level: confidence level of ``mu_star``'s bootstrap interval (share 0-1).
        seed: seed of the bootstrap.

    Returns:
        Tidy table: outcome, parameter, mu, mu_star, mu_star_low, mu_star_high, sigma
        (outcome units per the parameter's whole range step, as SALib reports them),
        rank (1 = largest mu_star, per outcome).
    """
    from SALib.analyze import morris

    names, k = _check_problem(problem)
    X = np.asarray(X, dtype=float)
    means = point_means(runs, outcomes)
    if X.ndim != 2 or X.shape[1] != k:
        raise ValueError(f"X has shape {X.shape}; the problem has {k} parameters")
    if list(means.index) != list(range(len(X))):
        missing = sorted(set(range(len(X))) - set(means.index))
        raise ValueError(f"runs must cover points 0..{len(X) - 1} of X; missing "
                         f"{_names(missing)}" if missing else
                         f"runs has points outside 0..{len(X) - 1}")
    frames = []
    for name in outcomes:
        r = morris.analyze(dict(problem), X, means[name].to_numpy(), conf_level=conf_level,
                           num_levels=num_levels, seed=seed, print_to_console=False)
        f = pd.DataFrame({"outcome": name, "parameter": names,
                          "mu": np.asarray(r["mu"], float),
                          "mu_star": np.asarray(r["mu_star"], float),
                          "sigma": np.asarray(r["sigma"], float)})
        conf = np.asarray(r["mu_star_conf"], float)
        f["mu_star_low"] = f["mu_star"] - conf
        f["mu_star_high"] = f["mu_star"] + conf
        f["rank"] = f["mu_star"].rank(ascending=False, method="first").astype(int)
        frames.append(f.sort_values("rank"))
    return pd.concat(frames, ignore_index=True)[list(MORRIS_COLUMNS)]


def screen(morris: pd.DataFrame, *, keep_share: float = 0.1,
           max_keep: int | None = None) -> list[str]:
    """The parameters Morris screening keeps for the Sobol design.

    Rule: a parameter is kept if, for **any** outcome, its ``mu_star`` is at least
    ``keep_share`` of the largest ``mu_star`` of that outcome (and above zero), so every
    outcome's own drivers survive even when another outcome has larger effects. Kept
    parameters are ordered by their best rank over the outcomes (then by their largest
    share of an outcome's top ``mu_star``); at most ``max_keep`` are returned.

    Args:
        morris: the table of :func:`morris_indices`.
        keep_share: share 0-1 of an outcome's largest ``mu_star``.
        max_keep: cap on the number kept (None: no cap).

    Raises:
        ValueError: ``keep_share`` outside (0, 1], or ``max_keep`` below 1.
    """
    if not 0 < keep_share <= 1:
        raise ValueError(f"keep_share={keep_share!r} must be in (0, 1]")
    if max_keep is not None and max_keep < 1:
        raise ValueError(f"max_keep={max_keep!r} must be at least 1 (or None: no cap)")
    m = morris.copy()
    top = m.groupby("outcome")["mu_star"].transform("max")
    m["relative"] = np.where(top > 0, m["mu_star"] / top, 0.0)
    kept = m[(m["mu_star"] > 0) & (m["relative"] >= keep_share * (1 - 1e-12))]
    if kept.empty:
        return []
    order = (kept.groupby("parameter")
             .agg(best=("rank", "min"), relative=("relative", "max"))
             .sort_values(["best", "relative"], ascending=[True, False]))
    names = order.index.tolist()
    return names if max_keep is None else names[:max_keep]


def sobol_indices(problem: Mapping[str, Any], runs: pd.DataFrame, outcomes: Sequence[str],
                  *, conf_level: float = 0.95, seed: int = 0,
                  n_base: int | None = None) -> pd.DataFrame:
    """First-order and total Sobol indices with bootstrap intervals (SALib), ranked.

    The design's rows must be in SALib's Saltelli/Sobol order
    (``SALib.sample.sobol.sample(problem, N, calc_second_order=False)``: N base samples
    of k + 2 rows each); the indices are computed on the replicate means.

    Args:
        problem: SALib's problem dict (the parameters of the Sobol design).
        runs: one row per run (``point``, ``replicate``, outcomes).
        outcomes: outcome columns to analyse.
        conf_level: confidence level of the intervals (share 0-1).
        seed: seed of SALib's bootstrap.
        n_base: use only the first ``n_base`` base samples (rows ``[0, n_base * (k+2))``),
            for the convergence study; None = all.

    Returns:
        Tidy table: outcome, parameter, S1, S1_low, S1_high, ST, ST_low, ST_high (shares
        0-1 of the outcome's variance), rank (1 = largest ST, per outcome), rankable
        (True when the ST interval overlaps neither the next-higher nor the next-lower
        ranked parameter's, i.e. its rank is settled), n_base.

    Raises:
        ValueError: as :func:`point_means`; the points are not 0..n-1; n is not a
            multiple of k + 2; n_base is out of range.
    """
    from SALib.analyze import sobol

    names, k = _check_problem(problem)
    means = point_means(runs, outcomes)
    n = len(means)
    if list(means.index) != list(range(n)):
        missing = sorted(set(range(int(means.index.max()) + 1)) - set(means.index))
        raise ValueError(f"runs must cover points 0..n-1 of the Sobol design; missing "
                         f"{_names(missing)}")
    if n % (k + 2):
        raise ValueError(f"{n} points is not a multiple of k + 2 = {k + 2}: not a Sobol "
                         "design without second-order indices for this problem")
    full = n // (k + 2)
    if n_base is None:
        n_base = full
    if not 2 <= n_base <= full:
        raise ValueError(f"n_base={n_base!r} must be between 2 and the design's {full} "
                         "base samples")
    rows = n_base * (k + 2)
    frames = []
    for name in outcomes:
        y = means[name].to_numpy()[:rows]
        if np.ptp(y) == 0:  # SALib divides by the variance: a flat outcome has no indices
            r = {key: np.full(k, math.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            r = sobol.analyze(dict(problem), y, calc_second_order=False,
                              conf_level=conf_level, seed=_nonzero(seed),
                              print_to_console=False)
        f = pd.DataFrame({"outcome": name, "parameter": names,
                          "S1": np.asarray(r["S1"], float), "ST": np.asarray(r["ST"], float)})
        for idx in ("S1", "ST"):
            conf = np.asarray(r[f"{idx}_conf"], float)
            f[f"{idx}_low"] = f[idx] - conf
            f[f"{idx}_high"] = f[idx] + conf
        f["rank"] = f["ST"].rank(ascending=False, method="first").fillna(k).astype(int)
        f = f.sort_values("rank").reset_index(drop=True)
        f["rankable"] = _rankable(f["ST_low"].to_numpy(), f["ST_high"].to_numpy())
        f["n_base"] = n_base
        frames.append(f)
    return pd.concat(frames, ignore_index=True)[list(SOBOL_COLUMNS)]


def _nonzero(seed: int) -> int:
    """A seed SALib's Sobol' analysis honours: it ignores a falsy seed (0) and then draws
    its bootstrap from NumPy's global state, so the intervals would change every call."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) | 1


def _rankable(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per row (sorted by rank): its interval overlaps neither neighbour's."""
    n = len(low)
    ok = np.isfinite(low) & np.isfinite(high)
    above = np.ones(n, bool)  # separated from the next-higher ranked one
    below = np.ones(n, bool)  # separated from the next-lower ranked one
    if n > 1:
        sep = low[:-1] > high[1:]  # row i above row i+1
        below[:-1] = sep
        above[1:] = sep
    return ok & above & below


def _base_steps(full: int, steps: Sequence[int] | None) -> list[int]:
    if steps is not None:
        return sorted({int(s) for s in steps})
    power = 2 ** int(math.floor(math.log2(full))) if full >= 1 else 0
    out = [power // d for d in (8, 4, 2) if power // d >= 4]
    return sorted({*out, full})


def sobol_convergence(problem: Mapping[str, Any], runs: pd.DataFrame,
                      outcomes: Sequence[str], *, steps: Sequence[int] | None = None,
                      conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Sobol indices on growing prefixes of the design: do indices and intervals settle?

    Args:
        problem, runs, outcomes, conf_level, seed: as :func:`sobol_indices`.
        steps: base sample sizes to use; default N/8, N/4, N/2 of the largest power of
            two within the design's N base samples (those of at least 4), and N itself.

    Returns:
        :func:`sobol_indices`' tables stacked (column ``n_base`` tells them apart), plus
        ``ST_width`` and ``S1_width``: the intervals' full widths.
    """
    names, k = _check_problem(problem)
    full = runs["point"].nunique() // (k + 2)
    frames = [sobol_indices(problem, runs, outcomes, conf_level=conf_level, seed=seed,
                            n_base=n) for n in _base_steps(full, steps)]
    out = pd.concat(frames, ignore_index=True)
    out["S1_width"] = out["S1_high"] - out["S1_low"]
    out["ST_width"] = out["ST_high"] - out["ST_low"]
    return out


def needed_base_samples(sobol: pd.DataFrame, *, top: int = TOP) -> pd.DataFrame:
    """Per outcome: the base sample size at which the top total indices could be ranked.

    A stated estimate: bootstrap interval widths shrink as 1/sqrt(N), so two neighbours
    in the ranking whose ST intervals (half-widths h1, h2 at N base samples) are ``gap``
    apart stop overlapping at about ``N * ((h1 + h2) / gap) ** 2``. The answer is the
    largest such N over the neighbouring pairs among the ``top`` highest-ranked
    parameters (each against the next one down), rounded up to a power of two, as
    Sobol designs need. Indices that are truly equal can never be told apart: the
    estimate is then NaN (beyond :data:`LARGEST_BASE`).

    Args:
        sobol: a table of :func:`sobol_indices` (one ``n_base``; the largest is used if
            several).
        top: how many of the highest-ranked parameters should be ranked.

    Returns:
        One row per outcome: outcome, n_base (now), needed_n_base (power of two, or NaN
        when out of reach), rankable_now (bool), limiting_pair ("a > b": the pair that
        needs the most samples, empty if none), ratio (needed / now).
    """
    rows = []
    for name, g in sobol.groupby("outcome", sort=False):
        g = g[g["n_base"] == g["n_base"].max()].sort_values("rank")
        n_now = int(g["n_base"].iloc[0])
        pairs = g.head(top + 1)
        need, limiting = float(n_now), ""
        for a, b in zip(pairs.iloc[:-1].itertuples(), pairs.iloc[1:].itertuples(),
                        strict=True):
            h = (a.ST_high - a.ST_low) / 2 + (b.ST_high - b.ST_low) / 2
            gap = a.ST - b.ST
            if not (math.isfinite(h) and math.isfinite(gap)):
                continue
            if a.ST_low > b.ST_high:
                continue  # already separated
            n_pair = n_now * (h / gap) ** 2 if gap > 0 else math.inf
            if n_pair > need:
                need, limiting = n_pair, f"{a.parameter} > {b.parameter}"
        if limiting == "":
            needed = float(n_now)
        elif need > LARGEST_BASE:
            needed = math.nan
        else:
            needed = float(2 ** math.ceil(math.log2(need)))
        rows.append({"outcome": name, "n_base": n_now, "needed_n_base": needed,
                     "rankable_now": limiting == "", "limiting_pair": limiting,
                     "ratio": needed / n_now if math.isfinite(needed) else math.nan})
    return pd.DataFrame(rows, columns=["outcome", "n_base", "needed_n_base", "rankable_now",
                                       "limiting_pair", "ratio"])


# --------------------------------------------------------------------------- words
def outcome_label(name: str) -> str:
    """An outcome's name in words (``care_coordination`` -> ``care coordination``)."""
    return name.replace("_", " ")


def parameter_words(key: str) -> str:
    """A parameter as a policy reader meets it: its dotted key with meaning and unit.

    Keys that are not in the schema (a synthetic test function's ``x1``) stay as they are.
    """
    from sim.config import ConfigError, parameter

    try:
        p = parameter(key)
    except ConfigError:
        return key
    what = ", ".join(t for t in (p.meaning, p.unit) if t)
    return f"{key} ({what})" if what else key


def _interval(low: float, high: float) -> str:
    return f"{low:.2f} to {high:.2f}"


def summary_words(morris: pd.DataFrame | None, sobol: pd.DataFrame | None,
                  noise: pd.DataFrame | None) -> list[str]:
    """Plain-language sentences on what drives each outcome, with the honest caveats.

    One sentence per outcome on its largest total index (``explains most of`` from
    :data:`MOST`), one on parameters that act mostly through interactions, a warning
    where intervals are too wide to rank the top parameters (with the base sample size
    :func:`needed_base_samples` estimates), one on replicate noise, and one on what
    screening dropped.
    """
    out: list[str] = []
    if sobol is not None and len(sobol):
        last = sobol[sobol["n_base"] == sobol.groupby("outcome")["n_base"].transform("max")]
        needs = needed_base_samples(last).set_index("outcome")
        for name, g in last.groupby("outcome", sort=False):
            g = g.sort_values("rank")
            label = outcome_label(name)
            first = g.iloc[0]
            if not math.isfinite(first["ST"]):
                out.append(f"{label.capitalize()} did not vary across the design, so no "
                           "parameter explains any of it.")
                continue
            verb = ("explains most of the variation in" if first["ST"] >= MOST
                    else "is the largest single driver of the variation in")
            out.append(f"{parameter_words(first['parameter'])} {verb} {label} (total index "
                       f"{first['ST']:.2f}, {_interval(first['ST_low'], first['ST_high'])}).")
            for row in g.itertuples():
                if (row.ST >= NOTABLE and math.isfinite(row.S1)
                        and max(row.S1, 0.0) < THROUGH_INTERACTIONS * row.ST):
                    out.append(f"{parameter_words(row.parameter)} matters for {label} mostly "
                               f"through interactions with other assumptions (first-order "
                               f"index {max(row.S1, 0.0):.2f}, total {row.ST:.2f}).")
            need = needs.loc[name]
            if not need["rankable_now"]:
                a, b = need["limiting_pair"].split(" > ")
                if math.isfinite(need["needed_n_base"]):
                    more = (f"about {int(need['needed_n_base']):,} base samples (now "
                            f"{int(need['n_base']):,}) would be needed to rank them")
                else:
                    more = ("their indices are so close that no affordable design would "
                            "rank them")
                out.append(f"Warning: for {label}, the intervals are too wide to tell "
                           f"whether {a} or {b} matters more; {more}.")
    elif morris is not None and len(morris):  # screening only: Morris ranks, no shares
        for name, g in morris.groupby("outcome", sort=False):
            first = g.sort_values("rank").iloc[0]
            if not first["mu_star"] > 0:
                continue
            out.append(f"Screening ranks {parameter_words(first['parameter'])} first for "
                       f"{outcome_label(name)} (Morris mu* {first['mu_star']:.3g}, "
                       f"{first['mu_star_low']:.3g} to {first['mu_star_high']:.3g}, in the "
                       "outcome's units); a Sobol analysis would say what share it explains.")
    if noise is not None and len(noise):
        for row in noise.itertuples():
            if not math.isfinite(row.noise_share):
                continue
            left = (f"; in the means of {row.replicates} replicates the indices use, it is "
                    f"{row.mean_noise_share:.0%} of the spread between design points"
                    if math.isfinite(row.mean_noise_share) else "")
            bias = ""
            if math.isfinite(row.mean_noise_share) and row.mean_noise_share >= NOISE_BIAS:
                # noise in f(A) and f(A_B^i) adds its variance share to every total index
                bias = (f"; noise left in the means adds about {row.mean_noise_share:.2f} to "
                        "every total index (more replicates per point would reduce it)")
            out.append(f"Replicate noise is {row.noise_share:.0%} of the spread of "
                       f"{outcome_label(row.outcome)} across runs{left}{bias}.")
    if morris is not None and len(morris) and sobol is not None and len(sobol):
        dropped = sorted(set(morris["parameter"]) - set(sobol["parameter"]))
        if dropped:
            out.append(f"Screening found too little effect of {len(dropped)} parameter(s) "
                       f"on every outcome analysed to include them in the Sobol design: "
                       f"{', '.join(dropped)}.")
    return out


# --------------------------------------------------------------------------- figures
def plot_ranking(table: pd.DataFrame, outcome: str, index: str, path: str | os.PathLike
                 ) -> Path:
    """Ranked horizontal bars of one index for one outcome, with their intervals.

    Args:
        table: a Morris or Sobol table (columns ``index``, ``index_low``, ``index_high``).
        outcome: the outcome whose rows to draw.
        index: ``"mu_star"`` (Morris), ``"ST"`` or ``"S1"`` (Sobol).
        path: the PNG file to write.
    """
    from sim.plots import pyplot

    for col in (index, f"{index}_low", f"{index}_high"):
        if col not in table.columns:
            raise ValueError(f"table has no column {col!r}; index must be one with "
                             "_low/_high columns, e.g. mu_star, S1 or ST")
    rows = table[table["outcome"] == outcome]
    if "n_base" in rows:
        rows = rows[rows["n_base"] == rows["n_base"].max()]
    if rows.empty:
        raise ValueError(f"table has no rows for outcome {outcome!r}; it has "
                         f"{sorted(table['outcome'].unique())}")
    rows = rows.sort_values(index, ascending=True)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.4))
    y = np.arange(len(rows))
    v = rows[index].to_numpy(float)
    err = np.vstack([v - rows[f"{index}_low"].to_numpy(float),
                     rows[f"{index}_high"].to_numpy(float) - v])
    ax.barh(y, v, xerr=np.clip(np.nan_to_num(err), 0, None), color="tab:blue", alpha=0.8,
            ecolor="0.2", capsize=3)
    ax.set_yticks(y, rows["parameter"], fontsize=7)
    what = {"mu_star": "Morris mu* (mean absolute elementary effect)",
            "ST": "total Sobol index", "S1": "first-order Sobol index"}.get(index, index)
    ax.set_xlabel(f"{what}, with {'95% ' if index != 'mu_star' else ''}interval", fontsize=8)
    ax.set_title(outcome_label(outcome), fontsize=10)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_convergence(convergence: pd.DataFrame, outcome: str, path: str | os.PathLike
                     ) -> Path:
    """Total indices of one outcome against base sample size, with their intervals."""
    from sim.plots import pyplot

    rows = convergence[convergence["outcome"] == outcome]
    if rows.empty:
        raise ValueError(f"convergence has no rows for outcome {outcome!r}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    order = (rows[rows["n_base"] == rows["n_base"].max()]
             .sort_values("rank")["parameter"].tolist())
    cmap = plt.get_cmap("tab10" if len(order) <= 10 else "viridis")
    for i, name in enumerate(order):
        r = rows[rows["parameter"] == name].sort_values("n_base")
        x = r["n_base"].to_numpy(float) * (1 + 0.03 * (i - len(order) / 2))  # spread bars
        colour = cmap(i if len(order) <= 10 else i / max(len(order) - 1, 1))
        ax.errorbar(x, r["ST"], yerr=[r["ST"] - r["ST_low"], r["ST_high"] - r["ST"]],
                    marker="o", ms=3, lw=1, capsize=2, color=colour, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("base samples N (runs = N x (parameters + 2) x replicates)", fontsize=8)
    ax.set_ylabel("total Sobol index, 95% interval", fontsize=8)
    ax.set_title(f"{outcome_label(outcome)}: convergence of the total indices", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


# --------------------------------------------------------------------------- report
def _markdown(morris, sobol, convergence, noise, screened, settings, figures) -> str:
    lines = ["# Sensitivity analysis", "",
             "Which uncertain assumptions drive the outcomes: Morris screening over the "
             "declared uncertainties, then first-order (S1) and total (ST) Sobol indices "
             "with 95% bootstrap intervals over those screening kept (SALib).", "",
             "## What was run", ""]
    for key, val in settings.items():
        lines.append(f"- {key}: {val}")
    if screened is not None:
        lines.append(f"- kept by screening ({len(screened)}): "
                     f"{', '.join(screened) if screened else 'none'}")
    share = settings.get("keep_share", 0.1)
    lines += ["", f"Screening rule: a parameter is kept if, for any outcome, its Morris mu* "
              f"is at least {share:.0%} of that outcome's largest mu*, so every outcome's own "
              "drivers survive.", "",
              "Replicate noise: every design point runs the same replicates (common random "
              "numbers), and the indices are computed on each point's replicate mean, so "
              "that replicate noise is separated from the parameters' effects; the noise "
              "table says how much noise the runs and the means carry.", "",
              "## In words", ""]
    lines += [f"- {w}" for w in summary_words(morris, sobol, noise)] or ["- (nothing)"]
    if sobol is not None and len(sobol):
        last = sobol[sobol["n_base"] == sobol["n_base"].max()]
        lines += ["", "## Sobol indices", "",
                  f"On {int(last['n_base'].iloc[0]):,} base samples. \"Rank settled\" means "
                  "the ST interval overlaps neither neighbour's.", ""]
        for name, g in last.groupby("outcome", sort=False):
            lines += [f"### {outcome_label(name)}", "",
                      "| rank | parameter | ST (95% interval) | S1 (95% interval) | "
                      "rank settled |", "|---:|---|---|---|---|"]
            for r in g.sort_values("rank").itertuples():
                lines.append(f"| {r.rank} | {r.parameter} | {r.ST:.3f} "
                             f"({_interval(r.ST_low, r.ST_high)}) | {r.S1:.3f} "
                             f"({_interval(r.S1_low, r.S1_high)}) | "
                             f"{'yes' if r.rankable else 'no'} |")
            for fig in figures.get(name, []):
                lines += ["", f"![{name}]({fig})"]
            lines.append("")
    if morris is not None and len(morris):
        lines += ["## Morris screening", ""]
        for name, g in morris.groupby("outcome", sort=False):
            lines += [f"### {outcome_label(name)}", "",
                      "| rank | parameter | mu* (interval) | mu | sigma |",
                      "|---:|---|---|---:|---:|"]
            for r in g.sort_values("rank").itertuples():
                lines.append(f"| {r.rank} | {r.parameter} | {r.mu_star:.4g} "
                             f"({r.mu_star_low:.3g} to {r.mu_star_high:.3g}) | {r.mu:.4g} | "
                             f"{r.sigma:.4g} |")
            for fig in figures.get(f"morris:{name}", []):
                lines += ["", f"![{name}]({fig})"]
            lines.append("")
    if convergence is not None and len(convergence):
        lines += ["## Convergence", "",
                  "The same indices on the first N/8, N/4, N/2 and N base samples: the "
                  "intervals should narrow about as 1/sqrt(N).", "",
                  "| outcome | base samples | mean ST interval width |",
                  "|---|---:|---:|"]
        w = convergence.groupby(["outcome", "n_base"], sort=False)["ST_width"].mean()
        for (name, n), width in w.items():
            lines.append(f"| {name} | {int(n):,} | {width:.3f} |")
        for name in convergence["outcome"].unique():
            for fig in figures.get(f"convergence:{name}", []):
                lines += ["", f"![{name}]({fig})"]
        lines.append("")
    if noise is not None and len(noise):
        lines += ["## Replicate noise", "",
                  "| outcome | replicates | noise share of runs | noise share of means |",
                  "|---|---:|---:|---:|"]
        for r in noise.itertuples():
            lines.append(f"| {r.outcome} | {r.replicates} | {r.noise_share:.1%} | "
                         f"{r.mean_noise_share:.1%} |")
        lines.append("")
    lines += ["Tables: morris.csv, sobol.csv, convergence.csv, noise.csv (and .parquet) "
              "beside this report.", ""]
    return "\n".join(lines)


def _own() -> set[str]:
    """The entries :func:`write_report` writes into its folder."""
    return {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")} | {REPORT, FIGURES}


def write_report(folder: str | os.PathLike, *, morris: pd.DataFrame | None,
                 sobol: pd.DataFrame | None, convergence: pd.DataFrame | None,
                 noise: pd.DataFrame | None, screened: Sequence[str] | None,
                 settings: Mapping[str, Any]) -> Path:
    """Write the tables, figures and ``sensitivity.md`` into ``folder``, whole or not at all.

    Everything is written into a temporary sibling folder that replaces ``folder`` in one
    rename (:func:`sim.results.commit_folder`); on any error the temporary folder is
    removed and an earlier ``folder`` is left as it was. An earlier ``folder`` holding
    files this function does not write is never replaced (FileExistsError).

    Args:
        folder: the report folder, e.g. ``<sweep>/sensitivity``.
        morris, sobol, convergence, noise: the tables of this module (None: omitted).
        screened: the parameters :func:`screen` kept (None: no screening step).
        settings: what was run, as ``name: value`` lines for the report.

    Returns:
        ``folder``.
    """
    from sim.results import replacing_folder

    final = Path(folder)
    with replacing_folder(final, _own(), FIGURES) as tmp:
        tables = {"morris": morris, "sobol": sobol, "convergence": convergence,
                  "noise": noise}
        for name, table in tables.items():
            if table is not None:
                table.to_csv(tmp / f"{name}.csv", index=False)
                table.to_parquet(tmp / f"{name}.parquet", index=False)
        figures: dict[str, list[str]] = {}
        if sobol is not None and len(sobol):
            for name in sobol["outcome"].unique():
                rel = f"{FIGURES}/sobol_{name}.png"
                plot_ranking(sobol, name, "ST", tmp / rel)
                figures[name] = [rel]
        if morris is not None and len(morris):
            for name in morris["outcome"].unique():
                rel = f"{FIGURES}/morris_{name}.png"
                plot_ranking(morris, name, "mu_star", tmp / rel)
                figures[f"morris:{name}"] = [rel]
        if convergence is not None and len(convergence):
            for name in convergence["outcome"].unique():
                rel = f"{FIGURES}/convergence_{name}.png"
                plot_convergence(convergence, name, tmp / rel)
                figures[f"convergence:{name}"] = [rel]
        text = _markdown(morris, sobol, convergence, noise,
                         None if screened is None else list(screened), settings, figures)
        (tmp / REPORT).write_text(text, encoding="utf-8")
    return final
