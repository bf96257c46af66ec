"""`cadastre change ...`: the change operations from the command line (land officers'
scripts and corrections), each one transaction, each with its source document."""

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


@app.command()
def transfer(parcel: int, holder: list[str] = typer.Option(..., "--holder",
             help="New holder as PARTY_ID or PARTY_ID:N/D; repeat for co-holders."),
             kind: str = typer.Option("transfer", "--kind", help="transfer, inheritance, gift"),
             source_kind: str = SourceKind, source_ref: str = SourceRef,
             source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Transfer, inheritance or gift: new holders with shares adding up to 1."""
    if kind not in operations.TRANSFERS:
        raise InvalidInput(f"a transfer is a transfer, inheritance or gift, not {kind!r}")
    result = _change(kind, {"parcel_id": parcel, "holders": [_share(h) for h in holder]},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: parcel {parcel} transferred")


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
def mortgage_release(parcel: int, reference: str = typer.Option(..., "--reference"),
                     source_kind: str = SourceKind, source_ref: str = SourceRef,
                     source_date: str | None = SourceDate,
                     dossier: str | None = Dossier) -> None:
    """Release a mortgage."""
    result = _change("mortgage_release", {"parcel_id": parcel, "reference": reference},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: mortgage {reference} released")


@app.command()
def injunction(parcel: int, source_kind: str = typer.Option("court_order", "--source-kind"),
               source_ref: str = SourceRef, source_date: str | None = SourceDate,
               dossier: str | None = Dossier) -> None:
    """Block every other change on the parcel (ngăn chặn)."""
    result = _change("injunction", {"parcel_id": parcel},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: parcel {parcel} blocked by {source_ref}")


@app.command("injunction-release")
def injunction_release(parcel: int, reference: str = typer.Option(..., "--reference"),
                       source_kind: str = typer.Option("court_order", "--source-kind"),
                       source_ref: str = SourceRef, source_date: str | None = SourceDate,
                       dossier: str | None = Dossier) -> None:
    """Lift an injunction."""
    result = _change("injunction_release", {"parcel_id": parcel, "reference": reference},
                     source_kind, source_ref, source_date, dossier)
    out.print(f"change #{result.change_id}: injunction {reference} lifted")


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
