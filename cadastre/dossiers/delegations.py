"""Delegations (ủy quyền): office A delegates one or several procedures to office B for a
period, by a decision (number, date, signer). While it holds, intake routes A's dossiers of
those procedures to B, and B's staff may act on A's dossiers of them. A delegation is
history: ending it sets its last day (valid_to), never deletes it, and one office never
delegates one procedure twice over the same days (409)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import Role
from cadastre.dossiers import offices
from cadastre.dossiers.calendar import office_today
from cadastre.errors import Conflict, InvalidInput, NotFound


class DelegationNotFound(NotFound):
    code = "delegation-not-found"


class DelegationOverlap(Conflict):
    code = "delegation-overlap"


@dataclass(frozen=True, slots=True)
class DelegationIn:
    from_office: str
    to_office: str
    procedures: list[str]
    decision_number: str
    decision_date: date
    signer: str
    valid_from: date
    valid_to: date | None = None


_SELECT = """
SELECT d.id, d.from_office, d.to_office, d.valid_from, d.valid_to, d.decision_number,
       d.decision_date, d.signer, d.created_at, d.created_by, d.ended_at, d.ended_by,
       array(SELECT p.procedure_code FROM delegation_procedure p
             WHERE p.delegation_id = d.id ORDER BY 1) AS procedures
