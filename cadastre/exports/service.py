"""Bulk exports: what may be asked for, the query, and the file.

``prepare`` checks a request (collection, format, CRS, filters) against the database;
``write_export`` streams it into a file inside the caller's transaction; ``run_export`` (the
command line) does the same with the record of who exported what (``export_job``). The API
queues the same requests as background jobs (cadastre.exports.runner).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cadastre.access import Role
from cadastre.errors import CadastreError, InvalidInput
from cadastre.exports import jobs
from cadastre.exports.collections import COLLECTIONS, Collection
from cadastre.exports.errors import (
    ExportNeedsApproval,
    UnknownCollection,
    UnknownCrs,
    UnknownFormat,
)
from cadastre.exports.filters import (
    Filters,
    check_bbox,
    check_commune,
    check_crs,
    crs_name,
    parse_as_of,
    parse_bbox,
    parse_srid,
)
from cadastre.exports.formats import FORMATS, Format
from cadastre.exports.stream import batches
from cadastre.exports.writers import Written, write_gdal, write_geoparquet
from cadastre.migrations import storage_srid as read_storage_srid

#: An export is one long COPY; the connection's usual statement timeout is for requests.
EXPORT_STATEMENT_TIMEOUT = "2h"
#: Roles that may export more than the approval threshold (and so approve by exporting).
APPROVERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
EXPORT_ROLES = frozenset({Role.GIS_ANALYST, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class ExportRequest:
    collection: Collection
    format: Format
    srid: int
    storage_srid: int
    filters: Filters = field(default_factory=Filters)

    @property
    def crs(self) -> str:
        return f"EPSG:{self.srid}"

    def describe(self) -> str:
        parts = [f"{self.collection.id} as {self.format.title}, {crs_name(self.srid)}"]
        if self.filters.commune:
            parts.append(f"commune {self.filters.commune}")
        if self.filters.bbox:
            parts.append(f"bbox {','.join(f'{v:g}' for v in self.filters.bbox)}")
        if self.filters.as_of:
            parts.append(f"as of {self.filters.as_of.isoformat(timespec='seconds')}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ExportResult:
    count: int
    bytes: int
    files: tuple[Path, ...]
    warnings: tuple[str, ...]
    seconds: float
    job_id: int | None = None


def prepare(conn: Connection, *, collection: str, format: str, crs: str | None = None,
            commune: str | None = None, bbox: str | Sequence[float] | None = None,
            bbox_crs: str | None = None, as_of: str | date | datetime | None = None
            ) -> ExportRequest:
    """A checked request. The CRS defaults to the register's (WGS 84 for GeoJSON); the bbox
    is in the export's CRS unless ``bbox_crs`` says otherwise."""
    chosen = COLLECTIONS.get(collection)
    if chosen is None:
        raise UnknownCollection(f"unknown collection {collection!r}",
                                hint="one of " + ", ".join(COLLECTIONS))
    fmt = FORMATS.get(format.lower())
    if fmt is None:
        raise UnknownFormat(f"unknown export format {format!r}", hint="one of "
                            + ", ".join(FORMATS))
    storage = read_storage_srid(conn)
    srid = parse_srid(crs) if crs else (fmt.only_srid or storage)
    if fmt.only_srid is not None and srid != fmt.only_srid:
        raise UnknownCrs(
            f"{fmt.title} is always WGS 84 longitude/latitude (EPSG:{fmt.only_srid}), not "
            f"{crs_name(srid)}",
            hint=f"leave the CRS out for {fmt.id}, or use gpkg or fgb for {crs_name(srid)}")
    _check_known(conn, srid, storage)
    box, box_srid = None, None
    if bbox is not None and (not isinstance(bbox, str) or bbox.strip()):
        box = parse_bbox(bbox)
        box_srid = parse_srid(bbox_crs) if bbox_crs else srid
        if box_srid != srid:
            _check_known(conn, box_srid, storage)
        check_bbox(box, box_srid, storage)
    filters = Filters(
        commune=check_commune(commune) if commune else None,
        bbox=box, bbox_srid=box_srid,
        as_of=parse_as_of(as_of) if as_of else None)
    return ExportRequest(chosen, fmt, srid, storage, filters)


