"""Pieces of the export pipeline that need no database: shapefile field names, hex WKB,
bounding boxes and CRSs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import shapely

from cadastre.exports.errors import InvalidBbox, UnknownCrs
from cadastre.exports.filters import check_bbox, check_crs, parse_as_of, parse_bbox, parse_srid
from cadastre.exports.stream import unhex
from cadastre.exports.writers import shapefile_names


def test_shapefile_names_are_cut_to_ten_characters_and_stay_unique():
    names = shapefile_names(["parcel_id", "commune_code", "commune_count", "Commune_Co",
                             "area_measured", "area_measurement"])
    assert names == {"parcel_id": "parcel_id", "commune_code": "commune_co",
                     "commune_count": "commune__1", "Commune_Co": "Commune__2",
                     "area_measured": "area_measu", "area_measurement": "area_mea_1"}
    assert all(len(v) <= 10 for v in names.values())
    assert len({v.lower() for v in names.values()}) == len(names)


def test_unhex_turns_postgis_hex_into_wkb_with_nulls_and_slices():
    geoms = [shapely.Point(1, 2), None, shapely.box(0, 0, 3, 4), shapely.Point(5, 6)]
    hexes = pa.array([None if g is None else shapely.to_wkb(g, hex=True).lower()
                      for g in geoms])
    wkb = unhex(hexes)
    assert wkb.type == pa.binary() and wkb.null_count == 1
    assert [None if v is None else shapely.from_wkb(v) for v in wkb.to_pylist()] == geoms
    tail = unhex(hexes.slice(2))
    assert [shapely.from_wkb(v) for v in tail.to_pylist()] == geoms[2:]
    assert len(unhex(pa.array([], pa.string()))) == 0


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "1,2,nan,4", "3,0,1,5", "0,5,1,5", ""])
def test_bad_bboxes(text):
    with pytest.raises(InvalidBbox):
        parse_bbox(text)


def test_bbox_must_lie_where_the_register_does():
    check_bbox((580000, 2320000, 590000, 2330000), 5897, 5897)
    check_bbox((105.8, 21.0, 105.9, 21.1), 4326, 5897)
    for box, srid in [((-180, -90, 180, 90), 4326), ((-180, -90, 180, 90), 5897),
                      ((-2e7, -2e7, 2e7, 2e7), 5897), ((2.3, 48.8, 2.4, 48.9), 4326)]:
        with pytest.raises(InvalidBbox, match="beyond the area"):
            check_bbox(box, srid, 5897)


def test_crs_checks():
    assert parse_srid("EPSG:9210") == 9210
    assert parse_srid("http://www.opengis.net/def/crs/EPSG/0/5897") == 5897
    assert parse_srid("CRS84") == 4326
    with pytest.raises(UnknownCrs):
        parse_srid("mercator")
    check_crs(32648, 5897, known_to_postgis=True)
    with pytest.raises(UnknownCrs, match="not where the register lies"):
        check_crs(2154, 5897, known_to_postgis=True)
    with pytest.raises(UnknownCrs, match="not a CRS this database knows"):
        check_crs(5897, 5897, known_to_postgis=False)


def test_as_of_is_a_day_or_an_instant():
    day = parse_as_of("2024-05-01").astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (day.year, day.month, day.day, day.hour, day.minute) == (2024, 5, 1, 23, 59)
    assert day.tzinfo is not None
    instant = parse_as_of("2024-05-01T09:00:00+07:00")
    assert instant.utcoffset().total_seconds() == 7 * 3600


def test_shapefile_writer_cuts_names_keeps_vietnamese_and_warns(tmp_path):
    import pyogrio

    from cadastre.exports.collections import MAP_SHEETS
    from cadastre.exports.formats import FORMATS
    from cadastre.exports.stream import arrow_schema
    from cadastre.exports.writers import write_gdal

    schema = arrow_schema(MAP_SHEETS.columns)
    long_reference = "Phiên hiệu mảnh F-48-68-(220-d) " * 12  # over 254 bytes in UTF-8
    batch = pa.RecordBatch.from_pylist([
        {"sheet_id": 1, "commune_code": "00037", "sheet_number": "12", "scale": 500,
         "survey_year": 2019, "grid_reference": long_reference, "valid_from": None,
         "geometry": shapely.to_wkb(shapely.box(584000, 2326000, 584500, 2326400))},
        {"sheet_id": 2, "commune_code": "00037", "sheet_number": "13", "scale": 500,
         "survey_year": None, "grid_reference": "Tờ số 13", "valid_from": None,
         "geometry": None},
    ], schema=schema)
    path = tmp_path / "sheets.shp"
    written = write_gdal(iter([batch]), path, fmt=FORMATS["shp"], collection=MAP_SHEETS,
                         srid=5897)
    assert written.count == 2
    assert any("10 characters" in w and "GeoPackage" in w for w in written.warnings)
    assert any(w.startswith("GDAL:") and "grid_refer" in w for w in written.warnings)
    frame = pyogrio.read_dataframe(path)
    assert list(frame.columns[:7]) == ["sheet_id", "commune_co", "sheet_numb", "scale",
                                       "survey_yea", "grid_refer", "valid_from"]
    assert frame["grid_refer"][1] == "Tờ số 13"
    assert (tmp_path / "sheets.cpg").read_text().strip() == "UTF-8"
    assert pyogrio.read_info(path)["crs"] == "EPSG:5897"
