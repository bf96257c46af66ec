"""Rows out of PostGIS as Arrow record batches, in bounded memory.

``COPY (query) TO STDOUT (FORMAT csv)`` runs on a thread and writes into a pipe; Arrow's
streaming CSV reader parses it block by block on its own threads, and the geometry (hex of
``ST_AsBinary``, computed by PostGIS) is turned into WKB with numpy. The server computes
the next rows while the caller writes the previous batch, so the database, the parser and
the writer overlap; memory holds a few blocks, whatever the size of the export.

This was measured against a server-side cursor (psycopg2 ``fetchmany`` of 50,000 rows then
``pa.array``): 1,000,000 parcels took 29 s that way and 10 s this way (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from cadastre.exports.collections import Column

#: Arrow's CSV block: about 2,500 parcels (geometry as hex) per batch. Small batches keep
#: the rows flowing: pyogrio holds the GIL while GDAL writes a batch, and the COPY thread
#: needs it to take the next rows off the socket (8 MB blocks measured 15-25 % slower).
BLOCK_BYTES = 1 << 20
PIPE_BUFFER = 1 << 20
GEOMETRY = "geometry"
#: The geometry column: WKB, tagged so that GDAL and GeoParquet readers know it.
WKB_FIELD = pa.field(GEOMETRY, pa.binary(), metadata={b"ARROW:extension:name": b"ogc.wkb"})

_HEX = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in columns] + [WKB_FIELD])


def unhex(column: pa.Array) -> pa.Array:
    """Lower-case hex (a string or binary array) to binary, vectorised: every value has an
    even length, so the concatenated characters pair up and the offsets halve."""
    if column.offset:
        column = pa.concat_arrays([column])  # a copy starting at offset 0
    validity, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=len(column) + 1)
    start, end = int(offsets[0]), int(offsets[-1])
    if data_buffer is None or end == start:
        chars = np.zeros(0, dtype=np.uint8)
    else:
        chars = np.frombuffer(data_buffer, dtype=np.uint8)[start:end]
    wkb = (_HEX[chars[0::2]] << 4) | _HEX[chars[1::2]]
    halves = ((offsets - start) // 2).astype(np.int32)
    return pa.Array.from_buffers(pa.binary(), len(column),
                                 [validity, pa.py_buffer(halves), pa.py_buffer(wkb)],
                                 null_count=column.null_count)


class _Copy:
    """COPY TO STDOUT on a thread, into the write end of a pipe."""

    def __init__(self, dbapi_connection: Any, sql: str) -> None:
        self.connection = dbapi_connection
        self.sql = sql
        self.failure: BaseException | None = None
        read_fd, write_fd = os.pipe()
        self.source = os.fdopen(read_fd, "rb")
        self._sink_fd = write_fd
        self.thread = threading.Thread(target=self._run, name="export-copy", daemon=True)

    def _run(self) -> None:
        try:
            with os.fdopen(self._sink_fd, "wb", buffering=PIPE_BUFFER) as sink:
                cursor = self.connection.cursor()
                try:
                    cursor.copy_expert(
                        f"COPY ({self.sql}) TO STDOUT WITH (FORMAT csv, HEADER true)", sink)
                finally:
                    cursor.close()
        except BaseException as exc:  # handed to the reading side
            self.failure = exc

    def stop(self) -> None:
        """Stop early (the writer failed or the caller gave up): cancel the query, unblock
        the thread and wait for it."""
        if self.thread.is_alive():
            self.connection.cancel()
            self.source.close()
            self.thread.join()
        self.source.close()


def batches(dbapi_connection: Any, sql: str, columns: Sequence[Column], *,
            progress: Callable[[int], None] | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` (its columns in ``columns`` order, then the geometry as hex WKB)
    as record batches of ``arrow_schema(columns)``."""
    schema = arrow_schema(columns)
    names = [c.name for c in columns] + [GEOMETRY]
    # the hex is ASCII: read as bytes, Arrow does not validate 800 MB of it as UTF-8
    types = {c.name: c.type for c in columns} | {GEOMETRY: pa.binary()}
    copy = _Copy(dbapi_connection, sql)
    copy.thread.start()
    done = 0
    finished = False
    try:
        reader = pacsv.open_csv(
            pa.PythonFile(copy.source, mode="r"),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1,
                                           block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=False))
        for batch in reader:
            if batch.num_rows == 0:
                continue
            columns_out = [*batch.columns[:-1], unhex(batch.column(len(names) - 1))]
            yield pa.RecordBatch.from_arrays(columns_out, schema=schema)
            done += batch.num_rows
            if progress is not None:
                progress(done)
        finished = True
    except pa.ArrowInvalid:
        copy.thread.join()
        if copy.failure is not None:
            raise copy.failure from None
        raise
    finally:
        if not finished:
            copy.stop()
    copy.thread.join()
    copy.source.close()
    if copy.failure is not None:
        raise copy.failure
