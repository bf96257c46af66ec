"""Parsing and checking what an export asks for: the CRS, the bounding box, the instant and
the commune. Every bad value is a CadastreError with a clear message, never a PROJ or SQL
error later."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cadastre import inputs
from cadastre.errors import InvalidInput
from cadastre.exports.errors import UnknownCrs
from cadastre.extent import Box, known_crs
from cadastre.extent import area_of_use as _area
from cadastre.extent import check_bbox as check_bbox  # boxes: as every box a request reads
from cadastre.extent import crs_name as crs_name
from cadastre.extent import parse_bbox as parse_bbox
from cadastre.layers.crs import read_crs_name

_COMMUNE = re.compile(r"^[0-9A-Z]{2,10}$")


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
    """``EPSG:5897``, the OGC URI or URN forms, or CRS84 (WGS 84 longitude/latitude): the
    names every request takes (cadastre.layers.crs)."""
    named = read_crs_name(value)
    if named is None:
        raise UnknownCrs(f"CRS {value!r} is not of the form EPSG:N",
                         hint="e.g. EPSG:5897 for VN-2000 / TM-3 105°00', EPSG:4326 for WGS 84")
    return named[0]


def check_crs(srid: int, storage_srid: int, *, known_to_postgis: bool) -> None:
    """A CRS both PostGIS and PROJ know, defined where the register lies."""
    if not known_to_postgis or known_crs(srid) is None:
        raise UnknownCrs(f"EPSG:{srid} is not a CRS this database knows",
                         hint="e.g. EPSG:5897 for VN-2000 / TM-3 105°00', EPSG:4326 for WGS 84")
    w, s, e, n = _area(srid)
    sw, ss, se, sn = _area(storage_srid)
    if e < sw or w > se or n < ss or s > sn:
        raise UnknownCrs(
            f"{crs_name(srid)} is defined for longitude {w:g}..{e:g}, latitude {s:g}..{n:g}, "
            f"not where the register lies ({crs_name(storage_srid)})",
            hint="use the register's CRS, a VN-2000 TM-3 zone or EPSG:4326")


def parse_as_of(value: str | date | datetime) -> datetime:
    """A day (the state at the end of that day, local time, as the API reads ``as_of``) or
    an ISO 8601 instant; in UTC, within what the database holds and not in the future
    (cadastre.inputs.as_of), so that a job never fails later on an impossible instant."""
    if isinstance(value, datetime):
        return inputs.as_of(value, "as-of")
    if isinstance(value, date):
        return inputs.as_of(inputs.day_end(value, "as-of", in_vietnam=True), "as-of")
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return inputs.as_of(inputs.day_end(day, "as-of", in_vietnam=True), "as-of")
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"as-of {value[:40]!r} is not a date or an ISO 8601 instant",
                           hint="e.g. 2024-05-01 or 2024-05-01T09:00:00+07:00") from None
    return inputs.as_of(moment, "as-of")


def check_commune(value: str) -> str:
    code = value.strip()
    if not _COMMUNE.match(code):
        raise InvalidInput(f"commune code {value!r} is not a code (2-10 digits or capitals)",
                           hint="e.g. 00037")
    return code
