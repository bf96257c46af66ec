"""Appointment dates: reception + the procedure's statutory time in working days, skipping
weekends, public holidays and paused intervals (waiting for a supplement or for the
citizen to pay land taxes); the clock starts on the working day after reception; remote
and mountain communes get extra days. A day is a day in Việt Nam (Asia/Ho_Chi_Minh), and
today is the database's today (``office_today``), whichever the server's time zone.

The calendar is data: the base calendar of each loaded year (public_holiday, from the pinned
package ``holidays``: ``cadastre.dossiers.official_calendar``, loaded by ``cadastre calendar
refresh``), and over it the entries an administrator recorded (calendar_swap: the
government's swaps of a weekday off for a Saturday worked, and any day the law gives that
the package lacks), which win over the base calendar on their day. A year that is not
loaded has no calendar: no appointment is counted through it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.clock import (
    OFFICE_TIME_ZONE,
    office_clock_offset,
    office_day,
    office_today,
    set_office_clock,
)
from cadastre.errors import InvalidInput

__all__ = ["OFFICE_TIME_ZONE", "office_clock_offset", "office_day", "office_today",
           "set_office_clock"]  # the clock, re-exported

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
#: An appointment is never computed further than this into the future.
MAX_DAYS = 400


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
        if day == date.max:
            raise InvalidInput(f"{received} + {days} working days is past the last day a "
                               "calendar can hold")
        day += timedelta(days=1)
        if calendar.years and day.year not in calendar.years and not beyond_calendar:
            raise NoCalendarForYear(day.year)
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


def refresh_command(year: int) -> str:
    return f"cadastre calendar refresh --years {year}"


class NoCalendarForYear(InvalidInput):
    """A day in a year whose holidays are not loaded (an appointment must not miss them)."""

    code = "no-holiday-calendar"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no holiday calendar for {year}: load that year's public holidays with "
            f"'{refresh_command(year)}' before giving appointments in it",
            hint=f"an administrator runs '{refresh_command(year)}'")
        self.year = year


def load_calendar(conn: Connection) -> WorkingCalendar:
    """The calendar in force: the loaded years' base days, then the administrator's entries
    in force, each of which decides its day."""
    rows = conn.execute(sa.text("SELECT day, name, kind FROM public_holiday")).all()
    holidays = {r.day: r.name for r in rows if r.kind != "swapped_working_day"}
    working = {r.day for r in rows if r.kind == "swapped_working_day"}
    for entry in conn.execute(sa.text(
            "SELECT day, name, kind FROM calendar_swap WHERE upper_inf(lifespan)")):
        if entry.kind == "day_off":
            holidays[entry.day] = entry.name
            working.discard(entry.day)
        else:
            holidays.pop(entry.day, None)
            working.add(entry.day)
    years = frozenset(conn.execute(sa.text("SELECT year FROM calendar_year")).scalars())
    return WorkingCalendar(holidays, frozenset(working), years)


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
                     paused: Iterable[tuple[date, date]] = (),
                     remote_extra: bool = True,
                     calendar: WorkingCalendar | None = None) -> Appointment:
    """The appointment for a dossier received on ``received`` (phiếu hẹn trả kết quả);
    a remote commune's extra days are added unless the procedure excludes them.
    ``calendar``: the one the caller already loaded."""
    extra = remote_extra_days(conn, commune_code) if remote_extra else 0
    return add_working_days(calendar or load_calendar(conn), received, days + extra,
                            paused=paused)


def same_day_days(calendar: WorkingCalendar, received: datetime, cutoff: time) -> int:
    """The working days a same-day procedure (working_days 0) gives a dossier received at
    ``received`` (the office's local time): 0, due that day, when it is a working day and
    the dossier came before the cut-off hour; otherwise 1, due the next working day
    (Decree 99/2022 art. 18: received after 15:00, done the next working day). A day in a
    year without a calendar is refused."""
    day = received.date()
    if calendar.years and day.year not in calendar.years:
        raise NoCalendarForYear(day.year)
    if calendar.is_working_day(day) and received.time() < cutoff:
        return 0
    return 1
