"""Tests of the real England (sim/data/england, sim.england) and system=england."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, SystemConfig
from sim.england import (
    ENGLAND_BNG_BOX_KM,
    EXPECTED_ICBS,
    ICB_FILE,
    EnglandDataError,
    IcbTable,
    load_icbs,
)
from sim.kinds import KIND_NAMES
from sim.results import find_runs
from sim.system import _largest_remainder, build_system, national_counts, scaled_counts

SCRIPT = Path(sys.executable).with_name("collabsim")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "sim.cli"]

#: National totals the estimated columns share out (SOURCES.md, "The provider counts").
ESTIMATE_TOTALS = {"acute": 120, "mental_health": 50, "care_home": 15000}
#: Totals of the columns counted from published lists (SOURCES.md, "Counted columns"):
#: PCNs of NHS England's GP practice mapping of January 2026, and the 152 councils with
#: adult social care (upper-tier local authorities, 2021) of NHS England's 2023/24 mapping.
COUNTED_TOTALS = {"pcn": 1298, "local_authority": 152}
LONDON_ICBS = ("North West London", "North Central London", "North East London",
               "South East London", "South West London")


@pytest.fixture(scope="module")
def icbs() -> IcbTable:
    return load_icbs()


def build(name: str, scale: float = 1.0, seed: int = 0):
    return build_system(SystemConfig(name=name, scale=scale), np.random.default_rng(seed))


# --------------------------------------------------------------------------- the data
def test_packaged_file_has_the_42_icbs_with_codes(icbs: IcbTable) -> None:
    assert icbs.n == EXPECTED_ICBS == 42
    assert len(set(icbs.codes)) == 42 and all(c.startswith("E54") for c in icbs.codes)
    assert len(set(icbs.ods_codes)) == 42 and all(c.startswith("Q") for c in icbs.ods_codes)
    assert "NHS Cornwall and the Isles of Scilly Integrated Care Board" in icbs.names
    assert "North East London" in icbs.short_names
    code = dict(zip(icbs.short_names, icbs.codes, strict=True))
    assert code["Greater Manchester"] == "E54000057"
    assert dict(zip(icbs.codes, icbs.ods_codes, strict=True))["E54000057"] == "QOP"
    assert set(icbs.regions) == {"North East and Yorkshire", "North West", "Midlands",
                                 "East of England", "London", "South East", "South West"}


def test_populations_sum_to_england_mid_2022(icbs: IcbTable) -> None:
    # ONS mid-2022 population of England: the 106 Sub-ICB totals summed.
    assert int(icbs.population.sum()) == 57_106_398
    assert icbs.population.min() > 500_000 and icbs.population.max() < 3_100_000


def test_centroids_lie_where_the_places_are(icbs: IcbTable) -> None:
    (x_lo, x_hi), (y_lo, y_hi) = ENGLAND_BNG_BOX_KM
    x, y = icbs.centre_km.T
    assert np.all((x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi))
    at = dict(zip(icbs.short_names, icbs.centre_km, strict=True))
    # Cornwall is the most westerly and southerly, North East and North Cumbria the most
    # northerly; the five London ICBs lie within 25 km of Charing Cross (530, 180).
    assert at["Cornwall and the Isles of Scilly"][0] == x.min()
    assert at["North East and North Cumbria"][1] == y.max()
    for name in LONDON_ICBS:
        assert np.hypot(*(at[name] - np.array([530.0, 180.0]))) < 25


def test_estimated_counts_follow_the_stated_method(icbs: IcbTable) -> None:
    """The file's estimated columns are exactly the rule SOURCES.md states (no drift)."""
    share = icbs.population / icbs.population.sum()
    for kind, total in ESTIMATE_TOTALS.items():
        expected = _largest_remainder(total, share, minimum=1)
        assert np.array_equal(icbs.counts[KIND_NAMES.index(kind)], expected), kind
    assert np.all(icbs.counts[KIND_NAMES.index("community")] == 1)


def test_counted_columns_keep_their_sources_totals_and_known_places(icbs: IcbTable) -> None:
    """PCNs and councils are counted from lists, so they are not the population rule."""
    share = icbs.population / icbs.population.sum()
    for kind, total in COUNTED_TOTALS.items():
        counts = icbs.counts[KIND_NAMES.index(kind)]
        assert counts.sum() == total and counts.min() >= 1, kind
        assert not np.array_equal(counts, _largest_remainder(total, share, minimum=1)), kind
    councils = dict(zip(icbs.short_names, icbs.counts[KIND_NAMES.index("local_authority")],
                        strict=True))
    # Greater Manchester is its ten metropolitan boroughs; London's five ICBs hold the 32
    # boroughs and the City; Surrey Heartlands holds Surrey County Council, while Frimley
    # holds the three Berkshire unitaries (Surrey and Hampshire count where most live).
    assert councils["Greater Manchester"] == 10
    assert sum(councils[name] for name in LONDON_ICBS) == 33
    assert councils["Surrey Heartlands"] == 1 and councils["Frimley"] == 3


