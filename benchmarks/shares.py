"""Where a step's time goes: timing wrappers around the functions the model calls.

Every mechanism function the weekly step calls through a module attribute
(``sim.model.handoffs.route_handoffs``, ``sim.model.flows.weekly_demand``, ...; not
those a compiled week stands for, ``sim.replaced.stood_for``: wrapping one would time
the week's plain-Python twin instead), the regime functions imported into
``sim.model`` (``form_partnerships``, ...), the model's own helper methods
(``_route``, ``_partnership_week``), the partnership table's methods and
``model.datacollector.collect`` are replaced by wrappers that
time them. Time is counted *exclusively*: a wrapper that calls another wrapped
function (``_route`` calls ``route_handoffs``) is charged only for its own part.
What the step spends outside every wrapped function (array glue in
``CollaborationModel.step``) is reported as "other".

Use only in a throw-away process (the benchmark harness runs it in a subprocess):
the patches are not undone.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import defaultdict
from collections.abc import Callable

#: Mechanism group of each wrapped name (prefix match on the label), in the report's order.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("the providers' week (demand, service, handoffs due, workforce, paperwork, faith)",
     ("provider_week.",)),
    ("demand and service (flows)", ("flows.",)),
    ("handoffs (routing)", ("handoffs.route_handoffs", "handoffs.observed_intake",
                            "model._route")),
    ("culture similarity and distance", ("handoffs.similarity", "handoffs.distance_km")),
    ("mutual aid", ("aid.",)),
    ("partnership week (improvement, trust, confidence, culture)",
     ("relations.", "model._partnership_week")),
    ("paperwork", ("paperwork.", "model._maturity_target")),
    ("faith (belief)", ("belief.",)),
    ("forming and ending partnerships (regimes)",
     ("regimes.", "partnerships.")),
    ("data collection", ("outcomes.", "datacollector.collect")),
)
DATA_COLLECTION = "data collection"
OTHER = "other (glue in CollaborationModel.step)"


class Timer:
    """Exclusive (self) time and call counts per label."""

    def __init__(self) -> None:
        self.self_seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []  # time spent in wrapped children of each open call

    def wrap(self, label: str, fn: Callable) -> Callable:
        stack, self_seconds, calls = self._stack, self.self_seconds, self.calls

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            stack.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                children = stack.pop()
                self_seconds[label] += spent - children
                calls[label] += 1
                if stack:
                    stack[-1] += spent

        timed.__wrapped_by_benchmark__ = True
        return timed


def instrument(timer: Timer) -> None:
    """Patch the names ``sim.model`` uses so that ``timer`` sees every call."""
    import sim.model as model_module
    from sim import partnerships
    from sim.replaced import stood_for

    compiled = stood_for()  # wrapping these would send the week down its Python twin
    for alias in ("aid", "belief", "flows", "handoffs", "paperwork", "provider_week",
                  "relations", "outcomes"):
        module = getattr(model_module, alias)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if (fn.__module__ == module.__name__ and not name.startswith("_")
                    and f"{module.__name__}.{name}" not in compiled):
                setattr(module, name, timer.wrap(f"{alias}.{name}", fn))
    for name in ("form_partnerships", "end_partnerships", "switch_regime"):
        setattr(model_module, name, timer.wrap(f"regimes.{name}", getattr(model_module, name)))
    cls = model_module.CollaborationModel
    for name in ("_route", "_partnership_week", "_maturity_target"):
        setattr(cls, name, timer.wrap(f"model.{name}", getattr(cls, name)))
    for name in ("add", "remove", "degree", "directed", "exists"):
        setattr(partnerships.Partnerships, name,
                timer.wrap(f"partnerships.{name}", getattr(partnerships.Partnerships, name)))


def group_of(label: str) -> str:
    for group, prefixes in GROUPS:
        if label.startswith(prefixes):
            return group
    return OTHER


def measure(config, weeks: int | None = None) -> dict:
    """Run ``config`` with every mechanism timed; shares of the summed step time.

    Returns ``step_seconds`` (sum over weeks), ``groups`` (seconds and share of each
    mechanism group, "other" included) and ``functions`` (self seconds, calls, share).
    """
    from sim.model import CollaborationModel

    timer = Timer()
    instrument(timer)
    model = CollaborationModel(config)
    model.datacollector.collect = timer.wrap("datacollector.collect", model.datacollector.collect)
    timer.self_seconds.clear()  # only the weekly steps count, not the set-up
    timer.calls.clear()
    total = weeks if weeks is not None else (config.time.burn_in_weeks
                                             + config.time.policy_weeks)
    step_seconds = 0.0
    for _ in range(total):
        start = time.perf_counter()
        model.step()
        step_seconds += time.perf_counter() - start
    groups: dict[str, float] = defaultdict(float)
    for label, seconds in timer.self_seconds.items():
        groups[group_of(label)] += seconds
    groups[OTHER] += step_seconds - sum(timer.self_seconds.values())
    order = [g for g, _ in GROUPS] + [OTHER]
    return {
        "weeks": total,
        "providers": model.n_providers,
        "step_seconds": step_seconds,
        "groups": [{"group": g, "seconds": groups[g], "share": groups[g] / step_seconds}
                   for g in order],
        "functions": sorted(({"function": label, "seconds": s, "calls": timer.calls[label],
                              "share": s / step_seconds}
                             for label, s in timer.self_seconds.items()),
                            key=lambda row: -row["seconds"]),
        "data_collection_share": groups[DATA_COLLECTION] / step_seconds,
    }
