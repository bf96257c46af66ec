"""Keeping the working-day calendar: loading the base calendar of a year from the pinned
package (``cadastre calendar refresh``, and ``cadastre db init`` / ``db upgrade`` for the
configured years that are missing or were loaded from another version), the public calendar
of a year, and the administrator's entries (calendar_swap), which are versioned: an edit
closes the version in force and begins the next one at the same instant, an end closes it;
nothing is rewritten or deleted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.dossiers.calendar import WEEKDAYS_VI, appointment_date, refresh_command
from cadastre.dossiers.official_calendar import (
    SWAPPED_WORKING_DAY,
    OfficialDay,
    check_year,
    official_days,
    package_source,
)
from cadastre.errors import CadastreError, Conflict, InvalidInput, NotFound

SWAP_KINDS = ("day_off", "working_day")
#: At most this many years in one refresh (a year is about fifteen rows).
MAX_REFRESH_YEARS = 50


class CalendarYearNotLoaded(NotFound):
    code = "calendar-year-not-loaded"


class SwapNotFound(NotFound):
    code = "calendar-entry-not-found"


class StaleSwap(CadastreError):
    code = "stale-calendar-entry"
    status = 412


@dataclass(frozen=True, slots=True)
class YearLoad:
    year: int
    action: str  # "loaded", "updated" or "unchanged"
    days: int
    source: str


# --- the base calendar ---------------------------------------------------------------------

def configured_years(conn: Connection) -> range:
    """The years `cadastre db upgrade` keeps loaded (calendar_setting)."""
    found = dict(conn.execute(sa.text(
        "SELECT name, value FROM calendar_setting "
        "WHERE name IN ('calendar_first_year', 'calendar_last_year')")).tuples().all())
    first, last = found.get("calendar_first_year", 2024), found.get("calendar_last_year", 2030)
    return range(int(first), int(last) + 1)


def loaded_years(conn: Connection) -> dict[int, str]:
    """Loaded year -> the source its days came from."""
    return dict(conn.execute(sa.text("SELECT year, source FROM calendar_year")).tuples().all())


def parse_years(text: str) -> list[int]:
    """``2026``, ``2024-2030`` or ``2026,2028``."""
    years: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        first, _, last = part.partition("-")
        try:
            a, b = int(first), int(last or first)
        except ValueError as exc:
            raise InvalidInput(f"{part!r} is not a year or a range of years (2024-2030)") from exc
        if b < a or b - a >= MAX_REFRESH_YEARS:
            raise InvalidInput(f"{part!r} is not a range of at most {MAX_REFRESH_YEARS} years")
        years.update(range(a, b + 1))
    return sorted(years)


def _stored_days(conn: Connection, year: int) -> list[OfficialDay]:
    return [OfficialDay(r.day, r.name, r.kind, r.source) for r in conn.execute(sa.text(
        "SELECT day, name, kind, source FROM public_holiday "
        "WHERE day >= make_date(:y, 1, 1) AND day < make_date(:y + 1, 1, 1) ORDER BY day"),
        {"y": year})]


def load_year(conn: Connection, year: int) -> YearLoad:
    """Load ``year``'s days from the installed package into public_holiday, replacing what
    the year held when it differs (the audit log keeps the rows replaced)."""
    check_year(year)
    days, source = official_days(year), package_source()
    recorded = loaded_years(conn).get(year)
    if recorded == source and _stored_days(conn, year) == days:
        return YearLoad(year, "unchanged", len(days), source)
    conn.execute(sa.text(
        "DELETE FROM public_holiday "
        "WHERE day >= make_date(:y, 1, 1) AND day < make_date(:y + 1, 1, 1)"), {"y": year})
    conn.execute(sa.text(
        "INSERT INTO public_holiday (day, name, kind, source) "
        "SELECT * FROM unnest(CAST(:days AS date[]), CAST(:names AS text[]), "
        "CAST(:kinds AS text[]), CAST(:sources AS text[]))"),
        {"days": [d.day for d in days], "names": [d.name for d in days],
         "kinds": [d.kind for d in days], "sources": [d.source for d in days]})
    conn.execute(sa.text(
        "INSERT INTO calendar_year (year, source, loaded_by) VALUES (:y, :s, proven_actor()) "
        "ON CONFLICT (year) DO UPDATE SET source = EXCLUDED.source, loaded_at = now(), "
        "loaded_by = EXCLUDED.loaded_by"), {"y": year, "s": source})
    return YearLoad(year, "loaded" if recorded is None else "updated", len(days), source)


def _lock(conn: Connection) -> None:
    """One loader at a time (readers go on reading the calendar in force)."""
    conn.execute(sa.text("LOCK TABLE calendar_year IN EXCLUSIVE MODE"))


def refresh(conn: Connection, *, years: Iterable[int] | None = None) -> list[YearLoad]:
    """``cadastre calendar refresh``: (re)load the given years, by default the configured
    ones and every year already loaded."""
    _lock(conn)
    wanted = sorted(set(years) if years is not None
                    else set(configured_years(conn)) | set(loaded_years(conn)))
    for year in wanted:
        check_year(year)
    return [load_year(conn, year) for year in wanted]


def ensure_loaded(conn: Connection) -> list[YearLoad]:
    """On ``cadastre db init`` / ``db upgrade``: load the configured years that are missing,
    and reload the years loaded from another version of the package than the installed
    one. Returns what it changed."""
    _lock(conn)
    loaded, source = loaded_years(conn), package_source()
    stale = {y for y, s in loaded.items() if s != source}
    wanted = sorted({y for y in configured_years(conn) if y not in loaded} | stale)
    return [load for load in (load_year(conn, y) for y in wanted) if load.action != "unchanged"]


# --- the public calendar -------------------------------------------------------------------

def years(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT year, source, loaded_at FROM calendar_year ORDER BY year")).mappings()]


def year_calendar(conn: Connection, year: int) -> dict[str, Any]:
    """The days of ``year`` that are not what their weekday says, as the calendar in force
    counts them: the base calendar's, and the administrator's entries over them."""
    loaded = conn.execute(sa.text(
        "SELECT source, loaded_at FROM calendar_year WHERE year = :y"), {"y": year}).first()
    if loaded is None:
        raise CalendarYearNotLoaded(
            f"no holiday calendar for {year}: load it with '{refresh_command(year)}'",
            hint=f"an administrator runs '{refresh_command(year)}'")
    days: dict[date, dict[str, Any]] = {}
    for d in _stored_days(conn, year):
        days[d.day] = {"day": d.day, "kind": "working_day" if d.kind == SWAPPED_WORKING_DAY
                       else "day_off", "name": d.name, "source": d.source}
    for s in swaps(conn, year=year):
        days[s["day"]] = {"day": s["day"], "kind": s["kind"], "name": s["name"],
                          "source": s["legal_basis"], "swap_id": s["swap_id"],
                          "valid_since": s["valid_since"]}
    listed = [{**days[d], "weekday": WEEKDAYS_VI[d.weekday()]} for d in sorted(days)]
    return {"year": year, "source": loaded.source, "loaded_at": loaded.loaded_at,
            "days": listed}


# --- the administrator's entries -----------------------------------------------------------

_SWAP_COLUMNS = (
    "version_id, swap_id, day, kind, name, legal_basis, lower(lifespan) AS valid_since, "
    "upper(lifespan) AS valid_until, recorded_by, ended_by, end_basis")


def _swap_view(row: sa.RowMapping) -> dict[str, Any]:
    view = dict(row)
    view["etag"] = swap_tag(view["swap_id"], view["version_id"])
    return view


def swap_tag(swap_id: int, version_id: int) -> str:
    """The ETag of an entry's version in force: what an edit or an end names in If-Match."""
    return f'"calendar-entry-{swap_id}.{version_id}"'


