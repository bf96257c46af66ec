"""Facts read from a database for a backup's manifest: tables with row counts and content
checksums, server and schema versions, the roles its privileges name, what a restore target
holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.backup.manifest import TableFacts

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


def server_facts(conn: Connection) -> dict[str, Any]:
    row = conn.execute(sa.text(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int,"
        " current_database(), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype "
        "FROM pg_database d WHERE d.datname = current_database()")).one()
    postgis = conn.execute(sa.text(
        "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
    return {"server_version": row[0], "server_version_num": row[1], "database": row[2],
            "encoding": row[3], "collate": row[4], "ctype": row[5], "postgis_version": postgis}


def schema_facts(conn: Connection) -> tuple[int | None, list[str]]:
    srid = migrations = None
    if conn.execute(sa.text("SELECT to_regclass('database_setting')")).scalar() is not None:
        value = conn.execute(sa.text(
            "SELECT value FROM database_setting WHERE name = 'storage_srid'")).scalar()
        srid = int(value) if value is not None else None
    if conn.execute(sa.text("SELECT to_regclass('schema_migration')")).scalar() is not None:
        migrations = list(conn.execute(sa.text(
            "SELECT name FROM schema_migration ORDER BY name")).scalars())
    return srid, migrations or []


def grantees(conn: Connection) -> list[str]:
    """Roles that the database's privileges name, besides owners and PUBLIC."""
    return list(conn.execute(sa.text(_GRANTEES)).scalars())
