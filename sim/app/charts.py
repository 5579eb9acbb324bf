"""The map and the outcome plots: Vega-Lite specs built with Altair, refilled every week.

Altair builds and validates each chart once per model (:func:`map_template`,
:func:`outcome_template`), with its data as named datasets; every week only the
datasets are refilled from the model's arrays (:func:`map_spec`, :func:`outcome_spec`),
each as one JSON text. Building and validating an Altair chart takes a few hundred
milliseconds, refilling its data a few, which is what keeps a week of the teaching
system, redraw included, well below 100 ms (``benchmarks/app_step.py``).

Units: positions in km, staff in FTE, trust and formality 0-1, workload as workload /
capacity; the plots take each outcome's unit and meaning from the registry
(:func:`sim.outcome`). An undefined week (NaN, e.g. mean trust when no partnership
exists) is sent as null, which Vega-Lite draws as a gap in the line.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np

from sim.kinds import KIND_NAMES
from sim.outcomes import outcome

if TYPE_CHECKING:
    from sim.model import CollaborationModel

#: The outcomes plotted live, in the order shown (names from the outcome registry).
PLOTTED: tuple[str, ...] = ("care_coordination", "delayed_handoffs", "vacancy_rate",
                            "mean_trust", "mean_belief", "admin_burden")
#: Above this many providers the map draws a fixed sample (the plots cover all of them):
#: the map's data travel to the browser every week, and beyond about a thousand circles
#: and their lines the browser no longer keeps up with play.
MAP_MAX_PROVIDERS = 1000
#: Colours of the provider kinds (from the colour-blind-aware Tableau 10), in Kind order.
KIND_COLOURS: tuple[str, ...] = ("#e15759", "#b07aa1", "#59a14f", "#4e79a7", "#f28e2b",
                                 "#9c755f")
#: How a partnership is drawn: dashed if informal, solid with a contract, dash-dot if
#: assigned by an authority.
CONTRACTS: tuple[str, ...] = ("informal", "contract", "mandated")
DASHES: tuple[list[int], ...] = ([4, 3], [1, 0], [8, 2, 2, 2])

Spec = dict[str, Any]


def _named(name: str) -> alt.NamedData:
    """A dataset refilled every week, sent as one JSON text rather than a list of dicts:
    Solara walks every value of a widget's arguments on each render, so thousands of
    small dicts cost tens of milliseconds a week where one string costs nothing."""
    return alt.NamedData(name, format=alt.JsonDataFormat(type="json"))


def _json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, separators=(",", ":"), allow_nan=False)


# --------------------------------------------------------------------------- data
def sample_providers(model: CollaborationModel, limit: int = MAP_MAX_PROVIDERS) -> np.ndarray:
    """Indices of the providers the map draws: all, or an evenly spread fixed sample.

    The sample is every k-th provider in index order (providers are built area by
    area), so each area keeps its share and the same providers are drawn every week.
    """
    n = model.n_providers
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def _records(columns: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as dicts from equal-length columns (lists or arrays); NaN becomes None."""
    names = list(columns)
    cols = []
    for values in columns.values():
        values = values.tolist() if isinstance(values, np.ndarray) else list(values)
        cols.append([None if isinstance(v, float) and not math.isfinite(v) else v
                     for v in values])
    return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]


def provider_records(model: CollaborationModel, shown: np.ndarray) -> list[dict[str, Any]]:
    """One row per drawn provider: position (km), kind, staff and vacancies (FTE), vacancy
    rate, workload (workload / capacity last week), staff faith and partners."""
    st, ps = model.state, model.partnerships
    kind_names = np.asarray(KIND_NAMES)[st.kind]
    drawn = np.zeros(model.n_providers, dtype=bool)
    drawn[shown] = True
    partners: dict[int, list[str]] = {int(i): [] for i in shown}
    for a, b in zip(ps.a.tolist(), ps.b.tolist(), strict=True):
        if drawn[a]:
            partners[a].append(f"{kind_names[b]} #{b}")
        if drawn[b]:
            partners[b].append(f"{kind_names[a]} #{a}")
    staff, funded = st.staff[shown], st.funded[shown]
    return _records({
        "id": shown,
        "x_km": st.xy[shown, 0].round(2), "y_km": st.xy[shown, 1].round(2),
        "kind": kind_names[shown],
        "staff_fte": staff.round(1),
        "vacancies_fte": (funded - staff).round(1),
        "vacancy_rate": (1.0 - staff / funded).round(3),
        "workload": st.pressure[shown].round(2),
        "faith": st.faith[shown].round(2),
        "n_partners": model.degree[shown],
        "partners": [", ".join(partners[i]) or "none" for i in shown.tolist()],
    })


