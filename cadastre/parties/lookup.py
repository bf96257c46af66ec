"""Reading the party register: a party with its members, memberships, rights and
certificates (the register's book of a land user, sổ địa chính), and finding parties by
identity number, by name (accent-insensitive) or by certificate. Reads go through the views
that apply the caller's proven role (``party_visible``, ``party_personal_visible``) and the
functions of sql/functions/privileges_parties.sql: what they return is what the role may
see. Whoever shows the result records the read of the people it shows (:func:`people_shown`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.certificates.register import normalise_serial
from cadastre.errors import InvalidInput
from cadastre.parties.kinds import KINDS
from cadastre.parties.service import (
    CONTACT_FIELDS,
    NAME_MAX,
    OFFSET_MAX,
    PAGE_MAX,
    PartyNotFound,
    clean_text,
    party_kind,
)

_PARTY = """
    SELECT p.id, p.kind, p.name, p.organisation_code, p.created_at, p.row_version,
           p.created_by, p.edited_at, p.edited_by, p.merged_into, p.merged_by,
           pp.party_id IS NOT NULL AS personal, pp.id_kind, pp.national_id, pp.nationality,
           pp.birth_date, pp.birth_year, pp.gender, pp.address, pp.phone, pp.email
    FROM party_visible p LEFT JOIN party_personal_visible pp ON pp.party_id = p.id"""


def etag(party_id: int, row_version: int) -> str:
    return f'"party-{party_id}-{row_version}"'


def _summary(row: sa.RowMapping) -> dict[str, Any]:
    view: dict[str, Any] = {"party_id": row["id"], "kind": row["kind"], "name": row["name"]}
    if row["organisation_code"] is not None:
        view["organisation_code"] = row["organisation_code"]
    if row["personal"]:
        if row["id_kind"] is not None:
            view["id_kind"] = row["id_kind"]
            view["id_number"] = row["national_id"]
        if row["nationality"] is not None:
            view["nationality"] = row["nationality"]
    if row["merged_into"] is not None:
        view["merged_into"] = row["merged_into"]
    return view


def detail(conn: Connection, *, party_id: int) -> dict[str, Any]:
    """A party as the transaction's role may see it, with its members (a household's, a
    group's, every version), the groups it belongs to now, the rights it holds now and the
    certificates that name it (sổ địa chính: the register's book of a land user)."""
    row = conn.execute(sa.text(f"{_PARTY} WHERE p.id = :p"), {"p": party_id}
                       ).mappings().first()
    if row is None:
        raise PartyNotFound(f"no party {party_id}")
    view = _summary(row)
    kind = KINDS.get(str(row["kind"]))
    view["kind_title"] = kind.title_vi if kind else None
    if row["personal"]:
        for field in ("birth_date", "birth_year", "gender", *CONTACT_FIELDS):
            if row[field] is not None:
                view[field] = row[field]
    view |= {"created_at": row["created_at"], "created_by": row["created_by"],
             "edited_at": row["edited_at"], "edited_by": row["edited_by"],
             "merged_by": row["merged_by"], "version": row["row_version"],
             "etag": etag(party_id, int(row["row_version"]))}
    view["members"] = [dict(m) for m in conn.execute(sa.text(
        "SELECT m.member_party_id AS party_id, p.kind, p.name, m.role, "
        "CASE WHEN m.share_numerator IS NOT NULL THEN m.share_numerator || '/' || "
        "m.share_denominator END AS share, lower(m.lifespan) AS since, "
        "upper(m.lifespan) AS until, m.begun_by, m.ended_by FROM party_member m "
        "JOIN party_visible p ON p.id = m.member_party_id WHERE m.group_party_id = :p "
        "ORDER BY lower(m.lifespan), m.version_id"), {"p": party_id}).mappings()]
    view["member_of"] = [dict(m) for m in conn.execute(sa.text(
        "SELECT m.group_party_id AS party_id, p.kind, p.name, m.role, "
        "lower(m.lifespan) AS since FROM party_member m JOIN party_visible p "
        "ON p.id = m.group_party_id WHERE m.member_party_id = :p AND upper_inf(m.lifespan) "
        "ORDER BY m.group_party_id"), {"p": party_id}).mappings()]
    view["rights"] = [dict(r) for r in conn.execute(sa.text(
        "SELECT r.right_id, r.kind, r.parcel_id, x.commune_code, x.sheet_number, "
        "x.parcel_number, r.share_numerator || '/' || r.share_denominator AS share, "
        "r.certificate_id, lower(r.lifespan) AS since FROM current_land_right r "
        "LEFT JOIN current_parcel x ON x.parcel_id = r.parcel_id WHERE r.party_id = :p "
        "ORDER BY r.parcel_id, r.kind"), {"p": party_id}).mappings()]
    view["certificates"] = [dict(c) for c in conn.execute(sa.text(
        "SELECT c.certificate_id, c.serial, c.issued_on FROM current_certificate c "
        "WHERE c.version_id IN (SELECT h.certificate_version_id FROM certificate_holder h "
        "WHERE h.party_id = :p) OR c.certificate_id IN (SELECT r.certificate_id FROM "
        "current_land_right r WHERE r.party_id = :p) ORDER BY c.certificate_id"),
        {"p": party_id}).mappings()]
    return view


def people_shown(view: Mapping[str, Any]) -> list[int]:
    """The parties whose names or personal data a view (a party's, a search's) shows: the
    ones an audit row of the read names."""
    shown: set[int] = set()
    for item in [view, *view.get("members", []), *view.get("member_of", []),
                 *view.get("parties", [])]:
        if item.get("party_id") is not None and item.get("kind") in _PERSON_KINDS \
                and item.get("name") is not None:
            shown.add(int(item["party_id"]))
    return sorted(shown)


_PERSON_KINDS = frozenset(k for k, v in KINDS.items() if v.person)


def find(conn: Connection, *, id_number: str | None = None, name: str | None = None,
         certificate: str | None = None, kind: str | None = None, limit: int = 20,
         offset: int = 0) -> dict[str, Any]:
    """Parties by the number of their identity document (any kind), by name (accent- and
    case-insensitively, best matches first) or by a certificate's serial (its holders), a
    page at a time, as the role may see them. Exactly one of the three is given."""
    given = [k for k, v in (("id_number", id_number), ("name", name),
                            ("certificate", certificate)) if v is not None]
    if len(given) != 1:
        raise InvalidInput("search parties by one of id_number, name or certificate")
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit is between 1 and {PAGE_MAX}")
    if not 0 <= offset <= OFFSET_MAX:
        raise InvalidInput(f"offset is between 0 and {OFFSET_MAX}")
    if kind is not None:
        party_kind(kind)
    page = {"l": limit + 1, "o": offset, "k": kind}
    if id_number is not None:
        number = re.sub(r"\s+", "", id_number).upper()
        if not re.fullmatch(r"[A-Z0-9]{5,20}", number):
            raise InvalidInput("an ID number is 5 to 20 letters and digits")
        source = "SELECT f AS id, NULL::real AS score FROM parties_with_id_number(:n, :max) f"
        page |= {"n": number, "max": offset + limit + 1}
    elif name is not None:
        wanted = clean_text(name, "the name searched", NAME_MAX)
        if len(wanted.replace(" ", "")) < 2:
            raise InvalidInput("search a name by at least 2 letters")
        source = "SELECT party_id AS id, score FROM parties_named(:n, :max, 0)"
        page |= {"n": wanted, "max": offset + limit + 1}
    else:
        assert certificate is not None
        source = _CERTIFICATE_HOLDERS
        page |= {"s": normalise_serial(certificate)}
    rows = conn.execute(sa.text(
        f"WITH found AS ({source}) {_PARTY} JOIN found f ON f.id = p.id "
        "WHERE (CAST(:k AS text) IS NULL OR p.kind = :k) "
        "ORDER BY f.score DESC NULLS LAST, p.id LIMIT :l OFFSET :o"), page).mappings().all()
    parties = [_summary(r) for r in rows[:limit]]
    result: dict[str, Any] = {"parties": parties, "limit": limit, "offset": offset}
    if len(rows) > limit:
        result["next_offset"] = offset + limit
    return result


#: The holders of the certificate with a serial: its current version's (else its last
#: version's) holder rows, or for a legacy certificate (none) the parties of the rights that
#: named it while that version was current.
_CERTIFICATE_HOLDERS = """
    WITH v AS (SELECT version_id, certificate_id, lifespan FROM certificate WHERE serial = :s
               ORDER BY upper_inf(lifespan) DESC, version_id DESC LIMIT 1)
    SELECT h.party_id AS id, NULL::real AS score FROM certificate_holder h
    JOIN v ON h.certificate_version_id = v.version_id
    UNION
    SELECT r.party_id, NULL::real FROM land_right r JOIN v ON r.certificate_id = v.certificate_id
    WHERE r.lifespan && v.lifespan AND NOT EXISTS (
        SELECT 1 FROM certificate_holder h WHERE h.certificate_version_id = v.version_id)"""
