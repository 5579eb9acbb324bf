"""A per-agent reference of the handoff and trust mechanisms (for benchmarking only).

The model (``sim``) keeps providers' state in NumPy arrays and applies each
mechanism to whole arrays at once. This module writes two of its mechanisms the
way a textbook Mesa model would: every provider is a ``mesa.Agent`` with its own
Python attributes, partnerships are Python objects, and the week is driven by
``model.agents.shuffle_do(...)``. It exists for two reasons:

1. to **measure** what vectorisation buys (the speed-up reported by the benchmark
   harness, target >= 20x on the ICS system), and
2. to **check** that the vectorised code does what the mechanism's description
   says, by an independent, loop-by-loop implementation.

Nothing in ``sim`` imports this module.

What is covered, for the same system, parameters and starting state:

- **handoff routing** (``sim.dynamics.handoffs.route_handoffs`` and
  ``CollaborationModel._route``): each sender observes receivers' intake late and
  noisily (as its data maturity allows; partners also tell each other, in
  proportion to trust), computes the chance a handoff succeeds (reliance, role
  clarity from a contract, culture similarity, both sides' faith, distance), and
  splits the episodes due for each pathway over its ad hoc receivers and its
  partners of that kind in proportion to observed intake times that chance;
  receivers serve their partners' requests first, then the others', as far as
  their intake allows (rationing in proportion within each class, as the model
  does); what falls through waits with the sender, and a share of waits end each
  week;
- **avoided admissions** (``sim.dynamics.admissions``): each sender's support is its
  best partnership (mean trust both ways) with a supporting kind, and that share of its
  avoidable emergency admissions is not handed to hospital;
- **trust** (``sim.dynamics.relations.conflicts`` and ``update_trust``): conflicts
  from the partnership's failed handoffs and culture distance; gain from good
  experience scaled by both sides' faith; loss at a conflict softened by a
  contract; decay towards the holder's baseline without interaction.

Everything else is held at the starting state (a model after its burn-in):
each provider serves what it served in its last week and offers the same intake
every week; faith, culture, maturity, confidence and generalised trust do not
move; there is no mutual aid and there are no improvement milestones. Both
implementations run this same closed loop, so their results are comparable week
by week: exactly when the random parts are switched off (``exact=True``: no
observation noise, no conflicts), statistically otherwise (the two draw their
random numbers in a different order).
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import dataclass

import mesa
import numpy as np

from sim.config import SimConfig
from sim.dynamics import admissions, flows, handoffs, relations
from sim.dynamics.admissions import STATUS_QUO_SUPPORT
from sim.dynamics.belief import NEUTRAL_FAITH
from sim.dynamics.relations import INITIAL_QUALITY_MEAN
from sim.kinds import SUPPORTS, Kind
from sim.model import CollaborationModel

# --------------------------------------------------------------------------- agents
#: Terms of a handoff's log-odds of success that average an attribute of both sides:
#: (HandoffConfig weight, provider attribute, neutral level, None: the scenario's
#: ``monitoring.initial_maturity``). Keep in step with
#: ``sim.dynamics.handoffs.route_handoffs`` (the exact comparison fails otherwise).
PAIR_TERMS = (("faith_weight", "faith", NEUTRAL_FAITH),
              ("quality_weight", "quality", INITIAL_QUALITY_MEAN),
              ("data_weight", "maturity", None))

class Partnership:
    """One partnership between two reference providers; ``trust[p]`` is what p holds."""

    __slots__ = ("ends", "trust", "confidence", "formality", "flow", "done", "conflict")

    def __init__(self, a: RefProvider, b: RefProvider, trust: tuple[float, float],
                 confidence: tuple[float, float], formality: float) -> None:
        self.ends = (a, b)
        self.trust = {a: trust[0], b: trust[1]}
        self.confidence = {a: confidence[0], b: confidence[1]}
        self.formality = formality
        self.flow = {a: 0.0, b: 0.0}  # episodes each side offered the other this week
        self.done = {a: 0.0, b: 0.0}  # of which handed over on time
        self.conflict: bool | None = None  # drawn once a week by the first side to settle

    def other(self, me: RefProvider) -> RefProvider:
        a, b = self.ends
        return b if me is a else a

    def draw_conflict(self) -> bool:
        """This week's conflict (shared by both sides), drawn on first use."""
        if self.conflict is None:
            a, b = self.ends
            p = a.model.trust_params
            total = self.flow[a] + self.flow[b]
            interacted = self.flow[a] > 1e-9 or self.flow[b] > 1e-9
            failure = ((self.flow[a] - self.done[a] + self.flow[b] - self.done[b]) / total
                       if total > 1e-9 else 0.0)
            distance = 1.0 - similarity(a.culture, b.culture)
            prob = min(p.conflict_rate * failure * (1.0 + p.culture_conflict * distance), 1.0)
            self.conflict = interacted and a.random.random() < prob
        return self.conflict


