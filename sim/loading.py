"""``load_config``: a scenario from overrides or a mapping; fast; every mistake a ConfigError.

Hydra composes ``configs/`` (the defaults, an experiment's values, the chosen option
of each config group) once per distinct (experiment, group choices); the composed
plain dict is cached. Value overrides are then applied to a copy of it with
:func:`sim.config.set_dotted` and built with :func:`sim.config.from_dict`, which
validates. So a program that varies values (a sensitivity analysis, a teaching
app's sliders) pays for Hydra once and then milliseconds per config.

Override strings are parsed with Hydra's own grammar (``OverridesParser``) and
converted to the field's type the way OmegaConf converts them on the command line
(``regime.maintain=yes`` is true, ``regime.name=7`` is the text "7"), so a string
means here what it means to ``collabsim`` (one exception: an integer for a flag,
``regime.may_exit=2``, is refused rather than read as true). A mapping's values are taken as they
are (NumPy scalars become Python scalars; ints pass as floats): no text parsing.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.config import (
    CONFIG_GROUPS,
    ConfigError,
    SimConfig,
    check_key,
    config_dir,
    from_dict,
    parameters,
    register_configs,
    sections,
    set_dotted,
)
from sim.inputs import check_number_text

#: Composed (experiment, group-level overrides) -> plain dict; never handed out uncopied.
_COMPOSED: dict[tuple[str | None, tuple[str, ...]], dict] = {}
_MISSING = "???"  # OmegaConf's mark of a mandatory value (configs/system/csv.yaml: path)


@dataclass(frozen=True)
class _Override:
    """One parsed override: ``op`` is "set", "add" (``+``), "force" (``++``) or "delete" (``~``)."""

    op: str
    key: str
    value: Any
    text: str  # as the user wrote it, for messages
    from_string: bool


# --------------------------------------------------------------------------- public
def load_config(overrides: Sequence[str] | Mapping[str, Any] | None = None,
                experiment: str | None = None) -> SimConfig:
    """A validated scenario from ``configs/`` plus overrides, as the command line builds it.

    Args:
        overrides: either Hydra override strings, e.g. ``["system=teaching",
            "context.initial_trust=0.3", "~trust.loss", "++seed=4"]``, or a mapping of
            dotted keys to values, e.g. ``{"system": "teaching", "regime": "mandated",
            "context.initial_trust": numpy.float64(0.3)}``. A key that names a config
            group (:data:`sim.config.CONFIG_GROUPS`) with a text value selects that
            option (``configs/<group>/<option>.yaml``); a mapping value merges into the
            section; other keys set values. ``experiment`` may be given as a key too.
            ``~key`` resets a value to the schema's default (``~group`` drops the
            group's option file); ``+key=v`` adds a key the config lacks (the schema
            has every key, so it fails unless the key is unknown); ``++key=v`` sets.
        experiment: name of a file in ``configs/experiment/`` to apply first; its sweep
            settings (``hydra.*``) are ignored.

    Returns:
        A new SimConfig; changing it never changes a later one.

    Raises:
        ConfigError: for every mistake (unknown key, group option or experiment, wrong
            type, value out of range, sweep syntax), naming the key, the value and
            what is allowed.
    """
    items = _from_mapping(overrides) if isinstance(overrides, Mapping) else \
        _from_strings(overrides)
    groups: list[str] = []
    values: list[_Override] = []
    for item in items:
        head = item.key.split(".")[0]
        if head == "hydra" or item.key.startswith("hydra/"):
            raise ConfigError(f"{item.text}: hydra settings apply to the collabsim command, "
                              "not to load_config (which builds one scenario)")
        if item.key == "experiment":
            if item.op not in ("set", "force") or not isinstance(item.value, str):
                raise ConfigError(f"{item.text}: give experiment=NAME, one of "
                                  f"{', '.join(options('experiment'))}")
            if experiment is not None and experiment != item.value:
                raise ConfigError(f"{item.text}: experiment={experiment!r} is given already")
            experiment = item.value
        elif item.key in CONFIG_GROUPS and not isinstance(item.value, Mapping):
            groups.append(_group_override(item))
        else:
            values.append(item)
    if experiment is not None:
        _check_option("experiment", experiment)
    data = _composed(experiment, tuple(groups))
    for item in values:
        _apply(data, item)
    _clear_missing(data)
    return from_dict(data)


def options(group: str) -> list[str]:
    """The option names of a config group (or ``"experiment"``): its YAML files, sorted."""
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


def clear_cache() -> None:
    """Forget composed configs (after editing files in ``configs/`` in a running session)."""
    _COMPOSED.clear()
    options_cached.cache_clear()


# --------------------------------------------------------------------------- parsing
def _scalar(value: Any) -> Any:
    """A NumPy scalar as the Python scalar it holds; other values unchanged."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return item()
    return value


