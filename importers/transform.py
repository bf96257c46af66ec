"""Moving an import's geometries into the storage CRS, after checking that the source CRS
places them where they can be (on the Earth, in the province when one is named)."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer

from gis import wkb
from gis.crs import CrsQuestion, SourceCrs, check_lonlat_extent


def extent_of(boxes: np.ndarray) -> tuple[float, float, float, float]:
    """The extent of rows of (xmin, ymin, xmax, ymax)."""
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()),
            float(boxes[:, 3].max()))


def to_storage(
    geoms: wkb.EncodedGeometries, area: np.ndarray, source: SourceCrs, srid: int,
    bounds: tuple[float, float, float, float], province: str | None,
) -> tuple[wkb.EncodedGeometries, np.ndarray]:
    """The geometries and their areas in the storage CRS (``bounds``: their extent in the
    source CRS); CrsQuestion when the source CRS cannot be right for them."""
    source_crs = CRS.from_wkt(source.wkt)
    to_lonlat = Transformer.from_crs(source_crs, CRS.from_epsg(4326), always_xy=True)
    xs, ys = to_lonlat.transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    if not np.all(np.isfinite([*xs, *ys])):
        raise CrsQuestion("the coordinates cannot be placed on the Earth in that CRS")
    check_lonlat_extent(source, (min(xs), min(ys), max(xs), max(ys)), province=province)
    if source.epsg == srid:
        return geoms, area
    target = CRS.from_epsg(srid)
    transformer = Transformer.from_crs(source_crs, target, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    parts, areas = [], []
    for start in range(0, len(geoms), wkb.CHUNK):
        moved = shapely.transform(geoms[start:start + wkb.CHUNK], project)
        parts.append(wkb.EncodedGeometries.of(moved))
        areas.append(shapely.area(moved))
    if not parts:
        return geoms, area
    return wkb.EncodedGeometries.concat(parts), np.concatenate(areas)
