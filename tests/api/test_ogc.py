"""OGC API - Features at /ogc: documents, paging, bbox, CRS (Part 2), datetime, property
filters, bad input as problems, no personal data, and GDAL's own OAPIF client reading every
collection in two CRSs, checked against PostGIS's ST_Transform."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
import shapely
import shapely.geometry
import sqlalchemy as sa

from cadastre.changes.service import SourceDocument
from cadastre.changes.spatial import Purpose, change_purpose
from tests.api.personal_data import assert_none, personal_values, strings

OGC = "/ogc"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
COLLECTIONS = ("parcels", "land-use-purposes", "map-sheets", "admin-units")
ROLES = ("anonymous", "land_officer", "counter_clerk", "gis_analyst", "supervisor", "admin",
         "api-key")
#: Each collection's features: id and geometry in the storage CRS (current state).
SOURCES = {
    "parcels": "SELECT parcel_id AS id, geom FROM current_parcel",
    "land-use-purposes": "SELECT u.id, p.geom FROM current_parcel p JOIN parcel_land_use u "
                         "ON u.parcel_version_id = p.version_id",
    "map-sheets": "SELECT sheet_id AS id, geom FROM map_sheet WHERE upper_inf(lifespan)",
    "admin-units": "SELECT id, geom FROM admin_unit WHERE validity @> current_date",
}


def _ids(engine, collection: str, where: str = "", **params) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(f"SELECT id FROM ({SOURCES[collection]}) s {where}"),
                                params).scalars())


def _all_pages(client, url: str, **params) -> list[dict]:
    features, pages = [], 0
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        features += body["features"]
        assert body["numberReturned"] == len(body["features"])
        pages += 1
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return features
        assert pages < 100
        response = client.get(following[0])


@pytest.fixture(scope="module")
def province_outline(api_engine) -> Iterator[None]:
    """The current Hà Nội row gets an outline (the envelope of the test parcels) so that the
    administrative units have coordinates to compare; taken away afterwards."""
    with api_engine.begin() as conn:
        unit = conn.execute(sa.text(
            "UPDATE admin_unit SET geom = (SELECT ST_Multi(ST_Envelope(ST_Collect(geom))) "
            "FROM current_parcel) WHERE level = 'province' AND code = '01' "
            "AND validity @> current_date RETURNING id")).scalar_one()
    yield
    with api_engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_unit SET geom = NULL WHERE id = :u"), {"u": unit})


def test_landing_page_conformance_and_openapi(client):
    landing = client.get(OGC).json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    conformance = client.get(OGC + "/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/{part}" in conformance
    api = client.get(OGC + "/api")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    spec = api.json()
    assert spec["openapi"].startswith("3.0")
    limit = spec["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == 1000 and limit["default"] == 10
    assert "parcel_number" in [p.get("name") for p in
                               spec["paths"]["/collections/parcels/items"]["get"]["parameters"]]


def test_collections_offer_wgs84_and_every_vn2000_zone(client):
    found = client.get(OGC + "/collections").json()["collections"]
    assert [c["id"] for c in found] == list(COLLECTIONS)
    for collection in found:
        assert collection["storageCrs"] == EPSG.format(5897)
        assert collection["crs"][0] == CRS84
        assert {EPSG.format(c) for c in (4326, 5896, 5897, 5898, 5899, *range(9205, 9219))} \
            <= set(collection["crs"])
        assert collection["itemType"] == "feature"
        rels = {link["rel"] for link in collection["links"]}
        assert {"self", "items", "describedby"} <= rels
    parcels = client.get(OGC + "/collections/parcels").json()
    west, south, east, north = parcels["extent"]["spatial"]["bbox"][0]
    assert 105.7 < west < east < 105.9 and 20.9 < south < north < 21.1  # Hoàn Kiếm
    assert parcels["extent"]["temporal"]["interval"][0][0] is not None


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_next_links_page_through_every_feature_once(client, api_engine, collection):
    features = _all_pages(client, f"{OGC}/collections/{collection}/items", limit=150)
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids))
    assert set(ids) == _ids(api_engine, collection)


def test_bbox_in_wgs84_and_vn2000_selects_what_postgis_selects(client, api_engine):
    with api_engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(sa.text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
            "ST_Expand(ST_Centroid(ST_Extent(geom)), 60) AS b FROM current_parcel) e")).one()
        lon0, lat0, lon1, lat1 = conn.execute(sa.text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
            "ST_Transform(ST_SetSRID(ST_Centroid(ST_Extent(geom)), 5897), 4326) AS c FROM "
            "current_parcel) e, "
            "LATERAL (SELECT ST_Expand(c, 0.0006) AS b) x")).one()
    expected_tm3 = _ids(api_engine, "parcels", "WHERE ST_Intersects(geom, ST_MakeEnvelope("
                        ":a, :b, :c, :d, 5897))", a=x0, b=y0, c=x1, d=y1)
    expected_wgs = _ids(api_engine, "parcels", "WHERE ST_Intersects(geom, ST_Transform("
                        "ST_MakeEnvelope(:a, :b, :c, :d, 4326), 5897))",
                        a=lon0, b=lat0, c=lon1, d=lat1)
    assert expected_tm3 and expected_wgs
    url = OGC + "/collections/parcels/items"
    tm3 = _all_pages(client, url, bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": "EPSG:5897"})
    assert {f["id"] for f in tm3} == expected_tm3
    crs84 = _all_pages(client, url, bbox=f"{lon0},{lat0},{lon1},{lat1}")
    assert {f["id"] for f in crs84} == expected_wgs
    lat_lon = _all_pages(client, url, bbox=f"{lat0},{lon0},{lat1},{lon1}",
                         **{"bbox-crs": EPSG.format(4326)})
    assert {f["id"] for f in lat_lon} == expected_wgs


@pytest.mark.parametrize("srid", [5897, 9210, 4326])
def test_coordinates_match_postgis_transform(client, api_engine, srid):
    with api_engine.connect() as conn:
        parcel, geojson = conn.execute(sa.text(
            "SELECT parcel_id, ST_AsGeoJSON(ST_Transform(geom, :s), 9, 0) FROM current_parcel "
            "ORDER BY parcel_id LIMIT 1 OFFSET 7"), {"s": srid}).one()
    response = client.get(f"{OGC}/collections/parcels/items/{parcel}",
                          params={"crs": EPSG.format(srid)})
    assert response.status_code == 200
    assert response.headers["content-crs"] == f"<{EPSG.format(srid)}>"
    got = shapely.geometry.shape(response.json()["geometry"])
    want = shapely.from_geojson(geojson)
    if srid == 4326:  # EPSG:4326 is latitude, longitude (Part 2)
        got = shapely.transform(got, lambda coords: coords[:, ::-1])
    tolerance = 1e-6 if srid == 4326 else 0.001
    assert shapely.equals_exact(got, want, tolerance=tolerance)
    default = client.get(f"{OGC}/collections/parcels/items/{parcel}")
    assert default.headers["content-crs"] == f"<{CRS84}>"


def test_property_filters(client, api_engine):
    with api_engine.connect() as conn:
        parcel = conn.execute(sa.text(
            "SELECT parcel_id, commune_code, sheet_number, parcel_number FROM current_parcel "
            "ORDER BY parcel_id LIMIT 1 OFFSET 11")).one()
    one = client.get(OGC + "/collections/parcels/items", params={
        "commune_code": parcel.commune_code, "sheet_number": parcel.sheet_number,
        "parcel_number": parcel.parcel_number}).json()
    assert [f["id"] for f in one["features"]] == [parcel.parcel_id]
    residential = _all_pages(client, OGC + "/collections/parcels/items", land_use="ODT",
                             limit=1000)
    assert residential and all("ODT" in f["properties"]["land_use"].split("+")
                               for f in residential)
    assert {f["id"] for f in residential} == _ids(
        api_engine, "parcels", "WHERE id IN (SELECT p.parcel_id FROM current_parcel p JOIN "
        "parcel_land_use u ON u.parcel_version_id = p.version_id WHERE u.land_use_code = "
        "'ODT')")
    provinces = client.get(OGC + "/collections/admin-units/items",
                           params={"level": "province", "limit": 1000}).json()["features"]
    assert provinces and {f["properties"]["level"] for f in provinces} == {"province"}


@pytest.fixture(scope="module")
def purpose_change(api_engine) -> dict[str, object]:
    """A purpose change on a parcel of its own (committed: the API reads its own pool):
    the old version's lifespan and both land-use codes."""
    with api_engine.begin() as conn:
        parcel, old = conn.execute(sa.text(
            "SELECT p.parcel_id, u.land_use_code FROM current_parcel p JOIN parcel_land_use "
            "u ON u.parcel_version_id = p.version_id WHERE NOT EXISTS (SELECT 1 FROM "
            "current_restriction r WHERE r.parcel_id = p.parcel_id) AND (SELECT count(*) "
            "FROM parcel_land_use v WHERE v.parcel_version_id = p.version_id) = 1 "
            "ORDER BY p.parcel_id DESC OFFSET 40 LIMIT 1")).one()
        new = "TMD" if old != "TMD" else "SKC"
        change_purpose(conn, parcel, [Purpose(new)],
                       SourceDocument(kind="decision", reference="12/QĐ-UBND-OGC"))
        began, ended = conn.execute(sa.text(
            "SELECT lower(lifespan), upper(lifespan) FROM parcel WHERE parcel_id = :p AND NOT "
            "upper_inf(lifespan)"), {"p": parcel}).one()
    return {"parcel": parcel, "old": old, "new": new, "began": began, "ended": ended}


