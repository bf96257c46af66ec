"""Query parameters of the OGC API items operation, parsed into values the query builders
bind. Every malformed value is an InvalidParameter (400), never a database error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cadastre import inputs
from cadastre.errors import InvalidParameter
from cadastre.layers.crs import Box, OutputCrs, bbox_in_domain, parse_bbox, parse_crs
from cadastre.layers.registry import Layer, Property

DEFAULT_LIMIT = 10
#: The largest page. A larger `limit` is not an error (OGC API - Features Part 1,
#: /req/core/fc-limit-response-1 C): the page is cut to this size.
MAX_LIMIT = 1000
#: Parameters the items operation defines besides the collection's property filters.
STANDARD = frozenset({"bbox", "bbox-crs", "crs", "datetime", "limit", "after", "f"})
_INT = re.compile(r"^[+-]?[0-9]{1,18}$")


@dataclass(frozen=True, slots=True)
class Instant:
    at: datetime


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime | None
    end: datetime | None


When = Instant | Interval


@dataclass(frozen=True, slots=True)
class ItemsQuery:
    out: OutputCrs
    bbox: Box | None  # in bbox_crs's x/y order, inside the working domain
    bbox_crs: OutputCrs
    empty: bool  # the bbox lies outside the domain: no feature can match
    when: When | None
    filters: tuple[tuple[Property, Any], ...]
    limit: int
    after: int | None


def parse_items(layer: Layer, params: Mapping[str, str],
                offer: tuple[OutputCrs, ...]) -> ItemsQuery:
    """Every parameter of an items request; unknown ones are refused (Part 1,
    /req/core/query-param-unknown)."""
    filterable = layer.filters
    unknown = [k for k in params if k not in STANDARD and k not in filterable]
    if unknown:
        raise InvalidParameter(
            f"unknown parameter {unknown[0][:40]!r}",
            hint="items take bbox, bbox-crs, crs, datetime, limit and these property "
            "filters: " + ", ".join(filterable))
    parse_format(params.get("f"))
    out = parse_crs(params.get("crs"), offer)
    bbox_crs = parse_crs(params.get("bbox-crs"), offer, name="bbox-crs")
    if "bbox-crs" in params and "bbox" not in params:
        raise InvalidParameter("bbox-crs needs a bbox")
    bbox, empty = None, False
    if "bbox" in params:
        bbox = bbox_in_domain(parse_bbox(params["bbox"]), bbox_crs)
        empty = bbox is None
    when = parse_datetime(params["datetime"]) if "datetime" in params else None
    filters = tuple((filterable[k], _typed(filterable[k], v)) for k, v in params.items()
                    if k in filterable)
    after = _integer(params["after"], "after") if "after" in params else None
    return ItemsQuery(out, bbox, bbox_crs, empty, when, filters,
                      parse_limit(params.get("limit")), after)


def parse_format(value: str | None) -> None:
    """``f``: GeoJSON is the only format offered."""
    if value is not None and value not in ("json", "geojson"):
        raise InvalidParameter("only f=json (GeoJSON) is offered")


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if len(value) > 100 or not re.fullmatch(r"\+?[0-9]+", value.strip()):
        raise InvalidParameter("limit must be a whole number from 1", hint=f"at most "
                               f"{MAX_LIMIT} features are returned per page")
    limit = int(value)
    if limit < 1:
        raise InvalidParameter("limit must be at least 1")
    return min(limit, MAX_LIMIT)


def parse_datetime(value: str) -> When:
    """RFC 3339 date-time (an instant), a date (that whole day, UTC) or an interval
    ``start/end`` with ``..`` or nothing for an open end. Instants are in UTC and within
    what the database holds (cadastre.inputs): 9999-12-31, whose day ends where Python's
    datetime does, or an offset that moves the UTC value out of year 1-9999, is a 400."""
    text = value.strip()
    if "/" in text:
        start_text, _, end_text = text.partition("/")
        start = _bound(start_text, end=False)
        end = _bound(end_text, end=True)
        if start is None and end is None:
            raise InvalidParameter("datetime interval '../..' has no bound")
        if start is not None and end is not None and start > end:
            raise InvalidParameter("datetime interval ends before it starts")
        return Interval(start, end)
    if _is_date(text):
        day = _date(text)
        return Interval(_day_start(day), _day_end(day))
    return Instant(_datetime(text))


def _bound(text: str, *, end: bool) -> datetime | None:
    text = text.strip()
    if text in ("", ".."):
        return None
    if _is_date(text):
        day = _date(text)
        return _day_end(day) if end else _day_start(day)
    return _datetime(text)


def _day_start(day: date) -> datetime:
    return inputs.day_start(day, "datetime", error=InvalidParameter)


def _day_end(day: date) -> datetime:
    return inputs.day_end(day, "datetime", error=InvalidParameter)


def _is_date(text: str) -> bool:
    return re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is not None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidParameter(f"datetime {text[:40]!r} is not a valid date") from exc


def _datetime(text: str) -> datetime:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
                        r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})", text):
        raise InvalidParameter(f"datetime {text[:40]!r} is not an RFC 3339 date-time with a "
                               "time zone", hint="e.g. 2024-05-01T00:00:00Z, 2024-05-01, "
                               "or 2024-01-01/2024-12-31")
    fraction = re.search(r"\.([0-9]+)", text)
    if fraction and len(fraction.group(1)) > 6:  # Python keeps microseconds
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:
        raise InvalidParameter(f"datetime {text[:40]!r} is not a valid date-time") from exc
    return inputs.instant(moment, "datetime", error=InvalidParameter)


def _typed(prop: Property, value: str) -> Any:
    if prop.type == "integer":
        return _integer(value, prop.name)
    if len(value) > 200:
        raise InvalidParameter(f"{prop.name} is too long")
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise InvalidParameter(f"{prop.name} holds a NUL character")
    return value


def _integer(value: str, name: str) -> int:
    if not _INT.match(value.strip()):
        raise InvalidParameter(f"{name} must be a whole number")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise InvalidParameter(f"{name} is out of range")
    return number
