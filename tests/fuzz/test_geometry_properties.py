"""Property tests for geometry input: whatever geometry a file or a request holds, the checks
answer with a reason, never an exception.

(a) ``gis.validity`` and ``gis.overlaps`` (what the importer runs on every feature) on random geometries: valid
    and self-intersecting polygons, holes outside their shell, empties, NaN/inf and huge
    coordinates, points, lines, collections, Z coordinates;
(b) the WKT of the change operations (split by children or by a cutting line, boundary
    correction, reprojection of the input) on arbitrary text, WKT of every type with
    broken numbers, mutated real WKT, shapes near the real parcel and too many vertices:
    a change is made or refused with a CadastreError (422, 409, 404), nothing else; the
    same through ``POST /api/v1/changes/split``, which answers 422 problem+json.

Bounded and reproducible (derandomised); ``FUZZ_EXAMPLES`` raises the number of examples."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from shapely import affinity
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.ops import split

from cadastre.changes import spatial
from cadastre.changes.service import SourceDocument
from cadastre.errors import CadastreError, InvalidInput
from cadastre.synth import generate_layer, write_layer
from gis import overlaps, validity
from importers.pipeline import ImportOptions, run_import
from tests.areas import area_mismatch
from tests.fuzz.conftest import fuzz_examples, record_stats

#: NaN and infinite coordinates are what these tests feed shapely on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

SURVEY = SourceDocument("survey", "Biên bản đo đạc 14/2026")
REJECTION_CODES = {"empty-geometry", "not-a-polygon", "bad-coordinates", "invalid-geometry"}
LIMIT = 1e8  # check_geometries' default max_abs_coordinate


def _settings(default: int) -> settings:
    return settings(max_examples=fuzz_examples(default), derandomize=True, deadline=None,
                    database=None, suppress_health_check=list(HealthCheck))


# -- (a) random geometries through the importer's checks ---------------------------------

SPECIAL = [0.0, -0.0, 1e8, -1e8, 1e8 + 1, 1e15, 1e308, -1e308, 5e-324,
           math.nan, math.inf, -math.inf]
coordinates = st.one_of(st.floats(-1000, 1000), st.sampled_from(SPECIAL),
                        st.floats(allow_nan=True, allow_infinity=True))
points = st.tuples(coordinates, coordinates)


def polygon(shell: list[tuple[float, float]], holes: list[Any] = ()) -> Polygon:
    """Any ring, closed explicitly: GEOS cannot close a ring whose first point is NaN (NaN
    is not equal to itself), so such a ring starts at a finite point, or at the origin."""
    def closed(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
        start = next((i for i, p in enumerate(ring) if all(map(math.isfinite, p))), None)
        ring = ring[start:] + ring[:start] if start is not None else [(0.0, 0.0), *ring]
        return [*ring, ring[0]]

    return Polygon(closed(shell), [closed(h) for h in holes])


@st.composite
def rings(draw: st.DrawFn) -> list[tuple[float, float]]:
    """Random rings: mostly self-intersecting, some degenerate (repeated points)."""
    return draw(st.lists(points, min_size=3, max_size=12))


@st.composite
def squares(draw: st.DrawFn) -> Polygon:
    """A valid polygon, possibly with a hole that may stick out of it (invalid)."""
    x, y = draw(coordinates), draw(coordinates)
    size = draw(st.one_of(st.floats(1e-9, 1e4), st.sampled_from(SPECIAL)))
    shell = [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]
    if draw(st.booleans()):
        hx, hy, hs = draw(st.floats(0, 1)), draw(st.floats(0, 1)), draw(st.floats(0.01, 1.5))
        hole = [(x + hx * size, y + hy * size), (x + (hx + hs) * size, y + hy * size),
                (x + (hx + hs) * size, y + (hy + hs) * size), (x + hx * size, y + (hy + hs) * size)]
        return polygon(shell, [hole])
    return polygon(shell)


def bowtie(x: float, y: float, size: float) -> Polygon:
    return polygon([(x, y), (x + size, y + size), (x + size, y), (x, y + size)])


@st.composite
def any_geometry(draw: st.DrawFn, depth: int = 0) -> Any:
    kind = draw(st.sampled_from(
        ["ring", "square", "bowtie", "empty", "point", "line", "multi", "collection",
         "none", "z"] if depth == 0 else ["ring", "square", "bowtie", "point", "line"]))
    if kind == "ring":
        return polygon(draw(rings()))
    if kind == "square":
        return draw(squares())
    if kind == "bowtie":
        return bowtie(draw(coordinates), draw(coordinates), draw(st.floats(1e-6, 1e3)))
    if kind == "empty":
        return draw(st.sampled_from([Polygon(), MultiPolygon(), Point(), LineString(),
                                     GeometryCollection(), shapely.from_wkt("POLYGON Z EMPTY")]))
    if kind == "point":
        return Point(draw(points))
    if kind == "line":
        return LineString(draw(st.lists(points, min_size=2, max_size=6)))
    if kind == "multi":
        parts = draw(st.lists(st.one_of(squares(), st.builds(polygon, rings())), min_size=1,
                              max_size=4))
        return MultiPolygon(parts)
    if kind == "collection":
        return GeometryCollection(draw(st.lists(any_geometry(depth=1), max_size=3)))
    if kind == "z":
        return shapely.force_3d(draw(squares()), draw(st.floats(allow_nan=False)))
    return None


geometry_arrays = st.lists(any_geometry(), min_size=1, max_size=25).map(
    lambda gs: np.array(gs, dtype=object))


@_settings(300)
@given(geoms=geometry_arrays, repair=st.booleans())
def test_every_geometry_is_accepted_clean_or_rejected_with_a_reason(geoms, repair):
    checked = validity.check_geometries(geoms, repair=repair)
    assert len(checked.geometries) == len(checked.reason_code) == len(geoms)
    for i in range(len(geoms)):
        accepted, code, reason = (checked.geometries[i], checked.reason_code[i],
                                  checked.reason[i])
        assert (accepted is None) != (code is None), (geoms[i], code)
        if code is not None:
            assert code in REJECTION_CODES
            assert isinstance(reason, str) and reason.strip(), (geoms[i], code)
            continue
        assert accepted.geom_type == "MultiPolygon" and not accepted.is_empty
        assert accepted.is_valid and not accepted.has_z
        xy = shapely.get_coordinates(accepted)
        assert np.isfinite(xy).all() and np.abs(xy).max() <= LIMIT


@_settings(150)
@given(geoms=geometry_arrays, areas=st.lists(st.floats(allow_nan=True), min_size=25,
                                              max_size=25))
def test_overlap_and_area_checks_take_whatever_the_first_check_accepted(geoms, areas):
    accepted = validity.check_geometries(geoms, repair=True).geometries
    overlaps.find_overlaps(accepted, tolerance=0.05)
    overlaps.find_overlaps(accepted[: len(accepted) // 2], tolerance=0.0,
                           others=accepted[len(accepted) // 2:])
    good = accepted[accepted != None]  # noqa: E711
    area_mismatch(good, np.array(areas[: len(good)], dtype=float), tolerance=0.05)


# -- (b) WKT given to the change operations ----------------------------------------------

NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e308", "0", "-0",
                     "1e", ".", "-", "0x10", "1_000", "１２", ""]),
    st.integers(-10**30, 10**30).map(str))
TYPES = ["POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON",
         "GEOMETRYCOLLECTION", "CIRCULARSTRING", "COMPOUNDCURVE", "CURVEPOLYGON",
         "MULTISURFACE", "TRIANGLE", "TIN", "POLYHEDRALSURFACE", "FOO"]


#: Well-formed WKT of every type PostGIS reads, curved and 3D ones included.
EXOTIC = [
    "POINT(585000 2326000)", "MULTIPOINT((0 0),(1 1))", "LINESTRING(0 0, 0 0)",
    "LINESTRING Z (584940 2326050 1, 584980 2326060 2)", "MULTILINESTRING((0 0, 1 1))",
    "POLYGON((0 0, 1 0, 1 1, 0 0))", "POLYGON((0 0, 0 0, 0 0, 0 0))",
    "POLYGON M((0 0 1, 0 1 1, 1 1 1, 0 0 1))", "POLYGON ZM((0 0 1 2, 0 1 1 2, 1 1 1 2, 0 0 1 2))",
    "POLYGON((0 0, 0 1, 1 1, 0 0), (5 5, 6 6, 5 6, 5 5))", "MULTIPOLYGON EMPTY",
    "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), EMPTY)", "POLYGON((0 0, 2 2, 2 0, 0 2, 0 0))",
    "TRIANGLE((0 0, 0 1, 1 1, 0 0))", "TIN(((0 0 0, 0 1 0, 1 1 0, 0 0 0)))",
    "POLYHEDRALSURFACE(((0 0 0, 0 1 0, 1 1 0, 0 0 0)))",
    "CIRCULARSTRING(0 0, 1 1, 2 0)", "COMPOUNDCURVE((0 0, 1 1), CIRCULARSTRING(1 1, 2 2, 3 1))",
    "CURVEPOLYGON(CIRCULARSTRING(0 0, 1 1, 2 0, 1 -1, 0 0))",
    "MULTICURVE((0 0, 1 1))", "MULTISURFACE(((0 0, 0 1, 1 1, 0 0)))",
    "GEOMETRYCOLLECTION(POLYGON((0 0, 1 0, 1 1, 0 0)))", "GEOMETRYCOLLECTION EMPTY",
    "GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(POINT(1 1))))",
    "SRID=4326;POLYGON((105.8 21.0, 105.9 21.0, 105.9 21.1, 105.8 21.0))",
    "POLYGON((1e308 0, -1e308 0, 0 1e308, 1e308 0))", "POLYGON((0 0, 1e-300 0, 0 1e-300, 0 0))",
]


@st.composite
def wkt_like(draw: st.DrawFn) -> str:
    """WKT of any type and dimension, with numbers that may not be numbers and parentheses
    that may not balance."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(EXOTIC))
    head = draw(st.sampled_from(TYPES)) + draw(st.sampled_from(["", " Z", " M", " ZM", "Z"]))
    if draw(st.integers(0, 9)) == 0:
        return f"{head} EMPTY"
    dims = draw(st.integers(1, 4))
    coords = draw(st.lists(st.lists(NUMBERS, min_size=dims, max_size=dims).map(" ".join),
                           min_size=0, max_size=8))
    body = ", ".join(coords)
    depth = draw(st.integers(0, 3))
    text = f"{head}{'(' * depth}{body}{')' * draw(st.integers(0, 3))}"
    if draw(st.booleans()):
        text = draw(st.sampled_from(["SRID=4326;", "SRID=-1;", "SRID=99999;", "srid=5897;"])
                    ) + text
    return text


