"""Parameters where clients look for them: `crs` names the response's CRS everywhere and
`point-crs` / `bbox-crs` the input's (OGC API - Features Part 2), with the axis order EPSG gives (EPSG:4326 latitude first, CRS84 longitude first);
`Content-Crs` names CRS84 for longitude/latitude; a CRS that is not one is a 400; a
parameter that does not apply is a 400, not ignored; the OGC landing page answers at
`{root}/`; /openapi.json describes every parameter of the OGC and tile routes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
CRS84 = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
EPSG = "<http://www.opengis.net/def/crs/EPSG/0/{}>"


@pytest.fixture(scope="module")
def spot(api_engine, person) -> dict[str, float]:
    """A point inside the person's parcel, in VN-2000 (storage) and WGS 84."""
    with api_engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT ST_X(pt) AS x, ST_Y(pt) AS y, ST_X(ST_Transform(pt, 4326)) AS lon, "
            "ST_Y(ST_Transform(pt, 4326)) AS lat FROM (SELECT ST_PointOnSurface(geom) AS pt "
            "FROM current_parcel WHERE parcel_id = :p) s"), {"p": person["parcel_id"]}).one()
    return dict(row._mapping)


def _geometry(api_engine, parcel_id: int, sql: str) -> object:
    with api_engine.connect() as conn:
        return conn.execute(sa.text(
            f"SELECT ST_AsGeoJSON({sql})::json FROM current_parcel WHERE parcel_id = :p"),
            {"p": parcel_id}).scalar_one()


def test_crs_names_the_response_crs_of_the_point_lookup(client, api_engine, person, spot):
    response = client.get(f"{API}/parcels/at", params={
        "lon": spot["lon"], "lat": spot["lat"], "crs": "EPSG:5897"})
    assert response.status_code == 200
    assert response.headers["content-crs"] == EPSG.format(5897)
    (feature,) = response.json()["features"]
    assert feature["geometry"] == _geometry(api_engine, person["parcel_id"], "geom, 3")


def test_point_crs_names_the_point_crs(client, person, spot):
    found = client.get(f"{API}/parcels/at", params={
        "x": spot["x"], "y": spot["y"], "point-crs": "EPSG:5897"})
    assert found.headers["content-crs"] == CRS84
    assert [f["id"] for f in found.json()["features"]] == [person["parcel_id"]]
    both = client.get(f"{API}/parcels/at", params={
        "x": spot["x"], "y": spot["y"], "point-crs": "EPSG:5897", "crs": "EPSG:5897"})
    assert both.headers["content-crs"] == EPSG.format(5897)
    assert [f["id"] for f in both.json()["features"]] == [person["parcel_id"]]


@pytest.mark.parametrize("query", [
    {"x": "584950", "y": "2326060"},  # the point's CRS unnamed: it is not the response's
    {"x": "584950", "y": "2326060", "crs": "EPSG:5897"},
    {"lon": "105.8", "lat": "21.0", "point-crs": "EPSG:5897"},  # lon/lat are WGS 84
    {"lon": "105.8", "lat": "21.0", "x": "1", "y": "2", "point-crs": "EPSG:5897"},
    {"lon": "105.8", "lat": "21.0", "output-crs": "EPSG:5897"},  # not a parameter
    {"lon": "105.8", "lat": "21.0", "f": "json"},
])
def test_a_parameter_that_does_not_apply_to_the_point_lookup_is_400(client, query):
    response = client.get(f"{API}/parcels/at", params=query)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid-parameter"


@pytest.mark.parametrize(("path", "query"), [
    ("/parcels/at", {"lon": "105.8", "lat": "21.0", "crs": "EPSG:999999"}),
    ("/parcels/at", {"lon": "105.8", "lat": "21.0", "crs": "mercator"}),
    ("/parcels/at", {"x": "1", "y": "2", "point-crs": "EPSG:999999"}),
    ("/parcels", {"bbox": "105,21,106,22", "crs": "EPSG:999999"}),
    ("/parcels", {"bbox": "105,21,106,22", "crs": "mercator"}),
    ("/parcels", {"bbox": "105,21,106,22", "bbox-crs": "EPSG:1"}),
    ("/parcels/{id}", {"crs": "EPSG:99999"}),
    ("/parcels/{id}/history", {"crs": "not a crs"}),
])
def test_an_unsupported_crs_is_400(client, person, path, query):
    response = client.get(API + path.format(id=person["parcel_id"]), params=query)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "crs-not-supported"


def test_longitude_latitude_answers_name_crs84(client, person, spot):
    parcel = person["parcel_id"]
    answers = {
        "fast point lookup": client.get(f"{API}/parcels/at",
                                        params={"lon": spot["lon"], "lat": spot["lat"]}),
        "point lookup": client.get(f"{API}/parcels/at", params={
            "x": spot["x"], "y": spot["y"], "point-crs": "EPSG:5897"}),
        "parcel file": client.get(f"{API}/parcels/{parcel}"),
        "history": client.get(f"{API}/parcels/{parcel}/history"),
        "bbox": client.get(f"{API}/parcels", params={"bbox": "105,20,107,22"}),
        "reference": client.get(f"{API}/parcels", params={
            "commune": person["commune_code"], "sheet": person["sheet_number"]}),
        "OGC items": client.get("/ogc/collections/parcels/items"),
        "OGC feature": client.get(f"/ogc/collections/parcels/items/{parcel}"),
    }
    assert {name: (r.status_code, r.headers.get("content-crs"))
            for name, r in answers.items()} == {name: (200, CRS84) for name in answers}


