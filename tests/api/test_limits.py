"""Limits: request bodies, vertices and unreadable geometry in changes, sign-in and search
rates, the CORS allow-list, and the statement timeout and pool bounds the API runs with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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


# -- counters shared by every worker, per address and per account or code ------------------

PROXY = "203.0.113.7"  # the reverse proxy of the tests (TEST-NET-3)


@pytest.fixture(scope="module")
def behind_proxy(api_settings):
    """The API behind a trusted reverse proxy: the client address is the proxy's
    X-Forwarded-For, so that one test can speak from many addresses. A code may be checked
    5 times a day here, fewer than an address may look up per minute (20)."""
    settings = api_settings.model_copy(update={"trusted_proxies": ["203.0.113.0/24"],
                                               "public_checks_per_code_per_day": 5})
    with TestClient(create_app(settings), client=(PROXY, 40000)) as client:
        yield client


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _sign_in(client, username: str, headers: dict[str, str] | None = None):
    return client.post(f"{API}/auth/token", data={"username": username, "password": "wrong"},
                       headers=headers or {})


@pytest.fixture
def a_dossier(api_engine) -> tuple[str, str, str]:
    """A dossier's code, the right digits for it and wrong ones."""
    with api_engine.connect() as conn:
        code, phone, id_number = conn.execute(sa.text(
            "SELECT code, applicant_phone, applicant_id_number FROM dossier "
            "WHERE applicant_phone IS NOT NULL ORDER BY code LIMIT 1")).one()
    right = phone[-4:]
    wrong = next(d for d in ("0000", "1111", "2222")
                 if d not in (right, (id_number or "")[-4:]))
    return code, right, wrong


def test_sign_in_attempts_are_counted_by_every_worker_together(api_settings):
    # two app instances on one database, as the workers of `cadastre serve --workers 2`
    with TestClient(create_app(api_settings)) as one, \
            TestClient(create_app(api_settings)) as two:
        codes = [_sign_in(one if i % 2 else two, "t-land-officer").status_code
                 for i in range(30)]
    assert codes == [401] * 10 + [429] * 20


def test_citizen_lookups_are_counted_by_every_worker_together(api_settings, a_dossier):
    code, _, wrong = a_dossier
    url = f"{API}/public/dossiers/{code}"
    with TestClient(create_app(api_settings)) as one, \
            TestClient(create_app(api_settings)) as two:
        codes = [(one if i % 2 else two).get(url, params={"verify": wrong}).status_code
                 for i in range(30)]
    assert codes == [404] * 20 + [429] * 10


def test_sign_in_to_one_account_from_many_addresses_is_limited(behind_proxy):
    responses = [_sign_in(behind_proxy, "t-land-officer", _from(f"198.51.100.{i}"))
                 for i in range(30)]
    assert [r.status_code for r in responses] == [401] * 10 + [429] * 20
    assert "for this account" in responses[-1].json()["detail"]
    assert int(responses[-1].headers["retry-after"]) > 0


def test_the_4_digit_check_of_a_dossier_is_limited_across_addresses(behind_proxy, a_dossier):
    code, right, wrong = a_dossier
    url = f"{API}/public/dossiers/{code}"
    codes = [behind_proxy.get(url, params={"verify": wrong},
                              headers=_from(f"198.51.100.{i}")).status_code
             for i in range(10)]
    assert codes == [404] * 5 + [429] * 5
    # once the code's checks are spent, the right digits are refused too: no oracle
    late = behind_proxy.get(url, params={"verify": right}, headers=_from("192.0.2.200"))
    assert late.status_code == 429
    assert "this dossier code today" in late.json()["detail"]
    # and so is rating it, which checks the same digits
    rating = behind_proxy.post(f"{url}/rating", params={"verify": right}, json={"rating": 5},
                               headers=_from("192.0.2.201"))
    assert rating.status_code == 429


