"""Mutual aid (allocation of resources): trusting partners lend spare staff time."""

from __future__ import annotations

import numpy as np

from sim.config import AidConfig
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
    n = len(staff)
    slack = staff * np.maximum(1.0 - pressure, 0.0)
    need = staff * np.maximum(pressure - 1.0, 0.0)
    boost = (1.0 + p.formality_boost * formality) / (1.0 + p.formality_boost)
    offer = p.rate * trust_lender * boost * np.minimum(slack[lender], need[borrower])
    if not offer.any():
        zero = np.zeros(n)
        return zero, zero.copy(), offer
    # a lender never lends more than a share of its slack; a borrower takes only its need
    total_out = np.bincount(lender, offer, minlength=n)
    cap_out = np.divide(p.max_lend_share * slack, total_out, out=np.ones(n),
                        where=total_out > p.max_lend_share * slack)
    offer = offer * np.minimum(cap_out[lender], 1.0)
    total_in = np.bincount(borrower, offer, minlength=n)
    cap_in = np.divide(need, total_in, out=np.ones(n), where=total_in > need)
    lent = offer * np.minimum(cap_in[borrower], 1.0)
    aid_out = np.bincount(lender, lent, minlength=n)
    aid_in = np.bincount(borrower, lent * skill_match(kind[lender], kind[borrower]), minlength=n)
    return aid_out, aid_in, lent
