"""Per-feature geometry checks of an import: missing, not polygonal, bad coordinates, invalid.

``check_geometries`` classifies every feature of a layer, vectorised (shapely 2 / numpy;
Python loops only run over the few problem features), and optionally repairs invalid
polygons when the repair keeps the area. Accepted features come back as 2D MultiPolygons
with exterior rings counter-clockwise and holes clockwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from gis.geoarrays import (
    MULTIPOLYGON,
    POLYGON,
    BoolArray,
    GeometryInput,
    ObjectArray,
    as_object_array,
    map_chunks,
    read_coords,
    threaded,
)

__all__ = ["REPAIR_AREA_TOLERANCE", "GeometryCheck", "check_geometries"]

#: shapely.GeometryType code of a GeometryCollection, and the names of all the codes.
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
#: Features per chunk of the threaded checks (keeps the numpy temporaries cache-sized).
_CHUNK = 16_384


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
    single = shapely.get_type_id(out) == POLYGON
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
        if kind == POLYGON:
            polygons.append(part)
        elif kind == MULTIPOLYGON:
            polygons.extend(p for p in shapely.get_parts(part) if not p.is_empty)
        elif kind == _COLLECTION:
            inner, inner_junk = _polygon_parts(part)
            polygons.extend(inner)
            junk |= inner_junk
        else:
            junk.add(_TYPE_NAMES.get(kind, part.geom_type))
    return polygons, junk


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
    arr = as_object_array(geoms)
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
    empty[~missing] = threaded(shapely.is_empty, arr[~missing])
    code[empty] = "empty-geometry"
    reason[missing] = "no geometry (NULL)"
    for i in np.flatnonzero(empty & ~missing):
        reason[i] = f"empty {arr[i].geom_type} (no coordinates)"

    work = arr.copy()
    polygonal = ~empty & ((type_id == POLYGON) | (type_id == MULTIPOLYGON))
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
    chunks = map_chunks(partial(_check_chunk, limit=max_abs_coordinate), cand, _CHUNK)
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
        coords = read_coords(geoms)
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
