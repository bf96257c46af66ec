"""The ``export_job`` records: who exported what, with which filters, how it ended.

A job runs holding a session-level advisory lock keyed on its id, on a connection of the
process running it. A job marked ``running`` whose lock nobody holds was left by a process
that stopped (restart, crash): ``recover_interrupted`` marks it failed. Queued jobs wait in
the table, so they survive a restart and are run by whichever process starts next.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.exports.errors import ExportNotFound

if TYPE_CHECKING:
    from cadastre.exports.service import ExportRequest

#: First key of the job locks (pg_advisory_lock(int, int)): "EXPJ" read as an integer.
LOCK_CLASS = int.from_bytes(b"EXPJ", "big")
INTERRUPTED = ("interrupted: the process running the export stopped before it finished; "
               "request the export again")
_COLUMNS = ("id, requested_by, user_id, role, channel, collection, format, crs, filters, "
            "status, feature_count, bytes, file_path, warnings, error, created_at, "
            "started_at, finished_at")


def create(conn: Connection, request: ExportRequest, *, requested_by: str,
           channel: str, user_id: int | None = None, role: str | None = None,
           status: str = "queued", file_path: str | None = None) -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO export_job (requested_by, user_id, role, channel, collection, format, "
        "crs, filters, status, file_path, started_at) VALUES (:by, :uid, :role, :channel, "
        ":collection, :format, :crs, CAST(:filters AS jsonb), :status, :path, "
        "CASE WHEN :status = 'running' THEN clock_timestamp() END) RETURNING id"),
        {"by": requested_by, "uid": user_id, "role": role, "channel": channel,
         "collection": request.collection.id, "format": request.format.id,
         "crs": request.crs, "filters": _json(request.filters.to_json()), "status": status,
         "path": file_path}).scalar_one())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def claim_next(conn: Connection) -> dict[str, Any] | None:
    """Take the oldest queued job: mark it running and take its lock, a session lock held
    by ``conn`` (a connection the caller keeps open while the job runs) beyond the
    transaction, which the caller commits before running the job."""
    row = conn.execute(sa.text(
        f"UPDATE export_job SET status = 'running', started_at = clock_timestamp() "
        f"WHERE id = (SELECT id FROM export_job WHERE status = 'queued' ORDER BY id "
        f"FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING {_COLUMNS}")).mappings().first()
    if row is None:
        return None
    conn.execute(sa.text("SELECT pg_advisory_lock(:c, CAST(:j AS int))"),
                 {"c": LOCK_CLASS, "j": row["id"]})
    return dict(row)


def release(conn: Connection, job_id: int) -> None:
    """Give back the lock ``claim_next`` took on this connection."""
    conn.execute(sa.text("SELECT pg_advisory_unlock(:c, CAST(:j AS int))"),
                 {"c": LOCK_CLASS, "j": job_id})


def recover_interrupted(conn: Connection) -> int:
    """Mark failed the running jobs nobody runs any more. Returns how many."""
    ids = conn.execute(sa.text(
        "SELECT id FROM export_job WHERE status = 'running' ORDER BY id")).scalars().all()
    failed = 0
    for job_id in ids:
        orphan = conn.execute(sa.text(
            "SELECT pg_try_advisory_xact_lock(:c, CAST(:j AS int))"),
            {"c": LOCK_CLASS, "j": job_id}).scalar_one()
        if orphan:
            failed += conn.execute(sa.text(
                "UPDATE export_job SET status = 'failed', error = :e, "
                "finished_at = clock_timestamp() WHERE id = :j AND status = 'running'"),
                {"e": INTERRUPTED, "j": job_id}).rowcount
    return failed


def finish(conn: Connection, job_id: int, count: int, size: int, warnings: list[str],
           file_path: str) -> None:
    conn.execute(sa.text(
        "UPDATE export_job SET status = 'done', feature_count = :n, bytes = :b, "
        "warnings = CAST(:w AS jsonb), file_path = :p, finished_at = clock_timestamp() "
        "WHERE id = :j"),
        {"n": count, "b": size, "w": _json(warnings), "p": file_path, "j": job_id})


def fail(conn: Connection, job_id: int, message: str) -> None:
    conn.execute(sa.text(
        "UPDATE export_job SET status = 'failed', error = :e, finished_at = clock_timestamp() "
        "WHERE id = :j AND status IN ('queued', 'running')"), {"e": message, "j": job_id})


def get(conn: Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute(sa.text(f"SELECT {_COLUMNS} FROM export_job WHERE id = :j"),
                       {"j": job_id}).mappings().first()
    if row is None:
        raise ExportNotFound(f"there is no export {job_id}")
    return dict(row)


def recent(conn: Connection, *, requested_by: str | None = None, limit: int = 100
           ) -> list[dict[str, Any]]:
    """The latest jobs, of one account (its API jobs) or of everyone."""
    rows = conn.execute(sa.text(
        f"SELECT {_COLUMNS} FROM export_job WHERE CAST(:by AS text) IS NULL OR "
        f"(requested_by = :by AND channel = 'api') ORDER BY id DESC LIMIT :n"),
        {"by": requested_by, "n": limit}).mappings().all()
    return [dict(r) for r in rows]
