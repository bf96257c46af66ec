"""The certificate's lifecycle as changes of the register: issue (cấp GCN), endorse (xác
nhận thay đổi), exchange (cấp đổi), re-issue after loss (cấp lại) and revoke (thu hồi);
each locks the parcels the certificate covers, records its change with its source document
and writes the certificate's versions (``register``). And the reads: a certificate with its
history for staff, a parcel's certificates, and the public verification of a certificate by
the code printed as its QR content.

What the public verification shows, and why: what the certificate itself shows to whoever
holds it, without making the service a directory of who holds what. The serial, registry
number, issue date and authority, the status (valid, replaced, revoked, ended), the parcels
(commune, sheet, number, legal area, address: the parcel's address is not personal data,
cadastre/access.py) and the holders as printed, organisations by name and people as
initials (the public sees no person's name, cadastre/access.py; whoever holds the paper can
match the initials). Never an ID number, birth year or a person's address, nor a
restriction's counterparty or contract (financial facts of the holders).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import Role, holder_view, rule
from cadastre.certificates import register
from cadastre.certificates.register import CertificateFacts
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import ChangeResult, begin_change, lock_parcels
from cadastre.dossiers.calendar import office_day
from cadastre.errors import Conflict, InvalidInput, NotFound


class CertificateNotFound(NotFound):
    code = "certificate-not-found"


class CertificateEnded(Conflict):
    code = "certificate-ended"


def _locked_current(conn: Connection, certificate_id: int) -> register.CurrentCertificate:
    """The certificate's current version, its parcels locked (two officers on one
    certificate are serialised; the second finds the first's result)."""
    found = register.current(conn, certificate_id)
    if found is None:
        exists = conn.execute(sa.text("SELECT 1 FROM certificate WHERE certificate_id = :c "
                                      "LIMIT 1"), {"c": certificate_id}).scalar()
        if exists is None:
            raise CertificateNotFound(f"no certificate #{certificate_id}")
        raise CertificateEnded(f"certificate #{certificate_id} is no longer valid: see its "
                               "history", hint=f"/api/v1/certificates/{certificate_id}")
    lock_parcels(conn, list(found.parcel_ids), None)
    again = register.current(conn, certificate_id)
    if again is None or again.version_id != found.version_id:
        raise Conflict(f"certificate #{certificate_id} changed meanwhile",
                       hint="read it again and repeat")
    return again


def resolve(conn: Connection, certificate_id: int | None, parcel_id: int | None) -> int:
    """The certificate named, or the one current certificate of ``parcel_id`` (how a
    dossier's approval names it)."""
    if certificate_id is not None:
        return certificate_id
    if parcel_id is None:
        raise InvalidInput("name the certificate (certificate_id) or its parcel (parcel_id)")
    found = register.current_on_parcels(conn, [parcel_id])
    if len(found) != 1:
        raise InvalidInput(f"parcel {parcel_id} is on {len(found)} current certificates: "
                           "name the certificate (certificate_id)")
    return found[0].certificate_id


def parcels_of(conn: Connection, certificate_id: int | None) -> list[int]:
    """The parcels the current version of the certificate covers (none when it ended)."""
    found = None if certificate_id is None else register.current(conn, certificate_id)
    return [] if found is None else sorted(found.parcel_ids)


def certificate_facts(serial: str, authority: str | None, registry_number: str | None,
           issued_on: Any) -> CertificateFacts:
    return CertificateFacts(register.normalise_serial(serial),
                            authority or register.DEFAULT_AUTHORITY, registry_number, issued_on)


