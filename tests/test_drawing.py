"""A report's figures drawn side by side (sim.plots.draw) are the files drawn one by one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import plots


def weekly_table() -> pd.DataFrame:
    """Two scenarios, three replicates, 30 weeks of two outcomes."""
    rng = np.random.default_rng(3)
    rows = [{"scenario": s, "replicate": r, "week": w, "mean_trust": rng.random(),
             "unmet_demand": rng.random()}
            for s in ("a", "b") for r in range(3) for w in range(-10, 20)]
    return pd.DataFrame(rows)


def drawings(folder) -> list[plots.Drawing]:
    weekly, order = weekly_table(), ["a", "b"]
    colours = plots.colour_map(order)
    return [(plots.grid_figure, (weekly, order, ["mean_trust", "unmet_demand"],
                                 folder / "grid.png"), {"title": "grid", "colours": colours}),
            (plots.outcome_figure, (weekly, order, "mean_trust", "trust",
                                    folder / "trust.png"), {"colours": colours}),
            (plots.outcome_figure, (weekly, order, "unmet_demand", "unmet",
                                    folder / "unmet.png"), {"colours": colours})]


def test_figures_drawn_side_by_side_are_the_files_drawn_one_by_one(tmp_path) -> None:
    (tmp_path / "serial").mkdir()
    (tmp_path / "parallel").mkdir()
    serial = plots.draw(drawings(tmp_path / "serial"), workers=1)
    parallel = plots.draw(drawings(tmp_path / "parallel"), workers=2)
    assert [p.name for p in parallel] == ["grid.png", "trust.png", "unmet.png"]  # in order
    for one, other in zip(serial, parallel, strict=True):
        assert other.parent == tmp_path / "parallel"
        assert one.read_bytes() == other.read_bytes()


def test_a_figure_that_fails_fails_the_drawing(tmp_path) -> None:
    bad = drawings(tmp_path / "missing folder")  # savefig cannot write there
    with pytest.raises(FileNotFoundError):
        plots.draw(bad, workers=2)


def test_usable_cores_is_at_least_one() -> None:
    assert 1 <= plots.usable_cores() <= (__import__("os").cpu_count() or 1)
