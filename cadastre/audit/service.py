"""Who is acting, passed to the database per transaction; reads of personal data logged;
the audit log read back for supervisors and admins, redacted by the same personal-data rule
as every other endpoint.

Writes are recorded by the database itself (the ``audit_row`` trigger on every table,
sql/migrations/0011_audit.sql), so no code path can write without leaving a trace; the
application's part is to say who the end user is (:func:`act_as`), since the API connects
as one database role for everybody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import PERSONAL_SOURCE_FIELDS, Role, personal_value, rule
from cadastre.errors import InvalidInput

MAX_ENTRIES = 1000
#: Personal data inside the before/after images of audited rows: table -> column -> kind
#: (cadastre.access.personal_value). Only these tables: elsewhere the same names are not
#: personal (a parcel's address, an office's phone, a procedure's name).
_PERSONAL_COLUMNS: dict[str, dict[str, str]] = {
    "party": {"name": "name"},
    "party_personal": {"national_id": "national_id", "birth_year": "birth",
                       "birth_date": "birth", "gender": "birth", "address": "address",
                       "phone": "contact", "email": "contact", "nationality": "name"},
    "dossier": {"applicant_name": "name", "applicant_id_number": "national_id",
                "applicant_phone": "contact", "applicant_address": "address"},
    "feedback": {"contact_name": "name", "contact_phone": "contact",
                 "contact_email": "contact"},
    "app_user": {"full_name": "name"},
    "restriction": {"reference": "reference", "description": "reference",
                    "party_id": "reference", "amount": "amount"},
    "import_quarantine": {},  # its attributes: _quarantine_attributes
}
#: Keys that are personal wherever they appear in a quarantined row's attributes (the
#: canonical names of an import's fields, and the usual names of contacts and birth dates).
_PERSONAL_KEYS = {"national_id": "national_id", "birth_year": "birth", "birth_date": "birth",
                  "phone": "contact", "email": "contact",
                  "contact_phone": "contact", "contact_email": "contact",
                  "contact_name": "name", **PERSONAL_SOURCE_FIELDS}
#: A search for a national ID (or any long run of digits) typed by the reader of a record.
_ID_NUMBER = re.compile(r"\d{9,}")

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


def _redact(table: str, image: dict[str, Any] | None, role: Role) -> dict[str, Any] | None:
    """A row image of ``table`` with its personal data as ``role`` may see it."""
    if image is None or table not in _PERSONAL_COLUMNS:
        return image
    out = dict(image)
    for key, kind in _PERSONAL_COLUMNS[table].items():
        if key in out:
            out[key] = personal_value(role, kind, out[key])
    if table == "import_quarantine" and "attributes" in out:
        out["attributes"] = _quarantine_attributes(out["attributes"], role)
    return out


def _quarantine_attributes(attributes: Any, role: Role) -> Any:
    """A quarantined import row's source attributes: the columns the import's profile
    mapped to personal fields (recorded under ``_personal``, e.g. CCCD -> owner_id) and the
    usual personal keys as ``role`` may see them. A row without that record (imported before
    it was kept) is shown only to the roles that see all personal data."""
    if not isinstance(attributes, dict):
        return attributes
    r = rule(role)
    everything = r.names and r.national_id == "full" and r.birth and r.addresses
    personal = attributes.get("_personal")
    if not isinstance(personal, dict):
        return attributes if everything else {"personal_data": "withheld"}
    out = dict(attributes)
    for key, value in attributes.items():
        field = personal.get(key) or _PERSONAL_KEYS.get(key)
        if field is not None:
            out[key] = personal_value(role, PERSONAL_SOURCE_FIELDS.get(field, field), value)
    return out


def _redact_row_key(row_key: Any, role: Role) -> Any:
    """A holder search's text (``q``) may be a national ID: masked as the role sees IDs."""
    if not isinstance(row_key, dict) or not isinstance(row_key.get("q"), str):
        return row_key
    masked = _ID_NUMBER.sub(lambda m: str(personal_value(role, "national_id", m.group())),
                            row_key["q"])
    return {**row_key, "q": masked}


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
        item["before"] = _redact(item["table_name"], item["before"], role)
        item["after"] = _redact(item["table_name"], item["after"], role)
        item["row_key"] = _redact_row_key(item["row_key"], role)
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
