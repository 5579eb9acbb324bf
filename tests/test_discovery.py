"""Known-answer tests of sim.discovery: PRIM (EMA Workbench) finds a planted box.

A Latin hypercube of five inputs, two of them inert, stands in for the discovery design;
the cases are planted in a box (x1 < 0.3 and x2 > 0.6) with a little label noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from sim import discovery as D

KEYS = ["context.initial_trust", "workforce.fill_rate", "culture.spread", "inert.one",
        "inert.two"]


def design(n: int = 600, seed: int = 2) -> pd.DataFrame:
    return pd.DataFrame(qmc.LatinHypercube(d=len(KEYS), seed=seed).random(n), columns=KEYS)


def planted(X: pd.DataFrame) -> np.ndarray:
    return ((X[KEYS[0]] < 0.3) & (X[KEYS[1]] > 0.6)).to_numpy()


@pytest.fixture(scope="module")
def found():
    X = design()
    rng = np.random.default_rng(1)
    y = planted(X) ^ (rng.random(len(X)) < 0.03)  # 3% of labels flipped
    return X, y, D.find_boxes(X, y, threshold=None, direction="helps")


def test_prim_recovers_planted_box(found):
    X, y, boxes = found
    assert len(boxes) >= 1
    box = boxes[0]
    assert box.name == "helps-1" and box.direction == "helps"
    assert set(box.limits) == {KEYS[0], KEYS[1]}  # the inert inputs and culture.spread free
    lo0, hi0 = box.limits[KEYS[0]]
    lo1, hi1 = box.limits[KEYS[1]]
    assert hi0 == pytest.approx(0.3, abs=0.04) and lo0 <= X[KEYS[0]].min() + 0.02
    assert lo1 == pytest.approx(0.6, abs=0.04) and hi1 >= X[KEYS[1]].max() - 0.02
    assert box.coverage >= 0.75 and box.density >= 0.85
    assert box.mass == pytest.approx(0.3 * 0.4, abs=0.03)
    assert box.total_cases == int(y.sum()) and box.n_points == len(X)
    inside = ((X[KEYS[0]] >= lo0) & (X[KEYS[0]] <= hi0)
              & (X[KEYS[1]] >= lo1) & (X[KEYS[1]] <= hi1)).to_numpy()
    assert box.n == inside.sum() and box.cases == (y & inside).sum()  # stats are the box's
    t = box.trajectory
    assert t["chosen"].sum() == 1 and t["coverage"].iloc[0] == 1.0
    assert set(box.p_values) == set(box.limits) and max(box.p_values.values()) < 0.05


def test_scored_effects_become_cases_by_threshold_and_direction():
    effect = np.array([0.02, 0.005, -0.02, -0.005, 0.0])
    assert D.cases(effect, threshold=0.01, direction="helps").tolist() == [
        True, False, False, False, False]
    assert D.cases(effect, threshold=0.01, direction="worse").tolist() == [
        False, False, True, False, False]
    # where lower is better (e.g. vacancy_rate), a fall helps
    assert D.cases(effect, threshold=0.01, direction="helps", better="lower").tolist() == [
        False, False, True, False, False]
    with pytest.raises(ValueError, match="direction='better'; allowed: helps, worse"):
        D.cases(effect, threshold=0.01, direction="better")
    with pytest.raises(ValueError, match="threshold=-1 must be"):
        D.cases(effect, threshold=-1, direction="helps")
    assert D.default_threshold("care_coordination") == 0.01


def test_no_cases_no_box():
    X = design(100)
    assert D.find_boxes(X, np.zeros(100), threshold=0.01, direction="helps") == []
    with pytest.raises(ValueError, match="threshold is None but y is a scored effect"):
        D.find_boxes(X, np.zeros(100), threshold=None, direction="helps")


def paired_runs() -> pd.DataFrame:
    rows = []
    for point in range(4):
        for rep in range(3):
            base = 0.7 + 0.01 * rep  # the replicate's shared noise (common random numbers)
            rows.append({"point": point, "replicate": rep, "regime": "local",
                         "care_coordination": base})
            rows.append({"point": point, "replicate": rep, "regime": "mandated",
                         "care_coordination": base + 0.01 * point + 0.001 * rep})
    return pd.DataFrame(rows)


def test_paired_effects_pair_by_replicate():
    runs = paired_runs()
    e = D.paired_effects(runs, treatment="mandated", reference="local",
                         outcome="care_coordination")
    assert e["point"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(e["effect"], 0.01 * np.arange(4) + 0.001)
    np.testing.assert_allclose(e["se"], 0.001 / np.sqrt(3))  # pairing removed base's spread
    assert (e["n_pairs"] == 3).all()
    shuffled = D.paired_effects(runs.sample(frac=1, random_state=4), treatment="mandated",
                                reference="local", outcome="care_coordination")
    pd.testing.assert_frame_equal(e, shuffled)
    lone = runs.drop(index=runs[(runs.point == 2) & (runs.replicate == 1)
                                & (runs.regime == "local")].index)
    with pytest.raises(ValueError, match="miss their pair .*point 2 replicate 1"):
        D.paired_effects(lone, treatment="mandated", reference="local",
                         outcome="care_coordination")
    undefined = runs.copy()
    undefined.loc[(undefined.point == 1) & (undefined.replicate == 0)
                  & (undefined.regime == "mandated"), "care_coordination"] = np.inf
    with pytest.raises(ValueError, match="not finite at point 1 replicate 0"):
        D.paired_effects(undefined, treatment="mandated", reference="local",
                         outcome="care_coordination")
    with pytest.raises(ValueError, match="regime 'hybrid' is not in runs"):
        D.paired_effects(runs, treatment="hybrid", reference="local",
                         outcome="care_coordination")


def test_describe_box_names_parameters_and_numbers(found):
    box = found[2][0]
    text = D.describe_box(box, outcome_label="care coordination", treatment="mandated",
                          reference="locally led",
                          threshold_text=D.threshold_words("care_coordination", 0.01))
    hi = box.limits[KEYS[0]][1]
    lo = box.limits[KEYS[1]][0]
    assert text.startswith(f"Where context.initial_trust is below {hi:.3g} and "
                           f"workforce.fill_rate is above {lo:.3g} ({box.mass:.0%} of the "
                           "conditions sampled)")
    assert ("mandated beats locally led on care coordination by more than 1 percentage "
            f"point in {box.density:.0%} of cases (density)") in text
    assert f"holds {box.coverage:.0%} of all such cases (coverage)" in text


def effects_table(X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    return X.assign(point=np.arange(len(X)), effect=np.where(y, 0.02, 0.0), se=0.002)


def test_write_report_writes_every_file(found, tmp_path):
    X, y, boxes = found
    settings = {"treatment": "mandated", "reference": "local",
                "outcome": "care_coordination", "threshold": 0.01}
    out = D.write_report(tmp_path / "discovery", effects=effects_table(X, y), boxes=boxes,
                         settings=settings)
    effects = pd.read_csv(out / "effects.csv")
    assert effects["case_helps"].sum() == y.sum() and effects["case_worse"].sum() == 0
    table = pd.read_csv(out / "boxes.csv")
    assert list(table.columns) == list(D.BOX_COLUMNS)
    assert set(table[table.box == "helps-1"]["parameter"]) == {KEYS[0], KEYS[1]}
    traj = pd.read_csv(out / "trajectory.csv")
    assert list(traj.columns) == list(D.TRAJECTORY_COLUMNS)
    assert (out / "trajectory.parquet").is_file()
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        f"tradeoff_{b.name}.png" for b in boxes]
    text = (out / "discovery.md").read_text()
    assert "## Where it helps" in text and "by more than 1 percentage point" in text
    assert "## Where it does clearly worse" in text
    assert "No box was found" in text and "(there are none)" in text
    assert "](figures/tradeoff_helps-1.png)" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["discovery"]


def test_write_report_leaves_nothing_when_it_fails(found, tmp_path, monkeypatch):
    X, y, boxes = found

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(D, "plot_tradeoff", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        D.write_report(tmp_path / "discovery", effects=effects_table(X, y), boxes=boxes,
                       settings={"threshold": 0.01})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="settings has no 'threshold'"):
        D.write_report(tmp_path / "discovery", effects=effects_table(X, y), boxes=[],
                       settings={})
    assert list(tmp_path.iterdir()) == []


def test_both_directions_from_scored_effects():
    """Helps in the planted box, clearly worse where culture.spread > 0.7, else nothing."""
    X = design(500, seed=7)
    rng = np.random.default_rng(8)
    worse = (X[KEYS[2]] > 0.7).to_numpy() & ~planted(X)
    effect = 0.03 * planted(X) - 0.03 * worse + rng.normal(0.0, 0.004, len(X))
    helps = D.find_boxes(X, effect, threshold=0.01, direction="helps")
    assert set(helps[0].limits) == {KEYS[0], KEYS[1]} and helps[0].density >= 0.9
    assert len(helps) == 1  # the few cases noise leaves outside make no second box
    bad = D.find_boxes(X, effect, threshold=0.01, direction="worse")
    assert bad[0].name == "worse-1" and KEYS[2] in bad[0].limits
    assert bad[0].limits[KEYS[2]][0] == pytest.approx(0.7, abs=0.04)
    assert bad[0].threshold == 0.01 and bad[0].density >= 0.8
