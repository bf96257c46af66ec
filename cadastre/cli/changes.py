"""`cadastre change ...`: the change operations from the command line (land officers'
scripts and corrections), each one transaction, each with its source document. The
certificate's own operations are `cadastre certificate ...`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import typer
from rich.console import Console

from cadastre.changes import operations
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import ChangeResult, Share
from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput

app = typer.Typer(help="Register changes (biến động) of rights and of the map.",
                  no_args_is_help=True)
out = Console(highlight=False)

SourceKind = typer.Option("decision", "--source-kind",
                          help="contract, decision, court_order, application, ...")
SourceRef = typer.Option(..., "--source-ref", help="Reference of the document (số hiệu).")
SourceDate = typer.Option(None, "--source-date", help="Issue date, YYYY-MM-DD.")
Dossier = typer.Option(None, "--dossier", help="Dossier code that caused the change.")


def _change(name: str, parameters: dict[str, Any], source_kind: str, source_ref: str,
            source_date: str | None, dossier: str | None) -> ChangeResult:
    """One change of the operations catalogue, one transaction, with its source document."""
    source = SourceDocument(source_kind, source_ref,
                            date.fromisoformat(source_date) if source_date else None)
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        return operations.apply(conn, name, parameters, source, dossier_code=dossier)


def _share(text: str) -> Share:
    match = re.fullmatch(r"(\d+)(?::(\d+)/(\d+))?", text)
    if not match:
        raise InvalidInput(f"--holder {text!r} is not PARTY_ID or PARTY_ID:N/D")
    return Share(int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1))


def _right(text: str) -> dict[str, Any]:
    kind, sep, holders = text.partition("=")
    if not sep or not holders:
        raise InvalidInput(f"--right {text!r} is not KIND=PARTY[:N/D],PARTY[:N/D]...")
    return {"kind": kind.strip(), "holders": [_share(h.strip()) for h in holders.split(",")]}


@app.command()
def transfer(parcel: int, holder: list[str] = typer.Option([], "--holder",
             help="New holder of the land-use right and of every attached-asset right the "
             "sellers hold, as PARTY_ID or PARTY_ID:N/D; repeat for co-holders."),
             right: list[str] = typer.Option([], "--right", help="One kind of right to its "
             "own holders, e.g. 'house_ownership=12:1/2,13:1/2' (land_use, house_ownership, "
             "asset_ownership); repeat per kind. Instead of --holder."),
             from_party: int | None = typer.Option(None, "--from-party", help="The seller "
             "when a co-holder sells his share only."),
             kind: str = typer.Option("transfer", "--kind", help="transfer, inheritance, gift"),
             certificate: str = typer.Option("auto", "--certificate", help="auto, endorse, "
             "new (with --serial) or await."),
             serial: str | None = typer.Option(None, "--serial",
                                               help="The buyer's new certificate's serial."),
             registry_number: str | None = typer.Option(None, "--registry-number"),
             source_kind: str = SourceKind, source_ref: str = SourceRef,
             source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Transfer, inheritance or gift: what moves to whom, shares adding up to 1; the
    certificate endorsed or replaced."""
    if kind not in operations.TRANSFERS:
        raise InvalidInput(f"a transfer is a transfer, inheritance or gift, not {kind!r}")
    if bool(holder) == bool(right):
        raise InvalidInput("give either --holder or --right")
    parameters: dict[str, Any] = {
        "parcel_id": parcel, "from_party_id": from_party,
        "certificate": {"action": certificate, "serial": serial,
                        "registry_number": registry_number}}
    if holder:
        parameters["holders"] = [_share(h) for h in holder]
    else:
        parameters["rights"] = [_right(r) for r in right]
    result = _change(kind, parameters, source_kind, source_ref, source_date, dossier)
    outcome = dict(result.certificate or {})
    out.print(f"change #{result.change_id}: parcel {parcel} transferred; certificate "
              f"{outcome.get('action', 'unchanged')}"
              + (f" #{outcome['certificate_id']}" if outcome.get("certificate_id") else "")
              + (" (the parcel awaits its new certificate)"
                 if outcome.get("awaiting_certificate") else ""))