class RouteGroup:
    """The episodes one sender hands to one kind of provider, and whom it may try."""

    __slots__ = ("kind", "gross", "avoidable", "new", "delayed", "offered", "transferred",
                 "adhoc")

    def __init__(self, kind: int, gross: float, avoidable: float, delayed: float) -> None:
        self.kind = kind
        # episodes due each week before avoided admissions (the sender's service is held
        # fixed), and the share of them avoidable at full support (emergency admissions)
        self.gross = gross
        self.avoidable = avoidable
        self.new = gross  # after avoided admissions: set each week by the sender
        self.delayed = delayed  # episodes still waiting from earlier weeks
        self.offered = 0.0
        self.transferred = 0.0
        self.adhoc: list[tuple[RefProvider, float]] = []  # (receiver, distance km)


@dataclass
class Request:
    """A handoff request in a receiver's inbox."""

    sender: RefProvider
    group: RouteGroup
    flow: float
    chance: float
    link: Partnership | None


def similarity(c1: list[float], c2: list[float]) -> float:
    """Culture similarity, 0-1 (as ``sim.dynamics.handoffs.similarity``)."""
    return 1.0 - math.sqrt(sum((x - y) ** 2 for x, y in zip(c1, c2, strict=True))) \
        / math.sqrt(len(c1))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class RefProvider(mesa.Agent):
    """A provider with its own attributes; one shuffled pass per stage of the week."""

    def __init__(self, model: PerAgentModel, kind: int, xy: tuple[float, float],
                 faith: float, quality: float, maturity: float, culture: list[float],
                 base_trust: float, intake: float, history: list[float]) -> None:
        super().__init__(model)
        self.kind = kind
        self.xy = xy
        self.faith = faith
        self.quality = quality
        self.maturity = maturity
        self.culture = culture
        self.base_trust = base_trust
        self.intake = intake  # episodes/week this provider accepts from others
        self.history = history  # its intake in recent weeks, newest first
        self.routes: list[RouteGroup] = []
        self.partners: list[Partnership] = []
        self.partners_of_kind: dict[int, list[Partnership]] = {}
        self.inbox: list[Request] = []
        self.inbound = 0.0
        self.rationed = False  # asked for more than its intake this week

    # Stage 0: publish this week's intake, clear last week's dealings.
    def open_week(self) -> None:
        self.history.insert(0, self.intake)
        self.history.pop()
        self.inbox = []
        self.inbound = 0.0
        for link in self.partners:
            link.flow[self] = link.done[self] = 0.0
            link.conflict = None

    def observe(self, receiver: RefProvider, told: float) -> float:
        """Receiver's intake as this provider's data show it: late and noisy."""
        clarity = 1.0 - (1.0 - self.maturity) * (1.0 - told)
        lag = round((1.0 - clarity) * self.model.lags)  # half to even, as np.rint
        s = self.model.noise * (1.0 - clarity)
        noise = self.random.gauss(0.0, 1.0) if s > 0.0 else 0.0
        return receiver.history[lag] * math.exp(s * noise - 0.5 * s * s)

    def both_sides(self, receiver: RefProvider) -> float:
        """Log-odds from what both sides bring: faith, quality of practice, data maturity."""
        return sum(weight * (0.5 * (getattr(self, attr) + getattr(receiver, attr)) - ref)
                   for weight, attr, ref in self.model.pair_terms)

    def support(self) -> float:
        """The best mean trust (both directions) in a partner of a kind that supports
        this provider's kind; 0 without one or where partnerships are not maintained."""
        if not self.model.maintained:
            return 0.0
        best = 0.0
        for link in self.partners:
            other = link.ends[1] if link.ends[0] is self else link.ends[0]
            if SUPPORTS[self.kind, other.kind]:
                best = max(best, 0.5 * (link.trust[self] + link.trust[other]))
        return best

    # Stage 1 (the agent's step): as a sender, split what is due over receivers.
    def step(self) -> None:
        hc = self.model.handoff_params
        support = self.support()
        for group in self.routes:
            group.new = group.gross - group.gross * group.avoidable * support
            group.offered = group.delayed + group.new
            group.transferred = 0.0
            options: list[tuple[RefProvider, float, float, Partnership | None]] = []
            for receiver, dist in group.adhoc:
                chance = sigmoid(hc.adhoc_base
                                 + hc.culture_weight * (similarity(self.culture,
                                                                   receiver.culture)
                                                    - handoffs.NEUTRAL_SIMILARITY)
                                 + self.both_sides(receiver)
                                 - dist / hc.distance_scale_km)
                weight = max(self.observe(receiver, 0.0), handoffs.MIN_OBSERVED_INTAKE) * chance
                options.append((receiver, weight, chance, None))
            for link in self.partners_of_kind.get(group.kind, ()):
                receiver = link.other(self)
                trust, f = link.trust[self], link.formality
                reliance = (1.0 - f) * trust + f * link.confidence[self]
                dist = math.dist(self.xy, receiver.xy)
                chance = sigmoid(hc.partner_base + hc.reliance_weight * reliance
                                 + hc.formality_weight * f * (1.0 - reliance)
                                 + hc.culture_weight * (similarity(self.culture,
                                                                   receiver.culture)
                                                    - handoffs.NEUTRAL_SIMILARITY)
                                 + self.both_sides(receiver)
                                 - dist / hc.distance_scale_km)
                told = handoffs.TOLD_PER_TRUST * trust
                weight = hc.partner_preference * max(self.observe(receiver, told),
                                                     handoffs.MIN_OBSERVED_INTAKE) * chance
                options.append((receiver, weight, chance, link))
            total = sum(w for _, w, _, _ in options)
            if total <= 0.0:
                continue
            for receiver, weight, chance, link in options:
                flow = group.offered * weight / total
                receiver.inbox.append(Request(self, group, flow, chance, link))
                if link is not None:
                    link.flow[self] += flow

    # Stage 2: as a receiver, serve partners first, then others, as intake allows.
    def receive(self) -> None:
        asked_partners = sum(r.flow for r in self.inbox if r.link is not None)
        asked_others = sum(r.flow for r in self.inbox if r.link is None)
        accept_partners = self.intake / asked_partners if asked_partners > self.intake else 1.0
        left = max(self.intake - asked_partners, 0.0)
        accept_others = left / asked_others if asked_others > left else 1.0
        self.rationed = asked_partners + asked_others > self.intake
        for r in self.inbox:
            done = r.flow * r.chance * (accept_partners if r.link is not None else accept_others)
            r.group.transferred += done
            self.inbound += done
            if r.link is not None:
                r.link.done[r.sender] += done

    # Stage 3: as a sender, settle waits; as a partner, update trust in each partner.
    def settle(self) -> None:
        resolution = self.model.handoff_params.delay_resolution
        for group in self.routes:
            waiting = group.offered - group.transferred
            group.delayed = waiting - waiting * resolution
        p = self.model.trust_params
        for link in self.partners:
            other = link.other(self)
            flow, done = link.flow[self], link.done[self]
            interacted = flow > 1e-9 or link.flow[other] > 1e-9
            good = done / flow if flow > 1e-9 else 0.0
            engagement = 0.5 * (self.faith + other.faith)
            trust = link.trust[self]
            trust = trust + p.gain * good * (engagement / NEUTRAL_FAITH) * (1.0 - trust)
            if link.draw_conflict():
                trust = trust * (1.0 - p.loss * (1.0 - p.contract_softening * link.formality))
            if not interacted and trust > self.base_trust:
                trust = trust - p.decay * (trust - self.base_trust)
            if not self.model.maintained:
                trust = trust * (1.0 - p.neglect_decay)
            link.trust[self] = min(max(trust, 0.0), 1.0)