def _awaited(conn: Connection, parcel_ids: Sequence[int]) -> int | None:
    """The certificate these parcels (or the parcels they were split or merged from) were
    on last that ended without a successor (after a sale of the whole, a split) and was not
    revoked: the one a new certificate replaces."""
    found = conn.execute(sa.text(
        "SELECT c.certificate_id FROM certificate c JOIN certificate_parcel cp "
        "ON cp.certificate_version_id = c.version_id "
        "JOIN change_transaction e ON e.id = c.ended_by "
        "WHERE (cp.parcel_id = ANY(:p) OR cp.parcel_id IN (SELECT parent_parcel_id FROM "
        "parcel_lineage WHERE child_parcel_id = ANY(:p))) "
        "AND e.kind <> 'certificate_revocation' "
        "AND NOT EXISTS (SELECT 1 FROM current_certificate n "
        "                WHERE n.certificate_id = c.certificate_id) "
        "AND NOT EXISTS (SELECT 1 FROM certificate n "
        "                WHERE n.replaces_certificate = c.certificate_id) "
        "ORDER BY upper(c.lifespan) DESC LIMIT 1"), {"p": list(parcel_ids)}).scalar()
    return None if found is None else int(found)


def issue(conn: Connection, parcel_ids: Sequence[int], facts: CertificateFacts,
          source: SourceDocument, *, replaces: int | None = None,
          dossier_code: str | None = None) -> ChangeResult:
    """Cấp Giấy chứng nhận: a new certificate covering the parcels and naming the holders
    of their rights, which then name it. A parcel already on a current certificate is
    refused (endorse or exchange that one); the certificate the parcels awaited a successor
    for is the one replaced, unless ``replaces`` names another."""
    ids = sorted(set(parcel_ids))
    if not ids:
        raise InvalidInput("a certificate covers at least one parcel")
    lock_parcels(conn, ids, None)
    already = register.current_on_parcels(conn, ids)
    if already:
        c = already[0]
        raise Conflict(f"parcel(s) {', '.join(map(str, c.parcel_ids))} are on certificate "
                       f"{c.facts.serial} (#{c.certificate_id})",
                       hint="endorse it, or exchange it for a new one")
    if not register.holders_of(conn, ids):
        raise InvalidInput(f"parcels {ids} have no right a certificate records",
                           hint="register the land users first")
    register.check_serial_unused(conn, facts.serial)
    replaced = replaces if replaces is not None else _awaited(conn, ids)
    change_id, at = begin_change(conn, "certificate_issue", source, dossier_code=dossier_code,
                                 note=None)
    cid = register.issue(conn, facts, ids, change_id=change_id, at=at, replaces=replaced)
    linked = register.link_rights(conn, ids, cid, change_id=change_id, at=at)
    return ChangeResult(change_id, ids[0], linked, linked + 1, certificate={
        "action": "issued", "certificate_id": cid, "replaced": replaced})


def endorse(conn: Connection, certificate_id: int, text: str, source: SourceDocument, *,
            dossier_code: str | None = None) -> ChangeResult:
    """Xác nhận thay đổi: a new version of the certificate with ``text`` (after a mortgage,
    its release, a change of purpose...), naming the holders as they are now."""
    current = _locked_current(conn, certificate_id)
    change_id, at = begin_change(conn, "certificate_endorsement", source,
                                 dossier_code=dossier_code, note=None)
    register.endorse(conn, current, text, change_id=change_id, at=at)
    return ChangeResult(change_id, current.parcel_ids[0], 1, 1, certificate={
        "action": "endorsed", "certificate_id": certificate_id})


def exchange(conn: Connection, certificate_id: int, facts: CertificateFacts,
             source: SourceDocument, *, lost: bool = False,
             dossier_code: str | None = None) -> ChangeResult:
    """Cấp đổi (``lost``: cấp lại after the certificate was lost): the certificate ends and
    a new one with a new serial replaces it, covering its parcels and their holders."""
    current = _locked_current(conn, certificate_id)
    register.check_serial_unused(conn, facts.serial)
    parcels = [int(p) for p in conn.execute(sa.text(
        "SELECT parcel_id FROM current_parcel WHERE parcel_id = ANY(:p) ORDER BY parcel_id"),
        {"p": list(current.parcel_ids)}).scalars()]
    change_id, at = begin_change(conn, "certificate_reissue" if lost else
                                 "certificate_exchange", source, dossier_code=dossier_code,
                                 note=None)
    register.end(conn, current, change_id=change_id, at=at)
    cid = register.issue(conn, facts, parcels, change_id=change_id, at=at,
                         replaces=certificate_id)
    linked = register.link_rights(conn, parcels, cid, change_id=change_id, at=at)
    return ChangeResult(change_id, parcels[0], linked + 1, linked + 1, certificate={
        "action": "reissued" if lost else "exchanged", "certificate_id": cid,
        "replaced": certificate_id})