def mutated(base: str) -> st.SearchStrategy[str]:
    """The real WKT with a slice cut out, text put in, or a number replaced."""
    return st.tuples(st.integers(0, len(base)), st.integers(0, 40),
                     st.text(alphabet="0123456789.,-() eEnaifPOLYGNZM", max_size=8)).map(
        lambda t: base[: t[0]] + t[2] + base[t[0] + t[1]:])


def too_many_vertices(n: int) -> str:
    """A polygon of exactly ``n`` vertices (the closing one included)."""
    angles = np.linspace(0, 2 * np.pi, n - 1, endpoint=False)
    ring = [(585_000 + 50 * np.cos(a), 2_326_000 + 50 * np.sin(a)) for a in angles]
    return Polygon(ring).wkt


@pytest.fixture
def parcels(conn, tmp_path) -> dict[str, Any]:
    """A sheet of 60 parcels in the test's rolled-back transaction: a parcel and a neighbour
    sharing a boundary line, with their shapes."""
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(60, seed=12), path)
    run_import(conn, path, ImportOptions())
    row = conn.execute(sa.text(
        "SELECT a.parcel_id AS a, b.parcel_id AS b, ST_AsText(a.geom) AS a_wkt, "
        "ST_AsText(b.geom) AS b_wkt FROM current_parcel a JOIN current_parcel b "
        "ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
        "AND ST_Relate(a.geom, b.geom, 'F***1****') ORDER BY a.parcel_id LIMIT 1")).one()
    return dict(row._mapping)


