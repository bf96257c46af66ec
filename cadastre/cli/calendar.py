"""`cadastre calendar ...`: the appointment date, for a clerk answering the phone (`due`);
the base calendar loaded from the pinned package (`refresh`, `show`); the government's swap
announcements an administrator records (`swap add|list|edit|end`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.console import Console

from cadastre.cli.context import cli_engine
from cadastre.clock import office_stamp
from cadastre.db import translate_connection_errors
from cadastre.dossiers import calendar_admin
from cadastre.dossiers.calendar import appointment_date
from cadastre.errors import InvalidInput

app = typer.Typer(help="Working-day calendar of the one-stop service.", no_args_is_help=True)
swap_app = typer.Typer(help="The government's swap announcements (days off, Saturdays "
                       "worked) and days the law gives that the package lacks.",
                       no_args_is_help=True)
app.add_typer(swap_app, name="swap")
out = Console(highlight=False)
_STAMP = "%Y-%m-%d %H:%M"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from exc


@app.command()
def due(
    start: str = typer.Option(..., "--from", help="Reception date, YYYY-MM-DD."),
    days: int = typer.Option(..., "--days", help="Statutory time in working days."),
    commune: str | None = typer.Option(None, "--commune", help="Commune code (remote "
                                       "communes get extra days)."),
    pause: list[str] = typer.Option([], "--pause", help="Paused interval FROM..TO "
                                    "(supplement, tax payment); repeatable."),
) -> None:
    """Print the appointment date."""
    pauses = []
    for text in pause:
        first, _, last = text.partition("..")
        pauses.append((_day(first), _day(last or first)))
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        result = appointment_date(conn, _day(start), days, commune_code=commune,
                                  paused=pauses)
    out.print(f"hẹn trả kết quả: {result.describe()} ({result.due.isoformat()})")
    for day, name in result.skipped_holidays:
        out.print(f"  nghỉ {day.strftime('%d/%m/%Y')}: {name}")
    if result.paused_days:
        out.print(f"  {result.paused_days} working days paused")


@app.command()
def refresh(
    years: str | None = typer.Option(None, "--years", help="Years to load, e.g. 2026, "
                                     "2024-2030 or 2031,2032 (default: the configured years "
                                     "and every year already loaded)."),
) -> None:
    """Load the public holidays of the pinned `holidays` package into the register."""
    wanted = calendar_admin.parse_years(years) if years else None
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        loads = calendar_admin.refresh(conn, years=wanted)
    for load in loads:
        out.print(f"{load.year}: {load.action} ({load.days} days, {load.source})")


@app.command()
def show(year: int = typer.Argument(..., help="The year, e.g. 2026.")) -> None:
    """The days of a year that are not what their weekday says."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        found = calendar_admin.year_calendar(conn, year)
    out.print(f"{year}: {found['source']}")
    for d in found["days"]:
        what = "nghỉ" if d["kind"] == "day_off" else "làm việc"
        local = f"  [entry {d['swap_id']}: {d['source']}]" if "swap_id" in d else ""
        out.print(f"  {d['day'].strftime('%d/%m/%Y')} {d['weekday']:<9} {what:<9} "
                  f"{d['name']}{local}")


def _print_swap(entry: dict[str, Any]) -> None:
    since, until = entry["valid_since"], entry["valid_until"]
    span = (f"since {office_stamp(since, _STAMP)}" if until is None
            else f"{office_stamp(since, _STAMP)} .. {office_stamp(until, _STAMP)}")
    out.print(f"#{entry['swap_id']} v{entry['version_id']} {entry['day']} {entry['kind']}: "
              f"{entry['name']} ({entry['legal_basis']}); {span}, by {entry['recorded_by']}"
              + (f"; ended by {entry['ended_by']}: {entry['end_basis']}"
                 if entry["ended_by"] else ""))


Kind = typer.Option(..., "--kind", help="day_off (a weekday off) or working_day (a "
                    "Saturday or Sunday worked).")
Name = typer.Option(..., "--name", help="Its name in Vietnamese, e.g. 'Nghỉ bù Quốc khánh'.")
Basis = typer.Option(..., "--basis", help="The legal basis, e.g. 'Thông báo số "
                     "1234/TB-BNV ngày 01/06/2026'.")


@swap_app.command("add")
def swap_add(day: str = typer.Option(..., "--day", help="The day, YYYY-MM-DD."),
             kind: str = Kind, name: str = Name, basis: str = Basis) -> None:
    """Record an announcement, in force from now."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        entry = calendar_admin.add_swap(conn, day=_day(day), kind=kind, name=name,
                                        legal_basis=basis)
    _print_swap(entry)


@swap_app.command("list")
def swap_list(
    year: int | None = typer.Option(None, "--year", help="Only this year's entries."),
    history: bool = typer.Option(False, "--history", help="Every version, ended ones too."),
) -> None:
    """The entries in force (or their whole history)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        entries = calendar_admin.swaps(conn, year=year, history=history)
    for entry in entries:
        _print_swap(entry)
    if not entries:
        out.print("no calendar entries")


@swap_app.command("edit")
def swap_edit(swap_id: int = typer.Argument(..., help="The entry's number."),
              day: str | None = typer.Option(None, "--day", help="The corrected day."),
              kind: str | None = typer.Option(None, "--kind", help="day_off or working_day."),
              name: str | None = typer.Option(None, "--name", help="The corrected name."),
              basis: str | None = typer.Option(None, "--basis", help="The legal basis of "
                                               "the correction.")) -> None:
    """A new version of an entry (the version in force ends, the new one begins)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        entry = calendar_admin.edit_swap(conn, swap_id, day=_day(day) if day else None,
                                         kind=kind, name=name, legal_basis=basis)
    _print_swap(entry)


@swap_app.command("end")
def swap_end(swap_id: int = typer.Argument(..., help="The entry's number."),
             basis: str = typer.Option(..., "--basis", help="Why it ends: the notice that "
                                       "withdrew it.")) -> None:
    """End an entry: its day is again what the base calendar says."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        entry = calendar_admin.end_swap(conn, swap_id, legal_basis=basis)
    _print_swap(entry)
