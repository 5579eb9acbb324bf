"""The whole validation: patterns at the base scenario and at the robustness settings,
the status-quo calibration, and the report."""

from __future__ import annotations

import pandas as pd

from sim.validation.levers import lever_effects
from sim.validation.patterns import ROBUSTNESS, choose
from sim.validation.report import evidence, write_report
from sim.validation.runner import calibration_runs, measure_patterns, summarise_patterns
from sim.validation.scenarios import build
from sim.validation.settings import Settings


def run_validation(settings: Settings, progress: bool = True) -> int:
    """Run the validation described by ``settings`` and write its report to ``settings.out``.

    Writes ``validation.md``, ``validation.json`` (one entry per criterion at the base
    scenario), ``robustness.csv``, ``effects.csv`` (every replicate), ``calibration.csv``,
    ``decomposition.csv`` (the regime decomposition's effects, when it runs) and
    ``figures/``.

    Returns:
        0 if every criterion that counts as evidence passed at the base scenario, 3 if
        some did not (design properties and comparisons do not count).

    Raises:
        sim.ConfigError: an unknown pattern or a bad override, before anything runs.
    """
    chosen = [p.key for p in choose(settings.patterns)]
    base = build(settings.overrides)  # a mistake in the overrides fails here, first
    reps = range(settings.replicates)
    effects = measure_patterns(settings.overrides, reps, settings.workers, chosen,
                               progress=progress)
    effects.insert(0, "setting", "defaults")
    summary = summarise_patterns(effects)
    robust_rows: list[dict] = []
    if settings.robustness_replicates:
        for name, changes in ROBUSTNESS.items():
            alt = measure_patterns(settings.overrides, range(settings.robustness_replicates),
                                   settings.workers, chosen, setting=changes,
                                   progress=progress)
            alt.insert(0, "setting", name)
            effects = pd.concat([effects, alt], ignore_index=True)
            robust_rows += [{"setting": name, **row} for row in summarise_patterns(alt)]
    calib = calibration_runs(settings.overrides, reps, settings.workers, progress)
    levers = (lever_effects(settings.overrides, range(settings.decomposition_replicates),
                            settings.workers, progress)
              if settings.decomposition_replicates else None)
    report = write_report(settings, base, effects, summary, robust_rows, calib, levers)
    counted = evidence(summary)  # design properties and comparisons are not evidence
    passed = sum(r["passed"] for r in counted)
    print(f"validation: {passed} of {len(counted)} criteria passed at the defaults "
          f"({len(reps)} paired replicates); report: {report}")
    return 0 if passed == len(counted) else 3
