"""Trust, confidence, joint improvement and culture: how partnerships change week to week."""

from __future__ import annotations

import numpy as np

from sim.config import CultureConfig, ImprovementConfig, TrustConfig
from sim.dynamics.belief import NEUTRAL_FAITH
from sim.jit import kernel

#: Mean quality of practice at the start, 0-1 (its spread is
#: ``context.initial_quality_spread``): room to improve, less than excellent
#: (assumption). Handoff success is centred on it.
INITIAL_QUALITY_MEAN = 0.6
#: Range of each area's mean culture on every dimension, 0-1 (uniform draw): areas
#: differ, none sits at an extreme (assumption).
AREA_CULTURE_LOW, AREA_CULTURE_HIGH = 0.3, 0.7
#: Confidence learns this share of its full-maturity rate with no data at all (assumption:
#: even without data, working together shows something).
CONFIDENCE_RATE_FLOOR = 0.2
#: Improvement speed factor at zero data maturity, ``MATURITY_PROGRESS_BASE + maturity``
#: (assumption: data show where to improve, from half speed at none to 1.5x at full).
MATURITY_PROGRESS_BASE = 0.5


def conflicts(failure: np.ndarray, culture_distance: np.ndarray, interacted: np.ndarray,
              p: TrustConfig, rng: np.random.Generator) -> np.ndarray:
    """Which partnerships have a conflict this week (bool, E).

    Failed handoffs cause conflicts, more often between dissimilar cultures.

    Args:
        failure: share of the partnership's handoffs that failed this week, 0-1 (E).
        culture_distance: 1 - culture similarity, 0-1 (E).
        interacted: whether the partners dealt with each other this week (E).
    """
    return conflicts_kernel(failure, culture_distance, interacted, rng.random(len(failure)),
                      p.conflict_rate, p.culture_conflict)


@kernel
def conflicts_kernel(failure, culture_distance, interacted, u, conflict_rate, culture_conflict):
    out = np.zeros(len(failure), dtype=np.bool_)
    for i in range(len(failure)):
        prob = conflict_rate * failure[i] * (1.0 + culture_conflict * culture_distance[i])
        out[i] = interacted[i] and u[i] < min(prob, 1.0)
    return out


def update_trust(trust: np.ndarray, good: np.ndarray, conflict: np.ndarray,
                 interacted: np.ndarray, formality: np.ndarray, baseline: np.ndarray,
                 engagement: np.ndarray, maintained: bool, p: TrustConfig) -> np.ndarray:
    """New trust (E, 2) after a week's experience.

    Gains are small, proportional to the gap to full trust and to both sides' staff
    engagement (faith; ``NEUTRAL_FAITH`` is neutral) [M23 trust: engagement makes staff willing to
    invest; FJ01: imposed arrangements crowd it out]; a conflict costs a
    large share of trust at once [S93], less where a contract clarifies roles;
    without interaction trust decays towards the holder's baseline [VH03], and
    faster when partnerships are not maintained.

    Args:
        trust: (E, 2) each side's trust in the other, 0-1.
        good: (E, 2) share of good experience each side had of the other, 0-1.
        conflict: (E,) a conflict this week; interacted: (E,) any dealings this week.
        formality: (E,) contract formality, 0-1; baseline: (E, 2) holders' generalised trust.
        engagement: (E,) mean staff faith of the two partners, 0-1.
    """
    return update_trust_kernel(trust, good, conflict, interacted, formality, baseline, engagement,
                         maintained, p.gain, p.loss, p.contract_softening, p.decay,
                         p.neglect_decay)


@kernel
def update_trust_kernel(trust, good, conflict, interacted, formality, baseline, engagement,
                  maintained, gain, loss, contract_softening, decay, neglect_decay):
    out = np.empty(trust.shape)
    for i in range(trust.shape[0]):
        damage = loss * (1.0 - contract_softening * formality[i])
        for side in range(2):
            t = trust[i, side]
            value = t + gain * good[i, side] * (engagement[i] / NEUTRAL_FAITH) * (1.0 - t)
            if conflict[i]:
                value = value * (1.0 - damage)
            if not interacted[i] and value > baseline[i, side]:
                value = value - decay * (value - baseline[i, side])
            if not maintained:
                value = value * (1.0 - neglect_decay)
            out[i, side] = min(max(value, 0.0), 1.0)
    return out


def update_confidence(confidence: np.ndarray, observed: np.ndarray, seen: np.ndarray,
                      maturity: np.ndarray, noise: float, rate: float,
                      rng: np.random.Generator) -> np.ndarray:
    """Confidence follows observed reliability, as noisily and slowly as data maturity allows.

    Args:
        confidence: (k,) current evidence-based estimates, 0-1.
        observed: (k,) true on-time share this week; seen: (k,) whether there was anything
            to observe; maturity: (k,) the holder's data maturity, 0-1.
        noise: observation sd at zero maturity; rate: learning rate at full maturity.
    """
    return update_confidence_kernel(confidence, observed, seen, maturity,
                              rng.normal(0.0, 1.0, len(observed)), noise, rate)


@kernel
def update_confidence_kernel(confidence, observed, seen, maturity, z, noise, rate):
    out = np.empty(len(confidence))
    for i in range(len(confidence)):
        value = confidence[i]
        if seen[i]:
            signal = observed[i] + z[i] * noise * (1.0 - maturity[i])
            step = rate * (CONFIDENCE_RATE_FLOOR + (1.0 - CONFIDENCE_RATE_FLOOR) * maturity[i])
            value = value + step * (min(max(signal, 0.0), 1.0) - value)
        else:
            value = value + 0.0
        out[i] = min(max(value, 0.0), 1.0)
    return out


