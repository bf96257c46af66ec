"""Land-use codes in the map's changes: a new purpose uses a code in force (BHK in 2026 is
refused, naming HNK), while the old versions keep the codes of their time and a new version
made from an old one (a split's child) takes the successor."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.changes.record import record_change
from cadastre.changes.service import SourceDocument
from cadastre.changes.spatial import Purpose, change_purpose, split_parcel
from cadastre.land_use.service import LandUseCodeNotInForce

DECISION = SourceDocument("decision", "77/QĐ-UBND", issuer="UBND phường Hoàn Kiếm")
SQUARE = ("SRID=5897;MULTIPOLYGON(((585000 2326000,585020 2326000,585020 2326020,"
          "585000 2326020,585000 2326000)))")


@pytest.fixture
def field_since_2020(conn):
    """A parcel registered in 2020 as BHK (flat land for other annual crops), unchanged."""
    change = record_change(conn, "first_registration", []).change_id
    parcel = conn.execute(sa.text(
        "INSERT INTO parcel_identity DEFAULT VALUES RETURNING parcel_id")).scalar_one()
    version = conn.execute(sa.text(
        "INSERT INTO parcel (parcel_id, commune_code, sheet_number, parcel_number, area_legal, "
        "geom, lifespan, begun_by) VALUES (:p, '00037', '98', 1, 400, ST_GeomFromEWKT(:g), "
        "tstzrange('2020-03-02 09:00+07', NULL, '[)'), :c) RETURNING version_id"),
        {"p": parcel, "g": SQUARE, "c": change}).scalar_one()
    conn.execute(sa.text("INSERT INTO parcel_land_use (parcel_version_id, land_use_code, area) "
                         "VALUES (:v, 'BHK', 400)"), {"v": version})
    return int(parcel)


def _codes(conn, parcel, *, current=True):
    return conn.execute(sa.text(
        "SELECT u.land_use_code FROM parcel p JOIN parcel_land_use u "
        "ON u.parcel_version_id = p.version_id WHERE p.parcel_id = :p "
        f"{'AND upper_inf(p.lifespan)' if current else ''} ORDER BY p.version_id, 1"),
        {"p": parcel}).scalars().all()


def test_a_purpose_change_to_bhk_in_2026_is_refused_naming_hnk(conn, field_since_2020):
    with pytest.raises(LandUseCodeNotInForce, match="BHK ended on 2024-07-31: use HNK") as info:
        change_purpose(conn, field_since_2020, [Purpose("BHK", 400)], DECISION)
    assert info.value.status == 422 and info.value.code == "land-use-code-not-in-force"
    change_purpose(conn, field_since_2020, [Purpose("HNK", 300), Purpose("CNT", 100)],
                   DECISION)
    assert _codes(conn, field_since_2020) == ["CNT", "HNK"]
    assert _codes(conn, field_since_2020, current=False) == ["BHK", "CNT", "HNK"]  # history


def test_a_split_of_an_old_bhk_parcel_gives_children_hnk_and_keeps_the_history(
        conn, field_since_2020):
    _, children = split_parcel(
        conn, field_since_2020, DECISION,
        cut_line_wkt="LINESTRING(585010 2325990, 585010 2326030)")
    assert len(children) == 2
    for child in children:
        assert _codes(conn, child) == ["HNK"]
    assert _codes(conn, field_since_2020, current=False) == ["BHK"]
