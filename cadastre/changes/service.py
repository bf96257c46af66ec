"""Change operations on rights and restrictions (biến động): transfers, mortgages and
injunctions. Each is atomic inside the caller's transaction, ends the versions it replaces
and begins the new ones at the same instant, is tied to its source document and (when there
is one) the dossier that caused it, and takes a row lock on the parcel so that two officers
changing one parcel are serialised: the second sees the first's result (and a stale
``expected_change`` is refused). While an injunction is active every other change on the
parcel is refused with the injunction's reference.

Splits, merges, boundary corrections and purpose changes are in ``spatial``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.changes.record import SourceDocument as SourceDocument
from cadastre.changes.record import record_change
from cadastre.errors import Conflict, InvalidInput, ParcelNotFound


class InjunctionActive(Conflict):
    code = "injunction-active"


class StaleParcel(Conflict):
    code = "stale-parcel"


@dataclass(frozen=True, slots=True)
class Share:
    party_id: int
    numerator: int = 1
    denominator: int = 1


@dataclass(frozen=True, slots=True)
class ChangeResult:
    change_id: int
    parcel_id: int
    ended: int
    begun: int
    #: The parcels the change created (a split's children, a merge's parcel).
    new_parcels: tuple[int, ...] = ()


#: The newest change touching a parcel, its rights or restrictions ($1 / :p = parcel id).
LAST_CHANGE_SQL = """
    SELECT c.id, c.kind FROM change_transaction c WHERE c.id IN (
        SELECT begun_by FROM parcel WHERE parcel_id = {p}
        UNION SELECT ended_by FROM parcel WHERE parcel_id = {p}
        UNION SELECT begun_by FROM land_right WHERE parcel_id = {p}
        UNION SELECT ended_by FROM land_right WHERE parcel_id = {p}
        UNION SELECT begun_by FROM restriction WHERE parcel_id = {p}
        UNION SELECT ended_by FROM restriction WHERE parcel_id = {p})
    ORDER BY c.id DESC LIMIT 1"""
_LAST_CHANGE = LAST_CHANGE_SQL.format(p=":p")


def lock_parcel(conn: Connection, parcel_id: int, expected_change: int | None) -> None:
    """Lock the parcel for the rest of the transaction: two officers changing one parcel
    are serialised. A caller that saw an older state gets StaleParcel, naming the change
    that came in between (also when that change retired the parcel: a merge, a split).
    The check runs after the lock is held, so that of two requests made against the same
    state exactly one passes it. ``expected_change`` None: no precondition (the command
    line, whose operator reads and writes in one transaction); the API always sends one."""
    locked = conn.execute(sa.text(
        "SELECT parcel_id FROM parcel_identity WHERE parcel_id = :p FOR UPDATE"),
        {"p": parcel_id}).scalar()
    if locked is None:
        raise ParcelNotFound(f"no parcel {parcel_id}")
    if expected_change is not None:
        row = conn.execute(sa.text(_LAST_CHANGE), {"p": parcel_id}).first()
        if row is None or int(row.id) != expected_change:
            last = "no change" if row is None else f"change #{row.id} ({row.kind})"
            raise StaleParcel(
                f"parcel {parcel_id} was changed by {last} after the state you read "
                f"(#{expected_change})",
                hint="read the parcel again and repeat the change",
                conflicting_change=None if row is None else row.id)
    current = conn.execute(sa.text(
        "SELECT 1 FROM current_parcel WHERE parcel_id = :p"), {"p": parcel_id}).scalar()
    if current is None:
        raise ParcelNotFound(f"parcel {parcel_id} is retired; changes apply to current parcels")


def lock_parcels(conn: Connection, parcel_ids: list[int],
                 expected_changes: Mapping[int, int] | None) -> None:
    """lock_parcel for each parcel of a multi-parcel change, in id order (two changes on
    overlapping sets cannot deadlock); with ``expected_changes`` every parcel needs its
    state."""
    ids = sorted(set(parcel_ids))
    if expected_changes is not None and set(expected_changes) != set(ids):
        raise InvalidInput(f"the states given name parcels {sorted(expected_changes)}, the "
                           f"change is on parcels {ids}")
    for pid in ids:
        lock_parcel(conn, pid, None if expected_changes is None else expected_changes[pid])
        refuse_if_blocked(conn, pid)


def refuse_if_blocked(conn: Connection, parcel_id: int) -> None:
    """InjunctionActive while the parcel is under an injunction, naming the orders'
    references to the roles that see them (restriction_visible)."""
    references = list(conn.execute(sa.text(
        "SELECT coalesce(reference, 'reference withheld') FROM restriction_visible "
        "WHERE parcel_id = :p AND kind = 'injunction' AND upper_inf(lifespan) "
        "ORDER BY lower(lifespan)"), {"p": parcel_id}).scalars())
    if references:
        raise InjunctionActive(
            f"parcel {parcel_id} is under an injunction ({', '.join(references)}): no other "
            "change may be registered until it is lifted")


def begin_change(conn: Connection, kind: str, source: SourceDocument, *, dossier_code: str | None,
                 note: str | None) -> tuple[int, datetime]:
    """``record_change`` for a change proven by one document: its id and instant."""
    change = record_change(conn, kind, [source], dossier_code=dossier_code, note=note)
    return change.change_id, change.happened_at


def _end(conn: Connection, table: str, where: str, params: dict[str, object], change_id: int,
         at: object) -> int:
    return int(conn.execute(sa.text(
        f"UPDATE {table} SET lifespan = tstzrange(lower(lifespan), :at, '[)'), "
        f"ended_by = :c WHERE upper_inf(lifespan) AND {where}"),
        {**params, "at": at, "c": change_id}).rowcount)


def _end_restriction(conn: Connection, parcel_id: int, kind: str, reference: str,
                     change_id: int, at: object) -> int:
    """End the parcel's current restrictions of ``kind`` with this reference: through
    restriction_end(), since the API's login may not read references
    (sql/functions/privileges_financial.sql)."""
    return int(conn.execute(sa.text(
        "SELECT restriction_end(:p, :k, :r, :c, :at)"),
        {"p": parcel_id, "k": kind, "r": reference, "c": change_id, "at": at}).scalar_one())


def check_shares(holders: list[Share]) -> None:
    """At least one holder; each share a proper fraction; together exactly 1."""
    if not holders:
        raise InvalidInput("a right needs at least one holder")
    if any(h.numerator <= 0 or h.denominator <= 0 or h.numerator > h.denominator
           for h in holders):
        raise InvalidInput("each share must be a fraction between 0 and 1")
    total = sum((Fraction(h.numerator, h.denominator) for h in holders), Fraction(0))
    if total != 1:
        raise InvalidInput(f"the holders' shares add up to {total}, not 1")


def require_parties(conn: Connection, party_ids: list[int]) -> None:
    """Every party named by a change exists (a clear 422, not a foreign-key violation)."""
    known = set(conn.execute(sa.text("SELECT id FROM party WHERE id = ANY(:ids)"),
                             {"ids": party_ids}).scalars())
    missing = sorted(set(party_ids) - known)
    if missing:
        raise InvalidInput(f"unknown parties {missing}")


def transfer(conn: Connection, parcel_id: int, holders: list[Share], source: SourceDocument,
             *, kind: str = "transfer", dossier_code: str | None = None,
             expected_change: int | None = None, note: str | None = None) -> ChangeResult:
    """Transfer (chuyển nhượng), inheritance (thừa kế) or gift (tặng cho): the current
    land-use rights end and the new holders' rights begin; their shares add up to 1."""
    if kind not in ("transfer", "inheritance", "gift"):
        raise InvalidInput(f"a transfer is a transfer, inheritance or gift, not {kind!r}")
    check_shares(holders)
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    require_parties(conn, [h.party_id for h in holders])
    change_id, at = begin_change(conn, kind, source, dossier_code=dossier_code, note=note)
    certificate = conn.execute(sa.text(
        "SELECT certificate_id FROM current_land_right WHERE parcel_id = :p "
        "AND kind = 'land_use' LIMIT 1"), {"p": parcel_id}).scalar()
    ended = _end(conn, "land_right", "parcel_id = :p AND kind = 'land_use'", {"p": parcel_id},
                 change_id, at)
    if ended == 0:
        raise InvalidInput(f"parcel {parcel_id} has no current land-use right to transfer")
    for h in holders:
        conn.execute(sa.text(
            "INSERT INTO land_right (right_id, kind, parcel_id, party_id, share_numerator, "
            "share_denominator, certificate_id, lifespan, begun_by) VALUES "
            "(nextval('land_right_id_seq'), 'land_use', :p, :party, :n, :d, :cert, "
            "tstzrange(:at, NULL, '[)'), :c)"),
            {"p": parcel_id, "party": h.party_id, "n": h.numerator, "d": h.denominator,
             "cert": certificate, "at": at, "c": change_id})
    return ChangeResult(change_id, parcel_id, ended, len(holders))


