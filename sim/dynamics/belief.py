"""Staff faith in collaboration (belief), and its crowding out by imposed partnerships."""

from __future__ import annotations

import numpy as np

from sim.config import FaithConfig


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
    credibility = 1.0 - (1.0 - realism) * np.minimum(p.credibility_sensitivity * overload, 1.0)
    inspired = p.leader_weight * enthusiasm * credibility + (1.0 - p.leader_weight) * experience
    erosion = (p.overload_erosion * overload * (1.0 - p.realism_protection * realism)
               + p.paperwork_erosion * admin + p.crowding_out * autonomy_loss)
    return np.clip(inspired - erosion, 0.0, 1.0)


def update_faith(faith: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Faith moves a share ``rate`` of the way to its target each week."""
    return faith + rate * (target - faith)
