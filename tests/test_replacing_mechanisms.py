"""A mechanism replaced in memory changes the model, and the run says so.

Modellers change a mechanism by assigning a new function to its module
(``notebooks/06_changing_a_mechanism.ipynb``). The weekly step runs compiled weeks that
cannot see such an assignment; ``sim.replaced`` makes them step aside for
plain-Python twins that call every mechanism through its module. These tests hold that
promise for every public function of the mechanism modules, check that the twins give
the compiled numbers to the bit, and that a run with a replacement never passes for
the package's.
"""

from __future__ import annotations

import collections
import contextlib
import re
from pathlib import Path

import numpy as np
import pytest
from _single_threaded import single_threaded

import sim
from sim import processes
from sim.dynamics import flows, relations
from sim.identity import fingerprint
from sim.model import MECHANISMS
from sim.replaced import replaced_mechanisms
from sim.results import provenance

#: Every path of the week: local and assigned partners, reviews, aid, exits, a shock.
SCENARIO = ["system=teaching", "time.burn_in_weeks=26", "time.policy_weeks=40", "seed=4",
            "regime=hybrid", "shock.start_week=10", "shock.weeks=6", "shock.intake_loss=0.4"]
#: Public functions of the mechanism modules that are not mechanisms, and why replacing
#: them need not change a run. Anything else must take effect when replaced.
NOT_MECHANISMS = {
    "sim.dynamics.sums.pairwise_sum": "arithmetic: NumPy's sum, for compiled code",
    "sim.dynamics.sums.masked_sum": "arithmetic: NumPy's masked sum, for compiled code",
    "sim.dynamics.workforce.annual_turnover": "an outcome's measure (sim.outcomes), "
                                              "not part of the week",
}


@contextlib.contextmanager
def replacing(replacements: dict[str, object]):
    """Run the block with ``module.name`` functions replaced, and restore them after."""
    entries = {f"{m.__name__}.{n}": (m, n, f) for m, n, f in MECHANISMS.functions}
    try:
        for name, function in replacements.items():
            module, attribute, _ = entries[name]
            setattr(module, attribute, function)
        yield
    finally:
        for module, attribute, original in entries.values():
            setattr(module, attribute, original)


def test_every_mechanism_module_is_declared():
    """A new module in sim/dynamics must join the catalogue runs record replacements by."""
    files = {p.stem for p in Path(flows.__file__).parent.glob("*.py") if p.stem != "__init__"}
    declared = {m.__name__.rpartition(".")[2] for m, _, _ in MECHANISMS.functions}
    assert declared == files


def weekly(overrides=SCENARIO):
    return sim.run(sim.load_config(overrides)).weekly


def test_every_mechanism_is_called_through_its_module_and_the_twins_match_to_the_bit():
    compiled = weekly()
    calls = collections.Counter()

    def spy(name, original):
        def counted(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)
        return counted

    names = [f"{m.__name__}.{n}" for m, n, _ in MECHANISMS.functions]
    assert len(names) > 40 and "sim.dynamics.relations.update_trust" in names
    with replacing({name: spy(name, f)
                    for name, (_, _, f) in zip(names, MECHANISMS.functions, strict=True)}):
        assert replaced_mechanisms() == sorted(names)
        through_modules = weekly()
    assert replaced_mechanisms() == []
    never_called = sorted(n for n in names if not calls[n])
    assert never_called == sorted(NOT_MECHANISMS), "replacing these would change nothing"
    # spies that change nothing: the plain-Python weeks are the compiled ones, to the bit
    assert through_modules.columns.equals(compiled.columns)
    assert np.array_equal(through_modules.to_numpy(float), compiled.to_numpy(float),
                          equal_nan=True)


UPDATE_TRUST, UPDATE_TRUST_KERNEL, SERVE = (relations.update_trust,
                                            relations.update_trust_kernel, flows.serve)


