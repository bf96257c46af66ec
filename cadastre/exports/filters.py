"""Parsing and checking what an export asks for: the CRS, the bounding box, the instant and
the commune. Every bad value is a CadastreError with a clear message, never a PROJ or SQL
error later."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from cadastre.errors import InvalidInput
from cadastre.exports.errors import InvalidBbox, UnknownCrs

Box = tuple[float, float, float, float]

_EPSG = re.compile(r"^(?:EPSG:|https?://www\.opengis\.net/def/crs/EPSG/0/)(\d{4,6})$",
                   re.IGNORECASE)
_CRS84 = ("CRS84", "OGC:CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84")
_COMMUNE = re.compile(r"^[0-9A-Z]{2,10}$")
#: A bbox may reach this far (degrees) beyond the area where the storage CRS is defined.
BBOX_MARGIN_DEG = 2.0


@dataclass(frozen=True, slots=True)
class Filters:
    """Which rows: one commune, a box (in ``bbox_srid``), the state at an instant."""

    commune: str | None = None
    bbox: Box | None = None
    bbox_srid: int | None = None
    as_of: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.commune is not None:
            out["commune"] = self.commune
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
            out["bbox_crs"] = f"EPSG:{self.bbox_srid}"
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


def parse_srid(value: str) -> int:
    """``EPSG:5897``, the OGC URI form, or CRS84 (WGS 84 longitude/latitude)."""
    text = value.strip()
    if text.upper() in (c.upper() for c in _CRS84):
        return 4326
    match = _EPSG.match(text)
    if not match:
        raise UnknownCrs(f"CRS {value!r} is not of the form EPSG:N",
                         hint="e.g. EPSG:5897 for VN-2000 / TM-3 105°00', EPSG:4326 for WGS 84")
    return int(match.group(1))


@cache
def _crs(srid: int) -> CRS | None:
    try:
        return CRS.from_epsg(srid)
    except CRSError:
        return None


def crs_name(srid: int) -> str:
    crs = _crs(srid)
    return f"EPSG:{srid} ({crs.name})" if crs is not None else f"EPSG:{srid}"


def _area(srid: int) -> Box:
    crs = _crs(srid)
    if crs is None or crs.area_of_use is None:
        return (-180.0, -90.0, 180.0, 90.0)
    return crs.area_of_use.bounds


def check_crs(srid: int, storage_srid: int, *, known_to_postgis: bool) -> None:
    """A CRS both PostGIS and PROJ know, defined where the register lies."""
    if not known_to_postgis or _crs(srid) is None:
        raise UnknownCrs(f"EPSG:{srid} is not a CRS this database knows",
                         hint="e.g. EPSG:5897 for VN-2000 / TM-3 105°00', EPSG:4326 for WGS 84")
    w, s, e, n = _area(srid)
    sw, ss, se, sn = _area(storage_srid)
    if e < sw or w > se or n < ss or s > sn:
        raise UnknownCrs(
            f"{crs_name(srid)} is defined for longitude {w:g}..{e:g}, latitude {s:g}..{n:g}, "
            f"not where the register lies ({crs_name(storage_srid)})",
            hint="use the register's CRS, a VN-2000 TM-3 zone or EPSG:4326")


def parse_bbox(value: str | Sequence[float]) -> Box:
    """Four finite numbers, min before max: ``minx,miny,maxx,maxy``."""
    if isinstance(value, str):
        parts: Sequence[Any] = [p for p in value.replace(" ", "").split(",") if p != ""]
    else:
        parts = value
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise InvalidBbox(f"bbox {value!r} is not four numbers",
                          hint="minx,miny,maxx,maxy") from None
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidBbox(f"bbox {value!r} is not four finite numbers",
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
    transformer = Transformer.from_crs(bbox_srid, 4326, always_xy=True)
    try:
        lonlat = transformer.transform_bounds(*bbox, densify_pts=21)
    except Exception:  # pyproj raises ProjError or returns inf outside a projection
        lonlat = (math.inf,) * 4
    w, s, e, n = _area(storage_srid)
    m = BBOX_MARGIN_DEG
    x0, y0, x1, y1 = lonlat
    inside = all(math.isfinite(v) for v in lonlat) and (
        w - m <= x0 and x1 <= e + m and s - m <= y0 and y1 <= n + m)
    if not inside:
        where = (f"longitude {x0:.3f}..{x1:.3f}, latitude {y0:.3f}..{y1:.3f}"
                 if all(math.isfinite(v) for v in lonlat) else "outside the CRS's domain")
        raise InvalidBbox(
            f"bbox {','.join(f'{v:g}' for v in bbox)} in {crs_name(bbox_srid)} covers {where}, "
            f"beyond the area of the register's CRS {crs_name(storage_srid)} "
            f"(longitude {w:g}..{e:g}, latitude {s:g}..{n:g})",
            hint="give the box in the export's CRS (or say which with bbox-crs); leave it out "
            "to export everything")


def parse_as_of(value: str | date | datetime) -> datetime:
    """A day (the state at the end of that day, local time, as the API reads ``as_of``) or
    an ISO 8601 instant."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone()
    if isinstance(value, date):
        return datetime.combine(value, time.max).astimezone()
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max).astimezone()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"as-of {value!r} is not a date or an ISO 8601 instant",
                           hint="e.g. 2024-05-01 or 2024-05-01T09:00:00+07:00") from None
    return moment if moment.tzinfo else moment.astimezone()


def check_commune(value: str) -> str:
    code = value.strip()
    if not _COMMUNE.match(code):
        raise InvalidInput(f"commune code {value!r} is not a code (2-10 digits or capitals)",
                           hint="e.g. 00037")
    return code
