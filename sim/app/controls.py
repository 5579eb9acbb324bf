"""The page's controls, derived from the parameter schema, and when a change takes effect.

The app chooses *which* keys to offer (a few levers and key uncertainties, by key);
everything else about a slider comes from the schema (:func:`sim.parameters`): its
range (the declared plausible range, else the allowed one), whether it is whole,
its unit, its help text and its evidence. Config groups (``system``, ``regime``)
are offered as choices among their option files, with the file's own header
comment as help. Nothing about a parameter is declared here a second time.

When a change reaches a running model depends on when the model reads the key
(:data:`LIVE`, :data:`AT_SWITCH`); every other key sets up the providers and takes
effect on Reset. The page says which, control by control.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sim.config import ConfigError, SimConfig, config_dir, parameters
from sim.loading import options

if TYPE_CHECKING:
    from sim.model import CollaborationModel
    from sim.paramspec import Parameter

#: Config groups offered as a choice (systems: all built-in ones; ``csv`` needs a file).
GROUPS: tuple[str, ...] = ("system", "regime")
#: Systems a class can pick (``csv`` needs a path, so it is left to the command line).
SYSTEMS_EXCLUDED = frozenset({"csv"})

#: The levers the page offers, in the order shown (policy choices).
LEVER_KEYS: tuple[str, ...] = (
    "regime.contracts",
    "regime.reporting_fte",
    "leadership.enthusiasm",
    "leadership.realism",
    "monitoring.target_maturity",
    "workforce.labour_supply",
)
#: The key uncertainties the page offers (what the world is like).
UNCERTAINTY_KEYS: tuple[str, ...] = (
    "context.initial_trust",
    "context.culture_spread",
    "paperwork.fte_per_partnership",
    "context.demand_growth",
)

#: Keys the weekly step reads from ``model.config`` every week (sim/model.py: recruitment,
#: the maturity target, the paperwork of each partnership, the regime's reporting), so a
#: change written into the running model's config applies from the next week.
LIVE = frozenset({
    "workforce.labour_supply",
    "monitoring.target_maturity",
    "paperwork.fte_per_partnership",
    "regime.reporting_fte",
})
#: Keys read once, when the regime takes over at week 0 (``switch_regime``): a change
#: made during the burn-in applies at the switch; after it, on Reset.
AT_SWITCH = frozenset({"regime", "regime.contracts"})

Applies = Literal["now", "switch", "reset"]
#: What the page says for each way a change applies.
APPLIES_TEXT: dict[str, str] = {
    "now": "applies from the next week",
    "switch": "applies at the regime switch (week 0) if changed before it; after it, on Reset",
    "reset": "applies on Reset (it sets up the providers)",
}


@dataclass(frozen=True)
class Control:
    """One control of the page: a slider, a choice or a switch for one key.

    Attributes:
        key: dotted parameter key (``"context.initial_trust"``) or a config group
            (``"regime"``).
        label: short label shown next to the control.
        widget: ``"slider"``, ``"select"`` or ``"checkbox"``.
        help: what it means, in its unit, with its evidence (shown under the control).
        role: ``"lever"``, ``"uncertainty"`` or ``"group"``.
        applies: when a change reaches a running model (:data:`APPLIES_TEXT`).
        low, high, step: the slider's range and step (sliders only).
        whole: whether the slider takes whole numbers.
        choices: the options of a select.
        unit: the unit of the value (``"share 0-1"``, ...); "" for groups.
    """

    key: str
    label: str
    widget: str
    help: str
    role: str
    applies: Applies
    low: float | None = None
    high: float | None = None
    step: float | None = None
    whole: bool = False
    choices: tuple[str, ...] = ()
    unit: str = ""

    def coerce(self, value: Any) -> Any:
        """A value from the widget as the schema's type (sliders give floats)."""
        if self.widget == "slider":
            return int(round(value)) if self.whole else float(value)
        if self.widget == "checkbox":
            return bool(value)
        return str(value)


def applies(key: str) -> Applies:
    """When a change of ``key`` reaches a running model: ``now``, ``switch`` or ``reset``."""
    if key in LIVE:
        return "now"
    if key in AT_SWITCH:
        return "switch"
    return "reset"


