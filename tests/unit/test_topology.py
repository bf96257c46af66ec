"""gis.validity, gis.overlaps and gis.checks: per-feature geometry checks, overlap detection,
key and area checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import affinity
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from cadastre.synth import generate_layer
from gis import overlaps
from gis.checks import duplicate_keys
from gis.overlaps import Overlap, find_overlaps
from gis.validity import check_geometries
from gis.wkb import EncodedGeometries
from tests.areas import area_mismatch

N = 3_000


def _objects(items: list[object]) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


@pytest.fixture(scope="module")
def coverage() -> np.ndarray:
    """A clean synthetic coverage: neighbours share their boundaries vertex for vertex."""
    return np.asarray(generate_layer(N, seed=3).geometry.values, dtype=object)


def brute_force(
    geoms: np.ndarray, tolerance: float = 0.05, others: np.ndarray | None = None
) -> dict[tuple[int, int], float]:
    """Oracle: STRtree + intersection area over every intersecting pair."""
    present = np.flatnonzero(shapely.get_type_id(geoms) >= 0)
    g = geoms[present]
    if others is None:
        i, j = shapely.STRtree(g).query(g, predicate="intersects")
        keep = i < j
        i, j = present[i[keep]], present[j[keep]]
        b = geoms[j]
    else:
        o_present = np.flatnonzero(shapely.get_type_id(others) >= 0)
        k, o = shapely.STRtree(others[o_present]).query(g, predicate="intersects")
        i, j = present[k], o_present[o]
        b = others[j]
    areas = shapely.area(shapely.intersection(geoms[i], b))
    return {
        (int(a), int(c)): float(x) for a, c, x in zip(i, j, areas, strict=True) if x > tolerance
    }


def as_dict(overlaps: list[Overlap]) -> dict[tuple[int, int], float]:
    return {(o.first, o.second): o.area for o in overlaps}


def assert_same(found: list[Overlap], expected: dict[tuple[int, int], float]) -> None:
    got = as_dict(found)
    assert set(got) == set(expected)
    for key, area in expected.items():
        assert got[key] == pytest.approx(area, rel=1e-6)
    assert [(o.first, o.second) for o in found] == sorted(got)


def neighbour_east(geoms: np.ndarray, i: int) -> int:
    """A parcel sharing a boundary with ``geoms[i]`` on its eastern side."""
    probe = Point(geoms[i].bounds[2] + 0.5, geoms[i].centroid.y)
    hits = shapely.STRtree(geoms).query(probe, predicate="intersects")
    assert len(hits) == 1
    return int(hits[0])


def interior_parcel(geoms: np.ndarray) -> int:
    """A parcel well inside the coverage."""
    centre = shapely.total_bounds(geoms).reshape(2, 2).mean(axis=0)
    return int(shapely.STRtree(geoms).query(Point(*centre), predicate="intersects")[0])


# --------------------------------------------------------------------------------------
# find_overlaps


def test_clean_coverage_has_no_overlaps(coverage: np.ndarray) -> None:
    assert find_overlaps(coverage) == ([], [])
    # Only the rim of the layer is unmatched: the residual chain is the boundary of the union
    # (each rim segment once) and no face of it is covered twice.
    res = overlaps._residual(coverage)
    assert set(np.abs(res.net).tolist()) == {1}
    rim = shapely.length(shapely.boundary(shapely.coverage_union_all(coverage)))
    assert float(np.hypot(*(res.b - res.a).T).sum()) == pytest.approx(rim, rel=1e-9)
    assert len(overlaps._crowded_faces(res, overlaps._LazyTree(coverage))) == 0


def test_identical_duplicate(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    geoms = np.concatenate([coverage, _objects([coverage[i]])])
    within, against = find_overlaps(geoms)
    assert against == []
    assert_same(within, {(i, N): coverage[i].area})


def test_reversed_duplicate(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    ring = list(coverage[i].geoms[0].exterior.coords)[::-1]
    reversed_copy = Polygon(ring)  # clockwise, and a Polygon rather than a MultiPolygon
    assert not reversed_copy.exterior.is_ccw
    geoms = np.concatenate([coverage, _objects([reversed_copy])])
    assert_same(find_overlaps(geoms)[0], {(i, N): coverage[i].area})


def test_parcel_shifted_over_its_neighbour(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    east = neighbour_east(coverage, i)
    geoms = coverage.copy()
    geoms[i] = affinity.translate(coverage[i], 3.0, 0.0)
    expected = brute_force(geoms)
    assert (min(i, east), max(i, east)) in expected
    assert_same(find_overlaps(geoms)[0], expected)


def test_polygon_nested_inside_a_parcel(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    c = coverage[i].centroid
    small = box(c.x - 0.7, c.y - 0.4, c.x + 0.7, c.y + 0.4)  # shares no vertex with anything
    assert coverage[i].contains(small)
    geoms = np.concatenate([coverage, _objects([small])])
    assert_same(find_overlaps(geoms)[0], {(i, N): small.area})


def test_tolerance(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    c = coverage[i].centroid
    below = box(c.x, c.y, c.x + 0.2, c.y + 0.2)  # 0.04 m²
    above = box(c.x, c.y, c.x + 0.2, c.y + 0.3)  # 0.06 m²
    geoms = np.concatenate([coverage, _objects([below])])
    assert find_overlaps(geoms)[0] == []
    assert as_dict(find_overlaps(geoms, tolerance=0.03)[0]) == pytest.approx({(i, N): 0.04})
    geoms = np.concatenate([coverage, _objects([above])])
    (overlap,) = find_overlaps(geoms)[0]
    assert (overlap.first, overlap.second) == (i, N)
    assert overlap.area == pytest.approx(0.06, rel=1e-6)


def test_small_shift_below_and_above_tolerance(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    east = neighbour_east(coverage, i)
    pair = (min(i, east), max(i, east))
    geoms = coverage.copy()
    geoms[i] = affinity.translate(coverage[i], 0.001, 0.0)  # a millimetre: a sliver
    sliver = brute_force(geoms, tolerance=0.0)[pair]
    assert 0.0 < sliver < 0.05
    assert pair not in as_dict(find_overlaps(geoms)[0])
    assert as_dict(find_overlaps(geoms, tolerance=0.0)[0])[pair] == pytest.approx(sliver, rel=1e-6)
    geoms[i] = affinity.translate(coverage[i], 0.05, 0.0)
    expected = brute_force(geoms)
    assert expected[pair] > 0.05
    assert_same(find_overlaps(geoms)[0], expected)


def test_none_and_non_polygons_are_ignored_and_indices_kept(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    geoms = _objects([None, Point(0, 0), *coverage[:50], None, coverage[i], coverage[i]])
    assert_same(find_overlaps(geoms)[0], {(len(geoms) - 2, len(geoms) - 1): coverage[i].area})


def test_holes_and_multipart_features(coverage: np.ndarray) -> None:
    i = interior_parcel(coverage)
    east = neighbour_east(coverage, i)
    c = coverage[i].centroid
    plug = box(c.x - 1.0, c.y - 1.0, c.x + 1.0, c.y + 1.5)
    holed = coverage[i].difference(plug)  # a parcel with an enclave, the enclave beside it
    assert len(holed.interiors) == 1
    geoms = coverage.copy()
    geoms[i] = holed
    geoms = np.concatenate([geoms, _objects([plug])])
    far = int(np.argmax(shapely.distance(coverage, coverage[i])))
    geoms[far] = MultiPolygon([*coverage[far].geoms, *coverage[east].geoms])
    geoms[east] = None
    assert find_overlaps(geoms)[0] == []  # touching only, hole orientation handled
    shifted = np.concatenate([geoms, _objects([affinity.translate(plug, 0.5, 0.5)])])
    doubled = np.concatenate([geoms, _objects([geoms[far]])])
    for case in (shifted, doubled):
        expected = brute_force(case)
        assert expected
        assert_same(find_overlaps(case)[0], expected)


def _grid(x_breaks: list[float], y_breaks: list[float]) -> list[Polygon]:
    return [
        box(x0, y0, x1, y1)
        for x0, x1 in itertools.pairwise(x_breaks)
        for y0, y1 in itertools.pairwise(y_breaks)
    ]


def test_two_coverages_matched_inside_are_all_found() -> None:
    """Every edge of every inner parcel has a reverse twin in its own version, yet the two
    versions overlap: a local "all edges matched" rule would miss the inner overlaps."""
    one = [float(v) for v in range(9)]  # version 1: unit grid over [0, 8]²
    two = [0.0, 2.0, 2.0 + 4 / 3, 2.0 + 8 / 3, 6.0, 8.0]  # version 2: other breaks, also
    # on the fence around [2, 6]², so neither version's edges meet the other's
    layer = _objects(
        [shapely.geometry.polygon.orient(p) for p in _grid(one, one) + _grid(two, two)]
    )
    expected = brute_force(layer)
    inner_one = next(k for k, p in enumerate(layer[:64]) if p.equals(box(3, 3, 4, 4)))
    inner_two = next(k for k, p in enumerate(layer) if k >= 64 and p.contains(Point(3.5, 3.5)))
    assert (inner_one, inner_two) in expected
    assert_same(find_overlaps(layer)[0], expected)


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15, 16])
@pytest.mark.parametrize("method", ["rays", "features", "pairwise"])
@pytest.mark.parametrize("encoded", [False, True], ids=["shapely", "wkb"])
def test_matches_brute_force_on_messy_data(
    seed: int, method: str, encoded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with the features as WKB, decoded in many small chunks (the importer's way):
    the two passes over the chunks and the offsets of each chunk must add up."""
    if encoded:
        monkeypatch.setattr(overlaps, "_CHUNK", 37)
    if method == "features":  # judge faces by counting features instead of ray casting
        monkeypatch.setattr(overlaps, "_RAY_BUDGET", 0.0)
    elif method == "pairwise":  # the fallback for layers whose neighbours rarely match
        monkeypatch.setattr(overlaps, "_RESIDUAL_PER_FEATURE", 0)
    rng = np.random.default_rng(seed)
    geoms = list(np.asarray(generate_layer(400, seed=seed).geometry.values, dtype=object))
    n = len(geoms)
    for _ in range(40):
        k = int(rng.integers(n))
        if geoms[k] is None:
            continue
        action = rng.integers(7)
        if action == 0:  # shifted a little or a lot
            dx, dy = rng.normal(0, rng.choice([0.01, 0.5, 3.0]), 2)
            geoms[k] = affinity.translate(geoms[k], dx, dy)
        elif action == 1:  # duplicated, maybe reversed
            copy = geoms[k] if rng.random() < 0.5 else shapely.reverse(geoms[k])
            geoms.append(copy)
        elif action == 2:  # a random box
            x, y = geoms[k].centroid.coords[0]
            w, h = rng.uniform(0.1, 8.0, 2)
            geoms.append(box(x, y, x + w, y + h))
        elif action == 3:  # deleted (a gap)
            geoms[k] = None
        elif action == 4:  # rotated
            geoms[k] = affinity.rotate(geoms[k], rng.uniform(-10, 10))
        elif action == 5:  # a hole with its plug
            c = geoms[k].centroid
            plug = c.buffer(0.5, quad_segs=2)
            if geoms[k].contains(plug):
                geoms[k] = shapely.orient_polygons(geoms[k].difference(plug))
                geoms.append(plug if rng.random() < 0.5 else affinity.translate(plug, 0.3, 0))
        else:  # merged with another parcel into a multipart feature
            other = int(rng.integers(n))
            if other != k and geoms[other] is not None:
                merged = shapely.union_all([geoms[k], geoms[other]])
                if merged.is_valid:
                    geoms[k] = merged
                    geoms[other] = None
    layer = _objects(geoms)
    assert shapely.is_valid(layer[shapely.get_type_id(layer) >= 0]).all()
    features = EncodedGeometries.of(layer) if encoded else layer
    assert_same(find_overlaps(features)[0], brute_force(layer))


