"""The access matrix for error answers: what the public and analysts get back when a request
fails (not found, bad parameter, refused, rate-limited, forbidden) carries no holder's name,
national ID or own address, on every surface (parcels, search, dossiers, changes, audit,
exports, OGC API, tiles). The successful answers are walked in test_access.py,
test_ogc.py, test_tiles.py and test_exports.py."""

from __future__ import annotations

import orjson
import pytest

from tests.api.personal_data import personal_values

API = "/api/v1"


@pytest.fixture(scope="module")
def personal(api_engine):
    return personal_values(api_engine)


def _requests(person: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    parcel = person["parcel_id"]
    return [
        ("GET", f"{API}/parcels/987654321", {}),
        ("GET", f"{API}/parcels/{parcel}", {"params": {"crs": "EPSG:99999"}}),
        ("GET", f"{API}/parcels/{parcel}", {"params": {"as_of": "1900-01-01"}}),
        ("GET", f"{API}/parcels", {"params": {"commune": person["commune_code"],
                                              "sheet": person["sheet_number"],
                                              "number": 99999}}),
        ("GET", f"{API}/parcels", {"params": {"certificate": "XX 000000"}}),
        ("GET", f"{API}/parcels/at", {"params": {"lon": 200, "lat": 95}}),
        ("GET", f"{API}/search", {"params": {"q": "a"}}),
        ("GET", f"{API}/public/dossiers/VPDK.HN.991231.9999", {"params": {"verify": "1234"}}),
        ("GET", f"{API}/dossiers/VPDK.HN.991231.9999", {}),
        ("POST", f"{API}/changes/transfer", {"json": {"parcel_id": parcel, "holders": []}}),
        ("POST", f"{API}/changes/injunction", {"json": {"parcel_id": parcel}}),
        ("GET", f"{API}/audit", {"params": {"party": 1}}),
        ("POST", f"{API}/exports", {"json": {"collection": "parties", "format": "gpkg"}}),
        ("GET", "/ogc/collections/parties/items", {}),
        ("GET", "/ogc/collections/parcels/items", {"params": {"bbox": "1,2,3"}}),
        ("GET", f"/ogc/collections/parcels/items/{parcel}", {"params": {"crs": "EPSG:1"}}),
        ("GET", "/tiles/parcels/30/0/0.mvt", {}),
        ("GET", "/tiles/holders/16/0/0.mvt", {}),
    ]


@pytest.mark.parametrize("role", ["anonymous", "gis_analyst"])
def test_error_answers_carry_no_personal_data(client, headers, person, personal, role):
    failures = 0
    for method, url, kwargs in _requests(person):
        response = client.request(method, url, headers=headers(role), **kwargs)
        if response.status_code < 400:
            continue
        failures += 1
        body = response.text
        assert response.headers["content-type"].startswith("application/problem+json"), url
        document = orjson.loads(body)
        assert {"status", "code", "title"} <= document.keys(), url
        for name in personal["names"]:
            assert name not in body, (url, "a holder's name")
        for address in personal["addresses"]:
            assert address not in body, (url, "a holder's address")
        for national_id in personal["national_ids"]:
            assert national_id not in body, (url, "a national ID")
    assert failures >= 15, "the requests above are meant to fail"