def test_epsg_4326_is_latitude_first_in_and_out(client, api_engine, person, spot):
    parcel = person["parcel_id"]
    lat_lon = client.get(f"{API}/parcels/{parcel}", params={"crs": "EPSG:4326"})
    assert lat_lon.headers["content-crs"] == EPSG.format(4326)
    assert lat_lon.json()["geometry"] == _geometry(
        api_engine, parcel, "ST_FlipCoordinates(ST_Transform(geom, 4326)), 7")
    lon_lat = client.get(f"{API}/parcels/{parcel}", params={"crs": "OGC:CRS84"})
    assert lon_lat.json()["geometry"] == _geometry(api_engine, parcel,
                                                   "ST_Transform(geom, 4326), 7")
    at = client.get(f"{API}/parcels/at", params={
        "lon": spot["lon"], "lat": spot["lat"], "crs": "EPSG:4326"}).json()
    assert at["features"][0]["geometry"] == lat_lon.json()["geometry"]
    # a bbox in EPSG:4326 is latitude first too
    d = 1e-5
    box = f"{spot['lat'] - d},{spot['lon'] - d},{spot['lat'] + d},{spot['lon'] + d}"
    found = client.get(f"{API}/parcels", params={"bbox": box,
                                                 "bbox-crs": "EPSG:4326"}).json()
    assert parcel in [f["id"] for f in found["features"]]


@pytest.mark.parametrize(("path", "query"), [
    ("/parcels", {"commune": "00037", "bbox-crs": "EPSG:5897"}),  # bbox-crs needs a bbox
    ("/parcels", {"certificate": "CS 123456", "limit": "5"}),  # one page
    ("/parcels", {"certificate": "CS 123456", "bbox": "105,21,106,22"}),  # two searches
    ("/parcels", {"commune": "00037", "bbox": "105,21,106,22"}),
    ("/parcels/{id}/lineage", {"crs": "EPSG:5897"}),  # no geometry there
    ("/parcels/{id}/history", {"as_of": "2024-01-01"}),
    ("/search", {"q": "hang bac", "offset": "20"}),
    ("/dossiers", {"status": "open"}),
    ("/audit", {"since": "2024-01-01"}),
])
def test_a_parameter_the_operation_does_not_take_is_400(client, headers, person, path, query):
    response = client.get(API + path.format(id=person["parcel_id"]), params=query,
                          headers=headers("admin"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid-parameter"


def test_health_takes_no_parameters(client):
    assert client.get("/health").status_code == 200
    response = client.get("/health", params={"verbose": "1"})
    assert response.status_code == 400
    assert "no query parameters" in response.json()["hint"]


def test_the_ogc_landing_page_is_at_the_root_with_a_slash(client):
    slash = client.get("/ogc/", follow_redirects=False)
    bare = client.get("/ogc", follow_redirects=False)
    assert (slash.status_code, bare.status_code) == (200, 200)
    assert slash.content == bare.content
    links = {link["rel"]: link["href"] for link in slash.json()["links"]}
    base = str(client.base_url) + "/ogc"
    assert links["self"] == base + "/"
    assert links["conformance"] == base + "/conformance"
    assert links["data"] == base + "/collections"
    for rel in ("conformance", "data", "service-desc"):
        assert client.get(links[rel]).status_code == 200
    # the OGC OpenAPI document's landing path is that root
    assert "/" in client.get(links["service-desc"]).json()["paths"]


@pytest.mark.parametrize("url", [
    "/ogc/?foo=1", "/ogc/conformance?f=xml", "/ogc/collections?bbox=1,2,3,4",
    "/ogc/collections/parcels?limit=1", "/ogc/collections/parcels/items?foo=1",
    "/ogc/collections/parcels/items/1?f=xml", "/ogc/collections/parcels/items/1?limit=1",
])
def test_ogc_refuses_parameters_it_does_not_define(client, url):
    response = client.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid-parameter"


def test_openapi_describes_every_parameter_of_ogc_and_tiles(client):
    paths = client.get("/openapi.json").json()["paths"]

    def parameters(path: str) -> dict[str, dict[str, object]]:
        return {p["name"]: p for p in paths[path]["get"].get("parameters", [])}

    items = parameters("/ogc/collections/{collection_id}/items")
    for name in ("bbox", "bbox-crs", "crs", "datetime", "limit", "after", "f",
                 "commune_code", "parcel_number", "land_use_code", "level"):
        assert name in items and items[name]["in"] == "query", name
    assert items["limit"]["schema"]["minimum"] == 1
    assert items["collection_id"]["schema"]["enum"] == [
        "parcels", "land-use-purposes", "map-sheets", "admin-units"]
    assert {"crs", "f"} <= set(parameters(
        "/ogc/collections/{collection_id}/items/{feature_id}"))
    tile = parameters("/tiles/{collection_id}/{z}/{x}/{y}.mvt")
    assert {tile[n]["schema"]["type"] for n in ("z", "x", "y")} == {"integer"}
    at = parameters("/api/v1/parcels/at")
    assert {"lon", "lat", "x", "y", "crs", "point-crs"} == set(at)
