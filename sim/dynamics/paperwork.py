"""Paperwork: the staff time every partnership costs, growing faster than the partner count."""

from __future__ import annotations

import numpy as np

from sim.config import PaperworkConfig


def partnership_cost(formality: np.ndarray, similarity: np.ndarray, reporting_fte: float,
                     p: PaperworkConfig) -> np.ndarray:
    """FTE per side per week of each partnership before coordination overhead.

    More for formal contracts, for distant cultures and for mandated reporting.
    """
    return (p.fte_per_partnership
            * (1.0 + p.formality_cost * formality + p.culture_cost * (1.0 - similarity))
            + reporting_fte)


def admin_share(a: np.ndarray, b: np.ndarray, cost: np.ndarray, staff: np.ndarray,
                monitoring_share: np.ndarray, p: PaperworkConfig) -> tuple[np.ndarray, np.ndarray]:
    """Share of staff time on collaboration paperwork, and the partner count (degree).

    Coordinating many partners multiplies the cost of each by ``1 + k / k0``
    (k partners, k0 = ``complexity_partners``): with many partners, paperwork grows
    with the square of their number [M23: "more paperwork", complex workloads].
    """
    n = len(staff)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    fte = np.bincount(a, cost, minlength=n) + np.bincount(b, cost, minlength=n)
    fte = fte * (1.0 + degree / p.complexity_partners)
    share = fte / np.maximum(staff, 1e-9) + monitoring_share
    return np.minimum(share, p.max_share), degree
