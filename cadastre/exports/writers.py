"""Arrow record batches into files, one batch at a time.

GDAL formats go through ``pyogrio.raw.write_arrow`` with one record-batch reader: one
dataset, one layer, one transaction for a GeoPackage with its R-tree built at the end (what
ogr2ogr does), a FlatGeobuf with its packed Hilbert R-tree. GeoParquet is written by
pyarrow with the GeoParquet 1.0 metadata, one row group per ~100,000 rows.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyproj import CRS

from cadastre.exports.collections import Collection, Column
from cadastre.exports.errors import ExportTooLarge
from cadastre.exports.formats import Format
from cadastre.exports.stream import GEOMETRY, WKB_FIELD, arrow_schema

#: A shapefile's .shp and .dbf each stop at 2 GB (32-bit offsets in 16-bit words).
SHAPEFILE_PART_LIMIT = 2**31 - 1
SHAPEFILE_NAME_LENGTH = 10
SHAPEFILE_TEXT_WIDTH = 254
PARQUET_ROW_GROUP = 100_000
MAX_WARNINGS = 20
MAX_WARNING_LENGTH = 400
_WARNINGS = threading.Lock()


@dataclass
class Written:
    count: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if len(message) > MAX_WARNING_LENGTH:
            message = message[:MAX_WARNING_LENGTH - 1] + "…"
        if message not in self.warnings and len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)


def shapefile_names(names: Sequence[str]) -> dict[str, str]:
    """Field names cut to 10 characters, kept unique (``commune_code`` -> ``commune_co``; a
    second one cut the same way gets ``_1``, ``_2``, ...)."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        short = name[:SHAPEFILE_NAME_LENGTH]
        n = 0
        while short.lower() in taken:
            n += 1
            suffix = f"_{n}"
            short = name[:SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
        taken.add(short.lower())
        out[name] = short
    return out


def _dbf_record_bytes(columns: Sequence[Column]) -> int:
    """Bytes per .dbf record with the widths GDAL gives each type."""
    widths = {pa.int64(): 18, pa.int32(): 9, pa.float64(): 24, pa.date32(): 8}
    return 1 + sum(min(c.width or 80, SHAPEFILE_TEXT_WIDTH) if pa.types.is_string(c.type)
                   else widths.get(c.type, 24) for c in columns)


class _Batches:
    """The batches as a record-batch reader for GDAL, counting them and keeping the first
    exception they raised (GDAL reports a failed stream with a message of its own)."""

    def __init__(self, batches: Iterator[pa.RecordBatch], schema: pa.Schema,
                 written: Written) -> None:
        self.source = batches
        self.schema = schema
        self.written = written
        self.failure: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self.source:
                self.check(batch)
                self.written.count += batch.num_rows
                yield pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)
        except BaseException as exc:
            self.failure = exc
            raise

    def check(self, batch: pa.RecordBatch) -> None:
        """Hook for format limits, called before a batch is written."""

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, iter(self))


class _ShapefileBatches(_Batches):
    def __init__(self, batches: Iterator[pa.RecordBatch], schema: pa.Schema,
                 written: Written, columns: Sequence[Column]) -> None:
        super().__init__(batches, schema, written)
        self.record_bytes = _dbf_record_bytes(columns)
        self.shp_bytes = 100
        self.dbf_bytes = 32 + 32 * len(columns) + 1

    def check(self, batch: pa.RecordBatch) -> None:
        geometry = batch.column(batch.num_columns - 1)
        # a .shp record: 8-byte header, type, bounding box and counts (44), then 16 bytes a
        # point: about the WKB's size plus 40 bytes
        self.shp_bytes += int(pc.sum(pc.binary_length(geometry)).as_py() or 0)
        self.shp_bytes += 40 * batch.num_rows
        self.dbf_bytes += self.record_bytes * batch.num_rows
        if max(self.shp_bytes, self.dbf_bytes) > SHAPEFILE_PART_LIMIT:
            raise ExportTooLarge(
                f"the export does not fit a shapefile: its .shp or .dbf would pass 2 GB "
                f"after about {self.written.count + batch.num_rows:,} features",
                hint="use GeoPackage (--format gpkg) or FlatGeobuf, or narrow it with "
                "--commune or --bbox")


