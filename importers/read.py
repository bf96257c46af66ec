"""Reading one layer with pyogrio: attributes with their text decoded (legacy Vietnamese
encodings detected per file) and normalised to Unicode NFC, geometries as WKB; layers that
pyogrio reads through Arrow come a batch at a time (``stream_layer``)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj import CRS

from cadastre.errors import EncodingQuestion, ImportSourceError
from gis import wkb
from importers import vntext
from importers.sources import Layer

_DETECTION_SAMPLES = 5_000  # distinct non-ASCII values: ample evidence
_LABELS = "\x00labels"  # a drawing's text labels, among the encoding detection's samples


@dataclass(frozen=True, slots=True)
class RawLayer:
    layer: Layer
    frame: pd.DataFrame  # attribute columns, text decoded
    geometry: pa.ChunkedArray  # WKB, null where missing (see gis.wkb)
    crs: CRS | None
    encoding: str
    encoding_confidence: float
    encoding_reason: str
    skipped_non_polygon: int  # CAD entities that are not parcel polygons (lines, text)
    labels: pd.DataFrame | None  # CAD text labels: x, y, text


def declared_encoding(layer: Layer) -> str | None:
    """The encoding the layer's file declares (a shapefile's .cpg, a MapInfo header)."""
    declared = layer.format.declared_encoding
    return None if declared is None else declared(Path(layer.path))


@dataclass(frozen=True, slots=True)
class RawBatch:
    """Consecutive features of a layer: rows ``offset`` to ``offset + len(frame)``."""

    offset: int
    frame: pd.DataFrame  # attribute columns, text decoded
    geometry: pa.ChunkedArray  # WKB, null where missing


@dataclass(frozen=True, slots=True)
class LayerStream:
    """A layer read a batch at a time, its encoding decided from the first batch."""

    layer: Layer
    columns: list[str]
    crs: CRS | None
    encoding: str
    encoding_confidence: float
    encoding_reason: str
    skipped_non_polygon: int
    #: The batches as read: ``decode`` their frames (text to Unicode) before use; the
    #: geometry can be checked meanwhile.
    batches: Iterator[RawBatch]
    decode: Callable[[pd.DataFrame], pd.DataFrame]
    #: The whole layer in memory (drawings, drivers without Arrow text): its batch is the
    #: ``RawLayer``; otherwise rows are read again from the file when needed (``reread``).
    whole: RawLayer | None


#: Features per batch of a streamed layer.
BATCH_ROWS = 65_536


@contextmanager
def stream_layer(layer: Layer, *, encoding: str = "auto",
                 rows: int | None = None) -> Iterator[LayerStream]:
    """The layer's features in batches (memory: a batch, not the file): text decoded with
    the encoding chosen (or detected on the first batch), geometries as WKB."""
    if not layer.format.streams:
        raw = read_layer(layer, encoding=encoding)
        yield LayerStream(layer, [str(c) for c in raw.frame.columns], raw.crs, raw.encoding,
                          raw.encoding_confidence, raw.encoding_reason,
                          raw.skipped_non_polygon,
                          iter([RawBatch(0, raw.frame, raw.geometry)]), _decoded_already, raw)
        return
    raw_text = layer.format.raw_text
    with _arrow_batches(layer, rows=rows or BATCH_ROWS) as (meta, batches):
        first = next(batches, None)
        if first is None:  # no features: the columns still count (profile choice)
            fields = [str(c) for c in meta["fields"]]
            empty = RawBatch(0, pd.DataFrame(columns=fields), wkb.binary(np.empty(0, object)))
            first, batches = empty, iter(())
        text_columns = [c for c in first.frame.columns if _is_text(first.frame[c])]
        chosen, confidence, reason = _choose_encoding(
            layer, first.frame, text_columns, encoding=encoding, raw_text=raw_text)

        def decode(frame: pd.DataFrame) -> pd.DataFrame:
            return _decode_text(layer, frame, text_columns, chosen, raw_text=raw_text)

        crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") is not None else None
        yield LayerStream(layer, [str(c) for c in first.frame.columns], crs, chosen,
                          confidence, reason, 0, itertools.chain([first], batches), decode,
                          None)


def _decoded_already(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


@contextmanager
def _arrow_batches(
    layer: Layer, *, rows: int
) -> Iterator[tuple[dict[str, Any], Iterator[RawBatch]]]:
    encoding = "latin1" if layer.format.raw_text else None
    try:
        opened = pyogrio.open_arrow(layer.path, layer=layer.name, encoding=encoding,
                                    batch_size=rows, use_pyarrow=True)
        meta, reader = opened.__enter__()
    except Exception as exc:
        raise _unreadable(layer, exc) from exc
    name = meta["geometry_name"] or "wkb_geometry"

    def batches() -> Iterator[RawBatch]:
        offset = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except Exception as exc:  # a damaged file shows up half-way
                raise _unreadable(layer, exc) from exc
            table = pa.Table.from_batches([batch])
            if name in table.column_names:
                geometry = wkb.binary(table.column(name))
                table = table.drop_columns([name])
            else:
                geometry = wkb.binary(np.full(table.num_rows, None, dtype=object))
            try:
                frame = table.to_pandas()
            except Exception as exc:
                raise _unreadable(layer, exc) from exc
            yield RawBatch(offset, frame, geometry)
            offset += table.num_rows

    try:
        yield meta, batches()
    finally:
        opened.__exit__(None, None, None)


def _unreadable(layer: Layer, exc: Exception) -> ImportSourceError:
    if isinstance(exc, (DataSourceError, DataLayerError, FieldError, GeometryError, OSError)):
        return ImportSourceError(f"{layer.label}: cannot be read ({exc})")
    return ImportSourceError(f"{layer.label}: cannot be read ({type(exc).__name__}: {exc})")


def reread(stream: LayerStream, rows: np.ndarray) -> tuple[pd.DataFrame, pa.ChunkedArray]:
    """The source attributes (text decoded as the import did) and WKB of the features at
    ``rows`` (sorted positions in the layer), read again from the file: a streamed import
    keeps no copy of what it has checked and loaded. From memory for a whole layer."""
    if stream.whole is not None:
        positions = pa.array(rows, type=pa.int64())
        return (stream.whole.frame.iloc[rows].reset_index(drop=True),
                stream.whole.geometry.take(positions))
    frames, geometries = [], []
    with _arrow_batches(stream.layer, rows=BATCH_ROWS) as (_, batches):
        for batch in batches:
            local = rows[(rows >= batch.offset) & (rows < batch.offset + len(batch.frame))]
            if len(local) == 0:
                continue
            local = local - batch.offset
            frames.append(stream.decode(batch.frame.iloc[local].reset_index(drop=True)))
            geometries.append(batch.geometry.take(pa.array(local, type=pa.int64())))
    if len(rows) and sum(len(f) for f in frames) != len(rows):
        raise ImportSourceError(f"{stream.layer.label}: the file changed during the import")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=stream.columns)
    chunks = [c for g in geometries for c in g.chunks]
    return frame, pa.chunked_array(chunks, type=pa.binary())


def _decode_text(layer: Layer, frame: pd.DataFrame, columns: list[str], chosen: str, *,
                 raw_text: bool) -> pd.DataFrame:
    try:
        for column in columns:
            frame[column] = _decode_column(frame[column], chosen, raw_text=raw_text)
    except UnicodeDecodeError as exc:  # a value the detection did not sample
        raise _mixed(layer, chosen, exc) from exc
    return frame


def _mixed(layer: Layer, chosen: str, exc: UnicodeDecodeError) -> EncodingQuestion:
    bad = bytes(exc.object[max(exc.start - 10, 0):exc.end + 10])
    return EncodingQuestion(
        f"{layer.label}: a text value is not valid {chosen} (near {bad!r}); the file "
        "mixes encodings or is damaged",
        hint="pass --encoding tcvn3, vni, cp1258 or utf-8")


def read_layer(layer: Layer, *, encoding: str = "auto") -> RawLayer:
    """The whole layer in memory (drawings, and drivers without Arrow text); the importer
    streams the others (``stream_layer``)."""
    raw_text = layer.format.raw_text
    try:
        with _gdal_options(layer):
            attributes, geometry, crs = _read(layer, raw_text=raw_text)
    except (DataSourceError, DataLayerError, FieldError, GeometryError, OSError) as exc:
        raise ImportSourceError(f"{layer.label}: cannot be read ({exc})") from exc
    except Exception as exc:  # arrow / GDAL errors on damaged files
        raise ImportSourceError(
            f"{layer.label}: cannot be read ({type(exc).__name__}: {exc})") from exc

    skipped = 0
    labels = None
    if layer.format.cad:  # drawings are small: their shapes are decoded whole
        shapes = _decoded(layer, geometry)
        attributes, shapes, skipped, labels = _split_cad(attributes, shapes)
        geometry = wkb.encode(shapes)

    text_columns = [c for c in attributes.columns if _is_text(attributes[c])]
    detected, detected_columns = attributes, text_columns
    if labels is not None and len(labels):  # a drawing's labels are text of the file too
        detected = pd.concat([attributes[text_columns].reset_index(drop=True),
                              labels["text"].rename(_LABELS).reset_index(drop=True)], axis=1)
        detected_columns = [*text_columns, _LABELS]
    chosen, confidence, reason = _choose_encoding(
        layer, detected, detected_columns, encoding=encoding, raw_text=raw_text)
    attributes = _decode_text(layer, attributes, text_columns, chosen, raw_text=raw_text)
    try:
        if labels is not None and len(labels):
            labels["text"] = _decode_column(labels["text"], chosen, raw_text=raw_text)
    except UnicodeDecodeError as exc:  # a value the detection did not sample
        raise _mixed(layer, chosen, exc) from exc
    if labels is not None and len(labels):
        attributes = attach_labels(attributes, _decoded(layer, geometry), labels)
    return RawLayer(layer, attributes, geometry, crs, chosen, confidence, reason, skipped,
                    labels)


def _read(layer: Layer, *, raw_text: bool) -> tuple[pd.DataFrame, pa.ChunkedArray, CRS | None]:
    """Attributes as a DataFrame and geometries as WKB, never as one shapely object per
    feature for the whole layer (a million parcels are ~200 MB of WKB, ~900 MB of shapely
    objects): the importer decodes them a chunk at a time. Arrow reads keep the WKB in the
    buffers GDAL filled (no copy)."""
    # Arrow reads are fastest, but pyogrio reads non-UTF-8 text through Arrow only for
    # shapefiles (where the encoding is an open option).
    encoding = "latin1" if raw_text else None
    if layer.format.arrow:
        meta, table = pyogrio.read_arrow(layer.path, layer=layer.name, encoding=encoding)
        name = meta["geometry_name"] or "wkb_geometry"
        geometry = wkb.binary(np.full(table.num_rows, None, dtype=object))
        if name in table.column_names:
            geometry = wkb.binary(table.column(name))
            table = table.drop_columns([name])
        frame = table.to_pandas(self_destruct=True)
        del table
    else:
        meta, _, found, fields = pyogrio.raw.read(layer.path, layer=layer.name,
                                                  encoding=encoding)
        frame = pd.DataFrame({str(c): fields[i] for i, c in enumerate(meta["fields"])},
                             columns=[str(c) for c in meta["fields"]])
        geometry = wkb.binary(found if found is not None
                              else np.full(len(frame), None, dtype=object))
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") is not None else None
    return frame, geometry, crs


def _decoded(layer: Layer, geometry: pa.ChunkedArray) -> np.ndarray:
    try:
        return wkb.decode(wkb.objects(geometry))
    except shapely.errors.GEOSException as exc:
        raise ImportSourceError(f"{layer.label}: a geometry cannot be read ({exc})") from exc


@contextmanager
def _gdal_options(layer: Layer) -> Iterator[None]:
    """The GDAL configuration the layer's format reads with, while it is read."""
    options = layer.format.gdal_options
    if options:
        pyogrio.set_gdal_config_options(dict(options))
    try:
        yield
    finally:
        if options:
            pyogrio.set_gdal_config_options(dict.fromkeys(options))


