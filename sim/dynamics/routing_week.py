"""This week's handoffs routed: what senders see of receivers' intake, and where their
patients go, in two compiled calls.

The mechanisms are those of :mod:`~sim.dynamics.handoffs` (step 2 of MODEL.md):
``observed_intake`` for ad hoc receivers and for partners, ``similarity`` of ad hoc
pairs' cultures and ``route_handoffs``, with the week's intake pushed onto its history
first (:mod:`~sim.dynamics.history`). This module is only the glue between them,
compiled so that the directed rows, reliance and the rest are built in one pass rather
than by some twenty array operations (issue 16: routing was a quarter of an ICS step).
The random draws (observation noise) are made up front in the mechanisms' order, and
``exp`` stays NumPy's (``sim.jit``), between the two calls.

When one of those mechanisms has been replaced in this process (:mod:`sim.replaced`),
:func:`route` runs :func:`_route_through_modules` instead, which calls each through its
module; with nothing replaced both give the same numbers.
"""

from __future__ import annotations

import numpy as np

from sim.config import SimConfig
from sim.dynamics import handoffs, history
from sim.dynamics.handoffs import (
    TOLD_PER_TRUST,
    HandoffResult,
    _observation,
    _success_log_odds,
    hand_over_kernel,
    similarity_kernel,
)
from sim.dynamics.history import push_week_kernel
from sim.jit import kernel
from sim.replaced import Originals, ReplacedMechanismError, checked

#: The mechanisms the compiled calls stand for (wrappers, and the kernels they call).
STANDS_FOR = Originals({
    handoffs: ("observed_intake", "similarity", "similarity_kernel", "route_handoffs",
               "hand_over_kernel"),
    history: ("push_week", "push_week_kernel")})


def route(state, ps, routes, pair_sender: np.ndarray, pair_distance: np.ndarray,
          intake_history: np.ndarray, offered: np.ndarray, intake: np.ndarray,
          senders: np.ndarray, receivers: np.ndarray, trust_dir: np.ndarray,
          formality_dir: np.ndarray, edge_similarity: np.ndarray, maintained: bool,
          quality_centre: float, cfg: SimConfig,
          rng: np.random.Generator) -> tuple[HandoffResult, np.ndarray]:
    """Route the handoffs offered this week, each sender seeing receivers' intake as its
    data allow [M23, HF17].

    Args:
        state: the providers' state; ps: the partnerships; routes: the route groups.
        pair_sender, pair_distance: sender and distance (km) of each ad hoc pair (P,).
        intake_history: (weeks, N) intake of recent weeks, newest first.
        offered: episodes offered per route group (G,); intake: receivers' intake (N,).
        senders, receivers, trust_dir, formality_dir: each directed partnership's ends,
            the sender's trust in the receiver and the contract's formality (2E,: a→b
            rows, then b→a).
        edge_similarity: culture similarity of each partnership (E,).
        maintained: whether partnerships are maintained (else they carry no handoffs).
        quality_centre: quality of practice at which quality neither helps nor hinders.

    Returns:
        What happened to the handoffs, and the intake history with this week first.
    """
    if STANDS_FOR.any_replaced():
        return _route_through_modules(state, ps, routes, pair_sender, pair_distance,
                                      intake_history, offered, intake, senders, receivers,
                                      trust_dir, formality_dir, edge_similarity, maintained,
                                      quality_centre, cfg, rng)
    if not (len(senders) == len(receivers) == len(trust_dir) == len(formality_dir)
            == 2 * len(ps) == 2 * len(edge_similarity)
            and len(pair_sender) == len(pair_distance) == len(routes.pair_receiver)):
        # compiled code does not check its indices: a mismatch would read stray memory
        raise ValueError(f"routing_week.route: {len(senders)} directed rows for {len(ps)} "
                         f"partnerships, {len(pair_sender)} ad hoc pairs for "
                         f"{len(routes.pair_receiver)} receivers; build them from the same "
                         "week's partnerships and routes")
    mon, hc = cfg.monitoring, cfg.handoffs
    z_adhoc = rng.standard_normal(pair_sender.shape)  # as observed_intake draws them
    z_edge = rng.standard_normal(senders.shape)
    (new_history, seen_adhoc, log_noise_adhoc, seen_edge, log_noise_edge, x_adhoc, x_edge,
     edge_group, eg) = _observe_and_score(
        intake_history, intake, state.maturity, pair_sender, routes.pair_receiver,
        routes.pair_group, routes.sender, senders, receivers, trust_dir, formality_dir,
        ps.confidence, ps.route, maintained, state.culture, pair_distance, edge_similarity,
        ps.distance, state.faith, state.quality, z_adhoc, z_edge, mon.max_lag_weeks,
        mon.noise, quality_centre, mon.initial_maturity, hc.adhoc_base, hc.partner_base,
        hc.reliance_weight, hc.formality_weight, hc.culture_weight, hc.faith_weight,
        hc.quality_weight, hc.data_weight, hc.distance_scale_km)
    transferred, inbound, flow_edge, success, adhoc_flow, adhoc_done = _hand_over_week(
        offered, routes.pair_group, routes.pair_receiver, edge_group, eg, receivers,
        seen_adhoc, np.exp(log_noise_adhoc), seen_edge, np.exp(log_noise_edge), intake,
        np.exp(x_adhoc), np.exp(x_edge), hc.partner_preference)
    return (HandoffResult(transferred, inbound, flow_edge, success, adhoc_flow, adhoc_done),
            new_history)


