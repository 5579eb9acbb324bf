"""CollaborationModel: providers as Mesa agents, their state in arrays, one step per week.

The model owns one row per provider (:class:`ProviderState`) and one row per
partnership (:class:`~sim.partnerships.Partnerships`). Each weekly step applies
the mechanisms of ``sim.dynamics`` as whole-array operations, in the order of
MODEL.md, and Mesa's DataCollector records the outcome columns. Providers are
also Mesa agents (:class:`~sim.agents.Provider`) that read their own row, so
AgentSet queries and visualisation see ordinary agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from sim import area_context, outcomes
from sim.agents import Provider
from sim.config import SimConfig
from sim.dynamics import (
    admissions,
    aid,
    belief,
    flows,
    handoffs,
    history,
    paperwork,
    partnership_week,
    provider_week,
    relations,
    routing_week,
    sums,
    workforce,
)
from sim.geography import handoff_routes, partner_candidates
from sim.inputs import checked, whole_number
from sim.kinds import LINKED, N_KINDS, PATHWAYS, PRODUCTIVITY, SOCIAL_CARE
from sim.outcome_spec import TURNOVER_WINDOW_WEEKS
from sim.partnerships import Partnerships
from sim.regimes import (
    STATUS_QUO,
    end_partnerships,
    form_partnerships,
    review_assignments,
    switch_regime,
)
from sim.replaced import Originals
from sim.system import ProviderTable, build_system

#: Every public function of the mechanism modules, as the package defined it: a run
#: records which a notebook has replaced (``sim.replaced``).
MECHANISMS = Originals.of_modules(admissions, aid, belief, flows, handoffs, history, paperwork,
                                  partnership_week, provider_week, relations, routing_week,
                                  sums, workforce)
CULTURE_DIMENSIONS = 4  # clan, adhocracy, market, hierarchy (Competing Values Framework)
PRIORITY_AREAS = 4  # discharge, urgent care, prevention, mental health
#: Rounds of balancing expected handoff inflow against intake at set-up: intake and the
#: flows it attracts settle together within a few (technical).
BALANCE_ROUNDS = 3


@dataclass
class ProviderState:
    """One row per provider. Units: FTE for staff, episodes for patients, 0-1 for shares."""

    kind: np.ndarray
    area: np.ndarray
    xy: np.ndarray  # (N, 2) km
    funded: np.ndarray  # funded posts, FTE
    staff: np.ndarray  # staff in post, FTE
    demand_base: np.ndarray  # mean external episodes/week
    intake_share: np.ndarray  # share of capacity open to handoffs from other providers
    backlog: np.ndarray  # episodes waiting to be served
    culture: np.ndarray  # (N, 4) position on the Competing Values Framework, 0-1
    priorities: np.ndarray  # (N, 4) weights over improvement areas, sum 1
    enthusiasm: np.ndarray  # leaders' belief that collaboration will work
    realism: np.ndarray  # leaders' acknowledgement of workforce shortages
    faith: np.ndarray  # staff faith in collaboration
    maturity: np.ndarray  # data maturity
    quality: np.ndarray  # quality of practice
    base_trust: np.ndarray  # generalised trust towards a new partner
    admin_share: np.ndarray  # share of staff time on collaboration paperwork
    pressure: np.ndarray  # workload / capacity last week
    overload: np.ndarray  # remembered overload, max(0, pressure - 1)
    experience: np.ndarray  # recent share of own handoffs completed on time
    autonomy_loss: np.ndarray  # value of chosen partnerships lost to a mandate
    capacity: np.ndarray  # episodes/week last week
    aid_in: np.ndarray  # useful FTE borrowed last week
    aid_out: np.ndarray  # FTE lent last week


class CollaborationModel(mesa.Model):
    """Healthcare providers collaborating (or not) under a policy regime, week by week.

    Args:
        config: the scenario (a validated :class:`~sim.config.SimConfig`).
        rng: root seed of the run (an int, replacing ``config.seed``) or a
            ``numpy.random.SeedSequence`` used as it is; by default the run uses the
            ``config.replicate``-th child of ``config.seed``
            (``SeedSequence(seed, spawn_key=(replicate,))``), so that every scenario of a
            sweep shares the streams of each replicate. The geography uses its own
            stream, so that scenarios compared with the same seed share one map.
        table: an already built provider population (otherwise built from config).
    """

    def __init__(self, config: SimConfig | None = None, rng: int | np.random.SeedSequence |
                 None = None, table: ProviderTable | None = None) -> None:
        config = checked(SimConfig() if config is None else config)  # edits after validation too
        if isinstance(rng, np.random.SeedSequence):
            root = rng
        else:  # an int replaces the config's root seed
            root = np.random.SeedSequence(config.seed if rng is None else whole_number("rng", rng),
                                          spawn_key=(config.replicate,))
        # A third stream for the area context, so that drawing it consumes nothing of the
        # other two (spawn(3) gives the same first two children as spawn(2)).
        layout_seq, dynamics_seq, context_seq = root.spawn(3)
        super().__init__(rng=dynamics_seq)
        self.config = config
        layout_rng = np.random.default_rng(
            layout_seq if config.system.layout_seed is None else config.system.layout_seed)
        self.table = table if table is not None else build_system(config.system, layout_rng)
        self.n_providers = self.table.n
        if self.n_providers == 0:
            raise ValueError("the provider system is empty")
        self.area_context = area_context.build(self.table, config,
                                               np.random.default_rng(context_seq))
        self.week = -config.time.burn_in_weeks
        self.regime = STATUS_QUO
        self.switched = False
        self.partnerships_at_switch = 0
        self.national_agenda: np.ndarray | None = None  # set by a regime with national priorities
        self.failed_pairs = np.zeros(0, dtype=np.int64)  # pair keys an authority's review ended
        self.state = self._initial_state()
        #: Base turnover (per year) and fill rate (share per week) of each provider.
        self.turnover_rate, self.fill_rate = area_context.rates(
            self.area_context, SOCIAL_CARE[self.state.kind], self.state.area, config)
        self._build_neighbourhoods()
        self.partnerships = Partnerships(self.n_providers, capacity=4 * self.n_providers,
                                         pair_attributes=self._pair_attributes)
        self.degree = np.zeros(self.n_providers, dtype=np.int64)
        self.span = paperwork.management_span(self.state.funded)
        #: Share of each kind's emergency admissions avoidable at full support (by kind).
        self.avoidable = admissions.avoidable_share(config.admissions)
        #: Share of served episodes due for each route group before avoided admissions.
        self.route_share = self.routes.share * admissions.unsupported_factor(
            self.state.kind[self.routes.sender], self.routes.kind, self.avoidable)
        self._init_accounts()
        for index in range(self.n_providers):
            Provider(self, index)
        #: This week's outcomes by name (NaN before the first week is measured).
        self.outcome_values: dict[str, float] = dict.fromkeys(outcomes.COLUMNS, math.nan)
        #: The by-kind outcomes of every week measured, one (kinds, BY_KIND) array each
        #: (see :meth:`by_kind_frame`).
        self.kind_values: list[np.ndarray] = []
        #: The by-area outcomes and weights of every week measured, one (areas, columns)
        #: array each (see :meth:`by_area_frame`).
        self.area_values: list[np.ndarray] = []
        #: Partnerships per area just before the switch (half in each provider's area).
        self.area_partnerships_at_switch = np.zeros(self.table.n_areas)
        self.datacollector = outcomes.OutcomeCollector(model_reporters=outcomes.reporters())

    # ------------------------------------------------------------------ set-up
    def _initial_state(self) -> ProviderState:
        cfg, t, rng = self.config, self.table, self.rng
        n = t.n
        kind = t.kind.astype(np.int64)
        funded = t.size.astype(np.float64)
        lead, ctx, ac = cfg.leadership, cfg.context, self.area_context

        def around(mean: float, sd: float, size: int | tuple = n) -> np.ndarray:
            return np.clip(rng.normal(mean, sd, size), 0.0, 1.0)

        # Cultures: each area has its own mean, NHS and social care differ within it,
        # providers scatter around that [M23 culture] (assumption on the structure).
        n_areas = int(t.area.max()) + 1
        area_mean = rng.uniform(relations.AREA_CULTURE_LOW, relations.AREA_CULTURE_HIGH,
                                (n_areas, CULTURE_DIMENSIONS))
        sector_shift = rng.normal(0.0, ctx.culture_spread, (n_areas, 2, CULTURE_DIMENSIONS))
        culture = np.clip(area_mean[t.area] + sector_shift[t.area, SOCIAL_CARE[kind].astype(int)]
                          + rng.normal(0.0, ctx.culture_spread, (n, CULTURE_DIMENSIONS)), 0, 1)
        capacity_full = funded * PRODUCTIVITY[kind]
        staff = funded * (1.0 - cfg.workforce.initial_vacancy)
        demand_base, inflow = self._expected_flows(kind, t.area, capacity_full, ctx.demand_ratio)
        return ProviderState(
            kind=kind, area=t.area.astype(np.int64), xy=np.column_stack([t.x, t.y]),
            funded=funded, staff=staff, demand_base=demand_base,
            intake_share=cfg.handoffs.intake_margin * inflow / capacity_full,
            backlog=np.zeros(n),
            culture=culture,
            priorities=rng.dirichlet(np.full(PRIORITY_AREAS, ctx.priority_concentration), n),
            enthusiasm=around(area_context.shifted(lead.enthusiasm, ac.enthusiasm, t.area),
                              lead.spread),
            realism=around(area_context.shifted(lead.realism, ac.realism, t.area), lead.spread),
            faith=around(belief.NEUTRAL_FAITH, belief.INITIAL_FAITH_SD),
            maturity=np.full(n, cfg.monitoring.initial_maturity),
            quality=around(relations.INITIAL_QUALITY_MEAN, ctx.initial_quality_spread),
            base_trust=around(area_context.shifted(ctx.initial_trust, ac.trust, t.area),
                              ctx.trust_spread),
            admin_share=np.zeros(n), pressure=np.full(n, ctx.demand_ratio),
            overload=np.zeros(n), experience=np.full(n, belief.INITIAL_EXPERIENCE),
            autonomy_loss=np.zeros(n),
            capacity=capacity_full * (1.0 - cfg.workforce.initial_vacancy),
            aid_in=np.zeros(n), aid_out=np.zeros(n),
        )

    @staticmethod
    def _expected_flows(kind: np.ndarray, area: np.ndarray, capacity_full: np.ndarray,
                        ratio: float) -> tuple[np.ndarray, np.ndarray]:
        """External demand and expected handoff inflow (episodes/week) of each provider.

        External demand is set so that external plus expected handoff inflow is ``ratio``
        of full capacity (assumption: the system is sized for its flows).

        Expected inflow to each kind in an area is the pathway share of what that area's
        other providers serve, divided among receivers in proportion to capacity; at
        least ``flows.MIN_EXTERNAL_SHARE`` of each provider's demand is external.
        """
        n_areas = int(area.max()) + 1
        served = ratio * capacity_full
        outflow = np.zeros((n_areas, N_KINDS))
        np.add.at(outflow, area, served[:, None] * PATHWAYS[kind])
        cap_by = np.zeros((n_areas, N_KINDS))
        np.add.at(cap_by, (area, kind), capacity_full)
        inflow = outflow[area, kind] * capacity_full / np.maximum(cap_by[area, kind], 1e-9)
        return np.maximum(served - inflow, flows.MIN_EXTERNAL_SHARE * served), inflow

    def _build_neighbourhoods(self) -> None:
        st, cfg = self.state, self.config
        full = st.funded * PRODUCTIVITY[st.kind] * cfg.context.demand_ratio
        self.routes = handoff_routes(st.kind, st.xy, full, st.intake_share * full,
                                     cfg.handoffs.adhoc_neighbours)
        self.pair_sender = self.routes.sender[self.routes.pair_group]  # of each ad hoc pair
        self.pair_distance = handoffs.distance_km(st.xy, self.pair_sender,
                                                  self.routes.pair_receiver)
        for _ in range(BALANCE_ROUNDS):
            self._balance_flows(full)
        self.route_of = np.full((self.n_providers, N_KINDS), -1, dtype=np.int64)
        self.route_of[self.routes.sender, self.routes.kind] = np.arange(len(self.routes.sender))
        self.delayed = np.zeros(len(self.routes.sender))  # episodes waiting per route group
        per_kind = cfg.partnerships.candidates
        self.candidates = partner_candidates(st.kind, st.xy, per_kind)
        ok = self.candidates >= 0
        j = np.where(ok, self.candidates, 0)
        i = np.broadcast_to(np.arange(self.n_providers)[:, None], j.shape)
        volume = PATHWAYS[st.kind[i], st.kind[j]] + PATHWAYS[st.kind[j], st.kind[i]]
        dist = handoffs.distance_km(st.xy, i, j)
        self.candidate_weights = np.where(
            ok & LINKED[st.kind[i], st.kind[j]],
            volume * np.exp(-dist / cfg.partnerships.value_distance_km), 0.0)
        self.intake_history = np.zeros((cfg.monitoring.max_lag_weeks + 1, self.n_providers))

    def _pair_attributes(self, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
        """What never changes over a partnership's life, stored when it forms: the
        distance between its providers (km) and the route group each end sends along."""
        kind = self.state.kind
        return {"distance": handoffs.distance_km(self.state.xy, lo, hi),
                "route": np.column_stack([self.route_of[lo, kind[hi]],
                                          self.route_of[hi, kind[lo]]])}

    def _balance_flows(self, served: np.ndarray) -> None:
        """Refine each provider's expected handoff inflow from the routes themselves.

        A care home next to a hospital expects more discharges than one far from
        any: expected inflow is each route's expected flow shared over its receivers
        as the routing rule would share it (intake times the chance of an ad hoc
        handoff at that distance). External demand is what remains
        of the provider's expected workload, and intake capacity keeps a margin over
        the expected inflow (assumption: the system is sized for its flows).
        """
        st, r = self.state, self.routes
        ratio = self.config.context.demand_ratio
        capacity_full = served / ratio
        hc = self.config.handoffs
        success = 1.0 / (1.0 + np.exp(-(hc.adhoc_base - self.pair_distance
                                        / hc.distance_scale_km)))
        weight = (st.intake_share[r.pair_receiver] * capacity_full[r.pair_receiver] + 1e-12) \
            * success
        total = np.bincount(r.pair_group, weight, minlength=len(r.sender))
        group_flow = served[r.sender] * r.share
        inflow = np.bincount(r.pair_receiver, group_flow[r.pair_group] * weight
                             / total[r.pair_group], minlength=self.n_providers)
        st.demand_base = np.maximum(served - inflow, flows.MIN_EXTERNAL_SHARE * served)
        margin = np.where(SOCIAL_CARE[st.kind], hc.intake_margin_social_care, hc.intake_margin)
        st.intake_share = margin * inflow / capacity_full

    def _init_accounts(self) -> None:
        """Running totals for conservation checks and rolling turnover."""
        self.patients_arrived = float(self.state.backlog.sum())
        self.patients_left = 0.0
        # leavers and staff in post (FTE) by sector [NHS, social care], newest week first
        self.leavers_window = np.zeros((TURNOVER_WINDOW_WEEKS, 2))
        self.staff_window = np.zeros((TURNOVER_WINDOW_WEEKS, 2))

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Advance one week: every mechanism once, in MODEL.md's order, then record outcomes."""
        self.partnerships_at_week_start = len(self.partnerships)
        if self.week >= 0 and not self.switched:
            self.regime = self.config.regime
            self.area_partnerships_at_switch = outcomes.partnerships_by_area(
                self.state.area, self.partnerships.a, self.partnerships.b, self.table.n_areas)
            switch_regime(self, self.regime)
            self.switched = True
        st, ps, cfg, rng, regime = self.state, self.partnerships, self.config, self.rng, \
            self.regime
        senders, receivers = ps.directed()
        trust_dir = ps.trust.T.flatten()  # directed rows (a copy): a→b, then b→a
        formality_dir = np.concatenate([ps.formality, ps.formality])
        # Culture similarity of each partnership, shared by the mechanisms.
        self.edge_similarity = handoffs.similarity(st.culture, ps.a, ps.b)

        # 3. Mutual aid, planned on last week's pressure.
        if regime.maintain:
            st.aid_out, st.aid_in, lent = aid.mutual_aid(
                senders, receivers, trust_dir, formality_dir, st.kind, st.staff, st.pressure,
                cfg.aid)
        else:
            st.aid_out, st.aid_in, lent = np.zeros(self.n_providers), np.zeros(
                self.n_providers), np.zeros(len(senders))

        # 1. Demand and capacity.
        arrivals = flows.weekly_demand(
            st.demand_base, self.week + cfg.time.burn_in_weeks, cfg.context.seasonality,
            cfg.context.demand_growth, rng,
            peak_week=cfg.time.burn_in_weeks - flows.SWITCH_AFTER_WINTER_PEAK_WEEKS,
            growth_start=cfg.time.burn_in_weeks)
        # 2. Handoffs along care pathways; emergency admissions that support from
        # primary and community care avoids stay with the sender.
        service = provider_week.demand_and_service(
            st, arrivals, self.delayed, self.routes, self.route_share, self.avoidable, ps,
            regime.maintain, flows.intake_kept(cfg.shock, self.week), cfg)
        st.capacity, st.backlog, st.pressure = service.capacity, service.backlog, service.pressure
        res = self._route(service.offered, service.intake, senders, receivers, trust_dir,
                          formality_dir, rng)
        # ... and 4. Workforce.
        settled = provider_week.handoffs_and_workforce(
            st, service, arrivals, res.transferred, res.inbound, self.routes.sender,
            self.turnover_rate, self.fill_rate, self.leavers_window, self.staff_window, cfg)
        self.delayed, st.backlog = settled.delayed, settled.backlog
        self.patients_arrived += settled.arrived
        self.patients_left += settled.left
        st.experience, st.overload, st.staff = settled.experience, settled.overload, settled.staff
        self.leavers_window, self.staff_window = settled.leavers_window, settled.staff_window

        # 5-7, 9. Improvement, trust and confidence, culture: on partnerships.
        interactions, held = (self._partnership_week(res, lent) if len(ps)
                              else (0.0, np.zeros(self.n_providers)))

        # 6. Paperwork (sets next week's admin share), 8. faith, and data maturity.
        self.degree = provider_week.paperwork_and_faith(
            st, ps, self.edge_similarity, self.span, self._maturity_target(), regime.maintain,
            regime.reporting_fte, cfg)

        # 10. Forming and ending partnerships under the regime in force.
        end_partnerships(self, regime)
        if regime.review_weeks and self.week > 0 and self.week % regime.review_weeks == 0:
            review_assignments(self, regime)
        form_partnerships(self, regime)
        self.degree = ps.degree()

        measured = outcomes.measure(
            self, outcomes.WeekFlows(service.new, settled.success, service.reneged,
                                     service.workload, interactions, service.served, held))
        self.outcome_values = measured.values
        self.kind_values.append(measured.by_kind)
        self.area_values.append(measured.by_area)
        self.datacollector.collect(self)
        self.week += 1

    def _maturity_target(self) -> float:
        mon = self.config.monitoring
        return mon.target_maturity if self.switched else mon.initial_maturity

    def _route(self, offered, intake, senders, receivers, trust_dir, formality_dir, rng):
        """Route handoffs, with each sender seeing receivers' intake as its data allow."""
        res, self.intake_history = routing_week.route(
            self.state, self.partnerships, self.routes, self.pair_sender, self.pair_distance,
            self.intake_history, offered, intake, senders, receivers, trust_dir,
            formality_dir, self.edge_similarity, self.regime.maintain,
            relations.INITIAL_QUALITY_MEAN, self.config, rng)
        return res

    def _partnership_week(self, res: handoffs.HandoffResult,
                          lent: np.ndarray) -> tuple[float, np.ndarray]:
        """Improvement, trust, confidence and culture on every partnership; returns the
        interactions, in total and per provider (each partnership's half at each end)."""
        st, ps = self.state, self.partnerships
        week = partnership_week.partnership_week(
            st, ps, res.edge_flow, res.edge_success, lent, self.edge_similarity,
            relations.alignment(st.priorities, ps.a, ps.b, self.national_agenda),
            self.regime.maintain, self.config, self.rng)
        st.quality, st.base_trust, st.culture = week.quality, week.base_trust, week.culture
        self.conflicts_this_week = week.conflicts
        return week.interactions, week.interactions_held

    # ------------------------------------------------------------------ views
    def run(self, weeks: int | None = None) -> None:
        """Run ``weeks`` steps (default: burn-in plus policy horizon)."""
        total = weeks if weeks is not None else (self.config.time.burn_in_weeks
                                                 + self.config.time.policy_weeks)
        for _ in range(total):
            self.step()

    @property
    def patients_in_system(self) -> float:
        """Episodes waiting for service or for a handoff."""
        return float(self.state.backlog.sum() + self.delayed.sum())

    def by_kind_frame(self):
        """The by-kind outcomes of every week so far: one row per week and provider kind
        (columns :data:`sim.outcomes.BY_KIND_COLUMNS`), as ``RunResult.by_kind``."""
        first = -self.config.time.burn_in_weeks
        weeks = np.arange(first, first + len(self.kind_values))
        providers = np.bincount(self.state.kind, minlength=N_KINDS)
        return outcomes.by_kind_frame(weeks, self.kind_values, providers)

    def by_area_frame(self):
        """The by-area outcomes of every week so far: one row per week and area (columns
        :data:`sim.outcomes.BY_AREA_COLUMNS`), as ``RunResult.by_area``."""
        first = -self.config.time.burn_in_weeks
        weeks = np.arange(first, first + len(self.area_values))
        return outcomes.by_area_frame(weeks, self.area_values, self.table.area_frame())

    def partnership_frame(self):
        """The active partnerships as a DataFrame (for notebooks and analysis)."""
        import pandas as pd

        ps, st = self.partnerships, self.state
        return pd.DataFrame({
            "a": ps.a, "b": ps.b, "trust_ab": ps.trust[:, 0], "trust_ba": ps.trust[:, 1],
            "confidence_ab": ps.confidence[:, 0], "confidence_ba": ps.confidence[:, 1],
            "formality": ps.formality, "progress": ps.progress, "mandated": ps.mandated,
            "goals": ps.goals, "formed_week": ps.formed_week,
            "flow_ab": ps.flow[:, 0], "flow_ba": ps.flow[:, 1],
            "on_time_ab": ps.on_time[:, 0], "on_time_ba": ps.on_time[:, 1],
            "distance_km": ps.distance,
            "culture_similarity": handoffs.similarity(st.culture, ps.a, ps.b),
        })
