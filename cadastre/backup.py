"""Backups of the whole register (`cadastre backup`, `cadastre restore`).

A backup is two files side by side:

- ``FILE``: a ``pg_dump --format=custom`` archive of the database named by
  CADASTRE_DATABASE_URL (schema, data, PostGIS and the other extensions, privileges);
- ``FILE.manifest.json``: what restore checks. The archive's sha256 and size, when and from
  which server it was made (PostgreSQL and PostGIS versions), the storage SRID, the
  applied migrations, and, per table, its row count and a content checksum.

The counts and checksums are read in the very snapshot the archive is made from (pg_dump
``--snapshot``), so they describe exactly what the archive holds, even while the API writes.
A table's checksum is the md5 of its rows' md5s (each row in its text form, timestamps in
UTC, geometries as EWKB hex) in sorted order: it does not depend on the physical order of
the rows, on primary keys or on the collation.

Restore verifies the archive's sha256 before it touches anything, refuses a target that
already holds something (unless ``force``), restores with ``pg_restore --single-transaction
--exit-on-error``, then reads the restored tables again and compares them with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from cadastre.db import create_engine, database_url, describe, translate_connection_errors
from cadastre.errors import CadastreError, ConfigurationError, Conflict, InvalidInput, NotFound
from cadastre.settings import Settings

FORMAT = "cadastre-backup/1"
MANIFEST_SUFFIX = ".manifest.json"
PG_LIB = Path("/usr/lib/postgresql")

Progress = Callable[[str], None]


class BackupFileMissing(NotFound):
    code = "backup-missing"


class BackupCorrupt(InvalidInput):
    """The archive does not match its manifest (sha256 or size), or the manifest is not one
    this program wrote."""

    code = "backup-corrupt"


class RestoreTargetNotEmpty(Conflict):
    code = "restore-target-not-empty"


class WrongServer(CadastreError):
    """The server (or the client tools found for it) cannot take this backup: an older
    PostgreSQL or PostGIS than the one it was made on, missing roles, old pg_dump."""

    code = "wrong-server"
    status = 409


class PgToolMissing(ConfigurationError):
    code = "pg-tool-missing"


class BackupFailed(CadastreError):
    """pg_dump or pg_restore failed; the message carries its first error line."""

    code = "backup-failed"
    status = 500


class RestoreMismatch(CadastreError):
    """The restored database does not hold what the manifest says the archive holds."""

    code = "restore-mismatch"
    status = 500


@dataclass(frozen=True, slots=True)
class TableFacts:
    rows: int
    checksum: str | None  # None when made with checksums=False


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    created_at: str
    database: str
    server_version: str
    server_version_num: int
    postgis_version: str | None
    pg_dump_version: str
    storage_srid: int | None
    migrations: list[str]
    encoding: str
    collate: str
    ctype: str
    roles: list[str]
    sha256: str
    bytes: int
    tables: dict[str, TableFacts]

    @property
    def server_major(self) -> int:
        return self.server_version_num // 10000

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        tables = {name: TableFacts(**facts) for name, facts in data["tables"].items()}
        return cls(**{**data, "tables": tables})


@dataclass(frozen=True, slots=True)
class TargetContents:
    relations: int
    tables_with_rows: list[str]
    migrations: int

    @property
    def empty(self) -> bool:
        return self.relations == 0

    def describe(self) -> str:
        parts = [f"{self.relations} table(s), view(s) or sequence(s)"]
        if self.tables_with_rows:
            shown = ", ".join(self.tables_with_rows[:3])
            more = len(self.tables_with_rows) - 3
            parts.append(f"{len(self.tables_with_rows)} table(s) with rows ({shown}"
                         + (f" and {more} more)" if more > 0 else ")"))
        if self.migrations:
            parts.append(f"schema_migration records {self.migrations} migration(s)")
        return "; ".join(parts)


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


# --- client tools --------------------------------------------------------------------------

def _tool_version(path: Path) -> tuple[int, str] | None:
    try:
        text = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                              timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", text)
    return (int(match.group(1)), text.strip()) if match else None


def find_pg_tool(name: str, major: int, *, at_least: int | None = None,
                 dirs: Sequence[Path] | None = None) -> tuple[Path, str]:
    """The ``pg_dump``/``pg_restore`` to use with a server of this major version: the one
    of that version first (/usr/lib/postgresql/<major>/bin), then PATH, then any other
    installed version, as long as it is at least ``at_least`` (default: ``major``).

    Returns the path and its ``--version`` line.
    """
    floor = major if at_least is None else at_least
    searched_default = dirs is None
    if dirs is None:
        installed = sorted(PG_LIB.glob("*/bin"), key=_version_of_dir, reverse=True)
        path_dirs = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
        dirs = [PG_LIB / str(major) / "bin", *path_dirs, *installed]
    found: list[tuple[int, Path]] = []
    for directory in dirs:
        candidate = directory / name
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        version = _tool_version(candidate)
        if version is None:
            continue
        if version[0] >= floor:
            return candidate, version[1]
        found.append((version[0], candidate))
    if not found:
        where = (f"{PG_LIB}/{major}/bin, PATH and {PG_LIB}/*/bin" if searched_default
                 else ", ".join(str(d) for d in dirs))
        raise PgToolMissing(
            f"{name} not found (looked in {where})",
            hint=f"install the PostgreSQL {major} client tools (apt-get install "
            f"postgresql-client-{major}) or give --pg-bin DIR")
    best, path = max(found)
    raise WrongServer(
        f"the newest {name} found ({path}) is PostgreSQL {best}, older than {floor}",
        hint=f"install postgresql-client-{floor} or give --pg-bin DIR")


def _version_of_dir(path: Path) -> int:
    name = path.parent.name
    return int(name) if name.isdigit() else 0


def _libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password (which goes in PGPASSWORD, not on a
    command line that `ps` shows) and the environment to run a client tool with."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[0] if lines else "no output"


# --- facts about a database ----------------------------------------------------------------

_TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.deptype = 'e')
  AND (n.nspname, c.relname) <> ('public', 'auth_signing_key')
ORDER BY 1, 2
"""