# --------------------------------------------------------------------------- the system
def test_england_areas_are_the_icbs_with_their_counts(icbs: IcbTable) -> None:
    table = build("england")
    assert table.area_names == icbs.short_names and table.area_codes == icbs.codes
    per_area = np.array([np.bincount(table.area[table.kind == k], minlength=42)
                         for k in range(len(KIND_NAMES))])
    assert np.array_equal(per_area, icbs.counts)
    assert national_counts("england") == tuple(int(c) for c in icbs.counts.sum(axis=1))


def test_england_providers_cluster_at_their_icb_centroid(icbs: IcbTable) -> None:
    table = build("england")
    xy = np.column_stack([table.x, table.y])
    centre = np.stack([np.bincount(table.area, weights=xy[:, i]) / np.bincount(table.area)
                       for i in range(2)], axis=1)
    # Each area's providers' mean lies within 20 km of its ICB's centroid.
    assert np.all(np.hypot(*(centre - icbs.centre_km).T) < 20)


@pytest.mark.parametrize("scale", [0.05, 0.5, 2.0])
def test_england_scaled_totals_are_exact(icbs: IcbTable, scale: float) -> None:
    table = build("england", scale=scale)
    assert np.array_equal(np.bincount(table.kind, minlength=6), scaled_counts("england", scale))
    areas_with_pcn = np.unique(table.area[table.kind == KIND_NAMES.index("pcn")])
    assert len(areas_with_pcn) == 42  # 63 PCNs at 0.05: every ICB keeps one


def test_england_is_fixed_while_synthetic_maps_change() -> None:
    a, b = build("england", seed=1), build("england", seed=2)
    assert a.area_names == b.area_names and np.array_equal(a.area, b.area)
    s1, s2 = build("england_synthetic", seed=1), build("england_synthetic", seed=2)
    assert len(s1.area_names) == len(a.area_names) == 42 and s1.area_names[0] == "ics-01"
    assert not np.allclose(s1.x, s2.x)


def test_unknown_system_lists_both_englands() -> None:
    with pytest.raises(ConfigError, match="england, england_synthetic, csv"):
        build("englnd")


# --------------------------------------------------------------------------- bad files
def _rows() -> list[list[str]]:
    with ICB_FILE.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _column(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


def test_a_copy_of_the_file_loads_like_the_packaged_one(tmp_path, icbs) -> None:
    copy = load_icbs(_write(tmp_path / "icbs.csv", _rows()))
    assert copy.codes == icbs.codes and np.array_equal(copy.counts, icbs.counts)


def test_missing_column_is_named(tmp_path) -> None:
    rows = _rows()
    drop = _column(rows, "care_home")
    path = _write(tmp_path / "icbs.csv", [r[:drop] + r[drop + 1:] for r in rows])
    with pytest.raises(EnglandDataError, match=r"line 1 \(the header\) lacks column\(s\) "
                       r"care_home") as err:
        load_icbs(path)
    assert str(path) in str(err.value)


def test_duplicate_code_names_both_lines(tmp_path) -> None:
    rows = _rows()
    col = _column(rows, "icb_code")
    rows[5][col] = rows[2][col]  # data line 5 of the file repeats line 3's code
    with pytest.raises(EnglandDataError, match=rf"line 6, column 'icb_code': "
                       rf"'{rows[2][col]}' is already used on line 3"):
        load_icbs(_write(tmp_path / "icbs.csv", rows))


def test_negative_population_is_named(tmp_path) -> None:
    rows = _rows()
    rows[10][_column(rows, "population")] = "-5"
    with pytest.raises(EnglandDataError, match=r"line 11, column 'population': '-5' is out "
                       r"of range; allowed: a whole number of people > 0"):
        load_icbs(_write(tmp_path / "icbs.csv", rows))


def test_text_in_a_number_cell_is_named(tmp_path) -> None:
    rows = _rows()
    rows[42][_column(rows, "pcn")] = "many"
    rows[7][_column(rows, "x_km")] = "900"  # outside England's box
    with pytest.raises(EnglandDataError) as err:
        load_icbs(_write(tmp_path / "icbs.csv", rows))
    message = str(err.value)
    assert "2 problem(s)" in message
    assert "line 43, column 'pcn': 'many' is not a number" in message
    assert "line 8, column 'x_km': '900' is out of range; allowed: km of BNG easting" in message


def test_wrong_number_of_icbs_is_named(tmp_path) -> None:
    with pytest.raises(EnglandDataError, match="41 data lines; expected one per ICB, 42"):
        load_icbs(_write(tmp_path / "icbs.csv", _rows()[:-1]))


def test_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(EnglandDataError, match="does not exist"):
        load_icbs(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- the command
def test_collabsim_system_england_names_the_icbs(tmp_path, icbs) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.run([*COMMAND, "system=england", "system.scale=0.05",
                           "time.burn_in_weeks=2", "time.policy_weeks=2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (run,) = find_runs(tmp_path)
    areas = pd.read_csv(run / "areas.csv")
    assert list(areas["area_name"]) == list(icbs.short_names)
    assert list(areas["area_code"]) == list(icbs.codes)
    assert int(areas["providers"].sum()) == int(scaled_counts("england", 0.05).sum())
