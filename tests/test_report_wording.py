"""The report's wording for a policy reader (sim.wording, sim.report_md).

Pure functions on small hand-made tables: no model runs, so every case is fast and its
numbers are known exactly. The end-to-end report (a real sweep, the command, the HTML
page in a browser) is tests/test_report_cli.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import report, wording
from sim.outcome_spec import outcome
from sim.report_md import ReportFacts, markdown

NAN = math.nan


# --------------------------------------------------------------------------- numbers
def test_shares_read_as_percentages_and_their_differences_in_points():
    assert wording.value("care_coordination", 0.787, 1) == "78.7%"
    assert wording.value("care_coordination", 0.956, 1) == "95.6%"
    assert wording.difference("care_coordination", -0.015, 1) == "−1.5 pp"
    assert wording.difference("vacancy_rate", 0.0053, 2) == "+0.53 pp"
    assert wording.interval("care_coordination", -0.027, -0.002, 1, signed=True) == \
        "−2.7 to −0.2"


def test_counts_read_as_counts_with_thousands():
    assert wording.value("delayed_handoffs", 1234.4, 0) == "1,234"
    assert wording.difference("n_partnerships", 41.2, 0) == "+41"
    assert wording.value_unit("delayed_handoffs") == "episodes"


def test_undefined_is_never_a_number():
    for text in (wording.value("mean_trust", NAN, 2), wording.difference("mean_trust", NAN, 2),
                 wording.value("care_coordination", None, 1)):
        assert text == "undefined"
    assert wording.interval("mean_trust", NAN, NAN, 2) == "–"


def test_no_negative_zero():
    assert wording.difference("care_coordination", -0.0004, 1) == "0.0 pp"


@pytest.mark.parametrize(("name", "half_widths", "expected"), [
    ("care_coordination", [1.2], 1),      # 1.2 points: one decimal (two figures from a 1)
    ("care_coordination", [13.0, 40.0], 0),  # the narrowest decides; never negative
    ("care_coordination", [0.0004], 1),   # never finer than a tenth of 1 point
    ("vacancy_rate", [0.15], 2),          # threshold 0.5 points allows 0.01
    ("vacancy_rate", [0.3], 1),
    ("mean_trust", [0.03], 2),
    ("delayed_handoffs", [282.0], 0),
    ("delayed_handoffs", [NAN, 0.0], 0),  # no interval: from the values (none here)
])
def test_decimals_come_from_the_interval_and_the_threshold(name, half_widths, expected):
    assert wording.decimals(name, half_widths) == expected


def test_threshold_in_words():
    assert wording.threshold_text("care_coordination") == "1 percentage point"
    assert wording.threshold_text("vacancy_rate") == "0.5 percentage points"
    assert wording.threshold_text("delayed_handoffs") == "1 episode"
    assert wording.threshold_text("mean_trust") == "0.05 0-1"


# --------------------------------------------------------------------------- judgements
@pytest.mark.parametrize(("estimate", "low", "high", "n", "expected"), [
    (0.0005, 0.0003, 0.0007, 20, wording.NEGLIGIBLE),   # the 0.05 points
    (0.006, 0.004, 0.008, 20, wording.MEANINGFUL),
    (-0.006, -0.008, -0.004, 20, wording.MEANINGFUL),
    (0.005, 0.004, 0.006, 20, wording.MEANINGFUL),      # exactly the threshold counts
    (0.006, -0.001, 0.013, 20, wording.UNCLEAR),        # the interval includes 0
    (0.006, 0.0, 0.013, 20, wording.UNCLEAR),
    (0.006, NAN, NAN, 1, wording.UNCLEAR),              # one pair: no interval
    (NAN, NAN, NAN, 0, wording.UNCLEAR),                # undefined in every pair
])
def test_judged_against_the_smallest_meaningful_difference(estimate, low, high, n, expected):
    assert outcome("vacancy_rate").smallest_difference == 0.005
    assert wording.judge("vacancy_rate", estimate, low, high, n) == expected


def test_direction_says_better_or_worse_only_where_the_registry_does():
    assert wording.direction("vacancy_rate", 0.01) == "higher (worse)"
    assert wording.direction("care_coordination", -0.01) == "lower (worse)"
    assert wording.direction("mean_trust", 0.1) == "higher (better)"
    assert wording.direction("n_partnerships", 3) == "higher"


# --------------------------------------------------------------------------- report.md
def _facts(regimes=("local", "mandated"), replicates=4) -> ReportFacts:
    """A two-scenario sweep on the teaching system with known differences.

    mandated - local: care coordination 2 points lower in every replicate (clear and
    meaningful); vacancy rate 0.05 points higher (clear but negligible); mean trust
    undefined in every mandated run (no partnerships) and in one local run.
    """
    rng = np.random.default_rng(1)
    rows = []
    for regime in regimes:
        for r in range(replicates):
            base = rng.normal(0, 0.001)
            mandated = regime == "mandated"
            rows.append({
                "job": f"regime={regime},replicate={r}", "status": "complete", "seed": 0,
                "replicate": r,
                "_overrides": ["system=teaching", "time.policy_weeks=20", f"regime={regime}",
                               f"replicate={r}"],
                "care_coordination": 0.80 + r * 0.01 - (0.02 if mandated else 0) + base / 10,
                "vacancy_rate": 0.10 + r * 0.001 + (0.0005 if mandated else 0) + base / 100,
                "mean_trust": NAN if mandated or r == 0 else 0.5 + r * 0.01,
                "delayed_handoffs": 300.0 + 10 * r + (1.0 if mandated else 0) + base * 5000,
            })
    runs, factors, fixed, order = report.add_scenarios(pd.DataFrame(rows), None)
    outcomes = ["care_coordination", "delayed_handoffs", "vacancy_rate", "mean_trust"]
    refs = report.reference_map(runs, factors, order, {"regime": "local"})
    return ReportFacts(
        sweep_dir=report.Path("results/sweeps/x"), name=None, question=None,
        system="teaching", burn_in_weeks=20, policy_weeks=20,
        factors={"regime": list(regimes)}, fixed=fixed, order=order, refs=refs,
        reference={"regime": "local"}, runs=runs,
        scenarios=report.scenario_table(runs, order, outcomes),
        differences=report.difference_table(runs, refs, outcomes), planned=len(rows))


def test_markdown_names_the_system_and_every_override_first():
    text = markdown(_facts())
    lines = text.splitlines()
    assert lines[0] == "# Sweep of regime on the teaching system"
    opening = "\n".join(lines[:8])
    for override in ("`system=teaching`", "`time.policy_weeks=20`", "`regime=local,mandated`"):
        assert override in opening
    assert text.index("## Main findings") < text.index("## What was compared")


def test_main_findings_claim_only_what_the_tables_show():
    text = markdown(_facts())
    findings = text[text.index("## Main findings"):text.index("## What was compared")]
    assert "care_coordination lower (worse) by 2.0 pp (95% CI" in findings
    assert "Clear but smaller than what matters: vacancy_rate" in findings
    # unclear and undefined outcomes are counted, never named as findings
    assert "delayed_handoffs" not in findings and "mean_trust" not in findings
    assert "Unclear: 2 of 4 main outcomes" in findings


def test_tables_show_percentages_points_and_judgements():
    text = markdown(_facts())
    section = text[text.index("### care_coordination"):text.index("### delayed_handoffs")]
    assert "| scenario | mean (%) | 95% CI | runs |" in section
    assert "| regime=local (reference) | 81.5% |" in section
    assert "difference (pp)" in section and "| −2.0 |" in section
    assert "clear and meaningful: lower (worse)" in section
    assert "a difference matters from 1 percentage point" in section
    vacancy = text[text.index("### vacancy_rate"):text.index("### mean_trust")]
    assert "clear but negligible: higher (worse)" in vacancy
    assert "clearly" not in text  # the old wording, blind to the threshold


def test_undefined_values_read_as_undefined_never_as_minus_100_percent():
    text = markdown(_facts())
    trust = text[text.index("### mean_trust"):text.index("## How sure")]
    assert "| regime=mandated | undefined | – | 0 of 4 (undefined in 4) |" in trust
    assert "3 of 4 (undefined in 1)" in trust
    assert "there are no active partnerships" in trust
    assert "| regime=mandated − regime=local | undefined |" in trust
    assert "−100%" not in text and "-100%" not in text


def test_thresholds_are_stated():
    text = markdown(_facts())
    judged = text[text.index("### How differences are judged"):]
    assert "| care_coordination | 1 percentage point |" in judged
    assert "| vacancy_rate | 0.5 percentage points |" in judged


def test_one_scenario_has_no_findings_to_claim():
    f = _facts(regimes=("local",))
    text = markdown(f)
    findings = text[text.index("## Main findings"):text.index("## What was compared")]
    assert "nothing is compared" in findings and "pp" not in findings
