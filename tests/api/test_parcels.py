"""Parcel lookups over a real PostGIS: every way to find a parcel, the parcel file, CRS
output, errors as problem+json, caching."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"


def test_find_by_commune_sheet_and_number(client, person):
    response = client.get(f"{API}/parcels", params={
        "commune": person["commune_code"], "sheet": person["sheet_number"],
        "number": person["parcel_number"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    (feature,) = response.json()["features"]
    assert feature["id"] == person["parcel_id"]
    assert feature["properties"]["address"] == person["parcel_address"]


def test_point_in_parcel_in_wgs84_and_in_vn2000(client, api_engine, person):
    with api_engine.connect() as conn:
        x, y, lon, lat = conn.execute(sa.text(
            "SELECT ST_X(pt), ST_Y(pt), ST_X(ST_Transform(pt, 4326)), "
            "ST_Y(ST_Transform(pt, 4326)) FROM (SELECT ST_PointOnSurface(geom) AS pt "
            "FROM current_parcel WHERE parcel_id = :p) s"), {"p": person["parcel_id"]}).one()
    by_lonlat = client.get(f"{API}/parcels/at", params={"lon": lon, "lat": lat}).json()
    by_xy = client.get(f"{API}/parcels/at",
                       params={"x": x, "y": y, "point-crs": "EPSG:5897"}).json()
    assert [f["id"] for f in by_lonlat["features"]] == [person["parcel_id"]]
    assert [f["id"] for f in by_xy["features"]] == [person["parcel_id"]]
    empty = client.get(f"{API}/parcels/at", params={"lon": 100.0, "lat": 10.0}).json()
    assert empty["features"] == []


def test_bbox_is_paged_with_a_next_link(client, api_engine):
    with api_engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(ST_Transform(geom, 4326)) AS e FROM current_parcel) s")).one()
        total = conn.execute(sa.text("SELECT count(*) FROM current_parcel")).scalar_one()
    seen: set[int] = set()
    url, params = f"{API}/parcels", {"bbox": f"{x0},{y0},{x1},{y1}", "limit": 150}
    while url:
        response = client.get(url, params=params)
        seen |= {f["id"] for f in response.json()["features"]}
        link = response.headers.get("link")
        url, params = (link.split(";")[0].strip("<>"), None) if link else (None, None)
    assert len(seen) == total


def test_find_by_certificate_serial(client, person):
    serial = str(person["serial"])
    for spelling in (serial, serial.replace(" ", ""), serial.lower()):
        response = client.get(f"{API}/parcels", params={"certificate": spelling})
        assert person["parcel_id"] in [f["id"] for f in response.json()["features"]]


def test_vn2000_output_matches_postgis(client, api_engine, person):
    response = client.get(f"{API}/parcels/{person['parcel_id']}", params={"crs": "EPSG:5897"})
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/5897>"
    with api_engine.connect() as conn:
        expected = conn.execute(sa.text(
            "SELECT ST_AsGeoJSON(geom, 3)::json FROM current_parcel WHERE parcel_id = :p"),
            {"p": person["parcel_id"]}).scalar_one()
    assert response.json()["geometry"] == expected


def test_parcel_file_has_purposes_rights_certificates_restrictions_and_links(
        client, headers, api_engine):
    with api_engine.connect() as conn:
        blocked = conn.execute(sa.text(
            "SELECT parcel_id FROM current_restriction WHERE kind = 'injunction' "
            "ORDER BY parcel_id LIMIT 1")).scalar_one()
    file = client.get(f"{API}/parcels/{blocked}", headers=headers("land_officer")).json()
    props = file["properties"]
    assert props["injunction"]["active"] is True
    assert props["injunction"]["references"]
    assert props["land_use"] and props["land_use"][0]["name_vi"].startswith("Đất")
    assert props["rights"] and props["rights"][0]["share"] == "1/1"
    assert props["certificates"][0]["serial"]
    assert set(props["links"]) == {"self", "history", "lineage", "dossiers", "changes"}
    for link in props["links"].values():
        assert client.get(link).status_code == 200


def test_history_and_as_of(client, person):
    history = client.get(f"{API}/parcels/{person['parcel_id']}/history").json()
    assert len(history["features"]) == 1
    assert history["features"][0]["properties"]["began_with"] == "import"
    before = client.get(f"{API}/parcels/{person['parcel_id']}",
                        params={"as_of": "2001-01-01"})
    assert before.status_code == 404
    assert "did not exist on 2001" in before.json()["detail"]


@pytest.mark.parametrize(("query", "problem"), [
    ({"bbox": "106,21,105,22"}, "invalid-bbox"),
    ({"bbox": "a,b,c,d"}, "invalid-bbox"),
    ({"bbox": "105,21,106,22", "limit": 100000}, "invalid-request"),
    ({"sheet": "1", "number": 2}, "invalid-input"),
    ({}, "invalid-input"),
    ({"certificate": "not a serial"}, "invalid-input"),
])
def test_bad_parameters_are_422_problems(client, query, problem):
    response = client.get(f"{API}/parcels", params=query)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == problem
    assert "Traceback" not in response.text and "SELECT" not in response.text


def test_point_outside_the_world_and_unknown_parcel(client):
    assert client.get(f"{API}/parcels/at", params={"lon": 200, "lat": 10}).status_code == 422
    missing = client.get(f"{API}/parcels/999999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "parcel-not-found"
    assert client.get(f"{API}/parcels/not-a-number").status_code == 422


def test_etag_and_304(client, person):
    url = f"{API}/parcels/{person['parcel_id']}"
    first = client.get(url)
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_accent_insensitive_search(client, headers, person):
    street = str(person["parcel_address"]).split(",")[0]  # "Số 12 phố Hàng Bạc"
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFD", street.replace("đ", "d"))
                    if not unicodedata.combining(c)).lower()
    found = client.get(f"{API}/search", params={"q": plain}).json()
    assert person["parcel_id"] in [r["parcel_id"] for r in found["results"]]
    reference = client.get(f"{API}/search", params={
        "q": f"tờ {person['sheet_number']} thửa {person['parcel_number']}"}).json()
    assert person["parcel_id"] in [r["parcel_id"] for r in reference["results"]]
    name = str(person["name"])
    folded = "".join(c for c in unicodedata.normalize("NFD", name.replace("Đ", "D").replace(
        "đ", "d")) if not unicodedata.combining(c)).lower()
    by_name = client.get(f"{API}/search", params={"q": folded},
                         headers=headers("land_officer")).json()
    assert person["parcel_id"] in [r["parcel_id"] for r in by_name["results"]
                                   if r["match"] == "holder"]


def test_fast_point_lookup_answers_exactly_like_the_full_route(client, api_engine, person):
    with api_engine.connect() as conn:
        lon, lat = conn.execute(sa.text(
            "SELECT ST_X(pt), ST_Y(pt) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) "
            "AS pt FROM current_parcel WHERE parcel_id = :p) s"), {"p": person["parcel_id"]}).one()
    fast = client.get(f"{API}/parcels/at", params={"lon": lon, "lat": lat})
    full = client.get(f"{API}/parcels/at",
                      params={"lon": lon, "lat": lat, "crs": "OGC:CRS84"})
    assert fast.content == full.content
    for header in ("content-type", "etag", "cache-control", "content-crs"):
        assert fast.headers[header] == full.headers[header]
    # what the fast path does not handle goes to the full route and its errors
    assert client.get(f"{API}/parcels/at", params={"lon": lon, "lat": 95}).status_code == 422
    assert client.get(f"{API}/parcels/at", params={"lon": "x", "lat": lat}).status_code == 422
    cached = client.get(f"{API}/parcels/at", params={"lon": lon, "lat": lat},
                        headers={"If-None-Match": fast.headers["etag"]})
    assert cached.status_code == 304


def test_a_parcel_of_a_former_ward_answers_in_today_s_units(client, api_engine, headers):
    """The sheets of the former Phúc Tân ward (00037, Quận Hoàn Kiếm, until 2025-06-30) keep
    its code; every lookup also names the ward in force it became: Phường Hồng Hà (00097)."""
    with api_engine.connect() as conn:
        parcel_id, sheet, number = conn.execute(sa.text(
            "SELECT parcel_id, sheet_number, parcel_number FROM current_parcel "
            "WHERE commune_code = '00037' ORDER BY parcel_id LIMIT 1")).one()
    found = client.get(f"{API}/parcels", params={"commune": "00037", "sheet": sheet,
                                                 "number": number}).json()["features"][0]
    today = {"code": "00097", "name": "Phường Hồng Hà", "since": "2025-07-01"}
    assert (found["properties"]["commune_code"], found["properties"]["commune_today"]) == (
        "00037", today)
    file = client.get(f"{API}/parcels/{parcel_id}", headers=headers("land_officer")).json()
    assert file["properties"]["commune_today"] == today
    # a code no commune ever had is refused by the register
    with pytest.raises(sa.exc.DBAPIError, match="commune code 99999 is not a commune"), \
            api_engine.begin() as conn:
        conn.execute(sa.text(
            "WITH i AS (INSERT INTO parcel_identity DEFAULT VALUES RETURNING parcel_id) "
            "INSERT INTO parcel (parcel_id, commune_code, sheet_number, parcel_number, "
            "geom, begun_by) SELECT i.parcel_id, '99999', p.sheet_number, 999, p.geom, "
            "p.begun_by FROM current_parcel p, i WHERE p.parcel_id = :p"), {"p": parcel_id})
