"""Provider kinds and the fixed facts attached to each: sector, care pathways, blocking.

The numbers here are structural assumptions (documented in ``docs/ODD.md``), not
tuning knobs: shares of a provider's served episodes that need a handoff to
another kind of provider along a care pathway, and how much capacity a patient
waiting for a handoff blocks.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Kind(IntEnum):
    """The six kinds of provider in an English integrated care system."""

    ACUTE = 0
    MENTAL_HEALTH = 1
    COMMUNITY = 2
    PCN = 3
    CARE_HOME = 4
    LOCAL_AUTHORITY = 5


KIND_NAMES: tuple[str, ...] = tuple(k.name.lower() for k in Kind)
N_KINDS = len(Kind)

#: True for adult social care (care homes, local authorities); False for NHS providers.
SOCIAL_CARE = np.array([False, False, False, False, True, True])

#: Episodes of care one funded FTE delivers per week (sets each kind's unit of work):
#: hospital, mental health and community episodes, GP-led care episodes, care home
#: resident-weeks (about one FTE of care per resident), social care packages.
PRODUCTIVITY = np.array([0.25, 0.2, 0.5, 8.0, 1.0, 0.3])

#: Staff FTE per general and acute bed (assumption, see sim.system): with
#: PRODUCTIVITY[ACUTE] a bed turns over 1.5 episodes a week, a length of stay of
#: about 4.7 days.
ACUTE_FTE_PER_BED = 6.0

#: Capacity (episodes/week) one patient waiting for a handoff blocks at the sender:
#: a delayed hospital discharge occupies a bed (a bed-week is 1.5 episodes);
#: elsewhere a waiting patient takes less (assumption).
BLOCKING = np.array([1.5, 0.5, 0.5, 0.1, 0.2, 0.2])

A, M, C, P, H, L = (int(k) for k in Kind)

#: PATHWAYS[i, j]: share of served episodes at kind i that need a handoff to kind j.
PATHWAYS = np.zeros((N_KINDS, N_KINDS))
PATHWAYS[A, [H, L, C, P, M]] = [0.04, 0.06, 0.06, 0.02, 0.01]  # hospital discharge
PATHWAYS[M, [L, P, C, A]] = [0.05, 0.05, 0.02, 0.01]
PATHWAYS[C, [A, H, L, P]] = [0.03, 0.03, 0.04, 0.05]
PATHWAYS[P, [A, C, M, L]] = [0.02, 0.03, 0.02, 0.01]
# care home residents: 0.70 emergency admissions a year each (Improvement Analytics
# Unit) is 0.013 a resident-week; GP reviews
PATHWAYS[H, [A, P]] = [0.013, 0.03]
PATHWAYS[L, [H, P, C]] = [0.03, 0.02, 0.02]

#: Kinds linked by a pathway in either direction: who has a reason to partner whom.
LINKED = (PATHWAYS + PATHWAYS.T) > 0

#: SUPPORTS[i, j]: kind j gives kind i the proactive support from primary and community
#: care that avoids some of kind i's emergency admissions (sim.dynamics.admissions): care
#: homes from PCNs and community trusts (enhanced health in care homes [L19]); PCNs from
#: community trusts (urgent community response, virtual wards) and community trusts from
#: PCNs (assumption: primary and community care support each other's patients at home).
SUPPORTS = np.zeros((N_KINDS, N_KINDS), dtype=bool)
SUPPORTS[H, [P, C]] = True
SUPPORTS[P, C] = True
SUPPORTS[C, P] = True


def parse_kind(text: str) -> Kind:
    """Map a kind name (case-insensitive, spaces or hyphens allowed) to a Kind."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"acute_trust": "acute", "mental_health_trust": "mental_health",
               "community_trust": "community", "primary_care_network": "pcn",
               "la": "local_authority", "adult_social_care": "local_authority"}
    key = aliases.get(key, key)
    return Kind[key.upper()]