@st.composite
def moved_boundary(draw: st.DrawFn, a_wkt: str, b_wkt: str) -> tuple[str, str]:
    """The two neighbours with a strip of the second given to the first (what a real
    boundary correction sends), possibly nudged: the pair's outer boundary is kept."""
    a, b = shapely.from_wkt(a_wkt), shapely.from_wkt(b_wkt)
    strip = shapely.intersection(b, shapely.buffer(a, draw(st.floats(0.01, 30))))
    first, second = shapely.union(a, strip), shapely.difference(b, strip)
    nudge = draw(st.sampled_from([0.0, 0.0, 1e-7, 0.01, 0.5]))
    if nudge:
        second = affinity.translate(second, nudge, 0)
    return first.wkt, second.wkt


@st.composite
def near_the_parcel(draw: st.DrawFn, wkt: str) -> tuple[str, str, str]:
    """The parcel cut in pieces by a random line (what a real split sends) and the line,
    the pieces possibly nudged or densified: deep into the area and topology rules."""
    shape = shapely.from_wkt(wkt)
    x0, y0, x1, y1 = shape.bounds
    t, u = draw(st.floats(-0.2, 1.2)), draw(st.floats(-0.2, 1.2))
    line = (LineString([(x0 + t * (x1 - x0), y0 - 1), (x0 + u * (x1 - x0), y1 + 1)])
            if draw(st.booleans()) else
            LineString([(x0 - 1, y0 + t * (y1 - y0)), (x1 + 1, y0 + u * (y1 - y0))]))
    pieces = list(split(shape, line).geoms)
    first, second = (pieces[0], pieces[1]) if len(pieces) > 1 else (shape, shape)
    nudge = draw(st.sampled_from([0.0, 0.0, 1e-7, 0.01, 0.5, 5.0]))
    if nudge:
        first = affinity.translate(first, nudge, -nudge)
    if draw(st.booleans()):
        second = shapely.segmentize(second, draw(st.sampled_from([0.05, 0.5, 5.0])))
    return first.wkt, second.wkt, line.wkt