def test_datetime_reads_a_past_state_of_the_map(client, purpose_change):
    parcel = purpose_change["parcel"]
    url = OGC + "/collections/parcels/items"
    then = purpose_change["began"] + (purpose_change["ended"] - purpose_change["began"]) / 2
    stamp = then.isoformat().replace("+00:00", "Z")
    past = [f for f in _all_pages(client, url, datetime=stamp, limit=1000) if f["id"] == parcel]
    now = [f for f in _all_pages(client, url, limit=1000) if f["id"] == parcel]
    assert past[0]["properties"]["land_use"] == purpose_change["old"]
    assert past[0]["properties"]["valid_to"] is not None
    assert now[0]["properties"]["land_use"] == purpose_change["new"]
    assert past[0]["properties"]["version_id"] != now[0]["properties"]["version_id"]
    before_import = client.get(url, params={"datetime": "2001-01-01T00:00:00Z"}).json()
    assert before_import["features"] == []
    # an interval: each parcel in its latest state within it
    during = _all_pages(client, url, datetime=f"{stamp}/..", limit=1000)
    assert [f["properties"]["land_use"] for f in during if f["id"] == parcel] == [
        purpose_change["new"]]
    assert len({f["id"] for f in during}) == len(during)


def test_limit_above_the_cap_is_cut_to_the_cap_not_an_error(client):
    url = OGC + "/collections/parcels/items"
    capped = client.get(url, params={"limit": 10**30})
    assert capped.status_code == 200
    assert capped.json()["features"] == client.get(url, params={"limit": 1000}).json()[
        "features"]
    assert client.get(url).json()["numberReturned"] == 10


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/collections/no-such-layer", {}, 404, "collection-not-found"),
    ("/collections/no-such-layer/items", {}, 404, "collection-not-found"),
    ("/collections/parcels/items", {"crs": "EPSG:3857"}, 400, "crs-not-supported"),
    ("/collections/parcels/items", {"crs": "mercator"}, 400, "crs-not-supported"),
    ("/collections/parcels/items", {"bbox": "105.8,21,105.9,21.1", "bbox-crs": "EPSG:2000"},
     400, "crs-not-supported"),
    ("/collections/parcels/items", {"bbox": "105.8,21.1,105.9,21.0"}, 400,
     "invalid-parameter"),
    ("/collections/parcels/items", {"bbox": "586000,2326000,585000,2327000",
                                    "bbox-crs": "EPSG:5897"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"bbox": "105.8,21,105.9"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"bbox": "a,b,c,d"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"bbox": "nan,21,105.9,21.1"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"bbox": "-200,-95,200,95"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"limit": "0"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"limit": "-5"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"limit": "ten"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"datetime": "yesterday"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"datetime": "2024-13-45T00:00:00Z"}, 400,
     "invalid-parameter"),
    ("/collections/parcels/items", {"datetime": "2024-05-01T00:00:00"}, 400,
     "invalid-parameter"),
    ("/collections/parcels/items", {"datetime": "2025-01-01/2024-01-01"}, 400,
     "invalid-parameter"),
    ("/collections/parcels/items", {"datetime": "../.."}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"parcel_number": "abc"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"parcel_number": "9" * 40}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"owner": "x"}, 400, "invalid-parameter"),
    ("/collections/parcels/items", {"after": "x"}, 400, "invalid-parameter"),
    ("/collections/parcels/items/abc", {}, 404, "feature-not-found"),
    ("/collections/parcels/items/999999999", {}, 404, "feature-not-found"),
    ("/collections/parcels/items/1", {"crs": "EPSG:27700"}, 400, "crs-not-supported"),
])
def test_bad_input_is_a_problem_never_a_500(client, path, params, status, code):
    response = client.get(OGC + path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]


