"""Building the provider population: the built-in systems and a user's CSV.

A system is a table with one row per provider (kind, area, location, size). The
built-in systems follow the structure of England's health and care system
(design notes: MODEL.md "Scale and time"; facts: evidence/calibration.md):

=================  =====  =====  ======  =========  =====  =========  ====  ======
system             areas  acute  mental  community  PCN    care home  LA    total
=================  =====  =====  ======  =========  =====  =========  ====  ======
teaching               1      1       1          1      6         30     1      40
ics                    1      3       1          1     30        361     4     400
england               42    120      50         42  1,298     15,000   152  16,662
england_synthetic     42    120      50         42  1,250     15,000   153  16,615
=================  =====  =====  ======  =========  =====  =========  ====  ======

``england`` is the 42 real integrated care boards (ICBs) read by :mod:`sim.england` from
``sim/data/england/icbs.csv``: their names and codes, ONS populations, centroids on the
British National Grid (km) and providers of each kind per ICB (the file's SOURCES.md
gives each figure's source, and says which counts are estimates and how they were
made). ``england_synthetic`` is the random map used before: 42 areas with drawn
populations and positions, for experiments that need many different maps.

Geography (a flat map, km). Each area (an integrated care system) is a disc whose
radius grows with the square root of its population; inside it, each local
authority is a *place* (a town) and providers cluster around places: hospitals,
trust headquarters and council offices sit near a place centre; PCNs and care
homes scatter a few km around a place chosen in proportion to its population.
For ``england``, area centres are the ICBs' centroids and populations are
ONS estimates. For ``england_synthetic``, area populations are drawn log-uniformly
between 0.5 and 3 million (King's Fund: each ICS serves 0.5-3 million people; the draw's mean,
1.4 million, times 42 is about England's 57 million) and area discs are spread
without much overlap over a 550 km x 600 km map (England is about 130,000 km²:
the discs cover about 40% of the map). The built-in ``ics`` is a typical system
of 1.26 million people (30 PCNs of 42,000 patients), about 60 km across; the
``teaching`` area has 0.25 million (6 PCNs), about 25 km across.

Sizes are funded posts in full-time equivalents (FTE), drawn lognormal with the
stated mean (``mu = ln(mean) - sigma²/2``) and log-sd. These are assumptions,
not tuning knobs; the calibration facts behind them:

- acute trust ≈ 5,000 FTE, log-sd 0.4: ≈100,000 general and acute beds over
  ≈120 acute trusts is ≈830 beds a trust, at ≈6 staff FTE per bed (assumption;
  NHS Digital's ≈1.2 million hospital and community FTE over ≈209 trusts gives
  a similar order; not in calibration.md, verify before relying on it);
- mental health trust ≈ 3,000 FTE, community trust ≈ 2,000 FTE, log-sd 0.4:
  assumptions of the same order as the trusts' published workforce (verify);
- PCN ≈ 70 FTE, log-sd 0.3: a PCN's ≈42,000 patients over a mean practice list
  of 9,724 is ≈4.3 practices, at ≈16 FTE per practice (GPs, nurses, other
  clinical and admin staff: assumption);
- care home ≈ 30 FTE, log-sd 0.5, floor 5: ≈455,000 places over ≈15,000 homes
  is ≈30 places per home, at ≈1 FTE of care staff per place (assumption);
- local authority (adult social care) ≈ 1,200 FTE, log-sd 0.4: assumption
  (verify against Skills for Care's local-authority workforce estimate).

``scale`` multiplies every built-in count (rounded half up, at least 1 of each
kind); the geography of the areas stays the same, so a larger scale means denser
places. The number of areas does not scale. For ``england`` the national total of a
kind is scaled and then shared over the ICBs in proportion to the file's counts (so
at scale 1 each ICB has exactly its counts; an ICB with none of a kind gets none).
Where a kind has fewer providers than there are areas (e.g. at a small ``scale``),
they go to distinct areas drawn in proportion to population (for ``england``, to the
file's counts); otherwise each area gets at least one and the rest
are shared in proportion to population by largest remainders, so totals are exact.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError, SystemConfig
from sim.england import load_icbs
from sim.kinds import KIND_NAMES, N_KINDS, Kind, parse_kind

__all__ = [
    "ProviderTable",
    "SystemDataError",
    "build_system",
    "load_csv",
    "BUILTIN_COUNTS",
    "BUILTIN_SYSTEMS",
    "national_counts",
    "REQUIRED_COLUMNS",
]


class SystemDataError(ConfigError):
    """A provider list (CSV) whose content cannot be used: names file, line, column, value."""


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class ProviderTable:
    """One row per provider; arrays all of length n.

    Attributes:
        kind: int8, values of :class:`sim.kinds.Kind`.
        area: int32, 0..n_areas-1, index into ``area_names`` (an ICS / area).
        x: float64, km (easting on a flat map).
        y: float64, km (northing).
        size: float64, funded posts in FTE (> 0).
        ids: a unique id per provider.
        area_names: the label of each area index.
        area_codes: a code per area index (ONS ICB codes for ``england``), or empty.
    """

    kind: np.ndarray
    area: np.ndarray
    x: np.ndarray
    y: np.ndarray
    size: np.ndarray
    ids: tuple[str, ...]
    area_names: tuple[str, ...]
    area_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Normalise dtypes so every consumer can rely on them, and check the shape once.
        casts = {"kind": np.int8, "area": np.int32, "x": np.float64, "y": np.float64,
                 "size": np.float64}
        for name, dtype in casts.items():
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        object.__setattr__(self, "ids", tuple(self.ids))
        object.__setattr__(self, "area_names", tuple(self.area_names))
        object.__setattr__(self, "area_codes", tuple(self.area_codes))
        if self.area_codes and len(self.area_codes) != len(self.area_names):
            raise ValueError("ProviderTable.area_codes must be empty or one per area name")
        n = len(self.ids)
        for name in casts:
            arr = getattr(self, name)
            if arr.ndim != 1 or len(arr) != n:
                raise ValueError(f"ProviderTable.{name} has shape {arr.shape}; expected ({n},)")
        if n and (self.area.min() < 0 or self.area.max() >= len(self.area_names)):
            raise ValueError("ProviderTable.area holds an index outside area_names")

    @property
    def n(self) -> int:
        """Number of providers."""
        return len(self.ids)

    @property
    def n_areas(self) -> int:
        """Number of areas (length of ``area_names``)."""
        return len(self.area_names)

    def area_frame(self) -> pd.DataFrame:
        """One row per area: area (index), area_code ("" if none), area_name, providers."""
        codes = self.area_codes or ("",) * self.n_areas
        return pd.DataFrame({
            "area": np.arange(self.n_areas), "area_code": list(codes),
            "area_name": list(self.area_names),
            "providers": np.bincount(self.area, minlength=self.n_areas),
        })

    def to_frame(self) -> pd.DataFrame:
        """The table with readable labels: id, kind (name), area (name), x_km, y_km, size_fte."""
        return pd.DataFrame({
            "id": list(self.ids),
            "kind": np.asarray(KIND_NAMES, dtype=object)[self.kind],
            "area": np.asarray(self.area_names, dtype=object)[self.area],
            "x_km": self.x,
            "y_km": self.y,
            "size_fte": self.size,
        })


# --------------------------------------------------------------------------- assumptions
_A, _M, _C, _P, _H, _L = (int(k) for k in Kind)

#: Provider counts per kind (in Kind order) of each built-in system at scale 1.
BUILTIN_COUNTS: dict[str, tuple[int, ...]] = {
    "teaching": (1, 1, 1, 6, 30, 1),
    "ics": (3, 1, 1, 30, 361, 4),
    # community: one community services provider per ICS: the 15 standalone community
    # trusts, and elsewhere the community arms of acute or mental health trusts,
    # represented as providers of their own so that every area has community care.
    "england_synthetic": (120, 50, 42, 1250, 15000, 153),
}
#: Every built-in system name (``england`` reads its counts from sim/data/england).
BUILTIN_SYSTEMS = ("teaching", "ics", "england", "england_synthetic")

#: Mean funded FTE and log-sd of each kind's size (see the module docstring).
SIZE_MEAN_FTE = np.array([5000.0, 3000.0, 2000.0, 70.0, 30.0, 1200.0])
SIZE_LOG_SD = np.array([0.4, 0.4, 0.4, 0.3, 0.5, 0.4])
SIZE_FLOOR_FTE = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 1.0])

#: Area disc radius per sqrt(million people), km: 42 areas of ~1.4 million cover
#: ~40% of a 550 x 600 km map.
RADIUS_KM_PER_SQRT_MILLION = 27.0
ENGLAND_MAP_KM = (550.0, 600.0)
ENGLAND_AREAS = 42
ENGLAND_POP_RANGE_MILLION = (0.5, 3.0)
PCN_PATIENTS_MILLION = 0.042
#: Centre of the single area of the teaching and ics systems, km.
SINGLE_AREA_CENTRE_KM = (50.0, 50.0)
#: Place centres lie within this share of the area radius of the area centre.
PLACE_SPREAD = 0.6
#: Sd of providers' scatter around their place, as a share of the area radius.
SCATTER_SHARE = 0.2
#: Scatter of each kind relative to SCATTER_SHARE: sites of trusts and councils sit in
#: towns; PCNs and care homes spread over the place.
KIND_SCATTER = np.array([0.15, 0.3, 0.3, 1.0, 1.0, 0.1])
#: Concentration of the Dirichlet split of an area's population over its places.
PLACE_CONCENTRATION = 2.0
#: Largest share of two areas' radii their discs may overlap when placed.
AREA_OVERLAP = 0.15


# --------------------------------------------------------------------------- building
def build_system(config: SystemConfig, rng: np.random.Generator | int | None) -> ProviderTable:
    """Build the provider population chosen by ``config.name``.

    Args:
        config: ``name`` is one of BUILTIN_SYSTEMS or ``csv`` (reads ``config.path``);
            ``scale`` multiplies built-in counts (ignored for csv).
            ``layout_seed`` is not read here: the caller seeds ``rng`` with it.
        rng: the only source of randomness (a Generator; an int seed is accepted).

    Returns:
        The providers, ordered by kind then area for built-in systems (file order for csv).

    Raises:
        ConfigError: unknown system name or scale out of range.
        SystemDataError: a CSV that cannot be used.
        EnglandDataError: an ICB data file that cannot be used (``england``).
    """
    name = config.name
    if name == "csv":
        if not config.path:
            raise ConfigError("system.path is required when system.name='csv'")
        return load_csv(config.path)
    if name not in BUILTIN_SYSTEMS:
        raise ConfigError(f"system.name={name!r} is not allowed; choose one of "
                          f"{', '.join([*BUILTIN_SYSTEMS, 'csv'])}")
    scale = float(config.scale)
    if not math.isfinite(scale) or scale <= 0:
        raise ConfigError(f"system.scale={config.scale!r} must be a positive number")
    rng = np.random.default_rng(rng)
    counts = scaled_counts(name, scale)
    if name == "england":
        return _build_england(counts, rng)
    if name == "england_synthetic":
        pop = _draw_populations(ENGLAND_AREAS, rng)
        radius = RADIUS_KM_PER_SQRT_MILLION * np.sqrt(pop)
        centres = _place_areas(radius, ENGLAND_MAP_KM, rng)
        area_names = tuple(f"ics-{i + 1:02d}" for i in range(ENGLAND_AREAS))
    else:
        base = BUILTIN_COUNTS[name]
        pop = np.array([base[_P] * PCN_PATIENTS_MILLION])
        radius = RADIUS_KM_PER_SQRT_MILLION * np.sqrt(pop)
        centres = np.array([SINGLE_AREA_CENTRE_KM])
        area_names = (name,)
    per_area = np.stack([_split_over_areas(int(c), pop, rng) for c in counts])
    return _layout(per_area, pop, centres, radius, area_names, rng)


def national_counts(name: str) -> tuple[int, ...]:
    """Provider counts per kind (Kind order) of a built-in system at scale 1."""
    if name == "england":
        return tuple(int(c) for c in load_icbs().counts.sum(axis=1))
    return BUILTIN_COUNTS[name]


def scaled_counts(name: str, scale: float = 1.0) -> np.ndarray:
    """Provider counts per kind of a built-in system at ``scale`` (half up, >= 1 if present)."""
    base = np.asarray(national_counts(name), dtype=np.float64)
    scaled = np.floor(base * scale + 0.5).astype(np.int64)
    return np.where(base > 0, np.maximum(scaled, 1), 0)


def _build_england(counts: np.ndarray, rng: np.random.Generator) -> ProviderTable:
    """The real ICBs: centres and populations from the data, providers shared by its counts."""
    icbs = load_icbs()
    pop = icbs.population_million
    radius = RADIUS_KM_PER_SQRT_MILLION * np.sqrt(pop)
    per_area = np.zeros((N_KINDS, icbs.n), dtype=np.int64)
    for kind, total in enumerate(counts):
        weight = icbs.counts[kind].astype(np.float64)
        if total == weight.sum():  # scale 1 (or a rounding that lands on it): the data as is
            per_area[kind] = icbs.counts[kind]
            continue
        has = np.flatnonzero(weight > 0)  # an ICB with none of a kind keeps none
        per_area[kind, has] = _split_over_areas(int(total), weight[has], rng)
    return _layout(per_area, pop, icbs.centre_km, radius, icbs.short_names, rng,
                   area_codes=icbs.codes)


def _draw_populations(n_areas: int, rng: np.random.Generator) -> np.ndarray:
    """Area populations in millions, log-uniform over the ICS range (0.5-3 million)."""
    lo, hi = np.log(ENGLAND_POP_RANGE_MILLION)
    return np.exp(rng.uniform(lo, hi, size=n_areas))


def _place_areas(radius: np.ndarray, map_km: tuple[float, float],
                 rng: np.random.Generator, candidates: int = 256) -> np.ndarray:
    """Centres of area discs on the map, largest first, avoiding overlap where possible.

    Each disc tries ``candidates`` random centres inside the map and takes the first
    whose overlap with every placed disc is below AREA_OVERLAP of their radii; if
    none fits, the candidate with the most clearance.
    """
    width, height = map_km
    n = len(radius)
    centres = np.zeros((n, 2))
    placed: list[int] = []
    for i in np.argsort(-radius, kind="stable"):
        r = radius[i]
        cand = rng.uniform((r, r), (max(width - r, r), max(height - r, r)),
                           size=(candidates, 2))
        if placed:
            p = np.asarray(placed)
            dist = np.linalg.norm(cand[:, None, :] - centres[p][None, :, :], axis=2)
            clearance = (dist - (1.0 - AREA_OVERLAP) * (r + radius[p])[None, :]).min(axis=1)
            ok = np.flatnonzero(clearance >= 0)
            pick = ok[0] if ok.size else int(np.argmax(clearance))
        else:
            pick = 0
        centres[i] = cand[pick]
        placed.append(int(i))
    return centres


def _split_over_areas(total: int, weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Share ``total`` providers over areas in proportion to ``weight``, exactly.

    With at least one per area possible, every area gets one and the rest go by
    largest remainder of the proportional quota (raising an area to its minimum
    is paid for by the most over-allocated areas). With fewer providers than
    areas, they go to distinct areas drawn in proportion to weight.
    """
    n = len(weight)
    share = weight / weight.sum()
    if total < n:
        out = np.zeros(n, dtype=np.int64)
        if total > 0:
            out[rng.choice(n, size=total, replace=False, p=share)] = 1
        return out
    return _largest_remainder(total, share, minimum=1)


