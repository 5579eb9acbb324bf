"""Handoffs along care pathways: routing to partners or ad hoc, on time or delayed.

A sender's patients due for a kind of provider (new this week, plus those still
waiting from earlier weeks) are split over candidate receivers: its partners of
that kind and nearby providers of that kind with no relationship, in proportion
to each receiver's intake *as the sender observes it* (late and noisy as the
sender's data maturity makes it) times the chance the handoff succeeds. That
chance is set by the relationship (reliance, role clarity from a contract),
culture similarity, both sides' staff faith and distance. Receivers take their
partners' requests first, then others', as far as their intake allows; a request
that falls through has still used intake. Patients not handed over stay with the
sender and block its capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import HandoffConfig
from sim.dynamics.belief import NEUTRAL_FAITH
from sim.dynamics.sums import pairwise_sum
from sim.jit import kernel

#: Culture similarity at which culture neither helps nor hinders a handoff: the midpoint
#: of the 0-1 scale (assumption).
NEUTRAL_SIMILARITY = 0.5
#: Share of the gap to perfect sight of a partner's intake that the partners' telling each
#: other closes, per unit of the sender's trust in the receiver: a fully trusted partner
#: halves the lag and noise of what the sender's data show (assumption).
TOLD_PER_TRUST = 0.5
#: Floor on observed intake in routing weights (episodes): a receiver that looks full is
#: still tried now and then, so that routing never divides by zero (technical).
MIN_OBSERVED_INTAKE = 1e-6


@dataclass(frozen=True)
class HandoffResult:
    """What happened to this week's handoffs.

    Attributes:
        transferred: episodes handed over per route group (G,).
        inbound: episodes received per provider (N,).
        edge_flow: episodes offered along each directed partnership (2E,).
        edge_success: share of ``edge_flow`` handed over on time (2E,).
        adhoc_flow: episodes offered to receivers without a relationship (total).
        adhoc_transferred: of which handed over on time.
    """

    transferred: np.ndarray
    inbound: np.ndarray
    edge_flow: np.ndarray
    edge_success: np.ndarray
    adhoc_flow: float
    adhoc_transferred: float


def similarity(culture: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Culture similarity in [0, 1]: 1 minus Euclidean distance over its maximum."""
    return similarity_kernel(culture, i, j)


@kernel
def similarity_kernel(culture, i, j):
    """:func:`similarity` (compiled, for other kernels)."""
    scale = np.sqrt(culture.shape[1])
    out = np.empty(len(i))
    for k in range(len(i)):
        squares = 0.0
        for dim in range(culture.shape[1]):  # summed in dimension order, as a row sum
            diff = culture[i[k], dim] - culture[j[k], dim]
            squares = diff * diff if dim == 0 else squares + diff * diff
        out[k] = 1.0 - np.sqrt(squares) / scale
    return out


