"""Schema migrations: plain SQL files applied in order by a small runner.

- ``sql/migrations/NNNN_name.sql`` are forward-only; each is applied in its own transaction
  and recorded with its sha256. An applied file that was edited afterwards is refused.
- ``sql/functions/*.sql`` hold ``CREATE OR REPLACE`` functions, re-applied on every upgrade.
- ``{{storage_srid}}`` in a file is replaced by the SRID fixed at ``cadastre db init``.
- A session-level advisory lock serialises concurrent runners.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cadastre.errors import ConfigurationError, MigrationEdited, MigrationError, SridMismatch

#: pg_advisory_lock key: the bytes of "cadastre" read as an integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"cadastre", "big") & 0x7FFF_FFFF_FFFF_FFFF
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

BOOTSTRAP_SQL = """
CREATE TABLE IF NOT EXISTS schema_migration (
    name        text PRIMARY KEY,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text NOT NULL DEFAULT current_user
);
CREATE TABLE IF NOT EXISTS database_setting (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    path: Path
    sha256: str

    def sql(self, parameters: dict[str, str]) -> str:
        return render(self.path.read_text(encoding="utf-8"), parameters)


@dataclass(frozen=True, slots=True)
class MigrationState:
    migration: Migration | None
    name: str
    applied_at: datetime | None
    applied_sha256: str | None

    @property
    def status(self) -> str:
        if self.applied_at is None:
            return "pending"
        if self.migration is None:
            return "applied (file missing)"
        if self.migration.sha256 != self.applied_sha256:
            return "EDITED after it was applied"
        return "applied"


def render(text: str, parameters: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in parameters:
            raise MigrationError(f"unknown placeholder {{{{{key}}}}} in a migration")
        return parameters[key]

    return _PLACEHOLDER.sub(substitute, text)


def discover(sql_dir: Path) -> list[Migration]:
    directory = sql_dir / "migrations"
    if not directory.is_dir():
        raise ConfigurationError(f"no migrations directory at {directory}")
    migrations = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        number = match.group(1)
        if number in seen:
            raise MigrationError(f"{path.name} and {seen[number]} share the number {number}")
        seen[number] = path.name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        migrations.append(Migration(name=path.name, path=path, sha256=digest))
    return migrations


def function_files(sql_dir: Path) -> list[Path]:
    return sorted((sql_dir / "functions").glob("*.sql"))


@contextmanager
def migration_lock(conn: Connection) -> Iterator[None]:
    conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    conn.commit()
    try:
        yield
    finally:
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
        conn.commit()


def _run_script(conn: Connection, sql: str) -> None:
    """Run a multi-statement script on the DBAPI cursor (no parameter substitution)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def bootstrap(conn: Connection) -> None:
    with conn.begin():
        _run_script(conn, BOOTSTRAP_SQL)


def read_setting(conn: Connection, name: str) -> str | None:
    exists = conn.execute(sa.text("SELECT to_regclass('database_setting')")).scalar()
    if exists is None:
        return None
    value = conn.execute(
        sa.text("SELECT value FROM database_setting WHERE name = :n"), {"n": name}
    ).scalar()
    return None if value is None else str(value)


def applied(conn: Connection) -> dict[str, tuple[str, datetime]]:
    exists = conn.execute(sa.text("SELECT to_regclass('schema_migration')")).scalar()
    if exists is None:
        return {}
    rows = conn.execute(sa.text("SELECT name, sha256, applied_at FROM schema_migration"))
    return {name: (sha, at) for name, sha, at in rows}


def status(conn: Connection, sql_dir: Path) -> list[MigrationState]:
    """Every migration file and every applied record, in order."""
    files = {m.name: m for m in discover(sql_dir)}
    done = applied(conn)
    names = sorted(set(files) | set(done))
    return [
        MigrationState(
            migration=files.get(name),
            name=name,
            applied_at=done[name][1] if name in done else None,
            applied_sha256=done[name][0] if name in done else None,
        )
        for name in names
    ]


def check_edited(states: list[MigrationState]) -> None:
    for state in states:
        if state.migration is None or state.applied_sha256 is None:
            continue
        if state.migration.sha256 != state.applied_sha256:
            raise MigrationEdited(
                f"migration {state.name} was edited after it was applied "
                f"(recorded sha256 {state.applied_sha256[:12]}…, file now "
                f"{state.migration.sha256[:12]}…)",
                hint="restore the file with 'git checkout -- sql/migrations' and put the "
                "change in a new migration",
            )


def upgrade(engine: Engine, sql_dir: Path, *, storage_srid: int | None = None) -> list[str]:
    """Apply every pending migration, then (re)create the functions. Returns what it applied.

    ``storage_srid`` is recorded on the first run; later runs must agree with it.
    """
    migrations = discover(sql_dir)
    applied_now: list[str] = []
    with engine.connect() as conn, migration_lock(conn):
        bootstrap(conn)
        srid = _settle_srid(conn, storage_srid)
        states = status(conn, sql_dir)
        conn.rollback()  # end the read-only transaction before the per-file ones
        check_edited(states)
        done = {s.name for s in states if s.applied_at is not None}
        parameters = {"storage_srid": str(srid)}
        for migration in migrations:
            if migration.name in done:
                continue
            try:
                with conn.begin():
                    _run_script(conn, migration.sql(parameters))
                    conn.execute(
                        sa.text("INSERT INTO schema_migration (name, sha256) VALUES (:n, :s)"),
                        {"n": migration.name, "s": migration.sha256},
                    )
            except (sa.exc.DBAPIError, psycopg2.Error) as exc:
                cause = getattr(exc, "orig", None) or exc
                raise MigrationError(
                    f"migration {migration.name} failed and was rolled back: "
                    f"{str(cause).strip().splitlines()[0]}"
                ) from exc
            applied_now.append(migration.name)
        _apply_functions(conn, sql_dir, parameters)
    return applied_now


def _apply_functions(conn: Connection, sql_dir: Path, parameters: dict[str, str]) -> None:
    with conn.begin():
        for path in function_files(sql_dir):
            _run_script(conn, render(path.read_text(encoding="utf-8"), parameters))


def reapply_functions(engine: Engine, sql_dir: Path) -> None:
    """Re-create the functions, owners and privileges of an up-to-date database (after a
    restore, which leaves every object owned by the restoring role)."""
    with engine.connect() as conn, migration_lock(conn):
        srid = storage_srid(conn)
        conn.rollback()
        _apply_functions(conn, sql_dir, {"storage_srid": str(srid)})


def _settle_srid(conn: Connection, requested: int | None) -> int:
    recorded = read_setting(conn, "storage_srid")
    conn.rollback()
    if recorded is not None:
        if requested is not None and int(recorded) != requested:
            raise SridMismatch(
                f"this database stores geometry in EPSG:{recorded}; it cannot be "
                f"re-initialised with EPSG:{requested}",
                hint="use another database (CADASTRE_DATABASE_URL) for another storage SRID",
            )
        return int(recorded)
    if requested is None:
        raise ConfigurationError(
            "the database has no storage SRID yet", hint="run 'cadastre db init --srid N'"
        )
    with conn.begin():
        conn.execute(
            sa.text("INSERT INTO database_setting (name, value) VALUES ('storage_srid', :v)"),
            {"v": str(requested)},
        )
    return requested


def storage_srid(conn: Connection) -> int:
    value = read_setting(conn, "storage_srid")
    if value is None:
        raise ConfigurationError(
            "the database is not initialised", hint="run 'cadastre db init' (or 'make setup')"
        )
    return int(value)