def _drawn_mask(model: CollaborationModel, shown: np.ndarray) -> np.ndarray:
    drawn = np.zeros(model.n_providers, dtype=bool)
    drawn[shown] = True
    return drawn


def partnership_records(model: CollaborationModel, shown: np.ndarray
                        ) -> list[dict[str, Any]]:
    """One row per partnership between drawn providers: both ends (km), the mean trust of
    its two directions, formality (0-1) and contract (``informal``/``contract``/``mandated``)."""
    st, ps = model.state, model.partnerships
    drawn = _drawn_mask(model, shown)
    keep = drawn[ps.a] & drawn[ps.b]
    a, b = ps.a[keep], ps.b[keep]
    formality = ps.formality[keep]
    contract = np.where(ps.mandated[keep], "mandated",
                        np.where(formality > 0.0, "contract", "informal"))
    return _records({
        "x": st.xy[a, 0].round(2), "y": st.xy[a, 1].round(2),
        "x2": st.xy[b, 0].round(2), "y2": st.xy[b, 1].round(2),
        "trust": ps.trust[keep].mean(axis=1).round(3),
        "formality": formality.round(2),
        "contract": contract,
        "between": [f"#{i} - #{j}" for i, j in zip(a.tolist(), b.tolist(), strict=True)],
    })


def adhoc_records(model: CollaborationModel, shown: np.ndarray) -> list[dict[str, Any]]:
    """The ad hoc handoff routes between drawn providers that are not partners: from a
    sender to each nearby receiver it hands patients to without a relationship."""
    st, r, ps = model.state, model.routes, model.partnerships
    sender, receiver = r.sender[r.pair_group], r.pair_receiver
    drawn = _drawn_mask(model, shown)
    keep = drawn[sender] & drawn[receiver]
    if len(ps):
        keep &= ~ps.exists(sender, receiver)
    s, t = sender[keep], receiver[keep]
    return _records({"x": st.xy[s, 0].round(2), "y": st.xy[s, 1].round(2),
                     "x2": st.xy[t, 0].round(2), "y2": st.xy[t, 1].round(2)})


def weekly_records(model: CollaborationModel, names: tuple[str, ...] = PLOTTED
                   ) -> list[dict[str, Any]]:
    """One row per recorded week: ``week`` and each outcome in ``names`` (None if undefined)."""
    collected = model.datacollector.model_vars
    columns = {"week": collected.get("week", [])}
    columns.update({name: collected.get(name, []) for name in names})
    return _records(columns)


# --------------------------------------------------------------------------- map
def map_title(model: CollaborationModel, shown: np.ndarray) -> str:
    """``Week 12`` (and how many providers are drawn, when only a sample is)."""
    title = f"Week {model.week}"
    if len(shown) < model.n_providers:
        title += f" (showing {len(shown):,} of {model.n_providers:,} providers)"
    return title


