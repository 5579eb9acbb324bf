"""Mutual aid (allocation of resources): trusting partners lend spare staff time."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from sim.config import AidConfig
from sim.jit import kernel
from sim.kinds import SOCIAL_CARE

#: Share of lent staff time useful to the borrower: the same kind of provider, the same
#: sector (both NHS or both social care), across the health/social care boundary
#: (assumption: skills transfer less the further apart the work).
SKILL_MATCH_SAME_KIND, SKILL_MATCH_SAME_SECTOR, SKILL_MATCH_ACROSS = 1.0, 0.6, 0.3


def skill_match(kind_from: np.ndarray, kind_to: np.ndarray) -> np.ndarray:
    """Share of lent staff time that is useful to the borrower (the ``SKILL_MATCH_*``)."""
    same_sector = SOCIAL_CARE[kind_from] == SOCIAL_CARE[kind_to]
    return np.where(kind_from == kind_to, SKILL_MATCH_SAME_KIND,
                    np.where(same_sector, SKILL_MATCH_SAME_SECTOR, SKILL_MATCH_ACROSS))


def mutual_aid(lender: np.ndarray, borrower: np.ndarray, trust_lender: np.ndarray,
               formality: np.ndarray, kind: np.ndarray, staff: np.ndarray,
               pressure: np.ndarray, p: AidConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Staff time lent along directed partnerships this week.

    A lender with slack (last week's pressure below 1) offers a partner under
    pressure above 1 a share of the smaller of its slack and the partner's need,
    in proportion to its trust in the partner, more with a formal agreement.

    Args:
        lender, borrower: directed partnership ends (2E,).
        trust_lender: lender's trust in the borrower, 0-1 (2E,).
        formality: contract formality, 0-1 (2E,).
        staff: staff in post (FTE, N); pressure: workload/capacity last week (N).

    Returns:
        aid_out (FTE lent per provider), aid_in (useful FTE received per provider),
        and the FTE lent along each directed partnership (2E,).
    """
    return _lend(lender, borrower, trust_lender, formality, kind, staff, pressure,
                 _skill_table(skill_match), p.rate, p.formality_boost, p.max_lend_share)


@functools.cache
def _skill_table(match: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """``match`` (this module's :func:`skill_match`, or what replaced it) for every
    (lender kind, borrower kind): computed once per function, not every week."""
    kinds = np.arange(len(SOCIAL_CARE))
    return np.asarray(match(kinds[:, None], kinds[None, :]), dtype=np.float64)


@kernel
def _lend(lender, borrower, trust_lender, formality, kind, staff, pressure, match, rate,
          formality_boost, max_lend_share):
    n, k = len(staff), len(lender)
    slack, need = np.empty(n), np.empty(n)
    for j in range(n):
        slack[j] = staff[j] * max(1.0 - pressure[j], 0.0)
        need[j] = staff[j] * max(pressure[j] - 1.0, 0.0)
    offer = np.empty(k)
    any_offer = False
    for i in range(k):
        boost = (1.0 + formality_boost * formality[i]) / (1.0 + formality_boost)
        offer[i] = rate * trust_lender[i] * boost * min(slack[lender[i]], need[borrower[i]])
        any_offer = any_offer or offer[i] != 0.0
    if not any_offer:
        return np.zeros(n), np.zeros(n), offer
    # a lender never lends more than a share of its slack; a borrower takes only its need
    total_out = np.zeros(n)
    for i in range(k):
        total_out[lender[i]] += offer[i]
    cap_out = np.ones(n)
    for j in range(n):
        if total_out[j] > max_lend_share * slack[j]:
            cap_out[j] = max_lend_share * slack[j] / total_out[j]
    total_in = np.zeros(n)
    for i in range(k):
        offer[i] = offer[i] * min(cap_out[lender[i]], 1.0)
        total_in[borrower[i]] += offer[i]
    cap_in = np.ones(n)
    for j in range(n):
        if total_in[j] > need[j]:
            cap_in[j] = need[j] / total_in[j]
    lent, aid_out, aid_in = np.empty(k), np.zeros(n), np.zeros(n)
    for i in range(k):
        lent[i] = offer[i] * min(cap_in[borrower[i]], 1.0)
        aid_out[lender[i]] += lent[i]
        aid_in[borrower[i]] += lent[i] * match[kind[lender[i]], kind[borrower[i]]]
    return aid_out, aid_in, lent
