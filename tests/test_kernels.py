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


# ---------------------------------------------------------------- the week's outcome sums
SUM_LENGTHS = [0, 1, 7, 8, 9, 127, 128, 129, 136, 255, 1000, 8191, 8193, 70_001]


def test_pairwise_sum_is_numpys_sum_to_the_bit():
    """The outcome kernels' sums give NumPy's numbers, so that outcomes did not move when
    they were compiled: values spread over six orders of magnitude make any other order
    of addition round differently."""
    from sim.dynamics.sums import masked_sum, pairwise_sum

    rng = np.random.default_rng(5)
    for n in SUM_LENGTHS:
        x = rng.random(n) * 10.0 ** rng.uniform(-3, 3, n)
        mask = rng.random(n) < 0.4
        assert pairwise_sum(x) == x.sum(), n
        assert masked_sum(x, mask) == x[mask].sum(), n
    sequential = 0.0
    for v in x:  # the check can fail: adding one by one gives another number
        sequential += v
    assert sequential != x.sum()


def test_gini_kernel_is_the_formula():
    from sim.outcomes import gini

    rng = np.random.default_rng(6)
    for n in SUM_LENGTHS[1:]:
        x = np.sort(rng.random(n) * 10.0 ** rng.uniform(-2, 2, n))
        expected = ((2.0 * np.arange(1, n + 1) - n - 1) * x).sum() / (n * x.sum())
        assert gini(rng.permutation(x)) == expected, n
    assert gini(np.zeros(3)) == 0.0 and gini(np.zeros(0)) == 0.0
    assert gini(np.array([0.0, 0.0, 1.0])) == 2.0 / 3.0


def test_outcome_collector_records_what_mesas_collector_records():
    """``model.datacollector`` reads the week's outcome values without Mesa's call and
    copy per reporter; its table is the one Mesa's own DataCollector makes from the same
    reporters, and a reporter a user adds is still collected."""
    import mesa

    from sim import outcomes
    from sim.model import CollaborationModel

    model = CollaborationModel(sim.load_config(SCENARIO))
    assert isinstance(model.datacollector, mesa.DataCollector)
    model.datacollector._new_model_reporter("partnerships_now", lambda m: len(m.partnerships))
    mesas = mesa.DataCollector(model_reporters={**outcomes.reporters(),
                                                "partnerships_now": lambda m: len(m.partnerships)})
    for _ in range(30):
        model.step()
        mesas.collect(model)
    ours, theirs = (c.get_model_vars_dataframe() for c in (model.datacollector, mesas))
    assert list(ours.columns) == list(theirs.columns)
    assert (ours.dtypes == theirs.dtypes).all()
    assert (theirs["week"] == ours["week"] + 1).all()  # Mesa's collected after the step ended
    assert ours.drop(columns="week").equals(theirs.drop(columns="week"))
    assert model.datacollector._collection_steps == mesas._collection_steps
    assert ours["partnerships_now"].iloc[-1] == len(model.partnerships) > 0


