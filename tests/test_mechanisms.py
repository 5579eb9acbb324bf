"""Unit tests of the small mechanisms the weekly step calls, each against its docstring."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import HandoffConfig
from sim.dynamics import belief, flows, handoffs, history, workforce
from sim.outcome_spec import TURNOVER_WINDOW_WEEKS


def test_intake_is_full_up_to_pressure_one_then_shrinks_to_its_floor() -> None:
    pressure = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 10.0])
    intake = flows.intake_capacity(np.full(7, 0.2), np.full(7, 100.0), pressure)
    np.testing.assert_allclose(intake / 20.0, [1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.25])
    assert flows.INTAKE_FLOOR == 1.0 - 3 * flows.INTAKE_SLOPE  # the floor is reached at 4


def test_shock_takes_intake_only_in_its_weeks() -> None:
    from sim.config import ShockConfig

    shock = ShockConfig(start_week=2, weeks=3, intake_loss=0.8)
    for week, kept in ((1, 1.0), (2, 0.2), (4, 0.2), (5, 1.0)):
        assert flows.intake_kept(shock, week) == pytest.approx(kept)
    assert flows.intake_kept(ShockConfig(), 0) == 1.0  # off by default


def test_experience_moves_a_tenth_of_the_way_and_only_with_handoffs_due() -> None:
    experience = np.array([0.5, 0.5, 0.2])
    new = belief.update_experience(experience, due=np.array([10.0, 0.0, 4.0]),
                                   done=np.array([10.0, 0.0, 0.0]))
    np.testing.assert_allclose(new, [0.55, 0.5, 0.18])
    assert experience[0] == 0.5  # a new array: the input is left alone


def test_push_week_keeps_the_newest_first() -> None:
    window = np.zeros((3, 2))
    for week in range(1, 5):
        window = history.push_week(window, [week, -week])
    np.testing.assert_array_equal(window, [[4, -4], [3, -3], [2, -2]])


def test_annual_turnover_over_the_weeks_recorded() -> None:
    n = TURNOVER_WINDOW_WEEKS
    leavers, staff = np.zeros((n, 2)), np.zeros((n, 2))
    leavers[:10] = [2.0, 0.0]  # NHS: 2 FTE a week of 100 -> about 1.04 a year
    staff[:10] = [100.0, 0.0]  # no social care staff at all
    rate = workforce.annual_turnover(leavers, staff, weeks_run=10)
    assert rate[0] == pytest.approx(2.0 * 52 / 100.0)
    assert np.isnan(rate[1])  # undefined, not 0
    # after a year the window is full: older weeks count, and weeks before the run do not
    full = workforce.annual_turnover(leavers, np.full((n, 2), 100.0), weeks_run=500)
    assert full[0] == pytest.approx(20.0 / 100.0) and full[1] == 0.0


def test_observed_intake_is_exact_with_full_clarity_and_late_without() -> None:
    history_ = np.arange(5 * 3, dtype=float).reshape(5, 3) + 1.0  # 4 weeks of lag, N = 3
    sender, receiver = np.array([0, 1, 2]), np.array([2, 0, 1])
    rng = np.random.default_rng(0)
    # perfect data, or a partner that tells everything: this week's intake, no noise
    clear = handoffs.observed_intake(history_, np.array([1.0, 1.0, 1.0]), sender, receiver,
                                     0.0, 4, 0.5, rng)
    np.testing.assert_array_equal(clear, history_[0, receiver])
    told = handoffs.observed_intake(history_, np.zeros(3), sender, receiver, 1.0, 4, 0.5, rng)
    np.testing.assert_array_equal(told, history_[0, receiver])
    # no data, no noise: the intake of max_lag_weeks ago
    blind = handoffs.observed_intake(history_, np.zeros(3), sender, receiver, 0.0, 4, 0.0, rng)
    np.testing.assert_array_equal(blind, history_[4, receiver])


@pytest.mark.parametrize("initial_maturity", [0.1, 0.3, 0.8])
def test_handoff_success_is_centred_on_the_initial_state(initial_maturity: float) -> None:
    """At the starting levels of quality and maturity, their weights do not move the
    chance of success, whatever those levels are: the centres are not copies of defaults."""
    from sim.dynamics.relations import INITIAL_QUALITY_MEAN

    n = 4
    kwargs = dict(
        offered=np.array([10.0, 10.0]), route_sender=np.array([0, 1]),
        pair_group=np.array([0, 1]), pair_receiver=np.array([2, 3]),
        edge_group=np.array([0, -1]), edge_receiver=np.array([3, 0]),
        reliance=np.array([0.5, 0.5]), formality=np.array([0.0, 0.0]),
        observed_intake_adhoc=np.array([3.0, 3.0]), observed_intake_edge=np.array([3.0, 3.0]),
        intake=np.full(n, 5.0), similarity_adhoc=np.array([0.6, 0.4]),
        distance_adhoc=np.array([2.0, 3.0]), similarity_edge=np.array([0.7, 0.7]),
        distance_edge=np.array([4.0, 4.0]), faith=np.full(n, 0.6),
        quality=np.full(n, INITIAL_QUALITY_MEAN), maturity=np.full(n, initial_maturity),
        quality_centre=INITIAL_QUALITY_MEAN, maturity_centre=initial_maturity)
    plain = handoffs.route_handoffs(**kwargs, p=HandoffConfig(quality_weight=0.0,
                                                              data_weight=0.0))
    weighted = handoffs.route_handoffs(**kwargs, p=HandoffConfig(quality_weight=5.0,
                                                                 data_weight=5.0))
    np.testing.assert_allclose(weighted.transferred, plain.transferred, rtol=1e-12)
    # and above the starting level, maturity helps
    better = handoffs.route_handoffs(**{**kwargs, "maturity": np.full(n, initial_maturity + 0.1)},
                                     p=HandoffConfig(data_weight=5.0))
    assert better.transferred.sum() > plain.transferred.sum()


# --------------------------------------------------------------------------- admissions
def test_support_is_the_best_partnership_with_a_supporting_kind() -> None:
    from sim.dynamics import admissions
    from sim.kinds import Kind

    kind = np.array([Kind.CARE_HOME, Kind.PCN, Kind.COMMUNITY, Kind.ACUTE, Kind.CARE_HOME])
    # home 0 - PCN 1 (trust 0.8/0.6), home 0 - community 2 (0.4/0.4), home 0 - acute 3
    # (1/1: not a supporting kind), PCN 1 - community 2 (0.9/0.7); home 4 has no partner
    a, b = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2])
    trust = np.array([[0.8, 0.6], [0.4, 0.4], [1.0, 1.0], [0.9, 0.7]])
    got = admissions.support(kind, a, b, trust, maintained=True)
    np.testing.assert_allclose(got, [0.7, 0.8, 0.8, 0.0, 0.0])
    assert not admissions.support(kind, a, b, trust, maintained=False).any()


def test_only_admissions_are_avoided_in_proportion_to_support_and_share() -> None:
    from sim.config import AdmissionsConfig
    from sim.dynamics import admissions
    from sim.kinds import Kind

    kind = np.array([Kind.CARE_HOME, Kind.PCN, Kind.MENTAL_HEALTH])
    share = admissions.avoidable_share(AdmissionsConfig(care_home_avoidable=0.4,
                                                        primary_avoidable=0.1))
    sender = np.array([0, 0, 1, 2])
    to = np.array([Kind.ACUTE, Kind.PCN, Kind.ACUTE, Kind.ACUTE])
    new = np.array([10.0, 10.0, 10.0, 10.0])
    got = admissions.avoided(new, sender, to, kind, np.array([0.5, 1.0, 1.0]), share)
    np.testing.assert_allclose(got, [2.0, 0.0, 1.0, 0.0])
    # switched off: exactly nothing avoided, and admissions not scaled
    off = admissions.avoidable_share(AdmissionsConfig(care_home_avoidable=0.0,
                                                      primary_avoidable=0.0))
    assert not admissions.avoided(new, sender, to, kind, np.ones(3), off).any()
    assert np.all(admissions.unsupported_factor(kind[sender], to, off) == 1.0)
    # at the status quo's support the admissions that remain are the pathway's
    factor = admissions.unsupported_factor(kind[sender], to, share)
    support_sq = admissions.STATUS_QUO_SUPPORT[kind]
    kept = admissions.avoided(new * factor, sender, to, kind, support_sq, share)
    np.testing.assert_allclose(new * factor - kept, new)
