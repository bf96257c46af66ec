"""`cadastre backup` and `cadastre restore`: the whole register to one archive and back."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console

from cadastre.cli.context import load_settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

_PG_BIN = typer.Option(
    None, "--pg-bin", help="Directory of pg_dump/pg_restore (default: the server's version "
    "under /usr/lib/postgresql, then PATH).")


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        err.print(f"[dim]{message}…[/]")


def backup(
    output: Path = typer.Option(..., "--out", "-o", help="Archive to write (pg_dump custom "
                                "format); FILE.manifest.json is written beside it."),
    checksums: bool = typer.Option(
        True, "--checksums/--no-checksums",
        help="Checksum every table's content (a few seconds per million rows), not only "
        "count rows."),
    pg_bin: Path | None = _PG_BIN,
) -> None:
    """Back up the database named by CADASTRE_DATABASE_URL: a pg_dump archive and a
    manifest (sha256, versions, migrations, per-table row counts and checksums)."""
    from cadastre.backup import backup as run_backup
    from cadastre.backup import manifest_path

    started = time.perf_counter()
    manifest = run_backup(load_settings(), output, checksums=checksums, pg_bin=pg_bin,
                          progress=_progress)
    rows = sum(t.rows for t in manifest.tables.values())
    out.print(f"backed up {manifest.database}: {len(manifest.tables)} tables, {rows:,} rows, "
              f"{len(manifest.migrations)} migrations, storage SRID EPSG:"
              f"{manifest.storage_srid} ({time.perf_counter() - started:.1f} s)")
    out.print(f"{output} ({manifest.bytes / 1e6:,.1f} MB, sha256 {manifest.sha256[:16]}…)")
    out.print(f"{manifest_path(output)}")


def restore(
    file: Path = typer.Argument(..., help="Archive written by 'cadastre backup' (its "
                                ".manifest.json must be beside it)."),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that is not empty: the backup is restored "
        "and verified beside it, then the old database is DROPPED and the new one takes "
        "its name."),
    pg_bin: Path | None = _PG_BIN,
    keys: Path | None = typer.Option(
        None, "--keys", help="Carry the original's token signing keys over (a file of "
        "'cadastre auth export-keys'); without it the restored copy makes a new key and "
        "refuses the original's tokens."),
) -> None:
    """Restore a backup into the database named by CADASTRE_DATABASE_URL (created if
    missing; refused if it holds anything, unless --force), then check every table's row
    count and checksum against the manifest."""
    from cadastre.backup import restore as run_restore
    from cadastre.cli.auth import read_key_file

    signing_keys = read_key_file(keys) if keys else None
    result = run_restore(load_settings(), file, force=force, pg_bin=pg_bin,
                         progress=_progress, signing_keys=signing_keys)
    if result.replaced:
        out.print(f"[bold]replaced {result.database}[/]: the previous database "
                  f"({result.replaced}) was dropped")
    elif result.created:
        out.print(f"created database {result.database}")
    for note in result.notes:
        out.print(f"note: {note}")
    what = "row counts and checksums" if result.checksums_verified else "row counts"
    out.print(f"restored {result.tables} tables, {result.rows:,} rows into {result.database}; "
              f"{what} match the manifest ({result.seconds:.1f} s)")
    if result.pending_migrations:
        out.print(f"{len(result.pending_migrations)} migration(s) newer than the backup: run "
                  "'cadastre db upgrade'")
