"""What a validation run does: the base scenario, replicates, workers, patterns, output.

The harness's own settings, apart from the scenario schema (:class:`sim.SimConfig` holds
the scenario only). ``collabsim-validate`` fills them from its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """A validation run.

    Attributes:
        overrides: Hydra-style overrides of the base scenario (``"system=teaching"``,
            ``"time.policy_weeks=156"``), passed to :func:`sim.load_config`.
        replicates: paired replicates per pattern at the base scenario (>= 2: an interval
            needs two).
        robustness_replicates: paired replicates per robustness setting (0 skips them).
        decomposition_replicates: paired replicates per cell of the regime decomposition
            (the 2^k factorial over the levers that separate the mandated and locally led
            regimes; 0 skips it). It runs with every pattern set, not only the default one.
        workers: parallel processes (>= 1).
        patterns: pattern keys to run (empty: all).
        out: folder the report is written into.
    """

    overrides: tuple[str, ...] = ()
    replicates: int = 20
    robustness_replicates: int = 10
    decomposition_replicates: int = 10
    workers: int = 2
    patterns: tuple[str, ...] = ()
    out: Path = field(default=Path("docs/validation"))

    def __post_init__(self) -> None:
        from sim.config import ConfigError

        for name, low in (("replicates", 2), ("robustness_replicates", 0),
                          ("decomposition_replicates", 0), ("workers", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ConfigError(f"{name}={value!r} is not allowed; an integer >= {low}")
        if self.decomposition_replicates == 1:
            raise ConfigError("decomposition_replicates=1 is not allowed; 0 (skip) or an "
                              "integer >= 2 (an interval needs two)")
        if isinstance(self.overrides, str) or isinstance(self.patterns, str):
            raise ConfigError("overrides and patterns are sequences of strings, not one "
                              "string")
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "patterns", tuple(self.patterns))
        object.__setattr__(self, "out", Path(self.out))

    def command(self) -> str:
        """The ``collabsim-validate`` command line that reproduces these settings."""
        default = Settings()
        words = ["uv run collabsim-validate"]
        for name in ("replicates", "robustness_replicates", "decomposition_replicates",
                     "workers"):
            if getattr(self, name) != getattr(default, name):
                words.append(f"--{name.replace('_', '-')} {getattr(self, name)}")
        if self.patterns:
            words.append("--patterns " + " ".join(self.patterns))
        if self.out != default.out:
            words.append(f"--out {self.out}")
        return " ".join([*words, *self.overrides])
