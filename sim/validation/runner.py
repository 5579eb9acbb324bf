"""Running the patterns through the public runner, and summarising their effects.

Each job is one pattern and one replicate: every scenario of the pattern is run with
:func:`sim.run` as replicate ``r`` (``dataclasses.replace(config, replicate=r)``, the
command line's ``replicate=r``), so all of them share that replicate's map, burn-in and
random streams (common random numbers), and the pattern's measure turns the results
into one paired effect per criterion. Jobs run in parallel processes; the measure runs
where the results are, so only a few floats travel back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from sim.config import SimConfig
from sim.processes import imap_in_processes
from sim.runner import run
from sim.stats import mean_interval
from sim.validation.patterns import PATTERNS, Pattern, choose, pattern
from sim.validation.scenarios import build

EFFECT_COLUMNS = ["pattern", "criterion", "replicate", "effect"]


def measure_replicate(key: str, configs: Mapping[str, SimConfig], replicate: int
                      ) -> list[float]:
    """Run pattern ``key``'s scenarios (``configs``) as replicate ``replicate``; its effects."""
    results = {name: run(config, replicate=int(replicate))
               for name, config in configs.items()}
    return [float(x) for x in pattern(key).measure(results)]


def _map(fn: Callable, jobs: Sequence[tuple], workers: int, progress: bool, desc: str
         ) -> Iterable[Any]:
    """``fn(*job)`` for every job, in order; in ``workers`` processes if more than one
    (:func:`sim.processes.imap_in_processes`)."""
    values = imap_in_processes(fn, jobs, workers)
    if progress:
        from tqdm.auto import tqdm

        values = tqdm(values, total=len(jobs), desc=desc, unit="replicate")
    return values


def scenario_configs(p: Pattern, base: Sequence[str], setting: Mapping[str, Any] | None = None
                     ) -> dict[str, SimConfig]:
    """Pattern ``p``'s scenarios over the ``base`` overrides and a robustness ``setting``."""
    return {name: build(base, setting or {}, changes) for name, changes in p.scenarios.items()}


def measure_patterns(base: Sequence[str], replicates: Iterable[int], workers: int = 1,
                     patterns: Sequence[str] | None = None,
                     setting: Mapping[str, Any] | None = None, progress: bool = False
                     ) -> pd.DataFrame:
    """Every chosen pattern's effects, for every replicate.

    Args:
        base: Hydra override strings of the base scenario (``[]`` for the defaults).
        replicates: replicate indices (the same for every pattern and scenario).
        workers: parallel processes (1 runs here).
        patterns: pattern keys (default: all).
        setting: dotted-key changes of a robustness setting, under each pattern's own.
        progress: show a progress bar.

    Returns:
        One row per (pattern, criterion, replicate): ``pattern, criterion, replicate,
        effect`` (the criterion's name; the effect in its own unit).
    """
    chosen = choose(patterns)
    configs = {p.key: scenario_configs(p, base, setting) for p in chosen}
    jobs = [(p.key, configs[p.key], int(r)) for p in chosen for r in replicates]
    values = _map(measure_replicate, jobs, workers, progress, "validation runs")
    rows = []
    for (key, _, rep), effects in zip(jobs, values, strict=True):
        for crit, effect in zip(pattern(key).criteria, effects, strict=True):
            rows.append({"pattern": key, "criterion": crit.name, "replicate": rep,
                         "effect": effect})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def summarise_patterns(effects: pd.DataFrame) -> list[dict]:
    """Per criterion: mean effect and 95% interval over paired replicates, passed or not.

    Returns:
        One dict per criterion measured, in the order of :data:`PATTERNS`: ``pattern,
        name, criterion`` (its statement), ``form`` (superiority, non-inferiority,
        design property, published range or comparison), ``smallest_effect, unit,
        basis, rule`` (the decision rule in words), ``published`` ([low, high] or
        None), ``effect, ci_low, ci_high, passed, replicates``. A replicate whose
        effect is undefined (NaN) does not count.
    """
    out = []
    for p in PATTERNS:
        for crit in p.criteria:
            sel = effects[(effects["pattern"] == p.key)
                          & (effects["criterion"] == crit.name)]["effect"].dropna()
            if sel.empty:
                continue
            interval = mean_interval(sel.to_numpy())
            out.append({"pattern": p.key, "name": crit.name, "criterion": crit.statement,
                        "form": crit.form, "smallest_effect": crit.smallest_effect,
                        "unit": crit.unit, "basis": crit.basis, "rule": crit.rule,
                        "published": (list(crit.published) if crit.published is not None
                                      else None),
                        "effect": interval.mean, "ci_low": interval.low,
                        "ci_high": interval.high, "passed": crit.passes(interval),
                        "replicates": interval.n})
    return out


def _calibration_summary(config: SimConfig) -> dict:
    return run(config).summary


def calibration_runs(base: Sequence[str], replicates: Iterable[int], workers: int = 1,
                     progress: bool = False) -> pd.DataFrame:
    """Status-quo calibration figures (last burn-in year) of each replicate of the base.

    Returns:
        One row per (replicate, measure): ``replicate, measure, value, low, high,
        source`` (the published range and its source).
    """
    from sim.outcome_spec import CALIBRATION

    reps = [int(r) for r in replicates]
    jobs = [(build(base, replicate=r),) for r in reps]
    summaries = _map(_calibration_summary, jobs, workers, progress, "calibration runs")
    rows = []
    for r, summary in zip(reps, summaries, strict=True):
        for t in CALIBRATION:
            key = f"status_quo.{t.column}"
            if key in summary:
                rows.append({"replicate": r, "measure": t.column, "value": summary[key],
                             "low": t.low, "high": t.high, "source": t.source})
    return pd.DataFrame(rows, columns=["replicate", "measure", "value", "low", "high",
                                       "source"])
