"""The overlap search of an import: parcels whose interiors overlap, without the pairwise test.

``find_overlaps`` gives the pairs of parcels whose interiors overlap by more than a
tolerance, within the import and against existing parcels. The module is one algorithm
(edges hashed into a sketch, the residual chain, its faces judged by winding number, the
exact test on the few candidate pairs), about 600 lines with the explanation below: its
parts only make sense together, so it is kept as one file.

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
* input must be valid (``gis.validity.check_geometries`` first): a bowtie breaks the
  winding argument;
* when neighbours do not share vertices exactly (T-junctions, digitising noise), the
  mismatched edges join ``R`` and the method slows down, it is never wrong; above
  ``_RESIDUAL_PER_FEATURE`` residual segments per feature the plain pairwise test (STRtree
  plus intersection area for every intersecting pair) is used, as it is when GEOS fails;
  a tile GEOS cannot node in floating point is snap-rounded on a micrometre grid.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.errors import GEOSException

from gis.geoarrays import (
    BoolArray,
    Features,
    FloatArray,
    GeometryInput,
    IntArray,
    ObjectArray,
    UIntArray,
    as_object_array,
    map_chunks,
    polygonal,
    read_coords,
    sum_by,
)
from gis.wkb import EncodedGeometries

__all__ = ["Overlap", "find_overlaps", "find_overlaps_with"]

#: Features per chunk of the threaded passes (at most 65,536: a feature's position in its
#: chunk is kept as uint16).
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
# ring layout of the features that are not one simple ring


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
        area2 = sum_by(ring[:-1], cross, len(rings))
    return _Rings(xy, ring, owner, hole, area2)


# --------------------------------------------------------------------------------------
# residual edges


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
    coords = read_coords(geoms)
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


def _residual(geoms: Features) -> _Residual:
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
                                         map_chunks(count, geoms, _CHUNK), strict=True):
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
# faces of the residual chain


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
    return np.rint(sum_by(point, contribution, len(px))).astype(np.int64)


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

    def __init__(self, geoms: Features) -> None:
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


def _face_pairs(faces: ObjectArray, geoms: Features, tree: shapely.STRtree) -> IntArray:
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


def _within(geoms: Features, tolerance: float, features: _LazyTree) -> list[Overlap]:
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
    geoms: Features, bounds: FloatArray, others: ObjectArray, tolerance: float,
    tree: shapely.STRtree | None,
) -> list[Overlap]:
    """Overlaps of ``geoms`` with ``others`` (positions within the two arrays)."""
    keep_other = np.flatnonzero(polygonal(others))
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


def _present(
    geoms: GeometryInput | EncodedGeometries,
) -> tuple[IntArray, Features, FloatArray]:
    """The polygonal features of ``geoms``: their positions, the features and their bounds."""
    sub: Features
    if isinstance(geoms, EncodedGeometries):
        keep = np.flatnonzero(geoms.present())
        sub = geoms.subset(keep)  # no copy when every feature is present
        return keep, sub, sub.bounds
    arr = as_object_array(geoms)
    # Empty polygons have no edges and no extent: harmless, not worth a pass to drop.
    keep = np.flatnonzero(polygonal(arr, allow_empty=True))
    sub = arr[keep]
    return keep, sub, np.asarray(shapely.bounds(sub), dtype=np.float64)


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
    keep, sub, bounds = _present(geoms)
    features = _LazyTree(sub)
    within = _within(sub, tolerance, features)
    within = [Overlap(int(keep[o.first]), int(keep[o.second]), o.area) for o in within]
    against: list[Overlap] = []
    if others is not None:
        other = as_object_array(others)
        found = _against(sub, bounds, other, tolerance, features.tree)
        against = [Overlap(int(keep[o.first]), o.second, o.area) for o in found]
    return within, against


def find_overlaps_with(
    geoms: GeometryInput | EncodedGeometries,
    others: GeometryInput,
    *,
    tolerance: float = 0.05,
) -> list[Overlap]:
    """Overlaps of ``geoms`` (``first``) with ``others`` (``second``) only, not among
    ``geoms``: the ``against`` half of :func:`find_overlaps`, for a few more parcels to
    check an already checked import against."""
    keep, sub, bounds = _present(geoms)
    found = _against(sub, bounds, as_object_array(others), tolerance, None)
    return [Overlap(int(keep[o.first]), o.second, o.area) for o in found]
