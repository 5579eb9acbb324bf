"""One measurement each, run in a fresh Python process by the harness (``benchmarks.run``).

Usage (the harness does this; by hand only for debugging)::

    echo '[{"task": "run", "system": "ics", "scale": 1}]' | python -m benchmarks.tasks

Reads a JSON list of task specs on stdin, runs them in order and prints one line
``BENCHMARK-RESULT <json>`` per task. Peak memory is this process's own maximum
resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so it is a
per-measurement figure only when the process ran a single task.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time

MARKER = "BENCHMARK-RESULT "


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (MB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def scenario(spec: dict):
    """The scenario as the ``collabsim`` command would compose it (Hydra, ``configs/``)."""
    import sim

    overrides = [f"system={spec['system']}", f"system.scale={spec.get('scale', 1.0)}",
                 f"seed={spec.get('seed', 0)}"]
    if spec.get("burn_in_weeks") is not None:
        overrides.append(f"time.burn_in_weeks={spec['burn_in_weeks']}")
    if spec.get("policy_weeks") is not None:
        overrides.append(f"time.policy_weeks={spec['policy_weeks']}")
    overrides += spec.get("overrides", [])
    return sim.load_config(overrides)


def load_kernels() -> None:
    """Load the model's compiled kernels (``sim.jit``) before anything is timed, as the
    imports are: a process's first run pays for loading them from the on-disk cache
    (about half a second; compiling them, once per checkout, about 20 s of CPU), which
    the first-run figure (``benchmarks.issue16.first_run``) counts and a run's timing
    does not. A short hybrid run calls every kernel."""
    import sim

    sim.run(sim.load_config(["system=teaching", "time.burn_in_weeks=8",
                             "time.policy_weeks=60", "regime=hybrid"]))


def task_run(spec: dict) -> dict:
    """One run as ``sim.run`` does it, timed in parts: build, weekly steps, outcome table."""
    from sim.model import CollaborationModel
    from sim.outcomes import summarise

    load_kernels()
    config = scenario(spec)
    rss_before = peak_rss_mb()
    c0 = time.process_time()
    t0 = time.perf_counter()
    model = CollaborationModel(config)
    t1 = time.perf_counter()
    c1 = time.process_time()
    weeks = config.time.burn_in_weeks + config.time.policy_weeks
    for _ in range(weeks):
        model.step()
    t2 = time.perf_counter()
    c2 = time.process_time()
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    summarise(weekly)
    t3 = time.perf_counter()
    c3 = time.process_time()
    return {
        "providers": model.n_providers,
        "weeks": weeks,
        "mean_partnerships": float(weekly["n_partnerships"].mean()),
        "final_partnerships": int(len(model.partnerships)),
        "build_seconds": t1 - t0,
        "step_seconds": t2 - t1,
        # CPU time this process got while stepping, over wall time: below ~0.95 means
        # other processes took the CPU for part of the measurement
        "step_cpu_share": (c2 - c1) / (t2 - t1),
        "collect_frame_seconds": t3 - t2,
        "total_seconds": t3 - t0,
        "total_cpu_seconds": c3 - c0,
        "rss_before_model_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def task_shares(spec: dict) -> dict:
    """Share of step time per mechanism (timing wrappers; see ``benchmarks.shares``)."""
    from benchmarks import shares

    load_kernels()
    return shares.measure(scenario(spec))


def task_sweep(spec: dict) -> dict:
    """``sim.run_many`` over ``runs`` replicates with 1 worker, then 2 (cold and warm pool)."""
    import sim

    config = scenario(spec)
    seeds = list(range(spec.get("runs", 8)))
    repeats = spec.get("repeats", 1)
    weeks = config.time.burn_in_weeks + config.time.policy_weeks

    def timed(workers: int) -> float:
        start = time.perf_counter()
        many = sim.run_many({spec["system"]: config}, replicates=seeds, workers=workers)
        seconds = time.perf_counter() - start
        assert len(many.weekly) == len(seeds) * weeks
        return seconds

    load_start = os.getloadavg()[0]
    serial = [timed(1)]
    cold = timed(2)  # starts joblib's (loky) worker processes: what a one-off sweep pays
    warm = []  # loky reuses its workers; alternate so that bursts of load hit both
    for i in range(repeats):
        warm.append(timed(2))
        if i < repeats - 1:
            serial.append(timed(1))
    t1, t2c, t2w = statistics.median(serial), cold, statistics.median(warm)
    providers = sim.CollaborationModel(config).n_providers
    return {
        "system": spec["system"], "runs": len(seeds), "weeks": weeks, "providers": providers,
        "serial_seconds": t1, "serial_all": serial,
        "parallel_cold_seconds": t2c, "parallel_warm_seconds": t2w, "parallel_warm_all": warm,
        "efficiency_cold": t1 / (2 * t2c), "efficiency_warm": t1 / (2 * t2w),
        "runs_per_minute_serial": 60 * len(seeds) / t1,
        "runs_per_minute_parallel": 60 * len(seeds) / t2w,
        "provider_weeks_per_second_parallel": providers * weeks * len(seeds) / t2w,
        # 1-minute load average before and after (includes this sweep's own 1-2 processes)
        "load_start": load_start, "load_end": os.getloadavg()[0],
    }


def task_per_agent(spec: dict) -> dict:
    """Per-agent reference vs vectorised mechanisms: agreement and speed-up."""
    from benchmarks import per_agent

    config = scenario(spec)
    exact = per_agent.compare_exact(config, weeks=spec.get("exact_weeks", 8))
    stat = per_agent.compare_statistical(config, weeks=spec.get("weeks", 12),
                                         replicates=spec.get("replicates", 8))
    stat["exact"] = exact
    return stat


TASKS = {"run": task_run, "shares": task_shares, "sweep": task_sweep,
         "per_agent": task_per_agent}


def main() -> None:
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    specs = json.load(sys.stdin)
    for spec in specs:
        start = time.perf_counter()
        result = TASKS[spec["task"]](spec)
        result.update({"spec": spec, "task_wall_seconds": time.perf_counter() - start,
                       "peak_rss_mb": peak_rss_mb() if "peak_rss_mb" not in result
                       else result["peak_rss_mb"], "pid": os.getpid(),
                       "fresh_process": len(specs) == 1})
        print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