def revoke(conn: Connection, certificate_id: int, source: SourceDocument, *,
           dossier_code: str | None = None) -> ChangeResult:
    """Thu hồi: the certificate ends by the decision in ``source``; its rights are recorded
    on no certificate until one is issued."""
    current = _locked_current(conn, certificate_id)
    change_id, at = begin_change(conn, "certificate_revocation", source,
                                 dossier_code=dossier_code, note=None)
    register.end(conn, current, change_id=change_id, at=at)
    linked = register.link_rights(conn, list(current.parcel_ids), None, change_id=change_id,
                                  at=at)
    return ChangeResult(change_id, current.parcel_ids[0], linked + 1, linked, certificate={
        "action": "revoked", "certificate_id": certificate_id})


# --- reads ----------------------------------------------------------------------------------

_STATUS = """
    CASE WHEN EXISTS (SELECT 1 FROM current_certificate n WHERE n.certificate_id = :c)
              THEN 'valid'
         WHEN EXISTS (SELECT 1 FROM certificate n WHERE n.replaces_certificate = :c)
              THEN 'replaced'
         WHEN (SELECT e.kind FROM certificate v JOIN change_transaction e ON e.id = v.ended_by
               WHERE v.certificate_id = :c ORDER BY v.version_id DESC LIMIT 1)
              = 'certificate_revocation' THEN 'revoked'
         ELSE 'ended' END"""


def _status(conn: Connection, certificate_id: int) -> dict[str, Any]:
    row = conn.execute(sa.text(
        f"SELECT {_STATUS} AS status, (SELECT upper(v.lifespan) FROM certificate v "
        "WHERE v.certificate_id = :c ORDER BY v.version_id DESC LIMIT 1) AS until, "
        "(SELECT e.kind FROM certificate v JOIN change_transaction e ON e.id = v.ended_by "
        " WHERE v.certificate_id = :c ORDER BY v.version_id DESC LIMIT 1) AS ended_with"),
        {"c": certificate_id}).one()
    status: dict[str, Any] = {"status": row.status}
    if row.status != "valid":
        status["until"] = row.until
        status["ended_with"] = row.ended_with
    return status


def _related(conn: Connection, sql: str, certificate_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.text(
        "SELECT DISTINCT ON (c.certificate_id) c.certificate_id, c.serial, c.issued_on "
        f"FROM certificate c WHERE {sql} ORDER BY c.certificate_id, c.version_id"),
        {"c": certificate_id}).all()]


def verification_code(conn: Connection, certificate_id: int) -> str | None:
    """The code printed as the certificate's QR content (made by the database with a key
    only it reads); for staff and the commands."""
    code = conn.execute(sa.text("SELECT certificate_code(:c)"), {"c": certificate_id}).scalar()
    return None if code is None else str(code)


