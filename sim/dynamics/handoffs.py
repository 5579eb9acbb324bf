"""Handoffs along care pathways: routing to partners or ad hoc, on time or delayed.

A sender's patients due for a kind of provider (new this week, plus those still
waiting from earlier weeks) are split over candidate receivers: its partners of
that kind, each weighted by how much the sender relies on it, and a few nearby
providers of that kind with no relationship. Weights also follow each
receiver's spare intake *as the sender observes it*, late and noisy in
proportion to the sender's data maturity. A handoff happens on time with a
probability set by the relationship (reliance, role clarity from a contract),
culture similarity and distance, and only as far as the receiver has intake left.
Patients not handed over stay with the sender and block its capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import HandoffConfig


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
    diff = culture[i] - culture[j]
    return 1.0 - np.sqrt((diff * diff).sum(axis=-1)) / np.sqrt(culture.shape[1])


def distance_km(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Straight-line distance between providers i and j (km)."""
    d = xy[i] - xy[j]
    return np.sqrt((d * d).sum(axis=-1))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


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
    culture: np.ndarray,
    xy: np.ndarray,
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
        formality: contract formality of each directed partnership, 0-1 (2E,).
        observed_intake_adhoc: (P,) receivers' intake as the sender sees it (episodes).
        observed_intake_edge: (2E,) the same for partners.
        intake: receivers' true intake this week (episodes, N,).
        culture: (N, d) working cultures; xy: (N, 2) locations (km).
    """
    n_groups, n_providers = len(offered), len(intake)
    on_path = edge_group >= 0
    eg = np.where(on_path, edge_group, 0)

    rcv = pair_receiver
    w_adhoc = np.maximum(observed_intake_adhoc, 1e-6)
    w_edge = np.where(on_path, p.partner_preference * (0.5 + reliance)
                      * np.maximum(observed_intake_edge, 1e-6), 0.0)
    total_w = (np.bincount(pair_group, w_adhoc, minlength=n_groups)
               + np.bincount(eg, w_edge, minlength=n_groups))
    scale = np.divide(offered, total_w, out=np.zeros(n_groups), where=total_w > 0)
    flow_adhoc = w_adhoc * scale[pair_group]
    flow_edge = w_edge * scale[eg]

    senders = route_sender[pair_group]
    logit_adhoc = (p.adhoc_base + p.culture_weight * (similarity(culture, senders, rcv) - 0.5)
                   - distance_km(xy, senders, rcv) / p.distance_scale_km)
    e_sender = route_sender[eg]
    logit_edge = (p.partner_base + p.reliance_weight * reliance
                  + p.formality_weight * formality
                  + p.culture_weight * (similarity(culture, e_sender, edge_receiver) - 0.5)
                  - distance_km(xy, e_sender, edge_receiver) / p.distance_scale_km)
    ok_adhoc = flow_adhoc * _sigmoid(logit_adhoc)
    ok_edge = flow_edge * _sigmoid(logit_edge)

    # The receiver takes what its intake allows, in the same proportion from everyone.
    asked = (np.bincount(rcv, ok_adhoc, minlength=n_providers)
             + np.bincount(edge_receiver, ok_edge, minlength=n_providers))
    accept = np.divide(intake, asked, out=np.ones(n_providers), where=asked > intake)
    done_adhoc = ok_adhoc * accept[rcv]
    done_edge = ok_edge * accept[edge_receiver]

    transferred = (np.bincount(pair_group, done_adhoc, minlength=n_groups)
                   + np.bincount(eg, done_edge, minlength=n_groups))
    inbound = (np.bincount(rcv, done_adhoc, minlength=n_providers)
               + np.bincount(edge_receiver, done_edge, minlength=n_providers))
    success = np.divide(done_edge, flow_edge, out=np.zeros_like(flow_edge),
                        where=flow_edge > 0)
    return HandoffResult(transferred, inbound, flow_edge, success,
                         float(flow_adhoc.sum()), float(done_adhoc.sum()))
