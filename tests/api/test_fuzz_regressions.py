"""Requests the fuzzer (tests/fuzz/) found making the API answer 500: each is a 4xx
problem+json with a clear message. Every request here is refused, so the shared
API database only gains one dossier of these tests' own (in processing)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
SURVEY = {"kind": "survey", "reference": "Biên bản đo đạc 14/2026"}


def _problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture(scope="module")
def pair(api_engine) -> dict[str, object]:
    """Two current neighbours sharing a boundary line, with their shapes (EPSG:5897)."""
    with api_engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT a.parcel_id AS a, b.parcel_id AS b, ST_AsText(a.geom) AS a_wkt, "
            "ST_AsText(ST_Union(a.geom, b.geom)) AS both_wkt FROM current_parcel a "
            "JOIN current_parcel b ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
            "AND ST_Relate(a.geom, b.geom, 'F***1****') ORDER BY a.parcel_id DESC "
            "LIMIT 1")).one()
    return dict(row._mapping)


def _officer(client, headers, parcel_id: object) -> dict[str, str]:
    officer = headers("land_officer")
    tag = client.get(f"{API}/parcels/{parcel_id}", headers=officer).headers["etag"]
    return {**officer, "If-Match": tag}


# -- text holding NUL (U+0000): PostgreSQL cannot store it, the drivers raised ------------

@pytest.mark.parametrize("url", [
    f"{API}/search?q=ab%00c",                 # asyncpg: CharacterNotInRepertoireError
    f"{API}/dossiers?office=%00",             # psycopg2: ValueError
    f"{API}/dossiers/VPDK%00/receipt",
    f"{API}/parcels?commune=00037%00",
])
def test_nul_in_the_url_is_422(client, headers, url):
    body = _problem(client.get(url, headers=headers("supervisor")), 422, "nul-character")
    assert "NUL" in body["detail"]


def test_nul_in_a_json_body_is_422(client, headers, pair):
    body = {"first_parcel_id": pair["a"], "second_parcel_id": pair["b"],
            "first": "POLYGON((0 0\u0000, 1 1))", "second": "POLYGON EMPTY", "source": SURVEY}
    response = client.post(f"{API}/changes/boundary-correction", json=body,
                           headers=headers("land_officer"))
    _problem(response, 422, "nul-character")


def test_an_escaped_backslash_before_u0000_is_not_nul(client, headers):
    # "\\u0000" in JSON is the six characters \u0000: the request goes on (to a 404 here)
    response = client.post(
        f"{API}/changes/injunction", headers={**headers("land_officer"),
                                              "Content-Type": "application/json",
                                              "If-Match": '"999999999-1.0"'},
        content=b'{"parcel_id": 999999999, "source": {"kind": "court_order", '
                b'"reference": "a\\\\u0000"}}')
    _problem(response, 404)


@pytest.mark.parametrize("multipart", [False, True])
def test_nul_in_a_sign_in_form_is_422(client, multipart):
    form = {"username": "t-admin\u0000", "password": "x"}
    response = (client.post(f"{API}/auth/token", files={k: (None, v) for k, v in form.items()})
                if multipart else client.post(f"{API}/auth/token", data=form))
    _problem(response, 422)


# -- numbers the database cannot hold ------------------------------------------------------

@pytest.mark.parametrize("url", [
    f"{API}/parcels/9223372036854775808",
    f"{API}/parcels/9223372036854775808/lineage",
    f"{API}/parcels/9223372036854775808/changes",
    f"{API}/parcels/9223372036854775808/dossiers",
    f"{API}/parcels/0/history",
    f"{API}/parcels?commune=00037&sheet=1&number=2147483648",
    f"{API}/audit?party=9223372036854775808",
    f"{API}/audit?before_id=9223372036854775808",
])
def test_ids_beyond_the_columns_are_422(client, headers, url):
    _problem(client.get(url, headers=headers("supervisor")), 422, "invalid-request")


def test_the_largest_id_is_a_404(client, headers):
    _problem(client.get(f"{API}/parcels/9223372036854775807", headers=headers("supervisor")),
             404)


def test_as_of_the_first_day_a_date_can_name_is_422(client, pair):
    body = _problem(client.get(f"{API}/parcels/{pair['a']}?as_of=0001-01-01"), 422)
    assert "as_of 0001-01-01 is out of range" in body["detail"]


def test_a_mortgage_amount_beyond_numeric_18_is_422(client, headers, pair):
    body = {"parcel_id": pair["a"], "lender_party_id": 1, "amount": 10**18,
            "source": {"kind": "contract", "reference": "77/2026/HĐTC"}}
    response = client.post(f"{API}/changes/mortgage", json=body,
                           headers=_officer(client, headers, pair["a"]))
    _problem(response, 422, "invalid-request")


def test_a_procedure_fee_beyond_numeric_14_is_422(client, headers):
    response = client.patch(f"{API}/procedures/THE-CHAP", json={"fee_vnd": 10**14},
                            headers=headers("admin"))
    _problem(response, 422, "invalid-request")


# -- parties that do not exist (foreign-key violations) ------------------------------------

def test_a_mortgage_to_an_unknown_lender_is_422(client, headers, pair):
    body = {"parcel_id": pair["a"], "lender_party_id": 999_999_999,
            "source": {"kind": "contract", "reference": "77/2026/HĐTC"}}
    response = client.post(f"{API}/changes/mortgage", json=body,
                           headers=_officer(client, headers, pair["a"]))
    assert "unknown parties [999999999]" in _problem(response, 422)["detail"]


def test_an_injunction_by_an_unknown_authority_is_422(client, headers, pair):
    body = {"parcel_id": pair["a"], "authority_party_id": 999_999_999,
            "source": {"kind": "court_order", "reference": "45/2026/QĐ-BPKCTT"}}
    response = client.post(f"{API}/changes/injunction", json=body,
                           headers=_officer(client, headers, pair["a"]))
    assert "unknown parties [999999999]" in _problem(response, 422)["detail"]


# -- geometry that PostGIS or the parcel table refused with an internal error ---------------

@pytest.mark.parametrize(("split", "message"), [
    ({"cut_line": "POINT(585000 2326000)"}, "the cutting line is a Point, not a LINESTRING"),
    ({"children": ["POLYHEDRALSURFACE(((0 0 0, 0 1 0, 1 1 0, 0 0 0)))",
                   "POLYGON((0 0, 1 0, 1 1, 0 0))"]}, "child 1 is not a polygon"),
    ({"children": ["{3d}", "{parcel}"]}, "the children overlap each other"),
    ({"children": ["{parcel}", "POLYGON EMPTY"]}, "child 2 would measure 0.00 m²"),
])
def test_split_geometry_is_refused_with_a_reason(client, headers, pair, split, message):
    import shapely

    parcel = str(pair["a_wkt"])
    flat = shapely.from_wkt(parcel)
    shapes = {"{parcel}": parcel, "{3d}": shapely.force_3d(flat, 7.0).wkt}
    body = {"parcel_id": pair["a"], "source": SURVEY, **{
        k: [shapes.get(w, w) for w in v] if isinstance(v, list) else v
        for k, v in split.items()}}
    response = client.post(f"{API}/changes/split", json=body,
                           headers=_officer(client, headers, pair["a"]))
    assert message in _problem(response, 422)["detail"]


def test_a_boundary_correction_that_empties_a_parcel_is_refused(client, headers, pair):
    body = {"first_parcel_id": pair["a"], "second_parcel_id": pair["b"],
            "first": pair["both_wkt"], "second": "POLYGON EMPTY", "source": SURVEY}
    both = [_officer(client, headers, pair[k])["If-Match"] for k in ("a", "b")]
    response = client.post(f"{API}/changes/boundary-correction", json=body,
                           headers={**headers("land_officer"), "If-Match": ", ".join(both)})
    assert f"parcel {pair['b']} would measure 0.00 m²" in _problem(response, 422)["detail"]


# -- an approval's change parameters -------------------------------------------------------

@pytest.fixture(scope="module")
def mortgage_dossier(client, headers, pair) -> dict[str, object]:
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Lê Văn Fuzz", "phone": "0903123999"},
            "parcel_ids": [pair["a"]], "documents": [
                "Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp",
                "Giấy chứng nhận bản gốc"]}
    created = client.post(f"{API}/dossiers", json=body, headers={
        **headers("counter_clerk"), "Idempotency-Key": "fuzz-regressions-1"})
    assert created.status_code in (200, 201), created.text
    code = created.json()["code"]
    moved = client.post(f"{API}/dossiers/{code}/transitions", json={"to": "in_processing"},
                        headers={**headers("land_officer"), "If-Match": created.headers["etag"]})
    assert moved.status_code == 200, moved.text
    return {"code": code, "etag": moved.headers["etag"]}


@pytest.mark.parametrize(("change", "message"), [
    ({}, "needs change.lender_party_id"),                        # was KeyError
    ({"lender_party_id": "bank"}, "the request's parameters"),   # was ValueError
    ({"lender_party_id": 1, "source_kind": "fax"}, "the request's parameters"),  # was a CHECK
    ({"holders": [{"party_id": 1, "share": "1/0/2"}]}, "the request's parameters"),
])
def test_an_approval_with_bad_change_parameters_is_422(client, headers, mortgage_dossier,
                                                       change, message):
    response = client.post(
        f"{API}/dossiers/{mortgage_dossier['code']}/transitions",
        json={"to": "approved", "change": change},
        headers={**headers("land_officer"), "If-Match": mortgage_dossier["etag"]})
    assert message in _problem(response, 422)["detail"]