def test_noding_fallback(coverage: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    geoms = coverage.copy()
    i = interior_parcel(coverage)
    geoms[i] = affinity.translate(coverage[i], 2.5, 1.0)
    expected = brute_force(geoms)

    def refuse(*args: object, **kwargs: object) -> None:
        raise shapely.errors.GEOSException("TopologyException: simulated")

    monkeypatch.setattr(shapely, "node", refuse)
    assert_same(find_overlaps(geoms)[0], expected)


@pytest.mark.parametrize("encoded", [False, True], ids=["shapely", "wkb"])
def test_against_others(coverage: np.ndarray, encoded: bool) -> None:
    bounds = shapely.bounds(coverage)
    split = np.median(bounds[:, 0])
    west = bounds[:, 0] < split
    mine, existing = coverage[west], coverage[~west]
    within, against = find_overlaps(mine, others=existing)
    assert within == [] and against == []  # neighbours only touch
    # An existing parcel overlapping the import, and one far away.
    i = int(np.argmax(bounds[west][:, 2]))
    intruder = affinity.translate(mine[i], 2.0, 0.0)
    others = np.concatenate([existing, _objects([intruder, None, box(0, 0, 1, 1)])])
    within, against = find_overlaps(EncodedGeometries.of(mine) if encoded else mine,
                                    others=others)
    assert within == []
    expected = brute_force(mine, others=others)
    assert (i, len(existing)) in expected
    assert_same(against, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_near_boxes_never_misses(seed: int) -> None:
    rng = np.random.default_rng(seed)

    def boxes(n: int, size: float) -> np.ndarray:
        lo = rng.uniform(0, 1000, (n, 2))
        return np.column_stack([lo, lo + rng.uniform(0, size, (n, 2))])

    mine, targets = boxes(5000, 20.0), boxes(300, 5.0)
    targets[:10, 2:] = targets[:10, :2]  # degenerate (point) boxes
    meets = (
        (mine[:, None, 0] <= targets[None, :, 2])
        & (mine[:, None, 2] >= targets[None, :, 0])
        & (mine[:, None, 1] <= targets[None, :, 3])
        & (mine[:, None, 3] >= targets[None, :, 1])
    ).any(axis=1)
    near = overlaps._near(mine, targets, cells=64)
    assert near[meets].all()
    assert near.sum() < len(mine)  # and it does reject


def test_others_far_away(coverage: np.ndarray) -> None:
    far = _objects([affinity.translate(coverage[0], 1e5, 0.0)])
    assert find_overlaps(coverage[:100], others=far) == ([], [])
    assert find_overlaps(coverage[:100], others=_objects([])) == ([], [])


# --------------------------------------------------------------------------------------
# check_geometries


def test_clean_coverage_is_accepted_untouched(coverage: np.ndarray) -> None:
    result = check_geometries(coverage)
    assert (result.reason_code == None).all()  # noqa: E711
    assert (result.reason == None).all()  # noqa: E711
    assert not result.repaired.any()
    assert all(a is b for a, b in zip(result.geometries, coverage, strict=True))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_rejections_and_reasons() -> None:
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    geoms = [
        None,
        Polygon(),
        MultiPolygon(),
        Point(1, 2),
        LineString([(0, 0), (1, 1)]),
        shapely.from_wkt("MULTIPOINT ((0 0), (1 1))"),
        GeometryCollection([square, Point(5, 5)]),
        Polygon([(0, 0), (1, 0), (1, math.nan), (0, 1)]),
        Polygon([(0, 0), (1, 0), (1, math.inf), (0, 1)]),
        Polygon([(0, 0), (1e9, 0), (1e9, 1), (0, 1)]),
        square,
    ]
    result = check_geometries(geoms)
    assert result.reason_code.tolist() == [
        "empty-geometry",
        "empty-geometry",
        "empty-geometry",
        "not-a-polygon",
        "not-a-polygon",
        "not-a-polygon",
        "not-a-polygon",
        "bad-coordinates",
        "bad-coordinates",
        "bad-coordinates",
        None,
    ]
    assert result.reason[3] == "Point geometry where a parcel polygon is expected"
    assert result.reason[4] == "LineString geometry where a parcel polygon is expected"
    assert result.reason[5] == "MultiPoint geometry where a parcel polygon is expected"
    assert "Point" in result.reason[6]
    assert result.reason[7] == result.reason[8] == "coordinate NaN/inf"
    assert result.reason[9] == "coordinate beyond 1e8 (not a projected coordinate)"
    assert result.geometries[:10].tolist() == [None] * 10
    assert result.geometries[10].geom_type == "MultiPolygon"
    assert result.geometries[10].equals(square)
    relaxed = check_geometries(geoms[9:10], max_abs_coordinate=1e10)
    assert relaxed.reason_code.tolist() == [None]


def test_normalisation() -> None:
    clockwise = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)])
    with_z = shapely.from_wkt("POLYGON Z ((0 0 5, 1 0 5, 1 1 5, 0 1 5, 0 0 5))")
    with_m = shapely.from_wkt("POLYGON M ((0 0 1, 1 0 1, 1 1 1, 0 1 1, 0 0 1))")
    collection = GeometryCollection([box(0, 0, 1, 1), MultiPolygon([box(2, 0, 3, 1)])])
    holed = Polygon(
        [(0, 0), (0, 4), (4, 4), (4, 0)],  # clockwise shell
        [[(1, 1), (2, 1), (2, 2), (1, 2)]],  # counter-clockwise hole
    )
    result = check_geometries([clockwise, with_z, with_m, collection, holed])
    assert (result.reason_code == None).all()  # noqa: E711
    out = result.geometries
    assert all(g.geom_type == "MultiPolygon" for g in out)
    assert not shapely.has_z(out).any()
    assert not shapely.has_m(out).any()
    assert len(out[3].geoms) == 2 and out[3].area == 2.0
    for g in out:
        for part in g.geoms:
            assert part.exterior.is_ccw
            assert all(not ring.is_ccw for ring in part.interiors)
    assert out[0].equals(clockwise) and out[4].equals(holed)


