"""Certificate versions written inside a change of the register (its id and instant given):
issue a certificate, endorse one (a new version of the same certificate), end one, take
parcels off the certificates that cover them, and point the rights at the certificate that
records them. Nothing here locks or records a change: the callers (the change operations,
``cadastre.certificates.service``) have done both.

A certificate version names the parcels it covers (``certificate_parcel``) and the holders
of their rights (``certificate_holder``); rights name the certificate that records them
(``land_right.certificate_id``). History is never edited: a new holder, a new note or a
parcel taken off is a new version, a right pointed at another certificate a new version of
the right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.dossiers.calendar import office_day
from cadastre.errors import Conflict, InvalidInput

#: The rights a certificate records: the land-use right and the ownership of the assets
#: attached to the land, and the management of land by an organisation.
CERTIFIED_KINDS = ("land_use", "house_ownership", "asset_ownership", "management")
#: The issuing authority when none is named (the province's land registration office signs
#: certificates for registered changes: Decree 101/2024/NĐ-CP art. 36).
DEFAULT_AUTHORITY = "Văn phòng đăng ký đất đai thành phố Hà Nội"
#: The most text an endorsement may hold (a page of the certificate).
ENDORSEMENT_MAX = 2000


class SerialInUse(Conflict):
    """A certificate's serial (số phát hành) is printed once: never given twice."""

    code = "conflict-unique"


def normalise_serial(text: str) -> str:
    """A serial as the register writes it: two letters, a space, six to eight digits
    (``"cs123456"``, ``"CS-123456"`` -> ``"CS 123456"``)."""
    match = re.fullmatch(r"([A-Z]{2})-?([0-9]{6,8})", re.sub(r"\s+", "", text).upper())
    if not match:
        raise InvalidInput(f"certificate serial {text!r} is not like 'CS 123456'",
                           hint="two letters and six to eight digits, as printed")
    return f"{match[1]} {match[2]}"


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What the paper says of itself."""

    serial: str
    issuing_authority: str = DEFAULT_AUTHORITY
    registry_number: str | None = None
    issued_on: date | None = None


@dataclass(frozen=True, slots=True)
class CurrentCertificate:
    certificate_id: int
    version_id: int
    facts: CertificateFacts
    endorsement: str | None
    replaces_certificate: int | None
    parcel_ids: tuple[int, ...]


_CURRENT = """
    SELECT c.certificate_id, c.version_id, c.serial, c.issuing_authority, c.registry_number,
           c.issued_on, c.endorsement, c.replaces_certificate,
           array(SELECT cp.parcel_id FROM certificate_parcel cp
                 WHERE cp.certificate_version_id = c.version_id ORDER BY cp.parcel_id) AS parcels
    FROM current_certificate c"""


def _current(row: sa.Row[tuple[object, ...]]) -> CurrentCertificate:
    m = row._mapping
    return CurrentCertificate(
        int(m["certificate_id"]), int(m["version_id"]),
        CertificateFacts(str(m["serial"]), str(m["issuing_authority"]),
                         m["registry_number"], m["issued_on"]),
        m["endorsement"], m["replaces_certificate"], tuple(int(p) for p in m["parcels"]))


def current(conn: Connection, certificate_id: int) -> CurrentCertificate | None:
    """The certificate's current version, or None when it has ended (or never was)."""
    row = conn.execute(sa.text(f"{_CURRENT} WHERE c.certificate_id = :c"),
                       {"c": certificate_id}).first()
    return None if row is None else _current(row)


def current_on_parcels(conn: Connection, parcel_ids: Sequence[int]) -> list[CurrentCertificate]:
    """The current certificates covering any of these parcels."""
    rows = conn.execute(sa.text(
        f"{_CURRENT} WHERE c.version_id IN (SELECT cp.certificate_version_id FROM "
        "certificate_parcel cp WHERE cp.parcel_id = ANY(:p)) ORDER BY c.certificate_id"),
        {"p": list(parcel_ids)}).all()
    return [_current(r) for r in rows]


def holders_of(conn: Connection, parcel_ids: Sequence[int]) -> list[int]:
    """The parties holding the certified rights of these parcels now."""
    return [int(p) for p in conn.execute(sa.text(
        "SELECT DISTINCT party_id FROM current_land_right WHERE parcel_id = ANY(:p) "
        "AND kind = ANY(:k) ORDER BY party_id"),
        {"p": list(parcel_ids), "k": list(CERTIFIED_KINDS)}).scalars()]