def detail(conn: Connection, certificate_id: int, role: Role) -> dict[str, Any]:
    """A certificate with every version (its note, the parcels and holders it named, the
    changes that began and ended it), as ``role`` may see the holders."""
    versions = conn.execute(sa.text(
        "SELECT c.version_id, c.serial, c.registry_number, c.issued_on, c.issuing_authority, "
        "c.endorsement, c.replaces_certificate, lower(c.lifespan) AS since, "
        "upper(c.lifespan) AS until, c.begun_by, b.kind AS begun_with, "
        "b.dossier_code AS begun_dossier, c.ended_by, e.kind AS ended_with "
        "FROM certificate c JOIN change_transaction b ON b.id = c.begun_by "
        "LEFT JOIN change_transaction e ON e.id = c.ended_by "
        "WHERE c.certificate_id = :c ORDER BY c.version_id"), {"c": certificate_id}).all()
    if not versions:
        raise CertificateNotFound(f"no certificate #{certificate_id}")
    latest = versions[-1]
    history = []
    for v in versions:
        parcels = [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT DISTINCT ON (cp.parcel_id) cp.parcel_id, p.commune_code, p.sheet_number, "
            "p.parcel_number FROM certificate_parcel cp JOIN parcel p USING (parcel_id) "
            "WHERE cp.certificate_version_id = :v ORDER BY cp.parcel_id, "
            "upper_inf(p.lifespan) DESC, p.version_id DESC"), {"v": v.version_id}).all()]
        history.append({
            "version_id": v.version_id, "since": v.since, "until": v.until,
            "endorsement": v.endorsement, "parcels": parcels,
            "holders": _holders(conn, v.version_id, role),
            "begun_by": {"change_id": v.begun_by, "kind": v.begun_with,
                         "dossier_code": v.begun_dossier},
            "ended_by": None if v.ended_by is None else {"change_id": v.ended_by,
                                                         "kind": v.ended_with}})
    return {
        "certificate_id": certificate_id, "serial": latest.serial,
        "registry_number": latest.registry_number, "issued_on": latest.issued_on,
        "issuing_authority": latest.issuing_authority, **_status(conn, certificate_id),
        "replaces": _related(conn, "c.certificate_id = (SELECT max(replaces_certificate) "
                                   "FROM certificate WHERE certificate_id = :c)",
                             certificate_id),
        "replaced_by": _related(conn, "c.replaces_certificate = :c", certificate_id),
        "verification_code": (verification_code(conn, certificate_id)
                              if rule(role).names else None),
        "versions": history}


def _holders(conn: Connection, version_id: int, role: Role) -> list[dict[str, Any]]:
    """The holders a version names (certificate_holder; for a certificate of a legacy
    register, the rights that named it while the version was current), names as ``role`` sees
    them (party_visible)."""
    rows = conn.execute(sa.text(
        "WITH v AS (SELECT * FROM certificate WHERE version_id = :v), named AS ("
        " SELECT h.party_id FROM certificate_holder h WHERE h.certificate_version_id = :v"
        " UNION SELECT r.party_id FROM land_right r, v WHERE r.certificate_id = "
        " v.certificate_id AND r.lifespan && v.lifespan AND NOT EXISTS (SELECT 1 FROM "
        " certificate_holder h WHERE h.certificate_version_id = :v)) "
        "SELECT p.id AS party_id, p.kind, p.name FROM named n JOIN party_visible p "
        "ON p.id = n.party_id ORDER BY p.id"), {"v": version_id}).all()
    return [holder_view(role, dict(r._mapping)) for r in rows]


def parties_shown(view: dict[str, Any]) -> list[int]:
    """The parties whose names a certificate's view carries (for the audit of reads)."""
    return sorted({int(h["party_id"]) for v in view.get("versions", [])
                   for h in v["holders"] if h.get("name") and h.get("party_id")})


