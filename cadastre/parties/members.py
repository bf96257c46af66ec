"""Members of households (hộ gia đình: head, spouse, members) and of groups of land users
(đồng sử dụng, co-heirs: members with shares and a representative). A membership is a
version of ``party_member``: added and ended by changes (kinds ``party_member`` and
``party_member_end``) with the document that proves it, never edited; the household's own
row moves to a new version too, so that its ETag names its members as they were read."""

from __future__ import annotations

from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.changes.record import SourceDocument, record_change
from cadastre.changes.service import ChangeResult
from cadastre.errors import Conflict, InvalidInput
from cadastre.parties import service
from cadastre.parties.kinds import KINDS

#: The roles of each kind of group, and the kinds of party that can be its members.
ROLES = {"household": ("head", "spouse", "member"), "group": ("member", "representative")}
MEMBER_KINDS = {"household": ("individual", "overseas_vietnamese", "foreigner"),
                "group": tuple(k for k in KINDS if k not in ("group", "household"))}


class MemberExists(Conflict):
    code = "member-exists"


def add_member(conn: Connection, *, group_id: int, member_id: int, role: str,
               share: str | None, source: SourceDocument, dossier_code: str | None = None,
               expected_version: int | None = None) -> ChangeResult:
    """``member_id`` joins the household or group ``group_id`` in ``role`` (a group's
    member with a ``share`` like "1/2")."""
    row = service.lock(conn, group_id, expected_version)
    kind = str(row.kind)
    if kind not in ROLES:
        raise InvalidInput(f"party #{group_id} is of kind {kind}: only households and groups "
                           "have members")
    if role not in ROLES[kind]:
        raise InvalidInput(f"a {kind}'s member is {', '.join(ROLES[kind])}, not {role!r}")
    if member_id == group_id:
        raise InvalidInput(f"party #{group_id} cannot be a member of itself")
    service.require_current(conn, [member_id])
    member_kind = conn.execute(sa.text("SELECT kind FROM party WHERE id = :p"),
                               {"p": member_id}).scalar_one()
    if member_kind not in MEMBER_KINDS[kind]:
        raise InvalidInput(f"a {kind}'s members are of kinds {', '.join(MEMBER_KINDS[kind])}, "
                           f"party #{member_id} is of kind {member_kind}")
    numerator, denominator = _share(kind, share)
    current = conn.execute(sa.text(
        "SELECT member_party_id, role FROM party_member WHERE group_party_id = :g "
        "AND upper_inf(lifespan)"), {"g": group_id}).all()
    if any(int(m.member_party_id) == member_id for m in current):
        raise MemberExists(f"party #{member_id} is a member of party #{group_id} already",
                           hint="end the membership first to change its role")
    if role == "head" and any(m.role == "head" for m in current):
        raise MemberExists(f"household #{group_id} has a head already",
                           hint="end the head's membership first (a new head: chủ hộ mới)")
    change = record_change(conn, "party_member", [source], dossier_code=dossier_code,
                           note=f"party #{member_id} joins party #{group_id} as {role}")
    conn.execute(sa.text(
        "INSERT INTO party_member (group_party_id, member_party_id, role, share_numerator, "
        "share_denominator, lifespan, begun_by) VALUES (:g, :m, :r, :n, :d, "
        "tstzrange(:at, NULL, '[)'), :c)"),
        {"g": group_id, "m": member_id, "r": role, "n": numerator, "d": denominator,
         "at": change.happened_at, "c": change.change_id})
    service.touch(conn, group_id)
    return ChangeResult(change.change_id, 0, 0, 1, party={
        "party_id": group_id, "member_party_id": member_id, "role": role})


def end_member(conn: Connection, *, group_id: int, member_id: int, source: SourceDocument,
               dossier_code: str | None = None,
               expected_version: int | None = None) -> ChangeResult:
    """The member leaves the household or group (tách hộ, a death, a share sold)."""
    service.lock(conn, group_id, expected_version)
    change = record_change(conn, "party_member_end", [source], dossier_code=dossier_code,
                           note=f"party #{member_id} leaves party #{group_id}")
    ended = conn.execute(sa.text(
        "UPDATE party_member SET lifespan = tstzrange(lower(lifespan), :at, '[)'), "
        "ended_by = :c WHERE group_party_id = :g AND member_party_id = :m "
        "AND upper_inf(lifespan)"),
        {"g": group_id, "m": member_id, "at": change.happened_at,
         "c": change.change_id}).rowcount
    if ended == 0:
        raise InvalidInput(f"party #{member_id} is no current member of party #{group_id}")
    service.touch(conn, group_id)
    return ChangeResult(change.change_id, 0, ended, 0, party={
        "party_id": group_id, "member_party_id": member_id})


def _share(kind: str, share: str | None) -> tuple[int | None, int | None]:
    if share is None:
        return None, None
    if kind != "group":
        raise InvalidInput("a household's members hold no shares of their own: the "
                           "household holds the right")
    numerator, _, denominator = share.partition("/")
    try:
        value = Fraction(int(numerator), int(denominator or 1))
    except (ValueError, ZeroDivisionError):
        raise InvalidInput(f"share {share!r} is not a fraction like 1/2") from None
    if not 0 < value <= 1 or value.denominator > 10**6:
        raise InvalidInput(f"share {share!r} is not a fraction between 0 and 1")
    return value.numerator, value.denominator
