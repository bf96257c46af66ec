"""Synthetic cadastral layer: geometry that tiles exactly, legacy-style attributes, files."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from cadastre.synth import DEMO_COMMUNES, SYNTH_COLUMNS, generate_layer, write_layer

N = 3_000
TEXT_COLUMNS = (
    "MaXa",
    "LoaiDat",
    "DiaChi",
    "TenChu",
    "LoaiChu",
    "CCCD",
    "DiaChiChu",
    "SoPhatHanh",
    "SoVaoSo",
)


@pytest.fixture(scope="module")
def layer() -> geopandas.GeoDataFrame:
    return generate_layer(N, seed=7)


def _geoms(frame: geopandas.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.values, dtype=object)


# --- shape of the table -------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 37, 1_601, N])
def test_exact_row_count_and_columns(n: int) -> None:
    frame = generate_layer(n)
    assert len(frame) == n
    assert list(frame.columns) == [*SYNTH_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 5897
    assert all(len(name) <= 10 for name in SYNTH_COLUMNS)  # DBF field-name limit


def test_rejects_no_parcels_and_no_communes() -> None:
    with pytest.raises(ValueError):
        generate_layer(0)
    with pytest.raises(ValueError):
        generate_layer(10, communes=[])


def test_same_seed_same_layer_other_seed_other_layer(layer: geopandas.GeoDataFrame) -> None:
    again = generate_layer(N, seed=7)
    pd.testing.assert_frame_equal(
        pd.DataFrame(layer.drop(columns="geometry")), pd.DataFrame(again.drop(columns="geometry"))
    )
    assert shapely.equals_exact(_geoms(layer), _geoms(again), tolerance=0).all()

    other = generate_layer(N, seed=8)
    assert not shapely.equals_exact(_geoms(layer), _geoms(other), tolerance=0).all()
    assert (layer["TenChu"] != other["TenChu"]).mean() > 0.5


def test_srid_and_origin_are_honoured() -> None:
    frame = generate_layer(500, srid=3405, origin=(500_000.0, 2_000_000.0))
    assert frame.crs.to_epsg() == 3405
    minx, miny, maxx, maxy = frame.total_bounds
    assert abs((minx + maxx) / 2 - 500_000.0) < 50
    assert abs((miny + maxy) / 2 - 2_000_000.0) < 50


# --- geometry -----------------------------------------------------------------------------


def test_polygons_are_valid_single_part_ccw_with_6_to_20_vertices(
    layer: geopandas.GeoDataFrame,
) -> None:
    geoms = _geoms(layer)
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert (shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON).all()
    assert (shapely.get_num_geometries(geoms) == 1).all()
    polygons = shapely.get_geometry(geoms, 0)
    assert (shapely.get_num_interior_rings(polygons) == 0).all()
    exterior = shapely.get_exterior_ring(polygons)
    assert shapely.is_ccw(exterior).all()
    vertices = shapely.get_num_coordinates(exterior) - 1  # without the closing point
    assert vertices.min() >= 6
    assert vertices.max() <= 20
    assert len(np.unique(vertices)) > 8  # shapes vary


def test_coordinates_are_millimetres(layer: geopandas.GeoDataFrame) -> None:
    coords = shapely.get_coordinates(_geoms(layer))
    assert coords.dtype == np.float64
    assert np.array_equal(coords, np.round(coords, 3))


def test_neighbours_share_boundaries_exactly(layer: geopandas.GeoDataFrame) -> None:
    geoms = _geoms(layer)
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_empty(shapely.coverage_invalid_edges(geoms)).all()
    union = shapely.coverage_union_all(geoms)
    total = shapely.area(geoms).sum()
    assert abs(union.area - total) / total < 1e-6
    # One block without holes: no slivers, no gaps between parcels.
    assert union.geom_type == "Polygon"
    assert shapely.get_num_interior_rings(union) == 0


def test_parcel_sizes_are_urban_lots(layer: geopandas.GeoDataFrame) -> None:
    area = shapely.area(_geoms(layer))
    share_in_range = ((area >= 40) & (area <= 2_000)).mean()
    assert share_in_range > 0.95
    assert 80 < np.median(area) < 400


def test_layout_is_roughly_square() -> None:
    frame = generate_layer(20_000)
    minx, miny, maxx, maxy = frame.total_bounds
    assert 0.5 < (maxx - minx) / (maxy - miny) < 2.0


# --- identifiers --------------------------------------------------------------------------


def test_commune_sheet_parcel_identity_is_unique(layer: geopandas.GeoDataFrame) -> None:
    assert not layer.duplicated(["MaXa", "SoTo", "SoThua"]).any()
    assert set(layer["MaXa"]) <= {code for code, _ in DEMO_COMMUNES}
    assert layer["SoTo"].dtype == np.int32 and layer["SoThua"].dtype == np.int32
    # Parcel numbers run 1..k on every sheet, in output (row-major) order.
    for _, sheet in layer.groupby(["MaXa", "SoTo"]):
        assert sheet["SoThua"].tolist() == list(range(1, len(sheet) + 1))


def test_communes_cycle_with_more_sheets_each() -> None:
    communes = [("10001", "Một"), ("10002", "Hai")]
    frame = generate_layer(20_000, communes=communes)
    assert set(frame["MaXa"]) == {"10001", "10002"}
    assert frame["SoTo"].max() > 2
    assert not frame.duplicated(["MaXa", "SoTo", "SoThua"]).any()
    assert frame["DiaChi"].str.contains("phường Một").any()


def test_certificate_serials_are_unique_and_well_formed(layer: geopandas.GeoDataFrame) -> None:
    serial = layer["SoPhatHanh"].dropna()
    assert serial.is_unique
    assert serial.str.fullmatch(r"[A-Z]{2} [0-9]{6}").all()
    not_road = layer["LoaiDat"] != "DGT"
    uncertified = layer.loc[not_road, "SoPhatHanh"].isna().mean()
    assert 0.03 < uncertified < 0.15
    # Registry entry and date go with the serial.
    has = layer["SoPhatHanh"].notna()
    assert (layer["SoVaoSo"].notna() == has).all()
    assert (layer["NgayCap"].notna() == has).all()
    assert layer.loc[has, "SoVaoSo"].str.fullmatch(r"C[HS] ?[0-9]{5}").all()
    days = layer.loc[has, "NgayCap"]
    assert all(isinstance(d, dt.date) for d in days)
    assert min(days) >= dt.date(1994, 1, 1) and max(days) <= dt.date(2025, 12, 31)


def test_cccd_agrees_with_birth_year_and_gender(layer: geopandas.GeoDataFrame) -> None:
    person = layer["LoaiChu"].isin(["CN", "HGD"])
    assert layer.loc[~person, "CCCD"].isna().all()
    assert layer.loc[~person, "NamSinh"].isna().all()
    people = layer[person]
    cccd = people["CCCD"]
    year = people["NamSinh"].astype(int)
    assert cccd.str.fullmatch(r"001[0-3][0-9]{8}").all()
    assert ((year >= 1935) & (year <= 2000)).all()
    century_digit = cccd.str[3].astype(int)
    assert (century_digit // 2 == (year >= 2000).astype(int)).all()
    assert (cccd.str[4:6].astype(int) == year % 100).all()
    female = people["TenChu"].str.startswith("Hộ bà ")
    male = people["TenChu"].str.startswith("Hộ ông ")
    assert (century_digit[female] % 2 == 1).all()
    assert (century_digit[male] % 2 == 0).all()
    # A citizen ID always names the same person.
    same = people.groupby("CCCD").agg(names=("TenChu", "nunique"), years=("NamSinh", "nunique"))
    assert (same["names"] == 1).all() and (same["years"] == 1).all()


# --- land use, holders, text --------------------------------------------------------------


def test_roads_are_committee_land_without_certificate(layer: geopandas.GeoDataFrame) -> None:
    road = layer[layer["LoaiDat"] == "DGT"]
    assert 0.05 < len(road) / len(layer) < 0.3
    assert (road["LoaiChu"] == "UBS").all()
    assert road["TenChu"].str.startswith("UBND phường ").all()
    assert road["CCCD"].isna().all()
    assert road["SoPhatHanh"].isna().all()
    assert road["DiaChi"].str.fullmatch(r"Phố \S.*").all()


def test_land_use_mix(layer: geopandas.GeoDataFrame) -> None:
    uses = layer["LoaiDat"]
    known = {
        "DGT",
        "ODT",
        "ODT+CLN",
        "DGD",
        "DYT",
        "TMD",
        "DCH",
        "TON",
        "SKC",
        "LUC",
        "BHK",
        "CLN",
        "NTS",
    }
    assert set(uses) <= known
    assert (uses == "ODT").mean() > 0.5
    assert (uses == "ODT+CLN").any()
    assert uses.isin(["LUC", "BHK", "CLN", "NTS"]).mean() < 0.1
    public = uses.isin(["DGD", "DYT", "TMD", "DCH", "TON", "SKC"]).mean()
    assert 0.01 < public < 0.15
    organisations = layer[layer["LoaiChu"] == "TC"]
    assert not organisations.empty
    assert organisations["LoaiDat"].isin(["DGD", "DYT", "TMD", "DCH", "TON", "SKC"]).all()


def test_holder_names_and_addresses_look_vietnamese(layer: geopandas.GeoDataFrame) -> None:
    people = layer[layer["LoaiChu"].isin(["CN", "HGD"])]
    households = people[people["LoaiChu"] == "HGD"]["TenChu"]
    assert households.str.match(r"Hộ (ông|bà) ").all()
    individuals = people[people["LoaiChu"] == "CN"]["TenChu"]
    assert individuals.str.fullmatch(r"\w+ \w+ \w+").all()
    surname = people["TenChu"].str.replace(r"^Hộ (ông|bà) ", "", regex=True).str.split().str[0]
    assert 0.3 < (surname == "Nguyễn").mean() < 0.46
    address = layer.loc[layer["LoaiDat"] != "DGT", "DiaChi"]
    assert address.str.fullmatch(
        r"Số \d+ (ngõ \d+ )?(phố|Phố) .+, phường .+, quận Hoàn Kiếm, Hà Nội"
    ).all()
    assert (layer["DiaChiChu"] == layer["DiaChi"]).mean() > 0.5
    assert layer["DiaChiChu"].str.endswith("Hà Nội").all()


def test_text_is_nfc(layer: geopandas.GeoDataFrame) -> None:
    for column in TEXT_COLUMNS:
        values = layer[column].dropna()
        assert all(unicodedata.is_normalized("NFC", v) for v in values), column


def test_areas(layer: geopandas.GeoDataFrame) -> None:
    measured = layer["DienTich"]
    assert np.allclose(measured, np.round(shapely.area(_geoms(layer)), 1))
    legal = layer["DienTichPL"]
    same = (legal == measured).mean()
    assert 0.78 < same < 0.92
    assert ((legal - measured).abs() <= 0.03 * measured + 0.05).all()
    assert np.array_equal(legal, np.round(legal, 1))


# --- files --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_round_trip_keeps_count_crs_and_vietnamese_text(
    layer: geopandas.GeoDataFrame, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"parcels{suffix}"
    write_layer(layer, path)
    if suffix == ".shp":
        assert path.with_suffix(".cpg").read_text().strip().upper().replace("-", "") == "UTF8"
    else:
        assert pyogrio.list_layers(path)[:, 0].tolist() == ["parcels"]
    back = pyogrio.read_dataframe(path)
    assert len(back) == len(layer)
    assert back.crs.to_epsg() == 5897
    for column in TEXT_COLUMNS:
        expected = layer[column].fillna("").tolist()
        assert back[column].fillna("").tolist() == expected, column
    assert shapely.equals(np.asarray(back.geometry.values), _geoms(layer)).all()
    assert back["NamSinh"].notna().sum() == layer["NamSinh"].notna().sum()


def test_write_again_replaces_the_layer(layer: geopandas.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "parcels.gpkg"
    write_layer(layer, path)
    write_layer(layer.iloc[:20], path, layer="roads")
    write_layer(layer.iloc[:10], path)
    assert pyogrio.read_info(path, layer="parcels")["features"] == 10
    assert pyogrio.read_info(path, layer="roads")["features"] == 20
    shp = tmp_path / "parcels.shp"
    write_layer(layer, shp)
    write_layer(layer.iloc[:10], shp)
    assert pyogrio.read_info(shp)["features"] == 10


@pytest.mark.parametrize("suffix", [".fgb", ".geojson", ".parquet"])
def test_other_formats(layer: geopandas.GeoDataFrame, tmp_path: Path, suffix: str) -> None:
    small = layer.iloc[:300]
    path = tmp_path / f"parcels{suffix}"
    write_layer(small, path)
    read = geopandas.read_parquet if suffix == ".parquet" else pyogrio.read_dataframe
    back = read(path)
    assert len(back) == len(small)
    assert back.crs.to_epsg() == 5897
    assert sorted(back["TenChu"]) == sorted(small["TenChu"])


def test_unknown_extension_is_refused(layer: geopandas.GeoDataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        write_layer(layer, tmp_path / "parcels.kml")


def test_addresses_number_houses_along_the_street(layer: geopandas.GeoDataFrame) -> None:
    frontage = layer["DiaChi"].str.extract(r"^Số (\d+) (phố .+|Phố .+?), phường")
    frontage = frontage.dropna()
    assert len(frontage) > 100
    number = frontage[0].astype(int)
    # On one sheet row facing one street, numbers grow west to east (output order).
    same_street = frontage[1].eq(frontage[1].shift()) & number.index.to_series().diff().eq(1)
    steps = number.diff()[same_street]
    assert (steps > 0).mean() > 0.9