def of_parcel(conn: Connection, parcel_id: int) -> dict[str, Any]:
    """The parcel's current certificates, and whether its rights await one (recorded on no
    current certificate: after a sale of the whole without a new serial, a split, a
    revocation, or never certified)."""
    exists = conn.execute(sa.text("SELECT 1 FROM parcel_identity WHERE parcel_id = :p"),
                          {"p": parcel_id}).scalar()
    if exists is None:
        raise NotFound(f"no parcel {parcel_id}")
    current = register.current_on_parcels(conn, [parcel_id])
    uncertified = conn.execute(sa.text(
        "SELECT count(*) FROM current_land_right r WHERE r.parcel_id = :p AND r.kind = ANY(:k) "
        "AND NOT EXISTS (SELECT 1 FROM current_certificate c "
        "                WHERE c.certificate_id = r.certificate_id)"),
        {"p": parcel_id, "k": list(register.CERTIFIED_KINDS)}).scalar_one()
    return {"parcel_id": parcel_id,
            "certificates": [{"certificate_id": c.certificate_id, "serial": c.facts.serial,
                              "issued_on": c.facts.issued_on,
                              "issuing_authority": c.facts.issuing_authority,
                              "endorsement": c.endorsement,
                              "links": {"self": f"/api/v1/certificates/{c.certificate_id}"}}
                             for c in current],
            "awaiting_certificate": bool(uncertified),
            "rights_without_certificate": int(uncertified)}


def verify(conn: Connection, code: str) -> dict[str, Any]:
    """The public verification of a certificate by its code (see the module's docstring
    for what it shows). A malformed, unknown or forged code is one answer: not found."""
    certificate_id = conn.execute(sa.text("SELECT certificate_by_code(:c)"),
                                  {"c": code[:64]}).scalar()
    if certificate_id is None:
        raise CertificateNotFound("no certificate has this verification code",
                                  hint="check the code read from the QR on the certificate")
    latest = conn.execute(sa.text(
        "SELECT version_id, serial, registry_number, issued_on, issuing_authority, "
        "lower(lifespan) AS since FROM certificate WHERE certificate_id = :c "
        "ORDER BY version_id DESC LIMIT 1"), {"c": certificate_id}).one()
    first = conn.execute(sa.text(
        "SELECT min(version_id) FROM certificate WHERE certificate_id = :c"),
        {"c": certificate_id}).scalar_one()
    # each parcel as it was last while the certificate's latest version named it
    parcels = [dict(r._mapping) for r in conn.execute(sa.text(
        "SELECT commune_code, (SELECT a.name FROM admin_unit a WHERE a.level = 'commune' "
        "AND a.code = x.commune_code ORDER BY a.valid_to DESC NULLS FIRST LIMIT 1) "
        "AS commune_name, sheet_number, parcel_number, area_legal, address FROM ("
        " SELECT DISTINCT ON (p.parcel_id) p.* FROM certificate c JOIN certificate_parcel cp "
        " ON cp.certificate_version_id = c.version_id JOIN parcel p ON p.parcel_id = "
        " cp.parcel_id AND p.lifespan && c.lifespan WHERE c.version_id = :v "
        " ORDER BY p.parcel_id, p.version_id DESC) x "
        "ORDER BY commune_code, sheet_number, parcel_number"), {"v": latest.version_id}).all()]
    for parcel in parcels:  # numeric(12, 2): a JSON number
        if parcel["area_legal"] is not None:
            parcel["area_legal"] = float(parcel["area_legal"])
    holders = [{"kind": r.kind, "name": r.printed_name} for r in conn.execute(sa.text(
        "SELECT kind, printed_name FROM certificate_printed_holders(:v)"),
        {"v": latest.version_id}).all()]
    status = _status(conn, certificate_id)
    view: dict[str, Any] = {
        "serial": latest.serial, "registry_number": latest.registry_number,
        "issued_on": latest.issued_on, "issuing_authority": latest.issuing_authority,
        "status": status["status"],
        "status_since": office_day(status["until"]) if "until" in status else None,
        "last_endorsed_on": None if latest.version_id == first else office_day(latest.since),
        "parcels": parcels, "holders": holders,
        "shown": "what the certificate shows publicly: holders' names as initials for "
                 "people, no ID numbers, birth years or addresses of holders"}
    if status["status"] == "replaced":
        view["replaced_by"] = [{"serial": r["serial"], "issued_on": r["issued_on"]}
                               for r in _related(conn, "c.replaces_certificate = :c",
                                                 certificate_id)]
    return view
