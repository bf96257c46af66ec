"""`cadastre calendar due`: the appointment date, for a clerk answering the phone."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console

from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.dossiers.calendar import appointment_date
from cadastre.errors import InvalidInput

app = typer.Typer(help="Working-day calendar of the one-stop service.", no_args_is_help=True)
out = Console(highlight=False)


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