def swaps(conn: Connection, *, year: int | None = None,
          history: bool = False) -> list[dict[str, Any]]:
    """The entries in force (with ``history``, every version), by day."""
    where = ["true" if history else "upper_inf(lifespan)"]
    if year is not None:
        where.append("day >= make_date(:y, 1, 1) AND day < make_date(:y + 1, 1, 1)")
    return [_swap_view(r) for r in conn.execute(sa.text(
        f"SELECT {_SWAP_COLUMNS} FROM calendar_swap WHERE {' AND '.join(where)} "
        "ORDER BY day, swap_id, lower(lifespan)"), {"y": year}).mappings()]


def swap_versions(conn: Connection, swap_id: int) -> list[dict[str, Any]]:
    found = [_swap_view(r) for r in conn.execute(sa.text(
        f"SELECT {_SWAP_COLUMNS} FROM calendar_swap WHERE swap_id = :s "
        "ORDER BY lower(lifespan)"), {"s": swap_id}).mappings()]
    if not found:
        raise SwapNotFound(f"no calendar entry {swap_id}")
    return found


def _text(value: str, what: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(f"a calendar entry needs its {what}")
    if len(cleaned) > limit:
        raise InvalidInput(f"the {what} of a calendar entry is at most {limit} characters")
    return cleaned


def _check_entry(conn: Connection, *, day: date, kind: str, ignore: int | None = None) -> None:
    """A day off must fall on a day the base calendar works, a working day on one it does
    not; the day's year must be loaded; one entry in force per day."""
    if kind not in SWAP_KINDS:
        raise InvalidInput(f"a calendar entry is a day_off or a working_day, not {kind!r}")
    if day.year not in loaded_years(conn):
        raise InvalidInput(
            f"no holiday calendar for {day.year}: load it with '{refresh_command(day.year)}' "
            "before recording its swaps", hint=f"run '{refresh_command(day.year)}'")
    base = conn.execute(sa.text("SELECT kind, name FROM public_holiday WHERE day = :d"),
                        {"d": day}).first()
    works = (base.kind == SWAPPED_WORKING_DAY) if base is not None else day.weekday() < 5
    shown = f"{WEEKDAYS_VI[day.weekday()]} {day.strftime('%d/%m/%Y')}"
    if kind == "day_off" and not works:
        why = base.name if base is not None else "a weekend day"
        raise InvalidInput(f"{shown} is already a day off ({why})")
    if kind == "working_day" and works:
        raise InvalidInput(f"{shown} is already a working day")
    clash = conn.execute(sa.text(
        "SELECT swap_id, name FROM calendar_swap WHERE day = :d AND upper_inf(lifespan) "
        "AND swap_id IS DISTINCT FROM :ignore"), {"d": day, "ignore": ignore}).first()
    if clash is not None:
        raise Conflict(f"calendar entry {clash.swap_id} ({clash.name}) is in force on {shown}",
                       hint=f"edit or end entry {clash.swap_id} instead")


def _clock(conn: Connection) -> datetime:
    return conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()  # type: ignore[no-any-return]


def _insert(conn: Connection, *, swap_id: int | None, day: date, kind: str, name: str,
            legal_basis: str, since: datetime) -> dict[str, Any]:
    columns = "day, kind, name, legal_basis, lifespan, recorded_by"
    values = ":day, :kind, :name, :basis, tstzrange(:since, NULL), proven_actor()"
    if swap_id is not None:
        columns, values = f"swap_id, {columns}", f":swap_id, {values}"
    row = conn.execute(sa.text(
        f"INSERT INTO calendar_swap ({columns}) VALUES ({values}) RETURNING {_SWAP_COLUMNS}"),
        {"swap_id": swap_id, "day": day, "kind": kind, "name": name, "basis": legal_basis,
         "since": since}).mappings().one()
    return _swap_view(row)


def add_swap(conn: Connection, *, day: date, kind: str, name: str,
             legal_basis: str) -> dict[str, Any]:
    """Record an announcement: ``day`` off (``day_off``) or worked (``working_day``), in
    force from now."""
    name, legal_basis = _text(name, "name", 200), _text(legal_basis, "legal basis", 300)
    conn.execute(sa.text("LOCK TABLE calendar_swap IN SHARE ROW EXCLUSIVE MODE"))
    _check_entry(conn, day=day, kind=kind)
    return _insert(conn, swap_id=None, day=day, kind=kind, name=name,
                   legal_basis=legal_basis, since=_clock(conn))


def _in_force(conn: Connection, swap_id: int, expected_version: int | None) -> sa.RowMapping:
    conn.execute(sa.text("LOCK TABLE calendar_swap IN SHARE ROW EXCLUSIVE MODE"))
    row = conn.execute(sa.text(
        f"SELECT {_SWAP_COLUMNS} FROM calendar_swap WHERE swap_id = :s AND upper_inf(lifespan)"),
        {"s": swap_id}).mappings().first()
    if row is None:
        ended = conn.execute(sa.text("SELECT 1 FROM calendar_swap WHERE swap_id = :s"),
                             {"s": swap_id}).first()
        if ended is None:
            raise SwapNotFound(f"no calendar entry {swap_id}")
        raise Conflict(f"calendar entry {swap_id} was ended: it can no longer change",
                       hint="record a new entry")
    if expected_version is not None and row["version_id"] != expected_version:
        raise StaleSwap(f"calendar entry {swap_id} changed since it was read",
                        hint=f"GET /api/v1/calendar/swaps/{swap_id} and repeat")
    return row


def _close(conn: Connection, version_id: int, at: datetime, basis: str) -> None:
    conn.execute(sa.text(
        "UPDATE calendar_swap SET lifespan = tstzrange(lower(lifespan), :at), "
        "ended_by = proven_actor(), end_basis = :basis WHERE version_id = :v"),
        {"at": at, "basis": basis, "v": version_id})


def edit_swap(conn: Connection, swap_id: int, *, expected_version: int | None = None,
              day: date | None = None, kind: str | None = None, name: str | None = None,
              legal_basis: str | None = None) -> dict[str, Any]:
    """A new version of an entry (a corrected announcement): the version in force ends and
    the new one begins at the same instant."""
    current = _in_force(conn, swap_id, expected_version)
    new_day: date = day or current["day"]
    new_kind: str = kind or current["kind"]
    new_name = _text(name, "name", 200) if name is not None else str(current["name"])
    new_basis = (_text(legal_basis, "legal basis", 300) if legal_basis is not None
                 else str(current["legal_basis"]))
    if (new_day, new_kind, new_name, new_basis) == (
            current["day"], current["kind"], current["name"], current["legal_basis"]):
        raise InvalidInput("nothing to change")
    if (new_day, new_kind) != (current["day"], current["kind"]):
        _check_entry(conn, day=new_day, kind=new_kind, ignore=swap_id)
    at = _clock(conn)
    _close(conn, current["version_id"], at, f"replaced: {new_basis}")
    return _insert(conn, swap_id=swap_id, day=new_day, kind=new_kind, name=new_name,
                   legal_basis=new_basis, since=at)


def end_swap(conn: Connection, swap_id: int, *, legal_basis: str,
             expected_version: int | None = None) -> dict[str, Any]:
    """End an entry (an announcement withdrawn): its day is again what the base calendar
    says. Returns the ended version."""
    current = _in_force(conn, swap_id, expected_version)
    _close(conn, current["version_id"], _clock(conn), _text(legal_basis, "legal basis", 300))
    return swap_versions(conn, swap_id)[-1]


def due(conn: Connection, *, received: date, days: int,
        commune_code: str | None = None) -> dict[str, Any]:
    """The appointment a dossier received on ``received`` would get, and the days off it
    passes (the public calendar's question: "when is it due?")."""
    found = appointment_date(conn, received, days, commune_code=commune_code)
    return {"received": received, "working_days": found.working_days, "due": found.due,
            "due_text": found.describe(),
            "days_off": [{"day": d, "name": n} for d, n in found.skipped_holidays]}
