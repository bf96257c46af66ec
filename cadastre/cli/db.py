"""`cadastre db ...`: create, migrate and inspect the database."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cadastre import migrations
from cadastre.admin.service import sync_provinces
from cadastre.admin.units import LoadReport, load_units
from cadastre.cli.context import cli_engine, load_settings
from cadastre.db import create_engine, describe, translate_connection_errors
from cadastre.dbinit import check_storage_srid, init_database
from cadastre.dossiers.calendar_admin import YearLoad, ensure_loaded

app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
out = Console(highlight=False)


@app.command()
def init(
    srid: int | None = typer.Option(
        None,
        "--srid",
        help="Storage SRID, fixed once (default 5897: VN-2000 / TM-3 105°00', Hà Nội).",
    ),
) -> None:
    """Create the database named by CADASTRE_DATABASE_URL if missing, enable PostGIS and
    apply every migration. Safe to run again."""
    settings = load_settings()
    result = init_database(settings, srid=srid)
    where = describe(create_engine(settings).url)
    if result.created_database:
        out.print(f"created database {where}")
    for name in result.applied:
        out.print(f"applied {name}")
    if result.provinces_added:
        out.print(f"added {result.provinces_added} province records")
    if result.admin_units is not None:
        _print_units(result.admin_units)
    _print_calendar(result.calendar_years)
    out.print(f"database ready: {where}, storage SRID EPSG:{result.storage_srid}")


@app.command()
def upgrade() -> None:
    """Apply pending migrations (advisory lock; edited applied files are refused)."""
    settings = load_settings()
    engine = create_engine(settings)
    with translate_connection_errors(engine.url):
        applied = migrations.upgrade(engine, settings.sql_dir)
        # the holiday calendar of the configured years, recorded as the OS user's doing
        with cli_engine(settings).begin() as conn:
            sync_provinces(conn)
            units = load_units(conn)
            calendar_years = ensure_loaded(conn)
    for name in applied:
        out.print(f"applied {name}")
    out.print("up to date" if not applied else f"{len(applied)} migration(s) applied")
    _print_units(units)
    _print_calendar(calendar_years)


def _print_units(report: LoadReport) -> None:
    """A line when the load added something or found something to say."""
    if report.changed:
        c = report.counts
        out.print(f"administrative units: {report.source}: {c['communes_in_force']} communes "
                  f"in force, {c['old_communes']} old communes, {c['districts']} districts, "
                  f"{c['successions']} successions (load #{report.load_id})")
    notes = len(report.differences) + len(report.conflicts) + len(report.unmapped)
    if notes:
        out.print(f"administrative units: {notes} differences, conflicts or old communes "
                  "without successor: see 'cadastre admin units load'")


def _print_calendar(loads: list[YearLoad]) -> None:
    for load in loads:
        out.print(f"holiday calendar {load.year}: {load.action} ({load.days} days, "
                  f"{load.source})")


@app.command()
def status() -> None:
    """List applied and pending migrations."""
    settings = load_settings()
    engine = create_engine(settings)
    with translate_connection_errors(engine.url), engine.connect() as conn:
        states = migrations.status(conn, settings.sql_dir)
        srid = migrations.read_setting(conn, "storage_srid")
    table = Table(title=f"{describe(engine.url)} (storage SRID {srid or 'not set'})")
    table.add_column("migration")
    table.add_column("status")
    table.add_column("applied at")
    for s in states:
        style = {"applied": "green", "pending": "yellow"}.get(s.status, "bold red")
        at = s.applied_at.isoformat(timespec="seconds") if s.applied_at else ""
        table.add_row(s.name, f"[{style}]{s.status}[/]", at)
    out.print(table)
    migrations.check_edited(states)
    pending = sum(1 for s in states if s.applied_at is None)
    if pending:
        out.print(f"{pending} pending: run 'cadastre db upgrade'")


@app.command("check-srid")
def check_srid(srid: int) -> None:
    """Say whether an EPSG code can be the storage SRID."""
    check_storage_srid(srid)
    out.print(f"EPSG:{srid} can be the storage SRID")
