"""`cadastre import`: legacy cadastral files and registers into the register.

The CLI is the composition root: this module calls the importers' single public entry point
(`importers.pipeline.run_import`), see docs/architecture.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from cadastre.cli.context import cli_engine, load_settings
from cadastre.db import translate_connection_errors
from cadastre.errors import CadastreError, InvalidInput

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def import_command(
    path: Path | None = typer.Argument(None, help="File, directory, .zip or .tar of sheets."),
    profile: str = typer.Option("auto", "--profile", help="Field-mapping profile or 'auto'."),
    province: str | None = typer.Option(
        None, "--province", help="Province code or name (old or current) for files without .prj."),
    srid: int | None = typer.Option(None, "--srid", help="EPSG code of the source coordinates."),
    encoding: str = typer.Option(
        "auto", "--encoding", help="Text encoding: auto, tcvn3, vni, cp1258, utf-8."),
    commune: str | None = typer.Option(
        None, "--commune", help="Commune code for files without a commune column."),
    sheet: str | None = typer.Option(
        None, "--sheet", help="Map sheet number for a file holding one sheet (drawings)."),
    kind: str = typer.Option("parcels", "--kind", help="parcels (maps) or register (XLSX/CSV)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report, write nothing."),
    on_error: str = typer.Option(
        "quarantine", "--on-error", help="quarantine (load the rest) or abort (load nothing)."),
    force: bool = typer.Option(False, "--force", help="Import again a file already imported."),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Record the import even when every feature is "
        "rejected (all quarantined); without it such an import fails and writes nothing."),
    repair: bool = typer.Option(
        False, "--repair", help="Repair invalid polygons (recorded as repaired)."),
    land_use_codes: str = typer.Option(
        "map", "--land-use-codes", help="Codes of older lists (BHK, 2L, NĐ ...): map (to "
        "today's, reported) or strict (quarantined: a new survey under TT 08/2024)."),
    area_tolerance: float = typer.Option(
        0.05, "--area-tolerance", help="Allowed relative gap, recorded vs computed area."),
    overlap_tolerance: float = typer.Option(
        0.05, "--overlap-tolerance", help="Overlap area (m²) tolerated between parcels."),
    report_file: Path | None = typer.Option(
        None, "--report", help="Write the JSON report to this file."),
    history: bool = typer.Option(False, "--history", help="List past imports and stop."),
) -> None:
    """Import legacy cadastral maps (Shapefile, MapInfo, GeoPackage, GeoJSON, GML, FileGDB,
    DXF, DGN, EDIGEO; zips and directories of sheets) or registers, all or nothing."""
    from cadastre import memory
    from importers.pipeline import ImportOptions, run_import

    memory.limit_arenas()  # before the import's worker threads exist
    settings = load_settings()
    engine = cli_engine(settings)
    if history:
        _history(engine)
        return
    if path is None:
        raise InvalidInput("give the PATH to import (or --history)")
    if kind not in ("parcels", "register"):
        raise InvalidInput(f"--kind must be parcels or register, not {kind!r}")
    options = ImportOptions(
        kind=kind, profile=profile, province=province, srid=srid, encoding=encoding,
        commune=commune, sheet=sheet, dry_run=dry_run, on_error=on_error, force=force,
        allow_empty=allow_empty, repair=repair, area_tolerance=area_tolerance,
        overlap_tolerance=overlap_tolerance, land_use_codes=land_use_codes)
    quiet = not sys.stderr.isatty()
    try:
        with translate_connection_errors(engine.url):
            if quiet:
                report = run_import(engine, path, options)
            else:
                with err.status("importing…") as status:
                    report = run_import(engine, path, options,
                                        progress=lambda m: status.update(m))
    except CadastreError as exc:
        partial = exc.context.get("report")
        if partial is not None:
            for line in partial.summary():
                err.print(line)
            if report_file:
                report_file.write_text(json.dumps(partial.to_json(), ensure_ascii=False,
                                                  indent=2, default=str))
        raise
    for line in report.summary():
        out.print(line)
    if report_file:
        report_file.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2,
                                          default=str))


def _history(engine: Engine) -> None:
    import sqlalchemy as sa

    with translate_connection_errors(engine.url), engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, kind, finished_at, source_path, profile, encoding, counts, recorded_by "
            "FROM import_run ORDER BY id")).all()
    table = Table(title="imports")
    wide = out if out.is_terminal else Console(highlight=False, width=200)
    for column in ("#", "kind", "finished", "source", "profile", "encoding", "loaded",
                   "quarantined", "by"):
        table.add_column(column)
    for r in rows:
        counts = r.counts or {}
        loaded = counts.get("parcel_versions_begun", counts.get("rights", 0))
        table.add_row(str(r.id), r.kind, r.finished_at.isoformat(timespec="seconds"),
                      Path(r.source_path).name, r.profile or "", r.encoding or "", f"{loaded:,}",
                      f"{counts.get('quarantined', counts.get('unmatched_rows', 0)):,}",
                      r.recorded_by)
    wide.print(table)
