"""Change operations on rights, restrictions and responsibilities (biến động): transfers,
mortgages, injunctions, obligations. Each is atomic inside the caller's transaction, ends
the versions it replaces and begins the new ones at the same instant, is tied to its source
document and (when there is one) the dossier that caused it, and takes a row lock on the
parcel so that two officers changing one parcel are serialised: the second sees the first's
result (and a stale ``expected_change`` is refused). While an injunction is active every
other change on the parcel is refused with the injunction's reference.

Splits, merges, boundary corrections and purpose changes are in ``spatial``; what a
transfer moves is worked out in ``shares``, the certificate it leaves in
``cadastre.certificates.register``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.certificates import register as certificates
from cadastre.changes.record import SourceDocument as SourceDocument
from cadastre.changes.record import record_change
from cadastre.changes.shares import Holding, Move, MovePlan, describe, legacy_moves, plan_moves
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
    #: What the change did to certificates (a transfer's, a certificate operation's).
    certificate: Mapping[str, Any] | None = None


class DuplicateMortgage(Conflict):
    """A lender's active mortgages are told apart by their contract references."""

    code = "conflict-unique"


class AmbiguousRestriction(Conflict):
    """A release or a lifting names more than one current restriction."""

    code = "ambiguous-restriction"


#: The newest change touching a parcel, its rights, restrictions, responsibilities or the
#: certificates covering it ($1 / :p = parcel id).
LAST_CHANGE_SQL = """
    SELECT c.id, c.kind FROM change_transaction c WHERE c.id IN (
        SELECT begun_by FROM parcel WHERE parcel_id = {p}
        UNION SELECT ended_by FROM parcel WHERE parcel_id = {p}
        UNION SELECT begun_by FROM land_right WHERE parcel_id = {p}
        UNION SELECT ended_by FROM land_right WHERE parcel_id = {p}
        UNION SELECT begun_by FROM restriction WHERE parcel_id = {p}
        UNION SELECT ended_by FROM restriction WHERE parcel_id = {p}
        UNION SELECT begun_by FROM responsibility WHERE parcel_id = {p}
        UNION SELECT ended_by FROM responsibility WHERE parcel_id = {p}
        UNION SELECT g.begun_by FROM certificate g JOIN certificate_parcel gp
              ON gp.certificate_version_id = g.version_id WHERE gp.parcel_id = {p}
        UNION SELECT g.ended_by FROM certificate g JOIN certificate_parcel gp
              ON gp.certificate_version_id = g.version_id WHERE gp.parcel_id = {p})
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


def injunction_references(conn: Connection, parcel_ids: Sequence[int]
                          ) -> dict[int, list[str | None]]:
    """The active injunctions on these parcels, per parcel, by their orders' references as
    the caller's role may see them (restriction_visible: None when withheld)."""
    found: dict[int, list[str | None]] = {}
    for parcel_id, reference in conn.execute(sa.text(
            "SELECT parcel_id, reference FROM restriction_visible "
            "WHERE parcel_id = ANY(:p) AND kind = 'injunction' AND upper_inf(lifespan) "
            "ORDER BY parcel_id, lower(lifespan), restriction_id"),
            {"p": list(parcel_ids)}).all():
        found.setdefault(int(parcel_id), []).append(reference)
    return found


def refuse_if_blocked(conn: Connection, parcel_id: int) -> None:
    """InjunctionActive while the parcel is under an injunction, naming the orders'
    references to the roles that see them (restriction_visible)."""
    references = [r or "reference withheld"
                  for r in injunction_references(conn, [parcel_id]).get(parcel_id, [])]
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