class PerAgentModel(mesa.Model):
    """Handoffs and trust, one agent at a time, from a :class:`CollaborationModel`'s state."""

    def __init__(self, source: CollaborationModel, served: np.ndarray, intake: np.ndarray,
                 config: SimConfig, seed: int) -> None:
        super().__init__(rng=seed)
        st, ps, r = source.state, source.partnerships, source.routes
        self.handoff_params = config.handoffs
        self.trust_params = config.trust
        self.lags = config.monitoring.max_lag_weeks
        self.noise = config.monitoring.noise
        self.maintained = source.regime.maintain
        # terms of the chance of success from both sides' mean of an attribute above a
        # reference level, as in route_handoffs: (weight, attribute, reference)
        self.pair_terms = [(getattr(config.handoffs, name, 0.0), attr,
                            config.monitoring.initial_maturity if ref is None else ref)
                           for name, attr, ref in PAIR_TERMS
                           if getattr(config.handoffs, name, 0.0)]
        # intake history newest first; open_week rolls it as the model's _route does
        self.providers = [
            RefProvider(self, int(st.kind[i]), (float(st.xy[i, 0]), float(st.xy[i, 1])),
                        float(st.faith[i]), float(st.quality[i]), float(st.maturity[i]),
                        st.culture[i].tolist(),
                        float(st.base_trust[i]), float(intake[i]),
                        source.intake_history[:, i].tolist())
            for i in range(source.n_providers)]
        self.groups = []
        ac = config.admissions
        avoidable = {int(Kind.CARE_HOME): ac.care_home_avoidable,
                     int(Kind.PCN): ac.primary_avoidable,
                     int(Kind.COMMUNITY): ac.primary_avoidable}
        for g in range(len(r.sender)):
            sender = self.providers[int(r.sender[g])]
            # admissions before avoidance: the pathway's at the status quo's support
            share = avoidable.get(sender.kind, 0.0) if int(r.kind[g]) == Kind.ACUTE else 0.0
            factor = 1.0 / (1.0 - share * STATUS_QUO_SUPPORT[sender.kind])
            group = RouteGroup(int(r.kind[g]), float(served[r.sender[g]] * r.share[g]) * factor,
                               share, float(source.delayed[g]))
            sender.routes.append(group)
            self.groups.append(group)
        for g, rcv, dist in zip(r.pair_group.tolist(), r.pair_receiver.tolist(),
                                source.pair_distance.tolist(), strict=True):
            self.groups[g].adhoc.append((self.providers[rcv], dist))
        self.links = []
        for e in range(len(ps)):
            a, b = self.providers[int(ps.a[e])], self.providers[int(ps.b[e])]
            link = Partnership(a, b, (float(ps.trust[e, 0]), float(ps.trust[e, 1])),
                               (float(ps.confidence[e, 0]), float(ps.confidence[e, 1])),
                               float(ps.formality[e]))
            a.partners.append(link)
            b.partners.append(link)
            a.partners_of_kind.setdefault(b.kind, []).append(link)
            b.partners_of_kind.setdefault(a.kind, []).append(link)
            self.links.append(link)

    def step(self) -> None:
        """One week of handoffs and trust, each stage one shuffled pass over the agents."""
        self.agents.shuffle_do("open_week")
        self.agents.shuffle_do("step")
        self.agents.shuffle_do("receive")
        self.agents.shuffle_do("settle")

    # views in the vectorised model's order, for comparison
    def transferred(self) -> np.ndarray:
        return np.array([g.transferred for g in self.groups])

    def delayed(self) -> np.ndarray:
        return np.array([g.delayed for g in self.groups])

    def inbound(self) -> np.ndarray:
        return np.array([p.inbound for p in self.providers])

    def trust(self) -> np.ndarray:
        return np.array([[link.trust[link.ends[0]], link.trust[link.ends[1]]]
                         for link in self.links]).reshape(-1, 2)