def _split_cad(
    attributes: pd.DataFrame, geometry: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, int, pd.DataFrame | None]:
    """Keep the polygon entities of a drawing; text entities become position labels."""
    types = shapely.get_type_id(geometry)
    polygonal = np.isin(types, (3, 6))
    closed_lines = (types == 1) & np.asarray(
        [g is not None and bool(shapely.is_closed(g)) and len(g.coords) >= 4 for g in geometry],
        dtype=bool,
    )
    if closed_lines.any():  # DGN shapes come as closed linestrings
        geometry = geometry.copy()
        geometry[closed_lines] = shapely.polygons(shapely.linearrings(
            [np.asarray(g.coords)[:, :2] for g in geometry[closed_lines]]))
        polygonal |= closed_lines
    labels = None
    text_column = next((c for c in ("Text", "text", "TEXT") if c in attributes.columns), None)
    if text_column is not None:
        is_text = (types == 0) & attributes[text_column].notna().to_numpy()
        if is_text.any():
            points = geometry[is_text]
            labels = pd.DataFrame({
                "x": shapely.get_x(points), "y": shapely.get_y(points),
                "text": attributes.loc[is_text, text_column].to_numpy(),
            })
    keep = polygonal
    return (attributes.loc[keep].reset_index(drop=True), geometry[keep],
            int((~keep).sum()), labels)