#: Tables whose rows never enter a backup: the token signing keys (a restored copy makes
#: its own, so an archive cannot mint tokens; `cadastre auth export-keys` carries them over
#: on purpose).
SECRET_TABLES = ("public.auth_signing_key",)

# Roles that the database's privileges name (besides owners and PUBLIC): they must exist on
# the server a backup is restored to, since roles belong to the server, not the database.
_GRANTEES = """
SELECT DISTINCT pg_get_userbyid(a.grantee)
FROM (SELECT (aclexplode(relacl)).grantee, relowner AS owner FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE relacl IS NOT NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      UNION ALL
      SELECT (aclexplode(proacl)).grantee, proowner FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE proacl IS NOT NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      UNION ALL
      SELECT (aclexplode(nspacl)).grantee, nspowner FROM pg_namespace
      WHERE nspacl IS NOT NULL AND nspname NOT IN ('pg_catalog', 'information_schema')
        AND nspname NOT LIKE 'pg\\_%') a
WHERE a.grantee <> 0 AND a.grantee <> a.owner
ORDER BY 1
"""


def _quote(conn: Connection, *names: str) -> str:
    prepare = conn.dialect.identifier_preparer.quote
    return ".".join(prepare(n) for n in names)


def table_facts(conn: Connection, *, checksums: bool = True) -> dict[str, TableFacts]:
    """Row count and content checksum of every table (extension tables aside), keyed
    ``schema.table``. Run inside one transaction to read one snapshot."""
    conn.execute(sa.text("SET LOCAL TimeZone = 'UTC'"))
    conn.execute(sa.text("SET LOCAL DateStyle = 'ISO, YMD'"))
    conn.execute(sa.text("SET LOCAL IntervalStyle = 'postgres'"))
    conn.execute(sa.text("SET LOCAL extra_float_digits = 1"))
    conn.execute(sa.text("SET LOCAL bytea_output = 'hex'"))
    conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
    facts: dict[str, TableFacts] = {}
    for schema, table in conn.execute(sa.text(_TABLES)).all():
        name = _quote(conn, schema, table)  # from the catalog, quoted: an allow-list
        if checksums:
            rows, checksum = conn.execute(sa.text(
                f"SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h COLLATE \"C\")), "
                f"md5('')) FROM (SELECT md5(t::text) AS h FROM {name} t) s")).one()
        else:
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            checksum = None
        facts[f"{schema}.{table}"] = TableFacts(int(rows), checksum)
    return facts


