"""Direction tests: raise a parameter, and the outcome it drives moves the right way.

One test per mechanism (Starsim's second kind of test). Each compares paired runs:
the same seeds, hence the same map and the same random draws until the runs
diverge, under a low and a high setting, and asserts the sign of the difference
in the mean over seeds of the policy-period mean (weeks 0-103 of the teaching
system after a one-year burn-in), unless the test says otherwise.

The settings are far apart on purpose: these tests check directions, not sizes;
effect sizes with confidence intervals are the job of the experiments.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import sim
from sim import CollaborationModel
from sim.config import SimConfig

#: Paired replicate seeds; set COLLABSIM_DIRECTION_SEEDS=1,2,...,20 for a stronger check.
SEEDS = tuple(int(s) for s in os.environ.get("COLLABSIM_DIRECTION_SEEDS", "1,2,3,4").split(","))


def weekly(config: SimConfig, seeds=SEEDS) -> list[pd.DataFrame]:
    return [sim.run(config, seed=s).weekly for s in seeds]


def policy_mean(tables: list[pd.DataFrame], column: str) -> np.ndarray:
    """Per seed: the mean of ``column`` over the policy period (week >= 0)."""
    return np.array([t.loc[t["week"] >= 0, column].mean() for t in tables])


def compare(make_config: Callable[..., SimConfig], low: dict, high: dict, columns: list[str],
            regime: str | None = None, seeds=SEEDS) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per column: per-seed policy means under ``low`` and under ``high`` (paired)."""
    lo = weekly(make_config(low, regime=regime), seeds)
    hi = weekly(make_config(high, regime=regime), seeds)
    return {c: (policy_mean(lo, c), policy_mean(hi, c)) for c in columns}


def assert_rises(pair: tuple[np.ndarray, np.ndarray], what: str) -> None:
    lo, hi = pair
    assert hi.mean() > lo.mean(), (
        f"{what}: expected a rise; low {lo.mean():.6g} -> high {hi.mean():.6g} "
        f"(per seed low {np.round(lo, 6).tolist()}, high {np.round(hi, 6).tolist()})")


def assert_falls(pair: tuple[np.ndarray, np.ndarray], what: str) -> None:
    lo, hi = pair
    assert hi.mean() < lo.mean(), (
        f"{what}: expected a fall; low {lo.mean():.6g} -> high {hi.mean():.6g} "
        f"(per seed low {np.round(lo, 6).tolist()}, high {np.round(hi, 6).tolist()})")


def final_models(config: SimConfig, seeds=SEEDS,
                 watch: Callable[[CollaborationModel], None] | None = None
                 ) -> list[CollaborationModel]:
    """Run the model for each seed and return the models at the end (for their state)."""
    models = []
    for seed in seeds:
        model = CollaborationModel(config, rng=seed)
        if watch is not None:
            watch(model)
        model.run()
        models.append(model)
    return models


# --------------------------------------------------------------------------- workforce
def test_smaller_labour_supply_raises_vacancies(make_config) -> None:
    r = compare(make_config, {"workforce": {"labour_supply": 1.0}},
                {"workforce": {"labour_supply": 0.5}}, ["vacancy_rate"])
    lo, hi = r["vacancy_rate"]
    assert_rises((lo, hi), "labour_supply 1.0 -> 0.5: vacancy_rate")
    assert np.all(hi > lo)  # a large lever: every seed agrees


def test_overload_sensitivity_raises_turnover(make_config) -> None:
    r = compare(make_config, {"workforce": {"overload_sensitivity": 0.0}},
                {"workforce": {"overload_sensitivity": 5.0}},
                ["nhs_turnover", "social_care_turnover"])
    assert_rises(r["nhs_turnover"], "overload_sensitivity 0 -> 5: nhs_turnover")
    assert_rises(r["social_care_turnover"], "overload_sensitivity 0 -> 5: social_care_turnover")


