"""The regime decomposition inside the validation: which lever makes the mandate's gap.

The same 2^k factorial as ``collabsim experiment=regime_decomposition`` (the levers that
differ between ``configs/regime/local.yaml`` and ``mandated.yaml``, read by
:func:`sim.decomposition.regime_levers`), run through the public runner on the
validation's base scenario with the validation's paired replicates, and analysed by the
same estimator (:func:`sim.decomposition.factorial_effects`). Running it here, rather
than reading a sweep folder, keeps the report one command at one commit: its
decomposition cannot come from other code or another scenario.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from sim import decomposition as D
from sim.config import SimConfig
from sim.runner import run
from sim.validation.runner import _map
from sim.validation.scenarios import build

#: The label every cell carries (the levers, not the preset, are the scenario).
CELL_NAME = "decomposition"


def cells(levers: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """Every combination of the levers' two values (2^k dotted-key mappings)."""
    keys = list(levers)
    return [dict(zip(keys, values, strict=True))
            for values in itertools.product(*(levers[k] for k in keys))]


def _cell_summary(config: SimConfig, outcomes: tuple[str, ...]) -> list[float]:
    summary = run(config).summary
    return [float(summary[o]) for o in outcomes]


def lever_runs(base: Sequence[str], replicates: Iterable[int], workers: int = 1,
               outcomes: Sequence[str] = D.OUTCOMES, progress: bool = False
               ) -> tuple[pd.DataFrame, dict[str, tuple[Any, Any]]]:
    """Run every cell of the factorial as every replicate.

    Args:
        base: Hydra override strings of the base scenario.
        replicates: replicate indices, the same in every cell (common random numbers).
        workers: parallel processes.
        outcomes: summary columns kept (each the mean of the final 52 policy weeks).

    Returns:
        The runs table (a column per lever, ``replicate`` and one per outcome) and the
        levers ``{key: (local value, mandated value)}``.
    """
    levers = D.regime_levers()
    outcomes = tuple(outcomes)
    reps = [int(r) for r in replicates]
    grid = cells(levers)
    jobs = [(build(base, {**cell, "regime.name": CELL_NAME}, replicate=r), outcomes)
            for cell in grid for r in reps]
    values = _map(_cell_summary, jobs, workers, progress, "decomposition runs")
    rows = [{**cell, "replicate": r, **dict(zip(outcomes, v, strict=True))}
            for (cell, r), v in zip(itertools.product(grid, reps), values, strict=True)]
    return pd.DataFrame(rows), levers


def lever_effects(base: Sequence[str], replicates: Iterable[int], workers: int = 1,
                  progress: bool = False) -> pd.DataFrame:
    """Each lever's main effect, the two-lever interactions and the total gap with 95%
    intervals (:func:`sim.decomposition.factorial_effects`); ``attrs["factors"]`` holds
    the levers, as :func:`sim.decomposition.markdown` expects."""
    runs, levers = lever_runs(base, replicates, workers, progress=progress)
    effects = D.factorial_effects(runs, levers)
    effects.attrs["factors"] = levers
    return effects
