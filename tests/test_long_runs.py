"""Long runs: fifty simulated years stay finite, in range and within a fixed memory budget.

The default horizon is eight years of burn-in and five under the regime; a study of
slow processes (trust, culture, workforce) may run for decades. Here the ICS system
(~400 providers) runs for 50 years under the regime (2,600 weeks after the 104-week
burn-in), some seconds, and the tests check that

- no floating-point operation overflows, divides by zero or produces NaN (every
  step runs under ``np.errstate(all="raise")`` with RuntimeWarnings as errors), and
  every outcome is finite (or NaN where the outcome registry says it can be
  undefined) and within the registry's bounds, at every week;
- the model's own state does not grow with the horizon: only the weekly table does.
  Partnerships live in preallocated arrays that grow by doubling, so their capacity
  must settle; tracemalloc (with the table's collection switched off) must see no
  growth between year 10 and year 50; and the process's resident memory may grow
  by no more than the table plus a fixed allowance (see ``RSS_ALLOWANCE``).
"""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc
import warnings
from dataclasses import dataclass, fields

import numpy as np
import pytest

from sim import COLUMNS, outcome
from sim.config import from_dict
from sim.model import CollaborationModel, ProviderState

WEEKS_PER_YEAR = 52
BURN_IN = 104
POLICY_YEARS = 50
TOTAL = BURN_IN + POLICY_YEARS * WEEKS_PER_YEAR  # 2,704 weeks
EARLY = 10 * WEEKS_PER_YEAR  # the first checkpoint: ten simulated years (incl. burn-in)

#: Provider state that is a share (0-1) by definition.
STATE_SHARES = ("faith", "maturity", "quality", "admin_share", "base_trust", "enthusiasm",
                "realism", "experience", "culture", "intake_share")
#: Bytes a weekly row may take in the DataCollector: 24 values (week + 23 outcomes), each
#: a Python float or int (24-32 bytes) plus its list slot (8 bytes, ~12% over-allocated).
MAX_ROW_BYTES = 1536
#: Resident memory may grow, between year 10 and year 50, by the table's growth plus this.
#: RSS moves in whole pages and allocator arenas (glibc keeps freed memory for reuse and
#: hands out large blocks by mmap), so a few MB of movement is noise; 16 MB over 40
#: simulated years (~400 kB a year, ~8 kB a week) still catches any leak of a couple
#: of provider-length float64 arrays (400 x 8 bytes) a week, including memory outside
#: Python's allocator that tracemalloc cannot see (e.g. in compiled extensions).
RSS_ALLOWANCE = 16 * 2**20
#: Growth of traced memory (the model without its table) allowed from year 10 to 50:
#: one float object a week would be 2,080 x 24 bytes = 50 kB, so 32 kB leaves room only
#: for interpreter caches, not for anything kept per week.
TRACED_ALLOWANCE = 32 * 2**10


def ics(regime: dict | None = None, **groups: dict):
    data = {"seed": 7, "system": {"name": "ics"},
            "time": {"burn_in_weeks": BURN_IN, "policy_weeks": POLICY_YEARS * WEEKS_PER_YEAR}}
    if regime:
        data["regime"] = regime
    data.update(groups)
    return from_dict(data)


MANDATED = {"name": "mandated", "partner_choice": "assigned", "maintain": True,
            "may_exit": False, "contracts": "required", "existing": "superseded",
            "reporting_fte": 0.03, "priorities": "national", "shared_goals": True}
SCENARIOS = {
    "local": ics(),
    # the harshest preset with a workforce shortage and a winter crisis every week of
    # year 20: partnerships locked in, staff leaving, intake lost
    "mandated-shortage-shock": ics(MANDATED, workforce={"labour_supply": 0.6},
                                   shock={"start_week": 20 * WEEKS_PER_YEAR, "weeks": 52,
                                          "intake_loss": 0.8}),
}


def resident_bytes() -> int:
    """Current resident set size of this process (Linux /proc; else the peak, as a proxy)."""
    try:
        with open("/proc/self/statm") as fh:
            import os

            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def table_bytes(model: CollaborationModel) -> int:
    """Memory held by the DataCollector's weekly table (lists of Python numbers)."""
    total = sys.getsizeof(model.datacollector.model_vars)
    for values in model.datacollector.model_vars.values():
        total += sys.getsizeof(values) + sum(sys.getsizeof(v) for v in values)
    return total


def check_state(model: CollaborationModel) -> None:
    """Every state array is finite; shares are shares; staff within funded posts."""
    st, ps, where = model.state, model.partnerships, f"week {model.week}"
    for f in fields(ProviderState):
        values = np.asarray(getattr(st, f.name))
        if values.dtype.kind == "f":
            assert np.isfinite(values).all(), f"{where}: {f.name} not finite"
    for name in STATE_SHARES:
        values = getattr(st, name)
        assert ((values >= 0.0) & (values <= 1.0)).all(), f"{where}: {name} outside [0, 1]"
    assert (st.staff >= 0.0).all() and (st.staff <= st.funded * (1 + 1e-12)).all(), where
    assert (st.backlog >= 0.0).all() and (model.delayed >= 0.0).all(), where
    assert np.isfinite(model.delayed).all(), where
    for name in ("trust", "confidence", "formality", "progress", "flow", "on_time"):
        values = getattr(ps, name)
        assert np.isfinite(values).all(), f"{where}: partnership {name} not finite"
    for name in ("trust", "confidence", "formality"):
        values = getattr(ps, name)
        assert ((values >= 0.0) & (values <= 1.0)).all(), f"{where}: {name} outside [0, 1]"
    for name in COLUMNS:
        value = model.outcome_values[name]
        # NaN only where the registry says the outcome can be undefined
        assert math.isfinite(value) or outcome(name).undefined is not None, \
            f"{where}: {name}={value} not finite"


