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


def rowsum(x: np.ndarray) -> np.ndarray:
    """Sum over the (short) last axis column by column: the same result as
    ``x.sum(axis=-1)`` for a handful of columns, many times faster on long arrays."""
    out = x[..., 0].copy()
    for k in range(1, x.shape[-1]):
        out += x[..., k]
    return out


def similarity(culture: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Culture similarity in [0, 1]: 1 minus Euclidean distance over its maximum."""
    # dimension by dimension, on contiguous columns: the same sums as a row sum over
    # the dimensions, in the same order, without gathering whole rows
    squares = None
    for column in np.ascontiguousarray(culture.T):
        diff = column[i] - column[j]
        squares = diff * diff if squares is None else squares + diff * diff
    return 1.0 - np.sqrt(squares) / np.sqrt(culture.shape[1])


def distance_km(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Straight-line distance between providers i and j (km)."""
    d = np.take(xy, i, axis=0) - np.take(xy, j, axis=0)
    return np.sqrt(rowsum(d * d))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


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
    clarity = 1.0 - (1.0 - maturity[sender]) * (1.0 - told)
    lag = np.rint((1.0 - clarity) * max_lag_weeks).astype(np.int64)
    seen = history[lag, receiver]
    s = noise * (1.0 - clarity)
    return seen * np.exp(s * rng.standard_normal(sender.shape) - 0.5 * s * s)


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
    n_groups, n_providers = len(offered), len(intake)
    on_path = edge_group >= 0
    eg = np.where(on_path, edge_group, 0)

    rcv = pair_receiver
    senders = route_sender[pair_group]
    e_sender = route_sender[eg]
    p_adhoc = _sigmoid(
        p.adhoc_base + p.culture_weight * (similarity_adhoc - NEUTRAL_SIMILARITY)
        + p.faith_weight * (0.5 * (faith[senders] + faith[rcv]) - NEUTRAL_FAITH)
        + p.quality_weight * (0.5 * (quality[senders] + quality[rcv]) - quality_centre)
        + p.data_weight * (0.5 * (maturity[senders] + maturity[rcv]) - maturity_centre)
        - distance_adhoc / p.distance_scale_km)
    p_edge = _sigmoid(
        p.partner_base + p.reliance_weight * reliance
        + p.formality_weight * formality * (1.0 - reliance)
        + p.culture_weight * (similarity_edge - NEUTRAL_SIMILARITY)
        + p.faith_weight * (0.5 * (faith[e_sender] + faith[edge_receiver]) - NEUTRAL_FAITH)
        + p.quality_weight * (0.5 * (quality[e_sender] + quality[edge_receiver])
                              - quality_centre)
        + p.data_weight * (0.5 * (maturity[e_sender] + maturity[edge_receiver])
                           - maturity_centre)
        - distance_edge / p.distance_scale_km)

    # Senders send where they expect handoffs to succeed: observed intake times the
    # chance of success (a partner may also get an explicit preference).
    w_adhoc = np.maximum(observed_intake_adhoc, MIN_OBSERVED_INTAKE) * p_adhoc
    w_edge = np.where(on_path, p.partner_preference
                      * np.maximum(observed_intake_edge, MIN_OBSERVED_INTAKE) * p_edge, 0.0)
    total_w = (np.bincount(pair_group, w_adhoc, minlength=n_groups)
               + np.bincount(eg, w_edge, minlength=n_groups))
    scale = np.divide(offered, total_w, out=np.zeros(n_groups), where=total_w > 0)
    flow_adhoc = w_adhoc * scale[pair_group]
    flow_edge = w_edge * scale[eg]

    # Receivers deal with their partners' requests first, then others', as far as
    # their intake allows; a request that falls through still took the receiver's
    # time (assessment, calls), so unreliable handoffs waste intake (assumption).
    asked_partners = np.bincount(edge_receiver, flow_edge, minlength=n_providers)
    accept_partners = np.divide(intake, asked_partners, out=np.ones(n_providers),
                                where=asked_partners > intake)
    left = np.maximum(intake - asked_partners, 0.0)
    asked_others = np.bincount(rcv, flow_adhoc, minlength=n_providers)
    accept_others = np.divide(left, asked_others, out=np.ones(n_providers),
                              where=asked_others > left)
    done_adhoc = flow_adhoc * p_adhoc * accept_others[rcv]
    done_edge = flow_edge * p_edge * accept_partners[edge_receiver]

    transferred = (np.bincount(pair_group, done_adhoc, minlength=n_groups)
                   + np.bincount(eg, done_edge, minlength=n_groups))
    inbound = (np.bincount(rcv, done_adhoc, minlength=n_providers)
               + np.bincount(edge_receiver, done_edge, minlength=n_providers))
    success = np.divide(done_edge, flow_edge, out=np.zeros_like(flow_edge),
                        where=flow_edge > 0)
    return HandoffResult(transferred, inbound, flow_edge, success,
                         float(flow_adhoc.sum()), float(done_adhoc.sum()))
