"""The between-site validation pattern (sim/between_sites.py) on a tiny England.

Its measures by hand, the whole command on England's 42 ICBs at 2% of the providers and
a 20-week horizon (what it writes, and that validation.md keeps everything else), a bad
argument, and that a regenerated validation report keeps the section.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim import between_sites as bs
from sim.validation.report import markdown as report_markdown
from sim.validation.report import markers
from sim.validation.settings import Settings

TINY = ["system.scale=0.02", "time.burn_in_weeks=14", "time.policy_weeks=6"]


def test_history_effect_is_the_gap_between_the_groups_means() -> None:
    mandated = np.array([0.70, 0.60, 0.80, np.nan])
    local = np.array([0.75, 0.60, 0.70, 0.50])
    score = np.array([1.0, 0.5, 0.0, 0.0])
    # with history: -0.05 and 0.0 -> -0.025; without: +0.10 (the NaN area skipped)
    assert bs.history_effect(mandated, local, score) == pytest.approx(-0.125)
    assert math.isnan(bs.history_effect(mandated, local, np.zeros(4)))


def test_area_table_counts_an_area_as_moving_only_when_its_interval_excludes_zero() -> None:
    areas = pd.DataFrame({"area": [0, 1, 2], "area_code": ["a", "b", "c"],
                          "area_name": ["A", "B", "C"]})
    local = np.array([[0.5, 0.5, 0.5], [0.6, 0.6, 0.6], [0.7, 0.7, 0.7]])
    mandated = local + np.array([[0.10, -0.10, 0.05], [0.11, -0.09, -0.05],
                                 [0.09, -0.11, 0.01]])
    t = bs.area_table(mandated, local, areas, np.array([0.0, 1.0, 0.5])).set_index("area")
    assert t.loc[0, "move"] == "up" and t.loc[1, "move"] == "down"
    assert t.loc[2, "move"] == "unclear"
    assert t.loc[0, "effect"] == pytest.approx(0.10)
    assert bs.BOTH_WAYS.passes(3, 3) and not bs.BOTH_WAYS.passes(41, 1)


def test_the_criteria_are_stated_with_their_smallest_effect() -> None:
    assert bs.HISTORY.direction == -1
    assert bs.HISTORY.smallest_effect == sim.outcome("care_coordination").smallest_difference
    assert bs.BOTH_WAYS.minimum == bs.MIN_AREAS_EACH_WAY == 3
    assert bs.MODELS["without_context"] == {
        "context.regional_labour_market": 0.0, "context.collaboration_history": 0.0,
        "context.area_leadership_spread": 0.0}


def test_the_command_writes_its_files_and_merges_its_section(tmp_path) -> None:
    (tmp_path / "validation.md").write_text("# Validation\n\nearlier text\n", encoding="utf-8")
    status = bs.main([*TINY, "--replicates", "2", "--workers", "1", "--out", str(tmp_path),
                      "--no-progress"])
    assert status in (0, 3)
    verdicts = json.loads((tmp_path / "between_sites.json").read_text(encoding="utf-8"))
    assert set(verdicts) == {"with_context", "without_context"}
    for v in verdicts.values():
        assert v["history"]["replicates"] == 2 and v["both_directions"]["areas"] == 42
        assert isinstance(v["history"]["passed"], bool)
    assert status == (0 if all(verdicts["with_context"][k]["passed"]
                               for k in ("history", "both_directions")) else 3)
    areas = pd.read_csv(tmp_path / "between_sites.csv")
    assert len(areas) == 84 and set(areas["move"]) <= {"up", "down", "unclear"}
    cal = pd.read_csv(tmp_path / "regional_calibration.csv")
    assert len(cal) == 2 * 14 and set(cal["sector"]) == {"nhs", "social_care"}
    assert cal["simulated"].between(0, 1).all()
    london = cal[(cal["region"] == "London") & (cal["sector"] == "nhs")]
    assert (london["published"] == 0.125).all()
    text = (tmp_path / "validation.md").read_text(encoding="utf-8")
    start, end = markers("between_sites")
    assert text.startswith("# Validation\n\nearlier text\n") and text.count(start) == 1
    assert "## Between-site variation" in text and "was not regenerated" in text
    # running again replaces the section, it does not add a second one
    bs.merge_into(tmp_path / "validation.md", "## Between-site variation\n\nnew")
    text = (tmp_path / "validation.md").read_text(encoding="utf-8")
    assert text.count(start) == 1 == text.count(end) and "\nnew\n" in text


def test_a_bad_argument_fails_before_anything_runs(tmp_path, capsys) -> None:
    assert bs.main(["--replicates", "1", "--out", str(tmp_path)]) == 2
    assert "replicates >= 2" in capsys.readouterr().err
    assert bs.main(["context.collaboration_history=3", "--out", str(tmp_path)]) == 2
    assert "context.collaboration_history=3" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_regenerated_validation_report_keeps_the_section(tmp_path) -> None:
    (tmp_path / "between_sites.md").write_text("## Between-site variation\n\nkept\n",
                                               encoding="utf-8")
    robust = [{"setting": "low_trust", "pattern": "1_mandates", "criterion": "coordination",
               "passed": False, "effect": -0.001, "ci_low": -0.02, "ci_high": 0.01}]
    text = report_markdown(Settings(out=tmp_path), sim.SimConfig(), [], robust,
                           pd.DataFrame(), {})
    start, end = markers("between_sites")
    assert f"{start}\n## Between-site variation\n\nkept\n{end}" in text
    assert "## Robustness" in text  # the other sections are still there


def test_the_files_are_replaced_all_or_none(tmp_path) -> None:
    """A write that fails part way leaves every file as it was and no temporary file."""
    (tmp_path / "between_sites.md").write_text("old\n", encoding="utf-8")
    texts = {tmp_path / "between_sites.md": "new\n",
             tmp_path / "missing" / "between_sites.json": "{}\n"}  # its folder is absent
    with pytest.raises(OSError):
        bs.replace_files(texts)
    assert (tmp_path / "between_sites.md").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["between_sites.md"]
    bs.replace_files({tmp_path / "between_sites.md": "new\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["between_sites.md"]
    assert (tmp_path / "between_sites.md").read_text(encoding="utf-8") == "new\n"
