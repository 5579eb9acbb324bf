"""The regime decomposition: how much of the mandated-vs-local gap each lever causes.

The mandated and locally led regimes (``configs/regime/mandated.yaml``, ``local.yaml``)
differ in six levers at once. The experiment ``collabsim experiment=regime_decomposition``
runs every combination of them (a full 2^k factorial) with the same replicates in every
cell (common random numbers). This module reads the finished sweep (analysis layer: it
never steps a model) and estimates, per outcome:

* each lever's **main effect**: the outcome with the lever at its mandated value minus
  at its local value, averaged over every setting of the other levers (the standard
  2^k contrast divided by 2^(k-1));
* each **two-lever interaction** ``a × b``: half the difference between a's effect with
  b mandated and a's effect with b local (the same contrast on the product column);
* the **total gap**: the all-mandated cell minus the all-local cell, and the share of it
  each main effect accounts for. Two-lever interactions cancel out of this gap; what
  the main effects leave of it is the work of three or more levers acting together.

Every estimate is computed within each replicate and given a 95% t-interval over
replicates, so the pairing removes the noise that all cells share. Outcomes are the
runs' summaries (the mean of the final 52 weeks under the regime). Command::

    uv run python -m sim.decomposition results/sweeps/regime_decomposition

writes ``<sweep>/decomposition/`` atomically: ``effects.csv``, ``decomposition.md`` and
``figures/<outcome>.png``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.outcome_spec import OUTCOMES as _REGISTERED

#: Each registered outcome by name (meaning, unit, direction, bounds).
REGISTRY = {o.name: o for o in _REGISTERED}

#: The outcomes a policy reader sees (every outcome column can be analysed).
OUTCOMES: tuple[str, ...] = ("care_coordination", "mean_belief", "vacancy_rate",
                             "admin_burden")
#: An interaction is important when its interval excludes zero and it is at least this
#: share of the largest main effect on the same outcome.
THRESHOLD = 0.25
LEVEL = 0.95
#: The presets whose differing levers are the factors (low = first, high = second).
LOW_PRESET, HIGH_PRESET = "local", "mandated"
#: Rows of the effects table that are not lever effects (order 0).
GAP = "total gap"
REST = "gap beyond main effects"
#: The folder ``main`` writes into the sweep folder, and everything it writes there.
OUT_DIR = "decomposition"
_WRITTEN = ("effects.csv", "decomposition.md", "figures")
#: Plain words for the regime's levers (the schema's key is shown beside them).
LABELS: dict[str, str] = {
    "regime.partner_choice": "who chooses partners",
    "regime.may_exit": "whether partners may leave",
    "regime.contracts": "contracts",
    "regime.existing": "existing partnerships",
    "regime.reporting_fte": "mandated reporting (FTE per partnership per side)",
    "regime.priorities": "who sets priorities",
}
COLUMNS = ["outcome", "effect", "order", "levels", "estimate", "low", "high", "sd",
           "n_replicates", "excludes_zero", "share_of_gap"]


# --------------------------------------------------------------------------- the levers
def regime_levers(low: str = LOW_PRESET, high: str = HIGH_PRESET) -> dict[str, tuple[Any, Any]]:
    """The levers that differ between two regime presets, as ``{key: (low, high)}``.

    Read from ``configs/regime/<low>.yaml`` and ``<high>.yaml``, so the factors never
    drift from the presets they decompose (``name`` is a label, not a lever).
    """
    import yaml

    from sim.config import config_dir

    def load(name: str) -> dict:
        path = config_dir() / "regime" / f"{name}.yaml"
        if not path.is_file():
            raise ValueError(f"no regime preset {name!r} (expected {path})")
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}

    a, b = load(low), load(high)
    return {f"regime.{k}": (a.get(k), b.get(k)) for k in dict.fromkeys([*a, *b])
            if k != "name" and _norm(a.get(k)) != _norm(b.get(k))}


def sweep_factors(runs: pd.DataFrame) -> dict[str, tuple[Any, Any]]:
    """Low and high level of each factor a sweep varied (``runs.attrs["factors"]``).

    A regime lever is oriented local → mandated; any other factor is taken in sorted
    order of its levels (it must have exactly two; :func:`factorial_effects` says so).
    """
    factors = list(runs.attrs.get("factors") or [])
    if not factors:
        raise ValueError("the sweep varies nothing: a decomposition needs at least one "
                         "factor with two levels")
    levers = regime_levers()
    out: dict[str, tuple[Any, Any]] = {}
    for key in factors:
        if key in levers:
            out[key] = levers[key]
            continue
        levels = sorted({_norm(v) for v in runs[key].dropna()}, key=str)
        if len(levels) != 2:
            raise ValueError(f"factor {key} has {len(levels)} levels in the sweep "
                             f"({', '.join(map(str, levels))}); a 2^k factorial needs "
                             "exactly two")
        out[key] = (levels[0], levels[1])
    return out


def _norm(v: Any) -> Any:
    """A value comparable across YAML, Hydra overrides and CSV text (True, 0.03, 'local')."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    text = str(v).strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _show(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# --------------------------------------------------------------------------- estimation