def _check_known(conn: Connection, srid: int, storage: int) -> None:
    known = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE "
                                 "srid = :s)"), {"s": srid}).scalar_one()
    check_crs(srid, storage, known_to_postgis=bool(known))


def request_from_job(conn: Connection, job: dict[str, Any]) -> ExportRequest:
    """The request a job recorded (checked again: the database may have changed)."""
    filters = job["filters"] or {}
    return prepare(conn, collection=job["collection"], format=job["format"], crs=job["crs"],
                   commune=filters.get("commune"), bbox=filters.get("bbox"),
                   bbox_crs=filters.get("bbox_crs"), as_of=filters.get("as_of"))


def _query(request: ExportRequest, *, count: bool = False, raw_geometry: bool = False
           ) -> tuple[str, dict[str, Any]]:
    """The SELECT (psycopg2 placeholders) and its parameters."""
    c, f = request.collection, request.filters
    params: dict[str, Any] = {}
    conditions = []
    if f.as_of is not None:
        source = c.from_as_of
        params["as_of"] = f.as_of
    else:
        source = c.from_current
    if f.commune is not None:
        conditions.append(c.commune)
        params["commune"] = f.commune
    if f.bbox is not None:
        conditions.append(
            f"ST_Intersects({c.geometry}, ST_Transform(ST_MakeEnvelope(%(x0)s, %(y0)s, "
            f"%(x1)s, %(y1)s, %(bbox_srid)s), {request.storage_srid:d}))")
        params.update(zip(("x0", "y0", "x1", "y1"), f.bbox, strict=True))
        params["bbox_srid"] = f.bbox_srid
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    if count:
        return f"SELECT count(*) FROM {source}{where}", params
    geometry = c.geometry
    if request.srid != request.storage_srid:
        geometry = f"ST_Transform({geometry}, {request.srid:d})"
    if not raw_geometry:
        geometry = f"encode(ST_AsBinary({geometry}), 'hex')"
    columns = ", ".join(f"{col.sql} AS {col.name}" for col in c.columns)
    return f"SELECT {columns}, {geometry} AS geometry FROM {source}{where}", params


def _bind(conn: Connection, sql: str, params: dict[str, Any]) -> str:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        return str(cursor.mogrify(sql, params).decode())
    finally:
        cursor.close()


def select_sql(conn: Connection, request: ExportRequest, *, raw_geometry: bool = False
               ) -> str:
    """The export's SELECT with its values bound. ``raw_geometry``: the geometry column
    itself rather than its WKB in hex (what a GDAL reader such as ogr2ogr -sql wants)."""
    return _bind(conn, *_query(request, raw_geometry=raw_geometry))


def count_features(conn: Connection, request: ExportRequest) -> int:
    sql = _bind(conn, *_query(request, count=True))
    return int(conn.exec_driver_sql(sql).scalar_one())


def check_size(role: Role, features: int, limit: int) -> None:
    """Analysts export up to ``limit`` features a job; more takes a supervisor's approval,
    given by a supervisor (or an admin) running the export."""
    if role in APPROVERS or features <= limit:
        return
    raise ExportNeedsApproval(
        f"this export holds {features:,} features; the {role.value} role may export up to "
        f"{limit:,} without approval",
        hint="narrow it (commune, bbox) or ask a supervisor to run it")


def _output_paths(out_path: Path, request: ExportRequest) -> tuple[bool, str]:
    """Whether the output is a zip, and the name of the main file GDAL writes."""
    fmt = request.format
    suffix = out_path.suffix.lower()
    if suffix not in fmt.suffixes:
        raise InvalidInput(f"{out_path.name}: a {fmt.title} export is written to "
                           + " or ".join(fmt.suffixes), hint="change --out or --format")
    zipped = suffix == ".zip"
    native = next(s for s in fmt.suffixes if s != ".zip")
    return zipped, (request.collection.layer + native if zipped else out_path.name)


def check_target(out_path: Path, request: ExportRequest, *, overwrite: bool = False) -> None:
    """The output file suits the format and may be written (before any work is done)."""
    _output_paths(out_path, request)
    if out_path.exists() and not overwrite:
        raise InvalidInput(f"{out_path} exists", hint="use --overwrite to replace it")