def _plain(value: Any) -> Any:
    """NumPy scalars inside lists and mappings converted too."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _scalar(value)


def _from_mapping(overrides: Mapping[str, Any]) -> list[_Override]:
    out = []
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"override key {key!r} must be a dotted name such as "
                              "'context.initial_trust'")
        op, name = "set", key
        if key.startswith("~"):
            op, name = "delete", key[1:]
        elif key.startswith("++"):
            op, name = "force", key[2:]
        elif key.startswith("+"):
            op, name = "add", key[1:]
        out.append(_Override(op, name, _plain(value), f"{key}={value!r}", False))
    return out


def _from_strings(overrides: Sequence[str] | None) -> list[_Override]:
    if overrides is None:
        return []
    if isinstance(overrides, str):
        raise ConfigError(f"overrides={overrides!r}: give a list of override strings "
                          f"([{overrides!r}]) or a mapping, not one string")
    out = []
    for text in overrides:
        if not isinstance(text, str):
            raise ConfigError(f"override {text!r} must be a string such as 'key=value' "
                              "(or pass a mapping of keys to values)")
        op, key, value = _parse(text)
        out.append(_Override(op, key, copy.deepcopy(value), text, True))
    return out


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[str, str, Any]:
    """(op, key, value) of one override string, parsed by Hydra's grammar (cached)."""
    from hydra.core.override_parser.types import OverrideType
    from hydra.errors import HydraException

    try:
        (override,) = _parser().parse_overrides([text])
    except HydraException as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"cannot read the override {text!r}: {first}") from None
    if override.package is not None:
        raise ConfigError(f"{text}: package overrides (@) are not supported by load_config")
    if override.is_sweep_override():
        raise ConfigError(f"{text}: a sweep (several values) needs the collabsim command "
                          "with -m; load_config builds one scenario")
    check_number_text([text])  # 1_0 would be read as 10
    op = {OverrideType.CHANGE: "set", OverrideType.ADD: "add",
          OverrideType.FORCE_ADD: "force", OverrideType.DEL: "delete"}[override.type]
    value = override.value()
    if op == "delete" and "=" in text:
        raise ConfigError(f"{text}: write ~{override.key_or_group} without a value to reset "
                          "it to its default")
    if isinstance(value, str) and "${" in value:
        raise ConfigError(f"{text}: interpolations (${{...}}) are not supported by "
                          "load_config; give the value itself")
    return op, override.key_or_group, value


@functools.cache
def _parser() -> Any:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


# --------------------------------------------------------------------------- groups
@functools.cache
def options_cached(group: str) -> tuple[str, ...]:
    """:func:`options`, read once per session (the option files do not change)."""
    return tuple(options(group))


def _check_option(group: str, option: Any) -> None:
    choices = options_cached(group)
    if option not in choices:
        what = "an experiment" if group == "experiment" else f"an option of group {group}"
        where = f"configs/{group}/"
        raise ConfigError(f"{group}={option} is not {what}; choose one of "
                          f"{', '.join(choices)} (files in {where})")


def _group_override(item: _Override) -> str:
    """The Hydra override string that selects (or drops) a config group's option."""
    group = item.key
    if item.op == "delete":
        return f"~{group}"
    if item.op == "add":
        raise ConfigError(f"{item.text}: group {group} is in the defaults already; select "
                          f"an option with {group}=NAME")
    if not isinstance(item.value, str):
        raise ConfigError(f"{item.text}: group {group} takes an option name (one of "
                          f"{', '.join(options_cached(group))}) or a mapping of its keys")
    _check_option(group, item.value)
    return f"{group}={item.value}"