def register_mortgage(conn: Connection, parcel_id: int, lender_party_id: int,
                      source: SourceDocument, *, amount: int | None = None,
                      dossier_code: str | None = None,
                      expected_change: int | None = None) -> ChangeResult:
    """Đăng ký thế chấp: a mortgage in favour of the lender, referenced by its contract."""
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    require_parties(conn, [lender_party_id])
    change_id, at = begin_change(conn, "mortgage", source, dossier_code=dossier_code, note=None)
    conn.execute(sa.text(
        "INSERT INTO restriction (restriction_id, kind, parcel_id, party_id, reference, "
        "description, amount, lifespan, begun_by) VALUES (nextval('restriction_id_seq'), "
        "'mortgage', :p, :lender, :ref, :d, :amount, tstzrange(:at, NULL, '[)'), :c)"),
        {"p": parcel_id, "lender": lender_party_id, "ref": source.reference,
         "d": source.description, "amount": amount, "at": at, "c": change_id})
    return ChangeResult(change_id, parcel_id, 0, 1)


def release_mortgage(conn: Connection, parcel_id: int, reference: str, source: SourceDocument,
                     *, dossier_code: str | None = None,
                     expected_change: int | None = None) -> ChangeResult:
    """Xóa đăng ký thế chấp: ends the mortgage with this contract reference."""
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    change_id, at = begin_change(conn, "mortgage_release", source, dossier_code=dossier_code,
                           note=None)
    ended = _end_restriction(conn, parcel_id, "mortgage", reference, change_id, at)
    if ended == 0:
        raise InvalidInput(f"parcel {parcel_id} has no current mortgage {reference!r}")
    return ChangeResult(change_id, parcel_id, ended, 0)


