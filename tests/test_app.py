"""The teaching app without a browser: controls from the schema, when changes apply,
presets, charts, the Info panel, and the Solara components rendered headless."""

from __future__ import annotations

import json
import math

import pytest

import sim
from sim.app import charts, controls, info, presets
from sim.app.session import DEFAULTS, ClassroomModel, Session
from sim.config import ConfigError, parameter
from sim.loading import options

#: The status-quo burn-in the app starts with (the schema default), in weeks.
BURN_IN = sim.SimConfig().time.burn_in_weeks

SHORT = {"time.burn_in_weeks": 6, "time.policy_weeks": 8}  # small runs for tests


# --------------------------------------------------------------------------- controls
def test_every_control_comes_from_the_schema_with_its_declared_role_range_and_help():
    declared = {p.key: p for p in sim.parameters()}
    offered = controls.controls()
    assert [c.key for c in offered[:2]] == ["system", "regime"]
    for c in offered[2:]:
        p = declared[c.key]
        assert c.role == p.role in ("lever", "uncertainty")
        assert p.meaning in c.help and p.unit in c.help and p.evidence in c.help
        if c.widget == "slider":
            low, high = p.plausible
            assert c.low == min(low, p.default) and c.high == max(high, p.default)
            assert c.low <= p.default <= c.high
            assert c.whole == (p.type == "int")
        else:
            assert c.choices == tuple(p.choices)
    levers = {c.key for c in offered if c.role == "lever"}
    assert {"leadership.realism", "workforce.labour_supply",
            "monitoring.target_maturity"} <= levers
    assert {"context.initial_trust", "context.culture_spread"} <= {
        c.key for c in offered if c.role == "uncertainty"}


def test_group_controls_offer_the_option_files_with_their_header_comments():
    regime = controls.group_control("regime")
    assert regime.choices == tuple(options("regime"))
    assert "Partners assigned within ICS boundaries" in regime.help  # mandated.yaml's comment
    system = controls.group_control("system")
    assert "csv" not in system.choices and "teaching" in system.choices


def test_an_offered_key_missing_from_the_schema_or_with_another_role_fails_clearly(monkeypatch):
    monkeypatch.setattr(controls, "LEVER_KEYS", ("leadership.enthusiasm", "trust.nonsense"))
    with pytest.raises(ConfigError, match="'trust.nonsense', which is not a parameter"):
        controls.controls()
    monkeypatch.setattr(controls, "LEVER_KEYS", ("context.initial_trust",))
    with pytest.raises(ConfigError, match="as a lever, but the schema declares it a uncertainty"):
        controls.controls()


@pytest.mark.parametrize("span, step", [(1.0, 0.01), (0.1, 0.001), (0.06, 0.001),
                                        (0.04, 0.0005), (4.0, 0.05), (250.0, 5.0)])
def test_nice_step_gives_about_a_hundred_round_positions(span, step):
    assert controls.nice_step(span) == pytest.approx(step)
    assert 40 <= span / controls.nice_step(span) <= 100


def test_labels_and_coercion():
    assert controls.label("regime.reporting_fte") == "Reporting FTE"
    assert controls.label("context.initial_trust") == "Initial trust"
    slider = controls.parameter_control(parameter("partnerships.assigned_per_kind"))
    assert slider.whole and slider.coerce(2.0) == 2 and isinstance(slider.coerce(2.0), int)


# --------------------------------------------------------------------------- applying
def _twins(settings: dict, weeks: int) -> tuple[ClassroomModel, ClassroomModel]:
    a = ClassroomModel(Session({**SHORT, **settings}))
    b = ClassroomModel(Session({**SHORT, **settings}))
    for _ in range(weeks):
        a.step()
        b.step()
    return a, b


@pytest.mark.parametrize("key, value, column", [
    ("workforce.labour_supply", 0.0, "vacancy_rate"),
    ("paperwork.fte_per_partnership", 0.5, "admin_burden"),
    ("regime.reporting_fte", 1.0, "admin_burden"),
    ("monitoring.target_maturity", 1.0, "admin_burden"),  # building data costs staff time
])
def test_a_live_key_changes_the_running_model_from_the_next_week(key, value, column):
    assert controls.applies(key) == "now"
    a, b = _twins({}, 8)  # past the switch (week 2): reporting and maturity act after it
    session = Session({**SHORT})
    new = session.change(key, value)
    assert controls.apply_live(a, new, [key]) == [key]
    assert controls.value_of(a.config, key) == value
    for _ in range(3):
        a.step()
        b.step()
    ra = a.datacollector.get_model_vars_dataframe()[column].iloc[-1]
    rb = b.datacollector.get_model_vars_dataframe()[column].iloc[-1]
    assert ra != pytest.approx(rb)


