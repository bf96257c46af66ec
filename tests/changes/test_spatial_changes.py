"""Purpose change, split, merge and boundary correction over a real PostGIS: the rules
(cover exactly, touch, keep the outer boundary, shares of area), lineage, carried rights,
and "as of" before and after."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cadastre.changes.service import InjunctionActive, SourceDocument, set_injunction
from cadastre.changes.spatial import (
    Purpose,
    change_purpose,
    correct_boundary,
    merge_parcels,
    split_parcel,
)
from cadastre.errors import InvalidInput, ParcelNotFound
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import

DECISION = SourceDocument("decision", "312/QĐ-UBND", issuer="UBND quận Hoàn Kiếm")


@pytest.fixture
def sheet(conn, tmp_path):
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(60, seed=12), path)
    run_import(conn, path, ImportOptions())


def _one(conn, sql, **params):
    return conn.execute(sa.text(sql), params).one()


@pytest.fixture
def held(conn, sheet):
    """A privately held parcel with one land-use purpose."""
    return conn.execute(sa.text(
        "SELECT p.parcel_id FROM current_parcel p JOIN current_land_right r USING (parcel_id) "
        "WHERE r.kind = 'land_use' AND (SELECT count(*) FROM parcel_land_use u "
        "WHERE u.parcel_version_id = p.version_id) = 1 ORDER BY p.area_legal DESC "
        "LIMIT 1")).scalar_one()


@pytest.fixture
def neighbours(conn, sheet):
    """Two current parcels sharing a boundary line."""
    row = _one(conn, "SELECT a.parcel_id AS a, b.parcel_id AS b FROM current_parcel a "
                     "JOIN current_parcel b ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
                     "AND ST_Relate(a.geom, b.geom, 'F***1****') ORDER BY a.parcel_id LIMIT 1")
    return row.a, row.b


def _cut_line(conn, parcel_id):
    return conn.execute(sa.text(
        "SELECT ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(g) - 1), "
        "ST_MakePoint(ST_X(c), ST_YMax(g) + 1))) FROM (SELECT geom AS g, "
        "ST_Centroid(geom) AS c FROM current_parcel WHERE parcel_id = :p) x"),
        {"p": parcel_id}).scalar_one()


def test_split_by_a_cutting_line(conn, held):
    parent = _one(conn, "SELECT version_id, ST_Area(geom) AS area, sheet_number FROM "
                        "current_parcel WHERE parcel_id = :p", p=held)
    result, children = split_parcel(conn, held, DECISION, cut_line_wkt=_cut_line(conn, held))
    assert len(children) >= 2
    assert conn.execute(sa.text("SELECT count(*) FROM current_parcel WHERE parcel_id = :p"),
                        {"p": held}).scalar_one() == 0
    kids = conn.execute(sa.text(
        "SELECT parcel_id, parcel_number, sheet_number, ST_Area(geom) AS area FROM "
        "current_parcel WHERE parcel_id = ANY(:c)"), {"c": children}).all()
    assert sum(k.area for k in kids) == pytest.approx(parent.area, abs=0.01)
    assert {k.sheet_number for k in kids} == {parent.sheet_number}
    lineage = conn.execute(sa.text(
        "SELECT child_parcel_id FROM parcel_lineage WHERE parent_parcel_id = :p"),
        {"p": held}).scalars().all()
    assert sorted(lineage) == sorted(children)
    # rights carried to every child, the parent's ended
    assert conn.execute(sa.text(
        "SELECT count(DISTINCT parcel_id) FROM current_land_right WHERE parcel_id = ANY(:c)"),
        {"c": children}).scalar_one() == len(children)
    assert conn.execute(sa.text(
        "SELECT count(*) FROM current_land_right WHERE parcel_id = :p"),
        {"p": held}).scalar_one() == 0
    # as of: before the split the parent, after it the children
    at = conn.execute(sa.text("SELECT happened_at FROM change_transaction WHERE id = :c"),
                      {"c": result.change_id}).scalar_one()
    before = conn.execute(sa.text(
        "SELECT parcel_id FROM parcels_as_of(:t) WHERE parcel_id = ANY(:ids)"),
        {"t": at - timedelta(microseconds=1), "ids": [held, *children]}).scalars().all()
    after = conn.execute(sa.text(
        "SELECT parcel_id FROM parcels_as_of(:t) WHERE parcel_id = ANY(:ids)"),
        {"t": at, "ids": [held, *children]}).scalars().all()
    assert before == [held]
    assert sorted(after) == sorted(children)


def test_split_refusals_leave_the_database_unchanged(conn, held):
    before = conn.execute(sa.text("SELECT count(*) FROM parcel")).scalar_one()
    box = _one(conn, "SELECT ST_XMin(geom) AS x0, ST_YMin(geom) AS y0, ST_XMax(geom) AS x1, "
                     "ST_YMax(geom) AS y1 FROM current_parcel WHERE parcel_id = :p", p=held)
    far = f"LINESTRING({box.x1 + 50} {box.y0}, {box.x1 + 50} {box.y1})"
    with pytest.raises(InvalidInput, match="does not cross the parcel"):
        split_parcel(conn, held, DECISION, cut_line_wkt=far)
    half = f"POLYGON(({box.x0} {box.y0}, {(box.x0 + box.x1) / 2} {box.y0}, " \
           f"{(box.x0 + box.x1) / 2} {box.y1}, {box.x0} {box.y1}, {box.x0} {box.y0}))"
    with pytest.raises(InvalidInput, match="do not cover the parent exactly|overlap"):
        split_parcel(conn, held, DECISION, children_wkt=[half, half])
    with pytest.raises(InvalidInput, match="either a cutting line or"):
        split_parcel(conn, held, DECISION)
    assert conn.execute(sa.text("SELECT count(*) FROM parcel")).scalar_one() == before


def test_merge_of_neighbours(conn, neighbours):
    a, b = neighbours
    with pytest.raises(InvalidInput, match="different holders"):
        merge_parcels(conn, [a, b], DECISION)
    total = conn.execute(sa.text(
        "SELECT sum(ST_Area(geom)) FROM current_parcel WHERE parcel_id IN (:a, :b)"),
        {"a": a, "b": b}).scalar_one()
    result, merged = merge_parcels(conn, [a, b], DECISION, allow_different_holders=True)
    row = _one(conn, "SELECT ST_Area(geom) AS area, ST_NumGeometries(geom) AS parts FROM "
                     "current_parcel WHERE parcel_id = :p", p=merged)
    assert row.area == pytest.approx(total, abs=0.01)
    assert row.parts == 1
    parents = conn.execute(sa.text(
        "SELECT parent_parcel_id FROM parcel_lineage WHERE child_parcel_id = :c "
        "ORDER BY 1"), {"c": merged}).scalars().all()
    assert parents == [a, b]
    at = conn.execute(sa.text("SELECT happened_at FROM change_transaction WHERE id = :c"),
                      {"c": result.change_id}).scalar_one()
    before = conn.execute(sa.text(
        "SELECT parcel_id FROM parcels_as_of(:t) WHERE parcel_id IN (:a, :b, :m) ORDER BY 1"),
        {"t": at - timedelta(microseconds=1), "a": a, "b": b, "m": merged}).scalars().all()
    assert before == [a, b]


def test_parcels_that_do_not_touch_cannot_be_merged(conn, sheet):
    far = _one(conn, "SELECT a.parcel_id AS a, b.parcel_id AS b FROM current_parcel a "
                     "JOIN current_parcel b ON a.parcel_id < b.parcel_id "
                     "AND ST_Distance(a.geom, b.geom) > 5 LIMIT 1")
    with pytest.raises(InvalidInput, match="do not share a boundary"):
        merge_parcels(conn, [far.a, far.b], DECISION, allow_different_holders=True)


def test_boundary_correction_keeps_the_outer_boundary(conn, neighbours):
    a, b = neighbours
    shapes = _one(conn, """
        WITH p AS (SELECT (SELECT geom FROM current_parcel WHERE parcel_id = :a) AS a,
                          (SELECT geom FROM current_parcel WHERE parcel_id = :b) AS b),
             s AS (SELECT a, b, ST_Intersection(a, ST_Buffer(b, 1.0)) AS strip FROM p)
        SELECT ST_AsText(ST_Difference(a, strip)) AS a2, ST_AsText(ST_Union(b, strip)) AS b2,
               ST_Area(a) AS area_a FROM s""", a=a, b=b)
    correct_boundary(conn, a, shapes.a2, b, shapes.b2, DECISION)
    new_area = conn.execute(sa.text(
        "SELECT ST_Area(geom) FROM current_parcel WHERE parcel_id = :a"), {"a": a}).scalar_one()
    assert new_area < shapes.area_a - 0.5
    assert conn.execute(sa.text(
        "SELECT count(*) FROM parcel WHERE parcel_id IN (:a, :b)"),
        {"a": a, "b": b}).scalar_one() == 4  # two versions each, same identities
    moved = conn.execute(sa.text(
        "SELECT ST_AsText(ST_Buffer(geom, 2)) FROM current_parcel WHERE parcel_id = :b"),
        {"b": b}).scalar_one()
    current_a = conn.execute(sa.text(
        "SELECT ST_AsText(geom) FROM current_parcel WHERE parcel_id = :a"),
        {"a": a}).scalar_one()
    with pytest.raises(InvalidInput, match="overlap|outer boundary would move"):
        correct_boundary(conn, a, current_a, b, moved, DECISION)


def test_purpose_change_makes_a_new_version_with_new_purposes(conn, held):
    legal = float(conn.execute(sa.text(
        "SELECT area_legal FROM current_parcel WHERE parcel_id = :p"), {"p": held}).scalar_one())
    with pytest.raises(InvalidInput, match="add up to"):
        change_purpose(conn, held, [Purpose("ODT", legal / 2), Purpose("TMD", legal / 4)],
                       DECISION)
    change_purpose(conn, held, [Purpose("ODT", round(legal - 50, 2)), Purpose("TMD", 50)],
                   DECISION)
    codes = conn.execute(sa.text(
        "SELECT u.land_use_code FROM current_parcel p JOIN parcel_land_use u "
        "ON u.parcel_version_id = p.version_id WHERE p.parcel_id = :p ORDER BY 1"),
        {"p": held}).scalars().all()
    assert codes == ["ODT", "TMD"]
    assert conn.execute(sa.text("SELECT count(*) FROM parcel WHERE parcel_id = :p"),
                        {"p": held}).scalar_one() == 2


def test_no_split_under_an_injunction(conn, held):
    set_injunction(conn, held, None, SourceDocument("court_order", "9/2026/QĐ-BPKCTT"))
    with pytest.raises(InjunctionActive, match="9/2026/QĐ-BPKCTT"):
        split_parcel(conn, held, DECISION, cut_line_wkt=_cut_line(conn, held))


def test_split_with_holders_assigned_per_child_then_the_retired_parent_is_refused(conn, held):
    from cadastre.changes.service import Share, transfer

    box = _one(conn, "SELECT ST_XMin(geom) AS x0, ST_XMax(geom) AS x1, ST_YMin(geom) AS y0, "
                     "ST_YMax(geom) AS y1 FROM current_parcel WHERE parcel_id = :p", p=held)
    middle = (box.x0 + box.x1) / 2
    halves = conn.execute(sa.text(
        "SELECT ST_AsText(ST_Intersection(geom, ST_MakeEnvelope(v.a, :y0, v.b, :y1, 5897))) "
        "FROM current_parcel, (VALUES (:x0 - 1, :m), (:m, :x1 + 1)) AS v(a, b) "
        "WHERE parcel_id = :p ORDER BY v.a"),
        {"x0": box.x0, "x1": box.x1, "y0": box.y0 - 1, "y1": box.y1 + 1, "m": middle,
         "p": held}).scalars().all()
    heirs = [conn.execute(sa.text(
        "INSERT INTO party (kind, name) VALUES ('individual', :n) RETURNING id"),
        {"n": n}).scalar_one() for n in ("Con trai", "Con gái")]
    _, children = split_parcel(conn, held, DECISION, children_wkt=halves,
                               child_holders=[[Share(heirs[0])], [Share(heirs[1])]])
    owners = [conn.execute(sa.text(
        "SELECT party_id FROM current_land_right WHERE parcel_id = :c AND kind = 'land_use'"),
        {"c": c}).scalars().all() for c in children]
    assert owners == [[heirs[0]], [heirs[1]]]
    with pytest.raises(ParcelNotFound, match="retired"):
        transfer(conn, held, [Share(heirs[0])], DECISION)