def _gdal_schema(columns: Sequence[Column], fmt: Format,
                 renamed: dict[str, str] | None) -> pa.Schema:
    fields = []
    for column in columns:
        f = pa.field((renamed or {}).get(column.name, column.name), column.type)
        if fmt.id == "shp" and pa.types.is_string(column.type):
            width = min(column.width or 80, SHAPEFILE_TEXT_WIDTH)
            f = f.with_metadata({b"GDAL:OGR:width": str(width).encode()})
        fields.append(f)
    return pa.schema([*fields, WKB_FIELD])


def write_gdal(batches: Iterator[pa.RecordBatch], path: Path, *, fmt: Format,
               collection: Collection, srid: int) -> Written:
    import pyogrio.raw

    written = Written()
    columns = collection.columns
    renamed = None
    if fmt.id == "shp":
        renamed = shapefile_names([c.name for c in columns])
        cut = [f"{k} -> {v}" for k, v in renamed.items() if k != v]
        if cut:
            written.warn("shapefile field names are cut to 10 characters (" + ", ".join(cut)
                         + "); GeoPackage (--format gpkg) keeps the full names, has no 2 GB "
                         "limit and no 254-byte limit on text")
    schema = _gdal_schema(columns, fmt, renamed)
    stream = (_ShapefileBatches(batches, schema, written, columns) if fmt.id == "shp"
              else _Batches(batches, schema, written))
    if fmt.driver == "GPKG":
        # GDAL commits a GeoPackage once per batch: no fsync each time. The file is written
        # in a scratch directory and moved into place only when complete, so a crash
        # leaves nothing to trust anyway. (A GDAL setting of the process: SQLite only.)
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    options = dict(fmt.layer_options)
    if fmt.id == "fgb" and collection.geometry_nullable:
        options["SPATIAL_INDEX"] = "NO"  # its packed R-tree has no place for empty rows
    # catch_warnings changes the process's warning filters: one writer at a time records
    with _WARNINGS, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pyogrio.raw.write_arrow(
                stream.reader(), str(path), layer=collection.layer, driver=fmt.driver,
                geometry_name=GEOMETRY, geometry_type=collection.geometry_type,
                crs=f"EPSG:{srid}", layer_options=options)
        except Exception:
            if stream.failure is not None:
                raise stream.failure from None
            raise
    for warning in caught:  # GDAL's warnings, raised by pyogrio (not other threads')
        if issubclass(warning.category, RuntimeWarning) and "pyogrio" in warning.filename:
            # a cut value is quoted whole: keep its start
            written.warn("GDAL: " + re.sub(r"'([^']{40})[^']+'", "'\\1…'", str(warning.message)))
    return written


def write_geoparquet(batches: Iterator[pa.RecordBatch], path: Path, *,
                     collection: Collection, srid: int) -> Written:
    written = Written()
    schema = arrow_schema(collection.columns)
    geometry_index = schema.get_field_index(GEOMETRY)
    geo = {
        "version": "1.0.0",
        "primary_column": GEOMETRY,
        "columns": {GEOMETRY: {
            "encoding": "WKB",
            "geometry_types": [collection.geometry_type],
            "crs": CRS.from_epsg(srid).to_json_dict(),
        }},
    }
    schema = schema.set(geometry_index, pa.field(GEOMETRY, pa.binary())).with_metadata(
        {b"geo": json.dumps(geo).encode()})
    pending: list[pa.RecordBatch] = []
    rows = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in batches:
            pending.append(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
            rows += batch.num_rows
            written.count += batch.num_rows
            if rows >= PARQUET_ROW_GROUP:
                writer.write_table(pa.Table.from_batches(pending, schema=schema))
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
    return written