# --------------------------------------------------------------------------- demand
def test_demand_ratio_raises_unmet_demand(make_config) -> None:
    r = compare(make_config, {"context": {"demand_ratio": 0.8}},
                {"context": {"demand_ratio": 1.2}}, ["unmet_demand"])
    assert_rises(r["unmet_demand"], "demand_ratio 0.8 -> 1.2: unmet_demand")


def test_demand_growth_raises_unmet_demand(make_config) -> None:
    r = compare(make_config, {"context": {"demand_growth": 0.0}},
                {"context": {"demand_growth": 0.1}}, ["unmet_demand"])
    assert_rises(r["unmet_demand"], "demand_growth 0 -> 0.1/year: unmet_demand")


# --------------------------------------------------------------------------- trust
@pytest.mark.parametrize("column", ["mean_trust", "care_coordination"])
def test_initial_trust_raises_trust_and_coordination(make_config, column: str) -> None:
    r = compare(make_config, {"context": {"initial_trust": 0.1}},
                {"context": {"initial_trust": 0.9}}, [column])
    assert_rises(r[column], f"initial_trust 0.1 -> 0.9: {column}")


def test_trust_loss_lowers_trust(make_config) -> None:
    r = compare(make_config, {"trust": {"loss": 0.1}}, {"trust": {"loss": 0.5}}, ["mean_trust"])
    assert_falls(r["mean_trust"], "trust.loss 0.1 -> 0.5: mean_trust")


def test_trust_gain_raises_trust(make_config) -> None:
    r = compare(make_config, {"trust": {"gain": 0.01}}, {"trust": {"gain": 0.1}}, ["mean_trust"])
    assert_rises(r["mean_trust"], "trust.gain 0.01 -> 0.1: mean_trust")


# --------------------------------------------------------------------------- handoffs
def test_distance_scale_raises_coordination(make_config) -> None:
    r = compare(make_config, {"handoffs": {"distance_scale_km": 5.0}},
                {"handoffs": {"distance_scale_km": 100.0}}, ["care_coordination"])
    assert_rises(r["care_coordination"], "distance_scale_km 5 -> 100: care_coordination")


def test_similar_cultures_raise_coordination(make_config) -> None:
    # MODEL.md validation 4: more similar working cultures, better coordination.
    r = compare(make_config, {"context": {"culture_spread": 0.35}},
                {"context": {"culture_spread": 0.05}}, ["care_coordination", "mean_trust"])
    assert_rises(r["care_coordination"], "culture_spread 0.35 -> 0.05: care_coordination")


# --------------------------------------------------------------------------- paperwork
def test_paperwork_per_partnership_raises_admin_burden(make_config) -> None:
    r = compare(make_config, {"paperwork": {"fte_per_partnership": 0.04}},
                {"paperwork": {"fte_per_partnership": 0.2}}, ["admin_burden"])
    assert_rises(r["admin_burden"], "fte_per_partnership 0.04 -> 0.2: admin_burden")


def test_reporting_raises_admin_burden(make_config) -> None:
    r = compare(make_config, {"regime": {"reporting_fte": 0.0}},
                {"regime": {"reporting_fte": 0.2}}, ["admin_burden"], regime="hybrid")
    assert_rises(r["admin_burden"], "hybrid, reporting_fte 0 -> 0.2: admin_burden")


# --------------------------------------------------------------------------- faith
def test_enthusiasm_raises_belief(make_config) -> None:
    r = compare(make_config, {"leadership": {"enthusiasm": 0.3}},
                {"leadership": {"enthusiasm": 0.9}}, ["mean_belief"])
    assert_rises(r["mean_belief"], "enthusiasm 0.3 -> 0.9: mean_belief")


def test_realism_sustains_belief_under_shortage(make_config) -> None:
    # MODEL.md validation 5: enthusiastic leaders who acknowledge a shortage.
    shortage = {"workforce": {"labour_supply": 0.4}}
    r = compare(make_config, {**shortage, "leadership": {"enthusiasm": 0.85, "realism": 0.1}},
                {**shortage, "leadership": {"enthusiasm": 0.85, "realism": 0.9}},
                ["mean_belief"])
    assert_rises(r["mean_belief"], "shortage, realism 0.1 -> 0.9: mean_belief")