@pytest.mark.parametrize("name, replacement", [
    ("sim.dynamics.relations.update_trust", lambda *args: 0.5 * UPDATE_TRUST(*args)),
    ("sim.dynamics.flows.serve", lambda backlog, cap, renege: SERVE(backlog, 0.9 * cap, renege)),
])
def test_a_replaced_mechanism_changes_the_run_and_is_undone(name, replacement):
    short = ["system=teaching", "time.burn_in_weeks=20", "time.policy_weeks=20", "seed=2"]
    before = weekly(short)
    with replacing({name: replacement}):
        inside = weekly(short)
    after = weekly(short)
    column = "mean_trust" if "trust" in name else "care_coordination"
    assert not np.allclose(inside[column], before[column])
    assert after.equals(before)


def test_a_run_with_a_replaced_mechanism_says_so_and_cannot_pass_for_the_packages():
    config = sim.load_config(["system=teaching", "time.burn_in_weeks=4",
                              "time.policy_weeks=4"])
    own = fingerprint(config)
    assert provenance(sim.run(config))["replaced_mechanisms"] == []

    def halved(*args):
        return 0.5 * UPDATE_TRUST_KERNEL(*args)

    with replacing({"sim.dynamics.relations.update_trust_kernel": halved}):
        result = sim.run(config)
        changed = fingerprint(config)
        recorded = provenance(result)
    assert recorded["replaced_mechanisms"] == ["sim.dynamics.relations.update_trust_kernel"]
    assert changed["code"] != own["code"] and changed["run"] != own["run"]
    assert changed["scenario"] == own["scenario"]
    assert fingerprint(config) == own  # restored: the package's code again


def test_forked_workers_run_the_replacement_and_fresh_processes_are_refused(monkeypatch):
    """A fork inherits the replacement; a fresh process would run the package's model
    and pass its results off as the replacement's, so that is refused by name."""
    configs = {"short": sim.load_config(["system=teaching", "time.burn_in_weeks=8",
                                         "time.policy_weeks=8"])}
    monkeypatch.setattr(processes, "fork_context", lambda: None)
    with replacing({"sim.dynamics.flows.serve": lambda b, c, r: SERVE(b, 0.9 * c, r)}):
        with pytest.raises(processes.ReplacedMechanismError,
                           match=r"sim\.dynamics\.flows\.serve.*workers=1"):
            sim.run_many(configs, replicates=range(2), workers=2)
        assert len(sim.run_many(configs, replicates=range(2), workers=1).summaries) == 2


@single_threaded
def test_forked_workers_see_the_replacement():
    configs = {"short": sim.load_config(["system=teaching", "time.burn_in_weeks=8",
                                         "time.policy_weeks=8"])}
    own = sim.run_many(configs, replicates=range(2), workers=1).summaries
    with replacing({"sim.dynamics.flows.serve": lambda b, c, r: SERVE(b, 0.9 * c, r)}):
        serial = sim.run_many(configs, replicates=range(2), workers=1).summaries
        forked = sim.run_many(configs, replicates=range(2), workers=2).summaries
    columns = ["care_coordination", "mean_trust"]
    assert forked[columns].equals(serial[columns])
    assert not np.allclose(serial["care_coordination"], own["care_coordination"])


@pytest.mark.parametrize("name, replacement, needed", [
    ("sim.dynamics.relations.update_trust", lambda *args: UPDATE_TRUST(*args)[:, 0],
     ", 2)"),
    ("sim.dynamics.flows.serve", lambda backlog, cap, renege: SERVE(backlog, cap, renege)[:3],
     "4 arrays of shapes [(40,), (40,), (40,), (40,)]"),
])
def test_a_replacement_that_returns_the_wrong_shapes_is_named(name, replacement, needed):
    """One trust per partnership instead of two would broadcast into wrong numbers; three
    arrays instead of four would fail far from the cause. Both are stopped, by name."""
    config = sim.load_config(["system=teaching", "time.burn_in_weeks=4", "time.policy_weeks=4"])
    with replacing({name: replacement}):
        with pytest.raises(processes.ReplacedMechanismError,
                           match=re.escape(name.removeprefix("sim.dynamics.")) + " returned .*"
                           + re.escape(needed)):
            sim.run(config)
