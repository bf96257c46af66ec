"""CRS names in requests, read in one place (``read_crs_name``) for the parcel lookups, the
OGC API, request bodies and exports, and the CRSs the OGC API offers (Part 2: ``crs``,
``bbox-crs``, ``Content-Crs``): WGS 84 as CRS84 (longitude, latitude: the GeoJSON default)
and as EPSG:4326 (latitude, longitude, the EPSG axis order, as Part 2 requires), every
VN-2000 TM-3 zone (easting, northing) and the database's storage CRS.

Bounding boxes are clamped to a working domain around Việt Nam before PostGIS transforms
them, so that a world-sized box (or one in metres far outside a zone) never asks PROJ for a
point outside a projection's domain: the part of a box outside the domain holds no data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from pyproj import CRS, Transformer

from cadastre.errors import InvalidInput, InvalidParameter, UnsupportedCrs
from gis.crs import VN2000_TM3_CODES, WGS84

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
#: Working domain (WGS 84 longitude/latitude): Việt Nam with its islands and a wide margin.
DOMAIN_LONLAT = (98.0, 4.0, 120.0, 26.0)
#: Output precision: ~1 cm in degrees, 1 mm in metres.
DEGREE_DIGITS, METRE_DIGITS = 7, 3

_EPSG = re.compile(
    r"^(?:\[?EPSG:(?:\d*:)?(\d{4,6})\]?|https?://www\.opengis\.net/def/crs/EPSG/0/(\d{4,6})"
    r"|urn:ogc:def:crs:EPSG:[\d.]*:(\d{4,6}))$", re.IGNORECASE)
_CRS84 = re.compile(
    r"^(?:\[?OGC:CRS84\]?|CRS84|https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84"
    r"|urn:ogc:def:crs:OGC:1\.3:CRS84)$", re.IGNORECASE)

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class OutputCrs:
    """A CRS coordinates are written (or read) in, with the precision to print them at.
    ``lat_lon``: an EPSG geographic CRS, whose axis order is latitude first (OGC API -
    Features Part 2), so coordinates are flipped after transforming; WGS 84 longitude first
    is CRS84, the default."""

    srid: int  # the PostGIS SRID coordinates are transformed to
    digits: int
    lat_lon: bool = False
    geographic: bool = True

    @property
    def uri(self) -> str:
        if self.srid == WGS84 and not self.lat_lon:
            return CRS84_URI
        return EPSG_URI.format(self.srid)

    @property
    def content_crs(self) -> str:
        """The ``Content-Crs`` header of coordinates in this CRS."""
        return f"<{self.uri}>"


CRS84 = OutputCrs(WGS84, DEGREE_DIGITS)
#: A requested CRS: its EPSG code and whether it is CRS84 (WGS 84, longitude first).
RequestedCrs = tuple[int, bool]
#: What read_crs_name gives for CRS84: WGS 84 with longitude first.
CRS84_NAME: RequestedCrs = (WGS84, True)


def candidates(storage_srid: int) -> tuple[int, ...]:
    """The SRIDs the service would offer: WGS 84, the storage CRS, the TM-3 zones."""
    return (WGS84, storage_srid, *(c for c in VN2000_TM3_CODES if c != storage_srid))


@cache
def offered(storage_srid: int, known: frozenset[int]) -> tuple[OutputCrs, ...]:
    """CRS84 first (the default), then EPSG:4326, the storage CRS and the TM-3 zones that
    the database's spatial_ref_sys knows (``known``; sql/functions/vn2000_zones.sql adds
    the zones PostGIS lacks)."""
    zones = [c for c in VN2000_TM3_CODES if c != storage_srid and c in known]
    return (CRS84, OutputCrs(WGS84, DEGREE_DIGITS, lat_lon=True),
            *(_projected_or_not(c) for c in [storage_srid, *zones]))


def _projected_or_not(srid: int) -> OutputCrs:
    geographic = CRS.from_epsg(srid).is_geographic
    return OutputCrs(srid, DEGREE_DIGITS if geographic else METRE_DIGITS,
                     geographic=geographic)


def storage_crs(offer: tuple[OutputCrs, ...]) -> OutputCrs:
    return offer[2]


def parse_crs(value: str | None, offer: tuple[OutputCrs, ...], *, name: str = "crs",
              ) -> OutputCrs:
    """An offered CRS from its OGC URI (or ``EPSG:N``, ``[EPSG:N]``, ``OGC:CRS84``);
    CRS84 when absent. Anything else is a 400 naming the parameter."""
    if value is None or not value.strip():
        return CRS84
    named = read_crs_name(value)
    if named == CRS84_NAME:
        return CRS84
    if named is not None:
        uri = EPSG_URI.format(named[0])
        for crs in offer:
            if crs.uri == uri:
                return crs
    raise UnsupportedCrs(f"{name} {value[:80]!r} is not offered",
                         hint=f"see the collection's crs list; e.g. {storage_crs(offer).uri} "
                         f"or {CRS84_URI}")


def requested_crs(value: str | None, *, name: str = "crs") -> RequestedCrs:
    """Any CRS by name, for the reads that take every CRS PostGIS knows (the parcel
    lookups): ``EPSG:5897``, ``[EPSG:5897]``, the OGC URI or URN forms, or CRS84; default
    CRS84 (WGS 84 longitude/latitude, RFC 7946). Anything else is a 400 naming the
    parameter."""
    if value is None or not value.strip():
        return CRS84_NAME
    named = read_crs_name(value)
    if named is None:
        raise UnsupportedCrs(f"{name} {value[:80]!r} is not a CRS name",
                             hint=f"e.g. {name}=EPSG:5897 for VN-2000 / TM-3 105°00', or "
                             f"{name}={CRS84_URI}")
    return named


def body_srid(value: str | None) -> int:
    """The EPSG code of a CRS named in a request body (the same names; default WGS 84): a
    422 like any other bad body field."""
    named = read_crs_name(value) if value is not None and value.strip() else CRS84_NAME
    if named is None:
        raise InvalidInput(f"crs {value!r} is not of the form EPSG:N",
                           hint="e.g. crs=EPSG:5897 for VN-2000 / TM-3 105°00'")
    return named[0]


def read_crs_name(value: str) -> RequestedCrs | None:
    """The EPSG code a CRS name means and whether it is CRS84 (WGS 84, longitude first),
    or None when it is not a name of either form: ``EPSG:N``, ``[EPSG:N]``, the OGC URI or
    URN of EPSG N, ``OGC:CRS84``, ``CRS84`` or its URI or URN."""
    text = value.strip()
    if _CRS84.match(text):
        return CRS84_NAME
    match = _EPSG.match(text)
    if match:
        return int(next(g for g in match.groups() if g)), False
    return None


def parse_bbox(text: str) -> Box:
    """``minx,miny,maxx,maxy`` (or the six numbers of a 3D box), in the bbox-crs's axis
    order. Numbers only, finite."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter("bbox must have 4 (or 6) comma-separated numbers",
                               hint="bbox=105.84,21.02,105.86,21.04")
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise InvalidParameter("bbox must have 4 (or 6) comma-separated numbers") from exc
    if not all(math.isfinite(v) for v in values):
        raise InvalidParameter("bbox values must be finite numbers")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    return values[0], values[1], values[2], values[3]