def test_paperwork_erosion_lowers_belief(make_config) -> None:
    r = compare(make_config, {"faith": {"paperwork_erosion": 0.0}},
                {"faith": {"paperwork_erosion": 20.0}}, ["mean_belief"], regime="mandated")
    assert_falls(r["mean_belief"], "mandated, paperwork_erosion 0 -> 20: mean_belief")


def test_crowding_out_lowers_belief_under_a_mandate(make_config) -> None:
    r = compare(make_config, {"faith": {"crowding_out": 0.0}},
                {"faith": {"crowding_out": 2.0}}, ["mean_belief"], regime="mandated")
    assert_falls(r["mean_belief"], "mandated, crowding_out 0 -> 2: mean_belief")


# --------------------------------------------------------------------------- culture
def test_convergence_lowers_culture_spread(make_config) -> None:
    def spread(config: SimConfig) -> np.ndarray:
        # sd across providers on each culture dimension, averaged over dimensions
        return np.array([m.state.culture.std(axis=0).mean() for m in final_models(config)])

    lo = spread(make_config({"culture": {"convergence_rate": 0.0005}}))
    hi = spread(make_config({"culture": {"convergence_rate": 0.02}}))
    assert_falls((lo, hi), "convergence_rate 0.0005 -> 0.02: culture spread at the end")


# --------------------------------------------------------------------------- improvement
def test_progress_rate_lowers_quality_spread(make_config) -> None:
    r = compare(make_config, {"improvement": {"progress_rate": 0.02}},
                {"improvement": {"progress_rate": 0.3}}, ["quality_spread"])
    assert_falls(r["quality_spread"], "progress_rate 0.02 -> 0.3: quality_spread")


# --------------------------------------------------------------------------- monitoring
def test_monitoring_investment_raises_maturity_and_accuracy(make_config) -> None:
    errors: dict[int, list[float]] = {}

    def watch(model: CollaborationModel) -> None:
        # After each week's confidence update, how far is each side's confidence from
        # the share of its handoffs to that partner that went through on time this week?
        inner = model._partnership_week
        log = errors.setdefault(id(model), [])

        def week(res, lent):
            out = inner(res, lent)
            e = len(model.partnerships)
            flow = res.edge_flow.reshape(2, e).T
            seen = flow > 1e-9
            if model.switched and seen.any():
                success = res.edge_success.reshape(2, e).T
                log.append(float(np.abs(model.partnerships.confidence - success)[seen].mean()))
            return out

        model._partnership_week = week

    def measure(target: float) -> tuple[np.ndarray, np.ndarray]:
        models = final_models(make_config({"monitoring": {"target_maturity": target}}),
                              watch=watch)
        maturity = np.array([m.state.maturity.mean() for m in models])
        error = np.array([np.mean(errors[id(m)]) for m in models])
        return maturity, error

    maturity_lo, error_lo = measure(0.3)
    maturity_hi, error_hi = measure(0.9)
    assert_rises((maturity_lo, maturity_hi), "target_maturity 0.3 -> 0.9: data maturity")
    assert_falls((error_lo, error_hi),
                 "target_maturity 0.3 -> 0.9: |confidence - observed on-time share|")


# --------------------------------------------------------------------------- regimes
def test_no_support_means_fewer_partnerships(make_config) -> None:
    none = weekly(make_config(regime="none"))
    local = weekly(make_config(regime="local"))
    assert_falls((policy_mean(local, "n_partnerships"), policy_mean(none, "n_partnerships")),
                 "regime local -> none: n_partnerships")
    # none: no partnership forms after the switch
    for table in none:
        counts = table.loc[table["week"] >= 0, "n_partnerships"].to_numpy()
        assert np.all(np.diff(counts) <= 0)


