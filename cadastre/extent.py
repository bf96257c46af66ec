"""Where the register lies: the area of use of its storage CRS (the EPSG registry's, as PROJ
gives it through pyproj), and the checks that keep every box a request reads and every
coordinate a change writes inside it.

A VN-2000 / TM-3 zone is defined for a band of Việt Nam (EPSG:5897: longitude 103.5°-106.51°,
latitude 8.33°-23.4°); a coordinate beyond it is a mistake (another CRS, a typo, 1e300), and
PostGIS, which computes with it regardless, would store absurd parcels (a cutting line of
±1e300 once split one parcel into four triangles).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from sqlalchemy.engine import Connection

from cadastre.errors import InvalidBbox, OutsideCrsArea

Box = tuple[float, float, float, float]
WORLD: Box = (-180.0, -90.0, 180.0, 90.0)
#: A bbox may reach this far (degrees) beyond the area where the storage CRS is defined.
BBOX_MARGIN_DEG = 2.0


@cache
def known_crs(srid: int) -> CRS | None:
    try:
        return CRS.from_epsg(srid)
    except CRSError:
        return None


def crs_name(srid: int) -> str:
    crs = known_crs(srid)
    return f"EPSG:{srid} ({crs.name})" if crs is not None else f"EPSG:{srid}"


def area_of_use(srid: int) -> Box:
    """Longitude/latitude bounds of the CRS's area of use (the world when PROJ has none)."""
    crs = known_crs(srid)
    if crs is None or crs.area_of_use is None:
        return WORLD
    return crs.area_of_use.bounds


@cache
def projected_area(srid: int) -> Box:
    """The area of use in the CRS's own x/y (edges densified, so the box holds the area)."""
    crs = known_crs(srid)
    if crs is None or crs.is_geographic:
        return area_of_use(srid)
    to_crs = Transformer.from_crs(4326, srid, always_xy=True)
    x0, y0, x1, y1 = to_crs.transform_bounds(*area_of_use(srid), densify_pts=21)
    return x0, y0, x1, y1


def describe_area(srid: int) -> str:
    w, s, e, n = area_of_use(srid)
    x0, y0, x1, y1 = projected_area(srid)
    where = f"longitude {w:g}..{e:g}, latitude {s:g}..{n:g}"
    crs = known_crs(srid)
    if crs is None or crs.is_geographic:
        return f"the area of use of {crs_name(srid)} ({where})"
    return (f"the area of use of {crs_name(srid)} ({where}; x {x0:.0f}..{x1:.0f}, "
            f"y {y0:.0f}..{y1:.0f})")


# -- boxes that a request reads ------------------------------------------------------------

def parse_bbox(value: str | Sequence[float]) -> Box:
    """Four finite numbers, min before max: ``minx,miny,maxx,maxy``."""
    if isinstance(value, str):
        parts: Sequence[Any] = [p for p in value.replace(" ", "").split(",") if p != ""]
    else:
        parts = value
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise InvalidBbox(f"bbox {str(value)[:80]!r} is not four numbers",
                          hint="minx,miny,maxx,maxy") from None
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidBbox(f"bbox {str(value)[:80]!r} is not four finite numbers",
                          hint="minx,miny,maxx,maxy")
    x0, y0, x1, y1 = numbers
    if x0 >= x1 or y0 >= y1:
        raise InvalidBbox(f"bbox {x0:g},{y0:g},{x1:g},{y1:g} is inverted or empty: the minimum "
                          "comes first", hint="minx,miny,maxx,maxy with minx < maxx, miny < maxy")
    return (x0, y0, x1, y1)


def check_bbox(bbox: Box, bbox_srid: int, storage_srid: int) -> None:
    """Refuse a box that reaches beyond the area where the register's CRS is defined (a
    world-sized box, or metres read as degrees): PostGIS would be asked to project points
    outside the projection's domain, and such a box is a mistake, not a filter."""
    try:
        transformer = Transformer.from_crs(bbox_srid, 4326, always_xy=True)
        lonlat = transformer.transform_bounds(*bbox, densify_pts=21)
    except Exception:  # pyproj raises ProjError or returns inf outside a projection
        lonlat = (math.inf,) * 4
    w, s, e, n = area_of_use(storage_srid)
    m = BBOX_MARGIN_DEG
    x0, y0, x1, y1 = lonlat
    inside = all(math.isfinite(v) for v in lonlat) and (
        w - m <= x0 and x1 <= e + m and s - m <= y0 and y1 <= n + m)
    if not inside:
        where = (f"longitude {x0:.6g}..{x1:.6g}, latitude {y0:.6g}..{y1:.6g}"
                 if all(math.isfinite(v) for v in lonlat) else "outside the CRS's domain")
        raise InvalidBbox(
            f"bbox {','.join(f'{v:g}' for v in bbox)} in {crs_name(bbox_srid)} covers {where}, "
            f"beyond the area of the register's CRS {crs_name(storage_srid)} "
            f"(longitude {w:g}..{e:g}, latitude {s:g}..{n:g})",
            hint="give the box in the CRS named by bbox-crs (default WGS 84 longitude/"
            "latitude), within the register's area")


# -- coordinates that a change writes ------------------------------------------------------

_FIRST_OUTSIDE = sa.text(
    "SELECT ST_X(d.geom) AS x, ST_Y(d.geom) AS y, d.path AS path "
    "FROM ST_DumpPoints(ST_GeomFromText(:w, :s)) d "
    "WHERE NOT (ST_X(d.geom) BETWEEN :x0 AND :x1 AND ST_Y(d.geom) BETWEEN :y0 AND :y1) "
    "ORDER BY d.path LIMIT 1")


def check_wkt_in_area(conn: Connection, wkt: str, srid: int, what: str) -> None:
    """Every coordinate of ``wkt`` (readable WKT in ``srid``, which is the storage CRS for
    every geometry a change writes) lies within the CRS's area of use; otherwise
    OutsideCrsArea (422) naming the first coordinate outside and the area. NaN is outside
    (PostgreSQL orders it above every number)."""
    x0, y0, x1, y1 = projected_area(srid)
    row = conn.execute(_FIRST_OUTSIDE, {"w": wkt, "s": srid, "x0": x0, "y0": y0, "x1": x1,
                                        "y1": y1}).first()
    if row is not None:
        raise OutsideCrsArea(
            f"{what} has the coordinate ({_number(row.x)} {_number(row.y)}) outside "
            f"{describe_area(srid)}",
            hint="coordinates are easting and northing in metres in the register's CRS; "
            "check the CRS the geometry was drawn in")


def _number(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) and abs(value) < 1e12 else f"{value:g}"