def _end_named_restriction(conn: Connection, parcel_id: int, kind: str, *,
                           reference: str | None, restriction_id: int | None,
                           counterparty: int | None, change_id: int, at: object) -> int:
    """End the one current restriction of ``kind`` the caller names (its id, its reference,
    its counterparty): through restriction_end_one(), since the API's login may not read
    references and counterparties (sql/functions/privileges_certificates.sql). Several that
    match are refused, never ended together."""
    what = "mortgage" if kind == "mortgage" else "injunction"
    if reference is None and restriction_id is None:
        raise InvalidInput(f"name the {what} to end: its reference or its restriction_id")
    row = conn.execute(sa.text(
        "SELECT matched, counterparties FROM restriction_end_one(:p, :k, :rid, :r, :party, "
        ":c, :at)"), {"p": parcel_id, "k": kind, "rid": restriction_id, "r": reference,
                      "party": counterparty, "c": change_id, "at": at}).one()
    named = " ".join(x for x in (
        None if reference is None else repr(reference),
        None if restriction_id is None else f"#{restriction_id}",
        None if counterparty is None else f"of party #{counterparty}") if x)
    if row.matched == 0:
        adjective = "current" if kind == "mortgage" else "active"
        raise InvalidInput(f"parcel {parcel_id} has no {adjective} {what} {named}")
    if row.matched > 1:
        parties = ", ".join(f"#{p}" for p in row.counterparties or [])
        who = "lender" if kind == "mortgage" else "authority"
        raise AmbiguousRestriction(
            f"{row.matched} current {what}s on parcel {parcel_id} match {named} "
            f"({who}s {parties}): one is ended at a time",
            hint=f"name the {who} ({who}_party_id) or the restriction (restriction_id)")
    return 1


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


@dataclass(frozen=True, slots=True)
class RightMove:
    """One kind of right moved by a transfer to its new holders (shares of what moves);
    with ``from_party_id`` only that holder's share moves."""

    kind: str
    holders: Sequence[Share]
    from_party_id: int | None = None


@dataclass(frozen=True, slots=True)
class CertificateChoice:
    """What a transfer does to the certificate. ``auto``: a sale of the whole (every
    holder changes) ends the seller's certificate and issues one for the buyer when a
    ``serial`` is given, otherwise the parcel awaits its new certificate; a sale of part (a
    co-holder's share, an asset alone) endorses the certificate. ``endorse`` (part only),
    ``new`` (a serial needed) or ``await`` choose."""

    action: str = "auto"
    serial: str | None = None
    registry_number: str | None = None
    issuing_authority: str | None = None
    issued_on: date | None = None
    #: The endorsement's text instead of the register's own note.
    endorsement: str | None = None


TRANSFER_TITLES_VI = {"transfer": "Chuyển nhượng", "inheritance": "Thừa kế",
                      "gift": "Tặng cho"}


def _fractions(holders: Sequence[Share]) -> tuple[tuple[int, Fraction], ...]:
    check_shares(list(holders))
    return tuple((h.party_id, Fraction(h.numerator, h.denominator)) for h in holders)


def _move(right: RightMove, from_party_id: int | None) -> Move:
    seller = right.from_party_id if right.from_party_id is not None else from_party_id
    return Move(right.kind, _fractions(right.holders),
                None if seller is None else frozenset({seller}))


def _holdings(conn: Connection, parcel_id: int) -> list[Holding]:
    rows = conn.execute(sa.text(
        "SELECT version_id, kind, party_id, share_numerator, share_denominator, term_end, "
        "certificate_id FROM current_land_right WHERE parcel_id = :p ORDER BY version_id"),
        {"p": parcel_id}).all()
    return [Holding(r.version_id, r.kind, r.party_id,
                    Fraction(r.share_numerator, r.share_denominator), r.term_end,
                    r.certificate_id) for r in rows]