@dataclass
class Checkpoint:
    week: int
    rows: int
    table: int
    rss: int
    partnerships: int
    capacity: int


def checkpoint(model: CollaborationModel) -> Checkpoint:
    gc.collect()
    return Checkpoint(model.week, len(model.datacollector.model_vars["week"]),
                      table_bytes(model), resident_bytes(), len(model.partnerships),
                      model.partnerships._cap)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("name", SCENARIOS, ids=list(SCENARIOS))
def test_fifty_years_stay_finite_in_range_and_in_memory(name: str) -> None:
    config = SCENARIOS[name]
    model = CollaborationModel(config)
    initial_capacity = model.partnerships._cap
    largest = 0
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        for week in range(1, TOTAL + 1):
            model.step()  # any overflow, 0/0 or invalid operation raises here
            largest = max(largest, len(model.partnerships))
            if week % 13 == 0 or week == TOTAL:
                check_state(model)
            if week == EARLY:
                early = checkpoint(model)
    late = checkpoint(model)

    # The weekly table: the whole horizon, finite, shares in [0, 1].
    weekly = model.datacollector.get_model_vars_dataframe()
    assert len(weekly) == TOTAL
    assert weekly["week"].iloc[-1] == POLICY_YEARS * WEEKS_PER_YEAR - 1
    for column in COLUMNS:
        values = weekly[column].to_numpy(dtype=np.float64)
        defined = np.isfinite(values)
        # NaN only where the registry says the outcome can be undefined, never infinite
        assert not np.isinf(values).any(), column
        assert defined.all() or outcome(column).undefined is not None, column
        spec = outcome(column)  # every value within the registry's bounds
        assert ((values[defined] >= spec.low) & (values[defined] <= spec.high)).all(), column

    # Partnerships: the table settles. Capacity only ever doubles past the peak in use,
    # and the number of partnerships saturates (years 40-50 within 10% of years 5-10).
    assert late.capacity <= max(initial_capacity, 2 * largest), (late, largest)
    late_max = int(weekly["n_partnerships"].iloc[-10 * WEEKS_PER_YEAR:].max())
    early_max = int(weekly["n_partnerships"].iloc[EARLY - 5 * WEEKS_PER_YEAR:EARLY].max())
    assert late_max <= 1.1 * early_max + 10, (early_max, late_max)
    assert len(model.agents) == model.n_providers  # no agents created on the way

    # Memory: a weekly row costs at most MAX_ROW_BYTES, and resident memory grows by
    # no more than the table plus a fixed allowance.
    per_row = (late.table - early.table) / (late.rows - early.rows)
    assert per_row <= MAX_ROW_BYTES, per_row
    growth = late.rss - early.rss
    years = (late.week - early.week) / WEEKS_PER_YEAR
    assert growth <= (late.table - early.table) + RSS_ALLOWANCE, (
        f"RSS grew {growth / 2**20:.1f} MB over {years:.0f} simulated years "
        f"({growth / years / 2**10:.0f} kB a year); the table {per_row:.0f} B a row")


def test_model_state_does_not_grow_with_the_horizon() -> None:
    """tracemalloc sees no growth of the model itself from year 10 to year 50."""
    model = CollaborationModel(SCENARIOS["local"])
    model.datacollector.collect = lambda _model: None  # keep the table out of the count

    class Discard(list):
        """The weekly by-kind and by-area rows are output, like the DataCollector's table."""

        def append(self, _row) -> None:
            pass

    model.kind_values = Discard()
    model.area_values = Discard()
    for _ in range(EARLY - WEEKS_PER_YEAR):
        model.step()
    # Trace for a year before the first measurement, so that every array the step
    # replaces each week has been replaced (and is counted) by then.
    tracemalloc.start()
    try:
        for _ in range(WEEKS_PER_YEAR):
            model.step()
        gc.collect()
        early, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        capacity = model.partnerships._cap
        for _ in range(TOTAL - EARLY):
            model.step()
        gc.collect()
        late, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.week == POLICY_YEARS * WEEKS_PER_YEAR
    # A partnership table that doubled once more (more partnerships than rows) is growth
    # by design, bounded by the saturation checked above; anything else is a leak. The
    # old table was allocated before tracing began, so its release is not seen: a table
    # that grew counts whole (its new capacity), not only the rows it added.
    ps = model.partnerships
    row_bytes = sum(arr.nbytes for arr in ps._data.values()) / ps._cap
    regrown = ps._cap * row_bytes if ps._cap > capacity else 0.0
    assert late - early <= TRACED_ALLOWANCE + regrown, (
        f"the model's memory grew {(late - early) / 2**10:.1f} kB from year 10 to year 50")
    # The working memory of a week (temporaries included) is bounded too: a few times
    # the state, not something that grows with the weeks simulated.
    assert peak <= early + 64 * 2**20, peak
