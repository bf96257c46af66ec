"""Geometry input of the map changes that the fuzzer (tests/fuzz/test_geometry_properties.py)
found ending in a database error: each is an InvalidInput saying what is wrong, and the
database is unchanged."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import LineString
from shapely.ops import split

from cadastre.changes.service import SourceDocument
from cadastre.changes.spatial import correct_boundary, split_parcel, to_storage_wkt
from cadastre.errors import InvalidInput
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import

SURVEY = SourceDocument("survey", "Biên bản đo đạc 14/2026")


@pytest.fixture
def pair(conn, tmp_path):
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(60, seed=12), path)
    run_import(conn, path, ImportOptions())
    return conn.execute(sa.text(
        "SELECT a.parcel_id AS a, b.parcel_id AS b, ST_AsText(a.geom) AS a_wkt, "
        "ST_AsText(ST_Union(a.geom, b.geom)) AS both_wkt FROM current_parcel a "
        "JOIN current_parcel b ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
        "AND ST_Relate(a.geom, b.geom, 'F***1****') ORDER BY a.parcel_id LIMIT 1")).one()


def _corner_cut(wkt: str) -> str:
    """A cutting line that clips a corner of the parcel a few millimetres deep."""
    shape = shapely.from_wkt(wkt)
    ring = list(shapely.get_parts(shape)[0].exterior.coords)[:-1]
    for i, (x, y) in enumerate(ring):
        (ax, ay), (bx, by) = ring[i - 1], ring[(i + 1) % len(ring)]
        p = (x + (ax - x) * 0.001, y + (ay - y) * 0.001)
        q = (x + (bx - x) * 0.001, y + (by - y) * 0.001)
        line = LineString([(p[0] + (p[0] - q[0]) * 50, p[1] + (p[1] - q[1]) * 50),
                           (q[0] + (q[0] - p[0]) * 50, q[1] + (q[1] - p[1]) * 50)])
        pieces = list(split(shape, line).geoms)
        if len(pieces) == 2 and min(p.area for p in pieces) < 0.005:
            return line.wkt
    raise AssertionError("no convex corner")


def _versions(conn) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM parcel")).scalar_one())


def test_a_cut_that_clips_a_corner_is_a_sliver_not_a_parcel(conn, pair):
    before = _versions(conn)
    with pytest.raises(InvalidInput, match=r"child \d would measure 0\.00 m² .* a sliver"):
        split_parcel(conn, pair.a, SURVEY, cut_line_wkt=_corner_cut(pair.a_wkt))
    assert _versions(conn) == before


def test_an_empty_child_is_refused(conn, pair):
    with pytest.raises(InvalidInput, match=r"child 2 would measure 0\.00 m²"):
        split_parcel(conn, pair.a, SURVEY, children_wkt=[pair.a_wkt, "MULTIPOLYGON EMPTY"])


def test_a_boundary_correction_may_not_empty_a_parcel(conn, pair):
    with pytest.raises(InvalidInput, match=rf"parcel {pair.b} would measure 0\.00 m²"):
        correct_boundary(conn, pair.a, pair.both_wkt, pair.b, "POLYGON EMPTY", SURVEY)


@pytest.mark.parametrize(("cut", "message"), [
    ("POINT(585000 2326000)", "the cutting line is a Point, not a LINESTRING"),
    ("POLYGON((0 0, 1 0, 1 1, 0 0))", "the cutting line is a Polygon, not a LINESTRING"),
])
def test_a_cutting_line_must_be_a_line(conn, pair, cut, message):
    with pytest.raises(InvalidInput, match=message):
        split_parcel(conn, pair.a, SURVEY, cut_line_wkt=cut)


@pytest.mark.parametrize("child", [
    "POLYHEDRALSURFACE(((0 0 0, 0 1 0, 1 1 0, 0 0 0)))",
    "TIN(((0 0 0, 0 1 0, 1 1 0, 0 0 0)))",
    "CURVEPOLYGON(CIRCULARSTRING(0 0, 1 1, 2 0, 1 -1, 0 0))",
])
def test_children_of_other_types_are_not_polygons(conn, pair, child):
    with pytest.raises(InvalidInput, match=r"child 1 is not a polygon \("):
        split_parcel(conn, pair.a, SURVEY, children_wkt=[child, pair.a_wkt])


def test_children_with_z_are_compared_in_2d(conn, pair):
    raised = shapely.force_3d(shapely.from_wkt(pair.a_wkt), 12.5).wkt
    with pytest.raises(InvalidInput, match="the children overlap each other"):
        split_parcel(conn, pair.a, SURVEY, children_wkt=[raised, pair.a_wkt])


def test_wkt_holding_nul_is_not_readable(conn, pair):
    with pytest.raises(InvalidInput, match="the geometry is not readable WKT"):
        to_storage_wkt(conn, "POINT(1 1)\x00", 5897)
