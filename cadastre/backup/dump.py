"""`cadastre backup`: pg_dump of the register and its manifest, read in one snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from cadastre.backup.errors import BackupFailed
from cadastre.backup.facts import SECRET_TABLES, grantees, schema_facts, server_facts, table_facts
from cadastre.backup.manifest import FORMAT, Manifest, file_sha256, manifest_path
from cadastre.backup.tools import Progress, find_pg_tool, first_error, libpq_target
from cadastre.db import create_engine, database_url, describe, translate_connection_errors
from cadastre.settings import Settings


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
            server = server_facts(conn)
            major = server["server_version_num"] // 10000
            dirs = [pg_bin] if pg_bin else None
            pg_dump, pg_dump_version = find_pg_tool("pg_dump", major, dirs=dirs)
            # The archive, the counts and the checksums come from this one snapshot.
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            target, env = libpq_target(url)
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
                srid, migrations = schema_facts(conn)
                roles = grantees(conn)
                facts = table_facts(conn, checksums=checksums)
                _, errors = dump.communicate()
            except BaseException:
                dump.kill()
                dump.wait()
                raise
            conn.execute(sa.text("COMMIT"))
        if dump.returncode != 0:
            raise BackupFailed(f"pg_dump failed: {first_error(errors)}")
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