def bbox_in_domain(box: Box, crs: OutputCrs) -> Box | None:
    """The part of ``box`` (in ``crs``'s axis order) inside the working domain, as
    (minx, miny, maxx, maxy) in x/y order, or None when nothing of it is. A first value
    larger than the third is a box across the antimeridian in a geographic CRS (Part 1),
    and an error in a projected one; a lower edge above the upper edge is an error."""
    x0, y0, x1, y1 = (box[1], box[0], box[3], box[2]) if crs.lat_lon else box
    if y0 > y1:
        raise InvalidParameter("bbox's lower edge is above its upper edge",
                               hint="bbox=minx,miny,maxx,maxy")
    if crs.geographic:
        if not (-90 <= y0 <= 90 and -90 <= y1 <= 90 and -180 <= x0 <= 180
                and -180 <= x1 <= 180):
            raise InvalidParameter("bbox is outside ±180° longitude / ±90° latitude",
                                   hint="for CRS84 the order is lon,lat,lon,lat; for "
                                   "EPSG:4326 lat,lon,lat,lon")
        parts = [(x0, x1)] if x0 <= x1 else [(x0, 180.0), (-180.0, x1)]
    else:
        if x0 > x1:
            raise InvalidParameter("bbox's left edge is right of its right edge",
                                   hint="bbox=minx,miny,maxx,maxy")
        parts = [(x0, x1)]
    dx0, dy0, dx1, dy1 = domain(crs.srid)
    for a, b in parts:
        clipped = (max(a, dx0), max(y0, dy0), min(b, dx1), min(y1, dy1))
        if clipped[0] <= clipped[2] and clipped[1] <= clipped[3]:
            return clipped
    return None


@cache
def domain(srid: int) -> Box:
    """The working domain in ``srid``'s x/y order (densified edges, so the box holds it)."""
    if srid == WGS84:
        return DOMAIN_LONLAT
    to_crs = Transformer.from_crs(WGS84, srid, always_xy=True)
    x0, y0, x1, y1 = to_crs.transform_bounds(*DOMAIN_LONLAT, densify_pts=64)
    return x0, y0, x1, y1
