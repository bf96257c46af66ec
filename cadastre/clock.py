"""The offices' clock: Việt Nam time (Asia/Ho_Chi_Minh, UTC+7, no daylight saving) for every
day the law counts and every time a person reads, whichever time zone the server runs in.

Sessions of the project's connections run with ``TimeZone`` set to this zone (cadastre.db,
api.app), so SQL that turns an instant into a day or into text does so in Việt Nam; code
that computes a day still says so explicitly (``TODAY_SQL``, ``office_day``), so that it does
not depend on a session setting."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

OFFICE_TIME_ZONE = "Asia/Ho_Chi_Minh"
OFFICE_ZONE = ZoneInfo(OFFICE_TIME_ZONE)
#: Today in Việt Nam by the database's clock (the start of the transaction), in SQL.
TODAY_SQL = f"(now() AT TIME ZONE '{OFFICE_TIME_ZONE}')::date"


def office_today(conn: Connection) -> date:
    """Today in Việt Nam by the database's clock: the one clock of intake, pauses,
    deadlines, feedback and reports."""
    today: date = conn.execute(sa.text(f"SELECT {TODAY_SQL}")).scalar_one()
    return today


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
