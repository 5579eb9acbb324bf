"""Paperwork: the staff time every partnership costs, growing faster than the partner count."""

from __future__ import annotations

import numpy as np

from sim.config import PaperworkConfig
from sim.jit import kernel

#: Size (funded FTE) of the provider whose management span is 1: a care home
#: (assumption).
SPAN_REFERENCE_FTE = 30.0
#: Elasticity of management span with size: management layers grow less than in
#: proportion to staff (assumption).
SPAN_EXPONENT = 0.75


def partnership_cost(formality: np.ndarray, similarity: np.ndarray,
                     p: PaperworkConfig) -> np.ndarray:
    """FTE per side per week of working together in each partnership, before coordination
    overhead: more for formal contracts and for distant cultures."""
    return partnership_cost_kernel(formality, similarity, p.fte_per_partnership,
                                   p.formality_cost, p.culture_cost)


@kernel
def partnership_cost_kernel(formality, similarity, fte_per_partnership, formality_cost,
                            culture_cost):
    """:func:`partnership_cost` with its parameters as numbers."""
    return (fte_per_partnership
            * (1.0 + formality_cost * formality + culture_cost * (1.0 - similarity)))


def admin_share(a: np.ndarray, b: np.ndarray, cost: np.ndarray, staff: np.ndarray,
                monitoring_share: np.ndarray, span: np.ndarray, p: PaperworkConfig,
                reporting_fte: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Share of staff time on collaboration paperwork, and the partner count (degree).

    Coordinating many partners multiplies the cost of working together in each by
    ``1 + k / (k0 * span)`` (k partners, k0 = ``complexity_partners``, span = the
    provider's management span, see :func:`management_span`): beyond a few partners
    that work grows with the square of their number [M23: "more paperwork", complex
    workloads]. Mandated reporting (``reporting_fte`` per partnership per side) is a
    return to the authority for each partnership: it adds in proportion to the
    partner count, without coordination overhead (assumption).
    """
    return admin_share_kernel(a, b, cost, staff, monitoring_share, span,
                              p.complexity_partners, p.max_share, reporting_fte)


@kernel
def admin_share_kernel(a, b, cost, staff, monitoring_share, span, complexity_partners,
                       max_share, reporting_fte):
    """:func:`admin_share` with its parameters as numbers."""
    n = len(staff)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    fte = np.bincount(a, cost, minlength=n) + np.bincount(b, cost, minlength=n)
    fte = fte * (1.0 + degree / (complexity_partners * span)) + reporting_fte * degree
    share = fte / np.maximum(staff, 1e-9) + monitoring_share
    return np.minimum(share, max_share), degree


def management_span(funded: np.ndarray) -> np.ndarray:
    """How many partners a provider can manage relative to a small one,
    max(size / ``SPAN_REFERENCE_FTE``, 1) ^ ``SPAN_EXPONENT``.

    Assumption: a large organisation has management layers that take on more
    partners, less than in proportion to its size (a trust of 5,000 FTE can keep
    about 46 times as many as a 30-FTE care home before coordination overwhelms
    it; a PCN of 70 FTE about twice as many); never below 1.
    """
    return np.maximum(funded / SPAN_REFERENCE_FTE, 1.0) ** SPAN_EXPONENT
