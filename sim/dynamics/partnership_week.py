"""A week on every partnership: improvement, trust, confidence, culture, in one compiled call.

The mechanisms are those of :mod:`sim.dynamics.relations` (steps 5-7 and 9 of MODEL.md),
called in the same order on the same arrays; this module is only the glue between
them, compiled so that a week on tens of thousands of partnerships costs one call and
no temporary arrays per step. Random numbers are drawn up front, in the order the
mechanisms use them.

When a mechanism of :mod:`~sim.dynamics.relations` has been replaced in this process
(:mod:`sim.replaced`), the week runs :func:`_week_through_modules` instead: the
same glue in NumPy, calling each mechanism through its module, so that the replacement
takes effect. With nothing replaced both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import SimConfig
from sim.dynamics import relations
from sim.dynamics.relations import (
    conflicts_kernel,
    converge_culture_kernel,
    improvement_kernel,
    share_practice_kernel,
    update_confidence_kernel,
    update_trust_kernel,
)
from sim.jit import kernel
from sim.replaced import Originals, checked

#: A flow, aid or milestone smaller than this counts as none (episodes or FTE; technical).
TINY = 1e-9
#: The mechanisms the compiled week stands for (each wrapper, and the kernel it calls).
STANDS_FOR = Originals({relations: (
    "improvement", "improvement_kernel", "share_practice", "share_practice_kernel",
    "conflicts", "conflicts_kernel", "update_trust", "update_trust_kernel",
    "update_confidence", "update_confidence_kernel", "converge_culture",
    "converge_culture_kernel")})


@dataclass(frozen=True)
class PartnershipWeek:
    """What a week on the partnerships changed, besides the arrays updated in place.

    Attributes:
        quality, base_trust, culture: providers' new quality of practice, generalised
            trust and culture (N,), (N,), (N, 4).
        conflicts: partnerships with a conflict this week.
        interactions: directed handoff flows, directed aid and milestones this week.
        interactions_held: the same per provider, each partnership's half at each end (N,).
    """

    quality: np.ndarray
    base_trust: np.ndarray
    culture: np.ndarray
    conflicts: int
    interactions: float
    interactions_held: np.ndarray


def partnership_week(state, ps, edge_flow: np.ndarray, edge_success: np.ndarray,
                     lent: np.ndarray, similarity: np.ndarray, align: np.ndarray,
                     maintained: bool, cfg: SimConfig,
                     rng: np.random.Generator) -> PartnershipWeek:
    """Improvement and best practice, trust (handoffs, aid, conflicts, decay), confidence,
    generalised trust and culture on every partnership, in MODEL.md's order.

    Updates the partnerships' ``progress``, ``trust``, ``confidence``, ``flow``,
    ``on_time``, ``period_flow`` and ``period_on_time`` in place.

    Args:
        state: the providers' state (``ProviderState``); ps: the partnerships.
        edge_flow, edge_success: episodes offered and the share on time along each
            directed partnership (2E,: a→b rows, then b→a), from this week's handoffs.
        lent: FTE lent along each directed partnership (2E,).
        similarity: culture similarity of each partnership, 0-1 (E,).
        align: how well each partnership's agenda fits its partners' priorities (E,).
        maintained: whether the regime maintains partnerships.
    """
    if STANDS_FOR.any_replaced():
        return _week_through_modules(state, ps, edge_flow, edge_success, lent, similarity,
                                     align, maintained, cfg, rng)
    e = len(ps)
    u = rng.random(e)  # conflicts [S93]
    z = rng.normal(0.0, 1.0, 2 * e)  # what each side's data show of the other [A21]
    imp, tr, mon = cfg.improvement, cfg.trust, cfg.monitoring
    quality, base_trust, culture, conflicts, interactions, held = _week(
        ps.a, ps.b, ps.progress, ps.goals, ps.trust, ps.formality, ps.confidence, ps.flow,
        ps.on_time, ps.period_flow, ps.period_on_time, edge_flow, edge_success, lent,
        similarity, align, state.admin_share, state.faith, state.maturity, state.quality,
        state.base_trust, state.culture, u, z, maintained, cfg.paperwork.max_share,
        imp.progress_rate, imp.no_goals_factor, imp.sharing_rate, tr.conflict_rate,
        tr.culture_conflict, tr.gain, tr.loss, tr.contract_softening, tr.decay,
        tr.neglect_decay, tr.win_gain, mon.noise, tr.confidence_rate, tr.generalised_rate,
        cfg.culture.convergence_rate)
    return PartnershipWeek(quality, base_trust, culture, int(conflicts), float(interactions),
                           held)


@kernel
def _week(a, b, progress, goals, trust, formality, confidence, flow_out, on_time_out,
          period_flow, period_on_time, edge_flow, edge_success, lent, similarity, align,
          admin_share, faith, maturity, quality, base_trust, culture, u, z, maintained,
          max_share, progress_rate, no_goals_factor, sharing_rate, conflict_rate,
          culture_conflict, gain, loss, contract_softening, decay, neglect_decay, win_gain,
          noise, confidence_rate, generalised_rate, convergence_rate):
    e, n = len(a), len(faith)
    flow, success = np.empty((e, 2)), np.empty((e, 2))
    has_flow, helped = np.empty((e, 2), dtype=np.bool_), np.empty((e, 2), dtype=np.bool_)
    mean_trust, mean_faith, mean_maturity = np.empty(e), np.empty(e), np.empty(e)
    complexity = np.empty(e)
    for i in range(e):
        flow[i, 0], flow[i, 1] = edge_flow[i], edge_flow[e + i]
        success[i, 0], success[i, 1] = edge_success[i], edge_success[e + i]
        has_flow[i, 0], has_flow[i, 1] = flow[i, 0] > TINY, flow[i, 1] > TINY
        helped[i, 0], helped[i, 1] = lent[e + i] > TINY, lent[i] > TINY  # a helped by b
        mean_trust[i] = 0.5 * (trust[i, 0] + trust[i, 1])
        mean_faith[i] = 0.5 * (faith[a[i]] + faith[b[i]])
        mean_maturity[i] = 0.5 * (maturity[a[i]] + maturity[b[i]])
        complexity[i] = 0.5 * (admin_share[a[i]] + admin_share[b[i]]) / max(max_share, 1e-9)

    # Improvement and best-practice sharing [M23 ambition, AG08 small wins].
    new_progress, milestones = improvement_kernel(progress, align, goals, mean_trust,
                                                  mean_faith, mean_maturity, complexity,
                                                  progress_rate, no_goals_factor)
    progress[:] = new_progress
    new_quality = share_practice_kernel(quality, a, b, milestones, sharing_rate)

    # Trust: experience of handoffs and aid, conflicts, decay [S93, VH03].
    interacted = np.empty(e, dtype=np.bool_)
    failure, distance = np.zeros(e), np.empty(e)
    good, baseline = np.empty((e, 2)), np.empty((e, 2))
    for i in range(e):
        interacted[i] = (has_flow[i, 0] or has_flow[i, 1] or helped[i, 0] or helped[i, 1]
                         or milestones[i] > 0)
        total_flow = flow[i, 0] + flow[i, 1]
        if total_flow > TINY:
            failure[i] = (flow[i, 0] * (1.0 - success[i, 0])
                          + flow[i, 1] * (1.0 - success[i, 1])) / total_flow
        distance[i] = 1.0 - similarity[i]
        for side in range(2):
            good[i, side] = max(success[i, side] if has_flow[i, side] else 0.0,
                                1.0 if helped[i, side] else 0.0)
        baseline[i, 0], baseline[i, 1] = base_trust[a[i]], base_trust[b[i]]
    conflict = conflicts_kernel(failure, distance, interacted, u, conflict_rate,
                                culture_conflict)
    new_trust = update_trust_kernel(trust, good, conflict, interacted, formality, baseline,
                                    mean_faith, maintained, gain, loss, contract_softening,
                                    decay, neglect_decay)
    for i in range(e):
        win = min(milestones[i], 1.0) * win_gain
        for side in range(2):
            trust[i, side] = new_trust[i, side] + win * (1.0 - new_trust[i, side])

    # Confidence from what each side's data let it see [A21].
    holder_maturity = np.empty(2 * e)
    for i in range(e):
        holder_maturity[2 * i], holder_maturity[2 * i + 1] = maturity[a[i]], maturity[b[i]]
    new_confidence = update_confidence_kernel(confidence.ravel(), success.ravel(),
                                              has_flow.ravel(), holder_maturity, z, noise,
                                              confidence_rate)
    for i in range(e):
        confidence[i, 0], confidence[i, 1] = new_confidence[2 * i], new_confidence[2 * i + 1]

    # Generalised trust drifts towards the trust a provider holds in its partners.
    held_a, held_b = np.zeros(n), np.zeros(n)
    degree_a, degree_b = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for i in range(e):
        held_a[a[i]] += trust[i, 0]
        held_b[b[i]] += trust[i, 1]
        degree_a[a[i]] += 1
        degree_b[b[i]] += 1
    new_base_trust = np.empty(n)
    for j in range(n):
        degree = degree_a[j] + degree_b[j]
        mean_held = (held_a[j] + held_b[j]) / degree if degree > 0 else base_trust[j]
        new_base_trust[j] = base_trust[j] + generalised_rate * (mean_held - base_trust[j])

    # Culture convergence with interaction [Ax97].
    new_culture = converge_culture_kernel(culture, a, b, interacted.astype(np.float64),
                                          convergence_rate)

    # The week's handoffs on record, and the interactions each provider held.
    conflicts, interactions = 0, 0
    per_a, per_b = np.zeros(n), np.zeros(n)
    for i in range(e):
        conflicts += int(conflict[i])
        flow_out[i, 0], flow_out[i, 1] = flow[i, 0], flow[i, 1]
        on_time_out[i, 0], on_time_out[i, 1] = success[i, 0], success[i, 1]
        period_flow[i] += flow[i, 0] + flow[i, 1]
        period_on_time[i] += flow[i, 0] * success[i, 0] + flow[i, 1] * success[i, 1]
        per_edge = (int(has_flow[i, 0]) + int(has_flow[i, 1]) + int(helped[i, 0])
                    + int(helped[i, 1]) + int(milestones[i] > 0))  # counts, not a logical or
        interactions += per_edge
        per_a[a[i]] += per_edge
        per_b[b[i]] += per_edge
    return (new_quality, new_base_trust, new_culture, conflicts, interactions,
            0.5 * (per_a + per_b))


def _week_through_modules(state, ps, edge_flow, edge_success, lent, similarity, align,
                          maintained, cfg, rng) -> PartnershipWeek:
    """:func:`partnership_week` in NumPy, calling each mechanism through
    :mod:`~sim.dynamics.relations`, so that a replaced one takes effect. The random draws
    are the mechanisms' own, in the compiled week's order."""
    e, n = len(ps), len(state.faith)
    a, b = ps.a, ps.b
    flow = edge_flow.reshape(2, e).T  # column 0: a→b, column 1: b→a
    success = edge_success.reshape(2, e).T
    has_flow = flow > TINY
    helped = lent.reshape(2, e).T[:, ::-1] > TINY  # column 0: a was helped by b
    mean_faith = 0.5 * (state.faith[a] + state.faith[b])

    # Improvement and best-practice sharing [M23 ambition, AG08 small wins].
    complexity = 0.5 * (state.admin_share[a] + state.admin_share[b]) / max(
        cfg.paperwork.max_share, 1e-9)
    ps.progress[:], milestones = checked(relations.improvement(
        ps.progress, align, ps.goals, 0.5 * (ps.trust[:, 0] + ps.trust[:, 1]), mean_faith,
        0.5 * (state.maturity[a] + state.maturity[b]), complexity, cfg.improvement),
        "relations.improvement", (e,), (e,))
    quality = checked(relations.share_practice(state.quality, a, b, milestones,
                                               cfg.improvement.sharing_rate),
                      "relations.share_practice", (n,))

    # Trust: experience of handoffs and aid, conflicts, decay [S93, VH03].
    interacted = has_flow.any(axis=1) | helped.any(axis=1) | (milestones > 0)
    total_flow = flow[:, 0] + flow[:, 1]
    failed = flow * (1.0 - success)
    failure = np.divide(failed[:, 0] + failed[:, 1], total_flow, out=np.zeros(e),
                        where=total_flow > TINY)
    conflict = checked(relations.conflicts(failure, 1.0 - similarity, interacted, cfg.trust,
                                           rng), "relations.conflicts", (e,))
    good = np.maximum(np.where(has_flow, success, 0.0), helped.astype(np.float64))
    baseline = np.column_stack([state.base_trust[a], state.base_trust[b]])
    trust = checked(relations.update_trust(ps.trust, good, conflict, interacted, ps.formality,
                                           baseline, mean_faith, maintained, cfg.trust),
                    "relations.update_trust", (e, 2))
    win = np.minimum(milestones, 1.0)[:, None] * cfg.trust.win_gain
    ps.trust[:] = trust + win * (1.0 - trust)

    # Confidence from what each side's data let it see [A21].
    holder_maturity = np.column_stack([state.maturity[a], state.maturity[b]])
    ps.confidence[:] = checked(relations.update_confidence(
        ps.confidence.ravel(), success.ravel(), has_flow.ravel(), holder_maturity.ravel(),
        cfg.monitoring.noise, cfg.trust.confidence_rate, rng), "relations.update_confidence",
        (2 * e,)).reshape(e, 2)

    # Generalised trust drifts towards the trust a provider holds in its partners.
    held = np.bincount(a, ps.trust[:, 0], n) + np.bincount(b, ps.trust[:, 1], n)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    mean_held = np.divide(held, degree, out=state.base_trust.copy(), where=degree > 0)
    base_trust = state.base_trust + cfg.trust.generalised_rate * (mean_held - state.base_trust)

    # Culture convergence with interaction [Ax97].
    culture = checked(relations.converge_culture(state.culture, a, b,
                                                 interacted.astype(np.float64), cfg.culture),
                      "relations.converge_culture", state.culture.shape)

    # The week's handoffs on record, and the interactions each provider held.
    ps.flow[:], ps.on_time[:] = flow, success
    ps.period_flow[:] += total_flow
    ps.period_on_time[:] += flow[:, 0] * success[:, 0] + flow[:, 1] * success[:, 1]
    per_edge = (has_flow.sum(axis=1) + helped.sum(axis=1) + (milestones > 0)).astype(np.float64)
    held_interactions = 0.5 * (np.bincount(a, per_edge, n) + np.bincount(b, per_edge, n))
    return PartnershipWeek(quality, base_trust, culture, int(conflict.sum()),
                           float(per_edge.sum()), held_interactions)
