"""The teaching page: Mesa's SolaraViz shell with the map, the plots, the settings and Info.

SolaraViz provides the app bar, the play / step / reset buttons, the speed sliders
(play and render interval) and the redraw after every step (Mesa's
``update_counter``). It rebuilds the model on Reset as ``ClassroomModel(session=...)``,
so Reset picks up the session's current settings.

The main area is laid out here rather than in SolaraViz's draggable grid, whose cells
have a fixed size (half the width, about 390 px high): the map, six plots and the
Info text need more room on a laptop and stay readable on a projector when they flow
in responsive columns. The settings are this module's own panel (under the map)
rather than SolaraViz's ``model_params`` sliders, because a thing to try must be
able to move the sliders, and each slider shows its unit, help text and when a change
takes effect; the sliders themselves are derived from the schema
(:mod:`sim.app.controls`).

Run with ``collabsim-app`` (or ``solara run sim.app.page``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import markdown
import solara
import solara.widgets
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.app import charts, controls, info
from sim.app.presets import PRESETS, Preset
from sim.app.session import ClassroomModel, Session
from sim.config import ConfigError

#: Solara's Vega-Lite widget, which ``solara.FigureAltair`` wraps; given a ready spec, so
#: that Altair builds and validates a chart once per model, not every week (charts.py).
VegaLite = solara.widgets.VegaLite.element

TITLE = "collabsim: collaboration between health and care providers"
HELP_STYLE = {"font-size": "0.78rem", "line-height": "1.2", "color": "#555",
              "margin": "-4px 0 10px 0"}
#: Controls, built once from the schema (they do not change while the server runs).
CONTROLS: list[controls.Control] = controls.controls()


def phase_text(model: ClassroomModel) -> str:
    """Where the run is: ``Week -50 of the status quo burn-in`` / ``Week 12 under mandated``."""
    if model.week < 0:
        return (f"Week {model.week}: status quo (burn-in); the {model.config.regime.name} "
                "regime takes over at week 0")
    end = " (end of the run: Reset to start again)" if not model.running else ""
    return f"Week {model.week} of {model.horizon}: {model.regime.name} regime{end}"


def pending_changes(model: ClassroomModel, session: Session) -> list[str]:
    """Labels of the controls whose setting differs from what the running model uses."""
    try:
        wanted = session.config()
    except ConfigError:
        return []
    return [c.label for c in CONTROLS
            if controls.value_of(wanted, c.key) != controls.value_of(model.config, c.key)]


@solara.component
def Prose(text: str, classes: list[str] | None = None):
    """Markdown rendered to HTML on the server (``solara.Markdown`` would fetch KaTeX from a
    CDN for maths we do not use, which fails without internet)."""
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text), classes=classes or [])


@solara.component
def ControlWidget(control: controls.Control, value: Any, on_value: Callable[[Any], None]):
    """One setting: its widget, then its help text and when a change applies."""
    with solara.Column(gap="0px", classes=[f"control-{control.key.replace('.', '-')}"]):
        if control.widget == "slider":
            slider = solara.SliderInt if control.whole else solara.SliderFloat
            slider(control.label, value=value, min=control.low, max=control.high,
                   step=control.step, on_value=on_value, thumb_label="always")
        elif control.widget == "select":
            solara.Select(control.label, value=value, values=list(control.choices),
                          on_value=on_value)
        else:
            solara.Checkbox(label=control.label, value=value, on_value=on_value)
        solara.Text(f"{control.help} ({controls.APPLIES_TEXT[control.applies]}.)",
                    style=HELP_STYLE)


@solara.component
def SettingsPanel(model: solara.Reactive[ClassroomModel], session: Session,
                  revision: solara.Reactive[int]):
    """The regime, system, levers and key uncertainties, with what a change did."""
    message = solara.use_reactive("")
    _ = revision.value  # re-render after any change of the session
    current = session.config()

    def change(control: controls.Control, raw: Any) -> None:
        value = control.coerce(raw)
        try:
            config = session.change(control.key, value)
        except ConfigError as err:
            message.value = f"Not applied: {err}"
            revision.value += 1
            return
        applied = controls.apply_live(model.value, config, [control.key])
        when = "now" if applied else "on Reset"
        message.value = f"{control.label} = {value}: applies {when}."
        revision.value += 1
        if applied:
            force_update()  # redraw what shows the running model (e.g. the coming regime)

    pending = pending_changes(model.value, session)
    with solara.Card("Settings"):
        if message.value:
            solara.Text(message.value, style={"font-size": "0.85rem", "font-weight": "bold"},
                        classes=["settings-message"])
        if pending:
            solara.Warning("Waiting for Reset: " + ", ".join(pending), dense=True,
                           classes=["pending-changes"])
        for title, role in (("Regime and system", "group"), ("Levers (policy choices)", "lever"),
                            ("Uncertainties (what the world is like)", "uncertainty")):
            Prose(f"**{title}**")
            for control in CONTROLS:
                if control.role == role:
                    ControlWidget(control, controls.value_of(current, control.key),
                                  lambda raw, c=control: change(c, raw))


@solara.component
def MapView(model: ClassroomModel, show_adhoc: solara.Reactive[bool]):
    """The providers and partnerships on the map, redrawn every step."""
    update_counter.get()
    template = solara.use_memo(lambda: charts.map_template(model, show_adhoc.value),
                               [model, show_adhoc.value])
    solara.Text(phase_text(model), classes=["phase"],
                style={"font-size": "1.1rem", "font-weight": "bold"})
    solara.Checkbox(label="Show ad hoc routes (handoffs without a partnership)",
                    value=show_adhoc)
    VegaLite(spec=charts.map_spec(model, template))


@solara.component
def OutcomePlots(model: ClassroomModel):
    """The live outcome plots, redrawn every step."""
    update_counter.get()
    template = solara.use_memo(lambda: charts.outcome_template(model), [model])
    VegaLite(spec=charts.outcome_spec(model, template))


@solara.component
def ThingsToTry(apply: Callable[[Preset], None]):
    """One button per thing to try, with its question and what to look for."""
    with solara.Card("Things to try", classes=["things-to-try"]):
        solara.Text("Each button sets the values, resets the model and keeps the seed; "
                    "then press ▶.", style=HELP_STYLE)
        for p in PRESETS:
            with solara.Column(gap="2px", style={"margin-bottom": "12px"}):
                solara.Button(p.title, on_click=lambda p=p: apply(p), color="primary",
                              outlined=True, classes=[f"preset-{p.key}"])
                Prose(f"*{p.question}* **Look for:** {p.look_for}")


@solara.component
def InfoPanel():
    """What the model is, how it works, how to use it, things to notice."""
    with solara.Card("Info", classes=["info-panel"]):
        Prose(info.info_markdown())


@solara.component
def Page():
    """The whole page, one per browser session (each session has its own model)."""
    session = solara.use_memo(Session, [])
    initial = solara.use_memo(lambda: ClassroomModel(session), [])
    model = solara.use_reactive(initial)
    revision = solara.use_reactive(0)
    show_adhoc = solara.use_reactive(False)

    def apply(preset: Preset) -> None:
        session.replace(preset.settings)
        model.value = ClassroomModel(session)
        revision.value += 1

    # SolaraViz: app bar, play/step/reset and speed in the sidebar, redraw after each step;
    # on Reset it rebuilds ClassroomModel(session=session) from the current settings
    SolaraViz(model, components=[], model_params={"session": session}, name=TITLE)
    # Fixed-size panels in wrapping rows: side by side on a projector, stacked on a laptop.
    wrap = {"flex-wrap": "wrap", "align-items": "flex-start"}
    with solara.Row(style=wrap, gap="24px"):
        with solara.Column(gap="4px"):
            MapView(model.value, show_adhoc)
        with solara.Column(gap="4px", style={"padding-top": "12px"}):
            OutcomePlots(model.value)
    panel = {"flex": "1 1 400px", "min-width": "360px", "max-width": "760px"}
    with solara.Row(style=wrap, gap="12px"):
        with solara.Column(style=panel):
            SettingsPanel(model, session, revision)
        with solara.Column(style=panel):
            ThingsToTry(apply)
        with solara.Column(style=panel):
            InfoPanel()
