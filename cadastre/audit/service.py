"""Who is acting, passed to the database per transaction; reads of personal data logged;
the audit log read back for supervisors and admins, redacted by the same personal-data rule
as every other endpoint.

Writes are recorded by the database itself (the ``audit_row`` trigger on every table,
sql/migrations/0011_audit.sql), so no code path can write without leaving a trace; the
application's part is to say who the end user is (:func:`act_as`), since the API connects
as one database role for everybody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import Role, mask_national_id, rule
from cadastre.errors import InvalidInput

MAX_ENTRIES = 1000
#: Keys of personal data inside the before/after images of audited rows.
_PERSONAL_KEYS = ("national_id", "birth_year", "gender", "address", "applicant_id_number",
                  "applicant_address", "applicant_phone", "phone", "email")
_PERSONAL_TABLES = ("party_personal", "dossier", "party", "import_quarantine")


@dataclass(frozen=True, slots=True)
class Actor:
    """The end user on whose behalf a transaction runs, and why."""

    username: str
    role: str
    endpoint: str
    dossier_code: str | None = None
    #: The caller's bearer token or API key: the database verifies it and records the end
    #: user it proves (sql/functions/auth.sql); without it, an API session is anonymous.
    credential: str | None = field(default=None, repr=False)


def act_as(conn: Connection, actor: Actor) -> None:
    """Tag the current transaction: the audit triggers record this actor, role, endpoint and
    dossier (transaction-local settings, gone at commit or rollback). With a credential the
    database verifies it and seals the end user it proves (``auth_act``); the API cannot
    name a user or role of its own choosing. Trusted sessions (commands) name themselves."""
    if actor.credential is not None:
        conn.execute(sa.text("SELECT auth_act(:c, :e, :d)"),
                     {"c": actor.credential, "e": actor.endpoint, "d": actor.dossier_code})
        return
    conn.execute(sa.text(
        "SELECT set_config('cadastre.actor', :u, true), set_config('cadastre.role', :r, true), "
        "set_config('cadastre.endpoint', :e, true), "
        "set_config('cadastre.dossier', coalesce(:d, ''), true)"),
        {"u": actor.username, "r": actor.role, "e": actor.endpoint, "d": actor.dossier_code})


async def log_personal_read(
    conn: asyncpg.Connection, actor: Actor, *, party_ids: list[int], table: str,
    row_key: dict[str, Any], reason: str,
) -> None:
    """One audit row per party whose personal data a response carried (asyncpg reads)."""
    await conn.execute(
        "SELECT audit_personal_read($1, $2, $3, $4, $5::bigint[], $6, $7::jsonb, $8)",
        actor.username, actor.role, actor.endpoint, actor.dossier_code,
        sorted(set(party_ids)), table, orjson.dumps(row_key).decode(), reason)


def log_personal_read_sync(
    conn: Connection, actor: Actor, *, party_ids: list[int], table: str,
    row_key: dict[str, Any], reason: str,
) -> None:
    """The same, inside a SQLAlchemy transaction (commits with it)."""
    conn.execute(sa.text(
        "SELECT audit_personal_read(:u, :r, :e, :d, CAST(:p AS bigint[]), :t, "
        "CAST(:k AS jsonb), :why)"),
        {"u": actor.username, "r": actor.role, "e": actor.endpoint, "d": actor.dossier_code,
         "p": sorted(set(party_ids)), "t": table, "k": orjson.dumps(row_key).decode(),
         "why": reason})


def _redact(image: dict[str, Any] | None, role: Role) -> dict[str, Any] | None:
    if image is None:
        return None
    r = rule(role)
    out = dict(image)
    for key in _PERSONAL_KEYS:
        if key not in out or out[key] is None:
            continue
        if key in ("national_id", "applicant_id_number") and r.national_id == "masked":
            out[key] = mask_national_id(str(out[key]))
        elif not (r.addresses and r.birth and r.national_id == "full"):
            out[key] = "withheld"
    if not r.names:
        for key in ("name", "applicant_name", "full_name", "attributes"):
            if key in out:
                out[key] = "withheld"
    return out


async def entries(
    conn: asyncpg.Connection, role: Role, *, party: int | None = None,
    user: str | None = None, dossier: str | None = None, action: str | None = None,
    since: datetime | None = None, until: datetime | None = None, limit: int = 100,
    before_id: int | None = None,
) -> dict[str, Any]:
    """Audit rows, newest first, filtered; personal data in the row images as ``role`` may
    see it. Paged with ``before_id`` (the last id of the previous page)."""
    if not 1 <= limit <= MAX_ENTRIES:
        raise InvalidInput(f"limit must be between 1 and {MAX_ENTRIES}")
    if since is not None and until is not None and since > until:
        raise InvalidInput("'from' is after 'to'")
    async with conn.transaction():  # the log's row-level policy admits the proven roles only
        rows = await _fetch_entries(conn, party, user, dossier, action, since, until,
                                    before_id, limit)
    items = []
    for r in rows[:limit]:
        item = dict(r)
        for key in ("row_key", "before", "after"):
            item[key] = orjson.loads(item[key]) if item[key] is not None else None
        if item["table_name"] in _PERSONAL_TABLES:
            item["before"] = _redact(item["before"], role)
            item["after"] = _redact(item["after"], role)
        items.append(item)
    page: dict[str, Any] = {"entries": items}
    if len(rows) > limit:
        page["next_before_id"] = items[-1]["id"]
    return page


async def _fetch_entries(
    conn: asyncpg.Connection, party: int | None, user: str | None, dossier: str | None,
    action: str | None, since: datetime | None, until: datetime | None,
    before_id: int | None, limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT id, at, actor, actor_role, db_user, action, table_name, row_key, before, "
        "after, party_id, endpoint, dossier_code, reason FROM audit_log "
        "WHERE ($1::bigint IS NULL OR party_id = $1) AND ($2::text IS NULL OR actor = $2) "
        "AND ($3::text IS NULL OR dossier_code = $3) AND ($4::text IS NULL OR action = $4) "
        "AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6) "
        "AND ($7::bigint IS NULL OR id < $7) ORDER BY id DESC LIMIT $8",
        party, user, dossier, action, since, until, before_id, limit + 1)
