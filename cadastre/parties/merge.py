"""Merging a duplicate party into the party it repeats (one person, household or
organisation registered twice, e.g. by two imports, or once with a CMND and once with a
CCCD): a change of kind ``party_merge`` with the document that proves they are one.

Everything the duplicate holds moves to the survivor as new versions begun by the change:
its rights (a share it held beside the survivor on one right is added to the survivor's),
the restrictions it is the counterparty of (a lender's mortgages), its responsibilities,
its memberships and, for a household or a group, its members; each certificate naming it
gets a new version naming the survivor (the same paper and note: nothing was written on the
certificate). The duplicate is marked merged (``merged_into``, ``merged_by``), never deleted,
and edited no more; its history and the survivor's stay as they were.

Two parties that cannot be one are refused (409): different kinds, different identity
documents of one kind, tax codes, birth years, sexes or nationalities; and a duplicate that
carries an identity document the survivor lacks, which is to be merged the other way round
(sql/functions/privileges_parties.sql, ``party_merge_obstacle``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.certificates import register as certificates
from cadastre.changes.record import SourceDocument, record_change
from cadastre.changes.service import ChangeResult
from cadastre.errors import Conflict, InvalidInput
from cadastre.parties import service


class MergeRefused(Conflict):
    code = "party-merge-refused"


def merge_parties(conn: Connection, *, duplicate_id: int, into_id: int,
                  source: SourceDocument, dossier_code: str | None = None,
                  expected_versions: Mapping[int, int] | None = None) -> ChangeResult:
    """Merge party ``duplicate_id`` into party ``into_id`` in the caller's transaction.
    ``expected_versions``: each party's version its author read (None: the command line's
    operator, who reads and writes in one transaction)."""
    if duplicate_id == into_id:
        raise InvalidInput("a party is merged into another party, not into itself")
    expected = dict(expected_versions or {})
    for party_id in sorted((duplicate_id, into_id)):  # in id order: no deadlock
        service.lock(conn, party_id, expected.get(party_id) if expected_versions else None)
    obstacle = conn.execute(sa.text("SELECT party_merge_obstacle(:d, :s)"),
                            {"d": duplicate_id, "s": into_id}).scalar()
    if obstacle:
        raise MergeRefused(str(obstacle))
    named = _certificates_naming(conn, duplicate_id)
    _lock_parcels(conn, duplicate_id, named)
    change = record_change(conn, "party_merge", [source], dossier_code=dossier_code,
                           note=f"party #{duplicate_id} merged into party #{into_id}")
    c, at = change.change_id, change.happened_at
    moved = {
        "rights": _move_rights(conn, duplicate_id, into_id, c, at),
        "restrictions": int(conn.execute(sa.text(
            "SELECT restrictions_move_party(:d, :s, :c, :at)"),
            {"d": duplicate_id, "s": into_id, "c": c, "at": at}).scalar_one()),
        "responsibilities": _move_responsibilities(conn, duplicate_id, into_id, c, at),
        "memberships": _move_memberships(conn, duplicate_id, into_id, c, at),
        "certificates": _rename_on_certificates(conn, named, duplicate_id, into_id, c, at),
    }
    conn.execute(sa.text("UPDATE party SET merged_into = :s, merged_by = :c WHERE id = :d"),
                 {"s": into_id, "c": c, "d": duplicate_id})
    service.touch(conn, into_id)
    ended = begun = sum(moved.values())
    return ChangeResult(c, 0, ended, begun, party={
        "party_id": duplicate_id, "merged_into": into_id, "moved": moved})


def _certificates_naming(conn: Connection, party_id: int) -> list[int]:
    """The current certificates that name the party: among their holder rows, or (a legacy
    certificate without them) through the rights that name the certificate."""
    return [int(c) for c in conn.execute(sa.text(
        "SELECT c.certificate_id FROM current_certificate c WHERE c.version_id IN ("
        "SELECT h.certificate_version_id FROM certificate_holder h WHERE h.party_id = :p) "
        "OR (c.certificate_id IN (SELECT r.certificate_id FROM current_land_right r "
        "WHERE r.party_id = :p) AND NOT EXISTS (SELECT 1 FROM certificate_holder h "
        "WHERE h.certificate_version_id = c.version_id)) ORDER BY c.certificate_id"),
        {"p": party_id}).scalars()]


def _lock_parcels(conn: Connection, party_id: int, named: list[int]) -> None:
    """Lock every parcel the merge changes, in id order, as the change operations do: a
    transfer of one of them waits for the merge (and then sees the survivor)."""
    restricted = conn.execute(sa.text("SELECT restriction_parcels_of(:p)"),
                              {"p": party_id}).scalar_one()
    parcels = sorted(set(conn.execute(sa.text(
        "SELECT parcel_id FROM current_land_right WHERE party_id = :p "
        "UNION SELECT parcel_id FROM responsibility WHERE party_id = :p "
        "AND upper_inf(lifespan) "
        "UNION SELECT cp.parcel_id FROM current_certificate c JOIN certificate_parcel cp "
        "ON cp.certificate_version_id = c.version_id WHERE c.certificate_id = ANY(:c)"),
        {"p": party_id, "c": named}).scalars()) | set(restricted or []))
    conn.execute(sa.text("SELECT parcel_id FROM parcel_identity WHERE parcel_id = ANY(:p) "
                         "ORDER BY parcel_id FOR UPDATE"), {"p": parcels})


def _end(conn: Connection, table: str, version_ids: list[int], change_id: int,
         at: datetime) -> None:
    if version_ids:
        conn.execute(sa.text(
            f"UPDATE {table} SET lifespan = tstzrange(lower(lifespan), :at, '[)'), "
            "ended_by = :c WHERE version_id = ANY(:v) AND upper_inf(lifespan)"),
            {"at": at, "c": change_id, "v": version_ids})


def _move_rights(conn: Connection, duplicate: int, survivor: int, change_id: int,
                 at: datetime) -> int:
    """Each current right of the duplicate becomes the survivor's (a new version of the
    same right); where the survivor holds the same kind of right on the same parcel, on the
    same certificate and term, the two shares become one right of the survivor's."""
    rights = conn.execute(sa.text(
        "SELECT version_id, right_id, kind, parcel_id, party_id, share_numerator, "
        "share_denominator, certificate_id, term_end FROM current_land_right "
        "WHERE party_id IN (:d, :s) ORDER BY version_id"),
        {"d": duplicate, "s": survivor}).all()
    own = {(r.parcel_id, r.kind, r.certificate_id, r.term_end): r for r in rights
           if r.party_id == survivor}
    ended: list[int] = []
    begun: list[dict[str, object]] = []
    for r in (r for r in rights if r.party_id == duplicate):
        share = Fraction(r.share_numerator, r.share_denominator)
        right_id = r.right_id
        beside = own.pop((r.parcel_id, r.kind, r.certificate_id, r.term_end), None)
        if beside is not None:
            share = min(Fraction(1), share + Fraction(beside.share_numerator,
                                                      beside.share_denominator))
            right_id = beside.right_id
            ended.append(beside.version_id)
        ended.append(r.version_id)
        begun.append({"r": right_id, "k": r.kind, "p": r.parcel_id, "party": survivor,
                      "n": share.numerator, "d": share.denominator, "cert": r.certificate_id,
                      "term": r.term_end, "at": at, "c": change_id})
    _end(conn, "land_right", ended, change_id, at)
    for values in begun:
        conn.execute(sa.text(
            "INSERT INTO land_right (right_id, kind, parcel_id, party_id, share_numerator, "
            "share_denominator, certificate_id, term_end, lifespan, begun_by) VALUES "
            "(:r, :k, :p, :party, :n, :d, :cert, :term, tstzrange(:at, NULL, '[)'), :c)"),
            values)
    return len(begun)


