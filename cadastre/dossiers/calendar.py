"""Appointment dates: reception + the procedure's statutory time in working days, skipping
weekends, public holidays and paused intervals (waiting for a supplement or for the
citizen to pay land taxes); the clock starts on the working day after reception; remote
and mountain communes get extra days. Holidays are data (public_holiday), because Tết and
the swapped days are announced year by year. A day is a day in Việt Nam (Asia/Ho_Chi_Minh),
and today is the database's today (``office_today``), whichever the server's time zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.errors import InvalidInput

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
#: An appointment is never computed further than this into the future.
MAX_DAYS = 400
#: The offices' time zone: receptions, pauses and appointments are days in Việt Nam.
OFFICE_TIME_ZONE = "Asia/Ho_Chi_Minh"
_OFFICE_ZONE = ZoneInfo(OFFICE_TIME_ZONE)


def office_today(conn: Connection) -> date:
    """Today in Việt Nam by the database's office clock (the start of the transaction):
    the one clock of intake, pauses, deadlines, apologies, feedback and reports
    (``office_today()`` in sql/functions/offices.sql)."""
    today: date = conn.execute(sa.text("SELECT office_today()")).scalar_one()
    return today


#: Where a trusted session records the office clock's offset (database_setting).
CLOCK_OFFSET_SETTING = "office_clock_offset"


def office_clock_offset(conn: Connection) -> timedelta:
    """How far the office clock is from the real one (zero unless moved)."""
    offset: timedelta = conn.execute(sa.text("SELECT office_clock_offset()")).scalar_one()
    return offset


def set_office_clock(conn: Connection, offset: timedelta) -> None:
    """Move the one-stop service's clock by ``offset`` from the real one (zero: back to it),
    for a training copy or a test that must see working days pass: receptions, events,
    results, apologies, feedback and every "today" follow it; tokens, rate limits, the
    audit log and the register's lifespans do not. A trusted session only (the API's login
    cannot write database settings); it holds from the caller's commit."""
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
    return moment.astimezone(_OFFICE_ZONE).date()


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    holidays: dict[date, str]
    working_weekend_days: frozenset[date] = frozenset()
    years: frozenset[int] = field(default_factory=frozenset)  # years with a calendar

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True, slots=True)
class Appointment:
    due: date
    working_days: int
    skipped_holidays: list[tuple[date, str]]
    paused_days: int

    def describe(self) -> str:
        return f"{WEEKDAYS_VI[self.due.weekday()]}, {self.due.strftime('%d/%m/%Y')}"


def add_working_days(calendar: WorkingCalendar, received: date, days: int, *,
                     paused: Iterable[tuple[date, date]] = (),
                     beyond_calendar: bool = False) -> Appointment:
    """The day on which ``days`` working days have been counted, starting with the working
    day after ``received``; days inside a paused interval (inclusive) do not count.

    A day in a year without a holiday calendar is refused (an appointment must not miss
    that year's holidays) unless ``beyond_calendar``: then it counts as the weekday it is
    (a look ahead, say the deadline list at the end of a year)."""
    if days < 0 or days > MAX_DAYS:
        raise InvalidInput(f"a processing time must be between 0 and {MAX_DAYS} working days")
    pauses = [(a, b) for a, b in paused]
    for a, b in pauses:
        if b < a:
            raise InvalidInput(f"paused interval {a} .. {b} ends before it begins")
    day, counted, skipped, paused_days = received, 0, [], 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.years and day.year not in calendar.years and not beyond_calendar:
            raise InvalidInput(
                f"no holiday calendar for {day.year}: add that year's public holidays "
                "before giving appointments in it")
        if not calendar.is_working_day(day):
            if day in calendar.holidays:
                skipped.append((day, calendar.holidays[day]))
            continue
        if any(a <= day <= b for a, b in pauses):
            paused_days += 1
            continue
        counted += 1
    return Appointment(day, days, skipped, paused_days)


def working_days_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def load_calendar(conn: Connection) -> WorkingCalendar:
    rows = conn.execute(sa.text("SELECT day, name, kind FROM public_holiday")).all()
    holidays = {r.day: r.name for r in rows if r.kind != "swapped_working_day"}
    working = frozenset(r.day for r in rows if r.kind == "swapped_working_day")
    return WorkingCalendar(holidays, working, frozenset(r.day.year for r in rows))


def remote_extra_days(conn: Connection, commune_code: str | None) -> int:
    if commune_code is None:
        return 0
    row = conn.execute(sa.text(
        "SELECT remote FROM admin_unit WHERE level = 'commune' AND code = :c "
        "ORDER BY valid_to DESC NULLS FIRST LIMIT 1"), {"c": commune_code}).first()
    if row is None:
        raise InvalidInput(f"unknown commune {commune_code!r}")
    if not row.remote:
        return 0
    return int(conn.execute(sa.text(
        "SELECT value FROM calendar_setting WHERE name = 'remote_commune_extra_days'"
    )).scalar_one())


def appointment_date(conn: Connection, received: date, days: int, *,
                     commune_code: str | None = None,
                     paused: Iterable[tuple[date, date]] = ()) -> Appointment:
    """The appointment for a dossier received on ``received`` (phiếu hẹn trả kết quả)."""
    extra = remote_extra_days(conn, commune_code)
    return add_working_days(load_calendar(conn), received, days + extra, paused=paused)