def check_serial_unused(conn: Connection, serial: str) -> None:
    used = conn.execute(sa.text(
        "SELECT certificate_id FROM certificate WHERE serial = :s ORDER BY version_id LIMIT 1"),
        {"s": serial}).scalar()
    if used is not None:
        raise SerialInUse(f"serial {serial} is certificate #{used}'s: a serial is printed once",
                          hint="give the serial of the new blank (phôi) being printed")


def _insert_version(conn: Connection, *, certificate_id: int, facts: CertificateFacts,
                    endorsement: str | None, replaces: int | None,
                    parcel_ids: Sequence[int], change_id: int, at: datetime,
                    holders: Sequence[int] | None = None) -> int:
    version = int(conn.execute(sa.text(
        "INSERT INTO certificate (certificate_id, serial, registry_number, issued_on, "
        "issuing_authority, endorsement, replaces_certificate, lifespan, begun_by) VALUES "
        "(:id, :serial, :registry, :issued, :authority, :endorsement, :replaces, "
        "tstzrange(:at, NULL, '[)'), :c) RETURNING version_id"),
        {"id": certificate_id, "serial": facts.serial, "registry": facts.registry_number,
         "issued": facts.issued_on, "authority": facts.issuing_authority,
         "endorsement": endorsement, "replaces": replaces, "at": at, "c": change_id}
    ).scalar_one())
    conn.execute(sa.text(
        "INSERT INTO certificate_parcel (certificate_version_id, parcel_id) "
        "SELECT :v, p FROM unnest(CAST(:p AS bigint[])) p"),
        {"v": version, "p": sorted(set(parcel_ids))})
    conn.execute(sa.text(
        "INSERT INTO certificate_holder (certificate_version_id, party_id) "
        "SELECT :v, h FROM unnest(CAST(:h AS bigint[])) h"),
        {"v": version, "h": sorted(set(holders_of(conn, parcel_ids) if holders is None
                                       else holders))})
    return version


def new_certificate_id(conn: Connection) -> int:
    return int(conn.execute(sa.text("SELECT nextval('certificate_id_seq')")).scalar_one())


def issue(conn: Connection, facts: CertificateFacts, parcel_ids: Sequence[int], *,
          change_id: int, at: datetime, replaces: int | None = None,
          certificate_id: int | None = None) -> int:
    """A new certificate covering ``parcel_ids`` and naming the holders of their rights
    (after the change's new rights are written); its id (``certificate_id``: one reserved
    with :func:`new_certificate_id` for rights written before it)."""
    if not parcel_ids:
        raise InvalidInput("a certificate covers at least one parcel")
    check_serial_unused(conn, facts.serial)
    if facts.issued_on is None:
        facts = CertificateFacts(facts.serial, facts.issuing_authority, facts.registry_number,
                                 office_day(at))
    cid = new_certificate_id(conn) if certificate_id is None else certificate_id
    _insert_version(conn, certificate_id=cid, facts=facts, endorsement=None, replaces=replaces,
                    parcel_ids=parcel_ids, change_id=change_id, at=at)
    return cid


def end(conn: Connection, certificate: CurrentCertificate, *, change_id: int,
        at: datetime) -> None:
    ended = conn.execute(sa.text(
        "UPDATE certificate SET lifespan = tstzrange(lower(lifespan), :at, '[)'), "
        "ended_by = :c WHERE version_id = :v AND upper_inf(lifespan)"),
        {"at": at, "c": change_id, "v": certificate.version_id}).rowcount
    if ended != 1:
        raise Conflict(f"certificate #{certificate.certificate_id} changed meanwhile",
                       hint="read it again and repeat")


def endorse(conn: Connection, certificate: CurrentCertificate, text: str, *, change_id: int,
            at: datetime, parcel_ids: Sequence[int] | None = None) -> int:
    """Xác nhận thay đổi: a new version of the same certificate (same serial) with the
    endorsement, covering ``parcel_ids`` (default: the same parcels) and naming their
    holders as they are now. Returns the new version."""
    text = text.strip()
    if not text:
        raise InvalidInput("an endorsement says what changed")
    if len(text) > ENDORSEMENT_MAX:
        raise InvalidInput(f"an endorsement holds at most {ENDORSEMENT_MAX} characters")
    covered = certificate.parcel_ids if parcel_ids is None else tuple(parcel_ids)
    end(conn, certificate, change_id=change_id, at=at)
    return _insert_version(conn, certificate_id=certificate.certificate_id,
                           facts=certificate.facts, endorsement=text,
                           replaces=certificate.replaces_certificate, parcel_ids=covered,
                           change_id=change_id, at=at)