def test_a_reset_key_leaves_the_running_model_alone_and_waits_for_reset():
    a, _ = _twins({}, 2)
    session = a.session
    new = session.change("context.initial_trust", 0.3)
    assert controls.apply_live(a, new, ["context.initial_trust"]) == []
    assert a.config.context.initial_trust == pytest.approx(0.45)
    assert ClassroomModel(session).config.context.initial_trust == pytest.approx(0.3)


def test_a_regime_chosen_during_the_burn_in_takes_over_at_the_switch_and_not_after_it():
    before, after = _twins({}, 2)  # burn-in: week -4
    new = before.session.change("regime", "mandated")
    assert controls.apply_live(before, new, ["regime"]) == ["regime"]
    before.run(6)
    assert before.switched and before.regime.name == "mandated"
    assert before.partnerships.mandated.any()
    after.run(8)  # past the switch: a new regime waits for Reset
    new = after.session.change("regime", "mandated")
    assert controls.apply_live(after, new, ["regime"]) == []
    assert after.regime.name == "local"


def test_session_rejects_a_bad_value_naming_it_and_keeps_its_settings():
    session = Session()
    with pytest.raises(ConfigError, match="context.initial_trust"):
        session.change("context.initial_trust", 1.5)
    assert session.settings == DEFAULTS
    with pytest.raises(ConfigError, match="regime"):
        Session({"regime": "anarchy"})


def test_choosing_a_regime_drops_earlier_regime_values():
    session = Session({"regime.contracts": "none"})
    assert session.config().regime.contracts == "none"
    config = session.change("regime", "mandated")
    assert "regime.contracts" not in session.settings
    assert config.regime.contracts == "required"  # mandated.yaml's own value


def test_classroom_model_stops_at_the_end_of_the_horizon():
    model = ClassroomModel(Session(SHORT))
    weeks = 0
    while model.running:
        model.step()
        weeks += 1
        assert weeks <= 20
    assert weeks == 6 + 8 and model.week == 8


# --------------------------------------------------------------------------- presets
def test_at_least_five_things_to_try_each_valid_with_a_question_and_what_to_look_for():
    assert len(presets.PRESETS) >= 5
    default = sim.to_dict(Session().config())
    changing = 0
    for p in presets.PRESETS:
        assert p.question.endswith(("?", ".")) and len(p.look_for) > 60
        config = Session(p.settings).config()  # valid
        changing += sim.to_dict(config) != default
        if p.compare:
            other = presets.preset(p.compare)
            if other.compare == p.key:  # a pair: the same keys, other values
                assert set(other.settings) == set(p.settings) and other.settings != p.settings
    assert changing >= 5
    with pytest.raises(KeyError, match="mandate_on_working"):
        presets.preset("nope")


def test_the_issue_s_four_examples_are_among_the_things_to_try():
    keys = {p.key for p in presets.PRESETS}
    assert {"mandate_on_working", "denial_in_shortage", "double_paperwork",
            "low_trust_no_contracts", "low_trust_contracts"} <= keys
    paper = Session(presets.preset("double_paperwork").settings).config()
    assert paper.paperwork.fte_per_partnership == pytest.approx(
        2 * sim.SimConfig().paperwork.fte_per_partnership)


# --------------------------------------------------------------------------- charts
@pytest.fixture(scope="module")
def running() -> ClassroomModel:
    model = ClassroomModel(Session({"time.burn_in_weeks": 20}))
    model.run(30)  # ten weeks past the switch
    return model


