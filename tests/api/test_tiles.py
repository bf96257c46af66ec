"""Vector tiles: TileJSON, tiles that decode (mapbox-vector-tile and GDAL's MVT driver)
with exactly the map's attributes, the per-tile projection's accuracy, ETag/304 and a
change making the covering tile fresh, empty and bad addresses, no personal data."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pyogrio
import pytest
import shapely
import shapely.geometry
import sqlalchemy as sa

from cadastre.changes.service import SourceDocument
from cadastre.changes.spatial import Purpose, change_purpose
from cadastre.layers import tiles
from cadastre.layers.registry import PARCELS
from tests.api.personal_data import assert_none, personal_values

ROLES = ("anonymous", "land_officer", "counter_clerk", "gis_analyst", "supervisor", "admin",
         "api-key")
MAP_ATTRIBUTES = {
    "parcels": {"sheet", "number", "land_use"},
    "land-use-purposes": {"land_use"},
    "map-sheets": {"commune", "sheet", "scale"},
    "admin-units": {"level", "code", "name"},
}


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _parcel_and_tile(engine, offset: int, z: int = 16) -> tuple[int, tuple[int, int, int]]:
    with engine.connect() as conn:
        parcel, lon, lat = conn.execute(sa.text(
            "SELECT parcel_id, ST_X(c), ST_Y(c) FROM (SELECT parcel_id, ST_Transform("
            "ST_PointOnSurface(geom), 4326) AS c FROM current_parcel p WHERE NOT EXISTS ("
            "SELECT 1 FROM current_restriction r WHERE r.parcel_id = p.parcel_id) "
            "ORDER BY parcel_id DESC OFFSET :o LIMIT 1) s"), {"o": offset}).one()
    return parcel, _tile_of(lon, lat, z)


def _url(collection: str, address: tuple[int, int, int]) -> str:
    z, x, y = address
    return f"/tiles/{collection}/{z}/{x}/{y}.mvt"


def _decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body)


def test_tilejson_for_every_collection(client):
    index = client.get("/tiles").json()["layers"]
    assert [layer["id"] for layer in index] == list(MAP_ATTRIBUTES)
    for collection, attributes in MAP_ATTRIBUTES.items():
        document = client.get(f"/tiles/{collection}/tilejson.json").json()
        assert document["tilejson"] == "3.0.0"
        assert document["tiles"] == [f"http://testserver/tiles/{collection}/{{z}}/{{x}}/{{y}}.mvt"]
        (layer,) = document["vector_layers"]
        assert layer["id"] == collection and set(layer["fields"]) == attributes
        assert 0 <= document["minzoom"] <= document["maxzoom"] <= 22
    parcels = client.get("/tiles/parcels/tilejson.json").json()
    assert parcels["minzoom"] == 15
    assert parcels["vector_layers"][0]["description"].endswith("sheet and number from zoom 17")
    west, south, east, north = parcels["bounds"]
    assert 105.7 < west < east < 105.9 and 20.9 < south < north < 21.1


@pytest.mark.parametrize(("z", "labelled"), [(16, False), (17, True), (19, True)])
def test_parcel_tile_holds_the_parcels_there_with_only_the_map_attributes(client, api_engine,
                                                                          z, labelled):
    parcel, address = _parcel_and_tile(api_engine, 3, z)
    response = client.get(_url("parcels", address))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = _decode(response.content)["parcels"]
    assert layer["extent"] == tiles.EXTENT
    found = {f["id"]: f for f in layer["features"]}
    z, x, y = address
    with api_engine.connect() as conn:
        inside = set(conn.execute(sa.text(
            "SELECT parcel_id FROM current_parcel WHERE ST_Intersects(ST_Transform(geom, 3857),"
            " ST_TileEnvelope(:z, :x, :y))"), {"z": z, "x": x, "y": y}).scalars())
        row = conn.execute(sa.text(
            "SELECT p.sheet_number, p.parcel_number, string_agg(u.land_use_code, '+' ORDER BY "
            "u.area DESC NULLS LAST, u.land_use_code) FROM current_parcel p JOIN "
            "parcel_land_use u ON u.parcel_version_id = p.version_id WHERE p.parcel_id = :p "
            "GROUP BY 1, 2"), {"p": parcel}).one()
    assert parcel in found and inside <= set(found)
    # labels (sheet, number) only from the label zoom up; the id and land use at every zoom
    expected = {"sheet": row[0], "number": row[1], "land_use": row[2]}
    if not labelled:
        expected = {"land_use": row[2]}
    for feature in found.values():
        assert set(feature["properties"]) == set(expected)
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert found[parcel]["properties"] == expected


@pytest.mark.parametrize("collection", list(MAP_ATTRIBUTES))
def test_every_layer_decodes_with_gdal_mvt_driver(client, api_engine, tmp_path, collection,
                                                  province_outline_for_tiles):
    _, address = _parcel_and_tile(api_engine, 3, z=16)
    response = client.get(_url(collection, address))
    assert response.status_code == 200, response.status_code
    z, x, y = address
    path = tmp_path / f"{z}" / f"{x}"
    path.mkdir(parents=True)
    tile = path / f"{y}.pbf"
    tile.write_bytes(response.content)
    frame = pyogrio.read_dataframe(tile, layer=collection, X=x, Y=y, Z=z)
    assert len(frame) > 0
    columns = set(frame.columns) - {"geometry", "mvt_id"}
    assert columns and columns <= MAP_ATTRIBUTES[collection]  # null values are left out
    assert frame.crs.to_epsg() == 3857
    with api_engine.connect() as conn:
        west, south, east, north = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "ST_TileEnvelope(:z, :x, :y) e"), {"z": z, "x": x, "y": y}).one()
    margin = (east - west) * (tiles.BUFFER + 1) / tiles.EXTENT
    minx, miny, maxx, maxy = frame.total_bounds
    assert west - margin <= minx and maxx <= east + margin
    assert south - margin <= miny and maxy <= north + margin


@pytest.mark.parametrize("z", [8, 11])
def test_low_zoom_tiles_transform_every_vertex(client, api_engine, province_outline_for_tiles,
                                               z):
    """Below zoom 12 the tile statement transforms every vertex (no per-tile affine map)."""
    _, address = _parcel_and_tile(api_engine, 3, z=z)
    response = client.get(_url("admin-units", address))
    assert response.status_code == 200, response.text
    (hanoi,) = [f for f in _decode(response.content)["admin-units"]["features"]
                if f["properties"]["code"] == "01"]
    assert hanoi["properties"]["level"] == "province"


@pytest.fixture(scope="module")
def province_outline_for_tiles(api_engine):
    """An outline for the current Hà Nội row, so the administrative-unit tiles have
    something to draw; taken away afterwards."""
    with api_engine.begin() as conn:
        unit = conn.execute(sa.text(
            "UPDATE admin_unit SET geom = (SELECT ST_Multi(ST_Envelope(ST_Collect(geom))) "
            "FROM current_parcel) WHERE level = 'province' AND code = '01' "
            "AND validity @> current_date RETURNING id")).scalar_one()
    yield
    with api_engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_unit SET geom = NULL WHERE id = :u"), {"u": unit})


@pytest.mark.parametrize(("z", "bound"), [(16, 0.02), (14, 0.06), (12, 0.25)])
def test_per_tile_affine_map_is_within_a_fraction_of_a_unit(api_engine, z, bound):
    """From zoom 12 up, vertices are placed by an affine map fitted on the tile instead of
    ST_Transform; measured here against ST_Transform on every vertex in the tile."""
    _, address = _parcel_and_tile(api_engine, 3, z=z)
    frame = tiles._FRAME.format(srid=5897)
    with api_engine.connect() as conn:
        error = conn.execute(sa.text(
            f"WITH {frame.replace('$1', ':z').replace('$2', ':x').replace('$3', ':y')}, "
            "points AS (SELECT (ST_DumpPoints(x.geom)).geom AS q FROM current_parcel x, c "
            "WHERE x.geom && c.s) SELECT max(ST_Distance(ST_SetSRID(ST_Affine(q, ma, mb, md, "
            f"me, mx, my), 3857), ST_Transform(q, 3857))) / (2 * max(h) / {tiles.EXTENT}) "
            "FROM points, c, k"), dict(zip("zxy", address, strict=True))).scalar_one()
    assert error is not None and error < bound


def test_etag_304_and_a_change_makes_the_covering_tile_fresh(client, api_engine):
    parcel, address = _parcel_and_tile(api_engine, 55)
    z, x, y = address
    url = _url("parcels", address)
    far = _url("parcels", (z, x - 40, y - 40))  # no parcel there
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, no-cache"
    etag = first.headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    far_tag = client.get(far).headers["etag"]
    with api_engine.begin() as conn:
        old = conn.execute(sa.text(
            "SELECT u.land_use_code FROM current_parcel p JOIN parcel_land_use u ON "
            "u.parcel_version_id = p.version_id WHERE p.parcel_id = :p LIMIT 1"),
            {"p": parcel}).scalar_one()
        new = "TMD" if old != "TMD" else "SKC"
        change_purpose(conn, parcel, [Purpose(new)],
                       SourceDocument(kind="decision", reference="31/QĐ-UBND-TILES"))
    # the worker's cached copy is of the old state: it is not served
    plain = client.get(url)
    features = {f["id"]: f for f in _decode(plain.content)["parcels"]["features"]}
    assert features[parcel]["properties"]["land_use"] == new
    fresh = client.get(url, headers={"If-None-Match": etag})  # now from the cache
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == plain.headers["etag"] != etag
    assert fresh.content == plain.content
    assert client.get(url, headers={"If-None-Match": fresh.headers["etag"]}).status_code == 304
    # a tile the change does not touch keeps its ETag
    assert client.get(far, headers={"If-None-Match": far_tag}).status_code == 304


def test_empty_tiles_and_zooms_below_the_layer_are_204(client, api_engine):
    _, (z, x, y) = _parcel_and_tile(api_engine, 3)
    empty = client.get(_url("parcels", (z, x + 50, y + 50)))
    assert empty.status_code == 204 and empty.content == b""
    assert "etag" in empty.headers
    assert client.get(_url("parcels", (PARCELS.tile.minzoom - 1, x >> 2, y >> 2))).status_code \
        == 204


@pytest.mark.parametrize(("path", "code"), [
    ("/tiles/no-such-layer/16/52031/28851.mvt", "collection-not-found"),
    ("/tiles/no-such-layer/tilejson.json", "collection-not-found"),
    ("/tiles/parcels/3/8/1.mvt", "tile-not-found"),
    ("/tiles/parcels/3/1/-1.mvt", "tile-not-found"),
    ("/tiles/parcels/25/0/0.mvt", "tile-not-found"),
    ("/tiles/parcels/a/b/c.mvt", "tile-not-found"),
    ("/tiles/parcels/99999999999999999999/0/0.mvt", "tile-not-found"),
])
def test_bad_addresses_are_404_problems(client, path, code):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize("role", ROLES)
def test_no_tile_carries_personal_data_for_any_role(client, headers, api_engine, role,
                                                    province_outline_for_tiles):
    personal = personal_values(api_engine)
    _, address = _parcel_and_tile(api_engine, 3)
    for collection in MAP_ATTRIBUTES:
        response = client.get(_url(collection, address), headers=headers(role))
        assert response.status_code == 200
        values: list[object] = []
        for layer in _decode(response.content).values():
            for feature in layer["features"]:
                values += list(feature["properties"]) + [
                    v for v in feature["properties"].values() if isinstance(v, str)]
        assert_none(personal, values, collection)
        assert personal["names"].isdisjoint(response.content.decode("utf-8", "replace")
                                            .split("\x00"))


def test_tile_geometry_is_where_postgis_puts_it(client, api_engine):
    parcel, address = _parcel_and_tile(api_engine, 9, z=18)
    layer = _decode(client.get(_url("parcels", address)).content)["parcels"]
    feature = next(f for f in layer["features"] if f["id"] == parcel)
    z, x, y = address
    with api_engine.connect() as conn:
        west, south, east, expected = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_AsBinary(ST_Transform("
            "p.geom, 3857)) FROM ST_TileEnvelope(:z, :x, :y) e, current_parcel p "
            "WHERE p.parcel_id = :p"), {"z": z, "x": x, "y": y, "p": parcel}).one()
    unit = (east - west) / tiles.EXTENT
    # mapbox-vector-tile gives tile units with y up from the tile's lower edge
    got = shapely.transform(shapely.geometry.shape(feature["geometry"]),
                            lambda c: c * [unit, unit] + [west, south])
    # a parcel across the tile's edge is clipped there (the buffer beyond it)
    margin = tiles.BUFFER * unit
    want = shapely.from_wkb(bytes(expected)).intersection(shapely.box(
        west - margin, south - margin, east + margin, south + (east - west) + margin))
    assert got.symmetric_difference(want).area < 0.02 * want.area
