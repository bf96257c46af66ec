"""Broken and unsafe sources: a clear error naming the file and the problem, nothing written."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely

from cadastre.errors import (
    CoordinateQuestion,
    EncodingQuestion,
    ImportSourceError,
    UnknownProfile,
)
from tests.importers.conftest import count, encoded_frame

NOTHING_WRITTEN = ("SELECT (SELECT count(*) FROM parcel) + (SELECT count(*) FROM import_run) "
                   "+ (SELECT count(*) FROM party) + (SELECT count(*) FROM change_transaction)")


@pytest.fixture
def before(conn) -> int:
    return count(conn, NOTHING_WRITTEN)


def _fails(run, path, error, match, **options):
    with pytest.raises(error, match=match) as caught:
        run(path, **options)
    return caught.value


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_missing_shapefile_part(conn, run, write, small_layer, before, missing):
    path = write(small_layer, "sheet.shp")
    path.with_suffix(missing).unlink()
    _fails(run, path, ImportSourceError, rf"sheet\.shp: the \{missing} .* is missing")
    assert count(conn, NOTHING_WRITTEN) == before


def test_record_counts_that_disagree(conn, run, write, small_layer, before):
    path = write(small_layer, "sheet.shp")
    other = write(small_layer.iloc[:10], "other.shp")
    other.with_suffix(".dbf").replace(path.with_suffix(".dbf"))
    _fails(run, path, ImportSourceError, r"sheet\.shp: the \.shx lists 60 shapes but the "
                                         r"\.dbf holds 10 records")
    assert count(conn, NOTHING_WRITTEN) == before


def test_truncated_shapefile(conn, run, write, small_layer, before):
    path = write(small_layer, "sheet.shp")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _fails(run, path, ImportSourceError, r"sheet\.shp: truncated")
    assert count(conn, NOTHING_WRITTEN) == before


def test_zip_without_spatial_data(conn, run, tmp_path, before):
    archive = tmp_path / "ho_so.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "Bản đồ địa chính xã")
        zf.writestr("scan.pdf", b"%PDF-1.4")
    _fails(run, archive, ImportSourceError, r"ho_so\.zip: holds no spatial data \(found: "
                                            r"readme\.txt, scan\.pdf\)")
    assert count(conn, NOTHING_WRITTEN) == before


def test_zip_bomb_is_refused_before_unpacking(conn, run, tmp_path, before):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.shp", b"\0" * (64 * 1024 * 1024))
    assert archive.stat().st_size < 1024 * 1024
    _fails(run, archive, ImportSourceError, r"bomb\.zip: sheet\.shp expands .* zip bomb")
    assert count(conn, NOTHING_WRITTEN) == before


def test_zip_with_path_traversal_is_refused(conn, run, tmp_path, before):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/cron.d/x.shp", b"x")
    _fails(run, archive, ImportSourceError, r"evil\.zip: unsafe path")
    assert count(conn, NOTHING_WRITTEN) == before


def test_points_instead_of_polygons(conn, run, write, small_layer, before):
    points = small_layer.set_geometry(small_layer.geometry.representative_point())
    path = write(points, "diem.shp")
    _fails(run, path, ImportSourceError, r"diem\.shp: holds Point geometry, not parcel polygons")
    assert count(conn, NOTHING_WRITTEN) == before


def test_tcvn3_declared_utf8_is_detected_as_tcvn3(conn, run, write, small_layer):
    path = write(encoded_frame(small_layer, "tcvn3"), "tcvn3.shp", encoding="latin1")
    path.with_suffix(".cpg").write_text("UTF-8")
    report = run(path)
    assert report.layers[0].encoding == "tcvn3"
    assert "declares utf-8" in report.layers[0].encoding_reason
    expected = small_layer["DiaChi"].iloc[0]
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE address = :a",
                 a=expected) == 1


def test_undecidable_encoding_stops_and_asks(conn, run, write, small_layer, before):
    garbage = bytes(range(0xC0, 0x100)).decode("latin-1")  # no encoding makes words of it
    layer = small_layer.assign(DiaChi=[garbage[i % 40:] + garbage[: i % 40]
                                       for i in range(len(small_layer))])
    for column in ("TenChu", "DiaChiChu"):
        layer[column] = layer[column].map(lambda v: v.encode("ascii", "ignore").decode())
    path = write(layer, "fr.shp", encoding="latin1")
    error = _fails(run, path, EncodingQuestion, r"fr\.shp: cannot tell the text encoding")
    assert "--encoding" in (error.hint or "")
    assert count(conn, NOTHING_WRITTEN) == before


def test_coordinates_in_degrees(conn, run, write, small_layer, before):
    degrees = small_layer.to_crs(4326).set_crs(None, allow_override=True)
    path = write(degrees, "do.shp")
    _fails(run, path, CoordinateQuestion, r"do\.shp: .*look like degrees", province="01")
    assert count(conn, NOTHING_WRITTEN) == before


def test_prj_in_metres_with_coordinates_in_degrees(conn, run, write, small_layer, before):
    wrong = small_layer.to_crs(4326).set_crs(5897, allow_override=True)
    _fails(run, write(wrong, "sai.shp"), CoordinateQuestion, r"declares .* look like degrees")
    assert count(conn, NOTHING_WRITTEN) == before


def test_swapped_axes(conn, run, write, small_layer, before):
    swapped = small_layer.set_geometry(
        shapely.transform(small_layer.geometry.to_numpy(), lambda xy: xy[:, ::-1]),
        crs=None)
    _fails(run, write(swapped, "dao.shp"), CoordinateQuestion, "with the axes swapped",
           province="01")
    assert count(conn, NOTHING_WRITTEN) == before


def test_no_prj_needs_a_province(conn, run, write, small_layer, before):
    path = write(small_layer.set_crs(None, allow_override=True), "khong_prj.shp")
    _fails(run, path, CoordinateQuestion, r"pass --province")
    report = run(path, province="Hà Nội")
    assert "inferred from province" in report.layers[0].crs


def test_province_whose_maps_use_several_zones_asks(conn, run, write, small_layer, before):
    path = write(small_layer.set_crs(None, allow_override=True), "khong_prj.shp")
    _fails(run, path, CoordinateQuestion, r"several TM-3 zones", province="Tuyên Quang")


def test_file_in_another_provinces_zone(conn, run, write, small_layer, before):
    # Hà Nội data declared in the 105°45' zone lands 80 km east: refuse if the user says
    # the map is from Hà Nội.
    moved = small_layer.set_crs(9210, allow_override=True)
    _fails(run, write(moved, "vung.shp"), CoordinateQuestion, r"EPSG:9210 .* Hà Nội|uses",
           province="01")
    assert count(conn, NOTHING_WRITTEN) == before


def test_unknown_profile(conn, run, write, small_layer, before):
    error = _fails(run, write(small_layer, "sheet.gpkg"), UnknownProfile,
                   r"unknown profile 'famis'", profile="famis")
    assert "vn-generic" in (error.hint or "")
    assert count(conn, NOTHING_WRITTEN) == before


def test_unrecognisable_columns(conn, run, write, small_layer, before):
    bare = gpd.GeoDataFrame({"a": range(3)}, geometry=small_layer.geometry.iloc[:3].values,
                            crs=5897)
    _fails(run, write(bare, "bare.gpkg"), UnknownProfile, r"no profile recognises")
    assert count(conn, NOTHING_WRITTEN) == before
