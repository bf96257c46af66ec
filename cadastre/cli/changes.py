"""`cadastre change ...`: the change operations from the command line (land officers'
scripts and corrections), each one transaction, each with its source document."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Concatenate, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import Connection

from cadastre.changes import service, spatial
from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput

P = ParamSpec("P")
T = TypeVar("T")

app = typer.Typer(help="Register changes (biến động) of rights and of the map.",
                  no_args_is_help=True)
out = Console(highlight=False)

SourceKind = typer.Option("decision", "--source-kind",
                          help="contract, decision, court_order, application, ...")
SourceRef = typer.Option(..., "--source-ref", help="Reference of the document (số hiệu).")
SourceDate = typer.Option(None, "--source-date", help="Issue date, YYYY-MM-DD.")
Dossier = typer.Option(None, "--dossier", help="Dossier code that caused the change.")


def _source(kind: str, reference: str, issued: str | None) -> service.SourceDocument:
    return service.SourceDocument(kind, reference,
                                  date.fromisoformat(issued) if issued else None)


def _run(operation: Callable[Concatenate[Connection, P], T], *args: P.args,
         **kwargs: P.kwargs) -> T:
    """One change, one transaction."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        return operation(conn, *args, **kwargs)


def _share(text: str) -> service.Share:
    match = re.fullmatch(r"(\d+)(?::(\d+)/(\d+))?", text)
    if not match:
        raise InvalidInput(f"--holder {text!r} is not PARTY_ID or PARTY_ID:N/D")
    return service.Share(int(match.group(1)), int(match.group(2) or 1),
                         int(match.group(3) or 1))


@app.command()
def transfer(parcel: int, holder: list[str] = typer.Option(..., "--holder",
             help="New holder as PARTY_ID or PARTY_ID:N/D; repeat for co-holders."),
             kind: str = typer.Option("transfer", "--kind", help="transfer, inheritance, gift"),
             source_kind: str = SourceKind, source_ref: str = SourceRef,
             source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Transfer, inheritance or gift: new holders with shares adding up to 1."""
    result = _run(service.transfer, parcel, [_share(h) for h in holder],
                  _source(source_kind, source_ref, source_date), kind=kind, dossier_code=dossier)
    out.print(f"change #{result.change_id}: parcel {parcel} transferred")


@app.command()
def mortgage(parcel: int, lender: int = typer.Option(..., "--lender", help="Party id."),
             amount: int | None = typer.Option(None, "--amount"),
             source_kind: str = SourceKind, source_ref: str = SourceRef,
             source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Register a mortgage."""
    result = _run(service.register_mortgage, parcel, lender,
                  _source(source_kind, source_ref, source_date), amount=amount,
                  dossier_code=dossier)
    out.print(f"change #{result.change_id}: mortgage registered on parcel {parcel}")


@app.command("mortgage-release")
def mortgage_release(parcel: int, reference: str = typer.Option(..., "--reference"),
                     source_kind: str = SourceKind, source_ref: str = SourceRef,
                     source_date: str | None = SourceDate,
                     dossier: str | None = Dossier) -> None:
    """Release a mortgage."""
    result = _run(service.release_mortgage, parcel, reference,
                  _source(source_kind, source_ref, source_date), dossier_code=dossier)
    out.print(f"change #{result.change_id}: mortgage {reference} released")


@app.command()
def injunction(parcel: int, source_kind: str = typer.Option("court_order", "--source-kind"),
               source_ref: str = SourceRef, source_date: str | None = SourceDate,
               dossier: str | None = Dossier) -> None:
    """Block every other change on the parcel (ngăn chặn)."""
    result = _run(service.set_injunction, parcel, None,
                  _source(source_kind, source_ref, source_date), dossier_code=dossier)
    out.print(f"change #{result.change_id}: parcel {parcel} blocked by {source_ref}")


@app.command("injunction-release")
def injunction_release(parcel: int, reference: str = typer.Option(..., "--reference"),
                       source_kind: str = typer.Option("court_order", "--source-kind"),
                       source_ref: str = SourceRef, source_date: str | None = SourceDate,
                       dossier: str | None = Dossier) -> None:
    """Lift an injunction."""
    result = _run(service.lift_injunction, parcel, reference,
                  _source(source_kind, source_ref, source_date), dossier_code=dossier)
    out.print(f"change #{result.change_id}: injunction {reference} lifted")


@app.command()
def split(parcel: int, cut_line: str = typer.Option(..., "--cut-line",
          help="WKT LINESTRING in the storage CRS crossing the parcel."),
          source_kind: str = SourceKind, source_ref: str = SourceRef,
          source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Split a parcel along a cutting line."""
    result = _run(spatial.split_parcel, parcel, _source(source_kind, source_ref, source_date),
                  cut_line_wkt=cut_line, dossier_code=dossier)
    change, children = result
    out.print(f"change #{change.change_id}: parcel {parcel} split into {children}")


@app.command()
def merge(parcels: list[int], allow_different_holders: bool = typer.Option(
          False, "--allow-different-holders"),
          source_kind: str = SourceKind, source_ref: str = SourceRef,
          source_date: str | None = SourceDate, dossier: str | None = Dossier) -> None:
    """Merge adjacent parcels of the same holders."""
    result = _run(spatial.merge_parcels, parcels, _source(source_kind, source_ref, source_date),
                  allow_different_holders=allow_different_holders, dossier_code=dossier)
    change, merged = result
    out.print(f"change #{change.change_id}: parcels {parcels} merged into {merged}")