def test_the_4_digit_check_of_a_feedback_is_limited_across_addresses(behind_proxy):
    sent = behind_proxy.post(f"{API}/public/feedback", headers=_from("192.0.2.10"), json={
        "subject": "Chậm trả kết quả", "body": "...", "contact_phone": "0912345678"})
    assert sent.status_code == 201, sent.text
    url = f"{API}/public/feedback/{sent.json()['code']}"
    codes = [behind_proxy.get(url, params={"verify": "0000"},
                              headers=_from(f"198.51.100.{i}")).status_code
             for i in range(10)]
    assert codes == [404] * 5 + [429] * 5
    assert behind_proxy.get(url, params={"verify": "5678"},
                            headers=_from("192.0.2.11")).status_code == 429


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(api_settings):
    settings = api_settings.model_copy(update={"trusted_proxies": ["203.0.113.0/24"],
                                               "login_attempts_per_minute": 3})
    app = create_app(settings)
    with TestClient(app, client=("192.0.2.50", 40000)) as stranger:
        # a stranger naming a new address each time is still one address
        codes = [_sign_in(stranger, f"nobody-{i}", _from(f"198.51.100.{i}")).status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429]
        assert "from this address" in _sign_in(stranger, "nobody-x").json()["detail"]
    with TestClient(app, client=(PROXY, 40000)) as proxy:
        # the trusted proxy's addresses are the callers': each of them has its own count
        codes = [_sign_in(proxy, f"nobody-{i}", _from(f"198.51.100.{i}")).status_code
                 for i in range(4)]
        assert codes == [401] * 4
        # the proxy appends the peer it saw: what the caller wrote before it is not believed
        spoofed = [_sign_in(proxy, f"someone-{i}", _from(f"10.9.9.{i}, 198.51.100.77"))
                   .status_code for i in range(4)]
        assert spoofed == [401, 401, 401, 429]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(strict):
    codes = [_sign_in(strict, f"nobody-{i}", _from(f"198.51.100.{i}")).status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]


@pytest.mark.parametrize(("peer", "key"), [
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"), ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"), ("192.0.2.1", "192.0.2.1"), ("testclient", "testclient")])
def test_ipv6_clients_are_counted_per_64_block(peer, key):
    from starlette.requests import Request

    from api.ratelimit import client_address

    request = Request({"type": "http", "client": (peer, 1), "headers": [], "method": "GET",
                       "path": "/", "query_string": b""})
    assert client_address(request) == key


@pytest.mark.parametrize("proxies", [["*"], ["proxy.internal"], ["10.0.0.0/33"]])
def test_trusted_proxies_are_addresses_or_networks(proxies):
    with pytest.raises(ValidationError, match="trusted proxies"):
        Settings(trusted_proxies=proxies)


# -- the Host header never reaches a link ---------------------------------------------------

EVIL = "evil.example"


def _link_pages(api_engine) -> list[str]:
    with api_engine.connect() as conn:
        commune, parcel = conn.execute(sa.text(
            "SELECT commune_code, parcel_id FROM current_parcel ORDER BY parcel_id LIMIT 1")
        ).one()
    return ["/ogc", "/ogc/", "/ogc/conformance", "/ogc/api", "/ogc/collections",
            "/ogc/collections/parcels", "/ogc/collections/parcels/items?limit=1",
            f"/ogc/collections/parcels/items/{parcel}", "/tiles", "/tiles/parcels/tilejson.json",
            f"{API}/parcels?commune={commune}&limit=1", f"{API}/parcels/", "/openapi.json",
            "/docs", "/health"]


def _assert_no_evil(client, pages: list[str], headers: dict[str, str]) -> list:
    seen = []
    for page in pages:
        response = client.get(page, headers=headers, follow_redirects=False)
        assert response.status_code < 500, (page, response.text)
        for name, value in response.headers.items():
            assert EVIL not in value, (page, name, value)
        assert EVIL.encode() not in response.content, page
        seen.append(response)
    return seen


def test_the_host_header_never_reaches_a_link(client, api_engine):
    pages = _link_pages(api_engine)
    _assert_no_evil(client, pages, {"Host": EVIL, "X-Forwarded-Host": EVIL})
    landing = client.get("/ogc", headers={"Host": EVIL}).json()
    # unset, the links name the server's own socket address (the test client's "testserver")
    assert landing["links"]
    assert all(link["href"].startswith("http://testserver/") for link in landing["links"])


def test_links_start_with_the_public_base_url(api_settings, api_engine):
    settings = api_settings.model_copy(update={
        "public_base_url": "https://dat-dai.hanoi.example"})
    with TestClient(create_app(settings)) as client:
        seen = _assert_no_evil(client, _link_pages(api_engine),
                               {"Host": EVIL, "X-Forwarded-Proto": "http"})
        tilejson = client.get("/tiles/parcels/tilejson.json", headers={"Host": EVIL}).json()
        items = client.get("/ogc/collections/parcels/items?limit=1",
                           headers={"Host": EVIL}).json()
    assert tilejson["tiles"] == ["https://dat-dai.hanoi.example/tiles/parcels/{z}/{x}/{y}.mvt"]
    assert {link["href"].split("?")[0] for link in items["links"]} == {
        "https://dat-dai.hanoi.example/ogc/collections/parcels/items",
        "https://dat-dai.hanoi.example/ogc/collections/parcels"}
    paged = next(r for r in seen if "link" in r.headers)
    assert paged.headers["link"].startswith("<https://dat-dai.hanoi.example/api/v1/parcels?")