def set_injunction(conn: Connection, parcel_id: int, authority_party_id: int | None,
                   source: SourceDocument, *, dossier_code: str | None = None,
                   expected_change: int | None = None) -> ChangeResult:
    """Ngăn chặn: blocks every other change on the parcel until lifted."""
    lock_parcel(conn, parcel_id, expected_change)
    if authority_party_id is not None:
        require_parties(conn, [authority_party_id])
    change_id, at = begin_change(conn, "injunction", source, dossier_code=dossier_code, note=None)
    conn.execute(sa.text(
        "INSERT INTO restriction (restriction_id, kind, parcel_id, party_id, reference, "
        "description, lifespan, begun_by) VALUES (nextval('restriction_id_seq'), "
        "'injunction', :p, :party, :ref, :d, tstzrange(:at, NULL, '[)'), :c)"),
        {"p": parcel_id, "party": authority_party_id, "ref": source.reference,
         "d": source.description, "at": at, "c": change_id})
    return ChangeResult(change_id, parcel_id, 0, 1)


def lift_injunction(conn: Connection, parcel_id: int, reference: str, source: SourceDocument,
                    *, dossier_code: str | None = None,
                    expected_change: int | None = None) -> ChangeResult:
    """Hủy bỏ biện pháp ngăn chặn: ends the injunction with this reference."""
    lock_parcel(conn, parcel_id, expected_change)
    change_id, at = begin_change(conn, "injunction_release", source, dossier_code=dossier_code,
                           note=None)
    ended = _end_restriction(conn, parcel_id, "injunction", reference, change_id, at)
    if ended == 0:
        raise InvalidInput(f"parcel {parcel_id} has no active injunction {reference!r}")
    return ChangeResult(change_id, parcel_id, ended, 0)