@pytest.mark.parametrize("bbox", ["-180,-90,180,90", "-179.9,-89.9,179.9,89.9",
                                  "170,-10,-170,10", "0,0,1,1"])
def test_world_sized_and_faraway_boxes_are_answered_not_failed(client, bbox):
    response = client.get(OGC + "/collections/parcels/items", params={"bbox": bbox})
    assert response.status_code == 200
    body = response.json()
    assert body["numberReturned"] <= 10
    if bbox.startswith("-"):
        assert body["numberReturned"] == 10  # the world holds the register
    else:
        assert body["numberReturned"] == 0


@pytest.mark.parametrize("role", ROLES)
def test_no_collection_carries_personal_data_for_any_role(client, headers, api_engine, role):
    personal = personal_values(api_engine)
    for collection in COLLECTIONS:
        page = client.get(f"{OGC}/collections/{collection}/items",
                          params={"limit": 1000}, headers=headers(role))
        assert page.status_code == 200
        document = page.json()
        assert_none(personal, strings(document), collection)
        if document["features"]:
            first = document["features"][0]["id"]
            one = client.get(f"{OGC}/collections/{collection}/items/{first}",
                             headers=headers(role))
            assert_none(personal, strings(one.json()), f"{collection}/{first}")
    for path in ("", "/collections", "/api"):
        assert_none(personal, strings(client.get(OGC + path).json()), path or "/")


