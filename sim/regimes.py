"""Partner formation and ending under each setting of the regime's levers.

The burn-in runs the status quo (local, informal, voluntary partnerships with no
contracts and no reporting). At the switch the configured regime takes over:
:func:`switch_regime` applies its one-off changes (superseding local links,
assigning partners, setting priorities and contracts), and each week
:func:`form_partnerships` and :func:`end_partnerships` apply its rules.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from sim.config import RegimeConfig
from sim.dynamics.handoffs import distance_kernel, similarity, similarity_kernel
from sim.dynamics.relations import alignment_kernel
from sim.geography import assigned_partners, replacement_partners
from sim.jit import kernel
from sim.kinds import N_KINDS, PATHWAYS

if TYPE_CHECKING:
    from sim.model import CollaborationModel

STATUS_QUO = RegimeConfig(name="status quo", partner_choice="local", maintain=True,
                          may_exit=True, contracts="none", existing="kept", reporting_fte=0.0,
                          priorities="local", shared_goals=False)


def chosen_formality(regime: RegimeConfig, trust: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Contract formality of new partnerships.

    ``required``: the regime's formality for all. ``optional``: partners choose a
    contract where they need role clarity, i.e. where trust is below 0.5 or cultures
    differ (similarity below 0.7) [M23, HF17: formal agreements give confidence to
    invest] (assumption on the thresholds). ``none``: informal.
    """
    if regime.contracts == "required":
        return np.full(len(trust), regime.contract_formality)
    if regime.contracts == "optional":
        wants = (trust < 0.5) | (sim < 0.7)
        return np.where(wants, regime.contract_formality, 0.0)
    return np.zeros(len(trust))


def switch_regime(model: CollaborationModel, regime: RegimeConfig) -> None:
    """Apply the one-off changes a regime makes when it takes over from the status quo.

    An authority's assignment (``partner_choice`` assigned or both) designates each
    provider's nearest providers of each pathway kind in its area. Where a designated
    pair already had a partnership, that relationship continues (its trust, history and
    progress), now designated by the authority. If existing partnerships are
    ``superseded``, every other chosen partnership ends: each provider loses the share
    of its chosen partnerships that did not continue (lost choice, which crowds out
    its staff's faith [FJ01]; see :mod:`sim.dynamics.belief`).
    """
    ps, st = model.partnerships, model.state
    # Survival is counted over the partnerships that existed before the switch, so
    # that links a mandate supersedes count as ended.
    ps.at_switch[:] = True
    model.partnerships_at_switch = len(ps)
    assigns = regime.partner_choice in ("assigned", "both")
    if assigns:
        per_kind = model.config.partnerships.assigned_per_kind
        a, b = assigned_partners(st.kind, st.area, st.xy, per_kind)
        designated = np.isin(ps.keys(), ps.pair_keys(a, b))
    else:
        a = b = np.zeros(0, np.int64)
        designated = np.zeros(len(ps), dtype=bool)
    if regime.existing == "superseded" and len(ps):
        chosen = ~ps.mandated
        ended = chosen & ~designated
        n = model.n_providers
        lost = (np.bincount(ps.a[ended], minlength=n) + np.bincount(ps.b[ended], minlength=n))
        had = np.bincount(ps.a[chosen], minlength=n) + np.bincount(ps.b[chosen], minlength=n)
        st.autonomy_loss = np.maximum(st.autonomy_loss, lost / np.maximum(had, 1))
        ps.remove(ended)
        designated = designated[~ended]
    ps.mandated[designated] = True
    if regime.priorities == "national":
        model.national_agenda = st.priorities.mean(axis=0)
    if regime.contracts == "required" and len(ps):
        ps.formality[:] = np.maximum(ps.formality, regime.contract_formality)
    if assigns:
        _assign(model, regime, a, b)
    ps.goals[:] = regime.shared_goals


def _assign(model: CollaborationModel, regime: RegimeConfig, a: np.ndarray,
            b: np.ndarray) -> int:
    """Add the partnerships an authority assigns (pairs that exist already are skipped)."""
    st = model.state
    sim = similarity(st.culture, a, b)
    trust_a, trust_b = st.base_trust[a], st.base_trust[b]
    formality = chosen_formality(
        dataclasses.replace(regime, contracts="required")
        if regime.contracts != "none" else regime, np.minimum(trust_a, trust_b), sim)
    return model.partnerships.add(a, b, trust_a=trust_a, trust_b=trust_b,
                                  formality=formality, mandated=True,
                                  goals=regime.shared_goals, week=model.week)


