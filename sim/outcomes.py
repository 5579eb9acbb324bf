"""The outcome columns (reporters for Mesa's DataCollector) and run summaries.

Column names are public: analysis code, notebooks and reports rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.kinds import ACUTE_FTE_PER_BED, SOCIAL_CARE, Kind

if TYPE_CHECKING:
    from sim.model import CollaborationModel

#: The outcome table of MODEL.md, then breakdowns used by calibration and validation.
COLUMNS: tuple[str, ...] = (
    "care_coordination",  # share of new handoffs completed on time
    "delayed_handoffs",  # patients waiting for a handoff (episodes)
    "vacancy_rate",  # 1 - staff in post / funded posts, all providers
    "unmet_demand",  # share of the week's workload (waiting + new) that left unserved
    "workload_gini",  # Gini of utilisation (workload / capacity) across providers
    "mean_trust",  # mean trust over active partnerships (both directions); 0 if none
    "mean_belief",  # mean staff faith in collaboration
    "n_partnerships",  # active partnerships
    "partnership_survival",  # share of partnerships active at the switch still active
    "admin_burden",  # share of staff time on collaboration paperwork (FTE-weighted)
    "quality_mean",  # mean quality of practice
    "quality_spread",  # sd of quality of practice
    "communication",  # interactions per active partnership
    "nhs_vacancy_rate",
    "social_care_vacancy_rate",
    "nhs_turnover",  # leavers per FTE over the last 52 weeks (annual rate)
    "social_care_turnover",
    "delayed_discharge_share",  # hospital patients waiting for a handoff / hospital beds
    "vacancy_gini",  # Gini of vacancy rates across providers
    "mean_confidence",
    "mean_formality",
    "partner_distance_km",  # mean distance between partners (km)
    "mandated_share",  # share of partnerships assigned by an authority
)


@dataclass(frozen=True)
class Target:
    """A published figure the status quo should land near (calibration.md)."""

    column: str
    low: float
    high: float
    source: str


CALIBRATION: tuple[Target, ...] = (
    Target("nhs_vacancy_rate", 0.08, 0.12,
           "NHS vacancy rate: registered nursing 9.2-11.9% (2021-22), all posts ~1 in 11 "
           "(NHS Digital; NHS Improvement)"),
    Target("social_care_vacancy_rate", 0.07, 0.106,
           "adult social care vacancy rate 7.0-10.6% (Skills for Care, 2021/22-2024/25)"),
    Target("social_care_turnover", 0.26, 0.30,
           "adult social care turnover 26-30% a year (Skills for Care, 2022/23-2023/24)"),
    Target("delayed_discharge_share", 0.09, 0.135,
           "patients delayed though fit for discharge: 9,150-13,440 of ~100,000 beds "
           "(House of Commons Library, Dec 2021-Dec 2022)"),
)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, 1 all in one)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    # elementwise product and sum, not a BLAS dot: much faster for one vector here
    return float(((2.0 * np.arange(1, n + 1) - n - 1) * x).sum() / (n * total))


def record_week(model: CollaborationModel, new: np.ndarray, success: np.ndarray,
                reneged: np.ndarray, workload: np.ndarray, interactions: float) -> None:
    """Set the model attributes that the DataCollector reads as this week's row."""
    st, ps = model.state, model.partnerships
    social = SOCIAL_CARE[st.kind]
    new_total = new.sum()
    model.care_coordination = float((new * success).sum() / new_total) if new_total > 0 else 1.0
    model.delayed_handoffs = float(model.delayed.sum())
    model.vacancy_rate = float(1.0 - st.staff.sum() / st.funded.sum())
    model.nhs_vacancy_rate = _vacancy(st.staff, st.funded, ~social)
    model.social_care_vacancy_rate = _vacancy(st.staff, st.funded, social)
    model.unmet_demand = float(reneged.sum() / max(workload.sum(), 1e-9))
    model.workload_gini = gini(np.minimum(st.pressure, 3.0))
    model.vacancy_gini = gini(1.0 - st.staff / st.funded)
    e = len(ps)
    model.n_partnerships = e
    model.mean_trust = float(ps.trust.mean()) if e else 0.0
    model.mean_confidence = float(ps.confidence.mean()) if e else 0.0
    model.mean_formality = float(ps.formality.mean()) if e else 0.0
    model.mandated_share = float(ps.mandated.mean()) if e else 0.0
    model.communication = interactions / e if e else 0.0
    if e:
        d = st.xy[ps.a] - st.xy[ps.b]
        model.partner_distance_km = float(np.sqrt((d * d).sum(axis=1)).mean())
    else:
        model.partner_distance_km = 0.0
    model.partnership_survival = (float(ps.at_switch.sum() / model.partnerships_at_switch)
                                  if model.switched and model.partnerships_at_switch else 1.0)
    model.mean_belief = float(st.faith.mean())
    model.admin_burden = float((st.admin_share * st.staff).sum() / st.staff.sum())
    model.quality_mean = float(st.quality.mean())
    model.quality_spread = float(st.quality.std())
    weeks = min(model.steps, 52)
    leavers = model.leavers_window[:weeks].sum(axis=0)
    staff = model.staff_window[:weeks].mean(axis=0)
    annual = np.divide(leavers * 52.0 / max(weeks, 1), staff, out=np.zeros(2), where=staff > 0)
    model.nhs_turnover, model.social_care_turnover = float(annual[0]), float(annual[1])
    acute = st.kind == Kind.ACUTE
    delayed_acute = np.bincount(model.routes.sender, model.delayed,
                                minlength=model.n_providers)[acute].sum()
    beds = st.funded[acute].sum() / ACUTE_FTE_PER_BED
    model.delayed_discharge_share = float(delayed_acute / max(beds, 1e-9))


def _vacancy(staff: np.ndarray, funded: np.ndarray, mask: np.ndarray) -> float:
    total = funded[mask].sum()
    return float(1.0 - staff[mask].sum() / total) if total > 0 else 0.0


def summarise(weekly: pd.DataFrame, window: int = 52) -> dict:
    """Scalars of a run: each outcome's mean over the last ``window`` weeks of the policy
    period, its value at the switch, and the status quo's calibration figures.

    The status quo is the last ``window`` weeks of the burn-in (week < 0); with a
    shorter burn-in, calibration figures are left out rather than invented.
    """
    policy = weekly[weekly["week"] >= 0]
    final = policy.tail(window) if len(policy) else weekly.tail(window)
    summary: dict = {col: float(final[col].mean()) for col in COLUMNS}
    burn = weekly[weekly["week"] < 0]
    if len(burn):
        last = burn.iloc[-1]
        summary.update({f"at_switch.{col}": float(last[col]) for col in COLUMNS})
    if len(burn) >= window:
        status_quo = burn.tail(window)
        for target in CALIBRATION:
            value = float(status_quo[target.column].mean())
            summary[f"status_quo.{target.column}"] = value
            summary[f"status_quo.{target.column}.in_range"] = bool(
                target.low <= value <= target.high)
    return summary


def calibration_table(summary: dict) -> pd.DataFrame:
    """Status quo figures next to their published ranges (empty without a year of burn-in)."""
    rows = []
    for t in CALIBRATION:
        key = f"status_quo.{t.column}"
        if key in summary:
            rows.append({"measure": t.column, "simulated": summary[key], "low": t.low,
                         "high": t.high, "in_range": summary[key + ".in_range"],
                         "source": t.source})
    return pd.DataFrame(rows)