def _composed(experiment: str | None, groups: tuple[str, ...]) -> dict:
    """A private copy of the composed config for these choices (composing on first use)."""
    key = (experiment, groups)
    if key not in _COMPOSED:
        _COMPOSED[key] = _compose(experiment, list(groups))
    return _copy(_COMPOSED[key])


def _compose(experiment: str | None, groups: list[str]) -> dict:
    """Compose ``configs/`` with Hydra into a plain dict (without ``hydra``)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    overrides = ([f"experiment={experiment}"] if experiment else []) + groups
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
        data = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        # e.g. an experiment file that sets a key the schema lacks
        # Hydra's first lines say where and what ("Key 'task' not in 'SimConfig'"); the
        # indented ones repeat it for developers
        lines = [ln.strip() for ln in str(err).splitlines()
                 if ln.strip() and not ln.startswith((" ", "\t"))]
        what = " ".join(lines) or type(err).__name__
        where = f"experiment={experiment}: " if experiment else ""
        raise ConfigError(f"{where}configs/ do not compose with {overrides}: {what}") \
            from None
    finally:
        GlobalHydra.instance().clear()
    data.pop("hydra", None)
    return data


def _copy(data: Any) -> Any:
    """A deep copy of nested dicts and lists of scalars (much faster than copy.deepcopy)."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


# --------------------------------------------------------------------------- values
@functools.cache
def _declared() -> dict[str, Any]:
    """Dotted key -> :class:`sim.Parameter` of every leaf of the schema."""
    return {p.key: p for p in parameters()}


def _apply(data: dict, item: _Override) -> None:
    """Apply one value override to the composed dict ``data`` (in place)."""
    key = item.key
    check_key(key)  # unknown: say so, naming close matches
    if item.op == "add":  # Hydra's `+`: only for a key the config lacks, and it has them all
        raise ConfigError(f"{item.text}: {key} exists already; set it with {key}=... "
                          "(no '+')")
    if item.op == "delete":
        _delete(data, key)
        return
    value = item.value
    if isinstance(value, Mapping):
        if key not in sections():
            raise ConfigError(f"{item.text}: {key} is a single value, not a section; give "
                              "a value, not a mapping")
        for sub, v in value.items():
            _apply(data, _Override(item.op, f"{key}.{sub}", v, item.text, item.from_string))
        return
    if key in sections():
        raise ConfigError(f"{item.text}: {key} is a section; set its keys "
                          f"({key}.NAME=...) or give a mapping")
    if item.from_string:
        value = _as_on_the_command_line(key, value)
    set_dotted(data, key, value)


def _delete(data: dict, key: str) -> None:
    """Remove ``key`` from the composed dict so that the schema's default applies."""
    *parents, leaf = key.split(".")
    node = data
    for p in parents:
        node = node.get(p, {})
    node.pop(leaf, None)


def _as_on_the_command_line(key: str, value: Any) -> Any:
    """``value`` converted to the field's type as OmegaConf converts a command-line value.

    A value OmegaConf cannot convert is returned unchanged, so that :func:`from_dict`
    rejects it with the schema's message (``... must be a number``).
    """
    from omegaconf import BooleanNode, FloatNode, IntegerNode, StringNode
    from omegaconf.errors import ValidationError

    p = _declared()[key]
    node = {"float": FloatNode, "int": IntegerNode, "bool": BooleanNode,
            "str": StringNode}.get(p.type)
    if node is None or value is None or isinstance(value, list | dict):
        return value
    if p.type == "bool" and not isinstance(value, str):
        return value  # OmegaConf would read any integer as a bool (2 -> true): refuse it
    try:
        return node(value=value, is_optional=p.nullable)._value()
    except (ValidationError, ValueError, TypeError):
        return value


def _clear_missing(data: dict, prefix: str = "") -> None:
    """Turn values still marked ``???`` into None so that validation explains what is needed.

    ``configs/system/csv.yaml`` marks ``path`` mandatory; without ``system.path=FILE``
    the schema's check says what to give.
    """
    for k, v in data.items():
        if isinstance(v, dict):
            _clear_missing(v, f"{prefix}{k}.")
        elif v == _MISSING:
            data[k] = None