def _largest_remainder(total: int, share: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Integer allocation of ``total`` close to ``total * share`` with a floor (Hamilton)."""
    quota = total * share
    alloc = np.maximum(np.floor(quota), minimum).astype(np.int64)
    diff = total - int(alloc.sum())
    if diff > 0:  # hand out the rest by largest remainder (stable for ties)
        order = np.argsort(-(quota - alloc), kind="stable")
        alloc[order[:diff]] += 1
    while diff < 0:  # minimums overshot: take back from the most over-allocated
        excess = np.where(alloc > minimum, alloc - quota, -np.inf)
        take = np.argsort(-excess, kind="stable")[: min(-diff, int((alloc > minimum).sum()))]
        alloc[take] -= 1
        diff = total - int(alloc.sum())
    return alloc


def _layout(per_area: np.ndarray, pop: np.ndarray, centres: np.ndarray, radius: np.ndarray,
            area_names: tuple[str, ...], rng: np.random.Generator,
            area_codes: tuple[str, ...] = ()) -> ProviderTable:
    """Places, locations and sizes of providers, given counts per (kind, area)."""
    n_kinds, n_areas = per_area.shape
    # Providers in order of kind, then area.
    flat = per_area.ravel()
    kind = np.repeat(np.repeat(np.arange(n_kinds), n_areas), flat)
    area = np.repeat(np.tile(np.arange(n_areas), n_kinds), flat)
    n = len(kind)
    group_start = np.repeat(np.cumsum(flat) - flat, flat)
    rank = np.arange(n) - group_start  # position within its (kind, area) group

    # Places: one per local authority in the area (at least one).
    n_places = np.maximum(per_area[_L], 1)
    place_offset = np.cumsum(n_places) - n_places
    place_area = np.repeat(np.arange(n_areas), n_places)
    n_all = len(place_area)
    angle = rng.uniform(0.0, 2.0 * np.pi, n_all)
    dist = PLACE_SPREAD * radius[place_area] * np.sqrt(rng.random(n_all))
    dist[n_places[place_area] == 1] = 0.0  # a lone place is the area's centre
    place_x = centres[place_area, 0] + dist * np.cos(angle)
    place_y = centres[place_area, 1] + dist * np.sin(angle)
    gamma = rng.gamma(PLACE_CONCENTRATION, 1.0, n_all)
    place_w = gamma / np.bincount(place_area, weights=gamma, minlength=n_areas)[place_area]
    # Places of each area from most to least populous.
    by_weight = np.lexsort((-place_w, place_area))

    # Trusts and councils: the k-th of a kind in an area at the k-th largest place.
    ranked = by_weight[place_offset[area] + rank % n_places[area]]
    # PCNs and care homes: a place drawn in proportion to its population. Weights sum to
    # one within an area, so area a's places span [a, a + 1) of the running total.
    cum = np.cumsum(place_w)
    drawn = np.searchsorted(cum, area + rng.random(n), side="right")
    drawn = np.clip(drawn, place_offset[area], place_offset[area] + n_places[area] - 1)
    spread = (kind == _P) | (kind == _H)
    place = np.where(spread, drawn, ranked)

    sd = SCATTER_SHARE * radius[area] * KIND_SCATTER[kind]
    x = place_x[place] + sd * rng.standard_normal(n)
    y = place_y[place] + sd * rng.standard_normal(n)

    sigma = SIZE_LOG_SD[kind]
    mu = np.log(SIZE_MEAN_FTE[kind]) - 0.5 * sigma**2
    size = np.maximum(np.exp(mu + sigma * rng.standard_normal(n)), SIZE_FLOOR_FTE[kind])

    return ProviderTable(kind=kind, area=area, x=x, y=y, size=size,
                         ids=_generated_ids(kind, rank_in_kind(kind)),
                         area_names=area_names, area_codes=area_codes)


def rank_in_kind(kind: np.ndarray) -> np.ndarray:
    """0-based position of each provider among providers of its kind, in table order."""
    kind = np.asarray(kind, dtype=np.int64)
    order = np.argsort(kind, kind="stable")
    counts = np.bincount(kind, minlength=N_KINDS)
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(kind), dtype=np.int64)
    rank[order] = np.arange(len(kind)) - np.repeat(starts, counts)
    return rank


def _generated_ids(kind: np.ndarray, rank: np.ndarray) -> tuple[str, ...]:
    """Ids like ``care_home-0012``: kind name and a zero-padded number within the kind."""
    counts = np.bincount(np.asarray(kind, dtype=np.int64), minlength=N_KINDS)
    width = [max(4, len(str(max(int(c) - 1, 0)))) for c in counts]
    return tuple(f"{KIND_NAMES[k]}-{r:0{width[k]}d}"
                 for k, r in zip(kind.tolist(), rank.tolist(), strict=True))


# --------------------------------------------------------------------------- CSV
#: Columns a provider CSV must have (any order; an ``id`` column is optional).
REQUIRED_COLUMNS = ("kind", "x_km", "y_km", "area", "size_fte")
MAX_SIZE_FTE = 100_000.0
MAX_COORD_KM = 5_000.0
MAX_REPORTED_ERRORS = 10


def load_csv(path: str | Path) -> ProviderTable:
    """Read a user's provider list (e.g. prepared from the NHS Organisation Data Service).

    The file is UTF-8 CSV with a header line naming the columns ``kind``, ``x_km``,
    ``y_km``, ``area`` and ``size_fte`` in any order, and optionally ``id``; other
    columns are ignored. ``kind`` is one of the names in ``sim.kinds.KIND_NAMES``
    (case-insensitive; spaces or hyphens allowed); ``x_km``/``y_km`` a location in km
    on a flat map (e.g. British National Grid easting/northing divided by 1,000);
    ``area`` any label (areas are numbered in order of first appearance);
    ``size_fte`` funded posts in FTE. Nothing in the file is evaluated. Rows keep
    the file's order; without an ``id`` column, ids like ``care_home-0003`` are made.

    Raises:
        SystemDataError: naming the file and, for each of the first problems found,
            the line (the header is line 1), the column, the value and what is allowed.
    """
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise SystemDataError(f"provider file {where!r} does not exist "
                              f"(resolved to {path.resolve()})")
    if path.is_dir():
        raise SystemDataError(f"provider file {where!r} is a folder, not a CSV file")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise SystemDataError(f"cannot read provider file {where!r}: {err.strerror}") from err
    try:
        text = raw.decode("utf-8-sig")  # tolerate the byte-order mark Excel writes
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise SystemDataError(
            f"{where}: not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line} cannot be "
            "read as UTF-8; the file was probably saved as Latin-1/Windows-1252). Re-save it "
            "as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)') and try again"
        ) from None
    if "\x00" in text:
        raise SystemDataError(f"{where}: contains NUL bytes; it is not a plain-text CSV file "
                              "(was it saved as a spreadsheet or as UTF-16?). Re-save it as "
                              "'CSV UTF-8'")
    try:
        rows = [(line, row) for line, row in _read_rows(text) if any(c.strip() for c in row)]
    except csv.Error as err:
        raise SystemDataError(f"{where}: not a readable CSV file ({err})") from None
    if not rows:
        raise SystemDataError(f"{where}: the file is empty; expected a header line naming the "
                              f"columns {', '.join(REQUIRED_COLUMNS)} (and optionally id), "
                              "then one line per provider")
    header_line, header_row = rows[0]
    columns = _check_header(where, header_line, header_row)
    body = rows[1:]
    if not body:
        raise SystemDataError(f"{where}: no providers: the file has a header (line "
                              f"{header_line}) but no data lines")
    return _parse_rows(where, columns, len(header_row), header_line, body)


def _read_rows(text: str) -> list[tuple[int, list[str]]]:
    """(physical line number where the record starts, cells) for each CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    start = 1
    for row in reader:
        out.append((start, row))
        start = reader.line_num + 1
    return out


def _check_header(where: str, line: int, header: list[str]) -> dict[str, int]:
    """Column name -> position; raises if a required column is missing or duplicated."""
    names = [h.strip().lower() for h in header]
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if name and name in seen:
            raise SystemDataError(f"{where}: line {line} (the header) names column {name!r} "
                                  "twice; each column may appear once")
        seen[name] = pos
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        found = ", ".join(repr(h.strip()) for h in header) or "none"
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            hint = (" The header looks separated by ';', tab or '|' rather than commas: "
                    "save the file as comma-separated CSV.")
        raise SystemDataError(
            f"{where}: missing required column(s) {', '.join(missing)} in the header "
            f"(line {line}); found columns: {found}. The header must name "
            f"{', '.join(REQUIRED_COLUMNS)} in any order (id optional, other columns are "
            f"ignored).{hint}")
    return {c: seen[c] for c in (*REQUIRED_COLUMNS, "id") if c in seen}


def _show(value: str, limit: int = 40) -> str:
    """A cell value quoted for a message, shortened if long."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _number(text: str, low: float, high: float, allowed: str, strict_low: bool) -> float:
    """Parse a finite number within bounds; raise ValueError with the reason."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{_show(text)} is not a number (use '.' for decimals and no "
                         f"thousands separators); allowed: {allowed}") from None
    if not math.isfinite(value):
        raise ValueError(f"{_show(text)} is not a finite number (NaN and infinity are not "
                         f"allowed); allowed: {allowed}")
    too_low = value <= low if strict_low else value < low
    if too_low or value > high:
        raise ValueError(f"{_show(text)} is out of range; allowed: {allowed}")
    return value