# --- GDAL's own OGC API client ----------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(api_settings) -> Iterator[str]:
    """The API served by uvicorn in a process of its own. (In a thread of the test process
    GDAL's reads deadlock: pyogrio keeps the GIL while GDAL waits for the server.)"""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = ("import sys, uvicorn; from api.app import create_app; "
            "from cadastre.settings import Settings; uvicorn.run(create_app(Settings("
            "database_url=sys.argv[1])), host='127.0.0.1', port=int(sys.argv[2]), "
            "log_level='warning')")
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", code, api_settings.database_url,
                                str(port)], cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/ogc", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start") from None
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=20)


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("srid", [4326, 9210])
def test_gdal_reads_every_collection_with_postgis_coordinates(
        live_server, api_engine, province_outline, collection, srid):
    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer=collection,
                                   fid_as_index=True, CRS=f"EPSG:{srid}")
    # for EPSG:4326 GDAL picks CRS84, the same CRS in longitude, latitude order
    assert frame.crs.equals(f"EPSG:{srid}", ignore_axis_order=True)
    with api_engine.connect() as conn:
        expected = {i: None if g is None else bytes(g) for i, g in conn.execute(sa.text(
            f"SELECT id, ST_AsBinary(ST_Transform(geom, :s)) FROM ({SOURCES[collection]}) s"),
            {"s": srid}).all()}
    assert set(frame.index) == set(expected)
    with_geometry = [i for i, g in expected.items() if g is not None]
    assert with_geometry, "every collection has shapes to compare"
    tolerance = 1e-6 if srid == 4326 else 0.001  # the output precision: ~1 cm, 1 mm
    for fid in with_geometry:
        # GDAL gives x = longitude whatever the CRS's axis order; PostGIS too
        assert shapely.equals_exact(frame.geometry[fid], shapely.from_wkb(expected[fid]),
                                    tolerance=tolerance), (collection, fid)


def test_gdal_reads_the_map_as_it_was(live_server, api_engine):
    before = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="parcels",
                                    DATETIME="2001-01-01T00:00:00Z")
    assert len(before) == 0
    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="parcels",
                                   columns=["parcel_number", "land_use"], read_geometry=False)
    assert len(frame) == len(_ids(api_engine, "parcels"))
