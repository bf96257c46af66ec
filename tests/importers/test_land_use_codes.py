"""Legacy land-use codes in tiny real files: translated to the list in force (Circular
08/2024/TT-BTNMT) at import, ended codes to their successors, pre-2004 symbols through the
legacy table, and every code that cannot be mapped reported and its feature quarantined."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.errors import ImportSourceError
from tests.importers.conftest import count, encoded_frame

LEGACY = ["2L", "GT", "TL", "NĐ", "N§", "MN/hg", "T", "CLN", "BHK", "ODT+NHK", "XYZ", "T+V"]


@pytest.fixture
def ward(conn):
    """Phúc Tân (00037), the synthetic layer's commune: an urban ward (phường) of the units
    `db init` loads."""
    kinds = conn.execute(sa.text(
        "SELECT kind FROM admin_unit WHERE level = 'commune' AND code = '00037'")).scalars().all()
    assert kinds == ["phuong"]


def _legacy_layer(small_layer, codes):
    layer = small_layer.iloc[: len(codes)].copy()
    layer["LoaiDat"] = codes
    return layer


def _codes(conn):
    """parcel number -> its land-use codes, of the current parcels."""
    rows = conn.execute(sa.text(
        "SELECT p.parcel_number, string_agg(u.land_use_code, '+' ORDER BY u.id) FROM "
        "current_parcel p JOIN parcel_land_use u ON u.parcel_version_id = p.version_id "
        "GROUP BY 1")).all()
    return dict(rows)


def test_a_legacy_file_loads_in_todays_codes_and_reports_what_it_cannot_map(
        conn, run, write, small_layer, ward):
    layer = _legacy_layer(small_layer, LEGACY)
    report = run(write(layer, "legacy.gpkg"))
    assert report.status == "committed", report.summary()
    numbers = dict(zip(LEGACY, layer["SoThua"], strict=True))
    codes = _codes(conn)
    assert {code: codes.get(numbers[code]) for code in LEGACY} == {
        "2L": "LUC", "GT": "DGT", "TL": "DTL", "NĐ": "NTD", "N§": "NTD", "MN/hg": None,
        "T": "ODT", "CLN": "CLN", "BHK": "HNK", "ODT+NHK": "ODT+HNK", "XYZ": None,
        "T+V": "ODT+CLN"}
    loaded = report.layers[0]
    assert loaded.rejected == {"unknown-land-use-code": 2}
    assert loaded.land_use["unmapped"] == {"MN/hg": 1, "XYZ": 1}
    assert loaded.land_use["superseded"] == {"BHK → HNK": 1, "NHK → HNK": 1}
    assert loaded.land_use["legacy"] == {"T → ODT": 2, "2L → LUC": 1, "GT → DGT": 1,
                                         "N§ → NTD": 1, "NĐ → NTD": 1, "TL → DTL": 1,
                                         "V → CLN": 1}
    summary = "\n".join(report.summary())
    assert "land-use codes ended, now their successors: BHK → HNK 1, NHK → HNK 1" in summary
    assert "land-use codes not mapped (see each feature's reason): MN/hg 1, XYZ 1" in summary
    xyz, mn = conn.execute(sa.text(
        "SELECT reason FROM import_quarantine WHERE import_id = :i ORDER BY reason"),
        {"i": report.import_id}).scalars().all()
    assert mn.startswith("legacy code 'MN/hg' (Mặt nước") and mn.endswith("choose one")
    assert xyz.startswith("land-use code 'XYZ' is in no code list")
    # what the file said stays with the parcel
    source = conn.execute(sa.text(
        "SELECT source_attributes ->> '_land_use_source' FROM current_parcel "
        "WHERE parcel_number = :n"), {"n": int(numbers["2L"])}).scalar_one()
    assert source == "2L"


def test_a_tcvn3_dbf_maps_the_decoded_code(conn, run, write, small_layer, ward):
    layer = _legacy_layer(small_layer, ["NĐ"] * 3 + ["GT"] * 9)
    path = write(encoded_frame(layer, "tcvn3"), "tcvn3.shp", encoding="latin1")
    report = run(path)
    assert report.layers[0].encoding == "tcvn3"
    assert report.layers[0].land_use["legacy"] == {"GT → DGT": 9, "NĐ → NTD": 3}
    assert count(conn, "SELECT count(*) FROM parcel_land_use WHERE land_use_code = 'NTD'") == 3


def test_a_file_naming_a_commune_the_registry_never_had_is_refused_whole(conn, run, write,
                                                                         small_layer):
    """Residential "T" needs to know whether the commune is urban; a commune code the unit
    registry does not know refuses the file before anything is written (migration 0030)."""
    layer = _legacy_layer(small_layer, ["T", "ODT"])
    layer["MaXa"] = "99991"  # no such commune in the unit registry
    before = conn.execute(sa.text("SELECT count(*) FROM parcel")).scalar_one()
    with pytest.raises(ImportSourceError, match=r"no commune of the unit registry: 99991"):
        run(write(layer, "t.gpkg"))
    assert conn.execute(sa.text("SELECT count(*) FROM parcel")).scalar_one() == before


def test_a_rural_commune_gets_rural_residential_land(conn, run, write, small_layer):
    # Xã Lũng Cú (00715), a xã before 2025 and after, of the loaded units
    layer = _legacy_layer(small_layer, ["T"])
    layer["MaXa"] = "00715"
    run(write(layer, "rural.gpkg"))
    assert set(_codes(conn).values()) == {"ONT"}


def test_strict_mode_refuses_old_codes_for_a_new_survey(conn, run, write, small_layer, ward):
    layer = _legacy_layer(small_layer, ["BHK", "2L", "HNK", "CNT"])
    report = run(write(layer, "survey-2026.gpkg"), land_use_codes="strict")
    assert report.layers[0].rejected == {"superseded-land-use-code": 1,
                                         "legacy-land-use-code": 1}
    reasons = set(conn.execute(sa.text(
        "SELECT reason FROM import_quarantine WHERE import_id = :i"),
        {"i": report.import_id}).scalars())
    assert "BHK ended on 2024-07-31: use HNK" in reasons
    assert any(r.startswith("'2L' is a legacy code") and r.endswith("use LUC") for r in reasons)
    assert sorted(_codes(conn).values()) == ["CNT", "HNK"]


def test_a_register_attaches_todays_codes_and_reports_the_rest(conn, run, write, small_layer,
                                                               tmp_path, ward):
    import pandas as pd

    layer = small_layer.iloc[:4]
    run(write(layer.drop(columns=["LoaiDat"]), "map.gpkg"))
    register = pd.DataFrame({"Mã xã": layer["MaXa"], "Số tờ": layer["SoTo"],
                             "Số thửa": layer["SoThua"], "Tên người sử dụng": layer["TenChu"],
                             "Loại đất": ["2L", "BHK", "T+V", "XYZ"]})
    path = tmp_path / "so_muc_ke.csv"
    register.to_csv(path, index=False)
    report = run(path, kind="register")
    assert report.status == "committed", report.summary()
    assert sorted(_codes(conn).values()) == ["HNK", "LUC", "ODT+CLN"]
    assert report.layers[0].land_use["unmapped"] == {"XYZ": 1}
    assert any("XYZ 1" in w for w in report.warnings)
