"""Write a synthetic layer to a GIS file, the format chosen by the file extension."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import geopandas
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio

logger = logging.getLogger(__name__)

#: OGR driver by file extension (GeoParquet is written by geopandas, not OGR).
DRIVERS: dict[str, str] = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
    ".geojson": "GeoJSON",
}
PARQUET = ".parquet"
#: Longest text field a DBF file holds, in bytes.
DBF_MAX_TEXT = 254
#: Side files of a shapefile, removed with it before writing a new one.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _remove(path: Path) -> None:
    """Remove ``path`` (and a shapefile's side files) so that a write starts afresh."""
    if path.suffix.lower() == ".shp":
        for suffix in SHAPEFILE_PARTS:
            path.with_suffix(suffix).unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _without_arrow(frame: geopandas.GeoDataFrame) -> geopandas.GeoDataFrame:
    """A copy that the non-Arrow writer accepts: dates as datetime64 rather than objects."""
    copy = frame.copy()
    for name in copy.columns:
        if name != copy.geometry.name and copy[name].dtype == object:
            sample = copy[name].dropna()
            if len(sample) and hasattr(sample.iloc[0], "isoformat"):
                copy[name] = pd.to_datetime(copy[name])
    return copy


def _geometry_type(frame: geopandas.GeoDataFrame) -> str:
    kinds = frame.geom_type.dropna().unique()
    return str(kinds[0]) if len(kinds) == 1 else "Unknown"


def _shapefile_arrow(frame: geopandas.GeoDataFrame, path: Path) -> None:
    """Shapefile through Arrow, text fields sized to their content up front.

    Without a width GDAL starts text fields at 80 bytes and rewrites the whole DBF each time
    a longer value arrives (or once more at the end with RESIZE=YES): an order of magnitude
    slower at a million rows. GDAL (>= 3.8) reads the width from Arrow field metadata.
    """
    table = pa.table(frame.to_arrow(index=False, geometry_encoding="WKB"))
    fields = []
    for field in table.schema:
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            longest = pc.max(pc.binary_length(table[field.name])).as_py() or 1
            width = str(min(int(longest), DBF_MAX_TEXT)).encode()
            field = field.with_metadata({**(field.metadata or {}), b"GDAL:OGR:width": width})
        fields.append(field)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    pyogrio.write_arrow(
        pa.Table.from_arrays(table.columns, schema=schema),
        path,
        driver="ESRI Shapefile",
        geometry_name=frame.geometry.name,
        geometry_type=_geometry_type(frame),
        crs=frame.crs.to_wkt() if frame.crs is not None else None,
        encoding="UTF-8",  # also makes GDAL write the .cpg side file
    )


def _write_ogr(frame: geopandas.GeoDataFrame, path: Path, driver: str, layer: str) -> None:
    options: dict[str, Any] = {"driver": driver, "promote_to_multi": True}
    if driver == "ESRI Shapefile":
        options["encoding"] = "UTF-8"  # also makes GDAL write the .cpg side file
        options["layer_options"] = {"RESIZE": "YES"}  # shrink text fields to their content
    else:
        options["layer"] = layer
    try:
        if driver == "ESRI Shapefile":
            _shapefile_arrow(frame, path)
        else:
            pyogrio.write_dataframe(frame, path, use_arrow=True, **options)
        return
    except (ImportError, NotImplementedError, RuntimeError, ValueError) as error:
        # Old GDAL (< 3.8) or pyarrow missing: the classic writer is slower but complete.
        logger.debug("Arrow write of %s failed (%s); writing without Arrow", path, error)
        if driver != "GPKG":
            _remove(path)
    pyogrio.write_dataframe(_without_arrow(frame), path, use_arrow=False, **options)


def write_layer(frame: geopandas.GeoDataFrame, path: Path, *, layer: str = "parcels") -> None:
    """Write ``frame`` to ``path``; the extension picks the format.

    Supported: ``.gpkg`` (GeoPackage, layer ``layer``), ``.shp`` (UTF-8 with a ``.cpg``),
    ``.fgb`` (FlatGeobuf, with its spatial index: features are stored in index order),
    ``.geojson`` and ``.parquet`` (GeoParquet). An existing file is replaced; in an existing
    GeoPackage only the layer ``layer`` is replaced and other layers are kept.

    Raises:
        ValueError: The extension is not one of the above.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix != PARQUET and suffix not in DRIVERS:
        known = ", ".join([*DRIVERS, PARQUET])
        raise ValueError(f"unsupported extension {suffix!r} (known: {known})")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix != ".gpkg":
        _remove(path)
    if suffix == PARQUET:
        frame.to_parquet(path)
    else:
        _write_ogr(frame, path, DRIVERS[suffix], layer)
