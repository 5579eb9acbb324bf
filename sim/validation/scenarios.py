"""The validation's scenarios: the base overrides, then a setting's changes, then a pattern's.

Every scenario is composed by :func:`sim.load_config` from override strings, so presets
(``regime=mandated``, ``leadership=enthusiastic_realist``, ``monitoring=invest``) come
from ``configs/`` exactly as on the command line, and every mistake is a
:class:`sim.ConfigError`. Changes are layered: the user's base overrides, then a
robustness setting's, then the pattern's own; a later layer wins a key, and a preset
chosen by a later layer owns its whole section (earlier keys inside that section are
dropped), so that a pattern that sets something keeps its own value.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.config import CONFIG_GROUPS, SimConfig
from sim.loading import load_config


@dataclass(frozen=True)
class PresetValue:
    """A value read from a preset of ``configs/``, e.g. the shortage preset's labour supply.

    Lets a pattern say "the labour supply of ``workforce=shortage``" without copying 0.6.
    """

    group: str
    option: str
    key: str  # dotted key inside the group's section, e.g. "labour_supply"

    def resolve(self) -> Any:
        section = getattr(_load((f"{self.group}={self.option}",)), self.group)
        for part in self.key.split("."):
            section = getattr(section, part)
        return section


def override_key(override: str) -> str:
    """The dotted key of a Hydra override string (``+a.b=1`` -> ``a.b``; ``~a`` -> ``a``)."""
    return override.split("=", 1)[0].lstrip("+~")


def format_value(value: Any) -> str:
    """A Python value as Hydra override syntax (``True`` -> ``true``, ``None`` -> ``null``)."""
    if isinstance(value, PresetValue):
        value = value.resolve()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # NumPy scalars
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _is_preset(key: str, value: Any) -> bool:
    return key in CONFIG_GROUPS and isinstance(value, str)


def compose(base: Sequence[str], *layers: Mapping[str, Any]) -> list[str]:
    """Override strings for ``base`` overrides with ``layers`` of dotted-key changes on top.

    Args:
        base: Hydra override strings (``["system=teaching", "time.policy_weeks=60"]``).
        layers: mappings of dotted keys to values, applied in order; a config group's key
            (``"regime": "mandated"``) selects a preset.
    """
    merged: dict[str, str] = {override_key(o): o for o in base}
    for layer in layers:
        # presets first: a preset chosen here drops what earlier layers set in its section
        ordered = sorted(layer.items(), key=lambda kv: not _is_preset(*kv))
        for key, value in ordered:
            if _is_preset(key, value):
                for old in [k for k in merged if k.startswith(key + ".")]:
                    del merged[old]
            merged.pop(key, None)
            merged[key] = f"{key}={format_value(value)}"
    return list(merged.values())


@functools.lru_cache(maxsize=512)
def _load(overrides: tuple[str, ...]) -> SimConfig:
    return load_config(list(overrides))


def build(base: Sequence[str], *layers: Mapping[str, Any], replicate: int | None = None
          ) -> SimConfig:
    """The validated scenario for ``base`` and ``layers`` (see :func:`compose`).

    Composed configs are cached (a pattern's scenarios recur across replicates and
    settings); each call returns its own copy, so a caller's change cannot leak.
    """
    config = copy.deepcopy(_load(tuple(compose(base, *layers))))
    if replicate is not None:
        config = dataclasses.replace(config, replicate=int(replicate))
    return config