def factorial_effects(runs: pd.DataFrame, factors: Mapping[str, tuple[Any, Any]],
                      outcomes: Sequence[str] = OUTCOMES, replicate: str = "replicate", *,
                      drop_incomplete: bool = False) -> pd.DataFrame:
    """Main effects, two-factor interactions and the total gap of a paired 2^k design.

    Args:
        runs: one row per run: a column per factor, the replicate column and the outcome
            columns (rows with a ``status`` other than ``complete`` are ignored).
        factors: ``{column: (low, high)}``; an effect is outcome(high) − outcome(low).
        outcomes: outcome columns, in the outcome's own unit.
        replicate: the column that pairs runs (the same index in every cell).
        drop_incomplete: leave out replicates that lack a cell instead of failing
            (those left out are listed in ``result.attrs["dropped_replicates"]``).

    Returns:
        One row per outcome and effect: ``outcome``, ``effect`` (a factor, ``"a × b"``,
        :data:`GAP` or :data:`REST`), ``order`` (1 main effect, 2 interaction, 0 gap
        rows), ``levels`` (``low → high``), ``estimate`` (mean over replicates),
        ``low``/``high`` (95% t-interval), ``sd``, ``n_replicates``, ``excludes_zero``
        and ``share_of_gap`` (main effects and the gap rows).

    Raises:
        ValueError: a missing column, a factor whose levels are not exactly its low and
            high, or an unbalanced design (a replicate lacking a cell, or a cell twice),
            naming what is wrong.
    """
    if not factors:
        raise ValueError("factorial_effects needs at least one factor")
    factors = dict(factors)
    outcomes = list(outcomes)
    need = [*factors, replicate, *outcomes]
    missing = [c for c in need if c not in runs.columns]
    if missing:
        raise ValueError(f"the runs table lacks column(s) {', '.join(missing)} "
                         f"(it has {', '.join(map(str, runs.columns))})")
    done = runs[runs["status"] == "complete"] if "status" in runs else runs
    names = list(factors)
    k = len(names)
    bits = np.zeros((len(done), k), dtype=int)
    for i, key in enumerate(names):
        low, high = (_norm(v) for v in factors[key])
        if low == high:
            raise ValueError(f"factor {key}: low and high are the same value ({low!r})")
        values = [_norm(v) for v in done[key]]
        found = list(dict.fromkeys(values))
        strange = [v for v in found if v not in (low, high)]
        if strange or len(found) != 2:
            raise ValueError(f"factor {key} must have exactly two levels, {_show(low)} and "
                             f"{_show(high)}; the runs have "
                             f"{', '.join(_show(v) for v in found) or 'none'}")
        bits[:, i] = [v == high for v in values]
    cell = bits @ (1 << np.arange(k)) if k else np.zeros(len(done), dtype=int)
    reps = done[replicate].to_numpy()
    n_cells = 1 << k

    def describe(c: int) -> str:
        return ", ".join(f"{key}={_show(factors[key][(c >> i) & 1])}"
                         for i, key in enumerate(names))

    table = pd.DataFrame({"rep": reps, "cell": cell})
    twice = table[table.duplicated(keep=False)].drop_duplicates()
    if len(twice):
        r, c = twice.iloc[0]
        raise ValueError(f"unbalanced design: {len(twice)} cell(s) have more than one run "
                         f"in the same replicate, e.g. {replicate} {r}: {describe(int(c))}")
    rep_ids = sorted(set(reps.tolist()), key=lambda v: (str(type(v)), v))
    present = {r: set(table.loc[table["rep"] == r, "cell"].tolist()) for r in rep_ids}
    incomplete = {r: sorted(set(range(n_cells)) - cells) for r, cells in present.items()
                  if len(cells) < n_cells}
    dropped: list = []
    if incomplete and not drop_incomplete:
        r, lack = next(iter(incomplete.items()))
        more = (f"; {len(incomplete)} of {len(rep_ids)} replicates are incomplete"
                if len(incomplete) > 1 else "")
        raise ValueError(f"unbalanced design: {replicate} {r} lacks {len(lack)} of "
                         f"{n_cells} cells, e.g. {describe(lack[0])}{more} (every cell "
                         "needs a run in every replicate; rerun the sweep to fill them, "
                         "or drop incomplete replicates)")
    if incomplete:
        dropped = list(incomplete)
        rep_ids = [r for r in rep_ids if r not in incomplete]
    if not rep_ids:
        raise ValueError(f"no replicate has a run in every one of the {n_cells} cells")

    signs = np.array([[1.0 if (c >> i) & 1 else -1.0 for i in range(k)]
                      for c in range(n_cells)])  # (cells, factors)
    pairs = list(itertools.combinations(range(k), 2))
    rows: list[dict] = []
    index = {(r, c): j for j, (r, c) in enumerate(zip(reps.tolist(), cell.tolist(),
                                                      strict=True))}
    contrasts = np.column_stack([signs, *[signs[:, i] * signs[:, j] for i, j in pairs]])
    labels = [*names, *[f"{names[i]} × {names[j]}" for i, j in pairs]]
    levels = [f"{_show(factors[key][0])} → {_show(factors[key][1])}" for key in names]
    for outcome in outcomes:
        col = done[outcome].to_numpy(dtype=float)
        y = np.array([[col[index[(r, c)]] for c in range(n_cells)] for r in rep_ids])
        per_rep = y @ contrasts / (n_cells / 2)  # (replicates, effects): the contrasts
        gap = y[:, n_cells - 1] - y[:, 0]  # all high minus all low, paired
        rest = gap - per_rep[:, :k].sum(axis=1)
        n, mean, sd, low, high = intervals(np.column_stack([gap, per_rep, rest]))
        g_mean = mean[0]
        for m, (effect, order, level) in enumerate(
                [(GAP, 0, "all low → all high"),
                 *[(name, 1, lv) for name, lv in zip(names, levels, strict=True)],
                 *[(name, 2, "") for name in labels[k:]], (REST, 0, "")]):
            share = (1.0 if effect == GAP else
                     mean[m] / g_mean if order != 2 and g_mean else math.nan)
            rows.append({"outcome": outcome, "effect": effect, "order": order,
                         "levels": level, "estimate": mean[m], "low": low[m],
                         "high": high[m], "sd": sd[m], "n_replicates": int(n),
                         "excludes_zero": bool(n >= 2 and (low[m] > 0 or high[m] < 0)),
                         "share_of_gap": share})
    effects = pd.DataFrame(rows, columns=COLUMNS)
    effects.attrs["factors"] = factors
    effects.attrs["replicates"] = rep_ids
    effects.attrs["dropped_replicates"] = dropped
    return effects


