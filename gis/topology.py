"""Per-feature geometry checks and overlap detection for the importer.

Everything here is vectorised (shapely 2 / numpy); Python loops only run over the few
problem features. Nothing touches a database or the web.

``check_geometries``
    Classifies every feature of a layer: missing/empty, not polygonal, bad coordinates,
    invalid (optionally repaired); accepted features come back as 2D MultiPolygons with
    exterior rings counter-clockwise and holes clockwise.

``find_overlaps``
    Pairs of parcels whose interiors overlap by more than a tolerance, within the import and
    against existing parcels.

``duplicate_keys`` / ``area_mismatch``
    Small vectorised attribute checks.

How ``find_overlaps`` avoids the pairwise test
==============================================

Orient every ring so that the polygon's interior lies to the *left* of each directed edge
(shells counter-clockwise, holes clockwise; the orientation comes from the sign of each
ring's shoelace area, no geometry is rebuilt). For a point ``x`` on no edge let

    w(x) = number of features whose interior contains x.

For a valid polygon the winding number of its oriented boundary is 1 inside and 0 outside,
and winding numbers add up, so ``w(x)`` is the winding number around ``x`` of the multiset
of *all* directed edges. An edge ``u->v`` together with an identical edge ``v->u`` (the
shared boundary of two neighbours) has winding number 0 around every point, so such pairs
can be dropped: ``w`` is the winding number of the *residual* chain ``R``, the undirected
segments whose signed count ``#u->v - #v->u`` is not zero, each carrying that count. So
``w`` is constant on every face of the arrangement of ``R`` (``R`` noded and polygonised):
it only changes where a segment of ``R`` is crossed.

If two features overlap by a positive area, the interior of their intersection lies where
``w >= 2``, i.e. in "crowded" faces (up to the segments of ``R``, which have no area); both
features meet the interior of at least one *common* crowded face. Hence:

1. extract every directed edge with numpy (``shapely.get_coordinates``; the ring layout of
   ordinary one-ring features is read off the coordinates, the rare multi-part or holed
   features go through ``get_parts``/``get_rings``), in threads, chunk by chunk;
2. find ``R``: a signed count sketch (each edge adds ``±h`` modulo 2**64 to bucket
   ``h >> shift``, ``h`` a 64-bit hash of the exact bits of its two end points, the sign
   telling its direction) keeps only edges whose bucket does not cancel; those few are
   then grouped *exactly* by coordinates to get the true counts;
3. polygonise ``R`` tile by tile (tile borders are added to the linework: extra lines only
   subdivide faces, ``w`` stays constant on each piece, and GEOS never sees one huge face
   with thousands of holes) and judge every face at an interior point: the winding number
   of ``R`` by ray casting, or, when that would cost more, the number of features holding
   the point (which may only over-count, when the point lies on a boundary between two
   features: the exact test then finds nothing);
4. drop the smallest crowded faces while their total area stays under half the tolerance
   (a reportable overlap cannot fit in them, so each reportable pair still meets a kept
   face), collect the features meeting the interior of each kept crowded face (STRtree,
   ``intersects`` minus ``touches``), and run the exact test (intersection area >
   tolerance) only for pairs meeting a common crowded face.

Nothing is assumed about the data but validity: the argument holds for any set of valid
polygons, matched or not; matching only decides the *cost*. For a clean coverage whose
neighbours share boundaries vertex for vertex, ``R`` is the outer rim of the layer (and the
rims of gaps), no face has ``w >= 2`` and no exact test runs at all. Each problem brings
its own edges into ``R``:

* an identical duplicate: its edges appear twice in the same direction, their net count is
  not zero, the face inside it has ``w = 2``; a duplicate with reversed rings is the same
  once orientation is normalised;
* a parcel shifted over its neighbour, a small polygon inside a parcel with no shared
  vertex: their edges are unmatched, the faces where they cover another parcel have
  ``w = 2``;
* two complete coverages of the same area drawn differently (every edge of every parcel
  matched by a neighbour *of its own version*, the two versions sharing no edge): the rule
  "suspect only the parcels owning an unmatched or duplicated edge, test them against
  everything" flags the rims alone and misses every overlap inside the area; here ``R``
  holds both rims, the face between them has ``w = 2`` and every parcel in it is tested
  (``tests/unit/test_topology.py`` has this case).

Limits, all on the safe side or negligible:

* the sketch can hide an unmatched segment only if two unmatched segments share a 64-bit
  hash with opposite counts, or several in one bucket sum to 0 modulo 2**64 (odds around
  1e-10 per million parcels); everything after the sketch is exact;
* a face is judged at one interior point, so a face thinner than floating-point resolution
  may be misjudged; its area is far below any tolerance;
* input must be valid (``check_geometries`` first): a bowtie breaks the winding argument;
* when neighbours do not share vertices exactly (T-junctions, digitising noise), the
  mismatched edges join ``R`` and the method slows down, it is never wrong; above
  ``_RESIDUAL_PER_FEATURE`` residual segments per feature the plain pairwise test (STRtree
  plus intersection area for every intersecting pair) is used, as it is when GEOS fails;
  a tile GEOS cannot node in floating point is snap-rounded on a micrometre grid.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from gis.wkb import EncodedGeometries

__all__ = [
    "GeometryCheck",
    "Overlap",
    "area_mismatch",
    "areas_differ",
    "check_geometries",
    "duplicate_keys",
    "find_overlaps",
]

ObjectArray = NDArray[np.object_]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
UIntArray = NDArray[np.uint64]
GeometryInput = NDArray[np.object_] | Sequence[BaseGeometry | None]
_T = TypeVar("_T")


class _Features(Protocol):
    """What the overlap search needs of its features: a length and indexing (a slice or an
    index array) that gives shapely geometries: an object array, or ``EncodedGeometries``
    that decode only what is asked for."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: Any) -> Any: ...

#: shapely.GeometryType codes.
_POLYGON = 3
_MULTIPOLYGON = 6
_COLLECTION = 7
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}

#: Largest change of area (share of the original outline's area) a repair may make.
REPAIR_AREA_TOLERANCE = 0.01
#: Arrays shorter than this are not split across threads.
_PARALLEL_MIN = 50_000
#: Features per chunk of the threaded passes (at most 65,536: the overlap search keeps a
#: feature's position in its chunk as uint16).
_CHUNK = 16_384
#: Residual segments per tile when the residual linework is polygonised.
_TILE_SEGMENTS = 48
#: Above this many (estimated) ray/segment tests, faces are judged with the features' STRtree.
_RAY_BUDGET = 2e7
#: Above this many residual segments per feature the pairwise test is used instead.
_RESIDUAL_PER_FEATURE = 4
#: Grid of the snap-rounding fallback when GEOS cannot node residual linework (CRS units).
_SNAP_GRID = 1e-6
#: Faces meeting more features than this get their candidate pairs from an STRtree.
_SMALL_FACE = 24


