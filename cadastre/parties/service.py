"""The party register (người sử dụng đất, chủ sở hữu tài sản gắn liền với đất): create and
edit parties (reading and finding them: ``cadastre.parties.lookup``). A party is edited in
place, its ``row_version`` moved by every edit (the database's trigger), each earlier state
kept by the audit log; its rights are versions of the register, changed by the change
operations (a merge of duplicates among them, ``cadastre.parties.merge``; households'
members: ``cadastre.parties.members``).

The API's login reads people's names and personal data only through the views that apply
the caller's proven role (``party_visible``, ``party_personal_visible``) and matches
identity documents through the functions of sql/functions/privileges_parties.sql.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.clock import office_today
from cadastre.errors import CadastreError, Conflict, InvalidInput, NotFound
from cadastre.parties import identity as ids
from cadastre.parties.kinds import ID_KINDS, KINDS, PartyKind

#: The longest name the register keeps (an organisation's full name fits).
NAME_MAX = 300
#: The longest address, phone and e-mail.
TEXT_MAX = {"address": 500, "phone": 20, "email": 254}
#: Birth years the register accepts (the column's bounds are wider).
FIRST_BIRTH_YEAR = 1880
#: A page of search results.
PAGE_MAX = 100
OFFSET_MAX = 10_000
#: The contact fields of a party (kept with its personal data).
CONTACT_FIELDS = ("address", "phone", "email")


class PartyNotFound(NotFound):
    code = "party-not-found"


class PartyExists(Conflict):
    """A second party with an identity document or a tax code that one party has."""

    code = "party-exists"


class StaleParty(CadastreError):
    code = "stale-party"
    status = 412


class PartyMerged(Conflict):
    """A merged party is closed: it is edited, given rights or members no more."""

    code = "party-merged"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a person is: an identity document (kind, number, a passport's country), birth
    date or year, and sex. Edited as a whole, so that it is checked as a whole."""

    id_kind: str | None = None
    id_number: str | None = None
    nationality: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    gender: str | None = None


@dataclass(frozen=True, slots=True)
class NewParty:
    kind: str
    name: str
    organisation_code: str | None = None
    identity: Identity | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


def party_kind(kind: str) -> PartyKind:
    found = KINDS.get(kind)
    if found is None:
        raise InvalidInput(f"no kind of party {kind!r}", hint=f"one of {', '.join(KINDS)}")
    return found