def map_template(model: CollaborationModel, show_adhoc: bool = False, width: int = 560,
                 height: int = 480) -> Spec:
    """The map's Vega-Lite spec without data: providers coloured by kind and sized by staff,
    partnerships as lines coloured by trust (red low, green high) and dashed by contract.

    Built once per model (the scales' km ranges are the model's); refill it with
    :func:`map_spec` every week.

    Args:
        model: the model whose providers are drawn.
        show_adhoc: also draw the ad hoc handoff routes (thin grey lines).
        width, height: size of the plotting area in pixels.
    """
    xy = model.state.xy
    pad = 2.0  # km around the providers, so that circles at the edge are whole
    x_scale = alt.Scale(domain=[float(xy[:, 0].min() - pad), float(xy[:, 0].max() + pad)],
                        zero=False, nice=False)
    y_scale = alt.Scale(domain=[float(xy[:, 1].min() - pad), float(xy[:, 1].max() + pad)],
                        zero=False, nice=False)
    layers = []
    if show_adhoc:
        layers.append(alt.Chart(_named("adhoc")).mark_rule(
            color="#8a8a8a", opacity=0.5, strokeWidth=0.8).encode(
            x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale),
            x2="x2:Q", y2="y2:Q"))
    layers.append(alt.Chart(_named("partnerships")).mark_rule(
        strokeWidth=2.4, opacity=0.85).encode(
        x=alt.X("x:Q", scale=x_scale, title="km east"),
        y=alt.Y("y:Q", scale=y_scale, title="km north"),
        x2="x2:Q", y2="y2:Q",
        color=alt.Color("trust:Q", title="trust (0-1)",
                        scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen")),
        strokeDash=alt.StrokeDash("contract:N", title="partnership",
                                  scale=alt.Scale(domain=list(CONTRACTS),
                                                  range=[list(d) for d in DASHES])),
        tooltip=[alt.Tooltip("between:N", title="partners"),
                 alt.Tooltip("trust:Q", title="trust (0-1)"),
                 alt.Tooltip("contract:N"), alt.Tooltip("formality:Q", title="formality")]))
    layers.append(alt.Chart(_named("providers")).mark_circle(
        opacity=0.9, stroke="white", strokeWidth=0.8).encode(
        x=alt.X("x_km:Q", scale=x_scale), y=alt.Y("y_km:Q", scale=y_scale),
        color=alt.Color("kind:N", title="provider",
                        scale=alt.Scale(domain=list(KIND_NAMES), range=list(KIND_COLOURS))),
        size=alt.Size("staff_fte:Q", title="staff (FTE)",
                      scale=alt.Scale(type="sqrt", range=[20, 900])),
        tooltip=[alt.Tooltip("id:Q", title="provider #"), alt.Tooltip("kind:N"),
                 alt.Tooltip("staff_fte:Q", title="staff in post (FTE)"),
                 alt.Tooltip("vacancies_fte:Q", title="vacancies (FTE)"),
                 alt.Tooltip("vacancy_rate:Q", title="vacancy rate", format=".1%"),
                 alt.Tooltip("workload:Q", title="workload / capacity"),
                 alt.Tooltip("faith:Q", title="staff faith (0-1)"),
                 alt.Tooltip("n_partners:Q", title="partners"),
                 alt.Tooltip("partners:N", title="partnered with")]))
    chart = alt.layer(*layers).properties(width=width, height=height, title="Week")
    return chart.resolve_scale(color="independent").to_dict()


def map_spec(model: CollaborationModel, template: Spec) -> Spec:
    """The map of this week: ``template`` (from :func:`map_template`) with today's data."""
    shown = sample_providers(model)
    datasets = {"providers": _json(provider_records(model, shown)),
                "partnerships": _json(partnership_records(model, shown))}
    if any(layer.get("data", {}).get("name") == "adhoc" for layer in template["layer"]):
        datasets["adhoc"] = _json(adhoc_records(model, shown))
    return {**template, "title": map_title(model, shown),
            "datasets": {**template.get("datasets", {}), **datasets}}


# --------------------------------------------------------------------------- plots
def outcome_title(name: str) -> str:
    """``Care coordination (share 0-1)``: the name in words, with its registry unit."""
    words = name.replace("_", " ")
    return f"{words[:1].upper()}{words[1:]} ({outcome(name).unit})"


def outcome_template(model: CollaborationModel, names: tuple[str, ...] = PLOTTED,
                     columns: int = 2, width: int = 250, height: int = 110) -> Spec:
    """Small multiples of the outcomes against weeks (the whole run's range), each on its
    own scale, with the regime switch (week 0) marked. Refill with :func:`outcome_spec`.

    Args:
        model: the model (its burn-in and policy weeks set the week axis).
        names: outcome names from the registry.
        columns: panels per row.
        width, height: size of each panel in pixels.
    """
    start, end = -model.config.time.burn_in_weeks, model.config.time.policy_weeks
    x_scale = alt.Scale(domain=[start, end], nice=False)
    switch = alt.InlineData(values=[{"week": 0, "label": "regime switch"}])
    panels = []
    for name in names:
        line = alt.Chart(_named("weekly")).mark_line(
            strokeWidth=2, color="#1f5fa8", clip=True).encode(
            x=alt.X("week:Q", scale=x_scale, title="week (0 = regime switch)"),
            y=alt.Y(f"{name}:Q", title=None, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("week:Q"), alt.Tooltip(f"{name}:Q", format=".3g")])
        rule = alt.Chart(switch).mark_rule(color="#555555", strokeDash=[5, 3]).encode(
            x=alt.X("week:Q", scale=x_scale), tooltip=[alt.Tooltip("label:N", title="week 0")])
        panels.append(alt.layer(rule, line).properties(
            width=width, height=height,
            title=alt.TitleParams(outcome_title(name), subtitle=_wrap(outcome(name).meaning, 52),
                                  fontSize=13, subtitleFontSize=10, anchor="start")))
    return alt.concat(*panels, columns=columns).to_dict()


def outcome_spec(model: CollaborationModel, template: Spec,
                 names: tuple[str, ...] = PLOTTED) -> Spec:
    """The plots of this week: ``template`` (:func:`outcome_template`) with the weeks so far."""
    return {**template, "datasets": {**template.get("datasets", {}),
                                     "weekly": _json(weekly_records(model, names))}}


def _wrap(text: str, width: int) -> list[str]:
    """Text as at most two lines of about ``width`` characters (a chart subtitle)."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines if len(lines) <= 2 else [lines[0], lines[1] + " ..."]
