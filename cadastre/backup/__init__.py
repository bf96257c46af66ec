"""Backups of the whole register (`cadastre backup`, `cadastre restore`).

Modules: ``dump`` (backup), ``restoring`` (restore), ``manifest`` (the manifest and its
checks), ``facts`` (what is read from a database for it), ``tools`` (pg_dump and
pg_restore), ``errors``.

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

from cadastre.backup.dump import backup
from cadastre.backup.errors import (
    BackupCorrupt,
    BackupFailed,
    BackupFileMissing,
    PgToolMissing,
    RestoreMismatch,
    RestoreTargetNotEmpty,
    WrongServer,
)
from cadastre.backup.facts import table_facts
from cadastre.backup.manifest import manifest_path
from cadastre.backup.restoring import RestoreResult, restore
from cadastre.backup.tools import find_pg_tool

__all__ = [
    "BackupCorrupt",
    "BackupFailed",
    "BackupFileMissing",
    "PgToolMissing",
    "RestoreMismatch",
    "RestoreResult",
    "RestoreTargetNotEmpty",
    "WrongServer",
    "backup",
    "find_pg_tool",
    "manifest_path",
    "restore",
    "table_facts",
]
