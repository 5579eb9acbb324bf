"""One browser session's choices, and the model SolaraViz builds (and rebuilds) from them.

SolaraViz's Reset re-creates the model as ``type(model)(**model_params)``; the page
passes the session as the one model parameter, so Reset builds
:class:`ClassroomModel` from whatever the session's settings are at that moment
(after sliders moved or a thing to try was applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.app import controls
from sim.config import SimConfig
from sim.loading import load_config
from sim.model import CollaborationModel

#: What a session starts from: the teaching system (one small area, ~40 providers),
#: the locally led regime, seed 0. Every other value is the schema's default.
DEFAULTS: dict[str, Any] = {"system": "teaching", "regime": "local", "seed": 0}


class Session:
    """The settings one browser session has chosen (config groups and dotted keys).

    Settings are what :func:`sim.load_config` takes as a mapping, so a setting means
    exactly what it means on the command line (``regime=mandated``,
    ``context.initial_trust=0.3``).
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = {**DEFAULTS, **(settings or {})}
        self.config()  # fail now, naming the key, if a setting is not allowed

    def config(self) -> SimConfig:
        """The validated scenario of the current settings.

        Raises:
            ConfigError: a setting is unknown or out of range (the message names it).
        """
        return load_config(self.settings)

    def change(self, key: str, value: Any) -> SimConfig:
        """Set one setting (validated); choosing a regime drops earlier regime.* changes.

        Returns:
            The new scenario.

        Raises:
            ConfigError: the new value is not allowed; the settings are left unchanged.
        """
        new = dict(self.settings)
        if key in controls.GROUPS:  # a new option brings its own values of that section
            new = {k: v for k, v in new.items() if not k.startswith(key + ".")}
        new[key] = value
        config = load_config(new)
        self.settings = new
        return config

    def replace(self, settings: Mapping[str, Any]) -> SimConfig:
        """Start again from the defaults plus ``settings`` (a thing to try)."""
        new = {**DEFAULTS, **settings}
        config = load_config(new)
        self.settings = new
        return config


class ClassroomModel(CollaborationModel):
    """The model of a session: built from its settings, stopping at the end of the horizon.

    Args:
        session: the browser session whose settings to build from (a new default
            session if None).
    """

    def __init__(self, session: Session | None = None) -> None:
        session = session if session is not None else Session()
        super().__init__(session.config())
        self.session = session
        #: the settings this model was built from (the page shows what Reset would change)
        self.built_from: dict[str, Any] = dict(session.settings)

    @property
    def horizon(self) -> int:
        """Last week of the run (weeks after the switch); SolaraViz stops playing there."""
        return self.config.time.policy_weeks

    def step(self) -> None:
        """Advance one week; stop (``running = False``) at the end of the policy period."""
        super().step()
        if self.week >= self.horizon:
            self.running = False