def _parse_rows(where: str, columns: dict[str, int], width: int, header_line: int,
                body: list[tuple[int, list[str]]]) -> ProviderTable:
    """Validate every data row; collect the first problems, then raise or build the table."""
    errors: list[str] = []
    n_errors = 0

    def fail(line: int, column: str | None, problem: str) -> None:
        nonlocal n_errors
        n_errors += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            at = f"line {line}" + (f", column {column!r}" if column else "")
            errors.append(f"{at}: {problem}")

    coord_allowed = f"a number of km between {-MAX_COORD_KM:,.0f} and {MAX_COORD_KM:,.0f}"
    size_allowed = f"funded posts in FTE, greater than 0 and at most {MAX_SIZE_FTE:,.0f}"
    kinds, areas, xs, ys, sizes, ids = [], [], [], [], [], []
    area_index: dict[str, int] = {}
    id_line: dict[str, int] = {}
    for line, row in body:
        extra = [c for c in row[width:] if c.strip()]
        if extra:
            fail(line, None, f"{len(row)} cells but the header has {width} columns (a value "
                 "containing a comma must be in double quotes)")
            continue
        cells = {c: (row[pos].strip() if pos < len(row) else "") for c, pos in columns.items()}
        ok = True
        for column in (*REQUIRED_COLUMNS, "id"):
            if column in cells and not cells[column]:
                fail(line, column, "empty cell; a value is required")
                ok = False
        kind = 0
        if cells["kind"]:
            try:
                kind = int(parse_kind(cells["kind"]))
            except KeyError:
                fail(line, "kind", f"unknown kind {_show(cells['kind'])}; allowed: "
                     f"{', '.join(KIND_NAMES)} (case-insensitive)")
                ok = False
        values = {}
        for column, low, high, allowed, strict in (
                ("x_km", -MAX_COORD_KM, MAX_COORD_KM, coord_allowed, False),
                ("y_km", -MAX_COORD_KM, MAX_COORD_KM, coord_allowed, False),
                ("size_fte", 0.0, MAX_SIZE_FTE, size_allowed, True)):
            if not cells[column]:
                continue
            try:
                values[column] = _number(cells[column], low, high, allowed, strict)
            except ValueError as err:
                fail(line, column, str(err))
                ok = False
        if cells.get("id"):
            pid = cells["id"]
            if pid in id_line:
                fail(line, "id", f"id {_show(pid)} on line {line} is already used on line "
                     f"{id_line[pid]}; ids must be unique")
                ok = False
            else:
                id_line[pid] = line
        if not ok:
            continue
        kinds.append(kind)
        areas.append(area_index.setdefault(cells["area"], len(area_index)))
        xs.append(values["x_km"])
        ys.append(values["y_km"])
        sizes.append(values["size_fte"])
        ids.append(cells.get("id"))
    if n_errors:
        more = (f"\n  ... and {n_errors - len(errors)} more"
                if n_errors > len(errors) else "")
        raise SystemDataError(
            f"{where}: {n_errors} problem(s) in the provider list (lines of the file as a text "
            f"editor counts them, the header being line {header_line}):\n  "
            + "\n  ".join(errors) + more)
    kind_arr = np.asarray(kinds, dtype=np.int8)
    if "id" not in columns:
        ids = list(_generated_ids(kind_arr, rank_in_kind(kind_arr)))
    return ProviderTable(kind=kind_arr, area=np.asarray(areas, dtype=np.int32),
                         x=np.asarray(xs), y=np.asarray(ys), size=np.asarray(sizes),
                         ids=tuple(ids), area_names=tuple(area_index))