@app.command()
def mortgage(parcel: int, lender: int = typer.Option(..., "--lender", help="Party id."),
             amount: int | None = typer.Option(None, "--amount"),
             source_kind: str = SourceKind, source_ref: str = SourceRef,
             source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Register a mortgage."""
    result = _change("mortgage", {"parcel_id": parcel, "lender_party_id": lender,
                                  "amount": amount},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: mortgage registered on parcel {parcel}")


@app.command("mortgage-release")
def mortgage_release(parcel: int, reference: str | None = typer.Option(
                         None, "--reference", help="The mortgage's contract reference."),
                     lender: int | None = typer.Option(
                         None, "--lender", help="The lender, when two share the reference."),
                     restriction: int | None = typer.Option(
                         None, "--restriction", help="The mortgage's restriction id."),
                     source_kind: str = SourceKind, source_ref: str = SourceRef,
                     source_date: str | None = SourceDate,
                     dossier: str | None = Dossier) -> None:
    """Release one mortgage, named by its reference (and lender) or its restriction id."""
    result = _change("mortgage_release", {"parcel_id": parcel, "reference": reference,
                                          "lender_party_id": lender,
                                          "restriction_id": restriction},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: mortgage {reference or f'#{restriction}'} released")


@app.command()
def injunction(parcel: int, source_kind: str = typer.Option("court_order", "--source-kind"),
               source_ref: str = SourceRef, source_date: str | None = SourceDate,
               dossier: str | None = Dossier) -> None:
    """Block every other change on the parcel (ngăn chặn)."""
    result = _change("injunction", {"parcel_id": parcel},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: parcel {parcel} blocked by {source_ref}")


@app.command("injunction-release")
def injunction_release(parcel: int, reference: str | None = typer.Option(
                           None, "--reference", help="The order's reference."),
                       restriction: int | None = typer.Option(
                           None, "--restriction", help="The injunction's restriction id."),
                       source_kind: str = typer.Option("court_order", "--source-kind"),
                       source_ref: str = SourceRef, source_date: str | None = SourceDate,
                       dossier: str | None = Dossier) -> None:
    """Lift an injunction, named by its reference or its restriction id."""
    result = _change("injunction_release", {"parcel_id": parcel, "reference": reference,
                                            "restriction_id": restriction},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: injunction {reference or f'#{restriction}'} "
              "lifted")


@app.command()
def responsibility(parcel: int, kind: str = typer.Option(..., "--kind", help=(
                       "deferred_land_levy, maintenance, access or other")),
                   description: str = typer.Option(..., "--description",
                                                   help="What is owed."),
                   party: int | None = typer.Option(None, "--party", help="Who owes it."),
                   source_kind: str = SourceKind, source_ref: str = SourceRef,
                   source_date: str | None = SourceDate,
                   dossier: str | None = Dossier) -> None:
    """Record an obligation attached to the parcel (e.g. ghi nợ tiền sử dụng đất)."""
    result = _change("responsibility", {"parcel_id": parcel, "kind": kind,
                                        "description": description, "party_id": party},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: {kind} recorded on parcel {parcel}")


@app.command("responsibility-end")
def responsibility_end(parcel: int, responsibility: int = typer.Option(
                           ..., "--id", help="The responsibility's id."),
                       source_kind: str = SourceKind, source_ref: str = SourceRef,
                       source_date: str | None = SourceDate,
                       dossier: str | None = Dossier) -> None:
    """End an obligation (the levy paid, the corridor released)."""
    result = _change("responsibility_end", {"parcel_id": parcel,
                                            "responsibility_id": responsibility},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: responsibility #{responsibility} ended")


@app.command()
def split(parcel: int, cut_line: str = typer.Option(..., "--cut-line",
          help="WKT LINESTRING in the storage CRS crossing the parcel."),
          source_kind: str = SourceKind, source_ref: str = SourceRef,
          source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Split a parcel along a cutting line."""
    result = _change("split", {"parcel_id": parcel, "cut_line_wkt": cut_line},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: parcel {parcel} split into "
              f"{list(result.new_parcels)}")


@app.command()
def merge(parcels: list[int], allow_different_holders: bool = typer.Option(
          False, "--allow-different-holders"),
          source_kind: str = SourceKind, source_ref: str = SourceRef,
          source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Merge adjacent parcels of the same holders."""
    result = _change("merge", {"parcel_ids": parcels,
                               "allow_different_holders": allow_different_holders},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: parcels {parcels} merged into "
              f"{result.new_parcels[0]}")