def transfer(conn: Connection, parcel_id: int, holders: Sequence[Share] | None,
             source: SourceDocument, *, kind: str = "transfer",
             rights: Sequence[RightMove] | None = None, from_party_id: int | None = None,
             certificate: CertificateChoice | None = None, dossier_code: str | None = None,
             expected_change: int | None = None, note: str | None = None) -> ChangeResult:
    """Transfer (chuyển nhượng), inheritance (thừa kế) or gift (tặng cho) of the rights
    ``rights`` names, each to its own holders; or, given ``holders``, of the land-use right
    and every right to assets attached to the land that its sellers hold, together. With
    ``from_party_id`` only that holder's shares move (a co-holder selling his share). The
    certificate is endorsed or replaced as ``certificate`` says (CertificateChoice)."""
    if kind not in ("transfer", "inheritance", "gift"):
        raise InvalidInput(f"a transfer is a transfer, inheritance or gift, not {kind!r}")
    if (holders is None) == (rights is None):
        raise InvalidInput("a transfer gives either its holders or the rights it moves")
    if rights is not None and not rights:
        raise InvalidInput("a transfer moves at least one right")
    given = [] if holders is None else _fractions(holders)
    moves = [] if rights is None else [_move(r, from_party_id) for r in rights]
    choice = certificate or CertificateChoice()
    if choice.action not in ("auto", "endorse", "new", "await"):
        raise InvalidInput(f"certificate action {choice.action!r}: auto, endorse, new or "
                           "await")
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    parties = [p for p, _ in given] + [p for m in moves for p, _ in m.holders]
    sellers = [p for m in moves for p in (m.sellers or ())]
    require_parties(conn, sorted({*parties, *sellers, *([from_party_id] if from_party_id
                                                        else [])}))
    current = _holdings(conn, parcel_id)
    if holders is not None:
        moves = legacy_moves(current, tuple(given), from_party_id)
    plan = plan_moves(parcel_id, current, moves)
    covering = certificates.current_on_parcels(conn, [parcel_id])
    action = _certificate_action(parcel_id, plan, choice, covering)
    new_certificate = (certificates.new_certificate_id(conn) if action == "new" else None)
    if action == "new" and choice.serial is not None:
        certificates.check_serial_unused(conn, certificates.normalise_serial(choice.serial))
    change_id, at = begin_change(conn, kind, source, dossier_code=dossier_code, note=note)
    conn.execute(sa.text(
        "UPDATE land_right SET lifespan = tstzrange(lower(lifespan), :at, '[)'), "
        "ended_by = :c WHERE upper_inf(lifespan) AND version_id = ANY(:v)"),
        {"at": at, "c": change_id, "v": [h.version_id for h in plan.ended]})
    current_ids = {c.certificate_id for c in covering}
    for h in plan.begun:
        recorded = {"new": new_certificate, "await": None}.get(
            action, h.certificate_id if h.certificate_id in current_ids
            else (covering[0].certificate_id if covering else None))
        conn.execute(sa.text(
            "INSERT INTO land_right (right_id, kind, parcel_id, party_id, share_numerator, "
            "share_denominator, certificate_id, term_end, lifespan, begun_by) VALUES "
            "(nextval('land_right_id_seq'), :k, :p, :party, :n, :d, :cert, :term, "
            "tstzrange(:at, NULL, '[)'), :c)"),
            {"k": h.kind, "p": parcel_id, "party": h.party_id, "n": h.share.numerator,
             "d": h.share.denominator, "cert": recorded, "term": h.term_end, "at": at,
             "c": change_id})
    what = f"{TRANSFER_TITLES_VI[kind]} {describe(plan)}"
    outcome = _apply_certificate(conn, parcel_id, action, choice, covering, what,
                                 new_certificate, change_id, at)
    return ChangeResult(change_id, parcel_id, len(plan.ended), len(plan.begun),
                        certificate=outcome)


def _certificate_action(parcel_id: int, plan: MovePlan, choice: CertificateChoice,
                        covering: list[certificates.CurrentCertificate]) -> str:
    """endorse, new, await or none (no certificate before, none made)."""
    action = choice.action
    if action == "auto":
        if plan.whole or not covering:
            action = "new" if choice.serial else ("await" if covering else "none")
        else:
            action = "endorse"
    if action == "endorse":
        if not covering:
            raise InvalidInput(f"parcel {parcel_id} has no current certificate to endorse",
                               hint="give the serial of a new certificate (certificate.serial)")
        if plan.whole:
            raise InvalidInput(
                "every holder changes: the seller's certificate is not endorsed as the "
                "buyer's proof", hint="give the new certificate's serial, or leave the "
                "parcel awaiting it (certificate.action 'await')")
    if action == "new" and not choice.serial:
        raise InvalidInput("a new certificate needs its serial (certificate.serial)")
    return action