def write_export(conn: Connection, request: ExportRequest, out_path: Path, *,
                 overwrite: bool = False, progress: Callable[[int], None] | None = None
                 ) -> ExportResult:
    """Stream the export into ``out_path`` (and its sidecar files), inside the caller's
    transaction. Nothing is left behind on failure; an existing file is replaced only when
    ``overwrite`` and only once the new one is complete."""
    started = time.perf_counter()
    check_target(out_path, request, overwrite=overwrite)
    zipped, main_name = _output_paths(out_path, request)
    out_path = out_path.resolve()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    work = out_path.parent / f".{out_path.name}.{uuid.uuid4().hex[:8]}.part"
    work.mkdir()
    try:
        conn.execute(sa.text(f"SET LOCAL statement_timeout = '{EXPORT_STATEMENT_TIMEOUT}'"))
        sql = select_sql(conn, request)
        rows = batches(conn.connection.dbapi_connection, sql, request.collection.columns,
                       progress=progress)
        target = work / main_name
        written = _write(rows, target, request)
        finals = sorted(_place(work, out_path, zipped=zipped, overwrite=overwrite),
                        key=lambda p: p != out_path)  # the main file first
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if written.count == 0:
        written.warn("no features matched: the file holds an empty layer")
    return ExportResult(
        count=written.count, bytes=sum(p.stat().st_size for p in finals), files=tuple(finals),
        warnings=tuple(written.warnings), seconds=time.perf_counter() - started)


def _write(rows: Any, target: Path, request: ExportRequest) -> Written:
    try:
        if request.format.driver is None:
            return write_geoparquet(rows, target, collection=request.collection,
                                    srid=request.srid)
        return write_gdal(rows, target, fmt=request.format, collection=request.collection,
                          srid=request.srid)
    finally:
        rows.close()  # stop the COPY if the writer gave up early


def _place(work: Path, out_path: Path, *, zipped: bool, overwrite: bool) -> list[Path]:
    files = sorted(p for p in work.iterdir() if p.is_file())
    if zipped:
        targets = [out_path]
    else:
        targets = [out_path.with_name(out_path.stem + p.suffix) if p.suffix else
                   out_path.parent / p.name for p in files]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise InvalidInput(f"{existing[0]} exists", hint="use --overwrite to replace it")
    if zipped:
        partial = work / "export.zip.part"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED,
                             compresslevel=1) as archive:
            for path in files:
                archive.write(path, arcname=path.name)
        os.replace(partial, out_path)
        return [out_path]
    for source, target in zip(files, targets, strict=True):
        os.replace(source, target)
    return targets


def run_export(engine: Engine, request: ExportRequest, out_path: Path, *, requested_by: str,
               overwrite: bool = False, progress: Callable[[int], None] | None = None
               ) -> ExportResult:
    """An export from the command line, recorded in ``export_job`` (who, what, where, how
    many, and how it ended)."""
    check_target(out_path, request, overwrite=overwrite)
    with engine.begin() as conn:
        job_id = jobs.create(conn, request, requested_by=requested_by, channel="cli",
                             status="running", file_path=str(out_path.resolve()))
    try:
        with engine.begin() as conn:
            result = write_export(conn, request, out_path, overwrite=overwrite,
                                  progress=progress)
    except CadastreError as exc:
        _record_failure(engine, job_id, exc.message)
        raise
    except BaseException as exc:
        _record_failure(engine, job_id, "interrupted" if isinstance(exc, KeyboardInterrupt)
                        else f"failed: {type(exc).__name__}")
        raise
    with engine.begin() as conn:
        jobs.finish(conn, job_id, result.count, result.bytes, list(result.warnings),
                    str(result.files[0]))
    return replace(result, job_id=job_id)


def _record_failure(engine: Engine, job_id: int, message: str) -> None:
    try:
        with engine.begin() as conn:
            jobs.fail(conn, job_id, message)
    except sa.exc.SQLAlchemyError:  # the database went away: the error itself matters more
        pass