def test_required_contracts_raise_formality(make_config) -> None:
    r = compare(make_config, {"regime": {"contracts": "optional"}},
                {"regime": {"contracts": "required"}}, ["mean_formality"])
    assert_rises(r["mean_formality"], "contracts optional -> required: mean_formality")


def test_mandate_assigns_partners_and_changes_them_only_at_reviews(make_config) -> None:
    """No exit: between the authority's reviews nothing ends and nothing forms; the
    network changes (if at all) only in review weeks."""
    review = 26
    for table in weekly(make_config({"regime": {"review_weeks": review}}, regime="mandated")):
        policy = table[table["week"] >= 0]
        assert (policy["mandated_share"] > 0.0).all()
        changed = policy["week"].to_numpy()[1:][np.diff(policy["n_partnerships"]) != 0]
        assert np.all(changed % review == 0), f"changes outside review weeks: {changed}"
    local = weekly(make_config(regime="local"))
    assert all((t.loc[t["week"] >= 0, "mandated_share"] == 0.0).all() for t in local)


def _at_switch(config: SimConfig) -> tuple[CollaborationModel, pd.DataFrame, pd.DataFrame]:
    """A model one week after the switch, with its partnerships just before and after."""
    model = CollaborationModel(config)
    model.run(config.time.burn_in_weeks)
    before = model.partnership_frame()
    model.step()
    return model, before, model.partnership_frame()


def test_mandate_continues_designated_relationships_and_supersedes_the_rest(
        make_config) -> None:
    """A pair the authority designates that already had a chosen partnership keeps it
    (trust carried over); every other chosen partnership ends."""
    config = make_config(regime="mandated")
    model, before, after = _at_switch(config)
    key = lambda f: f["a"] * model.n_providers + f["b"]  # noqa: E731
    before, after = before.assign(key=key(before)), after.assign(key=key(after))
    kept = before.merge(after, on="key", suffixes=("_before", "_after"))
    assert len(kept) > 0, "no designated pair had a chosen partnership: test has no power"
    assert kept["mandated_after"].all()
    # one week of updates at most: trust moves by a few points, not back to baseline
    assert np.abs(kept["trust_ab_after"] - kept["trust_ab_before"]).max() < 0.15
    assert len(kept) < len(before), "a mandate that supersedes must end some chosen links"
    assert after["mandated"].all()
    # lost choice: providers that lost every chosen link lose 1, the rest less
    loss = model.state.autonomy_loss
    assert loss.max() <= 1.0 and loss.max() > 0.0


