"""What the readiness probe reports about the database: PostGIS, storage SRID, migrations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def database_facts(conn: Connection) -> dict[str, Any]:
    """The PostGIS library version, the storage SRID and the number of applied migrations
    (a query that fails when the database is not reachable or not initialised)."""
    row = conn.execute(sa.text(
        "SELECT postgis_lib_version(), "
        "(SELECT value FROM database_setting WHERE name = 'storage_srid'), "
        "(SELECT count(*) FROM schema_migration)")).one()
    return {"postgis": row[0], "storage_srid": int(row[1]), "migrations": row[2]}