def clean_text(value: str, what: str, maximum: int) -> str:
    """Text as the register keeps it: Unicode NFC, blanks collapsed; refused when empty,
    too long or holding control characters."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > maximum:
        raise InvalidInput(f"{what} holds {len(text)} characters, at most {maximum}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        raise InvalidInput(f"{what} holds a control or unassigned character")
    return text


def checked_identity(kind: PartyKind, given: Identity, *, today: date) -> Identity:
    """``given`` normalised and checked for a party of ``kind``: the documents the kind may
    carry, a CCCD against the birth year and sex, a passport with its country."""
    if not kind.person and given != Identity():
        raise InvalidInput(f"a party of kind {kind.name} has no identity, birth or sex",
                           hint="an organisation is known by its tax code")
    if given.gender is not None and given.gender not in ids.GENDERS:
        raise InvalidInput(f"sex {given.gender!r}: male or female")
    birth_year = _birth_year(given, today)
    country = None if given.nationality is None else ids.nationality(given.nationality)
    number, id_kind = given.id_number, given.id_kind
    if (number is None) != (id_kind is None):
        raise InvalidInput("an identity document is its kind and its number: give both "
                           "id_kind and id_number")
    if id_kind is not None and number is not None:
        if id_kind not in ID_KINDS:
            raise InvalidInput(f"no kind of identity document {id_kind!r}",
                               hint=f"one of {', '.join(ID_KINDS)}")
        if id_kind not in kind.id_kinds:
            allowed = ", ".join(kind.id_kinds) or "none of its own (its members carry theirs)"
            raise InvalidInput(f"a party of kind {kind.name} carries no {id_kind}: "
                               f"{allowed}")
        number = re.sub(r"\s+", "", number)
        if id_kind == "cccd":
            ids.check_cccd(number, birth_year=birth_year, gender=given.gender, today=today)
        elif id_kind == "cmnd":
            ids.check_cmnd(number)
        else:
            number = ids.passport_number(number)
            if country is None:
                raise InvalidInput("a passport names its issuing country: give nationality",
                                   hint="an ISO 3166-1 code, e.g. KR or KOR")
    elif kind.id_required:
        raise InvalidInput(f"a party of kind {kind.name} is known by its "
                           f"{' or '.join(kind.id_kinds)}: give id_kind and id_number")
    country = _nationality(kind, id_kind, country)
    return Identity(id_kind, number, country, given.birth_date, birth_year, given.gender)


def _birth_year(given: Identity, today: date) -> int | None:
    year = given.birth_year
    if given.birth_date is not None:
        if given.birth_date > today:
            raise InvalidInput(f"birth date {given.birth_date} is after today ({today})")
        if year is not None and year != given.birth_date.year:
            raise InvalidInput(f"birth year {year} is not the year of the birth date "
                               f"{given.birth_date}")
        year = given.birth_date.year
    if year is not None and not FIRST_BIRTH_YEAR <= year <= today.year:
        raise InvalidInput(f"birth year {year} is not between {FIRST_BIRTH_YEAR} and "
                           f"{today.year}")
    return year


def _nationality(kind: PartyKind, id_kind: str | None, country: str | None) -> str | None:
    if kind.nationality == "vietnamese" and country not in (None, "VNM"):
        raise InvalidInput(f"a party of kind {kind.name} is a Vietnamese citizen, not of "
                           f"nationality {country}",
                           hint="a foreign citizen is of kind 'foreigner'")
    if kind.nationality == "foreign":
        if country is None:
            raise InvalidInput("a foreigner's nationality is needed (an ISO 3166-1 code)")
        if country == "VNM":
            raise InvalidInput("a foreigner is not of Vietnamese nationality",
                               hint="a Vietnamese citizen living abroad is of kind "
                               "'overseas_vietnamese'")
    if id_kind == "cccd" and country not in (None, "VNM"):
        raise InvalidInput("a CCCD is a Vietnamese citizen's: its holder's nationality is VN")
    return None if kind.nationality == "vietnamese" else country


def _contact(name: str, value: str | None) -> str | None:
    return None if value is None else clean_text(value, name, TEXT_MAX[name])


def _organisation_code(kind: PartyKind, code: str | None) -> str | None:
    if code is None:
        return None
    if not kind.tax_code:
        raise InvalidInput(f"a party of kind {kind.name} has no tax or enterprise code")
    return ids.tax_code(code)


# --- writing -----------------------------------------------------------------------------

def create(conn: Connection, *, party: NewParty) -> int:
    """A new party; its id. PartyExists (409, naming the party that has it) for an
    identity document or tax code another party has, also when two clerks enter the same
    person at once (the unique indexes decide)."""
    kind = party_kind(party.kind)
    today = office_today(conn)
    name = clean_text(party.name, "the name", NAME_MAX)
    code = _organisation_code(kind, party.organisation_code)
    person = checked_identity(kind, party.identity or Identity(), today=today)
    contact = {f: _contact(f, getattr(party, f)) for f in CONTACT_FIELDS}
    if code is not None:
        _refuse_taken_code(conn, code)
    if person.id_number is not None:
        _refuse_taken_identity(conn, person)
    try:
        with conn.begin_nested():
            party_id = int(conn.execute(sa.text(
                "INSERT INTO party (kind, name, organisation_code, created_by) "
                "VALUES (:k, :n, :c, 'register') RETURNING id"),
                {"k": kind.name, "n": name, "c": code}).scalar_one())
    except sa.exc.IntegrityError as exc:
        if code is not None and _unique_violation(exc, "party_organisation_code_uidx"):
            _refuse_taken_code(conn, code)
        raise
    if person != Identity() or any(contact.values()):
        _write_personal(conn, party_id, person, contact, insert=True)
    return party_id


def _write_personal(conn: Connection, party_id: int, person: Identity,
                    contact: Mapping[str, str | None], *, insert: bool) -> None:
    values = {"p": party_id, "ik": person.id_kind, "n": person.id_number,
              "nat": person.nationality, "bd": person.birth_date, "by": person.birth_year,
              "g": person.gender, **{f: contact.get(f) for f in CONTACT_FIELDS}}
    statement = (
        "INSERT INTO party_personal (party_id, id_kind, national_id, nationality, "
        "birth_date, birth_year, gender, address, phone, email) VALUES (:p, :ik, :n, :nat, "
        ":bd, :by, :g, :address, :phone, :email)" if insert else
        "UPDATE party_personal SET id_kind = :ik, national_id = :n, nationality = :nat, "
        "birth_date = :bd, birth_year = :by, gender = :g, address = :address, "
        "phone = :phone, email = :email WHERE party_id = :p")
    try:
        with conn.begin_nested():
            conn.execute(sa.text(statement), values)
    except sa.exc.IntegrityError as exc:
        if person.id_number is not None and _unique_violation(exc,
                                                              "party_personal_identity_uidx"):
            _refuse_taken_identity(conn, person, besides=party_id)
        raise


def _unique_violation(exc: sa.exc.IntegrityError, index: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return (getattr(exc.orig, "pgcode", None) == "23505"
            and getattr(diag, "constraint_name", None) == index)


def survivor(conn: Connection, party_id: int) -> int:
    """The party a merged party's record lives on in (itself when it was not merged)."""
    seen = {party_id}
    current = party_id
    while True:
        into = conn.execute(sa.text("SELECT merged_into FROM party WHERE id = :p"),
                            {"p": current}).scalar()
        if into is None or into in seen:
            return current
        seen.add(int(into))
        current = int(into)