def test_bowtie_without_and_with_repair() -> None:
    bowtie = Polygon([(585000, 2326000), (585002, 2326002), (585002, 2326000), (585000, 2326002)])
    plain = check_geometries([bowtie])
    assert plain.reason_code.tolist() == ["invalid-geometry"]
    assert plain.reason[0] == "Self-intersection at or near point 585001 2326001"
    assert plain.geometries.tolist() == [None]
    assert not plain.repaired.any() and plain.repair_note.tolist() == [None]

    fixed = check_geometries([bowtie], repair=True)
    assert fixed.reason_code.tolist() == [None]
    assert fixed.repaired.tolist() == [True]
    assert fixed.repair_note[0] == plain.reason[0]
    g = fixed.geometries[0]
    assert g.geom_type == "MultiPolygon" and len(g.geoms) == 2 and g.is_valid
    assert g.area == pytest.approx(2.0)
    assert all(part.exterior.is_ccw for part in g.geoms)


@pytest.mark.parametrize(
    "wkt",
    [
        # An inner loop run the other way round: winding 0 inside it, the repair would drop
        # 4 % of the area the outline encloses.
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 5, 4 5, 4 7, 6 7, 6 5, 0 5, 0 0))",
        "POLYGON ((0 0, 10 0, 20 0, 0 0))",  # collapsed: nothing left
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (-1 -1, 11 -1, 11 11, -1 11, -1 -1))",
    ],
)
def test_unsafe_repairs_stay_rejected(wkt: str) -> None:
    result = check_geometries([shapely.from_wkt(wkt)], repair=True)
    assert result.reason_code.tolist() == ["invalid-geometry"]
    assert "repair not safe" in result.reason[0]
    assert result.geometries.tolist() == [None]
    assert not result.repaired.any()