def review_assignments(model: CollaborationModel, regime: RegimeConfig) -> int:
    """The authority's periodic review of the partnerships it assigned, on their record.

    Every ``regime.review_weeks`` weeks after the switch (the annual planning round of
    an integrated care board, by default) the authority looks at each assigned
    partnership's handoffs since its last review. It cannot see trust, only
    performance, and only as far as the data allow: it sees a partnership's record with
    a chance equal to the pair's mean data maturity [M23 missing data, HF17]. An
    assigned partnership it sees that carried handoffs and had fewer than
    ``regime.review_target`` of them on time is judged failing and ends, whether or
    not partners may leave. The authority then assigns each side the nearest other
    provider of its former partner's kind in its area, never a pair that already
    failed or already exists, but only where that pathway is left uncovered (no partner
    of that kind remains): it fills gaps in its pathways and does not add partnerships
    where one still serves. Every partnership's record then starts again. Returns the
    number of failing partnerships ended.
    """
    ps, st = model.partnerships, model.state
    flow, on_time = ps.period_flow.copy(), ps.period_on_time.copy()
    ps.period_flow[:] = 0.0
    ps.period_on_time[:] = 0.0
    if not ps.mandated.any():  # nothing assigned: no review, and no random draws for one
        return 0
    seen = model.rng.random(len(ps)) < 0.5 * (st.maturity[ps.a] + st.maturity[ps.b])
    late = (flow > 0) & (on_time < regime.review_target * flow)
    failing = ps.mandated & seen & late
    k = int(failing.sum())
    if k == 0:
        return 0
    fa, fb = ps.a[failing], ps.b[failing]
    model.failed_pairs = np.union1d(model.failed_pairs, ps.pair_keys(fa, fb))
    ps.remove(failing)
    # A side whose pathway to the former partner's kind is now uncovered (no partner of
    # that kind left) gets a new partner of that kind; a covered pathway gets none.
    queries = np.concatenate([fa, fb])
    want = st.kind[np.concatenate([fb, fa])]
    n = model.n_providers
    senders, receivers = ps.directed()
    covered = np.zeros((n, N_KINDS), dtype=bool)
    covered[senders, st.kind[receivers]] = True
    need = (PATHWAYS[st.kind[queries], want] > 0) & ~covered[queries, want]
    queries, want = queries[need], want[need]
    # one request per provider and kind, even if two of its partners of that kind failed
    _, once = np.unique(queries * N_KINDS + want, return_index=True)
    queries, want = queries[once], want[once]
    barred = np.union1d(model.failed_pairs, ps.keys())
    new = replacement_partners(st.kind, st.area, st.xy, queries, want, barred)
    found = new >= 0
    _assign(model, regime, queries[found], new[found])
    return k


def form_partnerships(model: CollaborationModel, regime: RegimeConfig) -> int:
    """Providers look for partners by local choice; both sides must find the match worth it.

    A provider with room for partners searches with a weekly chance that grows with
    its staff's faith and its leaders' enthusiasm [M23 belief]. It picks one of
    its nearest providers of a linked kind, weighted by the pathway volume between
    them. The match goes ahead when, for both sides, prior trust, culture
    similarity and aligned priorities outweigh distance and the expected
    paperwork, by more than a risk threshold [GN06, A21]. Returns partnerships formed.
    """
    if regime.partner_choice not in ("local", "both") or not regime.maintain:
        return 0
    cfg, st, rng = model.config.partnerships, model.state, model.rng
    degree = model.degree
    span = model.span
    room = degree < np.round(cfg.max_partners * span)
    chance = cfg.search_rate * st.faith * st.enthusiasm
    searching = np.flatnonzero(room & (rng.random(model.n_providers) < chance))
    if len(searching) == 0:
        return 0
    agenda = model.national_agenda
    a, b, sim = _matches(
        searching, model.candidates, model.candidate_weights, rng.random(len(searching)),
        room, st.culture, st.priorities, st.priorities[0] if agenda is None else agenda,
        agenda is not None, st.xy, degree, span, st.staff, st.base_trust, st.admin_share,
        cfg.value_trust, cfg.value_culture, cfg.value_alignment, cfg.value_distance_km,
        cfg.value_burden, cfg.risk_threshold, model.config.paperwork.fte_per_partnership,
        model.config.paperwork.complexity_partners)
    if len(a) == 0:
        return 0
    trust_a, trust_b = st.base_trust[a], st.base_trust[b]
    formality = chosen_formality(regime, np.minimum(trust_a, trust_b), sim)
    return model.partnerships.add(a, b, trust_a=trust_a, trust_b=trust_b, formality=formality,
                                  mandated=False, goals=regime.shared_goals, week=model.week)