def distance_km(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Straight-line distance between providers i and j (km), shaped like ``i``."""
    return distance_kernel(xy, np.ravel(i), np.ravel(j)).reshape(np.shape(i))


@kernel
def distance_kernel(xy, i, j):
    """:func:`distance_km` of index vectors (squares summed in coordinate order)."""
    out = np.empty(len(i))
    for k in range(len(i)):
        dx, dy = xy[i[k], 0] - xy[j[k], 0], xy[i[k], 1] - xy[j[k], 1]
        out[k] = np.sqrt(dx * dx + dy * dy)
    return out


def observed_intake(history: np.ndarray, maturity: np.ndarray, sender: np.ndarray,
                    receiver: np.ndarray, told: np.ndarray | float, max_lag_weeks: int,
                    noise: float, rng: np.random.Generator) -> np.ndarray:
    """Receivers' intake as each sender's data show it: late and noisy [M23, HF17].

    Clarity ``c = 1 - (1 - maturity_sender) (1 - told)``; the sender sees the intake of
    ``round((1 - c) max_lag_weeks)`` weeks ago, times log-normal noise of sd
    ``noise (1 - c)`` with mean 1.

    Args:
        history: (max_lag_weeks + 1, N) intake of recent weeks (episodes), newest first.
        maturity: (N,) data maturity, 0-1.
        sender, receiver: (k,) provider indices of each observation.
        told: (k,) or scalar, 0-1: share of the gap to perfect sight closed by what the
            receiver tells the sender (partners: ``TOLD_PER_TRUST`` x trust; others 0).
        max_lag_weeks: lag at zero clarity (weeks); noise: sd at zero clarity.
    """
    z = rng.standard_normal(sender.shape)
    told = np.full(sender.shape, told) if np.ndim(told) == 0 else told
    seen, log_noise = _observation(history, maturity, sender, receiver, told, max_lag_weeks,
                                   noise, z)
    return seen * np.exp(log_noise)


@kernel
def _observation(history, maturity, sender, receiver, told, max_lag_weeks, noise, z):
    """The intake each sender sees (lagged) and the log of its noise factor."""
    k = len(sender)
    seen, log_noise = np.empty(k), np.empty(k)
    for i in range(k):
        clarity = 1.0 - (1.0 - maturity[sender[i]]) * (1.0 - told[i])
        lag = np.int64(np.rint((1.0 - clarity) * max_lag_weeks))
        seen[i] = history[lag, receiver[i]]
        s = noise * (1.0 - clarity)
        log_noise[i] = s * z[i] - 0.5 * s * s
    return seen, log_noise


def route_handoffs(
    offered: np.ndarray,
    route_sender: np.ndarray,
    pair_group: np.ndarray,
    pair_receiver: np.ndarray,
    edge_group: np.ndarray,
    edge_receiver: np.ndarray,
    reliance: np.ndarray,
    formality: np.ndarray,
    observed_intake_adhoc: np.ndarray,
    observed_intake_edge: np.ndarray,
    intake: np.ndarray,
    similarity_adhoc: np.ndarray,
    distance_adhoc: np.ndarray,
    similarity_edge: np.ndarray,
    distance_edge: np.ndarray,
    faith: np.ndarray,
    quality: np.ndarray,
    maturity: np.ndarray,
    quality_centre: float,
    maturity_centre: float,
    p: HandoffConfig,
) -> HandoffResult:
    """Route ``offered`` episodes of each group to receivers and hand over what succeeds.

    Args:
        offered: episodes due per route group (G,).
        route_sender: sender of each group (G,).
        pair_group, pair_receiver: ad hoc (group, receiver) pairs (P,).
        edge_group: route group of each directed partnership (2E,), -1 if off-pathway.
        edge_receiver: receiver of each directed partnership (2E,).
        reliance: sender's reliance on the receiver, 0-1 (2E,).
        formality: contract formality of each directed partnership, 0-1 (2E,). Role
            clarity from a contract matters where reliance is low: it substitutes for
            trust rather than adding to it [A21; M23 contracts].
        observed_intake_adhoc: (P,) receivers' intake as the sender sees it (episodes).
        observed_intake_edge: (2E,) the same for partners.
        intake: receivers' true intake this week (episodes, N,).
        similarity_adhoc, distance_adhoc: culture similarity (0-1) and distance (km) of
            each ad hoc pair (P,); similarity_edge, distance_edge: the same per directed
            partnership (2E,).
        faith: (N,) staff faith in collaboration, 0-1: engaged staff on both sides make
            handoffs work [M23 trust and belief].
        quality: (N,) quality of practice, 0-1: good practice (e.g. discharge planning)
            spread by partnerships makes handoffs work [M23 sharing best practice].
        maturity: (N,) data maturity, 0-1: shared records and known requirements make
            fewer handoffs fall through [M23 monitoring and data; assumption].
        quality_centre, maturity_centre: the levels of the two sides' mean quality and
            maturity at which they neither help nor hinder: the initial levels, so that
            ``adhoc_base`` and ``partner_base`` are the log-odds of the starting state
            and quality and maturity shift success only as they move. Faith is centred
            on ``NEUTRAL_FAITH``, culture similarity on ``NEUTRAL_SIMILARITY``.
    """
    eg = np.where(edge_group >= 0, edge_group, 0)
    x_adhoc, x_edge = _success_log_odds(
        route_sender, pair_group, pair_receiver, eg, edge_receiver, reliance, formality,
        similarity_adhoc, distance_adhoc, similarity_edge, distance_edge, faith, quality,
        maturity, quality_centre, maturity_centre, p.adhoc_base, p.partner_base,
        p.reliance_weight, p.formality_weight, p.culture_weight, p.faith_weight,
        p.quality_weight, p.data_weight, p.distance_scale_km)
    return HandoffResult(*hand_over_kernel(
        offered, pair_group, pair_receiver, edge_group, eg, edge_receiver,
        observed_intake_adhoc, observed_intake_edge, intake, np.exp(x_adhoc), np.exp(x_edge),
        p.partner_preference))  # x_* are minus the log-odds of success


@kernel
def hand_over_kernel(offered, pair_group, rcv, edge_group, eg, edge_receiver, observed_adhoc,
                     observed_edge, intake, exp_x_adhoc, exp_x_edge, partner_preference):
    """The hand-over of :func:`route_handoffs` from ``exp`` of minus the log-odds (left to
    NumPy, ``sim.jit``): chance of success 1 / (1 + exp(x)). Returns what
    :class:`HandoffResult` holds, in its order (the ad hoc totals summed as NumPy sums)."""
    p_adhoc, p_edge = 1.0 / (1.0 + exp_x_adhoc), 1.0 / (1.0 + exp_x_edge)
    transferred, inbound, flow_adhoc, done_adhoc, flow_edge, success = _hand_over(
        offered, pair_group, rcv, edge_group, eg, edge_receiver, observed_adhoc,
        observed_edge, intake, p_adhoc, p_edge, partner_preference)
    return (transferred, inbound, flow_edge, success, pairwise_sum(flow_adhoc),
            pairwise_sum(done_adhoc))


@kernel
def _success_log_odds(route_sender, pair_group, rcv, eg, edge_receiver, reliance, formality,
                      similarity_adhoc, distance_adhoc, similarity_edge, distance_edge, faith,
                      quality, maturity, quality_centre, maturity_centre, adhoc_base,
                      partner_base, reliance_weight, formality_weight, culture_weight,
                      faith_weight, quality_weight, data_weight, distance_scale_km):
    """Minus the log-odds that each ad hoc (P,) and partner (2E,) handoff succeeds."""
    x_adhoc = np.empty(len(pair_group))
    for i in range(len(pair_group)):
        s, r = route_sender[pair_group[i]], rcv[i]
        x_adhoc[i] = -(
            adhoc_base + culture_weight * (similarity_adhoc[i] - NEUTRAL_SIMILARITY)
            + faith_weight * (0.5 * (faith[s] + faith[r]) - NEUTRAL_FAITH)
            + quality_weight * (0.5 * (quality[s] + quality[r]) - quality_centre)
            + data_weight * (0.5 * (maturity[s] + maturity[r]) - maturity_centre)
            - distance_adhoc[i] / distance_scale_km)
    x_edge = np.empty(len(eg))
    for k in range(len(eg)):
        s, r = route_sender[eg[k]], edge_receiver[k]
        x_edge[k] = -(
            partner_base + reliance_weight * reliance[k]
            + formality_weight * formality[k] * (1.0 - reliance[k])
            + culture_weight * (similarity_edge[k] - NEUTRAL_SIMILARITY)
            + faith_weight * (0.5 * (faith[s] + faith[r]) - NEUTRAL_FAITH)
            + quality_weight * (0.5 * (quality[s] + quality[r]) - quality_centre)
            + data_weight * (0.5 * (maturity[s] + maturity[r]) - maturity_centre)
            - distance_edge[k] / distance_scale_km)
    return x_adhoc, x_edge


@kernel
def _hand_over(offered, pair_group, rcv, edge_group, eg, edge_receiver, observed_adhoc,
               observed_edge, intake, p_adhoc, p_edge, partner_preference):
    """Split what is due over receivers, ration each receiver's intake (partners first)
    and count what is handed over; the steps of :func:`route_handoffs`, in its order."""
    n_groups, n_providers = len(offered), len(intake)
    n_pairs, n_edges = len(pair_group), len(eg)
    # Senders send where they expect handoffs to succeed: observed intake times the
    # chance of success (a partner may also get an explicit preference).
    w_adhoc, w_edge = np.empty(n_pairs), np.empty(n_edges)
    weight_adhoc, weight_edge = np.zeros(n_groups), np.zeros(n_groups)
    for i in range(n_pairs):
        w_adhoc[i] = max(observed_adhoc[i], MIN_OBSERVED_INTAKE) * p_adhoc[i]
        weight_adhoc[pair_group[i]] += w_adhoc[i]
    for k in range(n_edges):
        w_edge[k] = (partner_preference * max(observed_edge[k], MIN_OBSERVED_INTAKE)
                     * p_edge[k]) if edge_group[k] >= 0 else 0.0
        weight_edge[eg[k]] += w_edge[k]
    scale = np.zeros(n_groups)
    for g in range(n_groups):
        total = weight_adhoc[g] + weight_edge[g]
        if total > 0:
            scale[g] = offered[g] / total
    flow_adhoc, flow_edge = np.empty(n_pairs), np.empty(n_edges)
    asked_partners, asked_others = np.zeros(n_providers), np.zeros(n_providers)
    for k in range(n_edges):
        flow_edge[k] = w_edge[k] * scale[eg[k]]
        asked_partners[edge_receiver[k]] += flow_edge[k]
    for i in range(n_pairs):
        flow_adhoc[i] = w_adhoc[i] * scale[pair_group[i]]
        asked_others[rcv[i]] += flow_adhoc[i]
    # Receivers deal with their partners' requests first, then others', as far as
    # their intake allows; a request that falls through still took the receiver's
    # time (assessment, calls), so unreliable handoffs waste intake (assumption).
    accept_partners, accept_others = np.ones(n_providers), np.ones(n_providers)
    for j in range(n_providers):
        if asked_partners[j] > intake[j]:
            accept_partners[j] = intake[j] / asked_partners[j]
        left = max(intake[j] - asked_partners[j], 0.0)
        if asked_others[j] > left:
            accept_others[j] = left / asked_others[j]
    done_adhoc, done_edge = np.empty(n_pairs), np.empty(n_edges)
    moved_adhoc, moved_edge = np.zeros(n_groups), np.zeros(n_groups)
    in_adhoc, in_edge = np.zeros(n_providers), np.zeros(n_providers)
    for i in range(n_pairs):
        done_adhoc[i] = flow_adhoc[i] * p_adhoc[i] * accept_others[rcv[i]]
        moved_adhoc[pair_group[i]] += done_adhoc[i]
        in_adhoc[rcv[i]] += done_adhoc[i]
    success = np.zeros(n_edges)
    for k in range(n_edges):
        done_edge[k] = flow_edge[k] * p_edge[k] * accept_partners[edge_receiver[k]]
        moved_edge[eg[k]] += done_edge[k]
        in_edge[edge_receiver[k]] += done_edge[k]
        if flow_edge[k] > 0:
            success[k] = done_edge[k] / flow_edge[k]
    return (moved_adhoc + moved_edge, in_adhoc + in_edge, flow_adhoc, done_adhoc, flow_edge,
            success)
