"""What every run folder records, written without per-run waste: config.yaml exactly as
OmegaConf writes it, and the git state asked once per process."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

import sim
from sim import results
from sim.config import to_dict


@pytest.mark.parametrize("overrides", [[], ["system=ics", "regime=mandated"],
                                       ["regime=hybrid", "workforce=shortage"]])
def test_config_yaml_is_what_omegaconf_writes(overrides) -> None:
    data = to_dict(sim.load_config(overrides))
    assert results._to_yaml(data) == OmegaConf.to_yaml(OmegaConf.create(data))
    assert results.from_yaml(results._to_yaml(data)) == data


def test_config_yaml_quotes_text_as_omegaconf_does() -> None:
    data = {"a": "???", "b": "1.0", "c": "true", "d": "null", "e": "", "f": "${x}",
            "g": "a: b", "h": 1e-300, "i": float("nan"), "j": [], "k": {}, "l": "é",
            "m": "0x10", "n": 10**20}
    assert results._to_yaml(data) == OmegaConf.to_yaml(OmegaConf.create(data))


def test_config_yaml_of_what_yaml_cannot_represent_goes_through_omegaconf() -> None:
    data = {"a": (1, 2), "b": "${a}"}  # a tuple: OmegaConf writes it as a list
    assert results._to_yaml(data) == OmegaConf.to_yaml(OmegaConf.create(data))


def test_git_is_asked_once_per_folder(tmp_path, monkeypatch) -> None:
    calls = []

    def fake_git(where, *args):
        calls.append((where, args))
        return "abc123" if args[0] == "rev-parse" else " M sim/x.py"

    monkeypatch.setattr(results, "_git", fake_git)
    first = results.git_state(tmp_path)
    first["dirty"] = "changed by a caller"  # a copy: the remembered state stays
    assert results.git_state(tmp_path) == {"commit": "abc123", "dirty": True}
    assert len(calls) == 2  # rev-parse and status, once
    results.git_state(tmp_path / "other")
    assert len(calls) == 4