FROM delegation d
"""


def _status(row: dict[str, Any], today: date) -> str:
    if row["valid_to"] is not None and row["valid_to"] < row["valid_from"]:
        return "revoked"  # ended before it began: it never held
    if today < row["valid_from"]:
        return "future"
    if row["valid_to"] is not None and row["valid_to"] < today:
        return "ended" if row["ended_at"] is not None else "expired"
    return "active"


def _with_status(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    today = office_today(conn)
    return [{**r, "procedures": list(r["procedures"]), "status": _status(r, today)}
            for r in rows]


def delegation(conn: Connection, delegation_id: int) -> dict[str, Any]:
    row = conn.execute(sa.text(_SELECT + "WHERE d.id = :i"),
                       {"i": delegation_id}).mappings().first()
    if row is None:
        raise DelegationNotFound(f"no delegation {delegation_id}")
    return _with_status(conn, [dict(row)])[0]


def list_delegations(conn: Connection, *, office: str | None = None,
                     procedure_code: str | None = None, holding_on: date | None = None
                     ) -> list[dict[str, Any]]:
    """Delegations from or to ``office``, of ``procedure_code``, holding on ``holding_on``
    (each filter optional), newest first."""
    rows = conn.execute(sa.text(
        _SELECT + "WHERE (CAST(:o AS text) IS NULL OR :o IN (d.from_office, d.to_office)) "
        "AND (CAST(:p AS text) IS NULL OR EXISTS (SELECT 1 FROM delegation_procedure x "
        "WHERE x.delegation_id = d.id AND x.procedure_code = :p)) "
        "AND (CAST(:on AS date) IS NULL OR (d.valid_from <= :on "
        "AND (d.valid_to IS NULL OR :on <= d.valid_to))) "
        "ORDER BY d.valid_from DESC, d.id DESC"),
        {"o": office, "p": procedure_code, "on": holding_on}).mappings()
    return _with_status(conn, [dict(r) for r in rows])


def delegate_of(conn: Connection, *, from_office: str, procedure_code: str,
                on: date) -> str | None:
    """The office ``from_office`` delegates ``procedure_code`` to on day ``on``, if any."""
    found = conn.execute(sa.text(
        "SELECT d.to_office FROM delegation d JOIN delegation_procedure p "
        "ON p.delegation_id = d.id WHERE d.from_office = :o AND p.procedure_code = :p "
        "AND d.valid_from <= :d AND (d.valid_to IS NULL OR :d <= d.valid_to) "
        "ORDER BY d.valid_from DESC, d.id DESC LIMIT 1"),
        {"o": from_office, "p": procedure_code, "d": on}).scalar()
    return None if found is None else str(found)


def _may_manage(conn: Connection, from_office: str, role: Role | None) -> None:
    """Admins, and supervisors of the delegating office (the database checks it again)."""
    acting = offices.acting_office(conn)
    if acting is None:
        return
    if role is not Role.SUPERVISOR or acting != from_office:
        raise offices.WrongOffice(
            f"only an admin or a supervisor of office {from_office} delegates its procedures")


def create(conn: Connection, item: DelegationIn, *, role: Role | None,
           actor: str) -> dict[str, Any]:
    """Record a delegation; refused when it would overlap another delegation of one of its
    procedures by the same office (409 ``delegation-overlap``, naming it)."""
    offices.office(conn, item.from_office)
    offices.office(conn, item.to_office)
    _may_manage(conn, item.from_office, role)
    if item.from_office == item.to_office:
        raise InvalidInput("an office does not delegate to itself")
    procedures = sorted(set(item.procedures))
    if not procedures:
        raise InvalidInput("a delegation names at least one procedure")
    known = set(conn.execute(sa.text(
        "SELECT code FROM procedure WHERE code = ANY(:p) AND active"),
        {"p": procedures}).scalars())
    if unknown := [p for p in procedures if p not in known]:
        raise InvalidInput(f"unknown or inactive procedures: {', '.join(unknown)}",
                           hint="see GET /api/v1/procedures")
    if not item.decision_number.strip() or not item.signer.strip():
        raise InvalidInput("a delegation names its decision's number and signer")
    today = office_today(conn)
    if item.decision_date > today:
        raise InvalidInput(f"the decision's date {item.decision_date} is in the future")
    if item.valid_from < item.decision_date:
        raise InvalidInput("a delegation holds from its decision's date at the earliest")
    if item.valid_from < today:
        raise InvalidInput(f"a delegation begins today ({today}) or later: it cannot "
                           "authorise what was done before it was recorded")
    if item.valid_to is not None and item.valid_to < item.valid_from:
        raise InvalidInput("valid_to is before valid_from")
    clash = conn.execute(sa.text(
        "SELECT d.id, d.to_office, d.valid_from, d.valid_to, p.procedure_code "
        "FROM delegation d JOIN delegation_procedure p ON p.delegation_id = d.id "
        "WHERE d.from_office = :o AND p.procedure_code = ANY(:p) "
        "AND daterange(d.valid_from, d.valid_to + 1) && "
        "daterange(CAST(:f AS date), CAST(:t AS date) + 1) ORDER BY d.id LIMIT 1"),
        {"o": item.from_office, "p": procedures, "f": item.valid_from,
         "t": item.valid_to}).first()
    if clash is not None:
        until = clash.valid_to.isoformat() if clash.valid_to else "further notice"
        raise DelegationOverlap(
            f"office {item.from_office} already delegates {clash.procedure_code} to "
            f"{clash.to_office} from {clash.valid_from} to {until} (delegation {clash.id})",
            hint="end that delegation first, or choose days it does not cover",
            delegation=clash.id)
    delegation_id = int(conn.execute(sa.text(
        "INSERT INTO delegation (from_office, to_office, valid_from, valid_to, "
        "decision_number, decision_date, signer, created_at, created_by) VALUES (:f, :t, "
        ":vf, :vt, :n, :dd, :s, office_now(), :a) RETURNING id"),
        {"f": item.from_office, "t": item.to_office, "vf": item.valid_from,
         "vt": item.valid_to, "n": item.decision_number.strip(), "dd": item.decision_date,
         "s": item.signer.strip(), "a": actor}).scalar_one())
    conn.execute(sa.text(
        "INSERT INTO delegation_procedure (delegation_id, procedure_code) "
        "SELECT :d, unnest(CAST(:p AS text[]))"), {"d": delegation_id, "p": procedures})
    return delegation(conn, delegation_id)


def end(conn: Connection, delegation_id: int, *, last_day: date | None, role: Role | None,
        actor: str) -> dict[str, Any]:
    """End a delegation: ``last_day`` is the last day it holds (default yesterday: it holds
    no more from today). Ended before it began, it never held (an empty period). Never in
    the past: what was done under it stays authorised."""
    row = conn.execute(sa.text(
        "SELECT id, from_office, valid_from, valid_to, ended_at FROM delegation "
        "WHERE id = :i FOR UPDATE"), {"i": delegation_id}).first()
    if row is None:
        raise DelegationNotFound(f"no delegation {delegation_id}")
    _may_manage(conn, row.from_office, role)
    if row.ended_at is not None:
        raise Conflict(f"delegation {delegation_id} was ended on {row.ended_at:%Y-%m-%d}")
    today = office_today(conn)
    yesterday = today - timedelta(days=1)
    last = yesterday if last_day is None else last_day
    if last < yesterday:
        raise InvalidInput(f"a delegation is ended from today ({today}) at the earliest: "
                           "what was done under it before stays authorised")
    if row.valid_to is not None and last >= row.valid_to:
        raise InvalidInput(f"delegation {delegation_id} ends on {row.valid_to} already")
    last = max(last, row.valid_from - timedelta(days=1))
    conn.execute(sa.text(
        "UPDATE delegation SET valid_to = :t, ended_at = office_now(), ended_by = :a "
        "WHERE id = :i"), {"t": last, "a": actor, "i": delegation_id})
    return delegation(conn, delegation_id)
