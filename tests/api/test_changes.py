"""Change requests over HTTP: If-Match with the parcel's ETag, 428/409/403/401, the
injunction block, and the parcel file reflecting the change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
SOURCE = {"kind": "contract", "reference": "88/2026/HĐCN", "issuer": "VPCC Hoàn Kiếm"}


@pytest.fixture(scope="module")
def target(api_engine):
    """A parcel of its own for these tests (the other API tests read other parcels), and
    two new parties to receive it."""
    with api_engine.begin() as conn:
        parcel = conn.execute(sa.text(
            "SELECT parcel_id FROM current_land_right WHERE kind = 'land_use' "
            "ORDER BY parcel_id DESC LIMIT 1")).scalar_one()
        buyers = [conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES ('individual', :n) RETURNING id"),
            {"n": n}).scalar_one() for n in ("Vũ Minh Khôi", "Đỗ Thu Hà")]
    return parcel, buyers


def _etag(client, headers, parcel):
    return client.get(f"{API}/parcels/{parcel}", headers=headers("land_officer")).headers["etag"]


def _transfer_dossier(client, headers, parcel) -> str:
    documents = client.get(f"{API}/procedures/CHUYEN-NHUONG").json()["documents"]
    received = client.post(f"{API}/dossiers", headers=headers("counter_clerk"), json={
        "procedure_code": "CHUYEN-NHUONG", "received_by_office": "VPDK.HN",
        "applicant": {"name": "Vũ Minh Khôi", "phone": "0903123456"},
        "parcel_ids": [parcel], "documents": documents})
    assert received.status_code == 201, received.text
    return str(received.json()["code"])


def test_transfer_needs_if_match_then_applies_and_changes_the_etag(client, headers, target):
    parcel, buyers = target
    dossier = _transfer_dossier(client, headers, parcel)
    body = {"parcel_id": parcel, "holders": [{"party_id": buyers[0], "share": "1/2"},
                                             {"party_id": buyers[1], "share": "1/2"}],
            "source": SOURCE, "dossier_code": dossier}
    missing = client.post(f"{API}/changes/transfer", json=body, headers=headers("land_officer"))
    assert missing.status_code == 428
    etag = _etag(client, headers, parcel)
    done = client.post(f"{API}/changes/transfer", json=body,
                       headers={**headers("land_officer"), "If-Match": etag})
    assert done.status_code == 201, done.text
    change_id = done.json()["change_id"]
    file = client.get(f"{API}/parcels/{parcel}", headers=headers("land_officer"))
    assert file.headers["etag"] != etag
    rights = [r for r in file.json()["properties"]["rights"] if r["right"] == "land_use"]
    assert sorted((r["party_id"], r["share"]) for r in rights) == sorted(
        (b, "1/2") for b in buyers)
    dossiers = client.get(f"{API}/parcels/{parcel}/dossiers").json()
    assert dossier in [d["dossier_code"] for d in dossiers]
    # the same request against the state it was made on is now stale: 409 naming the change
    again = client.post(f"{API}/changes/transfer", json=body,
                        headers={**headers("land_officer"), "If-Match": etag})
    assert again.status_code == 409
    assert f"change #{change_id}" in again.json()["detail"]


def test_only_land_officers_and_admins_register_changes(client, headers, target):
    parcel, buyers = target
    body = {"parcel_id": parcel, "holders": [{"party_id": buyers[0]}], "source": SOURCE}
    assert client.post(f"{API}/changes/transfer", json=body).status_code == 401
    for role in ("counter_clerk", "gis_analyst", "supervisor"):
        response = client.post(f"{API}/changes/transfer", json=body, headers=headers(role))
        assert response.status_code == 403, role


def test_injunction_blocks_a_mortgage_until_lifted(client, headers, target):
    parcel, buyers = target
    officer = headers("land_officer")
    order = {"kind": "court_order", "reference": "51/2026/QĐ-BPKCTT"}
    assert client.post(f"{API}/changes/injunction",
                       headers={**officer, "If-Match": _etag(client, headers, parcel)},
                       json={"parcel_id": parcel, "source": order}).status_code == 201
    file = client.get(f"{API}/parcels/{parcel}", headers=officer).json()
    assert file["properties"]["injunction"]["active"] is True
    mortgage = {"parcel_id": parcel, "lender_party_id": buyers[1], "amount": 10**9,
                "source": {"kind": "contract", "reference": "5/2026/HĐTC"}}
    blocked = client.post(f"{API}/changes/mortgage", json=mortgage,
                          headers={**officer, "If-Match": _etag(client, headers, parcel)})
    assert blocked.status_code == 409
    assert blocked.json()["code"] == "injunction-active"
    assert "51/2026/QĐ-BPKCTT" in blocked.json()["detail"]
    lifted = client.post(f"{API}/changes/injunction-release", headers={
        **officer, "If-Match": _etag(client, headers, parcel)}, json={
        "parcel_id": parcel, "reference": "51/2026/QĐ-BPKCTT",
        "source": {"kind": "court_order", "reference": "52/2026/QĐ-HBBP"}})
    assert lifted.status_code == 201
    ok = client.post(f"{API}/changes/mortgage", json=mortgage,
                     headers={**officer, "If-Match": _etag(client, headers, parcel)})
    assert ok.status_code == 201


@pytest.mark.parametrize("holders", [
    [{"party_id": 1, "share": "1/3"}],
    [{"party_id": 1, "share": "2/3"}, {"party_id": 1, "share": "2/3"}],
])
def test_shares_that_do_not_add_up_are_422(client, headers, target, holders):
    parcel, _ = target
    response = client.post(f"{API}/changes/transfer", json={
        "parcel_id": parcel, "holders": holders, "source": SOURCE},
        headers={**headers("land_officer"), "If-Match": _etag(client, headers, parcel)})
    assert response.status_code == 422
    assert "add up to" in response.json()["detail"]


def test_if_match_of_another_parcel_is_412(client, headers, target, person):
    parcel, buyers = target
    other = _etag(client, headers, person["parcel_id"])
    response = client.post(f"{API}/changes/transfer", json={
        "parcel_id": parcel, "holders": [{"party_id": buyers[0]}], "source": SOURCE},
        headers={**headers("land_officer"), "If-Match": other})
    assert response.status_code == 412


def test_openapi_shows_the_change_operations_with_examples(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/changes/transfer", "/api/v1/changes/mortgage",
                 "/api/v1/changes/mortgage-release", "/api/v1/changes/injunction",
                 "/api/v1/changes/injunction-release", "/api/v1/changes/purpose",
                 "/api/v1/changes/split", "/api/v1/changes/merge",
                 "/api/v1/changes/boundary-correction"):
        assert path in spec["paths"]
    for schema in ("TransferIn", "MortgageIn", "ReleaseIn", "InjunctionIn", "PurposeChangeIn",
                   "SplitIn", "MergeIn", "BoundaryIn"):
        assert spec["components"]["schemas"][schema]["examples"], schema


def test_split_over_http_with_a_cut_line_in_vn2000(client, headers, api_engine):
    with api_engine.connect() as conn:
        parcel, line = conn.execute(sa.text(
            "SELECT parcel_id, ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(geom) - 1), "
            "ST_MakePoint(ST_X(c), ST_YMax(geom) + 1))) FROM (SELECT parcel_id, geom, "
            "ST_Centroid(geom) AS c FROM current_parcel ORDER BY parcel_id DESC OFFSET 5 "
            "LIMIT 1) x")).one()
    officer = headers("land_officer")
    etag = _etag(client, headers, parcel)
    body = {"parcel_id": parcel, "cut_line": line, "crs": "EPSG:5897",
            "source": {"kind": "decision", "reference": "77/QĐ-UBND"}}
    response = client.post(f"{API}/changes/split", json=body,
                           headers={**officer, "If-Match": etag})
    assert response.status_code == 201, response.text
    children = response.json()["children"]
    assert len(children) >= 2
    lineage = client.get(f"{API}/parcels/{children[0]}/lineage").json()
    assert [p["parcel_id"] for p in lineage["parents"]] == [parcel]
    retired = client.get(f"{API}/parcels/{parcel}")
    assert retired.status_code == 404 and "retired" in retired.json()["detail"]
    both = f"{_etag(client, headers, children[0])}, {_etag(client, headers, 1)}"
    not_touching = client.post(f"{API}/changes/merge", headers={**officer, "If-Match": both},
                               json={
        "parcel_ids": [children[0], 1], "allow_different_holders": True,
        "source": {"kind": "decision", "reference": "78/QĐ-UBND"}})
    assert not_touching.status_code == 422
    assert "share a boundary" in not_touching.json()["detail"]