# --------------------------------------------------------------------------- vectorised side
class VectorisedLoop:
    """The same closed loop with the model's own vectorised code (``_route``, ``relations``).

    Mirrors ``CollaborationModel.step`` (handoffs) and ``_partnership_week`` (trust),
    with no mutual aid and no milestones.
    """

    def __init__(self, model: CollaborationModel, served: np.ndarray, intake: np.ndarray,
                 seed: int) -> None:
        self.model = model
        self.served = served
        self.intake = intake
        self.rng = np.random.default_rng(seed)
        self.result: handoffs.HandoffResult | None = None

    def step(self) -> None:
        m = self.model
        st, ps, cfg = m.state, m.partnerships, m.config
        senders, receivers = ps.directed()
        trust_dir = np.concatenate([ps.trust[:, 0], ps.trust[:, 1]])
        formality_dir = np.concatenate([ps.formality, ps.formality])
        m.edge_similarity = handoffs.similarity(st.culture, ps.a, ps.b)
        due = self.served[m.routes.sender] * m.route_share
        new = due - admissions.avoided(
            due, m.routes.sender, m.routes.kind, st.kind,
            admissions.support(st.kind, ps.a, ps.b, ps.trust, m.regime.maintain),
            m.avoidable)
        offered = m.delayed + new
        res = m._route(offered, self.intake, senders, receivers, trust_dir, formality_dir,
                       self.rng)
        waiting = offered - res.transferred
        m.delayed = waiting - waiting * cfg.handoffs.delay_resolution
        self.result = res
        e = len(ps)
        if not e:
            return
        flow = res.edge_flow.reshape(2, e).T
        success = res.edge_success.reshape(2, e).T
        has_flow = flow > 1e-9
        interacted = has_flow.any(axis=1)
        total_flow = flow.sum(axis=1)
        failure = np.divide((flow * (1.0 - success)).sum(axis=1), total_flow,
                            out=np.zeros(e), where=total_flow > 1e-9)
        conflict = relations.conflicts(failure, 1.0 - m.edge_similarity, interacted,
                                       cfg.trust, self.rng)
        good = np.where(has_flow, success, 0.0)
        baseline = np.column_stack([st.base_trust[ps.a], st.base_trust[ps.b]])
        ps.trust[:] = relations.update_trust(ps.trust, good, conflict, interacted, ps.formality,
                                             baseline, 0.5 * (st.faith[ps.a] + st.faith[ps.b]),
                                             m.regime.maintain, cfg.trust)


