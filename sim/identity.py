"""Run identity: a fingerprint of everything that produced a run.

A run is reusable only if it was made from the same scenario, the same provider file
and the same code as the job that wants it. :func:`fingerprint` hashes the three:

* ``scenario``: the fully resolved scenario (every key of ``sim.SimConfig``, seed and
  replicate included) as canonical JSON;
* ``inputs``: the *content* of the provider file a ``system=csv`` scenario reads (an
  in-place edit changes it; the path itself is part of the scenario);
* ``code``: the package's Python source and its ``configs/`` files (path and content of
  each), so it works without git and notices uncommitted edits, and any mechanism
  function replaced in memory (``sim.replaced``);

and ``run``, one digest of the three, which a sweep's plan records per job and a run's
``provenance.json`` records when it is written. :func:`stale_reason` says in words why
two fingerprints differ. The git commit is recorded beside it (``sim.results``), for
people; the comparison never relies on it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import sys
from pathlib import Path
from typing import Any

from sim.config import SimConfig, config_dir, to_dict
from sim.replaced import replaced_mechanisms

__all__ = ["PARTS", "code_fingerprint", "fingerprint", "input_fingerprint",
           "replaced_code", "scenario_fingerprint", "stale_reason"]

#: The parts of a fingerprint, in the order a difference is reported.
PARTS: tuple[str, ...] = ("code", "scenario", "inputs")
#: Why a run differs from its job, by the first part that differs.
_REASONS = {
    "code": "made by other code",
    "scenario": "made from another scenario",
    "inputs": "made from another version of the provider file",
}


def _digest(*chunks: bytes) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(len(chunk).to_bytes(8, "little"))  # length-prefixed: no ambiguous joins
        h.update(chunk)
    return h.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over the package's ``*.py`` files and the ``configs/`` YAML files.

    Computed once per process (about 100 files, a few milliseconds); relative paths are
    hashed with the contents, so a renamed or added module changes it too.
    """
    package = Path(__file__).resolve().parent
    files = [("sim", p) for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    configs = config_dir()
    files += [("configs", p) for p in configs.rglob("*.yaml")]
    chunks = []
    for root, path in sorted(files, key=lambda rp: (rp[0], rp[1].as_posix())):
        base = package if root == "sim" else configs
        chunks += [f"{root}/{path.relative_to(base).as_posix()}".encode(), path.read_bytes()]
    return _digest(*chunks)


def replaced_code(package_code: str) -> str:
    """``package_code`` (the package's fingerprint), or, when mechanism functions have
    been replaced in this process (:func:`sim.replaced.replaced_mechanisms`), a
    digest of it with each replacement's name and compiled code."""
    names = replaced_mechanisms()
    if not names:
        return package_code
    chunks = [package_code.encode()]
    for name in names:
        module, _, function = name.rpartition(".")
        code = getattr(getattr(sys.modules[module], function), "__code__", None)
        chunks += [name.encode(), marshal.dumps(code) if code is not None else b"?"]
    return _digest(*chunks)


def scenario_fingerprint(config: SimConfig) -> str:
    """SHA-256 of the resolved scenario as canonical JSON (sorted keys)."""
    text = json.dumps(to_dict(config), sort_keys=True, separators=(",", ":"), default=str)
    return _digest(text.encode())


def input_fingerprint(config: SimConfig) -> str | None:
    """SHA-256 of the provider file's content for ``system=csv``, else None.

    Raises:
        OSError: the file cannot be read (callers check inputs first).
    """
    path = config.system.path if config.system.name == "csv" else None
    if not path:
        return None
    return _digest(Path(path).read_bytes())


def fingerprint(config: SimConfig) -> dict[str, Any]:
    """``{"run", "code", "scenario", "inputs"}``: what a run of ``config`` is made from.

    The code part covers mechanism functions replaced in this process too
    (:func:`replaced_code`), so that such runs never pass for the package's.
    """
    parts: dict[str, Any] = {"code": replaced_code(code_fingerprint()),
                             "scenario": scenario_fingerprint(config),
                             "inputs": input_fingerprint(config)}
    parts["run"] = _digest(*(str(parts[p]).encode() for p in PARTS))
    return {"run": parts["run"], **{p: parts[p] for p in PARTS}}


def stale_reason(recorded: Any, expected: dict[str, Any] | str | None) -> str | None:
    """Why a run's recorded fingerprint is not the job's, in words; None when it is.

    Args:
        recorded: the ``fingerprint`` a run's provenance holds (a dict), or None for a
            run written before fingerprints were recorded.
        expected: the job's fingerprint (a dict, or just its ``run`` digest).
    """
    want = expected.get("run") if isinstance(expected, dict) else expected
    if want is None:
        return None
    if not isinstance(recorded, dict) or "run" not in recorded:
        return "made before collabsim recorded run fingerprints"
    if recorded["run"] == want:
        return None
    if isinstance(expected, dict):
        for part in PARTS:
            if recorded.get(part) != expected.get(part):
                return _REASONS[part]
    return "made from another scenario, provider file or code"
