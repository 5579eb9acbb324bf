"""Emergency admissions avoided by proactive support from primary and community care.

Part of the emergency admissions that care homes, PCNs and community trusts send to
acute trusts is avoidable with proactive support: care-home residents whose GP and
community nurses review them regularly, patients whose deterioration a community team
catches at home [L19], [B13]. Each sender's *support* is the best working relationship
it holds with a provider of a kind that supports it (:data:`sim.kinds.SUPPORTS`): the
highest trust, averaged over both directions, of its partnerships with such providers
(0 without one, or where partnerships are not maintained). The share of its
admissions it avoids is ``avoidable share of its kind x support``. An avoided
admission is cared for where the patient is: it stays in the sender's workload
instead of going to hospital. Admissions before avoidance are the pathway share scaled
so that at the status quo's typical support (:data:`STATUS_QUO_SUPPORT`) the admissions
that remain are the published rates the pathway shares encode.

Why the best single relationship, not a count: enhanced support in care homes aligns
each home with one general practice or PCN and a named clinical lead [L19]; a second
supporting partner adds little, and a relationship that does not work (low trust)
gives little proactive care. Why trust in both directions: support needs the
supporter to engage (its trust in the home) and the home to call on it (its trust).
"""

from __future__ import annotations

import numpy as np

from sim.config import AdmissionsConfig
from sim.jit import kernel
from sim.kinds import N_KINDS, SUPPORTS, Kind

#: Support each kind of sender receives in the status quo at steady state: the mean of
#: :func:`support` at the end of the default ICS burn-in, rounded (care homes 0.48-0.69,
#: PCNs 0.15-0.46, the community trust ~1.0 over four replicates). Published admission
#: rates (0.70 a year per care-home resident [CAL]) are observed under today's support,
#: so the pathway shares of :data:`sim.kinds.PATHWAYS` are the rates at this support:
#: admissions before avoidance are scaled up by :func:`unsupported_factor`, and the channel
#: moves admissions only as support departs from the status quo's (Calibrated).
STATUS_QUO_SUPPORT = np.zeros(N_KINDS)
STATUS_QUO_SUPPORT[[Kind.CARE_HOME, Kind.PCN, Kind.COMMUNITY]] = [0.6, 0.3, 1.0]


def unsupported_factor(route_sender_kind: np.ndarray, route_kind: np.ndarray,
                       share: np.ndarray) -> np.ndarray:
    """Per route group: admissions without support / admissions at the status quo's support.

    ``1 / (1 - share x STATUS_QUO_SUPPORT)`` of the sender's kind on routes to acute
    trusts, 1 elsewhere (exactly 1 where the avoidable share is 0, so that the channel
    switched off leaves the flows as they were).
    """
    at_status_quo = share[route_sender_kind] * STATUS_QUO_SUPPORT[route_sender_kind]
    return np.where(route_kind == Kind.ACUTE, 1.0 / (1.0 - at_status_quo), 1.0)


def avoidable_share(p: AdmissionsConfig) -> np.ndarray:
    """Share of each kind's emergency admissions avoidable at full support (by kind)."""
    share = np.zeros(N_KINDS)
    share[Kind.CARE_HOME] = p.care_home_avoidable
    share[[Kind.PCN, Kind.COMMUNITY]] = p.primary_avoidable
    return share


def support(kind: np.ndarray, a: np.ndarray, b: np.ndarray, trust: np.ndarray,
            maintained: bool) -> np.ndarray:
    """Support each provider receives, 0-1: its best partnership with a supporting kind.

    Args:
        kind: (N,) provider kinds.
        a, b: (E,) the two ends of each partnership.
        trust: (E, 2) trust a holds in b (column 0) and b in a (column 1), 0-1.
        maintained: whether the regime maintains partnerships (unmaintained ones give
            no support).

    Returns:
        (N,) the highest mean trust (both directions) over the provider's partnerships
        with providers of a kind that supports its kind; 0 without any.
    """
    return support_kernel(kind, a, b, trust, maintained, SUPPORTS)


@kernel
def support_kernel(kind, a, b, trust, maintained, supports):
    """:func:`support`, with the table of which kind supports which (``SUPPORTS``)."""
    if not maintained or len(a) == 0:
        return np.zeros(len(kind))
    return _best_support(kind, a, b, trust, supports)


@kernel
def _best_support(kind, a, b, trust, supports):
    out = np.zeros(len(kind))
    for i in range(len(a)):
        pair_trust = 0.5 * (trust[i, 0] + trust[i, 1])
        if supports[kind[a[i]], kind[b[i]]]:  # b supports a
            out[a[i]] = max(out[a[i]], pair_trust)
        if supports[kind[b[i]], kind[a[i]]]:
            out[b[i]] = max(out[b[i]], pair_trust)
    return out


#: Acute trusts' kind index as a plain int (compiled code compares arrays with it).
_ACUTE = int(Kind.ACUTE)


@kernel
def avoided(new: np.ndarray, route_sender: np.ndarray, route_kind: np.ndarray,
            kind: np.ndarray, support_of: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Episodes of each route group's new handoffs avoided this week (episodes).

    Only handoffs to acute trusts (emergency admissions) can be avoided:
    ``new x share[sender kind] x support[sender]`` on those routes, 0 elsewhere.

    Args:
        new: (G,) new handoffs due per route group, before avoidance (episodes).
        route_sender, route_kind: (G,) sender and receiving kind of each group.
        kind: (N,) provider kinds.
        support_of: (N,) support each provider receives, 0-1 (:func:`support`).
        share: (kinds,) avoidable share at full support (:func:`avoidable_share`).
    """
    rate = np.where(route_kind == _ACUTE,
                    share[kind[route_sender]] * support_of[route_sender], 0.0)
    return new * rate