# --------------------------------------------------------------------------- comparison
def frozen_inputs(model: CollaborationModel) -> tuple[np.ndarray, np.ndarray]:
    """What each provider served last week and the intake it offers (held fixed)."""
    st = model.state
    served = st.capacity * np.minimum(st.pressure, 1.0)
    intake = flows.intake_capacity(st.intake_share, st.capacity, st.pressure)
    return served, intake


@dataclass
class Snapshot:
    """Starting state of a comparison (restored before every replicate)."""

    model: CollaborationModel
    served: np.ndarray
    intake: np.ndarray
    delayed: np.ndarray
    history: np.ndarray
    trust: np.ndarray

    def restore(self) -> CollaborationModel:
        m = self.model
        m.delayed = self.delayed.copy()
        m.intake_history = self.history.copy()
        m.partnerships.trust[:] = self.trust
        return m


def start_state(config: SimConfig, seed: int = 0, burn_in_weeks: int | None = None) -> Snapshot:
    """A model run through its burn-in (partnerships formed): the comparison's start."""
    model = CollaborationModel(config, rng=seed)
    model.run(config.time.burn_in_weeks if burn_in_weeks is None else burn_in_weeks)
    served, intake = frozen_inputs(model)
    return Snapshot(model, served, intake, model.delayed.copy(), model.intake_history.copy(),
                    model.partnerships.trust.copy())


def exact_config(config: SimConfig) -> SimConfig:
    """The same scenario with the random parts off (no observation noise, no conflicts)."""
    cfg = copy.deepcopy(config)
    cfg.monitoring.noise = 0.0
    cfg.trust.conflict_rate = 0.0
    return cfg


def _series(loop, weeks: int, n_groups: int) -> dict:
    """Run ``weeks`` weeks; per-week totals, per-group transferred, seconds per week."""
    totals, trust_means, seconds = [], [], []
    per_group = np.zeros(n_groups)
    for _ in range(weeks):
        t0 = time.perf_counter()
        loop.step()
        seconds.append(time.perf_counter() - t0)
        if isinstance(loop, PerAgentModel):
            transferred, trust = loop.transferred(), loop.trust()
        else:
            transferred, trust = loop.result.transferred, loop.model.partnerships.trust
        totals.append(float(transferred.sum()))
        trust_means.append(float(trust.mean()) if trust.size else 0.0)
        per_group += transferred
    return {"transferred": totals, "mean_trust": trust_means, "per_group": per_group,
            "seconds": seconds}


