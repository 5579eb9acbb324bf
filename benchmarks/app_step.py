"""How long one week of the teaching app takes: the step and the redraw (issue 13: well
under 100 ms for the teaching system).

Two measurements, both medians and 95th percentiles over ``weeks`` weeks after a
burn-in of ``start`` weeks (so partnerships exist):

- **parts**: ``model.step()``, then the map and plot specs refilled
  (``charts.map_spec`` / ``charts.outcome_spec``) and serialised to JSON, which is
  what the page sends to the browser every week;
- **page**: ``model.step()`` and Mesa's ``force_update()`` with the page's map and
  plot components rendered headless by Solara, i.e. the whole server side of a week
  of play (component re-render, widget updates, messages to the browser).

The browser then draws the two charts (Vega, in the browser's own time); the
end-to-end test (tests/test_app_browser.py) shows it keeps up at SolaraViz's
default 100 ms per week.

Usage::

    uv run python -m benchmarks.app_step               # teaching system, 100 weeks
    uv run python -m benchmarks.app_step --system ics --weeks 30
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def _summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000.0 for v in values)
    return {"median_ms": statistics.median(ms), "p95_ms": ms[int(0.95 * (len(ms) - 1))]}


def measure(system: str = "teaching", weeks: int = 100, start: int = 110,
            adhoc: bool = True) -> dict:
    """Time ``weeks`` weeks of the app on ``system`` after ``start`` untimed weeks.

    Returns:
        ``{"system", "providers", "partnerships", "parts": {step, map, plots, json,
        total}, "page": {total}}``, each timing a dict of median and 95th percentile
        in milliseconds.
    """
    import solara
    from mesa.visualization.utils import force_update

    from sim.app import charts, page
    from sim.app.session import ClassroomModel, Session

    model = ClassroomModel(Session({"system": system}))
    model.run(start)
    map_t = charts.map_template(model, show_adhoc=adhoc)
    plot_t = charts.outcome_template(model)
    parts: dict[str, list[float]] = {k: [] for k in ("step", "map", "plots", "json", "total")}
    for _ in range(weeks):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        map_spec = charts.map_spec(model, map_t)
        t2 = time.perf_counter()
        plot_spec = charts.outcome_spec(model, plot_t)
        t3 = time.perf_counter()
        json.dumps(map_spec)
        json.dumps(plot_spec)
        t4 = time.perf_counter()
        for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0),
                              strict=True):
            parts[key].append(value)

    # the same weeks through Solara: the page's components re-render after each step
    reactive = solara.reactive(model)
    show_adhoc = solara.reactive(adhoc)

    @solara.component
    def Charts():
        page.MapView(reactive.value, show_adhoc)
        page.OutcomePlots(reactive.value)

    solara.render(Charts(), handle_error=False)
    whole = []
    for _ in range(weeks):
        t0 = time.perf_counter()
        reactive.value.step()
        force_update()
        whole.append(time.perf_counter() - t0)
    return {"system": system, "providers": model.n_providers,
            "partnerships": len(model.partnerships),
            "parts": {k: _summary(v) for k, v in parts.items()},
            "page": {"total": _summary(whole)},
            "load": os.getloadavg()[0]}


def report(result: dict) -> str:
    """The measurement as a markdown table."""
    lines = [f"One week of the teaching app, system {result['system']} "
             f"({result['providers']} providers, {result['partnerships']} partnerships; "
             f"load average {result['load']:.1f})", "",
             "| part | median ms | 95th percentile ms |", "|---|---|---|"]
    names = {"step": "model.step()", "map": "map data refilled", "plots": "plot data refilled",
             "json": "both specs serialised", "total": "step + redraw data (sum)"}
    for key, label in names.items():
        t = result["parts"][key]
        lines.append(f"| {label} | {t['median_ms']:.1f} | {t['p95_ms']:.1f} |")
    t = result["page"]["total"]
    lines.append(f"| step + Solara re-render of map and plots | {t['median_ms']:.1f} | "
                 f"{t['p95_ms']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_step",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", default="teaching")
    parser.add_argument("--weeks", type=int, default=100, help="timed weeks (default 100)")
    parser.add_argument("--start", type=int, default=110,
                        help="untimed weeks first (default 110: past the regime switch)")
    args = parser.parse_args(argv)
    result = measure(args.system, args.weeks, args.start)
    print(report(result))
    return result


if __name__ == "__main__":
    main()
