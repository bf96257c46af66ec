from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from cadastre.settings import Settings


def test_health_answers_with_the_database_facts(settings):
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["storage_srid"] == 5897
    assert body["database"]["migrations"] >= 5


def test_health_is_503_problem_when_the_database_is_down():
    settings = Settings(database_url="postgresql://127.0.0.1:1/cadastre", connect_timeout_s=1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "database-unavailable"


def test_openapi_and_docs_are_served(settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "Cadastre API"
        assert client.get("/docs").status_code == 200


def test_unknown_path_is_a_problem_document(settings):
    with TestClient(create_app(settings)) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text


def test_docs_page_works_without_a_cdn(settings):
    with TestClient(create_app(settings)) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower()
        assert "/static/swagger/swagger-ui-bundle.js" in page.text
        script = client.get("/static/swagger/swagger-ui-bundle.js")
        assert script.status_code == 200 and len(script.content) > 100_000
