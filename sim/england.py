"""England's 42 integrated care boards (ICBs) as data: codes, populations, centres, providers.

The figures live in ``sim/data/england/icbs.csv`` (package data, one row per ICB); each
column's publication, date and method is in ``sim/data/england/SOURCES.md`` beside it.
This module only reads and checks that file; ``sim.system`` builds ``system=england``
from it. Columns:

===============  ====================================================================
icb_code         ONS code of the ICB (``E54`` and six digits, April 2023 boundaries)
ods_code         NHS Organisation Data Service code of the ICB (``Q`` and two characters)
name             official name, e.g. "NHS Devon Integrated Care Board"
region           NHS England region
population       resident population, people (ONS mid-year estimate)
x_km, y_km       centroid, British National Grid easting and northing in km
acute ... local_authority
                 providers of each kind in ``sim.kinds.KIND_NAMES`` (whole numbers >= 0)
===============  ====================================================================
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.config import ConfigError
from sim.kinds import KIND_NAMES

__all__ = ["ICB_FILE", "ICB_COLUMNS", "EXPECTED_ICBS", "EnglandDataError", "IcbTable",
           "load_icbs"]

#: The data file shipped with the package.
ICB_FILE = Path(__file__).parent / "data" / "england" / "icbs.csv"
#: Columns the file must have, in any order (other columns are ignored).
ICB_COLUMNS = ("icb_code", "ods_code", "name", "region", "population", "x_km", "y_km",
               *KIND_NAMES)
#: England has 42 ICBs (since 1 July 2022).
EXPECTED_ICBS = 42
#: England's extent on the British National Grid, km, rounded outward (easting from the
#: Isles of Scilly to Lowestoft, northing from the Lizard to the Scottish border).
ENGLAND_BNG_BOX_KM = ((80.0, 660.0), (5.0, 660.0))
#: Largest population a row may hold (people); England has about 57 million.
MAX_POPULATION = 20_000_000
#: Largest count of one kind in one ICB (Greater Manchester has under 1,000 care homes).
MAX_COUNT = 100_000
MAX_REPORTED_ERRORS = 10

_ICB_CODE = re.compile(r"E54\d{6}")
_ODS_CODE = re.compile(r"Q[A-Z0-9]{2}")
_PREFIX, _SUFFIX = "NHS ", " Integrated Care Board"


class EnglandDataError(ConfigError):
    """The ICB data file cannot be used: names the file, line and column of each problem."""


@dataclass(frozen=True)
class IcbTable:
    """The 42 ICBs in file order; array lengths all ``n``.

    Attributes:
        codes: ONS codes (E54...). ods_codes: NHS ODS codes (Q..).
        names: official names. regions: NHS England regions.
        population: resident population, people (int64).
        centre_km: (n, 2) float64, BNG easting and northing of the centroid, km.
        counts: (len(KIND_NAMES), n) int64, providers of each kind (Kind order) per ICB.
    """

    codes: tuple[str, ...]
    ods_codes: tuple[str, ...]
    names: tuple[str, ...]
    regions: tuple[str, ...]
    population: np.ndarray
    centre_km: np.ndarray
    counts: np.ndarray

    def __post_init__(self) -> None:
        # Read-only arrays: the table is shared (cached) by every build of the system.
        for name in ("population", "centre_km", "counts"):
            getattr(self, name).setflags(write=False)

    @property
    def n(self) -> int:
        """Number of ICBs."""
        return len(self.codes)

    @property
    def short_names(self) -> tuple[str, ...]:
        """Names without "NHS " and " Integrated Care Board", e.g. "Devon" (area labels)."""
        return tuple(n.removeprefix(_PREFIX).removesuffix(_SUFFIX) for n in self.names)

    @property
    def population_million(self) -> np.ndarray:
        """Resident population, millions of people."""
        return self.population / 1e6


def load_icbs(path: str | Path | None = None) -> IcbTable:
    """Read and check the ICB file (the packaged one unless ``path`` is given).

    Raises:
        EnglandDataError: naming the file and, for each of the first problems found,
            the line (the header is line 1), the column, the value and what is allowed.
    """
    if path is None:
        return _packaged()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _packaged() -> IcbTable:
    return _load(ICB_FILE)


def _load(path: Path) -> IcbTable:
    pos, body = read_records(path, "ICB data", ICB_COLUMNS)
    return _parse(str(path), pos, body)


def read_records(path: Path, what: str, required: Sequence[str]
                 ) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The position of each required column and the non-blank data lines (with their line
    numbers) of one of the England data files (UTF-8, with or without a BOM).

    Raises:
        EnglandDataError: the file is missing, unreadable or empty, or its header lacks
            a required column (naming the file, the columns found and those required).
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EnglandDataError(f"{what} file {where!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise EnglandDataError(f"cannot read {what} file {where!r}: {err}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    line = 1
    for row in reader:
        if any(c.strip() for c in row):
            records.append((line, row))
        line = reader.line_num + 1
    if not records:
        raise EnglandDataError(f"{where}: the file is empty; expected a header naming "
                               f"{', '.join(required)}")
    header_line, header = records[0]
    names = [h.strip() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise EnglandDataError(
            f"{where}: line {header_line} (the header) lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(repr(n) for n in names)}; required: {', '.join(required)}")
    return {c: names.index(c) for c in required}, records[1:]


def _parse(where: str, pos: dict[str, int], body: list[tuple[int, list[str]]]) -> IcbTable:
    """Check every row; report the first problems together, or build the table."""
    errors: list[str] = []

    def fail(line: int, column: str, problem: str) -> None:
        errors.append(f"line {line}, column {column!r}: {problem}")

    (x_lo, x_hi), (y_lo, y_hi) = ENGLAND_BNG_BOX_KM
    first_seen: dict[tuple[str, str], int] = {}
    rows = []
    for line, row in body:
        cells = {c: (row[p].strip() if p < len(row) else "") for c, p in pos.items()}
        values: dict[str, object] = {}
        for column, pattern, allowed in (("icb_code", _ICB_CODE, "E54 and six digits"),
                                         ("ods_code", _ODS_CODE, "Q and two letters/digits")):
            value = cells[column]
            if not pattern.fullmatch(value):
                fail(line, column, f"{value!r} is not an ICB code; allowed: {allowed}")
            elif (column, value) in first_seen:
                fail(line, column, f"{value!r} is already used on line "
                     f"{first_seen[column, value]}; codes must be unique")
            else:
                first_seen[column, value] = line
            values[column] = value
        for column in ("name", "region"):
            if not cells[column]:
                fail(line, column, "empty cell; a value is required")
            values[column] = cells[column]
        checks = [("population", 1, MAX_POPULATION, True, "a whole number of people > 0"),
                  ("x_km", x_lo, x_hi, False, f"km of BNG easting in [{x_lo:g}, {x_hi:g}]"),
                  ("y_km", y_lo, y_hi, False, f"km of BNG northing in [{y_lo:g}, {y_hi:g}]")]
        checks += [(k, 0, MAX_COUNT, True, f"a whole number of providers in [0, {MAX_COUNT:,}]")
                   for k in KIND_NAMES]
        for column, low, high, whole, allowed in checks:
            text = cells[column]
            try:
                value = float(text)
            except ValueError:
                fail(line, column, f"{text!r} is not a number; allowed: {allowed}")
                continue
            if (not math.isfinite(value) or value < low or value > high
                    or (whole and value != int(value))):
                fail(line, column, f"{text!r} is out of range; allowed: {allowed}")
                continue
            values[column] = value
        rows.append(values)
    if len(body) != EXPECTED_ICBS:
        errors.append(f"{len(body)} data lines; expected one per ICB, {EXPECTED_ICBS}")
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise EnglandDataError(f"{where}: {len(errors)} problem(s) in the ICB data (the "
                               "header is line 1):\n  " + "\n  ".join(shown) + more)
    return IcbTable(
        codes=tuple(r["icb_code"] for r in rows), ods_codes=tuple(r["ods_code"] for r in rows),
        names=tuple(r["name"] for r in rows), regions=tuple(r["region"] for r in rows),
        population=np.array([r["population"] for r in rows], dtype=np.int64),
        centre_km=np.array([[r["x_km"], r["y_km"]] for r in rows], dtype=np.float64),
        counts=np.array([[r[k] for r in rows] for k in KIND_NAMES], dtype=np.int64))