def test_safe_repairs() -> None:
    spike = shapely.from_wkt("POLYGON ((0 0, 10 0, 10 10, 5 10, 5 20, 5 10, 0 10, 0 0))")
    overlapping_parts = shapely.from_wkt(
        "MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10, 0 0)), ((5 5, 15 5, 15 15, 5 15, 5 5)))"
    )
    result = check_geometries([spike, overlapping_parts], repair=True)
    assert result.repaired.tolist() == [True, True]
    assert [g.area for g in result.geometries] == pytest.approx([100.0, 175.0])
    assert result.repair_note[1].startswith("Self-intersection at or near point")


def test_empty_input_and_empty_parts() -> None:
    result = check_geometries([])
    assert len(result.geometries) == 0 and result.repaired.dtype == bool
    assert find_overlaps(np.empty(0, dtype=object)) == ([], [])
    part_empty = shapely.from_wkt("MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 0)))")
    (fixed,) = check_geometries([part_empty]).geometries
    assert fixed.wkt == "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"
    layer = _objects([Polygon(), box(0, 0, 1, 1), MultiPolygon(), box(0.5, 0, 2, 1), Polygon()])
    assert find_overlaps(layer)[0] == [Overlap(1, 3, 0.5)]


# --------------------------------------------------------------------------------------
# duplicate_keys, area_mismatch