def _apply_certificate(conn: Connection, parcel_id: int, action: str,
                       choice: CertificateChoice,
                       covering: list[certificates.CurrentCertificate], what: str,
                       new_certificate: int | None, change_id: int,
                       at: datetime) -> dict[str, Any]:
    note = choice.endorsement or certificates.endorsement_note(what, at, change_id)
    if action == "endorse":
        for c in covering:
            certificates.endorse(conn, c, note, change_id=change_id, at=at)
        return {"action": "endorsed",
                "certificate_ids": [c.certificate_id for c in covering]}
    if action == "none":
        return {"action": "none", "awaiting_certificate": True}
    left = certificates.take_off(
        conn, [parcel_id], certificates.endorsement_note(
            f"thửa đất #{parcel_id} tách khỏi giấy chứng nhận ({what.lower()})", at,
            change_id), change_id=change_id, at=at)
    if action == "await":
        certificates.link_rights(conn, [parcel_id], None, change_id=change_id, at=at)
        return {"action": "ended", "ended": [c for c, how in left if how == "ended"],
                "endorsed": [c for c, how in left if how == "endorsed"],
                "awaiting_certificate": True}
    assert choice.serial is not None and new_certificate is not None
    facts = certificates.CertificateFacts(
        certificates.normalise_serial(choice.serial),
        choice.issuing_authority or certificates.DEFAULT_AUTHORITY, choice.registry_number,
        choice.issued_on)
    replaced = next((c for c, how in left if how == "ended"), left[0][0] if left else None)
    certificates.issue(conn, facts, [parcel_id], change_id=change_id, at=at,
                       replaces=replaced, certificate_id=new_certificate)
    certificates.link_rights(conn, [parcel_id], new_certificate, change_id=change_id, at=at)
    return {"action": "replaced" if left else "issued", "certificate_id": new_certificate,
            "replaced": [c for c, _ in left]}


def register_mortgage(conn: Connection, parcel_id: int, lender_party_id: int,
                      source: SourceDocument, *, amount: int | None = None,
                      dossier_code: str | None = None,
                      expected_change: int | None = None) -> ChangeResult:
    """Đăng ký thế chấp: a mortgage in favour of the lender, referenced by its contract,
    which names no other active mortgage of that lender (DuplicateMortgage), except the
    mortgages of the same dossier: one contract over several parcels, registered as one
    mortgage per parcel by the dossier's approval."""
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    require_parties(conn, [lender_party_id])
    taken = conn.execute(sa.text("SELECT mortgage_reference_in_use(:l, :r, :d)"),
                         {"l": lender_party_id, "r": source.reference,
                          "d": dossier_code}).scalar()
    if taken:
        raise DuplicateMortgage(
            f"party #{lender_party_id} already holds an active mortgage with contract "
            f"{source.reference!r} (parcels {', '.join(map(str, taken))})",
            hint="a lender's mortgages are told apart by their contract references")
    change_id, at = begin_change(conn, "mortgage", source, dossier_code=dossier_code, note=None)
    conn.execute(sa.text(
        "INSERT INTO restriction (restriction_id, kind, parcel_id, party_id, reference, "
        "description, amount, lifespan, begun_by) VALUES (nextval('restriction_id_seq'), "
        "'mortgage', :p, :lender, :ref, :d, :amount, tstzrange(:at, NULL, '[)'), :c)"),
        {"p": parcel_id, "lender": lender_party_id, "ref": source.reference,
         "d": source.description, "amount": amount, "at": at, "c": change_id})
    return ChangeResult(change_id, parcel_id, 0, 1)


def release_mortgage(conn: Connection, parcel_id: int, reference: str | None,
                     source: SourceDocument, *, restriction_id: int | None = None,
                     lender_party_id: int | None = None, dossier_code: str | None = None,
                     expected_change: int | None = None) -> ChangeResult:
    """Xóa đăng ký thế chấp: ends the one mortgage named by its contract reference (with
    the lender when two lenders' contracts share it) or its restriction id."""
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    change_id, at = begin_change(conn, "mortgage_release", source, dossier_code=dossier_code,
                                 note=None)
    ended = _end_named_restriction(conn, parcel_id, "mortgage", reference=reference,
                                   restriction_id=restriction_id,
                                   counterparty=lender_party_id, change_id=change_id, at=at)
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


