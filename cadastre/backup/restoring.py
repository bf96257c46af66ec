"""`cadastre restore`: a verified archive into a new, empty or replaced database, checked
against its manifest afterwards."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from cadastre.backup.errors import (
    BackupFailed,
    RestoreMismatch,
    RestoreTargetNotEmpty,
    WrongServer,
)
from cadastre.backup.facts import table_facts, target_contents
from cadastre.backup.manifest import Manifest, compare, read_verified
from cadastre.backup.tools import Progress, find_pg_tool, first_error, libpq_target
from cadastre.db import create_engine, database_url, describe, translate_connection_errors
from cadastre.errors import ConfigurationError, InvalidInput
from cadastre.settings import Settings


@dataclass(slots=True)
class RestoreResult:
    database: str
    created: bool
    replaced: str | None  # what the dropped database held (--force), or None
    tables: int
    rows: int
    checksums_verified: bool
    seconds: float
    pending_migrations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)




def _admin_engine(settings: Settings, url: URL) -> Engine:
    return create_engine(settings, url=url.set(database="postgres"),
                         isolation_level="AUTOCOMMIT")


@contextmanager
def _connected(settings: Settings, url: URL) -> Iterator[Connection]:
    engine = create_engine(settings, url=url)
    try:
        with translate_connection_errors(url), engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _check_server(admin: Connection, manifest: Manifest) -> tuple[int, list[str]]:
    """Refuse a server that cannot take the backup; returns its version number and notes."""
    notes: list[str] = []
    version_num = admin.execute(sa.text(
        "SELECT current_setting('server_version_num')::int")).scalar_one()
    if version_num // 10000 < manifest.server_major:
        raise WrongServer(
            f"the backup was made on PostgreSQL {manifest.server_version}; this server runs "
            f"{version_num // 10000}, older: a dump restores only into the same or a newer "
            "major version")
    if manifest.postgis_version:
        available = admin.execute(sa.text(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
        ).scalar()
        if available is None:
            raise WrongServer("PostGIS is not installed on this server; the backup needs "
                              f"PostGIS {manifest.postgis_version}",
                              hint="apt-get install postgresql-15-postgis-3")
        if _major_minor(available) < _major_minor(manifest.postgis_version):
            raise WrongServer(f"the backup was made with PostGIS {manifest.postgis_version}; "
                              f"this server has {available}, older")
    if manifest.roles:
        present = set(admin.execute(sa.text(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"),
            {"r": manifest.roles}).scalars())
        missing = [r for r in manifest.roles if r not in present]
        if missing:
            raise WrongServer(
                f"the backup grants privileges to roles this server does not have: "
                f"{', '.join(missing)}",
                hint="create them first (CREATE ROLE ...); roles belong to the server")
    if version_num // 10000 > manifest.server_major:
        notes.append(f"restored a PostgreSQL {manifest.server_major} backup into "
                     f"PostgreSQL {version_num // 10000}")
    return version_num, notes


def _major_minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:2])


def _create_database(admin: Connection, name: str, *, owner: str | None,
                     locale: tuple[str, str] | None) -> list[str]:
    """CREATE DATABASE from template0 in UTF8, with the locale and owner asked for when the
    server allows them; returns notes about what it could not keep."""
    notes: list[str] = []
    quoted = admin.dialect.identifier_preparer.quote(name)
    clauses = ["TEMPLATE template0", "ENCODING 'UTF8'"]
    if locale:
        clauses.append(f"LC_COLLATE {_literal(locale[0])} LC_CTYPE {_literal(locale[1])}")
    if owner:
        clauses.append(f"OWNER {admin.dialect.identifier_preparer.quote(owner)}")
    try:
        admin.execute(sa.text(f"CREATE DATABASE {quoted} {' '.join(clauses)}"))
    except sa.exc.DBAPIError as exc:
        if locale is None and owner is None:
            raise
        notes.append(f"created {name} with the server's default locale and owner "
                     f"({first_error(str(exc.orig))})")
        admin.execute(sa.text(f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8'"))
    return notes


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _drop_database(admin: Connection, name: str) -> None:
    quoted = admin.dialect.identifier_preparer.quote(name)
    admin.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))


def _replace_database(admin: Connection, name: str, restored: str) -> None:
    """Drop ``name`` (closing its sessions) and give its name to ``restored``."""
    prepare = admin.dialect.identifier_preparer.quote
    _drop_database(admin, name)
    try:
        admin.execute(sa.text(f"ALTER DATABASE {prepare(restored)} RENAME TO {prepare(name)}"))
    except sa.exc.DBAPIError as exc:
        raise BackupFailed(
            f"the backup was restored and verified into database {restored} and {name} was "
            f"dropped, but the rename failed: {first_error(str(exc.orig))}",
            hint=f"rename it by hand: ALTER DATABASE {prepare(restored)} RENAME TO "
            f"{prepare(name)}") from exc


def _pg_restore(pg_restore: Path, url: URL, file: Path) -> None:
    target, env = libpq_target(url)
    result = subprocess.run(
        [str(pg_restore), "--single-transaction", "--exit-on-error", "--no-owner",
         "--no-password", f"--dbname={target}", str(file)],
        capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupFailed(f"pg_restore failed, nothing was restored: "
                           f"{first_error(result.stderr)}")



def restore(settings: Settings, file: Path, *, force: bool = False,
            pg_bin: Path | None = None, progress: Progress | None = None,
            signing_keys: list[dict[str, object]] | None = None) -> RestoreResult:
    """Restore ``file`` into the database named by CADASTRE_DATABASE_URL.

    - missing database: created (UTF8, the backup's locale when the server has it), restored,
      verified; dropped again if anything fails, so nothing is left behind;
    - existing empty database: restored in place (one transaction: a failed pg_restore
      leaves it empty);
    - existing database holding anything: refused, unless ``force``: then the backup is
      restored into a new database beside it and verified, and only then is the old one
      dropped (its sessions closed) and the new one renamed to its name.

    A backup holds no token signing keys: the restored database makes a new one, so tokens
    of the original are refused, unless ``signing_keys`` (from ``cadastre auth export-keys``
    on the original) are carried over on purpose.
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    say(f"checking {file.name} against its manifest (sha256)")
    manifest = read_verified(file)
    url = database_url(settings)
    name = url.database
    if not name:
        raise ConfigurationError("CADASTRE_DATABASE_URL names no database")
    if name in ("postgres", "template0", "template1"):
        raise InvalidInput(f"will not restore into the server's own database {name}",
                           hint="name the register's database in CADASTRE_DATABASE_URL")
    checksums = all(t.checksum is not None for t in manifest.tables.values())
    admin_engine = _admin_engine(settings, url)
    try:
        with translate_connection_errors(url), admin_engine.connect() as admin:
            version_num, notes = _check_server(admin, manifest)
            dirs = [pg_bin] if pg_bin else None
            pg_dump_major = int(re.findall(r"\(PostgreSQL\)\s+(\d+)",
                                           manifest.pg_dump_version)[0])
            pg_restore, _ = find_pg_tool("pg_restore", version_num // 10000,
                                         at_least=pg_dump_major, dirs=dirs)
            row = admin.execute(sa.text(
                "SELECT pg_get_userbyid(datdba), datcollate, datctype FROM pg_database "
                "WHERE datname = :n"), {"n": name}).one_or_none()
            me = admin.execute(sa.text("SELECT current_user")).scalar_one()
            replaced: str | None = None
            if row is None:
                into, created = name, True
                notes += _create_database(admin, name, owner=None,
                                          locale=(manifest.collate, manifest.ctype))
            else:
                with _connected(settings, url) as conn:
                    contents = target_contents(conn)
                if contents.empty:
                    into, created = name, False
                elif not force:
                    raise RestoreTargetNotEmpty(
                        f"database {name} is not empty ({contents.describe()}); "
                        "restore refuses to overwrite it",
                        hint="restore into another database (CADASTRE_DATABASE_URL), or use "
                        "--force to drop and replace it")
                else:
                    replaced = contents.describe()
                    into, created = f"{name[:40]}_restore_{uuid.uuid4().hex[:8]}", True
                    notes += _create_database(admin, into,
                                              owner=row[0] if row[0] != me else None,
                                              locale=(row[1], row[2]))
            target_url = url.set(database=into)
            try:
                say(f"pg_restore into {into} (one transaction)")
                _pg_restore(pg_restore, target_url, file)
                say("counting and checksumming the restored tables")
                with _connected(settings, target_url) as conn, conn.begin():
                    restored = table_facts(conn, checksums=checksums)
                problems = compare(manifest.tables, restored, checksums=checksums)
                if problems:
                    raise RestoreMismatch(
                        f"the restored database differs from the backup: {problems[0]}"
                        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                        problems=problems)
            except BaseException:
                if created:
                    with suppress(sa.exc.DBAPIError):
                        _drop_database(admin, into)
                raise
            if into != name:
                say(f"replacing {name}: dropping it and renaming {into}")
                _replace_database(admin, name, into)
    finally:
        admin_engine.dispose()
    applied = set(manifest.migrations)
    known = sorted(p.name for p in (settings.sql_dir / "migrations").glob("*.sql"))
    unknown = sorted(applied - set(known))
    if unknown:
        notes.append(f"the backup's schema has migrations this program does not know "
                     f"({', '.join(unknown)}): use the cadastre version that made it")
    pending = [m for m in known if m not in applied]
    if not pending and not unknown:
        _settle_trust(settings, signing_keys, notes)
    elif signing_keys:
        raise InvalidInput("signing keys can be carried into an up-to-date database only",
                           hint="run 'cadastre db upgrade', then 'cadastre auth import-keys'")
    return RestoreResult(
        database=describe(url), created=row is None, replaced=replaced,
        tables=len(restored), rows=sum(t.rows for t in restored.values()),
        checksums_verified=checksums, seconds=time.perf_counter() - started,
        pending_migrations=pending, notes=notes)


def _settle_trust(settings: Settings, signing_keys: list[dict[str, object]] | None,
                  notes: list[str]) -> None:
    """Give the functions, the key table and the privileges their owners back (pg_restore
    --no-owner made the restoring role own everything), make a new signing key or carry the
    original's over."""
    from cadastre.accounts.service import import_signing_keys
    from cadastre.migrations import reapply_functions

    engine = create_engine(settings)
    try:
        reapply_functions(engine, settings.sql_dir)
        if signing_keys:
            with engine.begin() as conn:
                import_signing_keys(conn, signing_keys)
            notes.append(f"{len(signing_keys)} signing key(s) carried over: tokens of the "
                         "original database are accepted here")
        else:
            notes.append("a new token signing key was made: tokens of the original "
                         "database are not accepted here (sign in again)")
    finally:
        engine.dispose()

