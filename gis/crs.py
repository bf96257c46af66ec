"""CRS registry for Vietnamese cadastral data.

VN-2000 cadastral maps use 3-degree transverse Mercator zones (TM-3, k = 0.9999, false
easting 500 km) whose central meridian is fixed per province. The EPSG registry (through
PROJ, via pyproj) knows each zone; which meridian a province uses is data, kept in
``gis/data/provinces.csv`` with the province's validity period and its successor after the
2025 reorganisation. Nothing here touches a database or the web.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from pyproj import CRS

#: EPSG codes of the VN-2000 TM-3 zones (5896-5899 and 9205-9218).
VN2000_TM3_CODES: tuple[int, ...] = (5896, 5897, 5898, 5899, *range(9205, 9219))
#: VN-2000 geographic, HN-72 geographic and the HN-72 Gauss-Kruger zones.
VN2000_GEOGRAPHIC = 4756
HN72_GEOGRAPHIC = 4147
HN72_GAUSS_KRUGER: tuple[int, ...] = (2044, 2045)
WGS84 = 4326
#: The storage SRID of a Hà Nội database: VN-2000 / TM-3 105°00'.
HANOI_TM3 = 5897

#: Plausible VN-2000 TM-3 coordinates (DOMAIN.md): eastings and northings in metres.
TM3_EASTING_RANGE = (300_000.0, 700_000.0)
TM3_NORTHING_RANGE = (950_000.0, 2_600_000.0)


@dataclass(frozen=True, slots=True)
class Tm3Zone:
    """One VN-2000 TM-3 zone as PROJ defines it."""

    epsg: int
    name: str
    central_meridian: float


@dataclass(frozen=True, slots=True)
class Province:
    """One version of a province (tỉnh / thành phố trực thuộc trung ương)."""

    code: str
    name: str
    kind: str  # "tinh" (province) or "thanh_pho" (centrally-run city)
    valid_from: date | None
    valid_to: date | None
    successor_code: str | None
    tm3_meridian: float | None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def fold(text: str) -> str:
    """Lower-case, accent-free form of Vietnamese text for matching names (đ -> d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().replace("-", " ").split())


@cache
def tm3_zones() -> dict[int, Tm3Zone]:
    """Every VN-2000 TM-3 zone, keyed by EPSG code, read from PROJ's database."""
    zones: dict[int, Tm3Zone] = {}
    for code in VN2000_TM3_CODES:
        crs = CRS.from_epsg(code)
        meridian = _central_meridian(crs)
        zones[code] = Tm3Zone(epsg=code, name=crs.name, central_meridian=meridian)
    return zones


def _central_meridian(crs: CRS) -> float:
    operation = crs.coordinate_operation
    if operation is None:
        raise ValueError(f"{crs.name} is not a projected CRS")
    for param in operation.params:
        if param.name.lower().startswith("longitude of natural origin"):
            return float(param.value)
    raise ValueError(f"{crs.name} has no central meridian")


def tm3_epsg_for_meridian(meridian: float) -> int:
    """The EPSG code of the VN-2000 TM-3 zone with this central meridian (degrees)."""
    for zone in tm3_zones().values():
        if abs(zone.central_meridian - meridian) < 1e-9:
            return zone.epsg
    raise KeyError(f"no VN-2000 TM-3 zone has central meridian {meridian}")


def is_vn2000_tm3(epsg: int) -> bool:
    return epsg in VN2000_TM3_CODES


@cache
def provinces() -> tuple[Province, ...]:
    """Every province version in the registry (old 63-province and current structure)."""
    text = resources.files("gis").joinpath("data/provinces.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple(
        Province(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            valid_from=date.fromisoformat(row["valid_from"]) if row["valid_from"] else None,
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
            successor_code=row["successor_code"] or None,
            tm3_meridian=float(row["tm3_meridian"]) if row["tm3_meridian"] else None,
        )
        for row in rows
    )


def find_provinces(code_or_name: str) -> list[Province]:
    """Province versions matching an official code (``01``) or a name, old or current.

    Names match without accents or case ("ha noi", "Hà Nội", "TP Hồ Chí Minh").
    """
    key = code_or_name.strip()
    if key.isdigit():
        key = key.zfill(2)
        return [p for p in provinces() if p.code == key]
    folded = fold(key)
    for prefix in ("thanh pho ", "tp. ", "tp ", "tinh "):
        if folded.startswith(prefix):
            folded = folded[len(prefix) :]
    return [p for p in provinces() if fold(p.name) == folded]


def predecessors(province: Province) -> list[Province]:
    """Province versions that ended into this one (for example the 2025 mergers)."""
    if province.valid_from is None:
        return []
    return [
        p
        for p in provinces()
        if p.successor_code == province.code
        and p.valid_to is not None
        and (province.valid_from - p.valid_to).days == 1
    ]


def tm3_candidates(code_or_name: str) -> set[int]:
    """EPSG codes of the TM-3 zones a province's cadastral maps may be in.

    A province that kept its territory has one zone. A province formed by the 2025 mergers
    holds maps drawn in each predecessor's zone, so it may have several: the caller must then
    ask which one (or use the old province's name or code) instead of guessing.
    """
    found = find_provinces(code_or_name)
    if not found:
        raise KeyError(f"unknown province {code_or_name!r}")
    epsg: set[int] = set()
    pending = list(found)
    seen: set[tuple[str, date | None]] = set()
    while pending:
        p = pending.pop()
        if (p.code, p.valid_from) in seen:
            continue
        seen.add((p.code, p.valid_from))
        if p.tm3_meridian is not None:
            epsg.add(tm3_epsg_for_meridian(p.tm3_meridian))
        else:
            pending.extend(predecessors(p))
    return epsg


def plausible_tm3(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """Whether a bounding box looks like VN-2000 TM-3 metres (not degrees, not swapped)."""
    e0, e1 = TM3_EASTING_RANGE
    n0, n1 = TM3_NORTHING_RANGE
    return e0 <= minx <= maxx <= e1 and n0 <= miny <= maxy <= n1


def crs_label(epsg: int) -> str:
    """Human name of an EPSG CRS, as PROJ knows it."""
    return f"EPSG:{epsg} ({CRS.from_epsg(epsg).name})"