_LABEL = re.compile(
    r"^\s*(?P<number>\d{1,6})\s*(?:[/ ;-]\s*(?P<code>[A-Za-z]{2,4}(?:\+[A-Za-z]{2,4})*))?"
    r"\s*(?:[/ ;-]\s*(?P<area>\d+(?:[.,]\d+)?))?\s*$")


def attach_labels(
    attributes: pd.DataFrame, geometry: np.ndarray, labels: pd.DataFrame
) -> pd.DataFrame:
    """Parcel labels of a drawing ("125", "125/ODT", "125 ODT 96.5": number, land-use code,
    area) matched to the polygon that contains them. A polygon with no label, or with
    several, gets no number (and is rejected with that reason later)."""
    points = shapely.points(labels["x"].to_numpy(), labels["y"].to_numpy())
    tree = shapely.STRtree(geometry)
    label_index, polygon_index = tree.query(points, predicate="within")
    hits = pd.Series(polygon_index).value_counts()
    single = set(hits[hits == 1].index)
    parsed = labels["text"].astype(str).str.extract(_LABEL)
    out = attributes.copy()
    for column in ("SoThua", "LoaiDat", "DienTich"):
        out[column] = None
    for label, polygon in zip(label_index, polygon_index, strict=True):
        if polygon not in single or pd.isna(parsed.at[label, "number"]):
            continue
        out.at[polygon, "SoThua"] = parsed.at[label, "number"]
        if not pd.isna(parsed.at[label, "code"]):
            out.at[polygon, "LoaiDat"] = str(parsed.at[label, "code"]).upper()
        if not pd.isna(parsed.at[label, "area"]):
            out.at[polygon, "DienTich"] = str(parsed.at[label, "area"]).replace(",", ".")
    return out


