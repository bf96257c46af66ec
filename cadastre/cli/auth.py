"""`cadastre auth ...`: the token signing keys, which live in the database where only the
`cadastre_auth` role reads them (sql/functions/auth.sql), and never in a backup."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

from cadastre.accounts import service
from cadastre.cli.context import cli_engine, load_settings
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput

app = typer.Typer(help="Token signing keys (rotation; carrying them to a restored copy).",
                  no_args_is_help=True)
out = Console(highlight=False)

KEY_FILE_FORMAT = "cadastre-signing-keys/1"


@app.command("rotate-key")
def rotate_key(
    accept_minutes: int | None = typer.Option(
        None, "--accept-minutes", min=0, max=2 * 24 * 60,
        help="How long tokens of the old key stay valid (default: one token lifetime, "
        "CADASTRE_TOKEN_MINUTES)."),
) -> None:
    """Sign new tokens with a new key; the old key verifies its tokens for one token
    lifetime more, then none (sign-ins go on without interruption)."""
    minutes = load_settings().token_minutes if accept_minutes is None else accept_minutes
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        kid = service.rotate_signing_key(conn, accept_minutes=minutes)
    out.print(f"new signing key {kid}; tokens of the previous key are accepted for "
              f"{minutes} more minute(s)")


@app.command("export-keys")
def export_keys(
    output: Path = typer.Option(..., "--out", "-o", help="Key file to write (mode 0600)."),
) -> None:
    """Write the keys that still verify tokens to a file readable by its owner only, to
    carry them into a restored copy on purpose (`cadastre restore --keys FILE`)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        keys = service.export_signing_keys(conn)
    text = json.dumps({"format": KEY_FILE_FORMAT, "keys": keys}, indent=2) + "\n"
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(output, 0o600)
    out.print(f"{len(keys)} key(s) written to {output} (mode 0600): whoever holds this file "
              "can mint tokens for this database; keep it apart from the backups")


def read_key_file(path: Path) -> list[dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not a readable key file ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != KEY_FILE_FORMAT \
            or not isinstance(data.get("keys"), list):
        raise InvalidInput(f"{path}: not a key file written by 'cadastre auth export-keys'")
    return [k for k in data["keys"] if isinstance(k, dict)]


@app.command("import-keys")
def import_keys(file: Path = typer.Argument(..., help="File of 'cadastre auth export-keys'.")
                ) -> None:
    """Accept the tokens of another database's keys here (after a restore, on purpose)."""
    keys = read_key_file(file)
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        count = service.import_signing_keys(conn, keys)
    out.print(f"{count} key(s) imported: their tokens are accepted here")
