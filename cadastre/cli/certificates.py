"""`cadastre certificate ...`: the certificate's lifecycle from the command line (issue,
endorse, exchange, re-issue after loss, revoke), each one transaction with its source
document, and a certificate's history and verification code."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.console import Console

from cadastre.access import Role
from cadastre.certificates import service
from cadastre.changes import operations
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import ChangeResult
from cadastre.cli.context import cli_engine
from cadastre.clock import office_stamp
from cadastre.db import translate_connection_errors

app = typer.Typer(help="Certificates (Giấy chứng nhận): issue, endorse, exchange, re-issue, "
                  "revoke, show.", no_args_is_help=True)
out = Console(highlight=False)
#: How the history prints an instant: Hà Nội time, to the minute.
_STAMP = "%Y-%m-%d %H:%M"

SourceKind = typer.Option("decision", "--source-kind",
                          help="application, decision, contract, court_order, ...")
SourceRef = typer.Option(..., "--source-ref", help="Reference of the document (số hiệu).")
SourceDate = typer.Option(None, "--source-date", help="Issue date, YYYY-MM-DD.")
Dossier = typer.Option(None, "--dossier", help="Dossier code that caused the change.")
Serial = typer.Option(..., "--serial", help="The new paper's serial, e.g. 'CS 123456'.")
Registry = typer.Option(None, "--registry-number", help="Số vào sổ cấp GCN.")
Authority = typer.Option(None, "--authority", help="Issuing authority (default: the "
                         "province's land registration office).")
IssuedOn = typer.Option(None, "--issued-on", help="Issue date, YYYY-MM-DD (default: today "
                        "in Hà Nội).")


def _apply(name: str, parameters: dict[str, Any], source_kind: str, source_ref: str,
           source_date: str | None, dossier: str | None) -> tuple[ChangeResult, str | None]:
    source = SourceDocument(source_kind, source_ref,
                            date.fromisoformat(source_date) if source_date else None)
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        result = operations.apply(conn, name, parameters, source, dossier_code=dossier)
        certificate_id = int((result.certificate or {})["certificate_id"])
        return result, service.verification_code(conn, certificate_id)


def _printed(result: ChangeResult, code: str | None) -> None:
    outcome = dict(result.certificate or {})
    out.print(f"change #{result.change_id}: certificate #{outcome['certificate_id']} "
              f"{outcome['action']}" + (f" (replaces #{outcome['replaced']})"
                                        if outcome.get("replaced") else ""))
    if code:
        out.print(f"verification code: {code}")


@app.command()
def issue(parcels: list[int] = typer.Argument(..., help="The parcels it covers."),
          serial: str = Serial, registry_number: str | None = Registry,
          authority: str | None = Authority, issued_on: str | None = IssuedOn,
          source_kind: str = typer.Option("application", "--source-kind"),
          source_ref: str = SourceRef, source_date: str | None = SourceDate,
          dossier: str | None = Dossier) -> None:
    """Issue a certificate covering the parcels, naming the holders of their rights."""
    _printed(*_apply("certificate_issue", {
        "parcel_ids": parcels, "serial": serial, "registry_number": registry_number,
        "issuing_authority": authority, "issued_on": issued_on},
        source_kind, source_ref, source_date, dossier))


@app.command()
def endorse(certificate: int, text: str = typer.Option(..., "--text",
            help="What changed, as written on the certificate."),
            source_kind: str = SourceKind, source_ref: str = SourceRef,
            source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Endorse a change on the certificate (xác nhận thay đổi): a new version."""
    _printed(*_apply("certificate_endorsement", {"certificate_id": certificate,
                                                 "endorsement": text},
                     source_kind, source_ref, source_date, dossier))


def _exchange(name: str, certificate: int, serial: str, registry_number: str | None,
              authority: str | None, issued_on: str | None, source_kind: str,
              source_ref: str, source_date: str | None, dossier: str | None) -> None:
    _printed(*_apply(name, {"certificate_id": certificate, "serial": serial,
                            "registry_number": registry_number,
                            "issuing_authority": authority, "issued_on": issued_on},
                     source_kind, source_ref, source_date, dossier))


@app.command()
def exchange(certificate: int, serial: str = Serial, registry_number: str | None = Registry,
             authority: str | None = Authority, issued_on: str | None = IssuedOn,
             source_kind: str = typer.Option("application", "--source-kind"),
             source_ref: str = SourceRef, source_date: str | None = SourceDate,
             dossier: str | None = Dossier) -> None:
    """Exchange the certificate for a new one with a new serial (cấp đổi)."""
    _exchange("certificate_exchange", certificate, serial, registry_number, authority,
              issued_on, source_kind, source_ref, source_date, dossier)


@app.command()
def reissue(certificate: int, serial: str = Serial, registry_number: str | None = Registry,
            authority: str | None = Authority, issued_on: str | None = IssuedOn,
            source_kind: str = typer.Option("application", "--source-kind"),
            source_ref: str = SourceRef, source_date: str | None = SourceDate,
            dossier: str | None = Dossier) -> None:
    """Re-issue a lost certificate with a new serial (cấp lại)."""
    _exchange("certificate_reissue", certificate, serial, registry_number, authority,
              issued_on, source_kind, source_ref, source_date, dossier)


@app.command()
def revoke(certificate: int, source_kind: str = SourceKind, source_ref: str = SourceRef,
           source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Revoke the certificate (thu hồi) by the decision given as source."""
    _printed(*_apply("certificate_revocation", {"certificate_id": certificate},
                     source_kind, source_ref, source_date, dossier))


@app.command()
def show(certificate: int) -> None:
    """A certificate's status, verification code and every version."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        view = service.detail(conn, certificate, Role.LAND_OFFICER)
    out.print(f"certificate #{certificate} {view['serial']} ({view['status']}), issued "
              f"{view['issued_on'] or '?'} by {view['issuing_authority']}")
    for related, label in ((view["replaces"], "replaces"), (view["replaced_by"],
                                                             "replaced by")):
        for r in related:
            out.print(f"  {label} #{r['certificate_id']} {r['serial']}")
    if view["verification_code"]:
        out.print(f"  verification code: {view['verification_code']}")
    for v in view["versions"]:
        parcels = ", ".join(f"{p['commune_code']}/{p['sheet_number']}/{p['parcel_number']}"
                            for p in v["parcels"])
        holders = ", ".join(f"#{h['party_id']}" for h in v["holders"] if h.get("party_id"))
        until = f" until {office_stamp(v['until'], _STAMP)}" if v["until"] else ""
        since = office_stamp(v["since"], _STAMP)
        out.print(f"  version {v['version_id']} since {since}{until} "
                  f"({v['begun_by']['kind']} #{v['begun_by']['change_id']}): parcels "
                  f"{parcels}; holders {holders}")
        if v["endorsement"]:
            out.print(f"    {v['endorsement']}")
