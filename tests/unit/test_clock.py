"""The offices' clock: days and times in Việt Nam whatever the server's time zone."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import pytest

from cadastre import inputs
from cadastre.clock import office_day, office_stamp


@pytest.fixture
def server_in_new_york():
    """The process's local time zone set far from Việt Nam's (restored afterwards)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_as_of_a_day_ends_at_midnight_in_ha_noi(server_in_new_york):
    end = inputs.day_end(date(2026, 12, 3), "as_of", in_vietnam=True)
    assert end == datetime(2026, 12, 3, 16, 59, 59, 999999, tzinfo=UTC)
    assert inputs.day_end(date(2026, 12, 3), "as_of") == datetime(
        2026, 12, 3, 23, 59, 59, 999999, tzinfo=UTC)


def test_an_instant_is_written_as_a_clock_in_ha_noi_shows_it(server_in_new_york):
    moment = datetime(2026, 12, 3, 6, 39, tzinfo=UTC)
    assert office_stamp(moment) == "03/12/2026 13:39"
    assert office_stamp(datetime(2026, 12, 3, 17, 5)) == "04/12/2026 00:05"  # naive = UTC
    assert office_day(datetime(2026, 12, 3, 17, 5, tzinfo=UTC)) == date(2026, 12, 4)
