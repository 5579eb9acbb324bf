"""England's area context as data: regional labour markets and earlier integration programmes.

Two package data files beside ``icbs.csv`` (each figure's source, date and status in
``sim/data/england/SOURCES.md``); this module only reads and checks them, and
:mod:`sim.area_context` turns them into the model's per-provider rates and offsets.

``regions.csv``: one row per NHS England region (exactly the regions of ``icbs.csv``)
plus one row ``England`` (the national figure of the same publications):

========================  ==============================================================
region                    NHS England region, or ``England``
nhs_vacancy               NHS vacancy rate (share 0-1 of posts)
nhs_turnover              NHS leaver rate (share 0-1 of staff per year)
social_care_vacancy       adult social care vacancy rate (share 0-1 of posts)
social_care_turnover      adult social care turnover (share 0-1 of staff per year)
<rate>_status             ``published``, ``partial`` or ``estimate`` (see SOURCES.md)
========================  ==============================================================

``history.csv``: one row per ICB (``icb_code`` as in ``icbs.csv``), flags 0/1
``pioneer_2013``, ``pioneer_2015``, ``ics_2017_2018`` and a free-text ``footprints``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.england import EnglandDataError, IcbTable, load_icbs, read_records

__all__ = ["HISTORY_FILE", "RATES", "REGION_FILE", "STATUSES", "History", "RegionalRates",
           "load_history", "load_regions"]

_DATA = Path(__file__).parent / "data" / "england"
#: The data files shipped with the package.
REGION_FILE = _DATA / "regions.csv"
HISTORY_FILE = _DATA / "history.csv"
#: The four published rates of ``regions.csv`` (each with a ``<rate>_status`` column).
RATES = ("nhs_vacancy", "nhs_turnover", "social_care_vacancy", "social_care_turnover")
#: What a figure is (SOURCES.md explains each).
STATUSES = ("published", "partial", "estimate")
#: The row holding the national figures.
NATIONAL = "England"
#: Flags of ``history.csv``.
PROGRAMMES = ("pioneer_2013", "pioneer_2015", "ics_2017_2018")
#: Largest plausible rate (a share of posts or of staff per year).
MAX_RATE = 1.0
MAX_REPORTED_ERRORS = 10


@dataclass(frozen=True)
class RegionalRates:
    """The rates of ``regions.csv``.

    Attributes:
        regions: the NHS England regions in file order (``England`` not among them).
        rates: rate name (:data:`RATES`) -> (len(regions),) float64, share 0-1.
        status: rate name -> each region's status word.
        national: rate name -> the ``England`` row's figure, share 0-1.
    """

    regions: tuple[str, ...]
    rates: dict[str, np.ndarray]
    status: dict[str, tuple[str, ...]]
    national: dict[str, float]


@dataclass(frozen=True)
class History:
    """Each ICB's earlier integration programmes, in the order of ``icbs.csv``.

    Attributes:
        codes: ICB codes (as ``IcbTable.codes``).
        flags: programme (:data:`PROGRAMMES`) -> (n,) 0/1 int64.
        footprints: the old sites counted for each ICB (free text).
    """

    codes: tuple[str, ...]
    flags: dict[str, np.ndarray]
    footprints: tuple[str, ...]

    @property
    def score(self) -> np.ndarray:
        """History score 0-1 of each ICB: (had any pioneer + was in an early ICS) / 2."""
        pioneer = np.maximum(self.flags["pioneer_2013"], self.flags["pioneer_2015"])
        return (pioneer + self.flags["ics_2017_2018"]) / 2.0


def _raise(path: Path, errors: list[str], what: str) -> None:
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise EnglandDataError(f"{path}: {len(errors)} problem(s) in the {what} (the header "
                               "is line 1):\n  " + "\n  ".join(shown) + more)


def load_regions(path: str | Path | None = None, icbs: IcbTable | None = None
                 ) -> RegionalRates:
    """Read and check ``regions.csv`` (the packaged one unless ``path`` is given).

    Args:
        path: a regions file; None for the packaged one.
        icbs: the ICB table whose regions the file must cover (default: the packaged one).

    Raises:
        EnglandDataError: naming the file and, for each of the first problems found, the
            line, the column, the value and what is allowed.
    """
    if path is None and icbs is None:
        return _packaged_regions()
    return _load_regions(Path(path) if path is not None else REGION_FILE,
                         icbs if icbs is not None else load_icbs())


@lru_cache(maxsize=1)
def _packaged_regions() -> RegionalRates:
    return _load_regions(REGION_FILE, load_icbs())


def _load_regions(path: Path, icbs: IcbTable) -> RegionalRates:
    columns = ("region", *[c for r in RATES for c in (r, f"{r}_status")])
    pos, body = read_records(path, "regional labour market", columns)
    expected = sorted(set(icbs.regions))
    errors: list[str] = []
    seen: dict[str, int] = {}
    values: dict[str, dict[str, float]] = {}
    status: dict[str, dict[str, str]] = {}
    for line, row in body:
        cells = {c: (row[p].strip() if p < len(row) else "") for c, p in pos.items()}
        region = cells["region"]
        if region != NATIONAL and region not in expected:
            errors.append(f"line {line}, column 'region': {region!r} is not an NHS England "
                          f"region of icbs.csv; allowed: {', '.join(expected)} or {NATIONAL}")
            continue
        if region in seen:
            errors.append(f"line {line}, column 'region': {region!r} is already on line "
                          f"{seen[region]}; one row per region")
            continue
        seen[region] = line
        values[region], status[region] = {}, {}
        for rate in RATES:
            text = cells[rate]
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and 0.0 < value <= MAX_RATE):
                errors.append(f"line {line}, column {rate!r}: {text!r} is not a rate; "
                              f"allowed: a share in (0, {MAX_RATE:g}]")
            values[region][rate] = value
            word = cells[f"{rate}_status"]
            if word not in STATUSES:
                errors.append(f"line {line}, column '{rate}_status': {word!r} is not a "
                              f"status; allowed: {', '.join(STATUSES)}")
            status[region][rate] = word
    for region in [*expected, NATIONAL]:
        if region not in seen:
            errors.append(f"no row for region {region!r}; one row per NHS England region of "
                          f"icbs.csv and one for {NATIONAL}")
    _raise(path, errors, "regional labour market")
    regions = tuple(r for r in seen if r != NATIONAL)  # file order
    return RegionalRates(
        regions=regions,
        rates={r: np.array([values[g][r] for g in regions], dtype=np.float64) for r in RATES},
        status={r: tuple(status[g][r] for g in regions) for r in RATES},
        national={r: values[NATIONAL][r] for r in RATES})


def load_history(path: str | Path | None = None, icbs: IcbTable | None = None) -> History:
    """Read and check ``history.csv`` (the packaged one unless ``path`` is given).

    The rows may come in any order; the result follows ``icbs`` (every ICB exactly once).

    Raises:
        EnglandDataError: naming the file and, for each of the first problems found, the
            line, the column, the value and what is allowed.
    """
    if path is None and icbs is None:
        return _packaged_history()
    return _load_history(Path(path) if path is not None else HISTORY_FILE,
                         icbs if icbs is not None else load_icbs())


@lru_cache(maxsize=1)
def _packaged_history() -> History:
    return _load_history(HISTORY_FILE, load_icbs())


def _load_history(path: Path, icbs: IcbTable) -> History:
    pos, body = read_records(path, "collaboration history",
                             ("icb_code", *PROGRAMMES, "footprints"))
    known = set(icbs.codes)
    errors: list[str] = []
    rows: dict[str, tuple[dict[str, int], str]] = {}
    seen: dict[str, int] = {}
    for line, row in body:
        cells = {c: (row[p].strip() if p < len(row) else "") for c, p in pos.items()}
        code = cells["icb_code"]
        if code not in known:
            errors.append(f"line {line}, column 'icb_code': {code!r} is not an ICB code of "
                          "icbs.csv; allowed: the 42 codes there (E54...)")
            continue
        if code in seen:
            errors.append(f"line {line}, column 'icb_code': {code!r} is already on line "
                          f"{seen[code]}; one row per ICB")
            continue
        seen[code] = line
        flags = {}
        for name in PROGRAMMES:
            if cells[name] not in ("0", "1"):
                errors.append(f"line {line}, column {name!r}: {cells[name]!r} is not a flag; "
                              "allowed: 0 or 1")
            flags[name] = 1 if cells[name] == "1" else 0
        if any(flags.values()) and not cells["footprints"]:
            errors.append(f"line {line}, column 'footprints': empty, but a programme is "
                          "flagged; name the site(s) counted for this ICB")
        rows[code] = (flags, cells["footprints"])
    missing = [c for c in icbs.codes if c not in seen]
    if missing:
        errors.append(f"no row for ICB(s) {', '.join(missing)}; one row per ICB of icbs.csv")
    _raise(path, errors, "collaboration history")
    return History(
        codes=icbs.codes,
        flags={p: np.array([rows[c][0][p] for c in icbs.codes], dtype=np.int64)
               for p in PROGRAMMES},
        footprints=tuple(rows[c][1] for c in icbs.codes))