def test_partnerships_add_keeps_new_distinct_pairs_in_order():
    """``Partnerships.add`` (compiled, without np.unique) drops self-pairs, repeats within
    the call (keeping the first) and pairs that exist, stores each pair as (lower,
    higher) with each side's trust in its column, and starts a reused row afresh."""
    from sim.partnerships import Partnerships

    ps = Partnerships(6)
    k = ps.add([0, 3, 2, 1, 2, 4, 5], [1, 2, 2, 0, 3, 4, 0],
               trust_a=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.35],
               trust_b=[0.7, 0.8, 0.9, 1.0, 0.15, 0.25, 0.45],
               formality=0.5, mandated=True, goals=False, week=3)
    assert k == 3
    assert ps.a.tolist() == [0, 2, 0] and ps.b.tolist() == [1, 3, 5]
    assert ps.trust.tolist() == [[0.1, 0.7], [0.8, 0.2], [0.45, 0.35]]
    assert ps.confidence.tolist() == ps.trust.tolist()
    assert ps.formality.tolist() == [0.5] * 3 and ps.mandated.all() and not ps.goals.any()
    assert ps.formed_week.tolist() == [3, 3, 3]
    assert ps.add([1, 3], [0, 2], trust_a=[0.0, 0.0], trust_b=[0.0, 0.0], formality=0.0,
                  mandated=False, goals=False, week=4) == 0  # both exist, either order
    ps.flow[:] = 7.0
    ps.progress[:] = 0.3
    ps.at_switch[:] = True
    ps.remove(np.array([False, False, True]))
    assert ps.add(np.array([4]), np.array([1]), trust_a=np.array([0.6]),
                  trust_b=np.array([0.2]), formality=np.array([0.25]), mandated=False,
                  goals=True, week=5) == 1
    assert ps.a.tolist() == [0, 2, 1] and ps.trust[2].tolist() == [0.2, 0.6]
    assert ps.flow[2].tolist() == [0.0, 0.0] and ps.progress[2] == 0.0
    assert not ps.at_switch[2] and ps.goals[2] and not ps.mandated[2]
    assert ps.exists(np.array([1, 5]), np.array([4, 0])).tolist() == [True, False]


def test_alignment_distance_and_similarity_kernels_are_their_array_formulas():
    """The compiled pair measures used in forming partnerships give the numbers of the
    array expressions they replaced, national agenda included (no default regime forms
    local partnerships under a national agenda, so a run would not check it)."""
    from sim.dynamics.handoffs import distance_km, similarity
    from sim.dynamics.relations import alignment

    rng = np.random.default_rng(8)
    priorities = rng.dirichlet(np.full(4, 2.0), 50)
    a, b = rng.integers(0, 50, 200), rng.integers(0, 50, 200)
    agenda = priorities.mean(axis=0)
    fit = np.minimum(priorities, agenda[None, :])
    fit = ((fit[:, 0] + fit[:, 1]) + fit[:, 2]) + fit[:, 3]
    assert np.array_equal(alignment(priorities, a, b, agenda), np.minimum(fit[a], fit[b]))
    shared = np.minimum(priorities[a], priorities[b])
    assert np.array_equal(alignment(priorities, a, b),
                          ((shared[:, 0] + shared[:, 1]) + shared[:, 2]) + shared[:, 3])
    assert not np.array_equal(alignment(priorities, a, b, agenda), alignment(priorities, a, b))
    xy = rng.uniform(0, 80, (50, 2))
    d = xy[a] - xy[b]
    assert np.array_equal(distance_km(xy, a, b), np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]))
    grid = distance_km(xy, a.reshape(20, 10), b.reshape(20, 10))  # any shape of indices
    assert grid.shape == (20, 10) and np.array_equal(grid.ravel(), distance_km(xy, a, b))
    culture = rng.random((50, 4))
    c = culture[a] - culture[b]
    squares = ((c[:, 0] ** 2 + c[:, 1] ** 2) + c[:, 2] ** 2) + c[:, 3] ** 2
    assert np.array_equal(similarity(culture, a, b), 1.0 - np.sqrt(squares) / 2.0)


def test_annual_turnover_kernel_is_its_array_formula():
    """Compiled turnover sums the window week by week, as NumPy sums rows, to the bit."""
    from sim.dynamics.workforce import WEEKS_PER_YEAR, annual_turnover

    rng = np.random.default_rng(9)
    leavers = rng.random((52, 2)) * 10.0 ** rng.uniform(-3, 3, (52, 2))
    staff = rng.random((52, 2)) * 10.0 ** rng.uniform(0, 4, (52, 2))
    staff[:, 1] = 0.0  # a sector without staff: undefined
    for weeks_run in (1, 7, 51, 52, 300):
        weeks = min(weeks_run, 52)
        expected = leavers[:weeks].sum(axis=0) * WEEKS_PER_YEAR / weeks / staff[:weeks].mean(
            axis=0)[0]
        got = annual_turnover(leavers, staff, weeks_run)
        assert got[0] == expected[0] and np.isnan(got[1]), weeks_run
