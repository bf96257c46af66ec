"""Every listed format imports, with its identifiers, areas, text and geometry intact."""

from __future__ import annotations

import zipfile

import pytest
import shapely
import sqlalchemy as sa

from tests.importers.conftest import copy_cad, count

GDAL_FORMATS = [
    ("sheet.shp", {}),
    ("sheet.tab", {"driver": "MapInfo File"}),
    ("sheet.mif", {"driver": "MapInfo File", "FORMAT": "MIF"}),
    ("sheet.gpkg", {}),
    ("sheet.geojson", {}),
    ("sheet.gml", {"driver": "GML"}),
    ("sheet.gdb", {"driver": "OpenFileGDB"}),
    ("sheet.fgb", {}),
]


@pytest.mark.parametrize(("name", "options"), GDAL_FORMATS, ids=[n for n, _ in GDAL_FORMATS])
def test_gdal_format_imports_every_parcel(conn, run, write, small_layer, name, options):
    path = write(small_layer, name, **options)
    report = run(path)
    assert report.status == "committed", report.summary()
    assert report.counts["parcel_versions_begun"] == len(small_layer)
    assert report.counts["quarantined"] == 0
    stored = {
        (r.commune_code, r.sheet_number, r.parcel_number): r
        for r in conn.execute(sa.text(
            "SELECT commune_code, sheet_number, parcel_number, address, area_legal, "
            "ST_AsBinary(geom) AS wkb FROM current_parcel")).all()}
    for source in small_layer.itertuples():
        row = stored[(source.MaXa, str(source.SoTo), int(source.SoThua))]
        assert row.address == source.DiaChi
        assert float(row.area_legal) == pytest.approx(source.DienTichPL, abs=0.01)
        # same shape to the millimetre (FileGDB stores coordinates on a grid; MapInfo's
        # default bounds give it centimetres)
        tolerance = 0.02 if name.endswith((".tab", ".mif")) else 0.001
        stored_geom = shapely.from_wkb(bytes(row.wkb))
        assert shapely.hausdorff_distance(stored_geom, source.geometry) < tolerance


def test_unmapped_columns_are_kept_in_source_attributes(conn, run, write, small_layer):
    extra = small_layer.assign(GhiChu="đã đo lại 2019", MaVach=range(len(small_layer)))
    report = run(write(extra, "with_extra.gpkg"))
    assert report.status == "committed"
    attributes = conn.execute(sa.text(
        "SELECT source_attributes FROM current_parcel LIMIT 1")).scalar_one()
    assert attributes["GhiChu"] == "đã đo lại 2019"
    assert "MaVach" in attributes


def test_holders_rights_certificates_and_land_use_are_registered(conn, run, write,
                                                                 small_layer):
    report = run(write(small_layer, "sheet.gpkg"))
    assert report.counts["rights"] == len(small_layer)
    certified = small_layer["SoPhatHanh"].notna().sum()
    assert count(conn, "SELECT count(*) FROM current_certificate") == certified
    mixed = small_layer["LoaiDat"].str.contains("+", regex=False).sum()
    assert count(conn, "SELECT count(*) FROM parcel_land_use") == len(small_layer) + mixed
    name = small_layer.loc[small_layer["LoaiChu"] == "CN", "TenChu"].iloc[0]
    assert count(conn, "SELECT count(*) FROM party WHERE name = :n", n=name) >= 1


def test_zipped_shapefile_and_directory_of_sheets_import_in_one_command(
        conn, run, write, small_layer, tmp_path):
    layer = small_layer.assign(SoTo=[1 + i // 20 for i in range(len(small_layer))])
    by_sheet = list(layer.groupby("SoTo"))
    assert len(by_sheet) == 3
    for sheet, part in by_sheet:
        write(part, f"sheets/to_{sheet}.shp")
    report = run(tmp_path / "sheets")
    assert report.counts["parcel_versions_begun"] == len(small_layer)
    assert len(report.layers) == len(by_sheet)

    archive = tmp_path / "sheets.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in (tmp_path / "sheets").iterdir():
            zf.write(file, f"xa_00070/{file.name}")
    report = run(archive, force=True)
    assert report.status == "committed"
    assert report.counts["parcels_new_version"] == len(small_layer)


def test_dxf_drawing_with_text_labels(conn, run, tmp_path):
    report = run(copy_cad(tmp_path, "sheet12.dxf"), province="01", commune="00070", sheet="12")
    assert report.status == "committed", report.summary()
    assert report.layers[0].skipped_non_polygon == 10  # 9 labels + 1 road centre line
    rows = conn.execute(sa.text(
        "SELECT p.parcel_number, u.land_use_code, round(ST_Area(p.geom)) AS area "
        "FROM current_parcel p JOIN parcel_land_use u ON u.parcel_version_id = p.version_id "
        "WHERE p.sheet_number = '12' ORDER BY 1")).all()
    assert [r.parcel_number for r in rows] == list(range(1, 10))
    assert rows[4].land_use_code == "TMD"
    assert {r.area for r in rows} == {400}


def test_dgn_v7_drawing_with_text_labels(conn, run, tmp_path):
    report = run(copy_cad(tmp_path, "sheet12.dgn"), srid=5897, commune="00070", sheet="12")
    assert report.status == "committed", report.summary()
    assert report.counts["parcel_versions_begun"] == 9
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE sheet_number = '12' "
                       "AND ST_SRID(geom) = 5897") == 9
