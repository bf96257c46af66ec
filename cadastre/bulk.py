"""Bulk loading with COPY (never row-by-row INSERTs) and id reservation for linked rows."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


class _CsvStream(io.TextIOBase):
    """The frame as CSV, produced a slice at a time as COPY reads it: the server parses and
    indexes one slice while the client formats the next, and memory stays bounded."""

    def __init__(self, frame: pd.DataFrame, rows: int) -> None:
        self.frame = frame
        self.rows = rows
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if self.position >= len(self.frame):
            return ""
        part = self.frame.iloc[self.position : self.position + self.rows]
        self.position += self.rows
        return str(part.to_csv(index=False, header=False, quoting=csv.QUOTE_NONNUMERIC))


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame, *, rows: int = 20_000) -> int:
    """COPY a DataFrame into ``table`` (columns named like the frame's), streamed in slices
    of ``rows``. NaN, None and empty strings become NULL."""
    if frame.empty:
        return 0
    columns = ", ".join(_identifier(str(c)) for c in frame.columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(
            f"COPY {_identifier(table)} ({columns}) FROM STDIN "
            f"WITH (FORMAT csv, FORCE_NULL ({columns}))",
            _CsvStream(frame, rows),
            size=1 << 20,
        )
    finally:
        cursor.close()
    return len(frame)


def reserve_ids(conn: Connection, table: str, column: str, count: int) -> list[int]:
    """Take ``count`` values from the identity sequence of ``table.column``."""
    if count == 0:
        return []
    rows = conn.execute(
        sa.text(
            "SELECT nextval(pg_get_serial_sequence(:t, :c)) FROM generate_series(1, :n)"
        ),
        {"t": _identifier(table), "c": _identifier(column), "n": count},
    )
    return [int(r[0]) for r in rows]


def reserve_from_sequence(conn: Connection, sequence: str, count: int) -> list[int]:
    if count == 0:
        return []
    rows = conn.execute(
        sa.text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
        {"s": _identifier(sequence), "n": count},
    )
    return [int(r[0]) for r in rows]
