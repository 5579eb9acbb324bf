"""A week on every provider: demand and service, handoffs due, workforce, paperwork and
faith, in three compiled calls.

The mechanisms are those of :mod:`~sim.dynamics.flows`, :mod:`~sim.dynamics.admissions`,
:mod:`~sim.dynamics.belief`, :mod:`~sim.dynamics.workforce` and
:mod:`~sim.dynamics.paperwork` (steps 1, 2, 4, 6 and 8 of MODEL.md), called in the
model's order on the same arrays; this module is only the glue between them, compiled
so that the week costs three calls rather than some sixty small array operations
(issue 16: on an ICS system their per-call overhead was an eighth of the step). The
random draws (demand, observation noise) stay with the caller, in their order; the
handoffs themselves are routed between the first call and the second.

When a mechanism a compiled call stands for has been replaced in this process
(:mod:`sim.replaced`), that call runs its twin ``*_through_modules`` instead:
the same glue in NumPy, calling each mechanism through its module, so that the
replacement takes effect. With nothing replaced both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import SimConfig
from sim.dynamics import admissions, belief, flows, history, paperwork, workforce
from sim.dynamics.admissions import avoided, support_kernel
from sim.dynamics.belief import faith_target_kernel, update_experience, update_faith
from sim.dynamics.flows import capacity, episodes_leaving, intake_capacity, serve
from sim.dynamics.history import push_week_kernel
from sim.dynamics.paperwork import admin_share_kernel, partnership_cost_kernel
from sim.dynamics.sums import pairwise_sum
from sim.dynamics.workforce import by_sector, leave_rate_kernel, overload_memory, update_staff
from sim.jit import kernel
from sim.kinds import BLOCKING, PRODUCTIVITY, SOCIAL_CARE, SUPPORTS
from sim.replaced import Originals, checked

#: The mechanisms each compiled call stands for (wrappers, and the kernels they call).
SERVICE_STANDS_FOR = Originals({
    flows: ("capacity", "serve", "intake_capacity"),
    admissions: ("avoided", "support", "support_kernel")})
SETTLING_STANDS_FOR = Originals({
    flows: ("episodes_leaving",), belief: ("update_experience",),
    workforce: ("overload_memory", "leave_rate", "leave_rate_kernel", "update_staff",
                "by_sector"),
    history: ("push_week", "push_week_kernel")})
PAPERWORK_STANDS_FOR = Originals({
    paperwork: ("partnership_cost", "partnership_cost_kernel", "admin_share",
                "admin_share_kernel"),
    belief: ("faith_target", "faith_target_kernel", "update_faith")})


@dataclass(frozen=True)
class Service:
    """This week's demand and service, and the handoffs it makes due (episodes).

    Attributes:
        capacity: episodes each provider can deliver this week (N,).
        workload: episodes waiting for service before it (N,).
        served, reneged: episodes served, and left unserved from the backlog (N,).
        backlog: episodes carried to next week (N,), before handoffs arrive.
        pressure: workload / capacity (N,), capped at ``flows.MAX_PRESSURE``.
        due: handoffs due per route group from this week's service (G,).
        kept: of which emergency admissions avoided, kept by the sender (G,).
        new: due less kept (G,); offered: new plus those still waiting (G,).
        intake: episodes each receiver accepts from others this week (N,).
    """

    capacity: np.ndarray
    workload: np.ndarray
    served: np.ndarray
    reneged: np.ndarray
    backlog: np.ndarray
    pressure: np.ndarray
    due: np.ndarray
    kept: np.ndarray
    new: np.ndarray
    offered: np.ndarray
    intake: np.ndarray


def demand_and_service(state, arrivals: np.ndarray, delayed: np.ndarray, routes,
                       route_share: np.ndarray, avoidable: np.ndarray, ps, maintained: bool,
                       intake_kept: float, cfg: SimConfig) -> Service:
    """Steps 1-2 up to routing: arrivals join the backlog, capacity (less what patients
    waiting for a handoff block) serves it, and served episodes fall due for handoffs,
    less the emergency admissions that support avoids [L19, B13].

    Args:
        state: the providers' state (``ProviderState``); arrivals: external episodes this
            week (N,); delayed: episodes still waiting per route group (G,).
        routes: the route groups (``sender``, ``kind``); route_share: share of served
            episodes due along each (G,); avoidable: by kind (``admissions``).
        ps: the partnerships; maintained: whether the regime maintains them.
        intake_kept: share of intake a shock leaves (``flows.intake_kept``).
    """
    if SERVICE_STANDS_FOR.any_replaced():
        return _demand_and_service_through_modules(
            state, arrivals, delayed, routes, route_share, avoidable, ps, maintained,
            intake_kept, cfg)
    out = _demand_and_service(
        state.backlog, arrivals, routes.sender, routes.kind, delayed, state.kind, state.staff,
        PRODUCTIVITY, BLOCKING, state.admin_share, state.aid_in, state.aid_out,
        cfg.handoffs.renege_rate, route_share, ps.a, ps.b, ps.trust, maintained, SUPPORTS,
        avoidable, state.intake_share, intake_kept)
    return Service(*out)


@kernel
def _demand_and_service(backlog, arrivals, route_sender, route_kind, delayed, kind, staff,
                        productivity, blocking, admin_share, aid_in, aid_out, renege_rate,
                        route_share, a, b, trust, maintained, supports, avoidable,
                        intake_share, intake_kept):
    n = len(backlog)
    backlog = backlog + arrivals
    delayed_by_provider = np.bincount(route_sender, delayed, n)
    cap = capacity(staff, productivity[kind], admin_share, aid_in, aid_out,
                   blocking[kind] * delayed_by_provider)
    workload = backlog.copy()
    served, reneged, backlog, pressure = serve(backlog, cap, renege_rate)
    due = served[route_sender] * route_share
    kept = avoided(due, route_sender, route_kind, kind,
                   support_kernel(kind, a, b, trust, maintained, supports), avoidable)
    new = due - kept
    offered = delayed + new
    intake = intake_capacity(intake_share, cap, pressure) * intake_kept
    return cap, workload, served, reneged, backlog, pressure, due, kept, new, offered, intake


def _demand_and_service_through_modules(state, arrivals, delayed, routes, route_share,
                                        avoidable, ps, maintained, intake_kept,
                                        cfg) -> Service:
    """:func:`demand_and_service`, calling each mechanism through its module."""
    n = len(state.backlog)
    backlog = state.backlog + arrivals
    g = len(routes.sender)
    cap = checked(flows.capacity(state.staff, PRODUCTIVITY[state.kind], state.admin_share,
                                 state.aid_in, state.aid_out,
                                 BLOCKING[state.kind] * np.bincount(routes.sender, delayed, n)),
                  "flows.capacity", (n,))
    workload = backlog.copy()
    served, reneged, backlog, pressure = checked(
        flows.serve(backlog, cap, cfg.handoffs.renege_rate), "flows.serve", *[(n,)] * 4)
    due = served[routes.sender] * route_share
    support = checked(admissions.support(state.kind, ps.a, ps.b, ps.trust, maintained),
                      "admissions.support", (n,))
    kept = checked(admissions.avoided(due, routes.sender, routes.kind, state.kind, support,
                                      avoidable), "admissions.avoided", (g,))
    new = due - kept
    intake = checked(flows.intake_capacity(state.intake_share, cap, pressure),
                     "flows.intake_capacity", (n,)) * intake_kept
    return Service(cap, workload, served, reneged, backlog, pressure, due, kept, new,
                   delayed + new, intake)


@dataclass(frozen=True)
class Settled:
    """After routing: what waits, what arrived and left, and the workforce.

    Attributes:
        delayed: episodes still waiting per route group (G,); backlog: (N,) with the
            handoffs received and the admissions kept.
        arrived, left: episodes that entered and left the system this week (totals).
        success: share of each route group's offered handoffs handed over (G,).
        experience, overload, staff: providers' new experience, overload and staff (N,).
        leavers_window, staff_window: the rolling sector totals with this week first.
    """

    delayed: np.ndarray
    backlog: np.ndarray
    arrived: float
    left: float
    success: np.ndarray
    experience: np.ndarray
    overload: np.ndarray
    staff: np.ndarray
    leavers_window: np.ndarray
    staff_window: np.ndarray


def handoffs_and_workforce(state, service: Service, arrivals: np.ndarray,
                           transferred: np.ndarray, inbound: np.ndarray, route_sender,
                           turnover_rate: np.ndarray, fill_rate: np.ndarray,
                           leavers_window: np.ndarray, staff_window: np.ndarray,
                           cfg: SimConfig) -> Settled:
    """Step 2 after routing (a share of what waits is resolved otherwise; received
    handoffs and kept admissions join the backlog; senders' experience of on-time
    handoffs) and step 4 (overload memory, leavers, recruits) [M23].

    Args:
        transferred: episodes handed over per route group (G,); inbound: received per
            provider (N,); route_sender: each group's sender (G,).
        turnover_rate, fill_rate: each provider's base turnover (per year) and fill rate.
        leavers_window, staff_window: rolling (weeks, 2) sector totals, newest first.
    """
    if SETTLING_STANDS_FOR.any_replaced():
        return _handoffs_and_workforce_through_modules(
            state, service, arrivals, transferred, inbound, route_sender, turnover_rate,
            fill_rate, leavers_window, staff_window, cfg)
    wf = cfg.workforce
    out = _handoffs_and_workforce(
        service.offered, transferred, inbound, cfg.handoffs.delay_resolution, service.backlog,
        route_sender, service.kept, arrivals, service.served, service.due, service.reneged,
        state.experience, state.overload, service.pressure, wf.overload_memory_weeks,
        turnover_rate, state.faith, wf.overload_sensitivity, wf.faith_sensitivity,
        state.staff, state.funded, fill_rate, wf.labour_supply, SOCIAL_CARE[state.kind],
        leavers_window, staff_window)
    return Settled(*out)


@kernel
def _handoffs_and_workforce(offered, transferred, inbound, delay_resolution, backlog,
                            route_sender, kept, arrivals, served, due, reneged, experience,
                            overload, pressure, memory_weeks, turnover_rate, faith,
                            overload_sensitivity, faith_sensitivity, staff, funded, fill_rate,
                            labour_supply, social, leavers_window, staff_window):
    n = len(backlog)
    waiting = offered - transferred
    resolved = waiting * delay_resolution
    delayed = waiting - resolved
    backlog = backlog + inbound + np.bincount(route_sender, kept, n)
    arrived = pairwise_sum(arrivals)
    left = episodes_leaving(served, due, reneged, resolved)
    success = np.zeros(len(offered))
    for g in range(len(offered)):
        if offered[g] > 0:
            success[g] = transferred[g] / offered[g]
    experience = update_experience(experience, np.bincount(route_sender, offered, n),
                                   np.bincount(route_sender, transferred, n))
    # 4. Workforce.
    overload = overload_memory(overload, pressure, memory_weeks)
    leave = leave_rate_kernel(turnover_rate, overload, faith, overload_sensitivity,
                              faith_sensitivity)
    staff, leavers, _ = update_staff(staff, funded, leave, fill_rate, labour_supply)
    leavers_window = push_week_kernel(leavers_window, by_sector(leavers, social))
    staff_window = push_week_kernel(staff_window, by_sector(staff, social))
    return (delayed, backlog, arrived, left, success, experience, overload, staff,
            leavers_window, staff_window)


def _handoffs_and_workforce_through_modules(state, service, arrivals, transferred, inbound,
                                            route_sender, turnover_rate, fill_rate,
                                            leavers_window, staff_window, cfg) -> Settled:
    """:func:`handoffs_and_workforce`, calling each mechanism through its module."""
    n, offered, wf = len(service.backlog), service.offered, cfg.workforce
    waiting = offered - transferred
    resolved = waiting * cfg.handoffs.delay_resolution
    backlog = service.backlog + inbound + np.bincount(route_sender, service.kept, n)
    left = checked(flows.episodes_leaving(service.served, service.due, service.reneged,
                                          resolved), "flows.episodes_leaving", ())
    success = np.divide(transferred, offered, out=np.zeros_like(offered), where=offered > 0)
    experience = checked(belief.update_experience(state.experience,
                                                  np.bincount(route_sender, offered, n),
                                                  np.bincount(route_sender, transferred, n)),
                         "belief.update_experience", (n,))
    # 4. Workforce.
    overload = checked(workforce.overload_memory(state.overload, service.pressure,
                                                 wf.overload_memory_weeks),
                       "workforce.overload_memory", (n,))
    leave = checked(workforce.leave_rate(turnover_rate, overload, state.faith, wf),
                    "workforce.leave_rate", (n,))
    staff, leavers, _ = checked(workforce.update_staff(state.staff, state.funded, leave,
                                                       fill_rate, wf.labour_supply),
                                "workforce.update_staff", (n,), (n,), (n,))
    social = SOCIAL_CARE[state.kind]

    def pushed(window, values):
        by_sector = checked(workforce.by_sector(values, social), "workforce.by_sector", (2,))
        return checked(history.push_week(window, by_sector), "history.push_week",
                       window.shape)

    return Settled(waiting - resolved, backlog, float(arrivals.sum()), float(left), success,
                   experience, overload, staff, pushed(leavers_window, leavers),
                   pushed(staff_window, staff))


def paperwork_and_faith(state, ps, similarity: np.ndarray, span: np.ndarray,
                        maturity_target: float, maintained: bool, reporting_fte: float,
                        cfg: SimConfig) -> np.ndarray:
    """Step 6 (paperwork: next week's admin share, with the cost of building data
    maturity), step 8 (faith, and autonomy lost to a mandate recovering) and the slow
    build of data maturity [HF17: data are hard to get], in MODEL.md's order.

    Updates ``state.admin_share``, ``faith``, ``autonomy_loss`` and ``maturity``.

    Args:
        similarity: culture similarity of each partnership (E,); span: each provider's
            management span.
        maturity_target: the data maturity monitoring builds towards.
        maintained: whether partnerships are maintained (else nobody spends time on
            them); reporting_fte: mandated reporting per partnership per side (FTE).

    Returns:
        Each provider's partner count (degree).
    """
    mon, pw, fc = cfg.monitoring, cfg.paperwork, cfg.faith
    recovery = float(np.exp(-1.0 / fc.crowding_recovery_weeks))
    if PAPERWORK_STANDS_FOR.any_replaced():
        return _paperwork_and_faith_through_modules(state, ps, similarity, span,
                                                    maturity_target, maintained,
                                                    reporting_fte, recovery, cfg)
    (state.admin_share, degree, state.faith, state.autonomy_loss,
     state.maturity) = _paperwork_and_faith(
        state.maturity, maturity_target, mon.build_cost, mon.build_rate, ps.formality,
        similarity, maintained, reporting_fte, pw.fte_per_partnership, pw.formality_cost,
        pw.culture_cost, ps.a, ps.b, state.staff, span, pw.complexity_partners,
        pw.max_share, state.enthusiasm, state.realism, state.experience, state.overload,
        state.autonomy_loss, fc.credibility_sensitivity, fc.leader_weight,
        fc.overload_erosion, fc.realism_protection, fc.paperwork_erosion, fc.crowding_out,
        state.faith, fc.rate, recovery)
    return degree


@kernel
def _paperwork_and_faith(maturity, maturity_target, build_cost, build_rate, formality,
                         similarity, maintained, reporting_fte, fte_per_partnership,
                         formality_cost, culture_cost, a, b, staff, span, complexity_partners,
                         max_share, enthusiasm, realism, experience, overload, autonomy_loss,
                         credibility_sensitivity, leader_weight, overload_erosion,
                         realism_protection, paperwork_erosion, crowding_out, faith,
                         faith_rate, recovery):
    # 6. Paperwork (sets next week's admin share).
    building = build_cost * np.maximum(maturity_target - maturity, 0.0)
    cost = partnership_cost_kernel(formality, similarity, fte_per_partnership, formality_cost,
                                   culture_cost)
    if not maintained:  # nobody spends time on links no longer maintained
        cost = np.zeros_like(cost)
        reporting_fte = 0.0
    admin, degree = admin_share_kernel(a, b, cost, staff, building, span, complexity_partners,
                                       max_share, reporting_fte)
    # 8. Faith.
    target = faith_target_kernel(enthusiasm, realism, experience, overload, admin,
                                 autonomy_loss, credibility_sensitivity, leader_weight,
                                 overload_erosion, realism_protection, paperwork_erosion,
                                 crowding_out)
    faith = update_faith(faith, target, faith_rate)
    autonomy_loss = autonomy_loss * recovery
    # Monitoring investment builds data maturity slowly.
    maturity = maturity + build_rate * (maturity_target - maturity)
    return admin, degree, faith, autonomy_loss, maturity


def _paperwork_and_faith_through_modules(state, ps, similarity, span, maturity_target,
                                         maintained, reporting_fte, recovery,
                                         cfg) -> np.ndarray:
    """:func:`paperwork_and_faith`, calling each mechanism through its module."""
    mon = cfg.monitoring
    # 6. Paperwork (sets next week's admin share).
    building = mon.build_cost * np.maximum(maturity_target - state.maturity, 0.0)
    cost = checked(paperwork.partnership_cost(ps.formality, similarity, cfg.paperwork),
                   "paperwork.partnership_cost", (len(ps),))
    if not maintained:  # nobody spends time on links no longer maintained
        cost, reporting_fte = np.zeros_like(cost), 0.0
    n = len(state.staff)
    state.admin_share, degree = checked(
        paperwork.admin_share(ps.a, ps.b, cost, state.staff, building, span, cfg.paperwork,
                              reporting_fte), "paperwork.admin_share", (n,), (n,))
    # 8. Faith.
    target = checked(belief.faith_target(state.enthusiasm, state.realism, state.experience,
                                         state.overload, state.admin_share,
                                         state.autonomy_loss, cfg.faith),
                     "belief.faith_target", (n,))
    state.faith = checked(belief.update_faith(state.faith, target, cfg.faith.rate),
                          "belief.update_faith", (n,))
    state.autonomy_loss = state.autonomy_loss * recovery
    # Monitoring investment builds data maturity slowly.
    state.maturity = state.maturity + mon.build_rate * (maturity_target - state.maturity)
    return degree