def _exists(conn: Connection, found: int, what: str) -> PartyExists:
    lives = survivor(conn, found)
    merged = f" (merged into party #{lives})" if lives != found else ""
    return PartyExists(f"party #{found}{merged} has this {what}: a party is registered once",
                       hint=f"use party #{lives}; GET /api/v1/parties/{lives}",
                       problem={"existing_party_id": lives})


def _refuse_taken_identity(conn: Connection, person: Identity, *,
                           besides: int | None = None) -> None:
    found = conn.execute(sa.text("SELECT party_with_identity(:k, :c, :n)"),
                         {"k": person.id_kind, "c": person.nationality or "",
                          "n": person.id_number}).scalar()
    if found is not None and int(found) != besides:
        assert person.id_kind is not None
        raise _exists(conn, int(found), f"{person.id_kind.upper()} number")


def _refuse_taken_code(conn: Connection, code: str, *, besides: int | None = None) -> None:
    found = conn.execute(sa.text("SELECT id FROM party WHERE organisation_code = :c"),
                         {"c": code}).scalar()
    if found is not None and int(found) != besides:
        raise _exists(conn, int(found), "tax code")


def lock(conn: Connection, party_id: int, expected_version: int | None) -> sa.Row[Any]:
    """Lock the party for the rest of the transaction; StaleParty (412) when it changed
    since the version its editor read (of two edits of one version, one passes)."""
    row = conn.execute(sa.text(
        "SELECT id, kind, row_version, merged_into FROM party WHERE id = :p FOR UPDATE"),
        {"p": party_id}).first()
    if row is None:
        raise PartyNotFound(f"no party {party_id}")
    if expected_version is not None and row.row_version != expected_version:
        raise StaleParty(f"party #{party_id} changed since it was read (version "
                         f"{expected_version}, now {row.row_version})",
                         hint=f"GET /api/v1/parties/{party_id} and repeat with its ETag")
    if row.merged_into is not None:
        raise PartyMerged(f"party #{party_id} was merged into party #{row.merged_into}",
                          hint=f"use party #{row.merged_into}")
    return row


def touch(conn: Connection, party_id: int) -> None:
    """A new version of the party (its members or holdings changed)."""
    conn.execute(sa.text("UPDATE party SET edited_at = clock_timestamp() WHERE id = :p"),
                 {"p": party_id})


#: What PATCH may change: the name, the tax code, the identity (as a whole), the contact.
EDITABLE = ("name", "organisation_code", "identity", *CONTACT_FIELDS)


