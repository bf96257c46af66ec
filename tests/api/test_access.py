"""Accounts, tokens, API keys and the personal-data matrix: role x endpoint x field."""

from __future__ import annotations

import pytest

API = "/api/v1"
ALL_ROLES = ("anonymous", "land_officer", "counter_clerk", "gis_analyst", "supervisor",
             "admin", "api-key")
#: What each role must see of a holder (api-key: a gis_analyst service account).
EXPECTED = {
    "land_officer": {"name": True, "id": "full", "birth": True, "address": True},
    "admin": {"name": True, "id": "full", "birth": True, "address": True},
    "supervisor": {"name": True, "id": "masked", "birth": False, "address": False},
    "counter_clerk": {"name": True, "id": "masked", "birth": False, "address": False},
    "gis_analyst": {"name": False, "id": "none", "birth": False, "address": False},
    "anonymous": {"name": False, "id": "none", "birth": False, "address": False},
    "api-key": {"name": False, "id": "none", "birth": False, "address": False},
}


def _endpoints(person):
    pid = person["parcel_id"]
    return [
        f"{API}/parcels/{pid}",
        f"{API}/parcels/{pid}?crs=EPSG:5897",
        f"{API}/parcels/{pid}/history",
        f"{API}/parcels/{pid}/lineage",
        f"{API}/parcels/{pid}/changes",
        f"{API}/parcels/{pid}/dossiers",
        f"{API}/parcels?commune={person['commune_code']}&sheet={person['sheet_number']}"
        f"&number={person['parcel_number']}",
        f"{API}/parcels?certificate={person['serial']}",
        f"{API}/search?q={person['name']}",
        f"{API}/search?q={person['national_id']}",
        f"{API}/parcels/999999999",  # errors must not leak either
    ]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_personal_data_matrix(client, headers, person, role):
    expected = EXPECTED[role]
    national_id = str(person["national_id"])
    masked = "•" * (len(national_id) - 3) + national_id[-3:]
    seen = {"name": False, "full_id": False, "masked_id": False, "birth": False,
            "address": False}
    for url in _endpoints(person):
        response = client.get(url, headers=headers(role))
        assert response.status_code in (200, 404), (url, response.text)
        text = response.content.decode()
        if "/search?q=" not in url:  # the query echoes what the caller typed
            seen["name"] |= str(person["name"]) in text
            seen["full_id"] |= national_id in text
        seen["masked_id"] |= masked in text
        seen["address"] |= str(person["holder_address"]) in text
        if f"{API}/parcels/{person['parcel_id']}" == url.split("?")[0]:
            seen["birth"] |= f'"birth_year":{person["birth_year"]}' in text
    assert seen["name"] is expected["name"], ("names", role)
    assert seen["full_id"] is (expected["id"] == "full"), ("full national id", role)
    assert seen["masked_id"] is (expected["id"] == "masked"), ("masked national id", role)
    assert seen["birth"] is expected["birth"], ("birth year", role)
    assert seen["address"] is expected["address"], ("holder address", role)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_search_by_holder_name_only_for_entitled_roles(client, headers, person, role):
    results = client.get(f"{API}/search", params={"q": person["name"]},
                         headers=headers(role)).json()
    holders = [r for r in results["results"] if r["match"] == "holder"]
    assert bool(holders) is EXPECTED[role]["name"]
    assert results["holders_searched"] is EXPECTED[role]["name"]


def test_sign_in_and_me(client, headers):
    me = client.get(f"{API}/auth/me", headers=headers("counter_clerk")).json()
    assert me["username"] == "t-counter-clerk" and me["role"] == "counter_clerk"
    assert me["office"] == "VPDK.HN"  # the office the database proves the account's
    assert me["personal_data"]["national_id"] == "masked"
    assert me["personal_data"]["financial"] == "references"
    anonymous = client.get(f"{API}/auth/me").json()
    assert anonymous["role"] == "anonymous" and anonymous["office"] is None
    assert anonymous["personal_data"]["financial"] == "none"


@pytest.mark.parametrize(("username", "password"), [
    ("t-land-officer", "wrong password"), ("nobody", "correct horse battery"),
    ("former-clerk", "correct horse battery"), ("tax-service", "")])
def test_failed_sign_in_is_one_401(client, username, password):
    response = client.post(f"{API}/auth/token", data={"username": username,
                                                      "password": password})
    assert response.status_code in (401, 422)
    if response.status_code == 401:
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"


def test_bad_tokens_and_keys_are_401_not_anonymous(client):
    for header in ({"Authorization": "Bearer not.a.token"}, {"X-API-Key": "abcdefgh.nope"}):
        response = client.get(f"{API}/auth/me", headers=header)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


def test_401_and_403_are_distinct(client, headers):
    assert client.get(f"{API}/users").status_code == 401
    forbidden = client.get(f"{API}/users", headers=headers("counter_clerk"))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    users = client.get(f"{API}/users", headers=headers("admin")).json()
    assert {u["username"] for u in users} >= {"t-admin", "t-land-officer", "former-clerk",
                                              "officer", "clerk"}
    assert all("password" not in key for u in users for key in u)


def test_api_key_identifies_a_service_account(client, headers):
    me = client.get(f"{API}/auth/me", headers=headers("api-key")).json()
    assert me == {**me, "username": "tax-service", "role": "gis_analyst", "via": "api-key"}


def test_openapi_lists_the_lookup_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/parcels", "/api/v1/parcels/at", "/api/v1/parcels/{parcel_id}",
                 "/api/v1/parcels/{parcel_id}/history", "/api/v1/search",
                 "/api/v1/auth/token"):
        assert path in paths
