"""The `cadastre` command line. The CLI is the composition root: it may start the API and
call the importers' public entry point (see docs/architecture.md)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from cadastre.cli import admin as admin_commands
from cadastre.cli import auth as auth_commands
from cadastre.cli import backup as backup_commands
from cadastre.cli import calendar as calendar_commands
from cadastre.cli import certificates as certificate_commands
from cadastre.cli import changes as change_commands
from cadastre.cli import db as db_commands
from cadastre.cli import demo as demo_commands
from cadastre.cli import exports as export_commands
from cadastre.cli import feedback as feedback_commands
from cadastre.cli import imports as import_commands
from cadastre.cli import offices as office_commands
from cadastre.cli import parties as party_commands
from cadastre.cli import reference as reference_commands
from cadastre.cli import serve as serve_commands
from cadastre.cli import synth as synth_commands
from cadastre.cli import users as user_commands
from cadastre.cli.context import state
from cadastre.errors import CadastreError

app = typer.Typer(
    name="cadastre",
    help="Land-records and cadastral database (LADM, Vietnamese profile) on PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_commands.app, name="db")
app.add_typer(admin_commands.app, name="admin")
app.add_typer(demo_commands.app, name="demo")
app.add_typer(user_commands.app, name="user")
app.add_typer(auth_commands.app, name="auth")
app.add_typer(change_commands.app, name="change")
app.add_typer(certificate_commands.app, name="certificate")
app.add_typer(party_commands.app, name="party")
app.add_typer(calendar_commands.app, name="calendar")
app.add_typer(reference_commands.app, name="reference")
app.add_typer(office_commands.office_app, name="office")
app.add_typer(office_commands.delegation_app, name="delegation")
app.add_typer(feedback_commands.app, name="feedback")
app.command("synth")(synth_commands.synth)
app.command("serve")(serve_commands.serve)
app.command("import")(import_commands.import_command)
app.command("backup")(backup_commands.backup)
app.command("restore")(backup_commands.restore)
app.command("export")(export_commands.export_command)

err = Console(stderr=True, highlight=False)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
) -> None:
    state.debug = debug


def main() -> None:
    """Entry point: one clear line and a non-zero exit on a user-facing error."""
    try:
        app(standalone_mode=False)
    except CadastreError as exc:
        if state.debug:
            raise
        err.print(f"[bold red]error:[/] {exc.message}")
        if exc.hint:
            err.print(f"[dim]hint: {exc.hint}[/]")
        sys.exit(2 if exc.status < 500 else 1)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if state.debug:
            raise
        err.print(f"[bold red]unexpected error:[/] {type(exc).__name__}: {exc}")
        err.print("[dim]run again with --debug for the traceback[/]")
        sys.exit(1)
