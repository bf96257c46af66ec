"""Array plumbing shared by the geometry checks: array types, threads and chunks, ring layout.

``gis.validity`` and ``gis.overlaps`` run shapely 2 over whole numpy arrays of features;
this module holds what both need: splitting work over threads, reading the coordinates of
polygonal features with the layout of their rings, grouped sums.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

ObjectArray = NDArray[np.object_]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
UIntArray = NDArray[np.uint64]
GeometryInput = NDArray[np.object_] | Sequence[BaseGeometry | None]
_T = TypeVar("_T")


class Features(Protocol):
    """Features that give shapely geometries when indexed (a slice or an index array): an
    object array, or ``EncodedGeometries`` that decode only what is asked for."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: Any) -> Any: ...


#: shapely.GeometryType codes.
POLYGON = 3
MULTIPOLYGON = 6
#: Arrays shorter than this are not split across threads.
_PARALLEL_MIN = 50_000


def as_object_array(geoms: Any) -> ObjectArray:
    """A 1-D object array of the input (no copy when it already is one)."""
    if isinstance(geoms, np.ndarray) and geoms.dtype == object and geoms.ndim == 1:
        return geoms
    try:
        arr = np.asarray(geoms, dtype=object)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1:
        items = list(geoms)
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
    result: ObjectArray = arr
    return result


def _workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 4))


def threaded(func: Callable[[ObjectArray], NDArray[Any]], geoms: ObjectArray) -> NDArray[Any]:
    """``func`` over ``geoms`` split across threads (shapely releases the GIL)."""
    workers = _workers()
    if workers < 2 or len(geoms) < _PARALLEL_MIN:
        return func(geoms)
    chunks = np.array_split(geoms, workers)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(func, chunks))
    return np.concatenate(parts)


def map_chunks(func: Callable[[ObjectArray], _T], geoms: Features, size: int) -> list[_T]:
    """``func`` over consecutive chunks (views) of ``size`` features, in worker threads, in
    order.

    Chunks keep the numpy temporaries cache-sized; the threads overlap the GEOS calls that
    release the GIL (validity) with those that do not (coordinate extraction). A chunk is
    taken (for encoded features: decoded) in the worker that uses it, so only the chunks
    in work are ever held.
    """
    starts = range(0, len(geoms), size)

    def run(start: int) -> _T:
        return func(geoms[start : start + size])

    workers = _workers()
    if workers < 2 or len(starts) < 2:
        return [run(a) for a in starts]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, starts))


def polygonal(geoms: ObjectArray, *, allow_empty: bool = False) -> BoolArray:
    """Polygon or MultiPolygon entries, non-empty unless ``allow_empty``."""
    type_id = shapely.get_type_id(geoms)
    mask = (type_id == POLYGON) | (type_id == MULTIPOLYGON)
    if mask.any() and not allow_empty:
        mask[mask] = ~threaded(shapely.is_empty, geoms[mask])
    result: BoolArray = mask
    return result


def sum_by(index: NDArray[Any], weights: NDArray[Any], length: int) -> FloatArray:
    """Sum of ``weights`` per value of ``index`` (0 .. length - 1)."""
    total: FloatArray = np.bincount(index, weights=weights, minlength=length).astype(
        np.float64, copy=False
    )
    return total


@dataclass(frozen=True, slots=True)
class Coords:
    """Coordinates of an array of polygonal features, as ``shapely.get_coordinates`` gives
    them, and which features are a single closed ring."""

    xy: FloatArray  # (N, 2)
    feature: IntArray  # (N,) feature of each coordinate
    start: IntArray  # (m + 1,) offsets of each feature into xy
    simple: BoolArray  # (m,) one part, one ring
    area2: FloatArray  # (m,) twice the signed area of the ring of simple features


def read_coords(geoms: ObjectArray) -> Coords:
    """Coordinates and the ring layout of non-empty Polygon/MultiPolygon ``geoms``.

    A feature is *simple* when it has one part and its coordinates are one closed ring: the
    first coordinate occurs exactly twice, the second time as the last coordinate. (A
    second ring would close on the first ring's start before the end, making it occur at
    least three times or not at the end.) Features with repeated vertices at the ring
    start, holes or several parts are not simple; callers read their rings separately.
    """
    xy, feature = shapely.get_coordinates(geoms, return_index=True)
    m = len(geoms)
    counts = np.bincount(feature, minlength=m)
    start = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    n = len(xy)
    simple = (shapely.get_num_geometries(geoms) == 1) & (counts >= 4)
    area2 = np.zeros(m, dtype=np.float64)
    if n == 0:
        return Coords(xy, feature.astype(np.int64), start, simple, area2)
    has = counts > 0
    first = np.minimum(start[:-1], n - 1)
    x, y = xy[:, 0], xy[:, 1]
    x0 = np.repeat(x[first], counts)
    y0 = np.repeat(y[first], counts)
    same = (x == x0) & (y == y0)
    occurrences = sum_by(feature, same, m)
    last = np.maximum(start[1:] - 1, 0)
    simple &= has & (occurrences == 2) & same[last]
    # Shoelace about the feature's first vertex (keeps the products small and exact enough).
    dx = x - x0
    dy = y - y0
    del x0, y0, same
    cross = dx[:-1] * dy[1:]
    cross -= dx[1:] * dy[:-1]
    seams = start[1:-1] - 1
    cross[seams[(seams >= 0) & (seams < n - 1)]] = 0.0  # no edge from a feature to the next
    area2 = sum_by(feature[:-1], cross, m)
    return Coords(xy, feature.astype(np.int64, copy=False), start, simple, area2)