def test_the_map_draws_every_provider_and_partnership_with_its_trust(running):
    template = charts.map_template(running, show_adhoc=True)
    spec = charts.map_spec(running, template)
    data = {name: json.loads(text) for name, text in spec["datasets"].items()
            if isinstance(text, str)}
    assert len(data["providers"]) == running.n_providers
    assert len(data["partnerships"]) == len(running.partnerships) > 0
    assert all(0.0 <= row["trust"] <= 1.0 for row in data["partnerships"])
    assert {row["contract"] for row in data["partnerships"]} <= set(charts.CONTRACTS)
    assert len(data["adhoc"]) > 0
    first = data["providers"][0]
    assert {"kind", "staff_fte", "vacancies_fte", "workload", "partners"} <= set(first)
    assert spec["title"] == f"Week {running.week}"
    json.dumps(spec, allow_nan=False)
    no_adhoc = charts.map_spec(running, charts.map_template(running))
    assert "adhoc" not in no_adhoc["datasets"]


def test_a_large_system_draws_an_even_fixed_sample(running):
    shown = charts.sample_providers(running, limit=10)
    assert len(shown) == 10 and shown[0] == 0 and shown[-1] == running.n_providers - 1
    rows = charts.partnership_records(running, shown)
    drawn = set(shown.tolist())
    ps = running.partnerships
    expected = sum(int(a in drawn and b in drawn) for a, b in zip(ps.a, ps.b, strict=True))
    assert len(rows) == expected


def test_the_plots_send_undefined_weeks_as_gaps_and_mark_the_switch(running):
    running.datacollector.model_vars["mean_trust"][3] = math.nan  # an undefined week
    spec = charts.outcome_spec(running, charts.outcome_template(running))
    text = json.dumps(spec, allow_nan=False)  # NaN would not be valid JSON
    weekly = json.loads(spec["datasets"]["weekly"])
    assert len(weekly) == 30 and weekly[0]["week"] == -20 and weekly[3]["mean_trust"] is None
    assert set(charts.PLOTTED) <= set(weekly[0])
    assert '"week": 0' in text  # the switch marker's datum
    assert len(spec["concat"]) == len(charts.PLOTTED)
    assert spec["concat"][0]["title"]["text"] == "Care coordination (share 0-1)"


def test_the_app_benchmark_measures_each_part_of_a_week():
    """No timing bar here (the benchmark reports it); only that each part is measured."""
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks.app_step import measure, report

    result = measure("teaching", weeks=3, start=2)
    assert set(result["parts"]) == {"step", "map", "plots", "json", "total"}
    assert all(t["median_ms"] > 0 for t in result["parts"].values())
    assert result["page"]["total"]["median_ms"] >= result["parts"]["step"]["median_ms"] * 0.5
    assert "Solara re-render" in report(result)


# --------------------------------------------------------------------------- info
def test_info_panel_has_the_netlogo_sections_and_names_every_thing_to_try():
    text = info.info_markdown()
    for heading in ("What is it?", "How it works", "How to use it", "Things to notice"):
        assert f"### {heading}" in text
    for key in ("[M23]", "[A21]", "[S93]", "[FJ01]"):
        assert key in text
    tries = info.things_to_try_markdown()
    assert all(p.title in tries for p in presets.PRESETS)


# --------------------------------------------------------------------------- serving
def test_offline_assets_point_major_versions_at_shipped_ones(tmp_path):
    from sim.app.serve import offline_assets

    for name in ("vega@5.2.0", "vega@5.21.0", "vega-lite@5.2.0", "vega-embed@6.20.2"):
        (tmp_path / name / "build").mkdir(parents=True)
    assert offline_assets(tmp_path) == ["vega@5", "vega-lite@5", "vega-embed@6"]
    assert (tmp_path / "vega@5").resolve().name == "vega@5.21.0"  # newest of the major
    assert offline_assets(tmp_path) == []  # already there
    empty = tmp_path / "empty"
    empty.mkdir()
    assert offline_assets(empty) == []


# --------------------------------------------------------------------------- components
@pytest.fixture
def page_kit():
    """A session, a reactive model and the imports of the headless component tests."""
    solara = pytest.importorskip("solara")
    from sim.app import page

    session = Session(SHORT)
    model = solara.reactive(ClassroomModel(session))
    revision = solara.reactive(0)
    return solara, page, session, model, revision


def _by_class(rc, widget_class, name):
    """Widgets of ``widget_class`` that carry CSS class ``name``."""
    return [w for w in rc.find(widget_class).widgets if name in (w.class_ or "").split()]


