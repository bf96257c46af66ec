"""Which refusals of the database are conflicts with the register's state (HTTP 409), with
the stable code and the safe detail the client is told, for either driver."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Conflict:
    code: str
    detail: str


#: SQLSTATE -> what the client is told. CD001 is raised by the history triggers
#: (guard_version_history and the immutable rows, sql/migrations/0001_foundation.sql) and by
#: the rule that an answer to a feedback is never rewritten; the version-overlap triggers
#: raise 23P01 like an exclusion constraint would. 42501 (a role's refusal) is not a conflict.
CONFLICTS = {
    "23505": Conflict("conflict-unique", "a row with the same key exists already"),
    "23P01": Conflict("conflict-overlap",
                      "two versions of one object would overlap in time"),
    "CD001": Conflict("conflict-history", "history is never overwritten: a version is "
                      "ended by a change, never edited or deleted"),
}

#: Tables whose constraint names may be shown: the map and the procedure catalogue, which
#: hold no personal data. Elsewhere a constraint's name could tell that a person, an
#: account or a contract exists (party_personal_national_id_idx), so it is left out.
NAMED_TABLES = frozenset({
    "admin_unit", "admin_unit_succession", "map_sheet", "parcel_identity", "parcel",
    "parcel_lineage", "land_use_type", "parcel_land_use", "certificate_parcel",
    "public_holiday", "calendar_year", "calendar_swap", "office", "procedure",
})


def conflict_of(sqlstate: str | None, table: str | None,
                constraint: str | None) -> Conflict | None:
    """The conflict an error with these diagnostics is, or None when it is none."""
    found = CONFLICTS.get(sqlstate or "")
    if found is None or not constraint or table not in NAMED_TABLES:
        return found
    return Conflict(found.code, f"{found.detail} (constraint {constraint})")


def sqlalchemy_conflict(exc: sa.exc.DBAPIError) -> Conflict | None:
    """conflict_of for an error of the writer engine (psycopg2)."""
    diag = getattr(exc.orig, "diag", None)
    return conflict_of(getattr(exc.orig, "pgcode", None), getattr(diag, "table_name", None),
                       getattr(diag, "constraint_name", None))


def asyncpg_conflict(exc: asyncpg.PostgresError) -> Conflict | None:
    """conflict_of for an error of the read pool (asyncpg)."""
    return conflict_of(getattr(exc, "sqlstate", None), getattr(exc, "table_name", None),
                       getattr(exc, "constraint_name", None))
