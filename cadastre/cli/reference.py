"""`cadastre reference land-use ...`: the land-use code list (Circular 08/2024/TT-BTNMT) and
the legacy codes, loaded from the package's files or an administrator's copies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput

app = typer.Typer(help="Reference data the register runs on.", no_args_is_help=True)
land_use = typer.Typer(help="Land-use codes (mã loại đất) and the legacy codes of old files.",
                       no_args_is_help=True)
app.add_typer(land_use, name="land-use")
out = Console(highlight=False)


def _wide() -> Console:
    return out if out.is_terminal else Console(highlight=False, width=200)


@land_use.command("load")
def load(
    file: Path | None = typer.Option(
        None, "--file", help="Code list CSV (default: the package's land_use_types.csv)."),
    legacy_file: Path | None = typer.Option(
        None, "--legacy-file", help="Legacy codes CSV (default: the package's "
        "land_use_legacy_codes.csv)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and say what would change."),
) -> None:
    """Load the code list and the legacy codes (the files are checked first; a code is
    never removed, only ended). The load is recorded with the files' text."""
    from cadastre.land_use.files import read_code_lists
    from cadastre.land_use.service import load_code_lists

    lists = read_code_lists(file, legacy_file)
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        summary = load_code_lists(conn, lists, dry_run=dry_run)
    for line in summary.lines():
        out.print(line)
    if dry_run:
        out.print("dry run: nothing was written")
    elif summary.load_id is not None:
        out.print(f"recorded as load #{summary.load_id}")


@land_use.command("list")
def list_codes(
    on: str | None = typer.Option(None, "--on", help="The codes in force on this day "
                                  "(YYYY-MM-DD; default today in Việt Nam)."),
) -> None:
    """The codes in force on a day, with that day's names and their legal basis."""
    from cadastre.land_use.service import code_list

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise InvalidInput(f"{on!r} is not a date (YYYY-MM-DD)") from exc
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = code_list(conn, on=day)
    table = Table(title=f"land-use codes in force on {day or 'today'}")
    for column in ("code", "name", "group", "from", "to", "then", "legal basis"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["code"], r["name_vi"], r["land_group"], r["valid_from"].isoformat(),
                      r["valid_to"].isoformat() if r["valid_to"] else "",
                      r["successor"] or "", r["legal_basis"])
    _wide().print(table)


@land_use.command("legacy")
def legacy() -> None:
    """The legacy codes and today's code for each (empty: no single code, reported)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT source_code, meaning_vi, target, target_rural, legal_basis "
            "FROM land_use_legacy_code ORDER BY legal_basis, source_code")).all()
    table = Table(title="legacy land-use codes")
    for column in ("code", "meaning", "today", "legal basis"):
        table.add_column(column)
    for r in rows:
        today = (f"{r.target} (urban), {r.target_rural} (rural)" if r.target_rural
                 else r.target or "(none: reported)")
        table.add_row(r.source_code, r.meaning_vi, today, r.legal_basis)
    _wide().print(table)


@land_use.command("history")
def history() -> None:
    """Every load of the code list: when, by whom, the files and what changed."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, loaded_at, loaded_by, types_source, types_sha256, legacy_sha256, "
            "summary FROM land_use_list_load ORDER BY id")).all()
    table = Table(title="land-use code list loads")
    for column in ("#", "loaded", "by", "code list", "sha256", "changed"):
        table.add_column(column)
    for r in rows:
        summary = r.summary or {}
        changed = ", ".join(f"{k.replace('_', ' ')} {', '.join(v)}" for k, v in summary.items()
                            if isinstance(v, list) and v) or "-"
        table.add_row(str(r.id), r.loaded_at.isoformat(timespec="seconds"), r.loaded_by,
                      Path(r.types_source).name, f"{r.types_sha256[:12]}…", changed)
    _wide().print(table)


land_prices = typer.Typer(help="The province's land price table (bảng giá đất).",
                          no_args_is_help=True)
app.add_typer(land_prices, name="land-prices")


@land_prices.command("load")
def load_prices(
    file: Path = typer.Argument(..., help="The table as CSV (UTF-8) or XLSX: road, segment "
                                "from/to or zone, position, land-use code, price per m²."),
    province: str = typer.Option(..., "--province", help="Province code, e.g. 01."),
    decision: str = typer.Option(..., "--decision", help="The decision that adopted it, "
                                 "e.g. 'Nghị quyết 12/2025/NQ-HĐND'."),
    valid_from: str = typer.Option(..., "--valid-from", help="First day (YYYY-MM-DD)."),
    valid_to: str | None = typer.Option(None, "--valid-to", help="Last day, if known."),
) -> None:
    """Load a price table whole or not at all; the province's table in force ends the day
    before this one begins."""
    from cadastre.land_use import prices

    try:
        first = date.fromisoformat(valid_from)
        last = date.fromisoformat(valid_to) if valid_to else None
    except ValueError as exc:
        raise InvalidInput(f"a date is YYYY-MM-DD ({exc})") from exc
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        loaded = prices.load_table(conn, file, province_code=province, decision=decision,
                                   valid_from=first, valid_to=last)
    ended = f"; table {loaded.ended} ends the day before" if loaded.ended else ""
    out.print(f"land price table {loaded.table_id} of province {province}: {loaded.rows} "
              f"prices from {first}{ended}")


@land_prices.command("list")
def list_prices(province: str | None = typer.Option(None, "--province")) -> None:
    """The tables loaded, with their decision and validity."""
    from cadastre.land_use import prices

    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        found = prices.tables(conn, province)
    table = Table("id", "province", "decision", "from", "to", "rows", "file")
    for t in found:
        table.add_row(str(t["id"]), t["province_code"], t["decision"], str(t["valid_from"]),
                      str(t["valid_to"] or ""), str(t["rows"]), t["source_file"])
    _wide().print(table)
