"""The package's layers (pyproject.toml, [tool.importlinter]): imports go downward only.

``lint-imports`` checks the contracts on the real package; the other tests check that
the contracts have teeth (an upward import, a cycle, and analysis that runs a model
each break one, on a copy of the package) and that no module is left out of a layer.
"""

from __future__ import annotations

import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("lint-imports")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [
    sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                          "sys.exit(lint_imports_command())"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` on the package found first from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([*COMMAND, "--no-cache", "--no-logo"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def contracts() -> list[dict]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["importlinter"]["contracts"]


def verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT or BROKEN, from lint-imports' summary."""
    names = {c["name"]: c["id"] for c in contracts()}
    found = {}
    for line in output.splitlines():
        m = re.match(r"^(.*) (KEPT|BROKEN)$", line.strip())
        if m and m.group(1) in names:
            found[names[m.group(1)]] = m.group(2)
    return found


def test_the_import_contracts_hold():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert verdicts(proc.stdout) == {c["id"]: "KEPT" for c in contracts()}


def test_every_module_of_sim_has_a_layer():
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    placed = set()
    for layer in layers["layers"]:
        placed |= {name.strip().strip("()") for name in re.split(r"[|:]", layer)}
    modules = {m.name.removeprefix("sim.").split(".")[0]
               for m in pkgutil.walk_packages(sim.__path__, "sim.")}
    assert modules - placed == set(), "add these modules to a layer in pyproject.toml"


@pytest.fixture
def copy(tmp_path) -> Path:
    """A copy of the package and its contracts, to break on purpose."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim",
                    ignore=shutil.ignore_patterns("__pycache__", "_configs"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(root: Path, module: str, imported: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\nimport {imported}  # added by the test\n")


@pytest.mark.parametrize(("imports", "broken"), [
    # the runner reaching up to the command line (as run_scenario used to)
    ([("sim.runner", "sim.cli")], {"layers"}),
    # the model reaching up to the runner
    ([("sim.model", "sim.runner")], {"layers"}),
    # two modules of one layer importing each other
    ([("sim.runs", "sim.sweep_store"), ("sim.sweep_store", "sim.runs")], {"acyclic"}),
    # the report running a model (analysis reads results)
    ([("sim.report", "sim.runner")], {"analysis-reads-results"}),
], ids=["upward", "model-up", "cycle", "analysis-runs"])
def test_a_broken_layering_fails_the_contract(copy, imports, broken):
    for module, imported in imports:
        add_import(copy, module, imported)
    proc = lint_imports(copy)
    assert proc.returncode != 0, proc.stdout
    found = verdicts(proc.stdout)
    # (one bad import can break more than one contract: an upward import also closes a
    # cycle; a cycle can give the report an indirect route to the runner)
    assert broken <= {k for k, v in found.items() if v == "BROKEN"}, proc.stdout
    assert str(copy) in _analysed_path(copy)  # the copy was checked, not the checkout


def _analysed_path(root: Path) -> str:
    """Where ``import sim`` resolves from ``root`` (as lint-imports sees it)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", "import importlib.util as u; "
                          "print(u.find_spec('sim').origin)"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=60)
    return out.stdout


def test_hydra_internals_are_used_in_one_module_only():
    """Private Hydra modules (and the global loader) are reached only through
    sim.hydra_glue, so a Hydra upgrade that moves them breaks one module."""
    private = re.compile(r"hydra\._internal|GlobalHydra\.instance\(\)\.config_loader|"
                         r"BasicSweeper|get_overrides_dirname|get_args_parser")
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "sim").rglob("*.py")
                   if private.search(p.read_text(encoding="utf-8")))
    assert users == ["sim/hydra_glue.py"]
