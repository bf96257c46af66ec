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

#: Plausible VN-2000 TM-3 coordinates, in metres: a zone's false easting is 500 km and it
#: spans about 1.5° either side of its meridian; northings run from the far south (~8.5° N)
#: to the northern border (~23.4° N); both with a margin.
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


# --- Source CRS inference for legacy files -------------------------------------------------

#: Việt Nam's extent in degrees (with a margin for islands and neighbouring sheets).
VIETNAM_LONLAT = (101.5, 7.5, 117.5, 23.7)
#: A TM-3 zone is used up to about 1.5° either side of its meridian; allow a margin.
TM3_HALF_WIDTH_DEG = 2.0


class CrsQuestion(ValueError):
    """The source CRS cannot be known (or the coordinates do not fit it) without the user's
    help. The message says what was seen and what to pass."""


@dataclass(frozen=True, slots=True)
class SourceCrs:
    epsg: int | None
    wkt: str
    how: str  # human explanation: ".prj", "--srid", "inferred from --province ..."


def _looks_like_degrees(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def infer_source_crs(
    declared: CRS | None,
    bounds: tuple[float, float, float, float],
    *,
    srid: int | None = None,
    province: str | None = None,
) -> SourceCrs:
    """Decide the CRS of a legacy layer, or raise CrsQuestion saying what to pass.

    Order: ``--srid`` (an explicit statement by the user) > the file's own CRS (.prj, TAB
    header, GeoPackage) > inference from the coordinates and ``--province``. Inference never
    guesses silently: degrees, swapped axes, or a province whose maps use several zones stop
    with a question.
    """
    minx, miny, maxx, maxy = bounds
    if plausible_tm3(miny, minx, maxy, maxx) and not plausible_tm3(*bounds):
        raise CrsQuestion(
            f"the coordinates ({minx:.1f}, {miny:.1f} .. {maxx:.1f}, {maxy:.1f}) look like "
            "VN-2000 TM-3 northing/easting with the axes swapped; fix the file's axis order"
        )
    if srid is not None:
        crs = CRS.from_epsg(srid)
        return SourceCrs(srid, crs.to_wkt(), f"EPSG:{srid} given with --srid")
    if declared is not None:
        if declared.is_projected and _looks_like_degrees(*bounds):
            raise CrsQuestion(
                f"the file declares {declared.name} (metres) but its coordinates ({minx:.4f}, "
                f"{miny:.4f} .. {maxx:.4f}, {maxy:.4f}) look like degrees: the .prj does not "
                "match the data"
            )
        epsg = declared.to_epsg(min_confidence=70)
        if epsg is None or not is_vn2000_tm3(epsg):
            zone = recognise_vn2000_tm3(declared)
            if zone is not None:
                return SourceCrs(
                    zone, CRS.from_epsg(zone).to_wkt(),
                    f"{crs_label(zone)}: the file's CRS ({declared.name}) has the parameters of "
                    "this VN-2000 TM-3 zone on the WGS 84 ellipsoid without the VN-2000 datum "
                    "(as MapInfo and older software write it); read as VN-2000",
                )
        label = f"EPSG:{epsg}" if epsg else declared.name
        return SourceCrs(epsg, declared.to_wkt(), f"{label} declared by the file")
    if _looks_like_degrees(*bounds):
        raise CrsQuestion(
            f"the file has no CRS and its coordinates ({minx:.4f}, {miny:.4f} .. {maxx:.4f}, "
            f"{maxy:.4f}) look like degrees, not the metres of a cadastral map; pass --srid 4326 "
            "(WGS 84) or --srid 4756 (VN-2000 geographic) if degrees are really meant"
        )
    e0, e1 = TM3_EASTING_RANGE
    n0, n1 = TM3_NORTHING_RANGE
    if 18_000_000 <= minx <= maxx < 20_000_000:
        epsg = 2044 if maxx < 19_000_000 else 2045
        return SourceCrs(
            epsg, CRS.from_epsg(epsg).to_wkt(),
            f"EPSG:{epsg} (HN-72 Gauss-Kruger) inferred from the zone prefix of the eastings",
        )
    if not plausible_tm3(*bounds):
        raise CrsQuestion(
            f"the file has no CRS and its coordinates ({minx:.1f}, {miny:.1f} .. {maxx:.1f}, "
            f"{maxy:.1f}) are not VN-2000 TM-3 metres (eastings {e0:,.0f}-{e1:,.0f}, "
            f"northings {n0:,.0f}-{n1:,.0f}); pass --srid N with the file's EPSG code"
        )
    if province is None:
        raise CrsQuestion(
            "the file has no CRS (.prj); its coordinates look like VN-2000 TM-3 but the zone "
            "depends on the province: pass --province CODE (e.g. --province 01 for Hà Nội) "
            "or --srid N"
        )
    try:
        candidates = tm3_candidates(province)
    except KeyError as exc:
        raise CrsQuestion(f"unknown province {province!r}: use its official code or name") from exc
    if len(candidates) != 1:
        zones = ", ".join(crs_label(c) for c in sorted(candidates))
        raise CrsQuestion(
            f"province {province!r} holds maps in several TM-3 zones ({zones}); pass --srid N, "
            "or --province with the pre-2025 province the map comes from"
        )
    (epsg,) = candidates
    return SourceCrs(
        epsg, CRS.from_epsg(epsg).to_wkt(),
        f"{crs_label(epsg)} inferred from province {province!r} and the coordinate ranges",
    )


def recognise_vn2000_tm3(crs: CRS) -> int | None:
    """The VN-2000 TM-3 zone a CRS really is, when a file describes it as a transverse
    Mercator on the WGS 84 ellipsoid with a TM-3 zone's parameters but without the VN-2000
    datum (MapInfo has no VN-2000 datum; many exports lose it). None otherwise."""
    operation = crs.coordinate_operation if crs.is_projected else None
    if operation is None or "transverse mercator" not in operation.method_name.lower():
        return None
    ellipsoid = crs.ellipsoid
    if ellipsoid is None or abs(ellipsoid.semi_major_metre - 6_378_137.0) > 0.01 or abs(
            ellipsoid.inverse_flattening - 298.257223563) > 1e-6:
        return None
    values = {p.name.lower(): float(p.value) for p in operation.params}
    expected = {"scale factor at natural origin": 0.9999, "false easting": 500_000.0,
                "false northing": 0.0, "latitude of natural origin": 0.0}
    if any(abs(values.get(k, float("nan")) - v) > 1e-9 for k, v in expected.items()):
        return None
    meridian = values.get("longitude of natural origin")
    if meridian is None:
        return None
    try:
        return tm3_epsg_for_meridian(meridian)
    except KeyError:
        return None


def check_lonlat_extent(
    crs: SourceCrs,
    lonlat_bounds: tuple[float, float, float, float],
    *,
    province: str | None = None,
) -> None:
    """Refuse coordinates that do not fall where their CRS says they should.

    ``lonlat_bounds`` is the layer's extent transformed to longitude/latitude. For VN-2000
    TM-3 the data must lie in Việt Nam and within the zone's band around its meridian; and
    when a province is given, the zone must be one its maps use.
    """
    lon0, lat0, lon1, lat1 = lonlat_bounds
    if crs.epsg is None or not is_vn2000_tm3(crs.epsg):
        return
    zone = tm3_zones()[crs.epsg]
    vx0, vy0, vx1, vy1 = VIETNAM_LONLAT
    if not (vx0 <= lon0 <= lon1 <= vx1 and vy0 <= lat0 <= lat1 <= vy1):
        raise CrsQuestion(
            f"in {crs_label(crs.epsg)} the data would lie at longitude {lon0:.3f}..{lon1:.3f}, "
            f"latitude {lat0:.3f}..{lat1:.3f}, outside Việt Nam: wrong zone, wrong CRS or "
            "swapped axes"
        )
    if lon0 < zone.central_meridian - TM3_HALF_WIDTH_DEG or (
        lon1 > zone.central_meridian + TM3_HALF_WIDTH_DEG
    ):
        raise CrsQuestion(
            f"the data spans longitude {lon0:.3f}..{lon1:.3f}, outside the band of "
            f"{crs_label(crs.epsg)} (meridian {zone.central_meridian}°): wrong zone"
        )
    if province is not None:
        candidates = tm3_candidates(province)
        if crs.epsg not in candidates:
            expected = ", ".join(crs_label(c) for c in sorted(candidates))
            raise CrsQuestion(
                f"the file is in {crs_label(crs.epsg)} but province {province!r} uses "
                f"{expected}: check --province or the file's .prj"
            )
