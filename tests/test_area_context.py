"""Area context (sim/area_context.py, sim/england_context.py and their data files).

The context's functions keep England's level where it is (multipliers' weighted mean 1,
offsets centred, one area no offset); the fill rate it derives moves the steady-state
vacancy by the stated odds; the data files are complete, sourced and checked with clear
errors; and systems that are not England's ICBs run exactly as without the context.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import sim
from sim import area_context as ac
from sim.config import from_dict
from sim.dynamics import workforce
from sim.england import EnglandDataError, load_icbs
from sim.england_context import (
    HISTORY_FILE,
    NATIONAL,
    PROGRAMMES,
    RATES,
    REGION_FILE,
    STATUSES,
    load_history,
    load_regions,
)
from sim.kinds import SOCIAL_CARE

PEOPLE = np.array([1.0, 3.0, 6.0])  # weights, e.g. millions of people
OFF = {"regional_labour_market": 0.0, "collaboration_history": 0.0,
       "area_leadership_spread": 0.0}
SHORT = {"burn_in_weeks": 20, "policy_weeks": 20}


# --------------------------------------------------------------------------- functions
@pytest.mark.parametrize("strength", [0.0, 0.4, 1.0])
def test_multipliers_keep_the_weighted_mean_at_one(strength: float) -> None:
    rates = np.array([0.10, 0.20, 0.12])
    m = ac.multipliers(rates, PEOPLE, strength)
    assert ac.weighted_mean(m, PEOPLE) == pytest.approx(1.0, abs=1e-12)
    if strength == 0.0:
        assert np.array_equal(m, np.ones(3))
    else:  # the region with the highest rate gets the largest multiplier
        assert m.argmax() == 1 and m[1] > 1.0 > m[0]


def test_vacancy_targets_keep_the_mean_and_strength_zero_is_national() -> None:
    vacancy = np.array([0.05, 0.12, 0.09])
    assert np.array_equal(ac.vacancy_odds_ratio(vacancy, PEOPLE, 0.0), np.ones(3))
    r = ac.vacancy_odds_ratio(vacancy, PEOPLE, 1.0)
    mean = ac.weighted_mean(vacancy, PEOPLE)
    target = r * mean / (1 - mean) / (1 + r * mean / (1 - mean))  # odds back to rates
    assert np.allclose(target, vacancy)
    assert r[0] < 1.0 < r[1]


def steady_vacancy(turnover: float, fill: float, weeks: int = 3000) -> float:
    """Vacancy the workforce model settles at (no overload, neutral faith)."""
    p = sim.SimConfig().workforce
    staff, funded = np.array([90.0]), np.array([100.0])
    leave = workforce.leave_rate(np.array([turnover]), np.zeros(1), np.full(1, 0.5), p)
    for _ in range(weeks):
        staff, _, _ = workforce.update_staff(staff, funded, leave, np.array([fill]), 1.0)
    return float(1.0 - staff[0] / funded[0])


@pytest.mark.parametrize("odds_ratio,turnover_multiplier", [(1.5, 1.0), (0.6, 1.0),
                                                            (1.3, 1.2), (1.0, 0.8)])
def test_derived_fill_rate_moves_the_steady_vacancy_by_the_stated_odds(
        odds_ratio: float, turnover_multiplier: float) -> None:
    turnover, fill = 0.27, 0.05
    base = steady_vacancy(turnover, fill)
    new_fill = float(ac.fill_rate_for_odds(fill, np.array(odds_ratio), turnover_multiplier))
    moved = steady_vacancy(turnover * turnover_multiplier, new_fill)
    odds = (moved / (1 - moved)) / (base / (1 - base))
    assert odds == pytest.approx(odds_ratio, rel=1e-6)


def test_centring_gives_a_weighted_mean_of_zero_and_one_area_nothing() -> None:
    off = ac.centred(np.array([0.3, -0.1, 0.2]), PEOPLE)
    assert ac.weighted_mean(off, PEOPLE) == pytest.approx(0.0, abs=1e-15)
    assert np.array_equal(ac.centred(np.array([0.7]), np.array([5.0])), np.zeros(1))
    assert np.array_equal(ac.history_offsets(np.array([1.0]), np.array([2.0]), 0.3),
                          np.zeros(1))


def test_leadership_offsets_are_centred_scaled_and_draw_the_same_numbers() -> None:
    e, r = ac.leadership_offsets(np.random.default_rng(1), PEOPLE, 0.1)
    assert ac.weighted_mean(e, PEOPLE) == pytest.approx(0.0, abs=1e-15)
    assert ac.weighted_mean(r, PEOPLE) == pytest.approx(0.0, abs=1e-15)
    e2, _ = ac.leadership_offsets(np.random.default_rng(1), PEOPLE, 0.2)
    assert np.allclose(e2, 2 * e)  # the spread scales the same draws
    one, _ = ac.leadership_offsets(np.random.default_rng(1), np.array([4.0]), 0.1)
    assert np.array_equal(one, np.zeros(1))


def test_history_offsets_rank_areas_by_their_history() -> None:
    off = ac.history_offsets(np.array([0.0, 0.5, 1.0]), PEOPLE, 0.2)
    assert off[2] - off[0] == pytest.approx(0.2)
    assert ac.weighted_mean(off, PEOPLE) == pytest.approx(0.0, abs=1e-15)


# --------------------------------------------------------------------------- the data
def test_regions_file_covers_the_icb_regions_and_keeps_englands_level() -> None:
    icbs, regional = load_icbs(), load_regions()
    assert set(regional.regions) == set(icbs.regions) and len(regional.regions) == 7
    people = np.array([icbs.population[np.array(icbs.regions) == g].sum()
                       for g in regional.regions], dtype=float)
    for rate in RATES:
        assert set(regional.status[rate]) <= set(STATUSES)
        # estimates are the rest-of-England value: the weighted mean is England's figure
        assert ac.weighted_mean(regional.rates[rate], people) == pytest.approx(
            regional.national[rate], abs=1e-3), rate
    # what was found: London's NHS and social care vacancy above England's
    london = regional.regions.index("London")
    assert regional.rates["nhs_vacancy"][london] > regional.national["nhs_vacancy"]
    assert regional.status["nhs_vacancy"][london] == "published"


def test_sources_name_every_column_and_status() -> None:
    text = (REGION_FILE.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert "# Sources of `regions.csv`" in text and "# Sources of `history.csv`" in text
    for column in (*RATES, *PROGRAMMES):
        assert f"`{column}`" in text, column
    for word in STATUSES:
        assert f"`{word}`" in text, word


def test_history_file_has_every_icb_and_sites_for_every_flag() -> None:
    history = load_history()
    assert history.codes == load_icbs().codes
    score = history.score
    assert set(np.unique(score)) == {0.0, 0.5, 1.0}
    names = dict(zip(load_icbs().short_names, score, strict=True))
    assert names["Greater Manchester"] == 1.0 and names["Lincolnshire"] == 0.0
    flagged = np.any([history.flags[p] for p in PROGRAMMES], axis=0)
    assert all(bool(f) == bool(site) for f, site in zip(flagged, history.footprints,
                                                         strict=True))


def edited(tmp_path, source, old: str, new: str, name: str = "data.csv"):
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,expected", [
    ("London,0.125,published", "London,abc,published",
     r"line 7, column 'nhs_vacancy': 'abc' is not a rate; allowed: a share in \(0, 1\]"),
    ("London,0.125,published", "London,1.5,published", r"line 7, column 'nhs_vacancy'"),
    ("London,0.125,published", "London,0.125,guessed",
     r"line 7, column 'nhs_vacancy_status': 'guessed' is not a status; allowed: "
     "published, partial, estimate"),
    ("\nSouth West,", "\nSouth Wast,",
     r"line 9, column 'region': 'South Wast' is not an NHS England region"),
    ("\nMidlands,", "\nLondon,", r"line 7, column 'region': 'London' is already on line 5; "
     r"one row per region\n  no row for region 'Midlands'"),
])
def test_a_malformed_region_row_is_named_with_file_line_and_what_is_allowed(
        tmp_path, old, new, expected) -> None:
    path = edited(tmp_path, REGION_FILE, old, new)
    with pytest.raises(EnglandDataError, match=re.escape(str(path))) as err:
        load_regions(path, load_icbs())
    assert re.search(expected, str(err.value)), str(err.value)


def test_a_missing_region_row_and_a_missing_file_are_named(tmp_path) -> None:
    text = REGION_FILE.read_text(encoding="utf-8")
    path = tmp_path / "regions.csv"
    path.write_text("\n".join(line for line in text.splitlines()
                              if not line.startswith("North West")) + "\n", encoding="utf-8")
    with pytest.raises(EnglandDataError, match="no row for region 'North West'"):
        load_regions(path, load_icbs())
    path.write_text(text.replace(f"{NATIONAL},", "Britain,"), encoding="utf-8")
    with pytest.raises(EnglandDataError, match="no row for region 'England'"):
        load_regions(path, load_icbs())
    with pytest.raises(EnglandDataError, match="does not exist"):
        load_regions(tmp_path / "nowhere.csv", load_icbs())
    path.write_text("region,nhs_vacancy\nLondon,0.1\n", encoding="utf-8")
    with pytest.raises(EnglandDataError, match="lacks column.*nhs_turnover"):
        load_regions(path, load_icbs())


@pytest.mark.parametrize("old,new,expected", [
    ("E54000057,Greater Manchester,0,1,1", "E54000057,Greater Manchester,0,yes,1",
     r"column 'pioneer_2015': 'yes' is not a flag; allowed: 0 or 1"),
    ("E54000013,Lincolnshire,0,0,0", "E54000013,Lincolnshire,1,0,0",
     r"column 'footprints': empty, but a programme is flagged"),
    ("E54000013,", "E54999999,", r"'E54999999' is not an ICB code of icbs.csv.*"
     r"no row for ICB\(s\) E54000013"),
])
def test_a_malformed_history_row_is_named(tmp_path, old, new, expected) -> None:
    path = edited(tmp_path, HISTORY_FILE, old, new)
    with pytest.raises(EnglandDataError, match=re.escape(str(path))) as err:
        load_history(path, load_icbs())
    assert re.search(expected, str(err.value), re.S), str(err.value)


# --------------------------------------------------------------------------- the model
def run(system: dict, context: dict | None = None, seed: int = 5) -> sim.RunResult:
    return sim.run(from_dict({"seed": seed, "system": system, "time": SHORT,
                              "context": context or {}, "regime": {"name": "mandated"}}))


@pytest.mark.parametrize("system", [{"name": "teaching"}, {"name": "ics"},
                                    {"name": "england_synthetic", "scale": 0.02}])
def test_systems_that_are_not_englands_icbs_ignore_the_context(system) -> None:
    """What the declarations say (``systems=ENGLAND_ONLY``, which keeps these out of
    designs on other systems) holds: each is inert there, even at its allowed maximum."""
    default, off = run(system), run(system, OFF)
    pd.testing.assert_frame_equal(default.weekly, off.weekly, check_exact=True)
    pd.testing.assert_frame_equal(default.by_area, off.by_area, check_exact=True)
    declared = [p for p in sim.parameters() if p.systems and not p.acts_on(system["name"])]
    assert {p.key for p in declared} == {f"context.{name}" for name in OFF}
    strong = run(system, {p.key.removeprefix("context."): p.high for p in declared})
    pd.testing.assert_frame_equal(default.weekly, strong.weekly, check_exact=True)


def model(context: dict | None = None, seed: int = 5) -> sim.CollaborationModel:
    return sim.CollaborationModel(from_dict({
        "seed": seed, "system": {"name": "england", "scale": 0.05}, "time": SHORT,
        "context": context or {}}))


def test_on_england_the_context_sets_rates_and_offsets_by_area() -> None:
    m, flat = model(), model(OFF)
    st, wf = m.state, m.config.workforce
    social = SOCIAL_CARE[st.kind]
    # without context: exactly the national rates, and no offsets
    assert np.array_equal(flat.turnover_rate,
                          np.where(social, wf.turnover_social_care, wf.turnover_nhs))
    assert np.array_equal(flat.fill_rate, np.where(social, wf.fill_rate_social_care,
                                                   wf.fill_rate_nhs))
    assert np.allclose(flat.area_context.trust, 0) and np.allclose(
        flat.area_context.enthusiasm, 0)
    # with it: London's NHS providers fill more slowly, the East's care homes lose more
    icbs = load_icbs()
    region = np.array(icbs.regions)[[icbs.codes.index(c) for c in m.table.area_codes]][
        st.area]
    london_nhs = (region == "London") & ~social
    assert m.fill_rate[london_nhs].max() < wf.fill_rate_nhs < m.fill_rate[
        ~social & (region == "Midlands")].min()
    assert m.turnover_rate[social & (region == "East of England")].min() > \
        wf.turnover_social_care
    # centred offsets: population-weighted mean 0 over the ICBs
    people = icbs.population[[icbs.codes.index(c) for c in m.table.area_codes]]
    for offsets in (m.area_context.trust, m.area_context.enthusiasm,
                    m.area_context.realism):
        assert ac.weighted_mean(offsets, people) == pytest.approx(0.0, abs=1e-12)
    score = load_history().score[[icbs.codes.index(c) for c in m.table.area_codes]]
    assert m.area_context.trust[score == 1.0].min() > m.area_context.trust[score == 0].max()


def test_the_context_stream_leaves_the_map_and_dynamics_streams_alone() -> None:
    """Leadership offsets come from their own stream: a different spread changes the
    offsets, not the map or any other draw (the faith draws stay the same)."""
    a, b = model({"area_leadership_spread": 0.05}), model({"area_leadership_spread": 0.1})
    assert np.array_equal(a.state.xy, b.state.xy)
    assert np.array_equal(a.state.faith, b.state.faith)
    # enthusiasm's offset is the leadership draw plus the history offset (unchanged here)
    assert np.allclose(2 * (a.area_context.enthusiasm - a.area_context.trust),
                       b.area_context.enthusiasm - b.area_context.trust)


def test_history_raises_enthusiasm_for_the_whole_run() -> None:
    """The history offset is added to the area's leaders' enthusiasm (which never
    changes during a run), on top of the leadership draw."""
    only_history = model({"area_leadership_spread": 0.0, "regional_labour_market": 0.0})
    ctx = only_history.area_context
    assert np.array_equal(ctx.enthusiasm, ctx.trust)
    assert not np.allclose(ctx.enthusiasm, 0)
    both = model({})
    assert np.allclose(both.area_context.enthusiasm - both.area_context.trust,
                       model({"collaboration_history": 0.0}).area_context.enthusiasm)


def _gap_at_switch(history: float, seed: int) -> tuple[float, float]:
    """(partners per provider, trust held in partnerships) in ICBs with a history minus
    ICBs without, just before the switch of a 4-year burn-in (only history in the context)."""
    cfg = from_dict({"seed": seed, "system": {"name": "england", "scale": 0.05},
                     "time": {"burn_in_weeks": 208, "policy_weeks": 1},
                     "context": {"collaboration_history": history,
                                 "area_leadership_spread": 0.0,
                                 "regional_labour_market": 0.0}})
    m = sim.CollaborationModel(cfg)
    while not m.switched:
        m.step()
    icbs = load_icbs()
    score = load_history().score[[icbs.codes.index(c) for c in m.table.area_codes]]
    has = score[m.state.area] > 0
    p = m.partnerships
    holder_has = np.concatenate([has[p.a], has[p.b]])  # each end's trust in the other
    held = np.concatenate([p.trust[:, 0], p.trust[:, 1]])
    return (float(m.degree[has].mean() - m.degree[~has].mean()),
            float(held[holder_has].mean() - held[~holder_has].mean()))


@pytest.mark.parametrize("seed", [0, 1])
def test_icbs_with_a_history_reach_the_switch_with_more_and_stronger_partnerships(
        seed: int) -> None:
    """Issue 15: areas with earlier integration programmes enter the policy period with
    more and stronger partnerships. Paired by seed against the same model without the
    history offset, after four years of status quo (a starting-trust offset alone was
    forgotten by then)."""
    (degree, trust), (degree_0, trust_0) = _gap_at_switch(0.2, seed), _gap_at_switch(0.0, seed)
    assert degree - degree_0 > 0.3  # partners per provider
    assert trust - trust_0 > 0.02  # trust held in partnerships, 0-1