def compare_exact(config: SimConfig, weeks: int = 8, seed: int = 0) -> dict:
    """Both implementations with the random parts off: their results must agree to rounding."""
    cfg = exact_config(config)
    snap = start_state(cfg, seed)
    m = snap.restore()
    vec = VectorisedLoop(m, snap.served, snap.intake, seed)
    ref = PerAgentModel(m, snap.served, snap.intake, cfg, seed)
    worst = {"transferred": 0.0, "inbound": 0.0, "delayed": 0.0, "trust": 0.0}
    for _ in range(weeks):
        vec.step()
        ref.step()
        pairs = {"transferred": (vec.result.transferred, ref.transferred()),
                 "inbound": (vec.result.inbound, ref.inbound()),
                 "delayed": (m.delayed, ref.delayed()),
                 "trust": (m.partnerships.trust, ref.trust())}
        for name, (v, a) in pairs.items():
            scale = max(float(np.abs(v).max()) if v.size else 0.0, 1.0)
            diff = float(np.abs(v - a).max()) / scale if v.size else 0.0
            worst[name] = max(worst[name], diff)
    return {"weeks": weeks, "max_relative_difference": worst,
            "agree": all(d < 1e-9 for d in worst.values())}


def _welch(x: list[float], y: list[float]) -> tuple[float, float, float]:
    """Relative difference of means, its standard error (relative) and the z score."""
    mx, my = statistics.fmean(x), statistics.fmean(y)
    se = math.sqrt(statistics.variance(x) / len(x) + statistics.variance(y) / len(y)) \
        if len(x) > 1 and len(y) > 1 else 0.0
    ref = max(abs(mx), 1e-12)
    z = (my - mx) / se if se > 0 else (0.0 if my == mx else math.inf)
    return (my - mx) / ref, se / ref, z


def compare_statistical(config: SimConfig, weeks: int = 12, replicates: int = 8,
                        seed: int = 0, rel_tol: float = 0.01, z_max: float = 4.0) -> dict:
    """Both implementations with their random parts on, over replicates from one start.

    Sameness: for the week-by-week total handed over and mean trust (each averaged over
    the weeks of a replicate), the two means over replicates differ by less than
    ``rel_tol`` relatively or by less than ``z_max`` standard errors; and the mean
    handed over per route group correlates above 0.99 between the two.

    Returns the figures, the timings (seconds per week of each implementation, median
    over all weeks) and ``agree``.
    """
    snap = start_state(config, seed)
    n_groups = len(snap.model.routes.sender)
    runs: dict[str, list[dict]] = {"vectorised": [], "per_agent": []}
    rationed: list[float] = []  # share of receivers asked for more than their intake
    for rep in range(replicates):
        m = snap.restore()
        runs["vectorised"].append(_series(VectorisedLoop(m, snap.served, snap.intake,
                                                         10_000 + rep), weeks, n_groups))
        m = snap.restore()
        ref = PerAgentModel(m, snap.served, snap.intake, config, 20_000 + rep)
        runs["per_agent"].append(_series(ref, weeks, n_groups))
        rationed.append(statistics.fmean(p.rationed for p in ref.providers))
    snap.restore()
    rationed_share = statistics.fmean(rationed)

    out: dict = {"system": config.system.name, "scale": config.system.scale,
                 "providers": snap.model.n_providers, "route_groups": n_groups,
                 "adhoc_pairs": int(len(snap.model.routes.pair_group)),
                 "partnerships": int(len(snap.model.partnerships)), "weeks": weeks,
                 "replicates": replicates}
    checks = {}
    for measure in ("transferred", "mean_trust"):
        v = [statistics.fmean(r[measure]) for r in runs["vectorised"]]
        a = [statistics.fmean(r[measure]) for r in runs["per_agent"]]
        rel, rel_se, z = _welch(v, a)
        checks[measure] = {"vectorised": statistics.fmean(v), "per_agent": statistics.fmean(a),
                           "relative_difference": rel, "relative_se": rel_se, "z": z,
                           "ok": abs(rel) < rel_tol or abs(z) < z_max}
    gv = np.mean([r["per_group"] for r in runs["vectorised"]], axis=0)
    ga = np.mean([r["per_group"] for r in runs["per_agent"]], axis=0)
    corr = float(np.corrcoef(gv, ga)[0, 1]) if gv.std() > 0 and ga.std() > 0 else 1.0
    checks["per_group_correlation"] = {"value": corr, "ok": corr > 0.99}
    out["checks"] = checks
    out["agree"] = all(c["ok"] for c in checks.values())
    out["intake_binding_share"] = rationed_share
    vec_s = [s for r in runs["vectorised"] for s in r["seconds"]]
    ref_s = [s for r in runs["per_agent"] for s in r["seconds"]]
    out["seconds_per_week"] = {"vectorised": statistics.median(vec_s),
                               "per_agent": statistics.median(ref_s)}
    out["speedup"] = out["seconds_per_week"]["per_agent"] / out["seconds_per_week"]["vectorised"]
    return out