@kernel
def _observe_and_score(history, intake, maturity, pair_sender, pair_receiver, pair_group,
                       route_sender, senders, receivers, trust_dir, formality_dir,
                       confidence, route, maintained, culture, pair_distance,
                       edge_similarity, distance, faith, quality, z_adhoc, z_edge,
                       max_lag_weeks, noise, quality_centre, maturity_centre, adhoc_base,
                       partner_base, reliance_weight, formality_weight, culture_weight,
                       faith_weight, quality_weight, data_weight, distance_scale_km):
    """The intake history with this week first; what each sender sees of its ad hoc
    receivers' and partners' intake (before the noise factor's ``exp``); minus the
    log-odds of each handoff's success; and each directed partnership's route group."""
    e = len(distance)
    new_history = push_week_kernel(history, intake)
    told_adhoc = np.zeros(len(pair_sender))
    seen_adhoc, log_noise_adhoc = _observation(new_history, maturity, pair_sender,
                                               pair_receiver, told_adhoc, max_lag_weeks,
                                               noise, z_adhoc)
    told_edge = np.empty(2 * e)
    edge_group, eg = np.empty(2 * e, dtype=np.int64), np.empty(2 * e, dtype=np.int64)
    reliance = np.empty(2 * e)
    similarity_edge, distance_edge = np.empty(2 * e), np.empty(2 * e)
    for k in range(2 * e):
        row, side = (k, 0) if k < e else (k - e, 1)  # a→b rows, then b→a
        told_edge[k] = TOLD_PER_TRUST * trust_dir[k]
        edge_group[k] = route[row, side] if maintained else -1  # unmaintained: no handoffs
        eg[k] = edge_group[k] if edge_group[k] >= 0 else 0
        reliance[k] = ((1.0 - formality_dir[k]) * trust_dir[k]
                       + formality_dir[k] * confidence[row, side])
        similarity_edge[k], distance_edge[k] = edge_similarity[row], distance[row]
    seen_edge, log_noise_edge = _observation(new_history, maturity, senders, receivers,
                                             told_edge, max_lag_weeks, noise, z_edge)
    x_adhoc, x_edge = _success_log_odds(
        route_sender, pair_group, pair_receiver, eg, receivers, reliance, formality_dir,
        similarity_kernel(culture, pair_sender, pair_receiver), pair_distance,
        similarity_edge, distance_edge, faith, quality, maturity, quality_centre,
        maturity_centre, adhoc_base, partner_base, reliance_weight, formality_weight,
        culture_weight, faith_weight, quality_weight, data_weight, distance_scale_km)
    return (new_history, seen_adhoc, log_noise_adhoc, seen_edge, log_noise_edge, x_adhoc,
            x_edge, edge_group, eg)


@kernel
def _hand_over_week(offered, pair_group, pair_receiver, edge_group, eg, receivers,
                    seen_adhoc, noise_adhoc, seen_edge, noise_edge, intake, exp_x_adhoc,
                    exp_x_edge, partner_preference):
    """``handoffs.hand_over_kernel`` with each observed intake = seen x noise factor, as
    ``handoffs.observed_intake`` gives it."""
    return hand_over_kernel(offered, pair_group, pair_receiver, edge_group, eg, receivers,
                            seen_adhoc * noise_adhoc, seen_edge * noise_edge, intake,
                            exp_x_adhoc, exp_x_edge, partner_preference)


def _route_through_modules(state, ps, routes, pair_sender, pair_distance, intake_history,
                           offered, intake, senders, receivers, trust_dir, formality_dir,
                           edge_similarity, maintained, quality_centre, cfg,
                           rng) -> tuple[HandoffResult, np.ndarray]:
    """:func:`route`, calling each mechanism through its module."""
    mon = cfg.monitoring
    n, e = len(state.maturity), len(ps)
    new_history = checked(history.push_week(intake_history, intake), "history.push_week",
                          intake_history.shape)

    def observed(sender: np.ndarray, receiver: np.ndarray,
                 told: np.ndarray | float = 0.0) -> np.ndarray:
        return checked(handoffs.observed_intake(new_history, state.maturity, sender, receiver,
                                                told, mon.max_lag_weeks, mon.noise, rng),
                       "handoffs.observed_intake", sender.shape)

    obs_adhoc = observed(pair_sender, routes.pair_receiver)
    edge_group = ps.route.T.ravel()  # directed rows: a→b, then b→a
    if not maintained:
        edge_group = np.full_like(edge_group, -1)  # unmaintained links carry no handoffs
    confidence_dir = ps.confidence.T.flatten()  # a→b, then b→a
    reliance = (1.0 - formality_dir) * trust_dir + formality_dir * confidence_dir
    obs_edge = observed(senders, receivers, handoffs.TOLD_PER_TRUST * trust_dir)
    similarity_adhoc = checked(handoffs.similarity(state.culture, pair_sender,
                                                   routes.pair_receiver),
                               "handoffs.similarity", pair_sender.shape)
    result = handoffs.route_handoffs(
        offered, routes.sender, routes.pair_group, routes.pair_receiver, edge_group,
        receivers, reliance, formality_dir, obs_adhoc, obs_edge, intake, similarity_adhoc,
        pair_distance, np.concatenate((edge_similarity, edge_similarity)),
        np.concatenate((ps.distance, ps.distance)), state.faith, state.quality,
        state.maturity, quality_centre, mon.initial_maturity, cfg.handoffs)
    if not isinstance(result, HandoffResult):
        raise ReplacedMechanismError(
            f"handoffs.route_handoffs returned a {type(result).__name__}, but the week needs "
            "a HandoffResult: a replacement must return what the original returns")
    checked((result.transferred, result.inbound, result.edge_flow, result.edge_success),
            "handoffs.route_handoffs", offered.shape, (n,), (2 * e,), (2 * e,))
    return result, new_history