def lift_injunction(conn: Connection, parcel_id: int, reference: str | None,
                    source: SourceDocument, *, restriction_id: int | None = None,
                    authority_party_id: int | None = None, dossier_code: str | None = None,
                    expected_change: int | None = None) -> ChangeResult:
    """Hủy bỏ biện pháp ngăn chặn: ends the one injunction named by its reference (with the
    authority when two orders share it) or its restriction id."""
    lock_parcel(conn, parcel_id, expected_change)
    change_id, at = begin_change(conn, "injunction_release", source, dossier_code=dossier_code,
                                 note=None)
    ended = _end_named_restriction(conn, parcel_id, "injunction", reference=reference,
                                   restriction_id=restriction_id,
                                   counterparty=authority_party_id, change_id=change_id, at=at)
    return ChangeResult(change_id, parcel_id, ended, 0)


#: LA_Responsibility kinds (migration 0005): a deferred land levy (ghi nợ tiền sử dụng đất),
#: the upkeep of a corridor, an access to keep open, another obligation.
RESPONSIBILITY_KINDS = ("deferred_land_levy", "maintenance", "access", "other")


def record_responsibility(conn: Connection, parcel_id: int, kind: str, description: str,
                          source: SourceDocument, *, party_id: int | None = None,
                          dossier_code: str | None = None,
                          expected_change: int | None = None) -> ChangeResult:
    """An obligation attached to the parcel (LADM responsibility), owed by ``party_id`` (a
    holder; None: whoever holds the parcel)."""
    if kind not in RESPONSIBILITY_KINDS:
        raise InvalidInput(f"a responsibility is one of {', '.join(RESPONSIBILITY_KINDS)}, "
                           f"not {kind!r}")
    if not description.strip():
        raise InvalidInput("a responsibility says what is owed (description)")
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    if party_id is not None:
        require_parties(conn, [party_id])
    change_id, at = begin_change(conn, "responsibility", source, dossier_code=dossier_code,
                                 note=None)
    conn.execute(sa.text(
        "INSERT INTO responsibility (responsibility_id, kind, parcel_id, party_id, "
        "description, lifespan, begun_by) VALUES (nextval('responsibility_id_seq'), :k, :p, "
        ":party, :d, tstzrange(:at, NULL, '[)'), :c)"),
        {"k": kind, "p": parcel_id, "party": party_id, "d": description.strip(), "at": at,
         "c": change_id})
    return ChangeResult(change_id, parcel_id, 0, 1)


def end_responsibility(conn: Connection, parcel_id: int, responsibility_id: int,
                       source: SourceDocument, *, dossier_code: str | None = None,
                       expected_change: int | None = None) -> ChangeResult:
    """The obligation is met or lifted (a deferred levy paid, a corridor released)."""
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    change_id, at = begin_change(conn, "responsibility_end", source, dossier_code=dossier_code,
                                 note=None)
    ended = _end(conn, "responsibility", "parcel_id = :p AND responsibility_id = :r",
                 {"p": parcel_id, "r": responsibility_id}, change_id, at)
    if ended == 0:
        raise InvalidInput(f"parcel {parcel_id} has no current responsibility "
                           f"#{responsibility_id}")
    return ChangeResult(change_id, parcel_id, ended, 0)


def retire_parcels(conn: Connection, parcel_ids: Sequence[int], note: str, *, change_id: int,
                   at: datetime) -> None:
    """What a parcel that ends without a successor of its own identity (a split's parent,
    a merge's parcels) leaves behind ends with it: its rights, restrictions and
    responsibilities (the callers carry them over to the new parcels first), and its place
    on the certificates that cover it (``note`` endorses a certificate covering other
    parcels too; one covering only these ends)."""
    for table in ("land_right", "restriction", "responsibility"):
        _end(conn, table, "parcel_id = ANY(:ids)", {"ids": list(parcel_ids)}, change_id, at)
    certificates.take_off(conn, parcel_ids, note, change_id=change_id, at=at)