def _fail_records_before_review(model: CollaborationModel, review: int) -> set:
    """Step to the week before a review and give a tenth of the partnerships a record
    of handoffs none of which ran on time, the rest a clean one; return the first."""
    while model.week % review:
        model.step()
    ps = model.partnerships
    doomed = np.zeros(len(ps), dtype=bool)
    doomed[: max(1, len(ps) // 10)] = True
    ps.period_flow[:] += 1e6  # outweighs the review week's own handoffs
    ps.period_on_time[:] = np.where(doomed, 0.0, ps.period_flow)
    return set(zip(ps.a[doomed].tolist(), ps.b[doomed].tolist(), strict=True))


def test_review_ends_failing_assignments_and_fills_the_pathway(make_config) -> None:
    """With full data the authority sees every record: assigned partnerships whose
    handoffs ran late end at the review, and the pathways they leave uncovered are
    filled, whatever the partners' trust."""
    config = make_config({"regime": {"review_weeks": 4},
                          "monitoring": {"initial_maturity": 1.0, "target_maturity": 1.0}},
                         regime="mandated")
    model, _, _ = _at_switch(config)
    pairs = _fail_records_before_review(model, 4)
    n_before = len(model.partnerships)
    model.partnerships.trust[:] = 0.95  # trust is not what the authority judges
    model.step()
    ps = model.partnerships
    now = set(zip(ps.a.tolist(), ps.b.tolist(), strict=True))
    assert not pairs & now, "failing assigned partnerships survived the review"
    assert len(ps) > n_before - len(pairs), "no uncovered pathway was filled"
    week = model.outcome_values  # the review week's outcomes
    assert week["partnerships_ended"] == len(pairs)
    assert week["partnerships_formed"] > 0


def test_authority_without_data_ends_nothing(make_config) -> None:
    """The authority judges only the records its data show: with no data maturity it
    sees none, so even partnerships whose handoffs all ran late survive the review."""
    config = make_config({"regime": {"review_weeks": 4},
                          "monitoring": {"initial_maturity": 0.0, "target_maturity": 0.0}},
                         regime="mandated")
    model, _, _ = _at_switch(config)
    pairs = _fail_records_before_review(model, 4)
    model.step()
    ps = model.partnerships
    assert pairs <= set(zip(ps.a.tolist(), ps.b.tolist(), strict=True))


def test_higher_risk_threshold_means_fewer_partnerships(make_config) -> None:
    r = compare(make_config, {"partnerships": {"risk_threshold": 0.3}},
                {"partnerships": {"risk_threshold": 1.0}}, ["n_partnerships"])
    assert_falls(r["n_partnerships"], "risk_threshold 0.3 -> 1.0: n_partnerships")


# --------------------------------------------------------------------------- mutual aid
def test_mutual_aid_evens_out_workload(make_config) -> None:
    # MODEL.md validation 11: lending spare staff time lowers inequality of workload.
    r = compare(make_config, {"aid": {"rate": 0.0}}, {"aid": {"rate": 1.0}}, ["workload_gini"])
    assert_falls(r["workload_gini"], "aid.rate 0 -> 1: workload_gini")


# --------------------------------------------------------------------------- admissions
def test_more_support_lowers_care_home_admissions(make_config) -> None:
    """Higher trust in partners (here: generalised trust, which new partnerships start
    from and trust decays to) means more support, so fewer care home admissions."""
    pairs = compare(make_config, {"context": {"initial_trust": 0.2}},
                    {"context": {"initial_trust": 0.8}}, ["care_home_admission_rate"])
    assert_falls(pairs["care_home_admission_rate"], "care home admissions vs support")


def test_no_avoidable_share_leaves_the_old_flows_exactly(make_config) -> None:
    """Avoidable shares 0: the channel is off, and the care-home rate is the pathway's
    0.013 a resident-week every week (52 x 0.013 = 0.676 a year)."""
    config = make_config({"admissions": {"care_home_avoidable": 0.0,
                                         "primary_avoidable": 0.0}})
    table = sim.run(config).weekly
    rate = table["care_home_admission_rate"].dropna()
    np.testing.assert_allclose(rate, 52 * 0.013, rtol=1e-12)


def test_trust_with_pcns_lowers_care_home_admissions_next_week() -> None:
    """Two copies of one model, identical but for the trust between care homes and their
    PCN partners: the copy with trusted PCN partners sends fewer care home admissions."""
    import pickle

    from sim.config import from_dict
    from sim.kinds import Kind

    model = CollaborationModel(from_dict({"seed": 4, "system": {"name": "teaching"},
                                          "time": {"burn_in_weeks": 60, "policy_weeks": 1}}))
    model.run(40)
    rates = []
    for trust in (0.1, 1.0):
        copy = pickle.loads(pickle.dumps(model))
        ps, kind = copy.partnerships, copy.state.kind
        pair = {frozenset((int(x), int(y))) for x, y in zip(kind[ps.a], kind[ps.b], strict=True)}
        assert frozenset((Kind.CARE_HOME, Kind.PCN)) in pair, "no care home - PCN partnership"
        home_pcn = ((kind[ps.a] == Kind.CARE_HOME) & (kind[ps.b] == Kind.PCN)) | (
            (kind[ps.b] == Kind.CARE_HOME) & (kind[ps.a] == Kind.PCN))
        ps.trust[home_pcn] = trust
        copy.step()
        rates.append(copy.outcome_values["care_home_admission_rate"])
    assert rates[1] < rates[0], rates