OUTCOMES: Counter[str] = Counter()


def _outcome(operation: Any) -> str:
    """Run a change in a savepoint rolled back afterwards: 'made', or the error's code.
    Anything but a CadastreError fails the test."""
    try:
        operation()
    except CadastreError as exc:
        assert exc.message.strip()
        return exc.code
    return "made"


@_settings(200)
@given(data=st.data())
def test_wkt_of_changes_is_applied_or_refused_with_a_clear_error(conn, parcels, data):
    a, b = parcels["a"], parcels["b"]
    text = st.one_of(st.text(max_size=60), wkt_like(), mutated(parcels["a_wkt"]))
    near = near_the_parcel(parcels["a_wkt"])
    first, second, line = data.draw(near)
    choice = data.draw(st.sampled_from(["children", "cut", "boundary", "reproject"]))
    if choice == "boundary":
        first, second = data.draw(moved_boundary(parcels["a_wkt"], parcels["b_wkt"]))
    if data.draw(st.booleans()):  # or text instead of a real shape
        first = data.draw(text)
    if data.draw(st.integers(0, 3)) == 0:
        second, line = data.draw(text), data.draw(text)
    srid = data.draw(st.sampled_from([5897, 4326, 3857, 9210]))

    def run() -> None:
        if choice == "children":
            spatial.split_parcel(conn, a, SURVEY, children_wkt=[first, second])
        elif choice == "cut":
            spatial.split_parcel(conn, a, SURVEY, cut_line_wkt=line)
        elif choice == "boundary":
            spatial.correct_boundary(conn, a, first, b, second, SURVEY)
        else:
            spatial.to_storage_wkt(conn, first, srid)

    savepoint = conn.begin_nested()
    try:
        OUTCOMES[f"{choice}: {_outcome(run)}"] += 1
    finally:
        savepoint.rollback()
    record_stats("geometry", {"change_outcomes": dict(OUTCOMES)})


@_settings(60)
@given(wkt=st.one_of(st.text(max_size=80), wkt_like()))
def test_text_that_is_not_a_parcel_shape_is_refused_as_invalid_input(conn, parcels, wkt):
    for call in (lambda: spatial.split_parcel(conn, parcels["a"], SURVEY,
                                              children_wkt=[wkt, parcels["a_wkt"]]),
                 lambda: spatial.correct_boundary(conn, parcels["a"], wkt, parcels["b"],
                                                  parcels["b_wkt"], SURVEY)):
        savepoint = conn.begin_nested()
        try:
            with pytest.raises(InvalidInput) as refused:
                call()
            assert refused.value.message.strip()
        finally:
            savepoint.rollback()


@pytest.mark.parametrize("vertices", [spatial.MAX_VERTICES + 1, 3 * spatial.MAX_VERTICES])
def test_too_many_vertices_is_refused_with_the_limit(conn, parcels, vertices):
    with pytest.raises(InvalidInput, match=rf"{vertices:,} vertices; the limit is 10,000"):
        spatial.split_parcel(conn, parcels["a"], SURVEY,
                             children_wkt=[too_many_vertices(vertices), parcels["a_wkt"]])


# -- (b) the same through the API --------------------------------------------------------

@pytest.fixture(scope="module")
def officer(fuzz_app, caller_headers) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    with TestClient(fuzz_app) as client:
        yield client, caller_headers("land_officer"), 5


@_settings(60)
@given(children=st.lists(st.one_of(st.text(max_size=60), wkt_like()), min_size=2,
                         max_size=3),
       cut=st.booleans())
def test_split_over_http_answers_422_problem_json(officer, children, cut):
    client, headers, parcel_id = officer
    tag = client.get(f"/api/v1/parcels/{parcel_id}", headers=headers).headers["ETag"]
    body: dict[str, Any] = {"parcel_id": parcel_id, "source": {"kind": "survey",
                                                               "reference": "fuzz"}}
    body["cut_line" if cut else "children"] = children[0] if cut else children
    response = client.post("/api/v1/changes/split", json=body,
                           headers={**headers, "If-Match": tag})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["code"] in ("invalid-input", "nul-character")
    assert problem["detail"]
    record_stats("geometry", {"api_split_examples": fuzz_examples(60)})
