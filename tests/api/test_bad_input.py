"""Bad input that once answered 500 (or committed an absurdity): each request here is a 4xx
problem+json saying what is wrong, refused where the value enters by the one check of its
kind (cadastre.inputs, cadastre.extent, api.bounds)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.api.test_fuzz_regressions import SURVEY, _officer, _problem, pair  # noqa: F401

API = "/api/v1"
OGC_ITEMS = "/ogc/collections/parcels/items"


# -- digits that are digits to Python only ------------------------------------------------

@pytest.mark.parametrize("sheet", ["²", "٣", "１２"])
def test_a_sheet_of_unicode_digits_is_no_sheet(client, sheet):
    # '²'.isdigit() is True and int('²') raised: a 500
    response = client.get(f"{API}/parcels", params={"commune": "00037", "sheet": sheet})
    assert response.status_code == 200, response.text
    assert response.json()["features"] == []


@pytest.mark.parametrize("address", ["²/0/0", "١/0/0", "0/٠/٠", "+0/0/0", "1_0/0/0"])
def test_a_tile_address_is_ascii_digits(client, address):
    _problem(client.get(f"/tiles/parcels/{address}.mvt"), 404, "tile-not-found")


def test_an_ogc_feature_id_is_ascii_digits(client):
    _problem(client.get("/ogc/collections/parcels/items/١"), 404, "feature-not-found")


@pytest.mark.parametrize("field", [{"contact_phone": "٠٩١٢٣٤٥٦٧٨"},
                                   {"contact_phone": "０９１２３４５６７８"}])
def test_a_phone_of_unicode_digits_is_422(client, field):
    body = {"subject": "Hỏi", "body": "Khi nào có kết quả?", **field}
    _problem(client.post(f"{API}/public/feedback", json=body), 422, "invalid-request")


# -- numbers that are not finite, or far beyond the register -------------------------------

@pytest.mark.parametrize("params", [
    {"bbox": "nan,nan,nan,nan"},                                 # was a PROJ error, 500
    {"bbox": "-1e308,-1e308,1e308,1e308"},                       # 500
    {"bbox": "0,0,inf,inf"},                                     # 200, an empty page
    {"bbox": "-1e308,-1e308,1e308,1e308", "bbox-crs": "EPSG:5897"},  # 200, every parcel
    {"bbox": "-180,-90,180,90"},                                 # the world: 500
])
def test_a_bbox_beyond_the_register_is_422(client, params):
    body = _problem(client.get(f"{API}/parcels", params=params), 422, "invalid-bbox")
    assert "finite" in body["detail"] or "beyond the area" in body["detail"]


def test_a_bbox_in_the_register_still_finds_parcels(client):
    found = client.get(f"{API}/parcels", params={"bbox": "105.80,21.00,105.90,21.06"})
    assert found.status_code == 200 and found.json()["features"]


# -- instants that PostgreSQL or Python cannot hold ---------------------------------------

@pytest.mark.parametrize("when", [
    "9999-12-31",                       # its day ends at 10000-01-01: OverflowError, 500
    "9999-12-31T23:59:59-23:59",        # UTC in year 10000: asyncpg DataError, 500
    "0001-01-01T00:00:00+23:59",        # UTC in year 0
    "9999-12-31/..", "../0001-01-01",
])
def test_an_ogc_datetime_out_of_range_is_400(client, when):
    body = _problem(client.get(OGC_ITEMS, params={"datetime": when}), 400,
                    "invalid-parameter")
    assert "out of range" in body["detail"]


def test_an_ogc_datetime_far_ahead_is_still_a_filter(client):
    found = client.get(OGC_ITEMS, params={"datetime": "9999-12-30T00:00:00Z", "limit": 1})
    assert found.status_code == 200 and found.json()["numberReturned"] == 1


@pytest.mark.parametrize("param", [{"from": "9999-12-31T23:59:59-23:59"},
                                   {"to": "0001-01-01T00:00:00+23:59"}])
def test_an_audit_bound_out_of_range_is_422(client, headers, param):
    body = _problem(client.get(f"{API}/audit", params=param, headers=headers("supervisor")),
                    422, "invalid-request")
    assert "out of range" in body["errors"][0]["msg"]


def test_an_audit_bound_with_a_large_offset_is_read_in_utc(client, headers):
    # +20:00 is a valid RFC 3339 offset that PostgreSQL's timestamptz does not read
    response = client.get(f"{API}/audit", params={"from": "2020-01-01T00:00:00+20:00"},
                          headers=headers("supervisor"))
    assert response.status_code == 200, response.text


def test_a_parcel_file_as_of_the_future_is_422(client, pair):  # noqa: F811
    body = _problem(client.get(f"{API}/parcels/{pair['a']}", params={"as_of": "2999-01-01"}),
                    422, "invalid-input")
    assert "in the future" in body["detail"]
    _problem(client.get(f"{API}/parcels/{pair['a']}", params={"as_of": "9999-12-31"}), 422)


@pytest.mark.parametrize(("as_of", "message"), [
    ("2999-01-01", "in the future"),                 # was queued, then exported "as of 2999"
    ("9999-12-31T23:59:59-23:59", "out of range"),   # was queued, then failed in the job
    ("9999-12-31", "out of range"),
])
def test_an_export_as_of_that_cannot_be_is_refused_at_once(client, headers, api_engine,
                                                         as_of, message):
    with api_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM export_job")).scalar_one()
    response = client.post(f"{API}/exports", json={"collection": "parcels", "format": "csv",
                                                   "as_of": as_of}, headers=headers("admin"))
    assert message in _problem(response, 422, "invalid-input")["detail"]
    with api_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM export_job")).scalar_one() == before


def test_an_export_bbox_of_nan_in_json_is_422(client, headers):
    response = client.post(f"{API}/exports", content=json.dumps(
        {"collection": "parcels", "format": "csv", "bbox": [float("nan")] * 4}),
        headers={**headers("admin"), "Content-Type": "application/json"})
    _problem(response, 422, "invalid-bbox")


# -- empty text in the public endpoints ---------------------------------------------------

FEEDBACK = {"subject": "Hỏi tiến độ", "body": "Hồ sơ của tôi đến đâu rồi?",
            "contact_phone": "0912345678"}


@pytest.mark.parametrize("change", [
    {"dossier_code": ""},       # was a foreign-key violation, 500
    {"dossier_code": "   "},
    {"subject": " "},           # was the CHECK btrim(subject) <> '', 500
    {"body": ""},
    {"contact_name": ""},
])
def test_blank_feedback_fields_are_422(client, api_engine, change):
    with api_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM feedback")).scalar_one()
    body = _problem(client.post(f"{API}/public/feedback", json={**FEEDBACK, **change}), 422,
                    "invalid-request")
    assert body["errors"][0]["loc"] == ["body", next(iter(change))]
    with api_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM feedback")).scalar_one() == before


# -- geometry outside the storage CRS's area of use ---------------------------------------

def _versions(api_engine) -> int:
    with api_engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM parcel")).scalar_one())


@pytest.mark.parametrize(("cut", "shown"), [
    ("LINESTRING(1e300 1e300,-1e300 -1e300)", "(1e+300 1e+300)"),  # split into 4 triangles
    ("LINESTRING(585000 2326000, 585000 3000000)", "(585000.000 3000000.000)"),
])
def test_a_cutting_line_outside_the_crs_area_is_422(client, headers, api_engine, pair,  # noqa: F811
                                                    cut, shown):
    before = _versions(api_engine)
    response = client.post(f"{API}/changes/split",
                           json={"parcel_id": pair["a"], "source": SURVEY, "cut_line": cut},
                           headers=_officer(client, headers, pair["a"]))
    detail = _problem(response, 422, "outside-crs-area")["detail"]
    assert f"the cutting line has the coordinate {shown} outside the area of use of " \
           "EPSG:5897" in detail
    assert "longitude 103.5..106.51, latitude 8.33..23.4" in detail
    assert _versions(api_engine) == before


def _both(client, headers, pair) -> dict[str, str]:  # noqa: F811
    """A land officer's headers with the ETag of both parcels of a two-parcel change."""
    a = _officer(client, headers, pair["a"])
    b = _officer(client, headers, pair["b"])
    return {**a, "If-Match": f"{a['If-Match']}, {b['If-Match']}"}


def test_a_boundary_correction_outside_the_crs_area_is_422(client, headers, api_engine,
                                                           pair):  # noqa: F811
    before = _versions(api_engine)
    far = "POLYGON((0 0, 10 0, 10 10, 0 0))"
    response = client.post(f"{API}/changes/boundary-correction", json={
        "first_parcel_id": pair["a"], "second_parcel_id": pair["b"], "first": far,
        "second": pair["both_wkt"], "source": SURVEY},
        headers=_both(client, headers, pair))
    detail = _problem(response, 422, "outside-crs-area")["detail"]
    assert f"the new shape of parcel {pair['a']} has the coordinate (0.000 0.000)" in detail
    assert _versions(api_engine) == before
