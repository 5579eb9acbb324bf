"""Trust, confidence, joint improvement and culture: how partnerships change week to week."""

from __future__ import annotations

import numpy as np

from sim.config import CultureConfig, ImprovementConfig, TrustConfig
from sim.dynamics.belief import NEUTRAL_FAITH
from sim.dynamics.handoffs import rowsum

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
    prob = p.conflict_rate * failure * (1.0 + p.culture_conflict * culture_distance)
    return interacted & (rng.random(len(failure)) < np.minimum(prob, 1.0))


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
    gained = trust + p.gain * good * (engagement[:, None] / NEUTRAL_FAITH) * (1.0 - trust)
    damage = p.loss * (1.0 - p.contract_softening * formality)
    after = np.where(conflict[:, None], gained * (1.0 - damage[:, None]), gained)
    idle = ~interacted[:, None]
    decayed = np.where(idle & (after > baseline), after - p.decay * (after - baseline), after)
    if not maintained:
        decayed = decayed * (1.0 - p.neglect_decay)
    return np.clip(decayed, 0.0, 1.0)


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
    signal = observed + rng.normal(0.0, 1.0, len(observed)) * noise * (1.0 - maturity)
    step = rate * (CONFIDENCE_RATE_FLOOR + (1.0 - CONFIDENCE_RATE_FLOOR) * maturity)
    new = confidence + np.where(seen, step * (np.clip(signal, 0.0, 1.0) - confidence), 0.0)
    return np.clip(new, 0.0, 1.0)


def alignment(priorities: np.ndarray, a: np.ndarray, b: np.ndarray,
              agenda: np.ndarray | None = None) -> np.ndarray:
    """How well a partnership's agenda fits both partners' own priorities, 0-1.

    Agreed locally (``agenda`` None), the agenda is what the partners share: the
    overlap of their priority weights (each sums to 1; 0 disjoint, 1 identical).
    Set nationally, the agenda is the same everywhere, and a partnership engages
    only as far as it fits the less convinced partner's own priorities [M23
    ambition and competing priorities; HF17: recipients must recognise the need].
    """
    if agenda is None:
        return rowsum(np.minimum(np.take(priorities, a, axis=0), np.take(priorities, b, axis=0)))
    fit = rowsum(np.minimum(priorities, agenda[None, :]))
    return np.minimum(fit[a], fit[b])


def improvement(progress: np.ndarray, align: np.ndarray, goals: np.ndarray,
                mean_trust: np.ndarray, mean_faith: np.ndarray, maturity: np.ndarray,
                complexity: np.ndarray, p: ImprovementConfig) -> tuple[np.ndarray, np.ndarray]:
    """Joint improvement progress; returns new progress and milestones reached (E).

    Progress per week is faster with aligned priorities and agreed milestones
    [M23 ambition], with trust and faith, with the partners' data maturity (data
    show where to improve [M23 monitoring; HF17]: x(``MATURITY_PROGRESS_BASE`` + maturity)),
    and slower with complexity (0-1).
    """
    goals_factor = np.where(goals, 1.0, p.no_goals_factor)
    rate = p.progress_rate * align * goals_factor * mean_trust * mean_faith \
        * (MATURITY_PROGRESS_BASE + maturity) * np.clip(1.0 - complexity, 0.0, 1.0)
    total = progress + rate
    milestones = np.floor(total)
    return total - milestones, milestones


def share_practice(quality: np.ndarray, a: np.ndarray, b: np.ndarray, milestones: np.ndarray,
                   rate: float) -> np.ndarray:
    """Best-practice sharing: at each milestone the weaker partner closes part of the gap."""
    gap = quality[b] - quality[a]
    step = np.minimum(rate * milestones, 1.0) * np.abs(gap)
    n = len(quality)
    up_a = np.bincount(a, np.where(gap > 0, step, 0.0), minlength=n)
    up_b = np.bincount(b, np.where(gap < 0, step, 0.0), minlength=n)
    degree = np.maximum(np.bincount(a, milestones > 0, minlength=n)
                        + np.bincount(b, milestones > 0, minlength=n), 1)
    # several partners at once: move towards their average, never past the best of them
    return np.clip(quality + (up_a + up_b) / degree, 0.0, 1.0)


def converge_culture(culture: np.ndarray, a: np.ndarray, b: np.ndarray,
                     intensity: np.ndarray, p: CultureConfig) -> np.ndarray:
    """Interacting partners' cultures drift towards each other [Ax97].

    Each provider moves towards the average culture of the partners it dealt with
    this week: an organisation with a hundred partners does not change a hundred
    times faster than one with one (assumption).
    """
    n, d = culture.shape
    contacts = np.maximum(np.bincount(a, intensity, minlength=n)
                          + np.bincount(b, intensity, minlength=n), 1.0)
    # Only partnerships that interacted pull (the others would add zeros), and each
    # dimension is pulled from contiguous columns of the pairs' cultures.
    moving = np.flatnonzero(intensity)
    a, b = a[moving], b[moving]
    rate = p.convergence_rate * intensity[moving]
    by_dim = np.ascontiguousarray(culture.T)
    delta = np.empty((d, n))
    for dim in range(d):  # a handful of culture dimensions, not agents
        pull = rate * (by_dim[dim][b] - by_dim[dim][a])
        delta[dim] = np.bincount(a, pull, minlength=n) - np.bincount(b, pull, minlength=n)
    return np.clip(culture + delta.T / contacts[:, None], 0.0, 1.0)