def alignment(priorities: np.ndarray, a: np.ndarray, b: np.ndarray,
              agenda: np.ndarray | None = None) -> np.ndarray:
    """How well a partnership's agenda fits both partners' own priorities, 0-1.

    Agreed locally (``agenda`` None), the agenda is what the partners share: the
    overlap of their priority weights (each sums to 1; 0 disjoint, 1 identical).
    Set nationally, the agenda is the same everywhere, and a partnership engages
    only as far as it fits the less convinced partner's own priorities [M23
    ambition and competing priorities; HF17: recipients must recognise the need].
    """
    national = agenda is not None
    return alignment_kernel(priorities, a, b, agenda if national else priorities[0], national)


@kernel
def alignment_kernel(priorities, a, b, agenda, national):
    """:func:`alignment`: with ``national`` the fit of ``agenda`` to the less convinced
    partner, else the overlap of each pair's priority weights (summed in column order)."""
    out = np.empty(len(a))
    for i in range(len(a)):
        if national:
            fit_a, fit_b = min(priorities[a[i], 0], agenda[0]), min(priorities[b[i], 0], agenda[0])
            for k in range(1, priorities.shape[1]):
                fit_a += min(priorities[a[i], k], agenda[k])
                fit_b += min(priorities[b[i], k], agenda[k])
            out[i] = min(fit_a, fit_b)
        else:
            total = min(priorities[a[i], 0], priorities[b[i], 0])
            for k in range(1, priorities.shape[1]):
                total += min(priorities[a[i], k], priorities[b[i], k])
            out[i] = total
    return out


def improvement(progress: np.ndarray, align: np.ndarray, goals: np.ndarray,
                mean_trust: np.ndarray, mean_faith: np.ndarray, maturity: np.ndarray,
                complexity: np.ndarray, p: ImprovementConfig) -> tuple[np.ndarray, np.ndarray]:
    """Joint improvement progress; returns new progress and milestones reached (E).

    Progress per week is faster with aligned priorities and agreed milestones
    [M23 ambition], with trust and faith, with the partners' data maturity (data
    show where to improve [M23 monitoring; HF17]: x(``MATURITY_PROGRESS_BASE`` + maturity)),
    and slower with complexity (0-1).
    """
    return improvement_kernel(progress, align, goals, mean_trust, mean_faith, maturity, complexity,
                        p.progress_rate, p.no_goals_factor)


@kernel
def improvement_kernel(progress, align, goals, mean_trust, mean_faith, maturity, complexity,
                 progress_rate, no_goals_factor):
    e = len(progress)
    new, milestones = np.empty(e), np.empty(e)
    for i in range(e):
        rate = progress_rate * align[i] * (1.0 if goals[i] else no_goals_factor) \
            * mean_trust[i] * mean_faith[i] * (MATURITY_PROGRESS_BASE + maturity[i]) \
            * min(max(1.0 - complexity[i], 0.0), 1.0)
        total = progress[i] + rate
        milestones[i] = np.floor(total)
        new[i] = total - milestones[i]
    return new, milestones


def share_practice(quality: np.ndarray, a: np.ndarray, b: np.ndarray, milestones: np.ndarray,
                   rate: float) -> np.ndarray:
    """Best-practice sharing: at each milestone the weaker partner closes part of the gap."""
    return share_practice_kernel(quality, a, b, milestones, rate)


@kernel
def share_practice_kernel(quality, a, b, milestones, rate):
    n = len(quality)
    up_a, up_b = np.zeros(n), np.zeros(n)
    met_a, met_b = np.zeros(n), np.zeros(n)
    for i in range(len(a)):
        gap = quality[b[i]] - quality[a[i]]
        step = min(rate * milestones[i], 1.0) * abs(gap)
        up_a[a[i]] += step if gap > 0 else 0.0
        up_b[b[i]] += step if gap < 0 else 0.0
        if milestones[i] > 0:
            met_a[a[i]] += 1.0
            met_b[b[i]] += 1.0
    out = np.empty(n)
    for j in range(n):
        # several partners at once: move towards their average, never past the best
        out[j] = min(max(quality[j] + (up_a[j] + up_b[j]) / max(met_a[j] + met_b[j], 1.0),
                         0.0), 1.0)
    return out


def converge_culture(culture: np.ndarray, a: np.ndarray, b: np.ndarray,
                     intensity: np.ndarray, p: CultureConfig) -> np.ndarray:
    """Interacting partners' cultures drift towards each other [Ax97].

    Each provider moves towards the average culture of the partners it dealt with
    this week: an organisation with a hundred partners does not change a hundred
    times faster than one with one (assumption).
    """
    return converge_culture_kernel(culture, a, b, intensity, p.convergence_rate)


@kernel
def converge_culture_kernel(culture, a, b, intensity, convergence_rate):
    n, d = culture.shape
    contacts_a, contacts_b = np.zeros(n), np.zeros(n)
    pulled_a, pulled_b = np.zeros((n, d)), np.zeros((n, d))
    for i in range(len(a)):
        contacts_a[a[i]] += intensity[i]
        contacts_b[b[i]] += intensity[i]
        if intensity[i] != 0.0:  # a partnership that did not interact pulls nobody
            rate = convergence_rate * intensity[i]
            for dim in range(d):
                pull = rate * (culture[b[i], dim] - culture[a[i], dim])
                pulled_a[a[i], dim] += pull
                pulled_b[b[i], dim] += pull
    out = np.empty((n, d))
    for j in range(n):
        contacts = max(contacts_a[j] + contacts_b[j], 1.0)
        for dim in range(d):
            out[j, dim] = min(max(culture[j, dim] + (pulled_a[j, dim] - pulled_b[j, dim])
                                  / contacts, 0.0), 1.0)
    return out
