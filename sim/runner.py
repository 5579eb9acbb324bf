"""Run one replicate or many; no command line and no files here."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.config import SimConfig
from sim.model import CollaborationModel
from sim.outcomes import summarise


@dataclass
class RunResult:
    """The outcome of one run.

    Attributes:
        weekly: one row per simulated week: ``week`` (counted from the regime switch,
            negative during burn-in) and the outcome columns.
        summary: scalars (final-year means, values at the switch, calibration).
        config: the scenario that was run; seed: its seed; wall_seconds: run time.
        providers: per-provider snapshots (only if ``output.agent_snapshot_every`` > 0).
        partnerships: the active partnerships at the same weeks as ``providers`` (one row per
            partnership and snapshot week; see ``CollaborationModel.partnership_frame``).
    """

    weekly: pd.DataFrame
    summary: dict
    config: SimConfig
    seed: int
    wall_seconds: float
    providers: pd.DataFrame | None = field(default=None)
    partnerships: pd.DataFrame | None = field(default=None)


def run(config: SimConfig | None = None, seed: int | None = None) -> RunResult:
    """Simulate one scenario with one seed (default: ``config.seed``) and collect outcomes."""
    config = config or SimConfig()
    seed = config.seed if seed is None else int(seed)
    if seed != config.seed:
        config = dataclasses.replace(config, seed=seed)
    start = time.perf_counter()
    model = CollaborationModel(config)
    total = config.time.burn_in_weeks + config.time.policy_weeks
    every = config.output.agent_snapshot_every
    snapshots, partnership_snapshots = [], []
    weeks: Iterable[int] = range(total)
    if config.output.progress_bar:
        from tqdm.auto import tqdm

        weeks = tqdm(weeks, desc=f"seed {seed}", unit="week")
    for _ in weeks:
        model.step()
        if every and (model.week % every == 0):
            snapshots.append(provider_snapshot(model))
            partnership_snapshots.append(partnership_snapshot(model))
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    weekly["week"] = weekly["week"].astype(np.int64)
    summary = summarise(weekly)
    providers = pd.concat(snapshots, ignore_index=True) if snapshots else None
    partnerships = (pd.concat(partnership_snapshots, ignore_index=True)
                    if partnership_snapshots else None)
    return RunResult(weekly, summary, config, seed, time.perf_counter() - start, providers,
                     partnerships)


def provider_snapshot(model: CollaborationModel) -> pd.DataFrame:
    """Per-provider state at the current week (for optional snapshots)."""
    st = model.state
    return pd.DataFrame({
        "week": model.week - 1, "provider": np.arange(model.n_providers),
        "kind": st.kind, "area": st.area, "x_km": st.xy[:, 0], "y_km": st.xy[:, 1],
        "staff": st.staff, "funded": st.funded,
        "pressure": st.pressure, "faith": st.faith, "admin_share": st.admin_share,
        "quality": st.quality, "partners": model.degree, "autonomy_loss": st.autonomy_loss,
    })


def partnership_snapshot(model: CollaborationModel) -> pd.DataFrame:
    """The active partnerships at the current week (for optional snapshots)."""
    frame = model.partnership_frame()
    frame.insert(0, "week", model.week - 1)
    return frame


def _run_one(config: SimConfig, seed: int, scenario: str) -> pd.DataFrame:
    result = run(config, seed)
    weekly = result.weekly
    weekly.insert(0, "seed", seed)
    weekly.insert(0, "scenario", scenario)
    return weekly


def run_many(scenarios: dict[str, SimConfig] | Sequence[SimConfig], seeds: Sequence[int],
             workers: int = 1) -> pd.DataFrame:
    """Run every scenario with every seed (common random numbers) and stack the weekly tables.

    Args:
        scenarios: named configs, or a list (named by position and regime).
        seeds: replicate seeds, shared by all scenarios so that differences are paired.
        workers: parallel processes (1 runs in this process).

    Returns:
        A tidy DataFrame: scenario, seed, week and the outcome columns.
    """
    if not isinstance(scenarios, dict):
        scenarios = {f"{i}:{c.regime.name}": c for i, c in enumerate(scenarios)}
    jobs = [(cfg, int(s), name) for name, cfg in scenarios.items() for s in seeds]
    if workers <= 1:
        frames = [_run_one(*job) for job in jobs]
    else:
        from joblib import Parallel, delayed

        frames = Parallel(n_jobs=workers)(delayed(_run_one)(*job) for job in jobs)
    return pd.concat(frames, ignore_index=True)