def label(key: str) -> str:
    """A short label from the key's last part: ``regime.reporting_fte`` -> ``Reporting FTE``."""
    words = key.split(".")[-1].split("_")
    words = ["FTE" if w == "fte" else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def nice_step(span: float) -> float:
    """A round step giving about a hundred positions over ``span`` (1, 2 or 5 times 10^k)."""
    if span <= 0:
        return 0.01
    raw = span / 100.0
    exp = math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * 10**exp >= raw:
            return round(mult * 10**exp, 12)
    return 10 ** (exp + 1)  # pragma: no cover - the loop always returns


def parameter_control(p: Parameter) -> Control:
    """The control of one schema parameter: range, unit and help come from its declaration.

    Raises:
        ConfigError: the parameter has no numeric range or choices to offer.
    """
    help_text = f"{p.meaning} ({p.unit}). Evidence: {p.evidence}."
    common = dict(key=p.key, label=label(p.key), help=help_text, role=p.role,
                  applies=applies(p.key), unit=p.unit)
    if p.choices:
        return Control(widget="select", choices=tuple(p.choices), **common)
    if p.type == "bool":
        return Control(widget="checkbox", **common)
    if p.type in ("int", "float"):
        low, high = p.plausible if p.plausible is not None else (p.low, p.high)
        if low is None or high is None:
            raise ConfigError(f"{p.key} has no plausible or allowed range to make a slider "
                              f"(low={p.low}, high={p.high}, plausible={p.plausible})")
        # the default must be reachable: widen the range to include it
        low, high = min(low, p.default), max(high, p.default)
        whole = p.type == "int"
        step = 1 if whole else nice_step(high - low)
        return Control(widget="slider", low=low, high=high, step=step, whole=whole, **common)
    raise ConfigError(f"{p.key} of type {p.type!r} cannot be a control")


def group_control(group: str) -> Control:
    """A choice among a config group's option files, each described by its header comment."""
    names = [n for n in options(group) if not (group == "system" and n in SYSTEMS_EXCLUDED)]
    lines = [f"{n}: {option_description(group, n)}" for n in names]
    return Control(key=group, label=group.capitalize(), widget="select", role="group",
                   applies=applies(group), choices=tuple(names), help="; ".join(lines))


def option_description(group: str, name: str) -> str:
    """The header comment of ``configs/<group>/<name>.yaml`` (its one description), as a line."""
    text = (config_dir() / group / f"{name}.yaml").read_text(encoding="utf-8")
    comment = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("#").strip())
    return " ".join(comment) or name


def controls() -> list[Control]:
    """Every control of the page: the groups, then the levers, then the uncertainties.

    Raises:
        ConfigError: a chosen key is not a lever or uncertainty of the schema (so a
            renamed parameter fails here, not silently in the page).
    """
    declared = {p.key: p for p in parameters()}
    out = [group_control(g) for g in GROUPS]
    for keys, role in ((LEVER_KEYS, "lever"), (UNCERTAINTY_KEYS, "uncertainty")):
        for key in keys:
            p = declared.get(key)
            if p is None:
                raise ConfigError(f"the app offers {key!r}, which is not a parameter of the "
                                  "schema (see sim.parameters())")
            if p.role != role:
                raise ConfigError(f"the app offers {key!r} as a {role}, but the schema "
                                  f"declares it a {p.role}")
            out.append(parameter_control(p))
    return out


def value_of(config: SimConfig, key: str) -> Any:
    """The value of a dotted key (or a group's chosen option name) in ``config``."""
    if key == "system":
        return config.system.name
    if key == "regime":
        return config.regime.name
    obj: Any = config
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def apply_live(model: CollaborationModel, config: SimConfig,
               changed: Mapping[str, Any] | None = None) -> list[str]:
    """Write the keys that a running model can take now from ``config`` into ``model.config``.

    ``config`` is a validated scenario (the session's new settings). Keys in
    :data:`LIVE` are copied always; keys in :data:`AT_SWITCH` only before the regime
    switch (a new ``regime`` option replaces the whole pending regime). Only keys in
    ``changed`` are considered when it is given.

    Returns:
        The keys applied to the running model.
    """
    applied = []
    wanted = set(changed) if changed is not None else LIVE | AT_SWITCH
    for key in sorted(wanted):
        kind = applies(key)
        if kind == "reset" or (kind == "switch" and model.switched):
            continue
        if key == "regime":
            model.config.regime = config.regime
        else:
            section, field_name = key.split(".")
            setattr(getattr(model.config, section), field_name, value_of(config, key))
        applied.append(key)
    return applied
