"""Validation against the evidence: the patterns of MODEL.md, with paired replicates.

Each pattern names the scenarios it compares, criteria stated before running, and an
*effect* measured within one replicate from the runs' results (all scenarios of a
pattern share the replicate's random streams, so they share the map, the burn-in and
the weekly draws: common random numbers). Over replicates, the effect's mean and 95%
interval (:mod:`sim.stats`) decide each criterion.

Modules, one job each: :mod:`.patterns` (what is compared and what must hold),
:mod:`.measures` (effects from :class:`sim.RunResult` data), :mod:`.scenarios`
(composing scenarios with :func:`sim.load_config`), :mod:`.runner` (running through
:func:`sim.run`, summarising), :mod:`.report` (markdown, JSON, figures), :mod:`.suite`
(the whole run), :mod:`.settings` and :mod:`.cli` (``collabsim-validate``).

From Python::

    from sim.validation import Settings, run_validation
    run_validation(Settings(overrides=("system=teaching",), replicates=5,
                            robustness_replicates=0, out=Path("/tmp/validation")))
"""

from sim.validation.patterns import PATTERNS, ROBUSTNESS, Criterion, Pattern
from sim.validation.runner import calibration_runs, measure_patterns, summarise_patterns
from sim.validation.settings import Settings
from sim.validation.suite import run_validation

__all__ = ["PATTERNS", "ROBUSTNESS", "Criterion", "Pattern", "Settings", "calibration_runs",
           "measure_patterns", "run_validation", "summarise_patterns"]
