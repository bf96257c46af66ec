"""Geometries held as WKB in Arrow arrays and decoded on demand.

A shapely geometry costs about 900 bytes for a ten-vertex parcel (Python object, GEOS
polygon, ring and coordinate sequence), its WKB about 200, and WKB in one Arrow buffer has
no per-feature object at all. A million parcels held as shapely objects twice over (as read,
then as checked) took 1.8 GB; held as WKB they take 0.4 GB, and only the chunk in work is
ever decoded.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

ObjectArray = NDArray[np.object_]
FloatArray = NDArray[np.float64]

#: Features decoded at a time by chunked passes.
CHUNK = 262_144


def decode(wkb: ObjectArray) -> ObjectArray:
    """WKB (``None`` where missing) to shapely geometries."""
    return np.asarray(shapely.from_wkb(wkb), dtype=object)


def encode(geoms: ObjectArray) -> pa.ChunkedArray:
    """Shapely geometries (``None`` where missing) to an Arrow array of WKB."""
    return pa.chunked_array([pa.array(shapely.to_wkb(geoms), type=pa.binary())])


def binary(values: Any) -> pa.ChunkedArray:
    """WKB from a reader (an Arrow column, possibly a geoarrow.wkb extension type, or an
    object array of bytes) as a chunked Arrow binary array, without copying Arrow data."""
    if isinstance(values, pa.ChunkedArray):
        chunks = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in values.chunks]
        kind = (values.type.storage_type if isinstance(values.type, pa.ExtensionType)
                else values.type)
        found = pa.chunked_array(chunks, type=kind)
        # One type everywhere (drivers may hand large_binary): a chunk holds ~10M parcels.
        return found if kind == pa.binary() else found.cast(pa.binary())
    return pa.chunked_array([pa.array(np.asarray(values, dtype=object), type=pa.binary())])


def objects(wkb: pa.ChunkedArray) -> ObjectArray:
    """An object array of bytes (``None`` where missing)."""
    return np.asarray(wkb.to_numpy(zero_copy_only=False), dtype=object)


def ewkb_hex(wkb: ObjectArray, srid: int) -> ObjectArray:
    """Hex EWKB with ``srid`` (what PostGIS reads in text COPY); ``None`` stays ``None``."""
    return np.asarray(shapely.to_wkb(shapely.set_srid(decode(wkb), srid), hex=True,
                                     include_srid=True), dtype=object)


#: The hex WKB of a little-endian two-dimensional MultiPolygon starts so (byte order 1, type
#: 6 as a little-endian uint32): what an import stores in ``parcel.geom``.
_NDR_MULTIPOLYGON = "0106000000"


def ewkb_hex_arrow(wkb: pa.Array | pa.ChunkedArray, srid: int) -> pa.Array:
    """``ewkb_hex`` for an Arrow array of WKB, as an Arrow string array. When every value is
    a little-endian 2D MultiPolygon the EWKB is spliced as text, without decoding a
    geometry: the hex WKB with the SRID flag (0x20000000) set in its type and the SRID
    written after it, byte for byte what GEOS writes (six times faster for a million
    parcels). Anything else (nulls, other types, Z or M, big-endian) goes through GEOS."""
    values = wkb.combine_chunks() if isinstance(wkb, pa.ChunkedArray) else wkb
    if values.type != pa.binary():
        values = values.cast(pa.binary())
    if len(values) and values.null_count == 0:
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
            values.offset:values.offset + len(values) + 1]
        data = values.buffers()[2]
        assert data is not None
        first, last = int(offsets[0]), int(offsets[-1])
        hexed = pa.StringArray.from_buffers(
            len(values), pa.py_buffer(((offsets - first) * 2).astype(np.int32)),
            pa.py_buffer(binascii.hexlify(memoryview(data)[first:last]).upper()))
        if pc.all(pc.equal(pc.utf8_slice_codeunits(hexed, 0, 10), _NDR_MULTIPOLYGON)).as_py():
            flagged = "20" + struct.pack("<I", srid).hex().upper()
            return pc.binary_join_element_wise(pc.utf8_slice_codeunits(hexed, 0, 8), flagged,
                                               pc.utf8_slice_codeunits(hexed, 10), "")
    return pa.array(ewkb_hex(objects(pa.chunked_array([values])), srid), type=pa.string())


def _positions(which: Any) -> pa.Array:
    selected = np.asarray(which)
    if selected.dtype == np.bool_:
        selected = np.flatnonzero(selected)
    return pa.array(np.asarray(selected, dtype=np.int64).reshape(-1))


@dataclass(frozen=True, slots=True)
class EncodedGeometries:
    """Features as WKB (null where missing) with their bounds (NaN where missing).

    Indexing decodes: ``features[a:b]`` or ``features[indices or mask]`` is an object array
    of shapely geometries; nothing is cached."""

    wkb: pa.ChunkedArray
    bounds: FloatArray  # (n, 4): xmin, ymin, xmax, ymax

    @classmethod
    def of(cls, geoms: ObjectArray) -> EncodedGeometries:
        return cls(encode(geoms), np.asarray(shapely.bounds(geoms), dtype=np.float64))

    @classmethod
    def concat(cls, parts: Sequence[EncodedGeometries]) -> EncodedGeometries:
        return cls(pa.chunked_array([c for p in parts for c in p.wkb.chunks], type=pa.binary()),
                   np.concatenate([p.bounds for p in parts]) if parts
                   else np.empty((0, 4), dtype=np.float64))

    def __len__(self) -> int:
        return len(self.wkb)

    def __getitem__(self, key: Any) -> ObjectArray:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self.wkb))
            if step == 1:
                return decode(objects(self.wkb.slice(start, max(stop - start, 0))))
            key = np.arange(start, stop, step)
        return decode(objects(self.wkb.take(_positions(key))))

    def subset(self, which: Any) -> EncodedGeometries:
        """The features at ``which`` (indices or a boolean mask); itself when that is all
        of them in order (no copy)."""
        positions = _positions(which)
        if len(positions) == len(self.wkb) and np.array_equal(
                positions.to_numpy(), np.arange(len(self.wkb))):
            return self
        return EncodedGeometries(self.wkb.take(positions), self.bounds[positions.to_numpy()])

    def present(self) -> NDArray[np.bool_]:
        return np.asarray(self.wkb.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
