"""`cadastre user ...`: accounts of the API."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from cadastre.accounts import service
from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput

app = typer.Typer(help="Accounts of the API (people and service accounts).",
                  no_args_is_help=True)
out = Console(highlight=False)


def _password() -> str:
    """From the terminal (asked twice, not echoed) or, when stdin is not a TTY, its first
    line (for scripts: echo "$PW" | cadastre user add ...)."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise InvalidInput("no password on standard input")
        return line
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise InvalidInput("the two passwords differ")
    return str(first)


@app.command()
def add(
    username: str = typer.Argument(..., help="Login name (lower case, 3-64 characters)."),
    role: str = typer.Option(..., "--role", help="land_officer, counter_clerk, gis_analyst, "
                             "supervisor or admin."),
    full_name: str | None = typer.Option(None, "--name", help="Full name."),
    office: str | None = typer.Option(None, "--office", help="The office the account works "
                                      "for (required for counter_clerk, land_officer and "
                                      "supervisor; see cadastre office list)."),
    service_account: bool = typer.Option(
        False, "--service", help="No password: a service account that uses API keys."),
) -> None:
    """Add an account; the password is read from the terminal or standard input."""
    password = None if service_account else _password()
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.add_user(conn, username, role, password=password, full_name=full_name,
                         office_code=office)
    out.print(f"added {username} ({role})")


@app.command("list")
def list_() -> None:
    """List accounts."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = service.list_users(conn)
    table = Table(title="accounts")
    for column in ("username", "name", "role", "office", "status", "API keys", "created"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.username, r.full_name or "", r.role, r.office_code or "",
                      "disabled" if r.disabled else "active", str(r.keys),
                      r.created_at.date().isoformat())
    out.print(table)


@app.command()
def disable(username: str = typer.Argument(...)) -> None:
    """Disable an account (and revoke its API keys); its tokens stop working at once."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.disable_user(conn, username)
    out.print(f"disabled {username}")


@app.command()
def enable(username: str = typer.Argument(...)) -> None:
    """Enable a disabled account again (its old tokens stay invalid)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.enable_user(conn, username)
    out.print(f"enabled {username}")


@app.command()
def passwd(username: str = typer.Argument(...)) -> None:
    """Set a new password (read like `user add`); the account's tokens stop working."""
    password = _password()
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.set_password(conn, username, password)
    out.print(f"password of {username} changed; its tokens no longer work")


@app.command("set-role")
def set_role(username: str = typer.Argument(...),
             role: str = typer.Argument(..., help="land_officer, counter_clerk, gis_analyst, "
                                        "supervisor or admin.")) -> None:
    """Change an account's role; its tokens stop working at once."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.set_role(conn, username, role)
    out.print(f"{username} is now {role}; its tokens no longer work")


@app.command("set-office")
def set_office(username: str = typer.Argument(...),
               office: str | None = typer.Argument(None, help="Office code; none for an "
                                                   "admin or analyst without one.")) -> None:
    """Set the office an account works for (it acts for it from its next request)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.set_office(conn, username, office)
    out.print(f"{username} works for {office or 'no office'}")


@app.command()
def key(username: str = typer.Argument(...),
        label: str | None = typer.Option(None, "--label", help="What the key is for.")) -> None:
    """Create an API key for an account; it is shown once."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        value = service.create_api_key(conn, username, label=label)
    out.print(value)