@kernel
def _matches(searching, candidates, weights, u, room, culture, priorities, agenda, national,
             xy, degree, span, staff, base_trust, admin_share, value_trust, value_culture,
             value_alignment, value_distance_km, value_burden, risk_threshold,
             fte_per_partnership, complexity_partners):
    """The week's matches: each searching provider's pick (:func:`_proposed`), kept where
    both sides find it worth it (:func:`_worth_it`, on the pair's culture similarity,
    alignment and distance); returns both ends and the similarity of each match."""
    a, b = _proposed(searching, candidates, weights, u, room)
    sim = similarity_kernel(culture, a, b)
    align = alignment_kernel(priorities, a, b, agenda, national)
    agree = _worth_it(a, b, sim, align, distance_kernel(xy, a, b), degree, span, staff,
                      base_trust, admin_share, value_trust, value_culture, value_alignment,
                      value_distance_km, value_burden, risk_threshold, fte_per_partnership,
                      complexity_partners)
    return a[agree], b[agree], sim[agree]


@kernel
def _proposed(searching, candidates, weights, u, room):
    """Each searching provider's pick among its candidates (by cumulative weight against
    its uniform draw ``u``), kept where it has candidates and the pick has room."""
    a, b = np.empty(len(searching), dtype=np.int64), np.empty(len(searching), dtype=np.int64)
    k, width = 0, candidates.shape[1]
    for s in range(len(searching)):
        row = searching[s]
        cum = np.cumsum(weights[row])
        total = cum[width - 1]
        pick = 0
        for c in range(width):
            pick += cum[c] < u[s] * total
        pick = min(pick, width - 1)
        partner = candidates[row, pick]
        if total > 0 and partner >= 0 and room[partner]:
            a[k], b[k] = row, partner
            k += 1
    return a[:k], b[:k]


@kernel
def _worth_it(a, b, sim, align, dist, degree, span, staff, base_trust, admin_share,
              value_trust, value_culture, value_alignment, value_distance_km, value_burden,
              risk_threshold, fte_per_partnership, complexity_partners):
    """Whether both sides find the match worth it: prior trust, culture similarity and
    aligned priorities outweigh distance and the paperwork it adds, by the threshold."""
    agree = np.empty(len(a), dtype=np.bool_)
    for k in range(len(a)):
        agree[k] = True
        for i in (a[k], b[k]):
            added_admin = (fte_per_partnership
                           * (1.0 + (degree[i] + 1) / (complexity_partners * span[i]))
                           / max(staff[i], 1e-9))
            value = (value_trust * base_trust[i] + value_culture * sim[k]
                     + value_alignment * align[k] - dist[k] / value_distance_km
                     - value_burden * (added_admin + admin_share[i]))
            agree[k] = agree[k] and value > risk_threshold
    return agree


def end_partnerships(model: CollaborationModel, regime: RegimeConfig) -> int:
    """Partners whose trust has fallen below a threshold leave, if the regime lets them.

    Where partnerships are not maintained, they also end once trust falls below it.
    Mandated partnerships cannot be left while exit is barred. Returns how many ended.
    """
    ps = model.partnerships
    if not len(ps):
        return 0
    cfg = model.config.partnerships
    low = np.minimum(ps.trust[:, 0], ps.trust[:, 1]) < cfg.exit_threshold
    can_leave = regime.may_exit or not regime.maintain
    leaving = low & can_leave & (model.rng.random(len(ps)) < cfg.exit_rate)
    return ps.remove(leaving)