def named_holders(conn: Connection, certificate: CurrentCertificate) -> list[int]:
    """The holders the certificate's current version names: its own holder rows, or for a
    certificate loaded from a legacy register (none) the parties of the rights naming it."""
    named = [int(p) for p in conn.execute(sa.text(
        "SELECT party_id FROM certificate_holder WHERE certificate_version_id = :v "
        "ORDER BY party_id"), {"v": certificate.version_id}).scalars()]
    return named or [int(p) for p in conn.execute(sa.text(
        "SELECT DISTINCT party_id FROM current_land_right WHERE certificate_id = :c "
        "ORDER BY party_id"), {"c": certificate.certificate_id}).scalars()]


def replace_holder(conn: Connection, certificate: CurrentCertificate, holders: Sequence[int],
                   *, change_id: int, at: datetime) -> int:
    """A new version of the certificate naming ``holders``, with the same paper, note and
    parcels: the register's record of who the holders are was corrected (a duplicate record
    of a holder merged into another), nothing was written on the certificate."""
    end(conn, certificate, change_id=change_id, at=at)
    return _insert_version(conn, certificate_id=certificate.certificate_id,
                           facts=certificate.facts, endorsement=certificate.endorsement,
                           replaces=certificate.replaces_certificate,
                           parcel_ids=certificate.parcel_ids, change_id=change_id, at=at,
                           holders=holders)


def take_off(conn: Connection, parcel_ids: Sequence[int], note: str, *, change_id: int,
             at: datetime) -> list[tuple[int, str]]:
    """The parcels leave the certificates that cover them: a certificate that covers other
    parcels too is endorsed with ``note`` and covers those; one that covered only these
    ends. Returns ``(certificate id, "endorsed" | "ended")`` for each certificate."""
    gone = set(parcel_ids)
    done = []
    for certificate in current_on_parcels(conn, parcel_ids):
        remaining = [p for p in certificate.parcel_ids if p not in gone]
        if remaining:
            endorse(conn, certificate, note, change_id=change_id, at=at, parcel_ids=remaining)
            done.append((certificate.certificate_id, "endorsed"))
        else:
            end(conn, certificate, change_id=change_id, at=at)
            done.append((certificate.certificate_id, "ended"))
    return done


def link_rights(conn: Connection, parcel_ids: Sequence[int], certificate_id: int | None, *,
                change_id: int, at: datetime) -> int:
    """Point the parcels' current certified rights at ``certificate_id`` (None: recorded on
    no certificate, awaiting one): a new version of each right that names another, except
    the rights this change began (written with the right certificate already)."""
    return int(conn.execute(sa.text(
        "WITH old AS (UPDATE land_right SET lifespan = tstzrange(lower(lifespan), :at, '[)'), "
        "ended_by = :c WHERE upper_inf(lifespan) AND parcel_id = ANY(:p) AND kind = ANY(:k) "
        "AND certificate_id IS DISTINCT FROM CAST(:cert AS bigint) AND begun_by <> :c "
        "RETURNING right_id, kind, parcel_id, party_id, share_numerator, share_denominator, "
        "term_end) "
        "INSERT INTO land_right (right_id, kind, parcel_id, party_id, share_numerator, "
        "share_denominator, certificate_id, term_end, lifespan, begun_by) "
        "SELECT right_id, kind, parcel_id, party_id, share_numerator, share_denominator, "
        "CAST(:cert AS bigint), term_end, tstzrange(:at, NULL, '[)'), :c FROM old"),
        {"at": at, "c": change_id, "p": list(parcel_ids), "k": list(CERTIFIED_KINDS),
         "cert": certificate_id}).rowcount)


def endorsement_note(what: str, at: datetime, change_id: int) -> str:
    """The note a change writes on a certificate by itself: the day, what changed and the
    change's number; no names, shares of named people or contract numbers (the
    certificate's notes are shown to every reader of the parcel)."""
    return f"Ngày {office_day(at):%d/%m/%Y}: {what} (biến động số {change_id})."
