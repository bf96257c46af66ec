"""Checks shared by every entry point (API routes, OGC parameters, exports, CLI) for values
that come from outside: one validator per kind of value, so that a value PostgreSQL or
Python cannot hold is refused where it enters, with a clear message, and never reaches a
driver, a cast or a background job.

- digits: Python's ``str.isdigit`` and ``int()`` accept Unicode digits (``'²'``, ``'٣'``,
  ``'１２'``) that PostgreSQL's casts and the register's codes do not: only ASCII 0-9 count;
- instants: Python holds years 1 to 9999 with any UTC offset below 24 h, PostgreSQL's
  ``timestamptz`` literals offsets up to 15:59; an instant with a larger offset is
  converted to UTC where it enters, and every instant must stay at least a day inside
  Python's range, so that "end of that day" in any time zone and the round trip through
  either driver work;
- ``as_of`` (the register's state at an instant): an instant, and not in the future, since
  the register records what happened, not what will;
- numbers: finite.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cadastre.clock import OFFICE_ZONE
from cadastre.errors import CadastreError, InvalidInput

#: The earliest and latest instants (UTC) accepted anywhere: a day inside what Python's
#: datetime can hold, so that a day's end or start in any time zone can still be computed.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
#: The largest UTC offset PostgreSQL reads in a timestamptz literal (Python allows 23:59).
PG_MAX_OFFSET = timedelta(hours=15, minutes=59)
#: How far ahead of now an ``as_of`` may be: the end of today anywhere on Earth.
AS_OF_LEAD = timedelta(days=1, hours=14)


def is_ascii_digits(text: str) -> bool:
    """``text`` is one or more of the ASCII digits 0-9 (``'²'.isdigit()`` is True, and
    ``int('٣')`` is 3, but neither is a digit to PostgreSQL or in a register code)."""
    return text.isascii() and text.isdigit()


def finite(value: float, what: str, *, error: type[CadastreError] = InvalidInput) -> float:
    if not math.isfinite(value):
        raise error(f"{what} must be a finite number, not {value!r}")
    return value


def instant(value: datetime, what: str, *,
            error: type[CadastreError] = InvalidInput) -> datetime:
    """``value`` when the database and Python can both hold it (a naive value is local
    time), with its own UTC offset when PostgreSQL accepts that offset and in UTC otherwise.
    Refused: an offset that moves the UTC value out of year 1-9999, and any instant within
    a day of those limits."""
    moment = _utc(value)
    if moment is None:
        raise error(f"{what} {value.isoformat()[:40]} is out of range", hint=_RANGE_HINT)
    offset = value.utcoffset()
    return value if offset is not None and abs(offset) <= PG_MAX_OFFSET else moment


def day_start(day: date, what: str, *, error: type[CadastreError] = InvalidInput) -> datetime:
    """The first instant of ``day`` in UTC (the OGC reading of a date)."""
    return _day(day, time.min, what, error=error)


def day_end(day: date, what: str, *, in_vietnam: bool = False,
            error: type[CadastreError] = InvalidInput) -> datetime:
    """The last instant of ``day`` in UTC, or (``in_vietnam``) of the day as Việt Nam counts
    it (Asia/Ho_Chi_Minh, whatever the server's time zone), given in UTC: "as of 3 December"
    at a land office ends at midnight in Hà Nội."""
    return _day(day, time.max, what, zone=OFFICE_ZONE if in_vietnam else UTC, error=error)


def _day(day: date, at: time, what: str, *, zone: tzinfo = UTC,
         error: type[CadastreError]) -> datetime:
    moment = _utc(datetime.combine(day, at, zone))
    if moment is None:
        raise error(f"{what} {day.isoformat()} is out of range", hint=_RANGE_HINT)
    return moment


def _utc(value: datetime) -> datetime | None:
    try:
        moment = (value if value.tzinfo is not None else value.astimezone()).astimezone(UTC)
    except (OverflowError, ValueError):  # the UTC value is before year 1 or after 9999
        return None
    return moment if EARLIEST <= moment <= LATEST else None


def as_of(value: datetime, what: str = "as_of", *, now: datetime | None = None,
          error: type[CadastreError] = InvalidInput) -> datetime:
    """An instant at which to read the register: in range and not in the future (up to the
    end of today in any time zone, so that "as of today" works everywhere)."""
    moment = instant(value, what, error=error)
    if moment > (now or datetime.now(UTC)) + AS_OF_LEAD:
        raise error(f"{what} {value.isoformat()[:40]} is in the future: the register holds "
                    "its past and present states only", hint="leave it out for the current "
                    "state")
    return moment


_RANGE_HINT = ("an instant between 0001-01-02 and 9999-12-30 (UTC), with an offset below "
               "24 hours, e.g. 2024-05-01T09:00:00+07:00")
