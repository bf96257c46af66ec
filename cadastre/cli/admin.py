"""`cadastre admin units ...`: the administrative units loaded from the pinned packages (the
communes in force since 2025-07-01, the districts and communes before it, the succession
between them): `load` (also run by `cadastre db init` / `db upgrade`) and `show CODE`."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.console import Console

from cadastre.admin import units as admin_units
from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput

app = typer.Typer(help="Administrative units (đơn vị hành chính).", no_args_is_help=True)
units_app = typer.Typer(help="Provinces, districts and communes, old and in force, and the "
                        "succession old -> new of 2025-07-01.", no_args_is_help=True)
app.add_typer(units_app, name="units")
out = Console(highlight=False, soft_wrap=True)  # one line per unit, never wrapped


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from exc


@units_app.command("load")
def load(
    renames_on: str | None = typer.Option(
        None, "--renames-on", help="A commune in force that the installed package names "
        "otherwise gets that name from this day (YYYY-MM-DD), as a new version; without it "
        "such differences are only reported."),
    every: bool = typer.Option(False, "--all", help="List every code the two packages "
                               "disagree on (by default the first five)."),
) -> None:
    """Load the units of the pinned packages (vietnam-provinces, vietnamadminunits): what
    the register lacks is added, nothing stored is rewritten. Prints the counts."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        report = admin_units.load_units(conn, renames_on=_day(renames_on))
    for line in report.lines(every=every):
        out.print(line)
    out.print(f"{report.seconds:.2f} s")


def _span(unit: dict[str, Any]) -> str:
    first, last = unit["valid_from"], unit["valid_to"]
    if last is None:
        return f"in force since {first}" if first else "in force"
    return f"{first or '…'} .. {last}"


def _link(link: dict[str, Any]) -> str:
    main = ", main" if link["main"] and link["kind"] == "split" else ""
    return (f"{link['code']} {link['name']} ({link['level']}, {_span(link)}): {link['kind']}"
            f"{main}, {link['effective_on']}")


@units_app.command("show")
def show(
    code: str = typer.Argument(..., help="The unit's code, e.g. 00037 (commune), 002 "
                               "(district), 01 (province)."),
    on: str | None = typer.Option(None, "--on", help="The unit in force on this day "
                                  "(YYYY-MM-DD; default today, or every version of the "
                                  "code when none is in force today)."),
) -> None:
    """A unit with its predecessors and successors; for a commune, what it is today."""
    day = _day(on)
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        found = admin_units.describe_units(conn, code, day)
        today = {}
        for unit in found:
            if unit["level"] == "commune":
                first = unit["valid_from"] or unit["valid_to"]
                today[unit["id"]] = admin_units.today_unit(conn, unit["code"], day or first)
    for unit in found:
        parent = (f", in {unit['parent_name']} ({unit['parent_code']})"
                  if unit["parent_code"] else "")
        out.print(f"{unit['code']} {unit['name']} ({unit['level']}, {unit['kind'] or '-'}; "
                  f"{_span(unit)}){parent}")
        if unit["source"]:
            out.print(f"  source: {unit['source']}")
        for link in unit["predecessors"]:
            out.print(f"  from {_link(link)}")
        for link in unit["successors"]:
            out.print(f"  into {_link(link)}")
        if unit["id"] in today:
            out.print(f"  today: {today[unit['id']]['text']}")
