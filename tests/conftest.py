"""Shared helpers for the model's tests: short scenarios on the small teaching system.

Every model test runs the ~40-provider teaching system over short horizons, so that
the whole suite (determinism, invariants, directions, baseline) stays within a few
minutes on a laptop. Configs are built from nested dicts with
:func:`sim.config.from_dict` (no Hydra), except where Hydra itself is under test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.config import SimConfig, from_dict

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

#: A short scenario: the teaching system, one year of burn-in, two years of policy.
SHORT: dict = {"system": {"name": "teaching"}, "time": {"burn_in_weeks": 52, "policy_weeks": 104}}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the model's kernels once, before any test process needs them.

    The first run after a change compiles the Numba kernels (``sim.jit``: about 20 s of
    CPU) and caches them on disk; every later process loads them in a fraction of a
    second. Done here, in the process that starts pytest (before xdist starts its
    workers), so that the workers and the many processes the tests start find them
    cached rather than compiling them all at once.
    """
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller did it
        return
    import sim

    for regime in ("hybrid", "mandated"):  # local and assigned partners, reviews, exits
        sim.run(from_dict(merge(SHORT, {"time": {"burn_in_weeks": 8, "policy_weeks": 60},
                                        "regime": group_file("regime", regime)})))


def merge(base: dict, overrides: dict) -> dict:
    """Nested dicts: ``overrides`` on top of ``base`` (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def group_options(group: str) -> list[str]:
    """Names of the YAML files in ``configs/<group>/`` (the options Hydra can choose)."""
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


def group_file(group: str, option: str) -> dict:
    """The keys one option file sets, as a plain dict (``???`` left as is)."""
    node = OmegaConf.load(CONFIGS / group / f"{option}.yaml")
    return OmegaConf.to_container(node, resolve=False)


@pytest.fixture(scope="session")
def make_config() -> Callable[..., SimConfig]:
    """Factory: ``make_config({"context": {"initial_trust": 0.7}}, seed=3)``.

    Overrides go on top of :data:`SHORT`; ``regime="mandated"`` applies a preset from
    ``configs/regime/`` first, as ``regime=mandated`` would on the command line.
    """

    def make(overrides: dict | None = None, *, regime: str | None = None,
             seed: int = 0) -> SimConfig:
        data = merge(SHORT, {"seed": seed})
        if regime is not None:
            data = merge(data, {"regime": group_file("regime", regime)})
        return from_dict(merge(data, overrides or {}))

    return make
