"""`cadastre export`: a collection of the register into a GIS file, recorded as who exported
what (`export_job`)."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from cadastre.cli.context import load_settings
from cadastre.db import create_engine, translate_connection_errors
from cadastre.errors import InvalidInput

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def export_command(
    collection: str = typer.Option(
        "parcels", "--collection", "-c",
        help="parcels, land-use-purposes, map-sheets or admin-units."),
    format: str | None = typer.Option(
        None, "--format", "-f",
        help="gpkg, shp, fgb, geojson, geoparquet or csv (default: from --out's suffix)."),
    crs: str | None = typer.Option(
        None, "--crs", help="Output CRS, EPSG:N (default: the register's; WGS 84 for geojson)."),
    commune: str | None = typer.Option(None, "--commune", help="Only this commune code."),
    bbox: str | None = typer.Option(
        None, "--bbox", help="minx,miny,maxx,maxy in the output CRS (or --bbox-crs)."),
    bbox_crs: str | None = typer.Option(None, "--bbox-crs", help="CRS of --bbox, EPSG:N."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="The register on a past day (end of that day) or instant."),
    output: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (.zip for shp or csv with their sidecars)."),
    by: str | None = typer.Option(
        None, "--by", help="Who the export is for (recorded; default: the OS user)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    history: bool = typer.Option(False, "--history", help="List past exports and stop."),
) -> None:
    """Export parcels, land-use purposes, map sheets or administrative units to GeoPackage,
    Shapefile, FlatGeobuf, GeoJSON, GeoParquet or CSV, streamed in bounded memory. No
    personal data is ever exported."""
    from cadastre.exports.service import count_features, prepare, run_export

    settings = load_settings()
    engine = create_engine(settings)
    if history:
        _history(engine)
        return
    if output is None:
        raise InvalidInput("give the output file with --out (or --history)")
    with translate_connection_errors(engine.url):
        with engine.connect() as conn:
            request = prepare(conn, collection=collection, format=format or _format_of(output),
                              crs=crs, commune=commune, bbox=bbox, bbox_crs=bbox_crs,
                              as_of=as_of)
            total = count_features(conn, request) if err.is_terminal else None
        requested_by = by or getpass.getuser()
        if total is None:
            result = run_export(engine, request, output, requested_by=requested_by,
                                overwrite=overwrite)
        else:
            with Progress(TextColumn("exporting {task.description}"), BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                          transient=True) as bar:
                task = bar.add_task(request.collection.noun, total=total)
                result = run_export(engine, request, output, requested_by=requested_by,
                                    overwrite=overwrite,
                                    progress=lambda done: bar.update(task, completed=done))
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    names = ", ".join(p.name for p in result.files)
    out.print(f"exported {result.count:,} {request.collection.noun} ({request.describe()}) to "
              f"{names}: {result.bytes / 1e6:,.1f} MB in {result.seconds:.1f} s "
              f"(export #{result.job_id}, by {requested_by})")


def _format_of(path: Path) -> str:
    from cadastre.exports.formats import FORMATS

    suffix = path.suffix.lower()
    matches = [f.id for f in FORMATS.values() if suffix in f.suffixes and suffix != ".zip"]
    if not matches:
        raise InvalidInput(f"cannot tell the format of {path.name}",
                           hint="give --format (" + ", ".join(FORMATS) + ")")
    return matches[0]


def _history(engine: Engine) -> None:
    from cadastre.exports import jobs

    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = jobs.recent(conn, limit=200)
    if not rows:
        out.print("no exports yet")
        return
    table = Table(title="exports")
    wide = out if out.is_terminal else Console(highlight=False, width=200)
    for column in ("#", "when", "by", "via", "collection", "format", "crs", "filters",
                   "features", "status"):
        table.add_column(column)
    for r in reversed(rows):
        filters = ", ".join(f"{k} {v}" for k, v in (r["filters"] or {}).items())
        count = "" if r["feature_count"] is None else f"{r['feature_count']:,}"
        table.add_row(str(r["id"]), r["created_at"].isoformat(timespec="seconds"),
                      r["requested_by"], r["channel"], r["collection"], r["format"], r["crs"],
                      filters, count, r["status"] if not r["error"] else
                      f"{r['status']}: {r['error']}")
    wide.print(table)
