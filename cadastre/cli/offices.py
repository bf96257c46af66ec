"""`cadastre office ...` and `cadastre delegation ...`: the one-stop service's offices and
the delegations (ủy quyền) between them, as an admin manages them (the same domain calls as
/api/v1/offices and /api/v1/delegations). A command runs as the database owner: it acts
province-wide, and its audit rows name the OS user."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cadastre.access import Role
from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.dossiers import delegations, offices
from cadastre.errors import InvalidInput

office_app = typer.Typer(help="Offices of the one-stop service: list, show, add, edit.",
                         no_args_is_help=True)
delegation_app = typer.Typer(help="Delegations (ủy quyền) between offices: list, add, end.",
                             no_args_is_help=True)
out = Console(highlight=False)


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} {text!r} is not a date (YYYY-MM-DD)") from exc


def _who() -> str:
    return f"os:{getpass.getuser()}"


@office_app.command("list")
def list_offices(level: str | None = typer.Option(None, "--level",
                                                  help="province or commune.")) -> None:
    """List the offices."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = offices.list_offices(conn, level=level)
    table = Table(title="offices")
    for column in ("code", "name", "level", "province", "commune", "phone"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["code"], r["name"], r["level"], r["province_code"],
                      r["commune_code"] or "", r["phone"] or "")
    out.print(table)


@office_app.command()
def show(code: str) -> None:
    """An office and the delegations from and to it."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        found = offices.office(conn, code)
        rows = delegations.list_delegations(conn, office=code)
    for key in ("code", "name", "level", "province_code", "commune_code", "address", "phone"):
        out.print(f"{key}: {found[key] if found[key] is not None else ''}")
    for d in rows:
        out.print(_delegation_line(d), markup=False)


@office_app.command()
def add(code: str = typer.Argument(..., help="Office code, e.g. VPDK.HN or UBND.00070."),
        name: str = typer.Option(..., "--name"),
        level: str = typer.Option(..., "--level", help="province or commune."),
        province: str = typer.Option(..., "--province", help="Province code, e.g. 01."),
        commune: str | None = typer.Option(None, "--commune", help="The commune a "
                                           "commune-level office serves (a known one)."),
        address: str | None = typer.Option(None, "--address"),
        phone: str | None = typer.Option(None, "--phone")) -> None:
    """Add an office."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        offices.create_office(conn, offices.OfficeIn(code, name, level, province, commune,
                                                     address, phone))
    out.print(f"added office {code}")


@office_app.command()
def edit(code: str,
         name: str | None = typer.Option(None, "--name"),
         commune: str | None = typer.Option(None, "--commune"),
         address: str | None = typer.Option(None, "--address"),
         phone: str | None = typer.Option(None, "--phone")) -> None:
    """Change an office's name, commune, address or phone."""
    changes = {k: v for k, v in (("name", name), ("commune_code", commune),
                                 ("address", address), ("phone", phone)) if v is not None}
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        offices.edit_office(conn, code, changes, expected_state=None)
    out.print(f"edited office {code}")


def _delegation_line(d: dict[str, Any]) -> str:
    until = d["valid_to"] or "further notice"
    return (f"#{d['id']} {d['from_office']} -> {d['to_office']}: "
            f"{', '.join(map(str, d['procedures']))} from {d['valid_from']} to {until} "
            f"[{d['status']}] ({d['decision_number']} of {d['decision_date'] or '?'}, "
            f"{d['signer'] or '?'})")


@delegation_app.command("list")
def list_delegations(office: str | None = typer.Option(None, "--office",
                                                       help="From or to this office."),
                     procedure: str | None = typer.Option(None, "--procedure"),
                     on: str | None = typer.Option(None, "--on", help="Holding on this day.")
                     ) -> None:
    """List delegations, newest first."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = delegations.list_delegations(conn, office=office, procedure_code=procedure,
                                            holding_on=_day(on, "--on"))
    for d in rows:
        out.print(_delegation_line(d), markup=False)
    if not rows:
        out.print("no delegations")


@delegation_app.command("add")
def add_delegation(
    from_office: str = typer.Option(..., "--from", help="The delegating office."),
    to_office: str = typer.Option(..., "--to", help="The office it delegates to."),
    procedure: list[str] = typer.Option(..., "--procedure", help="A procedure code; "
                                        "repeatable."),
    decision: str = typer.Option(..., "--decision", help="The decision's number."),
    decision_date: str = typer.Option(..., "--decision-date", help="YYYY-MM-DD."),
    signer: str = typer.Option(..., "--signer", help="Who signed the decision."),
    valid_from: str = typer.Option(..., "--valid-from", help="YYYY-MM-DD (today or later)."),
    valid_to: str | None = typer.Option(None, "--valid-to", help="Last day it holds."),
) -> None:
    """Delegate procedures from one office to another for a period."""
    item = delegations.DelegationIn(
        from_office=from_office, to_office=to_office, procedures=procedure,
        decision_number=decision, decision_date=_day(decision_date, "--decision-date")
        or date.min, signer=signer,
        valid_from=_day(valid_from, "--valid-from") or date.min,
        valid_to=_day(valid_to, "--valid-to"))
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        made = delegations.create(conn, item, role=Role.ADMIN, actor=_who())
    out.print(_delegation_line(made), markup=False)


@delegation_app.command("end")
def end_delegation(delegation_id: int = typer.Argument(..., help="The delegation's number."),
                   valid_to: str | None = typer.Option(
                       None, "--last-day", help="The last day it holds (default yesterday: "
                       "it holds no more from today).")) -> None:
    """End a delegation (it stays on record with its last day)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        ended = delegations.end(conn, delegation_id, last_day=_day(valid_to, "--last-day"),
                                role=Role.ADMIN, actor=_who())
    out.print(_delegation_line(ended), markup=False)
