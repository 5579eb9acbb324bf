"""The eleven validation patterns, reduced: a shorter horizon and fewer replicates.

Each criterion must hold with a statistical criterion: the 95% interval of its
paired effect over replicates excludes zero in the stated direction. The full
version is ``uv run collabsim experiment=validation``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from sim import validation as V

REPLICATES = 8
REDUCED = ["time.burn_in_weeks=78", "time.policy_weeks=156"]


@pytest.fixture(scope="module")
def reduced_summary() -> dict[tuple[str, str], dict]:
    base = sim.load_config(REDUCED)
    effects = V.measure_patterns(base, range(REPLICATES), workers=2)
    return {(r["pattern"], r["criterion"]): r for r in V.summarise_patterns(effects)}


CRITERIA = [(p.key, c.statement) for p in V.PATTERNS for c in p.criteria]


def test_eleven_patterns_are_defined() -> None:
    assert len(V.PATTERNS) == 11
    assert len({p.key for p in V.PATTERNS}) == 11


@pytest.mark.parametrize(("pattern", "criterion"), CRITERIA,
                         ids=[f"{p}:{c[:40]}" for p, c in CRITERIA])
def test_pattern_holds(reduced_summary, pattern: str, criterion: str) -> None:
    row = reduced_summary[(pattern, criterion)]
    assert row["passed"], (f"{pattern}: {criterion}: effect {row['effect']:+.4g}, 95% interval "
                           f"[{row['ci_low']:+.4g}, {row['ci_high']:+.4g}] over "
                           f"{row['replicates']} replicates")


def test_interval_decides_pass() -> None:
    effects = pd.DataFrame({"pattern": "1_mandates", "criterion": "coordination",
                            "replicate": range(5), "effect": [-0.1, -0.2, -0.15, -0.12, -0.18]})
    (row,) = V.summarise_patterns(effects)
    assert row["passed"] and row["ci_high"] < 0
    effects["effect"] = [-0.1, 0.2, -0.15, 0.12, -0.18]
    (row,) = V.summarise_patterns(effects)
    assert not row["passed"] and row["ci_low"] < 0 < row["ci_high"]


def test_report_files(tmp_path) -> None:
    config = sim.load_config(["task=validation", "system=teaching", "time.burn_in_weeks=52",
                              "time.policy_weeks=60", "validation.replicates=3",
                              "validation.robustness_replicates=2", "validation.workers=1",
                              "validation.patterns=[7_trust_asymmetry,10_ambition]"])
    status = V.run_validation(config, tmp_path, progress=False)
    entries = json.loads((tmp_path / "validation.json").read_text())
    assert {e["pattern"] for e in entries} == {"7_trust_asymmetry", "10_ambition"}
    for e in entries:
        assert {"pattern", "criterion", "effect", "ci_low", "ci_high", "passed"} <= set(e)
    assert status == (0 if all(e["passed"] for e in entries) else 3)
    report = (tmp_path / "validation.md").read_text()
    assert "## Calibration of the status quo" in report and "## Robustness" in report
    assert (tmp_path / "figures" / "7_trust_asymmetry.png").stat().st_size > 0
    assert not list(tmp_path.glob(".validation-staging-*"))


def test_unknown_pattern_is_a_config_error(tmp_path) -> None:
    config = sim.load_config(["task=validation", "validation.patterns=[12_nonsense]"])
    with pytest.raises(sim.ConfigError, match="12_nonsense"):
        V.run_validation(config, tmp_path, progress=False)
