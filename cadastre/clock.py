"""The offices' clock: Việt Nam time (Asia/Ho_Chi_Minh, UTC+7, no daylight saving) for every
day the law counts and every time a person reads, whichever time zone the server runs in.

Sessions of the project's connections run with ``TimeZone`` set to this zone (cadastre.db,
api.app), so SQL that turns an instant into a day or into text does so in Việt Nam; code
that computes a day still says so explicitly (``TODAY_SQL``, ``office_day``), so that it does
not depend on a session setting.

The one-stop service (receptions, events, results, apology letters, feedback, and the
"today" of intake, deadlines, delegations and KPIs) reads the **office clock** of the
database, ``office_now()`` / ``office_today()`` (sql/functions/offices.sql): the same clock,
unless a trusted session moved it by an offset for a training copy or a test that must see
working days pass (:func:`set_office_clock`). ``TODAY_SQL`` (the map's data in force today)
keeps the real one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

OFFICE_TIME_ZONE = "Asia/Ho_Chi_Minh"
OFFICE_ZONE = ZoneInfo(OFFICE_TIME_ZONE)
#: Today in Việt Nam by the database's clock (the start of the transaction), in SQL.
TODAY_SQL = f"(now() AT TIME ZONE '{OFFICE_TIME_ZONE}')::date"


#: Where a trusted session records the office clock's offset (database_setting).
CLOCK_OFFSET_SETTING = "office_clock_offset"


def office_today(conn: Connection) -> date:
    """Today in Việt Nam by the database's office clock (the start of the transaction):
    the one clock of intake, pauses, deadlines, apologies, delegations, feedback and
    reports."""
    today: date = conn.execute(sa.text("SELECT office_today()")).scalar_one()
    return today


def office_clock_offset(conn: Connection) -> timedelta:
    """How far the office clock is from the real one (zero unless moved)."""
    offset: timedelta = conn.execute(sa.text("SELECT office_clock_offset()")).scalar_one()
    return offset


def set_office_clock(conn: Connection, offset: timedelta) -> None:
    """Move the one-stop service's clock by ``offset`` from the real one (zero: back to it),
    for a training copy or a test that must see working days pass: receptions, events,
    results, apologies, feedback and every "today" of the service follow it; tokens, rate
    limits, the audit log and the register's lifespans do not. A trusted session only (the
    API's login cannot write database settings); it holds from the caller's commit."""
    if offset:
        conn.execute(sa.text(
            "INSERT INTO database_setting (name, value) VALUES (:n, :v) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
            {"n": CLOCK_OFFSET_SETTING, "v": f"{offset.total_seconds():.0f} seconds"})
    else:
        conn.execute(sa.text("DELETE FROM database_setting WHERE name = :n"),
                     {"n": CLOCK_OFFSET_SETTING})


def office_day(moment: datetime) -> date:
    """The day in Việt Nam of an instant (a reception, an event)."""
    return office_time(moment).date()


def office_time(moment: datetime) -> datetime:
    """An instant as a clock in Việt Nam shows it. A naive value is taken as UTC (what the
    database's instants are), never as the server's local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(OFFICE_ZONE)


def office_stamp(moment: datetime, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """An instant written for a person in Việt Nam (a receipt, a letter, a CLI line)."""
    return office_time(moment).strftime(fmt)