def _is_text(series: pd.Series) -> bool:
    if series.dtype != object:
        return bool(pd.api.types.is_string_dtype(series))
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _samples(frame: pd.DataFrame, columns: list[str], *, raw_text: bool) -> list[bytes]:
    """Non-ASCII text values as the bytes the file holds: read as Latin-1 for legacy
    drivers, UTF-8 for Unicode formats (where the detector still recognises legacy text
    that some tool decoded wrongly and saved as UTF-8)."""
    out: list[bytes] = []
    codec = "latin-1" if raw_text else "utf-8"
    for column in columns:  # the first rows are a fair sample and much cheaper than all
        values = frame[column].iloc[:4 * _DETECTION_SAMPLES].dropna().astype(str).unique()
        out.extend(v.encode(codec) for v in values[:_DETECTION_SAMPLES] if not v.isascii())
        if len(out) >= _DETECTION_SAMPLES:
            break
    return out[:_DETECTION_SAMPLES]


def _choose_encoding(
    layer: Layer, frame: pd.DataFrame, columns: list[str], *, encoding: str, raw_text: bool
) -> tuple[str, float, str]:
    if encoding != "auto":
        chosen = vntext.canonical_encoding(encoding)
        return chosen, 1.0, f"{chosen} given with --encoding"
    samples = _samples(frame, columns, raw_text=raw_text)
    declared = declared_encoding(layer) if raw_text else "utf-8"
    if not samples:
        return "utf-8", 1.0, "text is plain ASCII"
    detection = vntext.detect(samples, declared=declared)
    if detection.encoding is None:
        scores = ", ".join(f"{k} {v:.0%}" for k, v in sorted(
            detection.scores.items(), key=lambda kv: -kv[1]))
        raise EncodingQuestion(
            f"{layer.label}: cannot tell the text encoding with confidence ({scores}; "
            f"e.g. {detection.sample!r})",
            hint="pass --encoding tcvn3, vni, cp1258 or utf-8",
        )
    declared_note = f"; the file declares {declared}" if declared else ""
    return (detection.encoding, detection.confidence,
            f"detected {detection.encoding} ({detection.confidence:.0%}: {detection.reason})"
            f"{declared_note}")


def _decode_column(series: pd.Series, encoding: str, *, raw_text: bool) -> pd.Series:
    """Decode each distinct value once; normalise to NFC."""
    if not raw_text and encoding == "utf-8":  # a Unicode format: only normalise (in C++)
        array = pa.array(series, type=pa.string(), from_pandas=True)
        normalised = pc.utf8_normalize(array, form="NFC")
        if pc.all(pc.equal(normalised, array)).as_py() is not False:
            return series
        return pd.Series(pd.arrays.ArrowStringArray(normalised), index=series.index)
    values = series.astype(object).where(series.notna(), None)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == 0:
        return series
    decoded: list[str] = []
    if not raw_text and encoding == "utf-8":  # a Unicode format: only normalise
        decoded = [str(v) for v in uniques]
    for value in uniques if not decoded else ():
        text = str(value)
        if text.isascii():
            decoded.append(text)
            continue
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:  # real Unicode in a Unicode format
            decoded.append(text)
            continue
        decoded.append(vntext.decode(raw, encoding))
    array = pa.array(decoded, type=pa.string())
    normalised = pc.utf8_normalize(array, form="NFC").to_numpy(zero_copy_only=False)
    result = np.where(codes >= 0, normalised[np.maximum(codes, 0)], None)
    return pd.Series(result, index=series.index, dtype=object)

