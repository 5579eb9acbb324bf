"""Staff faith in collaboration (belief), and its crowding out by imposed partnerships."""

from __future__ import annotations

import numpy as np

from sim.config import FaithConfig
from sim.jit import kernel

#: Staff faith at which staff neither push collaboration on nor hold it back, 0-1: the
#: midpoint of the scale. Faith above it makes handoffs more likely to succeed, staff
#: stay longer and trust grow faster; below it the reverse (assumption: symmetric).
NEUTRAL_FAITH = 0.5
#: Staff start neutral, scattered by this sd (0-1 scale) between providers (assumption).
INITIAL_FAITH_SD = 0.1
#: Share of the gap to this week's on-time share of its handoffs that a provider's
#: experience closes each week: a memory of about ten weeks (assumption).
EXPERIENCE_MEMORY = 0.1
#: Experience before any handoff: no evidence either way, 0-1 (assumption).
INITIAL_EXPERIENCE = 0.5


def faith_target(enthusiasm: np.ndarray, realism: np.ndarray, experience: np.ndarray,
                 overload: np.ndarray, admin: np.ndarray, autonomy_loss: np.ndarray,
                 p: FaithConfig) -> np.ndarray:
    """The faith a provider's staff drift towards, 0-1.

    What leaders' enthusiasm inspires, as far as staff find it credible (leaders
    who deny a shortage staff can feel lose credibility) [M23, A22], blended with
    what experience of handoffs confirms; less overload erosion where leaders
    acknowledge shortages [M23]; less for paperwork [M23]; less for autonomy lost
    to imposed partnerships that displaced chosen ones [FJ01].

    Args:
        enthusiasm, realism: leaders' enthusiasm and acknowledgement of shortages, 0-1.
        experience: recent share of the provider's handoffs completed on time, 0-1.
        overload: remembered overload, max(0, pressure - 1).
        admin: share of staff time on collaboration paperwork, 0-1.
        autonomy_loss: value of chosen partnerships lost to a mandate, 0-1.
    """
    return faith_target_kernel(enthusiasm, realism, experience, overload, admin, autonomy_loss,
                               p.credibility_sensitivity, p.leader_weight, p.overload_erosion,
                               p.realism_protection, p.paperwork_erosion, p.crowding_out)


@kernel
def faith_target_kernel(enthusiasm, realism, experience, overload, admin, autonomy_loss,
                        credibility_sensitivity, leader_weight, overload_erosion,
                        realism_protection, paperwork_erosion, crowding_out):
    """:func:`faith_target` with its parameters as numbers."""
    credibility = 1.0 - (1.0 - realism) * np.minimum(credibility_sensitivity * overload, 1.0)
    inspired = leader_weight * enthusiasm * credibility + (1.0 - leader_weight) * experience
    erosion = (overload_erosion * overload * (1.0 - realism_protection * realism)
               + paperwork_erosion * admin + crowding_out * autonomy_loss)
    return np.clip(inspired - erosion, 0.0, 1.0)


@kernel
def update_faith(faith: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Faith moves a share ``rate`` of the way to its target each week."""
    return faith + rate * (target - faith)


@kernel
def update_experience(experience: np.ndarray, due: np.ndarray, done: np.ndarray
                      ) -> np.ndarray:
    """Experience moves ``EXPERIENCE_MEMORY`` of the way to this week's on-time share.

    Args:
        experience: recent share of each provider's handoffs completed on time, 0-1 (N).
        due: episodes each provider had due for a handoff this week (N).
        done: of which handed over this week (N).

    Returns:
        The new experience; unchanged for a provider with nothing due.
    """
    new = experience.copy()
    has = due > 0
    new[has] = ((1.0 - EXPERIENCE_MEMORY) * experience[has]
                + EXPERIENCE_MEMORY * done[has] / due[has])
    return new
