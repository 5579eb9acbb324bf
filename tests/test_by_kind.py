"""The by-kind table travels with every run: in RunResult, in run_many, in the run folder."""

from __future__ import annotations

import numpy as np
import pandas as pd

import sim
from sim.config import from_dict
from sim.kinds import KIND_NAMES
from sim.outcomes import BY_KIND_COLUMNS
from sim.results import BY_KIND, is_complete, read_by_kind, read_run, write_run

SHORT = {"seed": 2, "system": {"name": "teaching"},
         "time": {"burn_in_weeks": 6, "policy_weeks": 4}}


def test_run_result_has_the_by_kind_table() -> None:
    result = sim.run(from_dict(SHORT))
    table = result.by_kind
    assert list(table.columns) == list(BY_KIND_COLUMNS)
    assert len(table) == len(result.weekly) * len(KIND_NAMES)
    assert sorted(set(table["week"])) == result.weekly["week"].tolist()


def test_by_kind_is_written_and_read_back_and_older_runs_still_read(tmp_path) -> None:
    result = sim.run(from_dict(SHORT))
    folder = write_run(tmp_path / "run", result)
    assert (folder / BY_KIND).is_file()
    back = read_by_kind(folder)
    pd.testing.assert_frame_equal(back, result.by_kind)
    # a run written before the table existed: still complete, still readable
    (folder / BY_KIND).unlink()
    assert is_complete(folder)
    weekly, *_ = read_run(folder)
    assert len(weekly) == len(result.weekly)
    assert read_by_kind(folder) is None


def test_run_many_gathers_the_by_kind_tables_paired() -> None:
    config = from_dict(SHORT)
    many = sim.run_many({"a": config}, replicates=[0, 1])
    assert list(many.by_kind.columns) == ["scenario", "seed", "replicate", *BY_KIND_COLUMNS]
    one = sim.run(config, replicate=1).by_kind
    mine = many.by_kind[many.by_kind["replicate"] == 1].drop(
        columns=["scenario", "seed", "replicate"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, one)
    assert np.all(many.by_kind["scenario"] == "a")