def test_duplicate_keys() -> None:
    keys = [("A", 1, 5), ("A", 1, 6), ("A", 1, 5), ("B", 1, 5), ("A", None, 7), ("A", None, 7)]
    assert duplicate_keys(keys).tolist() == [True, False, True, False, False, False]
    flat = np.array(["x/1/1", "x/1/2", "x/1/1", None], dtype=object)
    assert duplicate_keys(flat).tolist() == [True, False, True, False]
    table = np.array([[1, 2], [1, 3], [1, 2]])
    assert duplicate_keys(table).tolist() == [True, False, True]
    assert duplicate_keys([]).tolist() == []
    columns = pd.DataFrame({  # Arrow strings and nullable integers, as the importer has them
        "commune": pd.array(["A", "A", "A", "B", "A", "A"], dtype="string[pyarrow]"),
        "sheet": pd.array(["1", "1", "1", "1", None, None], dtype="string[pyarrow]"),
        "number": pd.array([5, 6, 5, 5, 7, 7], dtype="Int64"),
    })
    assert duplicate_keys(columns).tolist() == [True, False, True, False, False, False]


def test_area_mismatch() -> None:
    g = box(0, 0, 10, 10)  # 100 m²
    geoms = _objects([g, g, g, g, g, g, None, box(0, 0, 2, 1)])
    recorded = np.array([100.0, 104.9, 106.0, math.nan, 0.0, 90.0, 50.0, 3.5])
    assert area_mismatch(geoms, recorded).tolist() == [
        False, False, True, False, False, True, False, True,
    ]  # fmt: skip
    # small parcels: the absolute floor (1 m²) applies
    assert area_mismatch(_objects([box(0, 0, 2, 1)]), [2.9]).tolist() == [False]
    assert area_mismatch(_objects([g]), [None]).tolist() == [False]
    assert area_mismatch(_objects([g]), [104.0], tolerance=0.01).tolist() == [True]