def _slider(rc, label):
    import ipyvuetify as v

    return rc.find(v.Slider, label=label).widget


def test_settings_panel_applies_a_live_lever_now_and_lists_a_reset_one_as_pending(page_kit):
    solara, page, session, model, revision = page_kit
    import ipyvuetify as v

    _, rc = solara.render(page.SettingsPanel(model, session, revision), handle_error=False)
    _slider(rc, "Labour supply").v_model = 0.6
    assert model.value.config.workforce.labour_supply == pytest.approx(0.6)
    assert rc.find(v.Html, children=["Labour supply = 0.6: applies now."]).widgets
    _slider(rc, "Initial trust").v_model = 0.3
    assert session.settings["context.initial_trust"] == pytest.approx(0.3)
    assert model.value.config.context.initial_trust == pytest.approx(0.45)
    assert "Waiting for Reset: Initial trust" in str(rc.find(v.Alert).widget.children)
    _slider(rc, "Initial trust").v_model = 0.45  # back to the running value: nothing pending
    assert not rc.find(v.Alert).widgets


def test_settings_panel_shows_a_refused_value_and_keeps_the_old_one(page_kit):
    solara, page, session, model, revision = page_kit
    import ipyvuetify as v

    _, rc = solara.render(page.SettingsPanel(model, session, revision), handle_error=False)
    # contracts 'required' with formality 0 is contradictory (the schema's cross-check)
    session.settings["regime.contract_formality"] = 0.0
    rc.find(v.Select, label="Contracts").widget.v_model = "required"
    assert "regime.contracts" not in session.settings
    [message] = _by_class(rc, v.Html, "settings-message")
    assert str(message.children[0]).startswith("Not applied: regime.contracts='required'")


def test_a_thing_to_try_resets_the_model_with_its_settings(page_kit):
    solara, page, session, model, revision = page_kit
    import ipyvuetify as v

    applied = []

    def apply(p):
        applied.append(p.key)
        session.replace(p.settings)

    _, rc = solara.render(page.ThingsToTry(apply), handle_error=False)
    rc.find(v.Btn, children=["Withdraw support for collaboration"]).widget \
        .click()
    assert applied == ["no_support"] and session.settings["regime"] == "none"


def test_mesa_reset_rebuilds_the_model_from_the_session_settings(page_kit):
    solara, page, session, model, revision = page_kit
    import ipyvuetify as v
    from mesa.visualization.solara_viz import ModelController

    model.value.step()
    _, rc = solara.render(ModelController(
        model, model_parameters={"session": session}, play_interval=solara.reactive(50),
        render_interval=solara.reactive(1), use_threads=solara.reactive(False)),
        handle_error=False)
    session.change("context.initial_trust", 0.3)
    old = model.value
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert model.value is not old and isinstance(model.value, ClassroomModel)
    assert model.value.config.context.initial_trust == pytest.approx(0.3)
    assert model.value.week == -6
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.week == -5


def test_the_page_renders_the_map_plots_settings_and_info_and_a_thing_to_try_resets(page_kit):
    solara, page, *_ = page_kit
    import ipyvuetify as v
    from solara.widgets import VegaLite

    _, rc = solara.render(page.Page(), handle_error=False)

    def map_spec():
        specs = [w.spec for w in rc.find(VegaLite).widgets]
        assert len(specs) == 2  # the map and the plots
        return next(s for s in specs if "layer" in s)

    def phase():
        [text] = _by_class(rc, v.Html, "phase")
        return str(text.children[0])

    assert map_spec()["title"] == f"Week {-BURN_IN}" and "status quo" in phase()
    assert "the local regime takes over" in phase()
    [info_card] = _by_class(rc, v.Card, "info-panel")
    assert "What is it?" in repr(info_card)
    assert {"System", "Regime", "Contracts"} <= {w.label for w in rc.find(v.Select).widgets}
    assert len(rc.find(v.Slider).widgets) == len(page.CONTROLS) - 3
    rc.find(v.Btn, children=["Withdraw support for collaboration"]).widget.click()
    assert "the none regime takes over" in phase()
    assert map_spec()["title"] == f"Week {-BURN_IN}"
