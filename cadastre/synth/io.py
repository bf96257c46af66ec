"""Write a synthetic layer to a GIS file, the format chosen by the file extension."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import geopandas
import pandas as pd
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


def _write_ogr(frame: geopandas.GeoDataFrame, path: Path, driver: str, layer: str) -> None:
    options: dict[str, Any] = {"driver": driver, "promote_to_multi": True}
    if driver == "ESRI Shapefile":
        options["encoding"] = "UTF-8"  # also makes GDAL write the .cpg side file
    else:
        options["layer"] = layer
    try:
        pyogrio.write_dataframe(frame, path, use_arrow=True, **options)
        return
    except (ImportError, NotImplementedError, RuntimeError, ValueError) as error:
        # Old GDAL (< 3.8) or pyarrow missing: the classic writer is slower but complete.
        logger.debug("Arrow write of %s failed (%s); writing without Arrow", path, error)
        _remove(path)
    pyogrio.write_dataframe(_without_arrow(frame), path, use_arrow=False, **options)


def write_layer(
    frame: geopandas.GeoDataFrame, path: Path, *, layer: str = "parcels"
) -> None:
    """Write ``frame`` to ``path``; the extension picks the format.

    Supported: ``.gpkg`` (GeoPackage, layer ``layer``), ``.shp`` (UTF-8 with a ``.cpg``),
    ``.fgb`` (FlatGeobuf), ``.geojson`` and ``.parquet`` (GeoParquet). An existing file
    is replaced.

    Raises:
        ValueError: The extension is not one of the above.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix != PARQUET and suffix not in DRIVERS:
        known = ", ".join([*DRIVERS, PARQUET])
        raise ValueError(f"unsupported extension {suffix!r} (known: {known})")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(path)
    if suffix == PARQUET:
        frame.to_parquet(path)
    else:
        _write_ogr(frame, path, DRIVERS[suffix], layer)
