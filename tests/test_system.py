"""Tests of the provider population: built-in systems and the CSV loader."""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, SystemConfig
from sim.kinds import KIND_NAMES, Kind
from sim.system import (
    BUILTIN_COUNTS,
    ProviderTable,
    SystemDataError,
    build_system,
    load_csv,
    scaled_counts,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "configs" / "system" / "example_providers.csv"

EXPECTED = {
    "teaching": {"acute": 1, "mental_health": 1, "community": 1, "pcn": 6, "care_home": 30,
                 "local_authority": 1},
    "ics": {"acute": 3, "mental_health": 1, "community": 1, "pcn": 30, "care_home": 361,
            "local_authority": 4},
    "england_synthetic": {"acute": 120, "mental_health": 50, "community": 42, "pcn": 1250,
                          "care_home": 15000, "local_authority": 153},
}


def build(name: str, seed: int = 0, scale: float = 1.0) -> ProviderTable:
    return build_system(SystemConfig(name=name, scale=scale), np.random.default_rng(seed))


@pytest.fixture(scope="module")
def england() -> ProviderTable:
    return build("england_synthetic", seed=7)


def kind_counts(table: ProviderTable) -> dict[str, int]:
    counts = np.bincount(table.kind, minlength=len(Kind))
    return {KIND_NAMES[k]: int(c) for k, c in enumerate(counts)}


# --------------------------------------------------------------------------- built-in
@pytest.mark.parametrize("name", ["teaching", "ics", "england_synthetic"])
def test_counts_match_specification(name: str) -> None:
    table = build(name)
    assert kind_counts(table) == EXPECTED[name]
    assert table.n == sum(EXPECTED[name].values())
    assert table.n_areas == (42 if name == "england_synthetic" else 1)


@pytest.mark.parametrize("name", ["teaching", "ics", "england_synthetic"])
def test_table_types_and_invariants(name: str) -> None:
    table = build(name, seed=3)
    assert table.kind.dtype == np.int8 and table.area.dtype == np.int32
    for arr in (table.x, table.y, table.size):
        assert arr.dtype == np.float64 and len(arr) == table.n
        assert np.all(np.isfinite(arr))
    assert np.all(table.size > 0)
    assert np.all(table.size[table.kind == Kind.CARE_HOME] >= 5)
    assert len(set(table.ids)) == table.n
    assert set(np.unique(table.area)) == set(range(table.n_areas))
    # Stable order: sorted by kind, then by area.
    key = table.kind.astype(np.int64) * 1000 + table.area
    assert np.all(np.diff(key) >= 0)
    assert table.ids[0] == "acute-0000"


def test_scale_multiplies_counts() -> None:
    half = build("ics", scale=0.5)
    assert kind_counts(half) == {"acute": 2, "mental_health": 1, "community": 1, "pcn": 15,
                                 "care_home": 181, "local_authority": 2}
    tiny = build("teaching", scale=0.01)
    assert kind_counts(tiny) == dict.fromkeys(KIND_NAMES, 1)
    double = build("england_synthetic", scale=2.0)
    assert kind_counts(double) == {k: 2 * v for k, v in EXPECTED["england_synthetic"].items()}
    assert double.n_areas == 42


@pytest.mark.parametrize("scale", [0.01, 0.3, 1.0, 3.7])
def test_scaled_counts_exact_in_england(scale: float) -> None:
    table = build("england_synthetic", scale=scale)
    assert np.array_equal(np.bincount(table.kind, minlength=6),
                          scaled_counts("england_synthetic", scale))
    assert np.all(scaled_counts("england_synthetic", scale) >= 1)


def test_england_every_area_has_the_main_kinds(england: ProviderTable) -> None:
    for kind in (Kind.ACUTE, Kind.MENTAL_HEALTH, Kind.COMMUNITY, Kind.PCN, Kind.CARE_HOME,
                 Kind.LOCAL_AUTHORITY):
        per_area = np.bincount(england.area[england.kind == kind], minlength=42)
        assert per_area.min() >= 1, kind.name
    community = np.bincount(england.area[england.kind == Kind.COMMUNITY], minlength=42)
    assert community.max() == 1 and community.sum() == 42


def test_england_shares_follow_population(england: ProviderTable) -> None:
    # Care homes and PCNs are shared by population, so the two per-area counts agree.
    homes = np.bincount(england.area[england.kind == Kind.CARE_HOME], minlength=42)
    pcns = np.bincount(england.area[england.kind == Kind.PCN], minlength=42)
    assert np.corrcoef(homes, pcns)[0, 1] > 0.99
    assert 0.5 * 15000 / 42 / 1.4 < homes.min() and homes.max() < 3.0 * 15000 / 42 / 1.1


def test_determinism() -> None:
    a, b = build("england_synthetic", seed=11), build("england_synthetic", seed=11)
    for field in ("kind", "area", "x", "y", "size"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert a.ids == b.ids and a.area_names == b.area_names
    c = build("england_synthetic", seed=12)
    assert not np.allclose(a.x, c.x)
    assert a.ids == c.ids  # ids depend only on the counts, which are fixed


def test_uses_only_the_given_generator() -> None:
    # The legacy global state is neither read nor advanced.
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    py_before = random.getstate()
    a = build("ics", seed=5)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    assert random.getstate() == py_before
    np.random.seed(1)  # noqa: NPY002
    b = build("ics", seed=5)
    assert np.array_equal(a.x, b.x)
    rng = np.random.default_rng(5)
    build_system(SystemConfig(name="teaching"), rng)
    assert not np.array_equal(build_system(SystemConfig(name="teaching"), rng).x,
                              build("teaching", seed=5).x)  # the generator was advanced


def test_england_geography_clusters_by_area(england: ProviderTable) -> None:
    centre = np.stack([np.bincount(england.area, weights=v) / np.bincount(england.area)
                       for v in (england.x, england.y)], axis=1)
    own, other = [], []
    for a in range(england.n_areas):
        d = np.hypot(england.x - centre[a, 0], england.y - centre[a, 1])
        mine = england.area == a
        own.append(d[mine].mean())
        other.append(d[~mine].mean())
    assert np.all(np.array(own) < np.array(other))
    assert np.mean(own) < 0.2 * np.mean(other)
    assert england.x.min() > -50 and england.x.max() < 600
    assert england.y.min() > -50 and england.y.max() < 650


def test_ics_is_a_plausible_size() -> None:
    table = build("ics", seed=2)
    width = np.percentile(table.x, 97.5) - np.percentile(table.x, 2.5)
    height = np.percentile(table.y, 97.5) - np.percentile(table.y, 2.5)
    assert 25 < max(width, height) < 80


def test_sizes_have_plausible_means(england: ProviderTable) -> None:
    means = {"acute": 5000, "mental_health": 3000, "community": 2000, "pcn": 70,
             "care_home": 30, "local_authority": 1200}
    for name, mean in means.items():
        got = england.size[england.kind == Kind[name.upper()]].mean()
        assert 0.75 * mean < got < 1.25 * mean, name


def test_england_builds_fast() -> None:
    build("england_synthetic")  # warm up
    start = time.perf_counter()
    build("england_synthetic", seed=1)
    assert time.perf_counter() - start < 0.5


def test_to_frame(england: ProviderTable) -> None:
    frame = build("teaching").to_frame()
    assert list(frame.columns) == ["id", "kind", "area", "x_km", "y_km", "size_fte"]
    assert set(frame["kind"]) == set(KIND_NAMES)
    assert set(frame["area"]) == {"teaching"}
    assert isinstance(frame, pd.DataFrame) and len(frame) == 40


def test_unknown_system_name() -> None:
    with pytest.raises(ConfigError, match="choose one of"):
        build_system(SystemConfig(name="wales"), np.random.default_rng(0))


def test_builtin_counts_total() -> None:
    assert sum(BUILTIN_COUNTS["england_synthetic"]) == 16615


# --------------------------------------------------------------------------- CSV
HEADER = "id,kind,x_km,y_km,area,size_fte\n"
GOOD = ("a1,acute,10,20,North,5000\n"
        "p1,pcn,11,21,North,70\n"
        "h1,care_home,12,22,South,30\n")


def write(tmp_path: Path, text: str, name: str = "providers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_file_loads() -> None:
    table = load_csv(EXAMPLE)
    assert table.n == 12
    assert table.area_names == ("North", "South")
    assert set(table.kind.tolist()) == {int(k) for k in Kind}
    assert len(set(table.ids)) == 12
    assert np.all(table.size > 0)


def test_example_file_through_build_system() -> None:
    config = SystemConfig(name="csv", path=str(EXAMPLE))
    table = build_system(config, np.random.default_rng(0))
    assert table.n == 12


def test_csv_order_free_case_and_whitespace(tmp_path: Path) -> None:
    text = (" Size_FTE , AREA,kind,y_km,x_km,notes\n"
            " 5000 , North , Acute Trust ,20,10,anything\n"
            "30,South,CARE-HOME,22,12,\n"
            "\n"
            "70,North,pcn,21,11,x\n")
    table = load_csv(write(tmp_path, text))
    assert table.n == 3
    assert table.kind.tolist() == [Kind.ACUTE, Kind.CARE_HOME, Kind.PCN]
    assert table.area.tolist() == [0, 1, 0]
    assert table.area_names == ("North", "South")
    assert table.x.tolist() == [10.0, 12.0, 11.0]
    assert table.ids == ("acute-0000", "care_home-0000", "pcn-0000")


def test_csv_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes((HEADER + GOOD).encode("utf-8-sig"))
    assert load_csv(path).n == 3


BAD_ROWS = {
    # name: (data line replacing line 3, expected column, expected words)
    "empty cell": ("p1,pcn,,21,North,70", "x_km", "empty"),
    "non-numeric x": ("p1,pcn,abc,21,North,70", "x_km", "not a number"),
    "decimal comma": ('p1,pcn,11,"21,5",North,70', "y_km", "not a number"),
    "nan": ("p1,pcn,11,nan,North,70", "y_km", "finite"),
    "inf size": ("p1,pcn,11,21,North,inf", "size_fte", "finite"),
    "zero size": ("p1,pcn,11,21,North,0", "size_fte", "greater than 0"),
    "negative size": ("p1,pcn,11,21,North,-3", "size_fte", "greater than 0"),
    "absurd size": ("p1,pcn,11,21,North,250000", "size_fte", "100,000"),
    "absurd x": ("p1,pcn,9000,21,North,70", "x_km", "5,000"),
    "absurd y": ("p1,pcn,11,-5001,North,70", "y_km", "5,000"),
    "unknown kind": ("p1,hospice,11,21,North,70", "kind", "local_authority"),
    "empty kind": ("p1,,11,21,North,70", "kind", "empty"),
    "empty area": ("p1,pcn,11,21,  ,70", "area", "empty"),
    "empty id": (",pcn,11,21,North,70", "id", "empty"),
    "duplicate id": ("a1,pcn,11,21,North,70", "id", "line 2"),
}


@pytest.mark.parametrize("case", BAD_ROWS, ids=list(BAD_ROWS))
def test_csv_bad_row_names_line_and_column(tmp_path: Path, case: str) -> None:
    row, column, words = BAD_ROWS[case]
    lines = GOOD.splitlines()
    lines[1] = row  # the second data line: line 3 of the file
    path = write(tmp_path, HEADER + "\n".join(lines) + "\n")
    with pytest.raises(SystemDataError) as info:
        load_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 3" in message
    assert f"column '{column}'" in message
    assert words in message
    assert "header being line 1" in message


def test_csv_collects_several_errors(tmp_path: Path) -> None:
    rows = "".join(f"x{i},pcn,bad,21,North,70\n" for i in range(25))
    with pytest.raises(SystemDataError) as info:
        load_csv(write(tmp_path, HEADER + rows))
    message = str(info.value)
    assert "25 problem(s)" in message
    assert "line 2," in message and "line 11," in message and "line 12," not in message
    assert "and 15 more" in message


def test_csv_too_many_cells(tmp_path: Path) -> None:
    text = HEADER + "a1,acute,10,20,North,5,000\n"
    with pytest.raises(SystemDataError, match=r"line 2: 7 cells but the header has 6"):
        load_csv(write(tmp_path, text))


FILE_PROBLEMS = {
    "empty file": ("", ["empty", "kind, x_km, y_km, area, size_fte"]),
    "blank lines only": ("\n\n  \n", ["empty"]),
    "header only": (HEADER, ["no providers", "line 1"]),
    "missing columns": ("id,kind,x,y_km,region,size_fte\na1,acute,1,2,N,5\n",
                        ["missing required column(s) x_km, area", "found columns",
                         "'region'", "line 1"]),
    "semicolons": ("kind;x_km;y_km;area;size_fte\nacute;1;2;N;5\n",
                   ["missing required column(s)", "';'"]),
    "duplicate column": ("kind,x_km,y_km,area,size_fte,KIND\nacute,1,2,N,5,pcn\n",
                         ["'kind' twice", "line 1"]),
}


@pytest.mark.parametrize("case", FILE_PROBLEMS, ids=list(FILE_PROBLEMS))
def test_csv_file_level_problems(tmp_path: Path, case: str) -> None:
    text, words = FILE_PROBLEMS[case]
    path = write(tmp_path, text)
    with pytest.raises(SystemDataError) as info:
        load_csv(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_csv_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(SystemDataError, match="does not exist") as info:
        load_csv(path)
    assert "nowhere.csv" in str(info.value)


def test_csv_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(SystemDataError, match="folder"):
        load_csv(tmp_path)


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "a1,acute,10,20,Zürich,5000\n").encode("latin-1"))
    with pytest.raises(SystemDataError) as info:
        load_csv(path)
    message = str(info.value)
    assert "not UTF-8 text" in message and "line 2" in message and "UTF-8" in message
    assert str(path) in message


def test_csv_utf16_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + GOOD).encode("utf-16"))
    with pytest.raises(SystemDataError, match="UTF-8"):
        load_csv(path)


def test_system_data_error_is_a_config_error() -> None:
    assert issubclass(SystemDataError, ConfigError)
    assert issubclass(SystemDataError, ValueError)
