"""Bulk loading with COPY (never row-by-row INSERTs) and id reservation for linked rows."""

from __future__ import annotations

import csv
import io
import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis import wkb

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


class _CsvStream(io.RawIOBase):
    """The frame as CSV, produced a slice at a time by a background thread while COPY sends
    the previous slice: formatting (shapely's EWKB, Arrow's CSV writer, both without the
    GIL) overlaps with the server parsing, and memory stays bounded to a few slices."""

    _DONE = b""

    def __init__(self, frame: pd.DataFrame, rows: int, geometry: dict[str, int]) -> None:
        self.frame = frame
        self.rows = rows
        self.geometry = geometry
        self.slices: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=3)
        self.finished = False
        self.producer = threading.Thread(target=self._produce, daemon=True)
        self.producer.start()

    def readable(self) -> bool:
        return True

    def _produce(self) -> None:
        try:
            for start in range(0, len(self.frame), self.rows):
                self.slices.put(self._format(self.frame.iloc[start : start + self.rows]))
            self.slices.put(self._DONE)
        except BaseException as exc:  # handed to the reader, raised in COPY's thread
            self.slices.put(exc)

    def _format(self, part: pd.DataFrame) -> bytes:
        if self.geometry:
            part = part.copy()
            for column, srid in self.geometry.items():  # EWKB made per slice, not all at once
                if part[column].dtype == pd.ArrowDtype(pa.binary()):  # WKB in Arrow
                    part[column] = pd.arrays.ArrowExtensionArray(
                        wkb.ewkb_hex_arrow(pa.array(part[column]), srid))
                    continue
                values = part[column].to_numpy(dtype=object)
                first = next((v for v in values if v is not None), None)
                if isinstance(first, bytes):  # WKB: decoded a slice at a time
                    values = shapely.from_wkb(values)
                part[column] = shapely.to_wkb(shapely.set_srid(values, srid), hex=True,
                                              include_srid=True)
        try:  # Arrow's CSV writer is about twice as fast as pandas'
            table = pa.Table.from_pandas(part, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            text = part.to_csv(index=False, header=False, quoting=csv.QUOTE_NONNUMERIC)
            return str(text).encode()
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
        return buffer.getvalue()

    def read(self, size: int | None = -1) -> bytes:
        if self.finished:
            return self._DONE
        item = self.slices.get()
        if isinstance(item, BaseException):
            self.finished = True
            raise item
        self.finished = item == self._DONE
        return item

    def drain(self) -> None:
        """Let the producer finish when COPY stopped early (an error on the server)."""
        self.finished = True
        while self.producer.is_alive():
            try:
                self.slices.get(timeout=0.1)
            except queue.Empty:
                continue


def copy_frame(
    conn: Connection, table: str, frame: pd.DataFrame, *, rows: int = 20_000,
    geometry: dict[str, int] | None = None,
) -> int:
    """COPY a DataFrame into ``table`` (columns named like the frame's), streamed in slices
    of ``rows``. NaN, None and empty strings become NULL. ``geometry`` names columns of
    shapely geometries or of WKB (decoded a slice at a time) to send as EWKB with the given
    SRID."""
    if frame.empty:
        return 0
    columns = ", ".join(_identifier(str(c)) for c in frame.columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    stream = _CsvStream(frame, rows, geometry or {})
    try:
        cursor.copy_expert(
            f"COPY {_identifier(table)} ({columns}) FROM STDIN "
            f"WITH (FORMAT csv, FORCE_NULL ({columns}))",
            stream,
            size=1 << 20,
        )
    finally:
        stream.drain()
        cursor.close()
    return len(frame)


def _reserved(conn: Connection, sequence_sql: str, params: dict[str, object],
              count: int) -> np.ndarray:
    """The ids taken by ``reserve_ids()``: a contiguous block (a bulk load holding the
    table's lock) comes back as its two ends, not as ``count`` rows."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    first = conn.execute(sa.text(f"SELECT reserve_id_block({sequence_sql}, :n)"),
                         {**params, "n": count}).scalar_one()
    if first is not None:
        return np.arange(int(first), int(first) + count, dtype=np.int64)
    ids = conn.execute(sa.text(f"SELECT array_agg(id) FROM reserve_ids({sequence_sql}, :n)"),
                       {**params, "n": count}).scalar_one()
    return np.asarray(ids, dtype=np.int64)


def reserve_ids(conn: Connection, table: str, column: str, count: int) -> np.ndarray:
    """Take ``count`` values from the identity sequence of ``table.column``."""
    return _reserved(conn, "CAST(pg_get_serial_sequence(:t, :c) AS regclass)",
                     {"t": _identifier(table), "c": _identifier(column)}, count)


def reserve_from_sequence(conn: Connection, sequence: str, count: int) -> np.ndarray:
    return _reserved(conn, "CAST(:s AS regclass)", {"s": _identifier(sequence)}, count)


@dataclass(frozen=True, slots=True)
class _Deferred:
    table: str
    name: str
    definition: str
    kind: str  # "key" (primary / unique) | "index" | "foreign key" | "trigger"


_DEFERRABLE = r"""
    SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), 'index'
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class c ON c.oid = x.indrelid
    WHERE c.relname = ANY(:t) AND c.relnamespace = 'public'::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
    UNION ALL
    SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), 'key'
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    WHERE c.relname = ANY(:t) AND c.relnamespace = 'public'::regnamespace
      AND k.contype IN ('p', 'u')
    UNION ALL
    SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), 'foreign key'
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_class r ON r.oid = k.confrelid
    WHERE (c.relname = ANY(:t) OR r.relname = ANY(:t))
      AND c.relnamespace = 'public'::regnamespace AND k.contype = 'f'
    UNION ALL
    SELECT c.relname, g.tgname, substring(pg_get_triggerdef(g.oid)
                                          FROM 'check_version_overlap\(''([^'']+)''\)'),
           'trigger'
    FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
    WHERE c.relname = ANY(:t) AND c.relnamespace = 'public'::regnamespace
      AND NOT g.tgisinternal AND g.tgfoid = 'check_version_overlap'::regproc
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                  AND a.attname = 'begun_by' AND NOT a.attisdropped)
    ORDER BY 4, 1, 2"""


def _audited(conn: Connection, tables: list[str]) -> dict[str, bool]:
    """The tables with an audit row trigger, and whether each has versions (``ended_by``)."""
    rows = conn.execute(sa.text(
        "SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid "
        "AND a.attname = 'ended_by' AND NOT a.attisdropped) FROM pg_trigger g "
        "JOIN pg_class c ON c.oid = g.tgrelid WHERE g.tgname = 'audit_row' "
        "AND c.relname = ANY(:t) AND c.relnamespace = 'public'::regnamespace ORDER BY 1"),
        {"t": tables}).all()
    return {str(name): bool(versioned) for name, versioned in rows}


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(sa.text(f"SELECT count(*) FROM {_identifier(table)}")).scalar_one())


@contextmanager
def integrity_rebuilt_after(conn: Connection, tables: list[str], *,
                            change_id: int) -> Iterator[int]:
    """For a load that is large compared with the tables: drop their keys, secondary indexes
    and foreign keys (also those of other tables pointing at them) and set aside their
    version-overlap triggers; let the caller COPY rows begun by change ``change_id``; then
    rebuild every key and index (sorted bulk builds instead of one insertion per row),
    re-add every foreign key (validated over all rows in one join) and run the overlap
    check over the new versions in one query. Uniqueness, references, history and CHECK
    constraints hold exactly as before; the price is an ACCESS EXCLUSIVE lock on the tables
    until the transaction ends. The audit row triggers are set aside too: the audit log gets
    one row per table saying how many rows the change began and ended there. Yields the
    number of structures deferred. Runs inside the caller's transaction: a failure rolls it
    all back."""
    deferred = [_Deferred(str(t), str(n), str(d), str(k))
                for t, n, d, k in conn.execute(sa.text(_DEFERRABLE), {"t": tables}).all()]
    conn.execute(sa.text("SET LOCAL maintenance_work_mem = '1GB'"))
    locked = sorted({item.table for item in deferred} | set(tables))
    names = ", ".join(_identifier(t) for t in locked)
    conn.execute(sa.text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    for kind in ("foreign key", "key"):
        for item in deferred:
            if item.kind == kind:
                conn.execute(sa.text(
                    f'ALTER TABLE {_identifier(item.table)} DROP CONSTRAINT "{item.name}"'))
    for item in deferred:
        if item.kind == "index":
            conn.execute(sa.text(f'DROP INDEX "{item.name}"'))
        elif item.kind == "trigger":
            conn.execute(sa.text(
                f'ALTER TABLE {_identifier(item.table)} DISABLE TRIGGER "{item.name}"'))
    audited = _audited(conn, tables)
    rows_before = {t: _count(conn, t) for t in audited}
    for table in audited:
        conn.execute(sa.text(f"ALTER TABLE {_identifier(table)} DISABLE TRIGGER audit_row"))
    yield len(deferred)
    for table in audited:
        conn.execute(sa.text(f"ALTER TABLE {_identifier(table)} ENABLE TRIGGER audit_row"))
        ended = conn.execute(sa.text(
            f"SELECT count(*) FROM {_identifier(table)} WHERE ended_by = :c"),
            {"c": change_id}).scalar_one() if audited[table] else 0
        conn.execute(sa.text("SELECT audit_bulk_insert(:t, :c, :n, :e)"),
                     {"t": table, "c": change_id, "n": _count(conn, table) - rows_before[table],
                      "e": ended})
    for item in deferred:
        if item.kind == "key":
            conn.execute(sa.text(
                f'ALTER TABLE {_identifier(item.table)} ADD CONSTRAINT "{item.name}" '
                f"{item.definition}"))
    for item in deferred:
        if item.kind == "index":
            conn.execute(sa.text(item.definition))
    for item in deferred:
        if item.kind == "foreign key":
            conn.execute(sa.text(
                f'ALTER TABLE {_identifier(item.table)} ADD CONSTRAINT "{item.name}" '
                f"{item.definition}"))
        elif item.kind == "trigger":
            conn.execute(sa.text(
                f'ALTER TABLE {_identifier(item.table)} ENABLE TRIGGER "{item.name}"'))
            conn.execute(sa.text("SELECT check_versions_begun_by(CAST(:t AS regclass), :k, :c)"),
                         {"t": _identifier(item.table), "k": item.definition, "c": change_id})
