"""The compiled kernels (``sim.jit``) read the same as plain Python.

Numba and Python differ in places (``True + True`` is 2 in a kernel, ``True`` for NumPy
booleans in Python), and a kernel is only trustworthy if its source means what it
says. Run with ``NUMBA_DISABLE_JIT=1``, every kernel runs as the Python it is written
in; a short run must give exactly the outputs of the compiled one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import sim

SCENARIO = ["system=teaching", "time.burn_in_weeks=10", "time.policy_weeks=20", "seed=3",
            "regime=hybrid"]  # local and assigned partners, reviews, aid, exits
SCRIPT = """
import json, sys
import sim
from sim.model import CollaborationModel
m = CollaborationModel(sim.load_config(json.loads(sys.argv[1])))
m.run()
weekly = m.datacollector.get_model_vars_dataframe()
print(json.dumps({"columns": list(weekly.columns),
                  "values": weekly.to_numpy(dtype=float).tolist(),
                  "trust": m.partnerships.trust.tolist(),
                  "culture": m.state.culture.tolist()}))
"""


def _outputs(jit: bool) -> dict:
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    if not jit:
        env["NUMBA_DISABLE_JIT"] = "1"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(SCENARIO)], env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(proc.stdout)


def test_compiled_kernels_and_their_python_give_the_same_run():
    compiled, python = _outputs(jit=True), _outputs(jit=False)
    assert compiled["columns"] == python["columns"]
    for key in ("values", "trust", "culture"):
        a, b = np.array(compiled[key], dtype=float), np.array(python[key], dtype=float)
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True), key
    assert len(compiled["trust"]) > 0  # partnerships formed: the partnership kernels ran


def test_the_in_process_run_is_the_compiled_one():
    """The subprocess above runs the same model as ``sim.run`` here (no hidden state)."""
    weekly = sim.run(sim.load_config(SCENARIO)).weekly
    compiled = _outputs(jit=True)
    assert np.array_equal(weekly[compiled["columns"]].to_numpy(dtype=float),
                          np.array(compiled["values"], dtype=float), equal_nan=True)