def edit(conn: Connection, *, party_id: int, expected_version: int | None,
         changes: Mapping[str, Any]) -> None:
    """Edit the fields ``changes`` names (a field given as None is cleared; the name cannot
    be). ``identity`` replaces the whole identity (an :class:`Identity`), checked as a
    whole. PartyExists for an identity document or tax code another party has."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"a party's {', '.join(unknown)} cannot be edited",
                           hint=f"editable: {', '.join(EDITABLE)}")
    if not changes:
        raise InvalidInput("nothing to change")
    row = lock(conn, party_id, expected_version)
    kind = party_kind(str(row.kind))
    if "name" in changes:
        if changes["name"] is None:
            raise InvalidInput("a party's name cannot be cleared")
        conn.execute(sa.text("UPDATE party SET name = :n WHERE id = :p"),
                     {"n": clean_text(changes["name"], "the name", NAME_MAX), "p": party_id})
    if "organisation_code" in changes:
        code = _organisation_code(kind, changes["organisation_code"])
        if code is not None:
            _refuse_taken_code(conn, code, besides=party_id)
        try:
            with conn.begin_nested():
                conn.execute(sa.text("UPDATE party SET organisation_code = :c WHERE id = :p"),
                             {"c": code, "p": party_id})
        except sa.exc.IntegrityError as exc:
            if code is not None and _unique_violation(exc, "party_organisation_code_uidx"):
                _refuse_taken_code(conn, code, besides=party_id)
            raise
    personal = [f for f in ("identity", *CONTACT_FIELDS) if f in changes]
    if personal:
        _edit_personal(conn, party_id, kind, changes, personal)
    touch(conn, party_id)


def _edit_personal(conn: Connection, party_id: int, kind: PartyKind,
                   changes: Mapping[str, Any], fields: list[str]) -> None:
    """The personal row's fields: written whole (the API's login reads none of it), the
    ones not edited kept by the statement itself."""
    has_row = conn.execute(sa.text("SELECT 1 FROM party_personal WHERE party_id = :p"),
                           {"p": party_id}).scalar() is not None
    person: Identity | None = None
    if "identity" in changes:
        given = changes["identity"] or Identity()
        person = checked_identity(kind, given, today=office_today(conn))
        if person.id_number is not None:
            _refuse_taken_identity(conn, person, besides=party_id)
    contact = {f: _contact(f, changes[f]) for f in CONTACT_FIELDS if f in changes}
    if not has_row:
        _write_personal(conn, party_id, person or Identity(), contact, insert=True)
        return
    sets = []
    values: dict[str, Any] = {"p": party_id}
    if person is not None:
        sets += ["id_kind = :ik", "national_id = :n", "nationality = :nat",
                 "birth_date = :bd", "birth_year = :by", "gender = :g"]
        values |= {"ik": person.id_kind, "n": person.id_number, "nat": person.nationality,
                   "bd": person.birth_date, "by": person.birth_year, "g": person.gender}
    for f in fields:
        if f in CONTACT_FIELDS:
            sets.append(f"{f} = :{f}")
            values[f] = contact[f]
    try:
        with conn.begin_nested():
            conn.execute(sa.text(f"UPDATE party_personal SET {', '.join(sets)} "
                                 "WHERE party_id = :p"), values)
    except sa.exc.IntegrityError as exc:
        if person is not None and person.id_number is not None and _unique_violation(
                exc, "party_personal_identity_uidx"):
            _refuse_taken_identity(conn, person, besides=party_id)
        raise


def require_current(conn: Connection, party_ids: list[int]) -> None:
    """Every party exists and was not merged (a merged party takes no new rights)."""
    rows: dict[int, int | None] = {int(r.id): r.merged_into for r in conn.execute(sa.text(
        "SELECT id, merged_into FROM party WHERE id = ANY(:p)"), {"p": party_ids})}
    missing = sorted(set(party_ids) - set(rows))
    if missing:
        raise InvalidInput(f"unknown parties {missing}")
    merged = {p: into for p, into in rows.items() if into is not None}
    if merged:
        first = min(merged)
        raise PartyMerged(f"party #{first} was merged into party #{merged[first]}",
                          hint=f"name party #{merged[first]} instead")