def target_contents(conn: Connection) -> TargetContents:
    """What a database holds of its own (extension objects aside)."""
    relations = conn.execute(sa.text("""
        SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.deptype = 'e')""")).scalar_one()
    with_rows = []
    for schema, table in conn.execute(sa.text(_TABLES)).all():
        name = _quote(conn, schema, table)
        if conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {name})")).scalar():
            with_rows.append(table if schema == "public" else f"{schema}.{table}")
    migrations = 0
    if conn.execute(sa.text("SELECT to_regclass('schema_migration')")).scalar() is not None:
        migrations = conn.execute(sa.text("SELECT count(*) FROM schema_migration")).scalar_one()
    return TargetContents(int(relations), with_rows, int(migrations))


def _server_facts(conn: Connection) -> dict[str, Any]:
    row = conn.execute(sa.text(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int,"
        " current_database(), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype "
        "FROM pg_database d WHERE d.datname = current_database()")).one()
    postgis = conn.execute(sa.text(
        "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
    return {"server_version": row[0], "server_version_num": row[1], "database": row[2],
            "encoding": row[3], "collate": row[4], "ctype": row[5], "postgis_version": postgis}


def _schema_facts(conn: Connection) -> tuple[int | None, list[str]]:
    srid = migrations = None
    if conn.execute(sa.text("SELECT to_regclass('database_setting')")).scalar() is not None:
        value = conn.execute(sa.text(
            "SELECT value FROM database_setting WHERE name = 'storage_srid'")).scalar()
        srid = int(value) if value is not None else None
    if conn.execute(sa.text("SELECT to_regclass('schema_migration')")).scalar() is not None:
        migrations = list(conn.execute(sa.text(
            "SELECT name FROM schema_migration ORDER BY name")).scalars())
    return srid, migrations or []


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + MANIFEST_SUFFIX)


# --- backup --------------------------------------------------------------------------------

def backup(settings: Settings, out: Path, *, checksums: bool = True,
           pg_bin: Path | None = None, progress: Progress | None = None) -> Manifest:
    """Write ``out`` (pg_dump custom format) and ``out.manifest.json``.

    Both are written under temporary names and renamed when complete, so an interrupted
    backup never leaves a file that looks finished; an existing backup of the same name is
    replaced only by a complete one.
    """
    say = progress or (lambda _m: None)
    url = database_url(settings)
    engine = create_engine(settings)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with translate_connection_errors(url), engine.connect() as conn:
            # An explicit transaction block (the driver must not open its own): its
            # snapshot is the one exported to pg_dump below.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(sa.text("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            server = _server_facts(conn)
            major = server["server_version_num"] // 10000
            dirs = [pg_bin] if pg_bin else None
            pg_dump, pg_dump_version = find_pg_tool("pg_dump", major, dirs=dirs)
            # The archive, the counts and the checksums come from this one snapshot.
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            target, env = _libpq_target(url)
            say(f"pg_dump {describe(url)} -> {out.name}")
            # the archive holds personal data: readable by its owner only (0600), from the
            # first byte pg_dump writes into it
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            dump = subprocess.Popen(
                [str(pg_dump), "--format=custom", f"--snapshot={snapshot}", "--no-password",
                 *[f"--exclude-table-data={t}" for t in SECRET_TABLES],
                 f"--file={partial}", f"--dbname={target}"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            try:
                say("counting rows and checksumming tables (same snapshot)")
                srid, migrations = _schema_facts(conn)
                roles = list(conn.execute(sa.text(_GRANTEES)).scalars())
                facts = table_facts(conn, checksums=checksums)
                _, errors = dump.communicate()
            except BaseException:
                dump.kill()
                dump.wait()
                raise
            conn.execute(sa.text("COMMIT"))
        if dump.returncode != 0:
            raise BackupFailed(f"pg_dump failed: {_first_error(errors)}")
        say("sha256 of the archive")
        manifest = Manifest(
            format=FORMAT, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database=server["database"], server_version=server["server_version"],
            server_version_num=server["server_version_num"],
            postgis_version=server["postgis_version"], pg_dump_version=pg_dump_version,
            storage_srid=srid, migrations=migrations, encoding=server["encoding"],
            collate=server["collate"], ctype=server["ctype"], roles=roles,
            sha256=file_sha256(partial), bytes=partial.stat().st_size, tables=facts)
        manifest_partial = partial.with_suffix(".manifest")
        os.close(os.open(manifest_partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        manifest_partial.write_text(json.dumps(manifest.to_json(), indent=2,
                                               ensure_ascii=False) + "\n")
        os.chmod(partial, 0o600)
        os.replace(partial, out)
        os.replace(manifest_partial, manifest_path(out))
        return manifest
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)
        partial.with_suffix(".manifest").unlink(missing_ok=True)


# --- restore -------------------------------------------------------------------------------

def read_verified(file: Path) -> Manifest:
    """The manifest of ``file``, once the archive is proved to be the one it describes."""
    if not file.is_file():
        raise BackupFileMissing(f"{file}: no such backup file")
    sidecar = manifest_path(file)
    if not sidecar.is_file():
        raise BackupCorrupt(f"{file}: its manifest {sidecar.name} is missing",
                            hint="a backup is the archive and its .manifest.json together")
    try:
        data = json.loads(sidecar.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        manifest = Manifest.from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise BackupCorrupt(f"{sidecar}: not a cadastre backup manifest ({exc})") from exc
    size = file.stat().st_size
    if size != manifest.bytes:
        raise BackupCorrupt(f"{file}: {size:,} bytes, the manifest says {manifest.bytes:,}; "
                            "the file is truncated or not the one backed up")
    if file_sha256(file) != manifest.sha256:
        raise BackupCorrupt(f"{file}: sha256 does not match its manifest; the file is "
                            "corrupt or was altered")
    return manifest


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
                     f"({_first_error(str(exc.orig))})")
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
            f"dropped, but the rename failed: {_first_error(str(exc.orig))}",
            hint=f"rename it by hand: ALTER DATABASE {prepare(restored)} RENAME TO "
            f"{prepare(name)}") from exc


def _pg_restore(pg_restore: Path, url: URL, file: Path) -> None:
    target, env = _libpq_target(url)
    result = subprocess.run(
        [str(pg_restore), "--single-transaction", "--exit-on-error", "--no-owner",
         "--no-password", f"--dbname={target}", str(file)],
        capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupFailed(f"pg_restore failed, nothing was restored: "
                           f"{_first_error(result.stderr)}")


def compare(expected: dict[str, TableFacts], actual: dict[str, TableFacts],
            *, checksums: bool) -> list[str]:
    """Differences between the manifest's tables and a database's, one line each."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want is None:
            problems.append(f"{name}: in the database, not in the backup")
        elif got is None:
            problems.append(f"{name}: in the backup, missing from the database")
        elif want.rows != got.rows:
            problems.append(f"{name}: {got.rows:,} rows, the backup has {want.rows:,}")
        elif checksums and want.checksum != got.checksum:
            problems.append(f"{name}: same row count, different content")
    return problems


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