def _move_responsibilities(conn: Connection, duplicate: int, survivor: int, change_id: int,
                           at: datetime) -> int:
    return int(conn.execute(sa.text(
        "WITH old AS (UPDATE responsibility SET lifespan = tstzrange(lower(lifespan), :at, "
        "'[)'), ended_by = :c WHERE party_id = :d AND upper_inf(lifespan) "
        "RETURNING responsibility_id, kind, parcel_id, description) "
        "INSERT INTO responsibility (responsibility_id, kind, parcel_id, party_id, "
        "description, lifespan, begun_by) SELECT responsibility_id, kind, parcel_id, :s, "
        "description, tstzrange(:at, NULL, '[)'), :c FROM old"),
        {"d": duplicate, "s": survivor, "c": change_id, "at": at}).rowcount)


def _move_memberships(conn: Connection, duplicate: int, survivor: int, change_id: int,
                      at: datetime) -> int:
    """The groups the duplicate belongs to take the survivor instead (unless it belongs
    already); a duplicate household's members join the surviving household."""
    rows = conn.execute(sa.text(
        "SELECT version_id, group_party_id, member_party_id, role, share_numerator, "
        "share_denominator FROM party_member WHERE upper_inf(lifespan) "
        "AND (group_party_id IN (:d, :s) OR member_party_id IN (:d, :s)) "
        "ORDER BY version_id"), {"d": duplicate, "s": survivor}).all()
    current = {(r.group_party_id, r.member_party_id) for r in rows}
    ended: list[int] = []
    begun: list[dict[str, object]] = []
    for r in rows:
        if duplicate not in (r.group_party_id, r.member_party_id):
            continue
        ended.append(r.version_id)
        group = survivor if r.group_party_id == duplicate else r.group_party_id
        member = survivor if r.member_party_id == duplicate else r.member_party_id
        if group == member or (group, member) in current:
            continue
        current.add((group, member))
        begun.append({"g": group, "m": member, "r": r.role, "n": r.share_numerator,
                      "dn": r.share_denominator, "at": at, "c": change_id})
    _end(conn, "party_member", ended, change_id, at)
    for values in begun:
        conn.execute(sa.text(
            "INSERT INTO party_member (group_party_id, member_party_id, role, "
            "share_numerator, share_denominator, lifespan, begun_by) VALUES (:g, :m, :r, "
            ":n, :dn, tstzrange(:at, NULL, '[)'), :c)"), values)
    return len(ended)


def _rename_on_certificates(conn: Connection, named: list[int], duplicate: int,
                            survivor: int, change_id: int, at: datetime) -> int:
    done = 0
    for certificate_id in named:
        current = certificates.current(conn, certificate_id)
        if current is None:
            continue
        holders = {survivor if p == duplicate else p
                   for p in certificates.named_holders(conn, current)} | {survivor}
        certificates.replace_holder(conn, current, sorted(holders), change_id=change_id,
                                    at=at)
        done += 1
    return done
