"""The shared checks of values from outside (cadastre.inputs, cadastre.extent), no DB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cadastre import extent, inputs
from cadastre.errors import InvalidBbox, InvalidInput, InvalidParameter


@pytest.mark.parametrize(("text", "digits"), [
    ("0123", True), ("²", False), ("٣", False), ("１２", False), ("", False), ("+1", False),
    ("1_0", False), (" 1", False)])
def test_only_ascii_digits_are_digits(text, digits):
    assert inputs.is_ascii_digits(text) is digits


def test_an_instant_keeps_an_offset_postgresql_reads():
    seven = datetime(2024, 5, 1, 9, tzinfo=timezone(timedelta(hours=7)))
    assert inputs.instant(seven, "t").utcoffset() == timedelta(hours=7)
    twenty = datetime(2024, 5, 1, 9, tzinfo=timezone(timedelta(hours=20)))
    moved = inputs.instant(twenty, "t")
    assert moved == twenty and moved.utcoffset() == timedelta(0)  # the same instant, UTC


@pytest.mark.parametrize("value", [
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))),
    datetime(9999, 12, 31, 12, tzinfo=UTC), datetime(1, 1, 1, 12, tzinfo=UTC)])
def test_an_instant_out_of_range_names_itself(value):
    with pytest.raises(InvalidParameter, match=r"^from .* is out of range \(an instant between"):
        inputs.instant(value, "from", error=InvalidParameter)


def test_the_last_day_python_can_name_has_no_end():
    with pytest.raises(InvalidInput, match="as_of 9999-12-31 is out of range"):
        inputs.day_end(date(9999, 12, 31), "as_of")
    assert inputs.day_end(date(9999, 12, 30), "as_of").hour == 23


def test_as_of_is_not_in_the_future():
    now = datetime(2026, 12, 2, 8, tzinfo=UTC)
    assert inputs.as_of(inputs.day_end(date(2026, 12, 2), "as_of"), now=now)
    with pytest.raises(InvalidInput, match="in the future"):
        inputs.as_of(datetime(2026, 12, 5, tzinfo=UTC), now=now)


def test_the_storage_crs_area_in_metres():
    x0, y0, x1, y1 = extent.projected_area(5897)
    assert 330_000 < x0 < 340_000 and 660_000 < x1 < 670_000
    assert 900_000 < y0 < 950_000 and 2_580_000 < y1 < 2_600_000


@pytest.mark.parametrize("box", ["nan,0,1,1", "0,0,inf,1", "1,1,0,0", "a,b,c,d", "1,2,3"])
def test_a_bbox_is_four_finite_numbers_min_first(box):
    with pytest.raises(InvalidBbox):
        extent.parse_bbox(box)


@pytest.mark.parametrize(("box", "srid"), [
    ((-1e308, -1e308, 1e308, 1e308), 5897), ((-180.0, -90.0, 180.0, 90.0), 4326),
    ((0.0, 0.0, 10.0, 10.0), 5897)])
def test_a_bbox_beyond_the_register_is_refused(box, srid):
    with pytest.raises(InvalidBbox, match="beyond the area of the register's CRS"):
        extent.check_bbox(box, srid, 5897)
