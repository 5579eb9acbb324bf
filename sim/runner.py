"""Run one replicate or many; no command line and no files here.

Replicates mean one thing everywhere: replicate ``r`` of root seed ``s`` draws its random
numbers from the ``r``-th child of ``numpy.random.SeedSequence(s)``. So
``sim.run(config, replicate=3)`` is exactly the run that ``collabsim replicate=3`` (with
the same other overrides) writes, and :func:`run_many` pairs scenarios exactly as a sweep
does: the same replicate index gives every scenario the same streams (common random
numbers), so differences between scenarios can be taken replicate by replicate.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, SimConfig, from_dict
from sim.inputs import checked, whole_number
from sim.model import CollaborationModel
from sim.outcomes import summarise
from sim.processes import map_in_processes

__all__ = ["ManyResult", "RunResult", "provider_snapshot", "run", "run_many"]


@dataclass
class RunResult:
    """The outcome of one run.

    Attributes:
        weekly: one row per simulated week: ``week`` (counted from the regime switch,
            negative during burn-in) and the outcome columns.
        summary: scalars (final-year means, values at the switch, calibration).
        config: the scenario that was run (its ``seed`` and ``replicate`` included).
        seed: the root seed; replicate: the replicate index (the stream is the
            replicate-th child of the root seed; default ``config.replicate``).
        wall_seconds: run time (s).
        cpu_seconds: CPU time this process spent on the run (s, ``time.process_time``
            over the same span as ``wall_seconds``); below ``wall_seconds`` when other
            processes took the CPU. None for a result built by hand.
        providers: per-provider snapshots (only if ``output.agent_snapshot_every`` > 0).
        partnerships: the active partnerships at the same weeks as ``providers`` (one row per
            partnership and snapshot week; see ``CollaborationModel.partnership_frame``).
        by_kind: the by-kind outcomes, one row per week and provider kind (columns
            ``sim.outcomes.BY_KIND_COLUMNS``: ``week``, ``kind``, ``providers`` and the
            outcomes declared with ``by_kind=True``); None for a result built by hand.
        areas: one row per area (``area`` index as in snapshots, ``area_code``, e.g. an
            ICB's ONS code, ``area_name``, ``providers``); None for a result built by hand.
        by_area: the main outcomes per area, one row per week and area (columns
            ``sim.outcomes.BY_AREA_COLUMNS``: ``week``, ``area``, ``area_code``,
            ``area_name``, the outcomes declared with ``by_area=ByArea(...)``, then the
            weights that combine areas into the national value: ``providers``,
            ``funded_fte``, ``staff_fte``, ``handoffs_due``, ``workload``,
            ``partnerships_at_switch``). A partnership counts half in the area of each
            of its providers, flows in the sender's area; an area's value is NaN where
            it is undefined for that area. ``sim.outcomes.national_from_areas(by_area)``
            gives back the weekly table's national values (all but ``workload_gini``,
            a within-area Gini); None for a result built by hand.
    """

    weekly: pd.DataFrame
    summary: dict
    config: SimConfig
    seed: int
    wall_seconds: float
    providers: pd.DataFrame | None = field(default=None)
    replicate: int | None = None
    partnerships: pd.DataFrame | None = field(default=None)
    by_kind: pd.DataFrame | None = field(default=None)
    areas: pd.DataFrame | None = field(default=None)
    by_area: pd.DataFrame | None = field(default=None)
    cpu_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.replicate is None:  # built by hand: the config says which replicate
            self.replicate = int(self.config.replicate)


def run(config: SimConfig | None = None, *, replicate: int | None = None,
        seed: int | None = None) -> RunResult:
    """Simulate one replicate of a scenario and collect its outcomes.

    ``run(config, replicate=r)`` is exactly the run the command line makes with
    ``replicate=r`` and the same other overrides.

    Args:
        config: the scenario (default ``SimConfig()``).
        replicate: replicate index, >= 0 (default: ``config.replicate``).
        seed: root seed, >= 0 (default: ``config.seed``); keep it fixed across scenarios
            and vary ``replicate`` to get paired replicates.

    Raises:
        ConfigError: ``config`` is not a valid SimConfig (it is validated again here, so
            a field changed after it was built is caught, naming the key), or
            ``replicate`` or ``seed`` is not a whole number in the schema's range.
        TypeError: ``replicate`` or ``seed`` given by position (both are keyword-only,
            so that an old ``run(config, 3)`` cannot silently mean something else).
    """
    config = checked(SimConfig() if config is None else config)
    config = with_replicate(config, replicate=replicate, seed=seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    model = CollaborationModel(config)
    total = config.time.burn_in_weeks + config.time.policy_weeks
    every = config.output.agent_snapshot_every
    snapshots, partnership_snapshots = [], []
    weeks: Iterable[int] = range(total)
    if config.output.progress_bar:
        from tqdm.auto import tqdm

        weeks = tqdm(weeks, desc=f"replicate {config.replicate}", unit="week")
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
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return RunResult(weekly, summary, config, config.seed, wall,
                     providers, config.replicate, partnerships, model.by_kind_frame(),
                     model.table.area_frame(), model.by_area_frame(), cpu_seconds=cpu)


def with_replicate(config: SimConfig, *, replicate: int | None = None,
                   seed: int | None = None) -> SimConfig:
    """``config`` with another replicate index and/or root seed, checked by the schema.

    NumPy integers are accepted; a bool or a float is not.

    Raises:
        ConfigError: a value outside the schema's range, or not an integer.
    """
    changes: dict[str, int] = {}
    for key, value in (("replicate", replicate), ("seed", seed)):
        if value is None:
            continue
        number = whole_number(key, value)
        if number != getattr(config, key):
            changes[key] = int(number)
    if not changes:
        return config
    from_dict(changes)  # the schema's range check for these keys, with its message
    return dataclasses.replace(config, **changes)


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


@dataclass
class ManyResult:
    """The runs of :func:`run_many`, as two tidy tables keyed by scenario and replicate.

    Attributes:
        weekly: one row per run and week: ``scenario``, ``seed``, ``replicate``, ``week``
            and the outcome columns.
        summaries: one row per run: ``scenario``, ``seed``, ``replicate`` and every
            summary value (as in ``summary.json``).
        by_kind: one row per run, week and provider kind: ``scenario``, ``seed``,
            ``replicate`` and the by-kind table's columns (``RunResult.by_kind``).
        by_area: one row per run, week and area: ``scenario``, ``seed``, ``replicate``
            and the by-area table's columns (``RunResult.by_area``).
    """

    weekly: pd.DataFrame
    summaries: pd.DataFrame
    by_kind: pd.DataFrame | None = None
    by_area: pd.DataFrame | None = None


def _run_one(config: SimConfig, replicate: int, scenario: str
             ) -> tuple[pd.DataFrame, dict, pd.DataFrame, pd.DataFrame]:
    result = run(config, replicate=replicate)
    for table in (result.weekly, result.by_kind, result.by_area):
        table.insert(0, "replicate", result.replicate)
        table.insert(0, "seed", result.seed)
        table.insert(0, "scenario", scenario)
    row = {"scenario": scenario, "seed": result.seed, "replicate": result.replicate}
    row.update(result.summary)
    return result.weekly, row, result.by_kind, result.by_area


def run_many(scenarios: Mapping[str, SimConfig] | Sequence[SimConfig],
             replicates: Iterable[int] | None = None, workers: int = 1, *,
             seed: int | None = None, seeds: Any = None) -> ManyResult:
    """Run every scenario with every replicate, paired exactly as a sweep pairs them.

    Every scenario's replicate ``r`` uses the ``r``-th child of the root seed, so with one
    root seed the same replicate index gives every scenario the same random streams
    (common random numbers), and run ``(scenario, r)`` equals ``run(config, replicate=r)``
    and the command line's ``replicate=r``.

    Args:
        scenarios: named configs, or a list (named ``"<position>:<regime>"``).
        replicates: replicate indices, any iterable of whole numbers, e.g. ``range(20)``
            or a generator (read once; default: each config's own ``replicate``, i.e. one
            run per scenario).
        workers: parallel processes (1 runs in this process); results do not depend on it.
            On Linux they are forks of this process (no imports to repeat), unless it
            runs other Python threads (e.g. in a notebook), then fresh processes
            (:mod:`sim.processes`).
        seed: root seed for every scenario (default: each config's own ``seed``; a sweep
            uses one root seed, so keep the configs' seeds equal to pair them).
        seeds: removed. It used to mean a list of root seeds paired by seed, which gave
            different runs from the command line's replicates; passing it raises
            TypeError naming the replacement (``replicates=range(n)``, ``seed=``).

    Returns:
        A :class:`ManyResult` with ``.weekly``, ``.summaries``, ``.by_kind`` and
        ``.by_area``, rows in the order
        scenario by scenario, replicate by replicate.

    Raises:
        TypeError: ``seeds=`` given.
        ConfigError: before any run: no scenario, a scenario that is not a valid
            SimConfig, an empty ``replicates``, or a replicate or seed that is not a
            whole number in the schema's range.
    """
    if seeds is not None:
        raise TypeError("run_many(seeds=...) was removed: replicates now mean what a sweep "
                        "and the command line mean. Use run_many(scenarios, "
                        "replicates=range(n), seed=ROOT) for n paired replicates of one root "
                        "seed (replicate r is exactly `collabsim replicate=r`)")
    if isinstance(scenarios, SimConfig | str | bytes) or not isinstance(
            scenarios, Mapping | Iterable):
        raise ConfigError("scenarios must be a mapping of names to SimConfigs or a list of "
                          f"SimConfigs, not {type(scenarios).__name__}")
    if not isinstance(scenarios, Mapping):
        scenarios = list(scenarios)
        for c in scenarios:
            checked(c)
        scenarios = {f"{i}:{c.regime.name}": c for i, c in enumerate(scenarios)}
    if not scenarios:
        raise ConfigError("run_many needs at least one scenario")
    configs = {name: with_replicate(checked(cfg), seed=seed) for name, cfg in scenarios.items()}
    wanted = None
    if replicates is not None:
        if isinstance(replicates, str | bytes) or not isinstance(replicates, Iterable):
            raise ConfigError(f"replicates={replicates!r} must be an iterable of whole "
                              "numbers, e.g. range(20)")
        wanted = [whole_number("replicate", r) for r in replicates]  # read once
        if not wanted:
            raise ConfigError("replicates is empty; give at least one replicate index, "
                              "e.g. replicates=range(20)")
    jobs = []
    for name, cfg in configs.items():
        for r in [cfg.replicate] if wanted is None else wanted:
            jobs.append((with_replicate(cfg, replicate=r), r, name))
    # forks of this process where safe (they inherit its imports and loaded kernels),
    # else fresh loky processes: sim.processes says which and why
    out = map_in_processes(_run_one, jobs, workers)
    weekly = pd.concat([w for w, _, _, _ in out], ignore_index=True)
    summaries = pd.DataFrame([row for _, row, _, _ in out])
    by_kind = pd.concat([k for _, _, k, _ in out], ignore_index=True)
    by_area = pd.concat([a for _, _, _, a in out], ignore_index=True)
    return ManyResult(weekly, summaries, by_kind, by_area)