@pytest.mark.parametrize("url", ["dat-dai.hanoi.example", "ftp://dat-dai.hanoi.example",
                                 "https://dat-dai.hanoi.example/cadastre",
                                 "https://user:pw@dat-dai.hanoi.example",
                                 "https://dat-dai.hanoi.example/?a=1", "https://:443"])
def test_the_public_base_url_is_an_origin(url):
    with pytest.raises(ValidationError, match="public base URL"):
        Settings(public_base_url=url)


def test_the_public_base_url_loses_its_trailing_slash():
    assert Settings(public_base_url="https://dat-dai.hanoi.example:8443/").public_base_url == \
        "https://dat-dai.hanoi.example:8443"


# -- CORS only where configured -------------------------------------------------------------

def test_public_layers_send_no_cors_header_unless_configured(client, api_settings):
    origin = {"Origin": "https://maps.elsewhere.example"}
    for page in ("/ogc/collections", "/tiles/parcels/tilejson.json", "/tiles"):
        assert "access-control-allow-origin" not in client.get(page, headers=origin).headers
    preflight = client.options("/ogc/collections", headers={
        **origin, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    settings = api_settings.model_copy(update={"public_layers_any_origin": True})
    with TestClient(create_app(settings)) as opened:
        for page in ("/ogc/collections", "/tiles/parcels/tilejson.json"):
            response = opened.get(page, headers=origin)
            assert response.headers["access-control-allow-origin"] == "*"
        # the register's own routes stay closed
        assert "access-control-allow-origin" not in opened.get(
            f"{API}/parcels/1", headers=origin).headers


def test_a_preflight_from_an_unlisted_origin_is_not_admitted(client, strict):
    ask = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "Authorization"}
    for app in (client, strict):
        response = app.options(f"{API}/auth/token", headers=ask)
        assert "access-control-allow-origin" not in response.headers
        assert response.status_code >= 400  # 405 without CORS, 400 from the allow-list


# -- as served: `cadastre serve --workers 2` behind a proxy on this host ----------------------

@pytest.fixture(scope="module")
def served(api_settings) -> Iterator[str]:
    """`cadastre serve --workers 2`, as `make demo` runs it, with 127.0.0.1 as its trusted
    proxy: two processes, one database of counters."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root),
           "CADASTRE_DATABASE_URL": api_settings.database_url,
           "CADASTRE_TRUSTED_PROXIES": '["127.0.0.1"]'}
    process = subprocess.Popen(
        [sys.executable, "-c", "from cadastre.cli import main; main()", "serve",
         "--port", str(port), "--workers", "2"], cwd=root, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("cadastre serve did not start") from None
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=30)


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_served_workers_share_counters_and_believe_their_proxy(served, a_dossier):
    code, _, wrong = a_dossier
    # one dossier code checked from 30 addresses (a new connection each, spread over both
    # workers by the kernel): 20 checks a day, wherever they come from
    codes = [_status(urllib.request.Request(
        f"{served}{API}/public/dossiers/{code}?verify={wrong}",
        headers=_from(f"198.51.100.{i}"))) for i in range(30)]
    assert codes == [404] * 20 + [429] * 10
    # 45 callers behind the proxy, each once: none is limited (were the proxy's address
    # counted instead, each worker would refuse after 20)
    unknown = [_status(urllib.request.Request(
        f"{served}{API}/public/dossiers/NOPE.261127.{i:04d}?verify=0000",
        headers=_from(f"198.18.0.{i}"))) for i in range(45)]
    assert unknown == [404] * 45
    # one account tried from 12 addresses: 10 a minute
    signed = [_status(urllib.request.Request(
        f"{served}{API}/auth/token", data=b"username=t-land-officer&password=wrong",
        headers={**_from(f"192.0.2.{i}"),
                 "Content-Type": "application/x-www-form-urlencoded"})) for i in range(12)]
    assert signed == [401] * 10 + [429] * 2