def intervals(values: np.ndarray, level: float = LEVEL) -> tuple[int, np.ndarray,
                                                                np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """(n, mean, sd, low, high) per column: t-intervals for the mean over replicates (rows).

    NaN bounds with fewer than two replicates; a zero-width interval where every
    replicate gives the same value (scipy would return NaN there).
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    mean = x.mean(axis=0) if n else np.full(x.shape[1], math.nan)
    nan = np.full(x.shape[1], math.nan)
    if n < 2:
        return n, mean, nan, nan.copy(), nan.copy()
    sd = x.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ci = stats.ttest_1samp(x, 0.0, axis=0).confidence_interval(level)
    low = np.where(sd == 0, mean, ci.low)
    high = np.where(sd == 0, mean, ci.high)
    return n, mean, sd, low, high


def important_interactions(effects: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Two-lever interactions that matter: the interval excludes zero and the size is at
    least ``threshold`` (a share, 0-1 or more) of the largest main effect on the outcome.

    Returns the interaction rows with ``relative_to_largest_main`` added, largest first.
    """
    if not (isinstance(threshold, int | float) and math.isfinite(threshold)
            and threshold >= 0):
        raise ValueError(f"threshold={threshold!r}: a share of the largest main effect, "
                         "a number >= 0 (e.g. 0.25)")
    largest = (effects[effects["order"] == 1].assign(size=lambda d: d["estimate"].abs())
               .groupby("outcome")["size"].max())
    inter = effects[(effects["order"] == 2) & effects["excludes_zero"]].copy()
    biggest = np.array([largest.get(o, math.nan) for o in inter["outcome"]], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        inter["relative_to_largest_main"] = (inter["estimate"].abs().to_numpy(dtype=float)
                                             / np.where(biggest > 0, biggest, math.nan))
    keep = inter["relative_to_largest_main"] >= threshold
    return (inter[keep].assign(_size=lambda d: d["estimate"].abs())
            .sort_values(["outcome", "_size"], ascending=[True, False])
            .drop(columns="_size").reset_index(drop=True))


# --------------------------------------------------------------------------- reading
def read_sweep(sweep_dir: str | os.PathLike) -> pd.DataFrame:
    """The tidy runs table of a finished sweep: one row per run, a column per factor.

    Uses the sweep report's reader (:func:`sim.report.collect`,
    :func:`sim.report.add_scenarios`). ``attrs`` carries ``factors`` (the swept keys),
    ``fixed`` (overrides shared by every run), ``failed`` and ``missing`` jobs.

    Raises:
        FileNotFoundError: the folder holds no run.
    """
    from sim.report import add_scenarios, collect

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"{str(sweep_dir)!r} is not a folder")
    runs, _dirs, failed, missing, manifest = collect(sweep_dir)
    if runs.empty:
        raise FileNotFoundError(f"no runs in {str(sweep_dir)!r} (expected job folders with "
                                "run/ or FAILED.json)")
    runs, factors, fixed, _order = add_scenarios(runs, manifest)
    runs = runs.drop(columns=["_overrides"]).reset_index(drop=True)
    runs.attrs.update(factors=factors, fixed=fixed, failed=failed, missing=missing,
                      experiment=(manifest or {}).get("experiment"))
    return runs


# --------------------------------------------------------------------------- writing
def _scale(outcome: str) -> tuple[float, str]:
    """Multiplier and unit in which an outcome's effects are shown."""
    spec = REGISTRY.get(outcome)
    if spec is not None and spec.low == 0.0 and spec.high == 1.0:  # shares and 0-1 scores
        return 100.0, "points"
    return 1.0, ""


def _decimals(low: float, high: float, value: float) -> int:
    """Decimals that show an interval's half-width to about two significant digits."""
    half = (high - low) / 2 if math.isfinite(low) and math.isfinite(high) else math.nan
    size = half if math.isfinite(half) and half > 0 else abs(value)
    if not math.isfinite(size) or size == 0:
        return 1
    return int(min(max(1 - math.floor(math.log10(size)), 0), 5))


def _num(x: float, d: int, signed: bool = True) -> str:
    if not math.isfinite(x):
        return "–"
    text = f"{x:+.{d}f}" if signed else f"{x:.{d}f}"
    return text.replace("-", "−")


def _lever(effect: str) -> str:
    """A lever's plain name with its key, or an interaction of two."""
    if " × " in effect:
        return " × ".join(_lever(e) for e in effect.split(" × "))
    plain = LABELS.get(effect)
    return f"{plain} (`{effect}`)" if plain else f"`{effect}`"


def _short(effect: str) -> str:
    return LABELS.get(effect, effect).split(" (")[0]


def markdown(effects: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES,
             threshold: float = THRESHOLD) -> str:
    """A section for a policy reader: per outcome, the gap, each lever's share of it and
    the important interactions, each with its 95% interval; no claim beyond them."""

    factors = effects.attrs.get("factors") or {}
    n_rep = int(effects["n_replicates"].max()) if len(effects) else 0
    k = len(factors) or int(effects.loc[effects["order"] == 1, "effect"].nunique())
    lines = ["## Which lever makes the difference between mandated and locally led "
             "partnerships", ""]
    lines += [f"Each of {k} levers was set to its locally led or its mandated value in every "
              f"combination (a 2^{k} factorial, {1 << k} cells), each cell run with the same "
              f"{n_rep} replicates (common random numbers). A lever's **main effect** is the "
              "outcome with the lever at its mandated value minus at its local value, "
              "averaged over every setting of the other levers; the **total gap** is the "
              "all-mandated cell minus the all-local cell. Effects are computed within each "
              "replicate; intervals are 95% t-intervals over replicates. Two-lever "
              "interactions cancel out of the total gap, so the main effects add up to it "
              "except for what three or more levers do together. Effects of 0-1 outcomes "
              "are in points on a 0-100 scale.", ""]
    dropped = effects.attrs.get("dropped_replicates") or []
    if dropped:
        lines += [f"Replicates left out because a cell had no complete run: "
                  f"{', '.join(map(str, dropped))}.", ""]
    if factors:
        lines += ["| lever | local → mandated |", "|---|---|"]
        lines += [f"| {_lever(key)} | {_show(lo)} → {_show(hi)} |"
                  for key, (lo, hi) in factors.items()]
        lines.append("")
    important = important_interactions(effects, threshold)
    for outcome in outcomes:
        sub = effects[effects["outcome"] == outcome]
        if sub.empty:
            continue
        spec = REGISTRY.get(outcome)
        meaning, better = (spec.description, spec.direction) if spec else ("", 0)
        scale, unit = _scale(outcome)
        head = f"### `{outcome}`"
        if meaning:
            head += f": {meaning}"
        if better:
            head += f" ({'higher' if better > 0 else 'lower'} is better)"
        lines += [head, "", _sentence(sub, outcome, scale, unit), ""]
        gap = sub[sub["effect"] == GAP].iloc[0]
        d = _decimals(gap.low * scale, gap.high * scale, gap.estimate * scale)
        mains = sub[sub["order"] == 1].assign(size=lambda t: t["estimate"].abs())
        mains = mains.sort_values("size", ascending=False)
        lines += [f"| effect | change | estimate{' (' + unit + ')' if unit else ''} | "
                  "95% interval | share of gap |", "|---|---|--:|--:|--:|"]
        for row in [gap, *[r for _, r in mains.iterrows()],
                    sub[sub["effect"] == REST].iloc[0]]:
            name = ("**total gap** (mandated − local)" if row.effect == GAP else
                    "three or more levers together" if row.effect == REST else
                    _lever(row.effect))
            share = (f"{row.share_of_gap:.0%}".replace("-", "−")
                     if math.isfinite(row.share_of_gap) else "–")
            lines.append(f"| {name} | {row.levels} | {_num(row.estimate * scale, d)} | "
                         f"{_num(row.low * scale, d)} to {_num(row.high * scale, d)} | "
                         f"{share} |")
        lines.append("")
        imp = important[important["outcome"] == outcome]
        rule = (f"interval excludes zero and size at least {threshold:.0%} of the largest "
                "main effect")
        if imp.empty:
            lines += [f"Important interactions ({rule}): none.", ""]
        else:
            lines += [f"Important interactions ({rule}):", "",
                      "| levers acting together | estimate | 95% interval | of largest "
                      "main effect |", "|---|--:|--:|--:|"]
            for row in imp.itertuples(index=False):
                lines.append(f"| {_lever(row.effect)} | {_num(row.estimate * scale, d)} | "
                             f"{_num(row.low * scale, d)} to {_num(row.high * scale, d)} | "
                             f"{row.relative_to_largest_main:.0%} |")
            lines += ["", "An interaction of a and b is half the difference between a's "
                      "effect with b mandated and a's effect with b local.", ""]
    return "\n".join(lines)


def _sentence(sub: pd.DataFrame, outcome: str, scale: float, unit: str) -> str:
    """One or two sentences on the gap and who causes it, claiming only what is clear."""
    gap = sub[sub["effect"] == GAP].iloc[0]
    rest = sub[sub["effect"] == REST].iloc[0]
    mains = sub[sub["order"] == 1].assign(size=lambda t: t["estimate"].abs())
    mains = mains.sort_values("size", ascending=False)
    d = _decimals(gap.low * scale, gap.high * scale, gap.estimate * scale)
    u = f" {unit}" if unit else ""
    n = int(gap.n_replicates)
    if n < 2:
        return (f"With {n} replicate there are no intervals: nothing can be said about "
                "which lever matters.")

    def amount(row: Any, signed: bool = False) -> str:
        """The effect with its interval; unsigned, a size (a negative interval flipped)."""
        est, low, high = row.estimate * scale, row.low * scale, row.high * scale
        if not signed and est < 0:
            est, low, high = -est, -high, -low
        return f"{_num(est, d, signed)}{u} ({_num(low, d, signed)} to {_num(high, d, signed)})"

    clear = mains[mains["excludes_zero"]]
    unclear = mains[~mains["excludes_zero"]]
    parts: list[str] = []
    if gap.excludes_zero:
        word = "lower" if gap.estimate < 0 else "higher"
        with_gap = clear[np.sign(clear["estimate"]) == np.sign(gap.estimate)]
        against = clear[np.sign(clear["estimate"]) != np.sign(gap.estimate)]
        text = (f"`{outcome}` is {_num(abs(gap.estimate) * scale, d, False)}{u} {word} under "
                f"the mandated regime than under the locally led one (interval "
                f"{_num(gap.low * scale, d)} to {_num(gap.high * scale, d)}).")
        if len(with_gap):
            text += " Of this gap, " + "; ".join(
                f"{_short(r.effect)} accounts for about {amount(r)}, "
                f"{r.share_of_gap:.0%} of it" for r in with_gap.itertuples(index=False)) + "."
        else:
            text += " No single lever clearly accounts for it."
        parts.append(text)
        if len(against):
            parts.append("Working the other way: " + "; ".join(
                f"{_short(r.effect)} {amount(r, signed=True)}"
                for r in against.itertuples(index=False)) + ".")
    else:
        text = (f"The mandated and locally led regimes do not clearly differ in `{outcome}` "
                f"(gap {_num(gap.estimate * scale, d)}{u}, interval "
                f"{_num(gap.low * scale, d)} to {_num(gap.high * scale, d)}), so no share of "
                "a gap is attributed.")
        if len(clear):
            text += " Levers that clearly move it on their own: " + "; ".join(
                f"{_short(r.effect)} {amount(r, signed=True)}"
                for r in clear.itertuples(index=False)) + "."
        parts.append(text)
    if len(unclear):
        names = ", ".join(_short(e) for e in unclear["effect"])
        parts.append(f"The intervals of {names} include zero: with {n} replicates their "
                     "effects cannot be told apart from none.")
    if gap.excludes_zero:
        if rest.excludes_zero:
            parts.append(f"The main effects leave {amount(rest, signed=True)} of the gap to "
                         "three or more levers acting together.")
        else:
            parts.append("The main effects add up to the gap within its interval.")
    return " ".join(parts)


def figure(effects: pd.DataFrame, outcome: str, path: str | os.PathLike,
           threshold: float = THRESHOLD) -> Path:
    """A ranked bar chart: the total gap, each main effect and the important interactions
    on one outcome, with 95% interval whiskers (matplotlib's Agg backend)."""
    from sim.plots import pyplot

    plt = pyplot()
    sub = effects[effects["outcome"] == outcome]
    if sub.empty:
        raise ValueError(f"no effects for outcome {outcome!r} (have "
                         f"{', '.join(dict.fromkeys(effects['outcome']))})")
    scale, unit = _scale(outcome)
    mains = sub[sub["order"] == 1].assign(size=lambda t: t["estimate"].abs())
    imp = important_interactions(sub, threshold)
    rows = [sub[sub["effect"] == GAP].iloc[0],
            *[r for _, r in mains.sort_values("size", ascending=False).iterrows()],
            *[r for _, r in imp.iterrows()]]
    labels = ["total gap (mandated − local)" if r.effect == GAP else
              " × ".join(_short(e) for e in r.effect.split(" × ")) for r in rows]
    est = np.array([r.estimate for r in rows]) * scale
    low = np.array([r.low for r in rows]) * scale
    high = np.array([r.high for r in rows]) * scale
    err = np.vstack([np.nan_to_num(est - low), np.nan_to_num(high - est)])
    colours = ["0.35" if r.effect == GAP else "tab:orange" if r.order == 2 else "tab:blue"
               for r in rows]
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.4))
    ax.barh(y, est, xerr=err, color=colours, alpha=0.85, capsize=3,
            error_kw={"lw": 1.0, "ecolor": "0.1"})
    ax.axvline(0.0, color="0.2", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"effect on {outcome}{' (' + unit + ', 0-100 scale)' if unit else ''}, "
                  "95% interval over replicates", fontsize=8)
    ax.set_title(f"{outcome}: what each lever does (mandated value − local value)",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- command
def write(sweep_dir: str | os.PathLike, effects: pd.DataFrame,
          outcomes: Sequence[str] = OUTCOMES, threshold: float = THRESHOLD) -> Path:
    """Write ``<sweep>/decomposition/`` through a temporary folder renamed into place.

    A previous ``decomposition/`` is replaced only if it holds nothing but what this
    function writes; otherwise nothing is touched and FileExistsError says why.
    """
    from sim.results import fsync_dir

    sweep_dir = Path(sweep_dir)
    final = sweep_dir / OUT_DIR
    if final.exists():
        foreign = _foreign(final)
        if foreign:
            raise FileExistsError(f"{final} holds files this command did not write "
                                  f"({', '.join(foreign[:3])}); move them away first")
    tmp = sweep_dir / f"{OUT_DIR}.tmp-{os.getpid()}"
    old = sweep_dir / f"{OUT_DIR}.old-{os.getpid()}"
    if tmp.exists() or old.exists():
        raise FileExistsError(f"{tmp if tmp.exists() else old} is in the way")
    try:
        (tmp / "figures").mkdir(parents=True)
        effects.to_csv(tmp / "effects.csv", index=False)
        (tmp / "decomposition.md").write_text(markdown(effects, outcomes, threshold) + "\n",
                                              encoding="utf-8")
        for outcome in outcomes:
            if (effects["outcome"] == outcome).any():
                figure(effects, outcome, tmp / "figures" / f"{outcome}.png", threshold)
        fsync_dir(tmp)
        if final.exists():
            os.replace(final, old)
        try:
            os.rename(tmp, final)
        except OSError:
            if old.exists():
                os.replace(old, final)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    fsync_dir(sweep_dir)
    return final


def _foreign(folder: Path) -> list[str]:
    """Entries of an earlier output folder that :func:`write` would not have written."""
    out = []
    for child in folder.iterdir():
        if child.name not in _WRITTEN:
            out.append(child.name)
        elif child.name == "figures":
            out += [f"figures/{f.name}" for f in child.iterdir()
                    if not (f.is_file() and f.suffix == ".png")]
        elif not child.is_file():
            out.append(child.name)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.decomposition SWEEP_DIR``: write the decomposition of a sweep."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.decomposition",
        description="Decompose a regime_decomposition sweep into each lever's main effect "
                    "and the important two-lever interactions (reads the run folders; "
                    "never re-runs the model).")
    parser.add_argument("sweep_dir", help="e.g. results/sweeps/regime_decomposition")
    parser.add_argument("--outcomes", nargs="+", default=list(OUTCOMES), metavar="COLUMN",
                        help=f"outcome columns (default: {' '.join(OUTCOMES)})")
    parser.add_argument("--threshold", type=float, default=THRESHOLD,
                        help="an interaction is important when its interval excludes zero "
                             "and it is at least this share of the largest main effect "
                             f"(default {THRESHOLD})")
    parser.add_argument("--drop-incomplete", action="store_true",
                        help="leave out replicates that lack a cell (default: fail)")
    args = parser.parse_args(argv)
    prog = "sim.decomposition"
    try:
        runs = read_sweep(args.sweep_dir)
        effects = factorial_effects(runs, sweep_factors(runs), args.outcomes,
                                    drop_incomplete=args.drop_incomplete)
        folder = write(args.sweep_dir, effects, args.outcomes, args.threshold)
    except (FileNotFoundError, ValueError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except FileExistsError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    n = len(effects.attrs.get("replicates") or [])
    print(f"{prog}: {len(effects.attrs['factors'])} levers, {n} replicates; "
          f"{folder / 'decomposition.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
