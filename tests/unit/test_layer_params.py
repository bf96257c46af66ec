"""OGC API parameter parsing (no database): limit, datetime, bbox and CRS forms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cadastre.errors import InvalidParameter, UnsupportedCrs
from cadastre.layers import crs
from cadastre.layers.params import (
    MAX_LIMIT,
    Instant,
    Interval,
    parse_datetime,
    parse_items,
    parse_limit,
)
from cadastre.layers.registry import PARCELS

OFFER = crs.offered(5897, frozenset({4326, 5896, 5897, 9210}))


def test_limit_default_and_cap():
    assert parse_limit(None) == 10
    assert parse_limit("25") == 25
    assert parse_limit("5000") == MAX_LIMIT
    assert parse_limit("9" * 90) == MAX_LIMIT
    for bad in ("0", "-1", "1.5", "ten", "9" * 200):
        with pytest.raises(InvalidParameter):
            parse_limit(bad)


def test_datetime_forms():
    assert parse_datetime("2024-05-01T10:00:00Z") == Instant(
        datetime(2024, 5, 1, 10, tzinfo=UTC))
    day = parse_datetime("2024-05-01")
    assert isinstance(day, Interval) and day.start == datetime(2024, 5, 1, tzinfo=UTC)
    assert day.end is not None and day.end.date().isoformat() == "2024-05-01"
    assert parse_datetime("../2024-05-01T00:00:00+07:00").start is None  # type: ignore[union-attr]
    assert parse_datetime("2024-05-01T00:00:00.123456789Z") == Instant(
        datetime(2024, 5, 1, 0, 0, 0, 123456, tzinfo=UTC))
    for bad in ("2024-05-01T10:00:00", "2024-02-30", "tomorrow", "../..", "2025-01-01/2024-01-01",
                "2024-05-01T25:00:00Z"):
        with pytest.raises(InvalidParameter):
            parse_datetime(bad)


def test_crs_forms_and_only_offered_ones():
    assert crs.parse_crs(None, OFFER) is crs.CRS84
    assert crs.parse_crs("OGC:CRS84", OFFER) is crs.CRS84
    assert crs.parse_crs("EPSG:5897", OFFER).srid == 5897
    assert crs.parse_crs("[EPSG:9210]", OFFER).srid == 9210
    wgs84 = crs.parse_crs("http://www.opengis.net/def/crs/EPSG/0/4326", OFFER)
    assert wgs84.srid == 4326 and wgs84.lat_lon
    for bad in ("EPSG:3857", "EPSG:9211", "mercator", "EPSG:"):  # 9211: unknown to the database
        with pytest.raises(UnsupportedCrs):
            crs.parse_crs(bad, OFFER)


def test_bbox_is_clamped_to_the_domain_and_checked():
    world = crs.bbox_in_domain((-180, -90, 180, 90), crs.CRS84)
    assert world == crs.DOMAIN_LONLAT
    assert crs.bbox_in_domain((170, -10, -170, 10), crs.CRS84) is None  # across 180°, no data
    wgs84 = crs.parse_crs("EPSG:4326", OFFER)
    assert crs.bbox_in_domain((21.0, 105.8, 21.1, 105.9), wgs84) == (105.8, 21.0, 105.9, 21.1)
    tm3 = crs.parse_crs("EPSG:5897", OFFER)
    huge = crs.bbox_in_domain((-1e12, -1e12, 1e12, 1e12), tm3)
    assert huge is not None and huge == crs.domain(5897)
    with pytest.raises(InvalidParameter):
        crs.bbox_in_domain((105.9, 21.1, 105.8, 21.0), crs.CRS84)
    with pytest.raises(InvalidParameter):
        crs.bbox_in_domain((586000, 2326000, 585000, 2327000), tm3)


def test_unknown_parameters_and_filters():
    query = parse_items(PARCELS, {"parcel_number": "12", "commune_code": "00037"}, OFFER)
    assert [(p.name, v) for p, v in query.filters] == [("parcel_number", 12),
                                                       ("commune_code", "00037")]
    with pytest.raises(InvalidParameter):
        parse_items(PARCELS, {"owner_name": "x"}, OFFER)
    with pytest.raises(InvalidParameter):
        parse_items(PARCELS, {"bbox-crs": "EPSG:5897"}, OFFER)
    with pytest.raises(InvalidParameter):  # PostgreSQL text cannot hold NUL
        parse_items(PARCELS, {"land_use": "OD\x00T"}, OFFER)