# --------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class GeometryCheck:
    """Outcome of ``check_geometries``, one entry per input feature.

    Attributes:
        geometries: Accepted (or repaired) geometries as 2D MultiPolygons, exterior rings
            counter-clockwise and holes clockwise; ``None`` where rejected.
        reason_code: ``None`` when accepted, else ``"empty-geometry"``, ``"not-a-polygon"``,
            ``"bad-coordinates"`` or ``"invalid-geometry"``.
        reason: ``None`` or a sentence for the quarantine.
        repaired: ``True`` where an invalid geometry was repaired and accepted.
        repair_note: The original invalidity reason of repaired features, else ``None``.
    """

    geometries: ObjectArray
    reason_code: ObjectArray
    reason: ObjectArray
    repaired: BoolArray
    repair_note: ObjectArray


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two parcels whose interiors overlap.

    Attributes:
        first: Index into the checked array.
        second: Index into the same array (overlaps within the layer, then ``first <
            second``) or into ``others`` (overlaps with existing parcels).
        area: Area of the overlap in CRS units².
    """

    first: int
    second: int
    area: float


# --------------------------------------------------------------------------------------
# small helpers


def _as_object_array(geoms: Any) -> ObjectArray:
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


def _threaded(func: Callable[[ObjectArray], NDArray[Any]], geoms: ObjectArray) -> NDArray[Any]:
    """``func`` over ``geoms`` split across threads (shapely releases the GIL)."""
    workers = _workers()
    if workers < 2 or len(geoms) < _PARALLEL_MIN:
        return func(geoms)
    chunks = np.array_split(geoms, workers)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(func, chunks))
    return np.concatenate(parts)


def _map_chunks(func: Callable[[ObjectArray], _T], geoms: _Features) -> list[_T]:
    """``func`` over consecutive chunks (views) of ``geoms``, in worker threads, in order.

    Chunks keep the numpy temporaries cache-sized; the threads overlap the GEOS calls that
    release the GIL (validity) with those that do not (coordinate extraction). A chunk is
    taken (for encoded features: decoded) in the worker that uses it, so only the chunks
    in work are ever held.
    """
    starts = range(0, len(geoms), _CHUNK)

    def run(start: int) -> _T:
        return func(geoms[start : start + _CHUNK])

    workers = _workers()
    if workers < 2 or len(starts) < 2:
        return [run(a) for a in starts]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, starts))


def _polygonal(geoms: ObjectArray, *, allow_empty: bool = False) -> BoolArray:
    """Polygon or MultiPolygon entries, non-empty unless ``allow_empty``."""
    type_id = shapely.get_type_id(geoms)
    mask = (type_id == _POLYGON) | (type_id == _MULTIPOLYGON)
    if mask.any() and not allow_empty:
        mask[mask] = ~_threaded(shapely.is_empty, geoms[mask])
    result: BoolArray = mask
    return result


def _sum_by(index: NDArray[Any], weights: NDArray[Any], length: int) -> FloatArray:
    """Sum of ``weights`` per value of ``index`` (0 .. length - 1)."""
    total: FloatArray = np.bincount(index, weights=weights, minlength=length).astype(
        np.float64, copy=False
    )
    return total


def _number(value: float) -> str:
    """A coordinate for a message: at most millimetres, no trailing zeros."""
    if not np.isfinite(value):
        return str(value)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _limit(value: float) -> str:
    """``1e8`` rather than ``100000000.0`` or ``1e+08``."""
    mantissa, _, exponent = f"{value:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


_GEOS_REASON = re.compile(r"^(?P<text>.*?)\s*\[(?P<x>\S+)\s+(?P<y>\S+)[^\]]*\]\s*$")


def _sentence(geos_reason: str) -> str:
    """GEOS ``"Self-intersection[585012.3 2326011.9]"`` as ``"Self-intersection at or near
    point 585012.3 2326011.9"``."""
    match = _GEOS_REASON.match(geos_reason)
    if match is None:
        return geos_reason
    try:
        x, y = float(match["x"]), float(match["y"])
    except ValueError:
        return geos_reason
    return f"{match['text']} at or near point {_number(x)} {_number(y)}"


def _multipolygons(geoms: ObjectArray) -> ObjectArray:
    """Polygons wrapped as one-part MultiPolygons; MultiPolygons unchanged."""
    out = geoms.copy()
    single = shapely.get_type_id(out) == _POLYGON
    if single.any():
        k = int(single.sum())
        out[single] = shapely.multipolygons(out[single], indices=np.arange(k))
    return out


