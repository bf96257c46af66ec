"""Limits: request bodies, vertices and unreadable geometry in changes, sign-in and search
rates, the CORS allow-list, and the statement timeout and pool bounds the API runs with."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from cadastre.changes.spatial import MAX_VERTICES
from cadastre.settings import Settings

API = "/api/v1"


@pytest.fixture(scope="module")
def strict(api_settings):
    """The API with small limits, so that tests can reach them quickly."""
    settings = api_settings.model_copy(update={
        "max_body_bytes": 2048, "login_attempts_per_minute": 3, "searches_per_minute": 4,
        "cors_origins": ["https://gis.hanoi.example"]})
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_body_over_the_limit_is_413_before_any_route_runs(strict):
    big = {"parcel_id": 1, "reason": "x" * 5000}
    response = strict.post(f"{API}/changes/injunction", json=big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "body-too-large"


def test_a_streamed_body_over_the_limit_is_cut_off(strict):
    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    response = strict.post(f"{API}/auth/token", content=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_sign_in_attempts_are_rate_limited_per_address(strict):
    codes = [strict.post(f"{API}/auth/token",
                         data={"username": "nobody", "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    limited = strict.post(f"{API}/auth/token", data={"username": "x", "password": "y"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


def test_searches_are_rate_limited_per_address(strict):
    codes = [strict.get(f"{API}/search", params={"q": "hang"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]


def test_cors_admits_only_the_listed_origins(strict):
    def preflight(origin: str):
        return strict.options(f"{API}/parcels/1", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET"})

    allowed = preflight("https://gis.hanoi.example")
    assert allowed.headers["access-control-allow-origin"] == "https://gis.hanoi.example"
    refused = preflight("https://evil.example")
    assert "access-control-allow-origin" not in refused.headers
    plain = strict.get(f"{API}/parcels/1", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_without_origins_configured_no_cors_headers_at_all(client):
    response = client.get(f"{API}/parcels/1", headers={"Origin": "https://gis.hanoi.example"})
    assert "access-control-allow-origin" not in response.headers


def test_a_wildcard_origin_is_refused_in_the_settings():
    with pytest.raises(ValidationError, match="explicit"):
        Settings(cors_origins=["*"])


@pytest.mark.parametrize("children,message", [
    (["POLYGON((0 0, 1 0, 1 1, 0 0)", "not wkt at all"], "not readable WKT"),
    (["POLYGON((" + ", ".join(f"{i} {i % 2}" for i in range(MAX_VERTICES + 1)) + ", 0 0))",
      "POLYGON((0 0, 1 0, 1 1, 0 0))"], "vertices"),
])
def test_changes_refuse_unreadable_or_huge_geometry_with_422(client, headers, api_engine,
                                                            children, message):
    with api_engine.connect() as conn:
        parcel = conn.execute(sa.text(
            "SELECT parcel_id FROM current_parcel ORDER BY parcel_id DESC LIMIT 1")).scalar_one()
    officer = headers("land_officer")
    etag = client.get(f"{API}/parcels/{parcel}", headers=officer).headers["etag"]
    response = client.post(f"{API}/changes/split", headers={**officer, "If-Match": etag}, json={
        "parcel_id": parcel, "children": children, "crs": "EPSG:5897",
        "source": {"kind": "decision", "reference": "1/QĐ"}})
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


def test_the_api_runs_with_a_statement_timeout_and_a_bounded_pool(client, api_settings):
    pool = client.app.state.pool
    assert pool.get_max_size() == api_settings.api_pool_max
    engine = client.app.state.engine
    assert engine.pool.size() == api_settings.pool_size
    with engine.connect() as conn:
        timeout = conn.execute(sa.text("SHOW statement_timeout")).scalar_one()
    assert timeout == f"{api_settings.statement_timeout_ms // 1000}s"
