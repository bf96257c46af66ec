"""Integrity checks of a source's files before GDAL opens them: a shapefile's parts and
record counts, a DXF drawing's end. A damaged file gets a clear message instead of GDAL's
(or, for a DXF cut short, instead of GDAL reading forever)."""

from __future__ import annotations

import struct
from pathlib import Path

from cadastre.errors import ImportSourceError


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def check_shapefile(path: Path, shown: str) -> None:
    """A shapefile needs its .shx and .dbf, untruncated, with the same record counts."""
    shx = _sibling(path, ".shx")
    dbf = _sibling(path, ".dbf")
    if shx is None:
        raise ImportSourceError(
            f"{shown}: the .shx index file is missing (a shapefile is .shp + .shx + .dbf)")
    if dbf is None:
        raise ImportSourceError(
            f"{shown}: the .dbf attribute file is missing (a shapefile is .shp + .shx + .dbf)")
    shp_size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or struct.unpack(">i", header[:4])[0] != 9994:
        raise ImportSourceError(f"{shown}: not a shapefile (bad header)")
    declared = struct.unpack(">i", header[24:28])[0] * 2
    if shp_size < declared:
        raise ImportSourceError(
            f"{shown}: truncated: the header says {declared:,} bytes, the file has "
            f"{shp_size:,}")
    shx_records = (shx.stat().st_size - 100) // 8
    with dbf.open("rb") as handle:
        dbf_header = handle.read(32)
    if len(dbf_header) < 32:
        raise ImportSourceError(f"{shown}: the .dbf file is truncated")
    dbf_records = struct.unpack("<I", dbf_header[4:8])[0]
    header_len, record_len = struct.unpack("<HH", dbf_header[8:12])
    if dbf.stat().st_size < header_len + dbf_records * record_len:
        raise ImportSourceError(
            f"{shown}: the .dbf file is truncated ({dbf_records:,} records declared)")
    if shx_records != dbf_records:
        raise ImportSourceError(
            f"{shown}: the .shx lists {shx_records:,} shapes but the .dbf holds "
            f"{dbf_records:,} records: the files do not belong together")


def check_dxf(path: Path, shown: str) -> None:
    """A DXF file ends with the group 0 / EOF; one that stops before it was cut short (an
    interrupted copy), and GDAL's reader loops forever on a POLYLINE cut short."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(22)
        handle.seek(max(size - 256, 0))
        tail = handle.read()
    if head.startswith(b"AutoCAD Binary DXF"):
        ended = tail.rstrip(b"\x00\x1a").endswith(b"EOF")
    else:
        lines = [line.strip() for line in tail.splitlines()]
        lines = [line for line in lines if line and line != b"\x1a"]
        ended = lines[-2:] == [b"0", b"EOF"]
    if not ended:
        raise ImportSourceError(
            f"{shown}: truncated: a DXF file ends with an EOF record and this one stops "
            "before it (an interrupted copy?)")