def _without_empty_parts(geoms: ObjectArray) -> ObjectArray:
    """MultiPolygons with empty parts rebuilt from their non-empty parts."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    empty = shapely.is_empty(parts)
    if not empty.any():
        return geoms
    out = geoms.copy()
    affected = np.unique(owner[empty])
    keep = ~empty & np.isin(owner, affected)
    rebuilt = shapely.multipolygons(parts[keep], indices=np.searchsorted(affected, owner[keep]))
    out[affected] = rebuilt
    return out


def _polygon_parts(geom: BaseGeometry) -> tuple[list[BaseGeometry], set[str]]:
    """Non-empty polygons of a (nested) collection, and the types of other non-empty parts."""
    polygons: list[BaseGeometry] = []
    junk: set[str] = set()
    for part in shapely.get_parts(geom):
        if part.is_empty:
            continue
        kind = int(shapely.get_type_id(part))
        if kind == _POLYGON:
            polygons.append(part)
        elif kind == _MULTIPOLYGON:
            polygons.extend(p for p in shapely.get_parts(part) if not p.is_empty)
        elif kind == _COLLECTION:
            inner, inner_junk = _polygon_parts(part)
            polygons.extend(inner)
            junk |= inner_junk
        else:
            junk.add(_TYPE_NAMES.get(kind, part.geom_type))
    return polygons, junk


# --------------------------------------------------------------------------------------
# coordinate layout


@dataclass(frozen=True, slots=True)
class _Coords:
    """Coordinates of an array of polygonal features, as ``shapely.get_coordinates`` gives
    them, and which features are a single closed ring."""

    xy: FloatArray  # (N, 2)
    feature: IntArray  # (N,) feature of each coordinate
    start: IntArray  # (m + 1,) offsets of each feature into xy
    simple: BoolArray  # (m,) one part, one ring
    area2: FloatArray  # (m,) twice the signed area of the ring of simple features


def _coords(geoms: ObjectArray) -> _Coords:
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
        return _Coords(xy, feature.astype(np.int64), start, simple, area2)
    has = counts > 0
    first = np.minimum(start[:-1], n - 1)
    x, y = xy[:, 0], xy[:, 1]
    x0 = np.repeat(x[first], counts)
    y0 = np.repeat(y[first], counts)
    same = (x == x0) & (y == y0)
    occurrences = _sum_by(feature, same, m)
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
    area2 = _sum_by(feature[:-1], cross, m)
    return _Coords(xy, feature.astype(np.int64, copy=False), start, simple, area2)


@dataclass(frozen=True, slots=True)
class _Rings:
    """Rings of the non-simple features, laid end to end."""

    xy: FloatArray  # (N, 2)
    ring: IntArray  # (N,) ring of each coordinate
    owner: IntArray  # (R,) feature of each ring
    hole: BoolArray  # (R,) interior ring
    area2: FloatArray  # (R,) twice the signed area


def _rings(geoms: ObjectArray, which: IntArray) -> _Rings:
    """Rings of ``geoms[which]`` (owner = index into ``geoms``)."""
    parts, part_owner = shapely.get_parts(geoms[which], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    owner = which[part_owner[ring_part]].astype(np.int64)
    # The first ring of every part is its shell.
    hole = np.zeros(len(rings), dtype=np.bool_)
    hole[1:] = ring_part[1:] == ring_part[:-1]
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    ring = ring.astype(np.int64, copy=False)
    area2 = np.zeros(len(rings), dtype=np.float64)
    if len(xy) > 1:
        counts = np.bincount(ring, minlength=len(rings))
        start = np.concatenate(([0], np.cumsum(counts)))
        first = np.minimum(start[:-1], len(xy) - 1)
        dx = xy[:, 0] - np.repeat(xy[first, 0], counts)
        dy = xy[:, 1] - np.repeat(xy[first, 1], counts)
        cross = dx[:-1] * dy[1:] - dx[1:] * dy[:-1]
        cross[ring[:-1] != ring[1:]] = 0.0
        area2 = _sum_by(ring[:-1], cross, len(rings))
    return _Rings(xy, ring, owner, hole, area2)


# --------------------------------------------------------------------------------------
# check_geometries


def check_geometries(
    geoms: GeometryInput,
    *,
    repair: bool = False,
    max_abs_coordinate: float = 1e8,
) -> GeometryCheck:
    """Check every feature of a layer before loading it.

    Rejections, in this order of precedence:

    * ``"empty-geometry"``: ``None`` or an empty geometry;
    * ``"not-a-polygon"``: points, lines, and collections holding anything but polygons
      (a GeometryCollection of polygons only is accepted as their MultiPolygon);
    * ``"bad-coordinates"``: a NaN/inf coordinate, or one beyond ``max_abs_coordinate``
      (not a projected coordinate);
    * ``"invalid-geometry"``: not OGC-valid; the reason is GEOS's ``is_valid_reason`` as a
      sentence ("Self-intersection at or near point 585012.3 2326011.9").

    With ``repair=True`` invalid geometries go through ``shapely.make_valid`` (the
    ``"structure"`` method where available) and only the polygonal part is kept. The repair
    is refused (the feature stays rejected, the reason says why) when nothing polygonal is
    left or the area changes by more than ``REPAIR_AREA_TOLERANCE`` of the *outline area*
    of the original. The area of an invalid polygon is meaningless (a bowtie's lobes cancel
    out), so the outline area is measured from the linework: the rings are noded and
    polygonised, the faces enclosed by the exterior rings minus those enclosed by the
    interior rings make up the outline, whatever the orientation or the self-intersections.

    Accepted geometries are 2D (Z and M dropped) MultiPolygons with exterior rings
    counter-clockwise and holes clockwise; untouched input objects are reused as they are.
    """
    arr = _as_object_array(geoms)
    n = len(arr)
    out: ObjectArray = np.full(n, None, dtype=object)
    code: ObjectArray = np.full(n, None, dtype=object)
    reason: ObjectArray = np.full(n, None, dtype=object)
    repaired = np.zeros(n, dtype=np.bool_)
    note: ObjectArray = np.full(n, None, dtype=object)
    if n == 0:
        return GeometryCheck(out, code, reason, repaired, note)

    type_id = shapely.get_type_id(arr)
    missing = type_id < 0
    empty = missing.copy()
    empty[~missing] = _threaded(shapely.is_empty, arr[~missing])
    code[empty] = "empty-geometry"
    reason[missing] = "no geometry (NULL)"
    for i in np.flatnonzero(empty & ~missing):
        reason[i] = f"empty {arr[i].geom_type} (no coordinates)"

    work = arr.copy()
    polygonal = ~empty & ((type_id == _POLYGON) | (type_id == _MULTIPOLYGON))
    for i in np.flatnonzero(~empty & (type_id == _COLLECTION)):
        polygons, junk = _polygon_parts(arr[i])
        if junk or not polygons:
            code[i] = "not-a-polygon"
            found = ", ".join(sorted(junk)) or "no polygon"
            reason[i] = f"GeometryCollection with {found} where a parcel polygon is expected"
        else:
            work[i] = shapely.multipolygons(polygons)
            polygonal[i] = True
    other = ~empty & ~polygonal & (code == None)  # noqa: E711
    for i in np.flatnonzero(other):
        name = _TYPE_NAMES.get(int(type_id[i]), arr[i].geom_type)
        code[i] = "not-a-polygon"
        reason[i] = f"{name} geometry where a parcel polygon is expected"

    idx = np.flatnonzero(polygonal)
    if len(idx) == 0:
        return GeometryCheck(out, code, reason, repaired, note)
    cand = work[idx]
    chunks = _map_chunks(partial(_check_chunk, limit=max_abs_coordinate), cand)
    valid = np.concatenate([c.valid for c in chunks])
    bad = np.concatenate([c.bad for c in chunks])
    nonfinite = np.concatenate([c.nonfinite for c in chunks])
    ccw = np.concatenate([c.ccw for c in chunks])
    del chunks
    limit = _limit(max_abs_coordinate)
    for j in np.flatnonzero(bad):
        code[idx[j]] = "bad-coordinates"
        reason[idx[j]] = (
            "coordinate NaN/inf"
            if nonfinite[j]
            else f"coordinate beyond {limit} (not a projected coordinate)"
        )

    invalid = ~valid & ~bad
    fine = valid & ~bad
    # Orientation: one-ring features by their shoelace sign, everything else through GEOS.
    reorient = fine & ~ccw
    if reorient.any():
        cand[reorient] = _without_empty_parts(
            shapely.orient_polygons(cand[reorient], exterior_cw=False)
        )

    for j in np.flatnonzero(invalid):
        i = idx[j]
        why = _invalid_reason(cand[j])
        if not repair:
            code[i], reason[i] = "invalid-geometry", why
            continue
        fixed, refusal = _repair(cand[j])
        if fixed is None:
            code[i], reason[i] = "invalid-geometry", f"{why}; repair not safe: {refusal}"
        else:
            cand[j] = fixed
            fine[j] = repaired[i] = True
            note[i] = why

    accepted = idx[fine]
    out[accepted] = _multipolygons(cand[fine])
    return GeometryCheck(out, code, reason, repaired, note)


@dataclass(frozen=True, slots=True)
class _ChunkCheck:
    """Per-feature results of one chunk of ``check_geometries``."""

    valid: BoolArray
    bad: BoolArray  # a coordinate NaN/inf or beyond the limit
    nonfinite: BoolArray  # a coordinate NaN/inf
    ccw: BoolArray  # one ring, counter-clockwise: nothing to reorient


def _check_chunk(geoms: ObjectArray, limit: float) -> _ChunkCheck:
    """Drop Z/M (in place, ``geoms`` is a view), validity, coordinates, orientation."""
    higher = shapely.get_coordinate_dimension(geoms) > 2  # Z or M (3) or both (4)
    if higher.any():
        geoms[higher] = shapely.force_2d(geoms[higher])
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf coordinates are expected
        coords = _coords(geoms)
    m = len(geoms)
    bad = np.zeros(m, dtype=np.bool_)
    nonfinite = np.zeros(m, dtype=np.bool_)
    x, y = coords.xy[:, 0], coords.xy[:, 1]
    outside = ~((np.abs(x) <= limit) & (np.abs(y) <= limit))
    if outside.any():
        bad[coords.feature[outside]] = True
        nonfinite[coords.feature[~(np.isfinite(x) & np.isfinite(y))]] = True
    # Validity only where the coordinates are fine: GEOS may throw on extreme ones (1e308).
    valid = np.zeros(m, dtype=np.bool_)
    valid[~bad] = _is_valid(geoms[~bad])
    return _ChunkCheck(valid, bad, nonfinite, coords.simple & (coords.area2 > 0))


def _is_valid(geoms: ObjectArray) -> BoolArray:
    """``shapely.is_valid``; when GEOS throws instead of answering (degenerate input), one
    by one, and a geometry GEOS cannot check is not valid."""
    try:
        return np.asarray(shapely.is_valid(geoms), dtype=np.bool_)
    except GEOSException:
        out = np.zeros(len(geoms), dtype=np.bool_)
        for i, geom in enumerate(geoms):
            try:
                out[i] = bool(shapely.is_valid(geom))
            except GEOSException:
                out[i] = False
        return out


def _invalid_reason(geom: BaseGeometry) -> str:
    try:
        return _sentence(str(shapely.is_valid_reason(geom)))
    except GEOSException as exc:
        return f"GEOS cannot check this geometry ({exc})"


def _make_valid(geom: BaseGeometry) -> BaseGeometry:
    try:
        fixed: BaseGeometry = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    except TypeError:  # pragma: no cover - shapely < 2.1 / GEOS < 3.10
        fixed = shapely.make_valid(geom)
    return fixed


def _filled_area(rings: list[BaseGeometry]) -> BaseGeometry:
    """The region enclosed by some rings, from their noded linework (orientation-free)."""
    if not rings:
        return shapely.Polygon()
    noded = shapely.node(shapely.multilinestrings([shapely.linestrings(r.coords) for r in rings]))
    faces = shapely.polygonize(shapely.get_parts(noded))
    return shapely.union_all(shapely.get_parts(faces))


def _outline_area(geom: BaseGeometry) -> float:
    """Area enclosed by the exterior rings minus the area enclosed by the interior rings."""
    shells: list[BaseGeometry] = []
    holes: list[BaseGeometry] = []
    for part in shapely.get_parts(geom):
        if part.is_empty:
            continue
        shells.append(part.exterior)
        holes.extend(part.interiors)
    outline = shapely.difference(_filled_area(shells), _filled_area(holes))
    return float(shapely.area(outline))


def _repair(geom: BaseGeometry) -> tuple[BaseGeometry | None, str]:
    """A safe repair of an invalid (Multi)Polygon, or ``None`` and why not."""
    try:
        polygons, _ = _polygon_parts(_make_valid(geom))
        fixed = shapely.multipolygons(polygons) if polygons else None
        if fixed is not None and not fixed.is_valid:  # parts sharing edges (linework method)
            fixed = shapely.multipolygons(shapely.get_parts(shapely.union_all(polygons)))
        if fixed is None or fixed.is_empty or not fixed.is_valid:
            return None, "no valid polygon is left"
        before = _outline_area(geom)
    except (GEOSException, ValueError) as exc:
        return None, f"repair failed ({exc})"
    after = float(fixed.area)
    if before <= 0.0:
        return None, "the original outline encloses no area"
    change = abs(after - before) / before
    if change > REPAIR_AREA_TOLERANCE:
        return None, (
            f"the repaired polygon measures {after:,.2f} against {before:,.2f} enclosed by "
            f"the original outline ({change:.1%} change)"
        )
    result: BaseGeometry = shapely.orient_polygons(fixed, exterior_cw=False)
    return result, ""


# --------------------------------------------------------------------------------------
# find_overlaps: residual edges


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(z: UIntArray) -> UIntArray:
    """splitmix64 finaliser (a bijection of uint64), in place."""
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def _vertex_hash(xy: FloatArray) -> UIntArray:
    """64-bit hash of the exact bits of each coordinate pair (-0.0 taken as 0.0)."""
    h = (xy[:, 1] + 0.0).view(np.uint64) * _MIX2
    h ^= (xy[:, 0] + 0.0).view(np.uint64)
    return _mix(h)


@dataclass(slots=True)
class _Edges:
    """Directed edges ``xy[start] -> xy[start + 1]`` of one batch of rings; ``sign`` is -1
    where orientation reverses the ring (interior on the left)."""

    xy: FloatArray
    start: IntArray
    sign: NDArray[np.int8]
    bucket: IntArray
    contribution: UIntArray
    feature: IntArray  # the feature (index into the chunk) each edge belongs to


def _hash_edges(
    xy: FloatArray, start: IntArray, sign: NDArray[np.int8], feature: IntArray, bits: int
) -> _Edges:
    """Bucket and signed weight of each edge for the sketch.

    The undirected segment is hashed from its two vertex hashes in ascending order; the
    weight is that 64-bit hash, positive when the oriented edge runs from the smaller vertex
    hash to the larger, negative (mod 2**64) otherwise.
    """
    hv = _vertex_hash(xy)
    ha = hv[start]
    hb = hv[start + 1]
    del hv
    forward = ha < hb
    lo = np.where(forward, ha, hb)
    hi = np.where(forward, hb, ha)
    del ha, hb
    lo *= _MIX1
    lo ^= hi
    del hi
    key = _mix(lo)
    contribution = np.where(forward == (sign > 0), key, np.uint64(0) - key)
    bucket = (key >> np.uint64(64 - bits)).astype(np.int64)
    return _Edges(xy, start, sign, bucket, contribution, feature)


def _edge_starts(ring: IntArray, xy: FloatArray, selected: BoolArray) -> IntArray:
    """Positions ``i`` with ``i`` and ``i + 1`` on the same selected ring, not coincident."""
    x, y = xy[:, 0], xy[:, 1]
    keep = ring[:-1] == ring[1:]
    keep &= selected[ring[:-1]]
    keep &= (x[:-1] != x[1:]) | (y[:-1] != y[1:])
    return np.flatnonzero(keep).astype(np.int64, copy=False)


def _chunk_edges(geoms: ObjectArray, bits: int) -> list[_Edges]:
    """Hashed oriented edges of a chunk of valid polygonal features."""
    coords = _coords(geoms)
    # Shells counter-clockwise (area > 0), holes clockwise.
    feature_sign = np.where(coords.area2 >= 0, 1, -1).astype(np.int8)
    start = _edge_starts(coords.feature, coords.xy, coords.simple)
    owner = coords.feature[start]
    batches = [_hash_edges(coords.xy, start, feature_sign[owner], owner, bits)]
    complex_ = np.flatnonzero(~coords.simple).astype(np.int64)
    if len(complex_):
        rings = _rings(geoms, complex_)
        if len(rings.xy):
            ring_sign = np.where((rings.area2 >= 0) != rings.hole, 1, -1).astype(np.int8)
            every = np.ones(len(rings.owner), dtype=np.bool_)
            start = _edge_starts(rings.ring, rings.xy, every)
            ring = rings.ring[start]
            batches.append(_hash_edges(rings.xy, start, ring_sign[ring], rings.owner[ring],
                                       bits))
    return batches


@dataclass(frozen=True, slots=True)
class _Residual:
    """Net chain of undirected segments: ``a -> b`` counted ``net`` times (net != 0)."""

    a: FloatArray  # (k, 2), lexicographically smaller end
    b: FloatArray  # (k, 2)
    net: IntArray


def _net_segments(a: FloatArray, b: FloatArray, sign: NDArray[np.int8]) -> _Residual:
    """Group directed edges exactly by their end coordinates and keep non-zero counts."""
    if len(a) == 0:
        return _Residual(a, b, np.zeros(0, dtype=np.int64))
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    s = np.where(swap, -sign.astype(np.int64), sign.astype(np.int64))
    order = np.lexsort((hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0]))
    lo, hi, s = lo[order], hi[order], s[order]
    new = np.ones(len(s), dtype=np.bool_)
    new[1:] = ((lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])).any(axis=1)
    group = np.cumsum(new) - 1
    net = np.bincount(group, weights=s).round().astype(np.int64)
    first = np.flatnonzero(new)
    keep = net != 0
    return _Residual(lo[first][keep], hi[first][keep], net[keep])


def _residual(geoms: _Features) -> _Residual:
    """The net chain of all oriented edges of valid polygonal ``geoms``."""
    # About one to two edges per bucket for parcels of ~10 vertices.
    bits = int(np.clip(np.ceil(np.log2(max(len(geoms), 1) * 8)), 10, 23))
    # The first pass adds every edge to the sketch and keeps, per edge, only its bucket and
    # its feature's position in the chunk (6 bytes; all edges of a million parcels with
    # their coordinates would be ~450 MB); the second pass takes again only the features
    # owning an edge whose bucket does not cancel (for a clean coverage, its rim) and keeps
    # those edges.
    table = np.zeros(1 << bits, dtype=np.uint64)
    lock = threading.Lock()

    def count(chunk: ObjectArray) -> tuple[NDArray[np.int32], NDArray[np.uint16]]:
        batches = _chunk_edges(chunk, bits)
        for edges in batches:
            with lock:
                np.add.at(table, edges.bucket, edges.contribution)
        return (np.concatenate([e.bucket for e in batches]).astype(np.int32),
                np.concatenate([e.feature for e in batches]).astype(np.uint16))

    owners: list[IntArray] = []
    for offset, (bucket, feature) in zip(range(0, len(geoms), _CHUNK),
                                         _map_chunks(count, geoms), strict=True):
        owners.append(offset + np.unique(feature[table[bucket] != 0]).astype(np.int64))
    suspects = np.concatenate(owners) if owners else np.empty(0, dtype=np.int64)
    a: list[FloatArray] = []
    b: list[FloatArray] = []
    sign: list[NDArray[np.int8]] = []
    for first in range(0, len(suspects), _CHUNK):
        chunk = np.asarray(geoms[suspects[first : first + _CHUNK]], dtype=object)
        for edges in _chunk_edges(chunk, bits):
            keep = table[edges.bucket] != 0
            start = edges.start[keep]
            a.append(edges.xy[start])
            b.append(edges.xy[start + 1])
            sign.append(edges.sign[keep])
    if not a:
        empty = np.empty((0, 2), dtype=np.float64)
        return _net_segments(empty, empty, np.empty(0, dtype=np.int8))
    return _net_segments(np.concatenate(a), np.concatenate(b), np.concatenate(sign))


# --------------------------------------------------------------------------------------
# find_overlaps: faces of the residual chain


def _winding(res: _Residual, tree: shapely.STRtree, px: FloatArray, py: FloatArray) -> IntArray:
    """Winding number of the residual chain around each point (rays towards +x).

    ``tree`` indexes the residual segments. Crossings follow the usual half-open rule, so
    a ray through a vertex is counted once.
    """
    x_end = float(max(res.a[:, 0].max(), res.b[:, 0].max())) + 1.0
    rays = shapely.linestrings(
        np.stack([np.column_stack([px, py]), np.column_stack([np.full_like(px, x_end), py])], 1)
    )
    point, seg = tree.query(rays)
    ax, ay = res.a[seg, 0], res.a[seg, 1]
    bx, by = res.b[seg, 0], res.b[seg, 1]
    qx, qy = px[point], py[point]
    side = (bx - ax) * (qy - ay) - (qx - ax) * (by - ay)
    up = (ay <= qy) & (by > qy) & (side > 0)
    down = (by <= qy) & (ay > qy) & (side < 0)
    contribution = res.net[seg] * (up.astype(np.int64) - down.astype(np.int64))
    return np.rint(_sum_by(point, contribution, len(px))).astype(np.int64)


def _ranges(starts: IntArray, sizes: IntArray) -> IntArray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, sizes)])``, vectorised."""
    total = int(sizes.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    result: IntArray = np.repeat(starts, sizes) + offsets
    return result


def _node(linework: ObjectArray) -> ObjectArray:
    """``shapely.node`` per element; an element GEOS cannot node in floating point is noded
    by a snap-rounding union on a micrometre grid instead (it only shapes the faces, whose
    depth is then judged on their own)."""
    try:
        noded: ObjectArray = shapely.node(linework)
        return noded
    except GEOSException:
        out: ObjectArray = np.empty(len(linework), dtype=object)
        for k, lines in enumerate(linework):
            try:
                out[k] = shapely.node(lines)
            except GEOSException:
                out[k] = shapely.union_all(shapely.get_parts(lines), grid_size=_SNAP_GRID)
        return out


def _polygonize_groups(lines: ObjectArray, group: IntArray) -> tuple[ObjectArray, IntArray]:
    """Faces of the linework of each group (``group`` sorted), and the group of each face.

    Groups of similar size are polygonised together through shapely's generalised ufunc
    (one GEOS call per group, no Python loop per group).
    """
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    ids = group[starts]
    position = np.arange(len(group)) - np.repeat(starts, sizes)
    size_class = np.ceil(np.log2(sizes)).astype(np.int64)
    faces: list[ObjectArray] = []
    owners: list[IntArray] = []
    for cls in np.unique(size_class):
        members = np.flatnonzero(size_class == cls)
        width = int(sizes[members].max())
        table: ObjectArray = np.full((len(members), width), None, dtype=object)
        row = np.repeat(np.arange(len(members)), sizes[members])
        take = _ranges(starts[members], sizes[members])
        table[row, position[take]] = lines[take]
        found, which = shapely.get_parts(shapely.polygonize(table, axis=-1), return_index=True)
        faces.append(found)
        owners.append(ids[members][which])
    return np.concatenate(faces), np.concatenate(owners).astype(np.int64)


class _LazyTree:
    """An STRtree of the features, built on first use (encoded features are decoded, all
    of them, only then: a clean coverage never needs it)."""

    def __init__(self, geoms: _Features) -> None:
        self.geoms = geoms
        self.tree: shapely.STRtree | None = None

    def get(self) -> shapely.STRtree:
        if self.tree is None:
            self.tree = shapely.STRtree(self.geoms[:])
        return self.tree


def _depth_by_features(features: _LazyTree, px: FloatArray, py: FloatArray) -> IntArray:
    """Number of features whose closure holds each point: ``w`` at a point inside a face,
    or more when the point happens to lie on a (matched) boundary between two features;
    overcounting only costs an exact test that finds nothing."""
    point, _ = features.get().query(shapely.points(px, py), predicate="intersects")
    depth: IntArray = np.bincount(point, minlength=len(px)).astype(np.int64)
    return depth


def _crowded_faces(res: _Residual, features: _LazyTree) -> ObjectArray:
    """Faces of the residual linework covered by two features or more.

    The plane is cut into tiles whose borders are added to the linework (extra lines only
    subdivide faces; ``w`` stays constant on each piece): every tile is noded and
    polygonised on its own, which keeps GEOS's polygoniser away from one huge face holding
    thousands of holes. ``w`` of a face is the winding number of the residual chain at an
    interior point (ray casting) when that is cheap, else the number of features holding
    the point (an STRtree of the features, which the exact test needs anyway).
    """
    n = len(res.net)
    if n == 0:
        return np.empty(0, dtype=object)
    lines = shapely.linestrings(np.stack([res.a, res.b], axis=1))
    tree = shapely.STRtree(lines)
    low = np.minimum(res.a, res.b).min(axis=0)
    high = np.maximum(res.a, res.b).max(axis=0)
    pad = max(1.0, 1e-6 * float((high - low).max()))
    k = int(np.clip(np.ceil(np.sqrt(n / _TILE_SEGMENTS)), 1, 256))
    xs = np.linspace(low[0] - pad, high[0] + pad, k + 1)
    ys = np.linspace(low[1] - pad, high[1] + pad, k + 1)
    ix, iy = np.divmod(np.arange(k * k), k)
    x0, x1, y0, y1 = xs[ix], xs[ix + 1], ys[iy], ys[iy + 1]
    boxes = shapely.box(x0, y0, x1, y1)
    tile, seg = tree.query(boxes)
    members = np.concatenate([lines[seg], shapely.boundary(boxes)])
    owner = np.concatenate([tile, np.arange(k * k)])
    order = np.argsort(owner, kind="stable")
    noded = _node(shapely.multilinestrings(members[order], indices=owner[order]))
    parts, part_tile = shapely.get_parts(noded, return_index=True)
    faces, face_tile = _polygonize_groups(parts, part_tile.astype(np.int64))
    inside = shapely.get_coordinates(shapely.point_on_surface(faces))
    if len(inside) != len(faces):  # pragma: no cover - degenerate faces
        raise GEOSException("no interior point for some faces")
    px, py = inside[:, 0], inside[:, 1]
    t = face_tile
    mine = (px >= x0[t]) & (px <= x1[t]) & (py >= y0[t]) & (py <= y1[t])
    faces, px, py = faces[mine], px[mine], py[mine]
    # A ray meets about sqrt(n) residual segments (n / k per band of tiles, half of them).
    if len(px) * np.sqrt(n * _TILE_SEGMENTS) <= _RAY_BUDGET:
        depth = _winding(res, tree, px, py)
    else:
        depth = _depth_by_features(features, px, py)
    crowded: ObjectArray = faces[depth >= 2]
    return crowded


def _drop_crumbs(faces: ObjectArray, tolerance: float) -> ObjectArray:
    """Drop the smallest faces while their total area stays below half the tolerance.

    An overlap of more than ``tolerance`` is the union of its pieces in the crowded faces;
    the dropped faces together cannot hold it all, so both features of every reportable
    pair still meet a face that is kept. (Slivers from floating-point digitising noise can
    be numerous; this keeps them out of the exact test.)
    """
    if tolerance <= 0 or len(faces) == 0:
        return faces
    area = shapely.area(faces)
    order = np.argsort(area, kind="stable")
    dropped = int(np.searchsorted(np.cumsum(area[order]), 0.5 * tolerance, side="right"))
    kept: ObjectArray = faces[np.sort(order[dropped:])]
    return kept


def _face_pairs(faces: ObjectArray, geoms: _Features, tree: shapely.STRtree) -> IntArray:
    """Pairs ``(i, j)``, ``i < j`` of features both meeting the interior of one face."""
    face, feat = tree.query(faces, predicate="intersects")
    if len(face) == 0:
        return np.empty((0, 2), dtype=np.int64)
    # Drop features that only touch the face from outside.
    touch = shapely.touches(faces[face], tree.geometries[feat])
    face, feat = face[~touch], feat[~touch]
    if len(face) == 0:
        return np.empty((0, 2), dtype=np.int64)
    order = np.lexsort((feat, face))
    face, feat = face[order], feat[order]
    start = np.flatnonzero(np.r_[True, face[1:] != face[:-1]])
    size = np.diff(np.r_[start, len(face)])
    pairs: list[IntArray] = []
    small = np.repeat(size <= _SMALL_FACE, size)
    if small.any():
        f, g = face[small], feat[small]
        grp_start = np.flatnonzero(np.r_[True, f[1:] != f[:-1]])
        grp_size = np.diff(np.r_[grp_start, len(f)])
        pos = np.arange(len(f)) - np.repeat(grp_start, grp_size)
        later = np.repeat(grp_size, grp_size) - pos - 1
        first = np.repeat(np.arange(len(f)), later)
        offset = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
        second = first + 1 + offset
        pairs.append(np.column_stack([g[first], g[second]]))
    for s, k in zip(start[size > _SMALL_FACE], size[size > _SMALL_FACE], strict=True):
        members = feat[s : s + k]
        shapes = tree.geometries[members]
        i, j = shapely.STRtree(shapes).query(shapes)
        keep = i < j
        pairs.append(np.column_stack([members[i[keep]], members[j[keep]]]))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    both = np.concatenate(pairs).astype(np.int64)
    both.sort(axis=1)
    both = both[both[:, 0] != both[:, 1]]
    return np.unique(both, axis=0) if len(both) else both


def _overlap_areas(left: ObjectArray, right: ObjectArray) -> FloatArray:
    """Area of ``left[k] ∩ right[k]``; robust to the odd GEOS failure."""
    try:
        areas: FloatArray = shapely.area(shapely.intersection(left, right))
        return areas
    except GEOSException:
        out = np.zeros(len(left), dtype=np.float64)
        for k, (g, h) in enumerate(zip(left, right, strict=True)):
            try:
                out[k] = shapely.area(shapely.intersection(g, h))
            except GEOSException:
                out[k] = shapely.area(
                    shapely.intersection(shapely.make_valid(g), shapely.make_valid(h))
                )
        return out


def _report(pairs: IntArray, areas: FloatArray, tolerance: float) -> list[Overlap]:
    keep = areas > tolerance
    return [
        Overlap(int(i), int(j), float(a))
        for (i, j), a in zip(pairs[keep], areas[keep], strict=True)
    ]


def _brute_force_pairs(tree: shapely.STRtree) -> IntArray:
    """Every pair of intersecting features of ``tree``, ``i < j``, sorted."""
    i, j = tree.query(tree.geometries, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    return np.column_stack([i[order], j[order]]).astype(np.int64)


def _within(geoms: _Features, tolerance: float, features: _LazyTree) -> list[Overlap]:
    if len(geoms) < 2:
        return []
    try:
        res = _residual(geoms)
        if len(res.net) > _RESIDUAL_PER_FEATURE * len(geoms):
            # Neighbours rarely share vertices (T-junctions, noise): the residual linework is
            # about as big as the layer and the plain pairwise test is cheaper.
            pairs = _brute_force_pairs(features.get())
        else:
            faces = _drop_crumbs(_crowded_faces(res, features), tolerance)
            if len(faces) == 0:
                return []
            pairs = _face_pairs(faces, geoms, features.get())
    except GEOSException:
        pairs = _brute_force_pairs(features.get())
    if len(pairs) == 0:
        return []
    areas = _overlap_areas(geoms[pairs[:, 0]], geoms[pairs[:, 1]])
    return _report(pairs, areas, tolerance)


def _near(bounds: FloatArray, targets: FloatArray, cells: int = 256) -> BoolArray:
    """Boxes (rows of ``bounds``) that may meet one of the ``targets`` boxes.

    The targets' total bounds are cut into ``cells`` x ``cells`` cells; a box is near when
    it shares a cell with a target box (a summed-area table answers each box in O(1)).
    Boxes that meet a target always share a cell with it, so nothing near is missed.
    """
    x0, y0 = targets[:, 0].min(), targets[:, 1].min()
    x1, y1 = targets[:, 2].max(), targets[:, 3].max()
    inside = (bounds[:, 0] <= x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y1)
    inside &= bounds[:, 3] >= y0
    sx = cells / max(float(x1 - x0), 1e-9)
    sy = cells / max(float(y1 - y0), 1e-9)

    def cell(v: FloatArray, origin: float, scale: float) -> IntArray:
        return np.clip(np.floor((v - origin) * scale), 0, cells - 1).astype(np.int64)

    occupied = np.zeros((cells + 1, cells + 1), dtype=np.int64)
    i0, i1 = cell(targets[:, 0], x0, sx), cell(targets[:, 2], x0, sx)
    j0, j1 = cell(targets[:, 1], y0, sy), cell(targets[:, 3], y0, sy)
    np.add.at(occupied, (i0, j0), 1)
    np.add.at(occupied, (i1 + 1, j0), -1)
    np.add.at(occupied, (i0, j1 + 1), -1)
    np.add.at(occupied, (i1 + 1, j1 + 1), 1)
    taken = (occupied.cumsum(axis=0).cumsum(axis=1)[:cells, :cells] > 0).astype(np.int64)
    table = np.zeros((cells + 1, cells + 1), dtype=np.int64)
    table[1:, 1:] = taken.cumsum(axis=0).cumsum(axis=1)
    b = bounds[inside]
    i0, i1 = cell(b[:, 0], x0, sx), cell(b[:, 2], x0, sx)
    j0, j1 = cell(b[:, 1], y0, sy), cell(b[:, 3], y0, sy)
    hits = table[i1 + 1, j1 + 1] - table[i0, j1 + 1] - table[i1 + 1, j0] + table[i0, j0]
    near = np.zeros(len(bounds), dtype=np.bool_)
    near[np.flatnonzero(inside)[hits > 0]] = True
    return near


def _against(
    geoms: _Features, bounds: FloatArray, others: ObjectArray, tolerance: float,
    tree: shapely.STRtree | None,
) -> list[Overlap]:
    """Overlaps of ``geoms`` with ``others`` (positions within the two arrays)."""
    keep_other = np.flatnonzero(_polygonal(others))
    if len(keep_other) == 0 or len(geoms) == 0:
        return []
    other = others[keep_other]
    if tree is not None:  # already built for the layer: query it with the few others
        o, g = tree.query(other, predicate="intersects")
    else:
        near = np.flatnonzero(_near(bounds, shapely.bounds(other)))
        if len(near) == 0:
            return []
        if len(near) > 8 * len(other):
            o, g = shapely.STRtree(geoms[near]).query(other, predicate="intersects")
        else:
            g, o = shapely.STRtree(other).query(geoms[near], predicate="intersects")
        g = near[g]
    if len(g) == 0:
        return []
    pairs = np.column_stack([g, keep_other[o]]).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    areas = _overlap_areas(geoms[pairs[:, 0]], others[pairs[:, 1]])
    return _report(pairs, areas, tolerance)


def find_overlaps(
    geoms: GeometryInput | EncodedGeometries,
    *,
    tolerance: float = 0.05,
    others: GeometryInput | None = None,
) -> tuple[list[Overlap], list[Overlap]]:
    """Parcels whose interiors overlap by more than ``tolerance`` (CRS units², m²).

    Args:
        geoms: Valid polygonal geometries (as ``check_geometries`` returns them); ``None``,
            empty and non-polygonal entries are ignored. As ``EncodedGeometries`` (WKB
            and bounds) they are decoded a chunk at a time: memory stays a fraction of
            the layer's shapely objects unless the data needs the features' STRtree.
        tolerance: Overlaps of this area or less are not reported; touching along a
            boundary is never an overlap.
        others: Existing parcels (say from the database around the import), checked
            directly against ``geoms`` with an STRtree.

    Returns:
        ``(within, against)``: overlaps among ``geoms`` (``first < second``, both indices
        into ``geoms``) and overlaps of ``geoms`` (``first``) with ``others`` (``second``),
        each sorted by ``(first, second)``.

    See the module docstring for the method (edge matching, residual chain, winding
    numbers) and why it finds every overlap.
    """
    sub: _Features
    if isinstance(geoms, EncodedGeometries):
        keep = np.flatnonzero(geoms.present())
        sub = geoms.subset(keep)  # no copy when every feature is present
        bounds = sub.bounds
    else:
        arr = _as_object_array(geoms)
        # Empty polygons have no edges and no extent: harmless, not worth a pass to drop.
        keep = np.flatnonzero(_polygonal(arr, allow_empty=True))
        sub = arr[keep]
        bounds = np.asarray(shapely.bounds(sub), dtype=np.float64)
    features = _LazyTree(sub)
    within = _within(sub, tolerance, features)
    within = [Overlap(int(keep[o.first]), int(keep[o.second]), o.area) for o in within]
    against: list[Overlap] = []
    if others is not None:
        other = _as_object_array(others)
        found = _against(sub, bounds, other, tolerance, features.tree)
        against = [Overlap(int(keep[o.first]), o.second, o.area) for o in found]
    return within, against


# --------------------------------------------------------------------------------------
# attribute checks


def duplicate_keys(
    keys: Sequence[tuple[object, ...]] | NDArray[Any] | pd.DataFrame,
) -> BoolArray:
    """Rows whose key occurs more than once.

    ``keys`` is a sequence of tuples (composite keys), a 2-D array or a DataFrame (one
    column per key part; a DataFrame's columns are hashed as they are, no Python object
    per row) or a 1-D array/sequence of scalar keys. As in a SQL ``UNIQUE`` constraint, a key
    with a missing part (``None``/NaN) never counts as a duplicate.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    if isinstance(keys, pd.DataFrame):
        frame = keys
    elif isinstance(keys, np.ndarray) and keys.ndim == 2:
        frame = pd.DataFrame(keys)
    elif isinstance(keys, np.ndarray) and keys.dtype != object:
        frame = pd.DataFrame({0: keys})
    else:
        rows = list(keys)
        if all(isinstance(r, tuple) for r in rows):
            width = {len(r) for r in rows}
            if len(width) != 1:
                raise ValueError("all keys must have the same number of parts")
            columns = list(zip(*rows, strict=True))
            frame = pd.DataFrame({k: pd.Series(c, dtype=object) for k, c in enumerate(columns)})
        else:
            frame = pd.DataFrame({0: pd.Series(rows, dtype=object)})
    complete = frame.notna().all(axis=1).to_numpy()
    dupes = frame.duplicated(keep=False).to_numpy()
    result: BoolArray = dupes & complete
    return result


def area_mismatch(
    geoms: GeometryInput,
    recorded: NDArray[Any] | Sequence[float | None],
    *,
    tolerance: float = 0.05,
    min_abs: float = 1.0,
) -> BoolArray:
    """Rows whose recorded area differs from the polygon's area by more than
    ``max(tolerance * computed, min_abs)``. A missing, NaN or zero recorded area, or a
    missing geometry, gives ``False`` (nothing to compare)."""
    arr = _as_object_array(geoms)
    computed = np.full(len(arr), np.nan)
    present = shapely.get_type_id(arr) >= 0
    computed[present] = shapely.area(arr[present])
    return areas_differ(computed, recorded, tolerance=tolerance, min_abs=min_abs)


def areas_differ(
    computed: FloatArray,
    recorded: NDArray[Any] | Sequence[float | None],
    *,
    tolerance: float = 0.05,
    min_abs: float = 1.0,
) -> BoolArray:
    """``area_mismatch`` with the polygons' areas already measured (NaN where there is no
    polygon)."""
    rec = pd.to_numeric(pd.Series(np.asarray(recorded, dtype=object)), errors="coerce")
    rec_values = rec.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(rec_values) != len(computed):
        raise ValueError("geoms and recorded differ in length")
    usable = np.isfinite(rec_values) & (rec_values != 0) & np.isfinite(computed)
    limit = np.maximum(tolerance * computed, min_abs)
    with np.errstate(invalid="ignore"):
        result: BoolArray = usable & (np.abs(rec_values - computed) > limit)
    return result
