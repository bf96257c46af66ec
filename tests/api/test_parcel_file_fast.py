"""The parcel file's fast path (api/fastpath.py) answers a signed-in `GET /parcels/{id}`
exactly like the full route, writes the same audit rows, and leaves to the route every
request it cannot answer the same way."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.accounts.service import add_user, disable_user
from cadastre.changes.service import SourceDocument, register_mortgage, set_injunction
from tests.api.conftest import PASSWORD
from tests.api.test_financial_facts import ALL_ROLES

API = "/api/v1"
SIGNED_IN = [r for r in ALL_ROLES if r != "anonymous"]
HEADERS = ("content-type", "etag", "cache-control", "vary", "content-crs")


@pytest.fixture(scope="module")
def mortgaged(api_engine) -> int:
    """A private person's parcel mortgaged to another private person, then enjoined
    (financial facts and a counterparty's personal data)."""
    with api_engine.begin() as conn:
        parcel, holder = conn.execute(sa.text("""
            SELECT r.parcel_id, r.party_id FROM current_land_right r
            JOIN party h ON h.id = r.party_id WHERE h.kind = 'individual'
            AND NOT EXISTS (SELECT 1 FROM restriction x WHERE x.parcel_id = r.parcel_id)
            ORDER BY r.parcel_id DESC LIMIT 1""")).one()
        lender = conn.execute(sa.text(
            "SELECT id FROM party WHERE kind = 'individual' AND id <> :h ORDER BY id LIMIT 1"),
            {"h": holder}).scalar_one()
        court = conn.execute(sa.text(
            "SELECT id FROM party WHERE kind = 'organisation' LIMIT 1")).scalar_one()
        register_mortgage(conn, parcel, lender, SourceDocument("contract", "FAST-7/2026/HĐTC"),
                          amount=2_500_000_000)
        set_injunction(conn, parcel, court, SourceDocument("court_order", "FAST-9/QĐ"))
    return int(parcel)


@pytest.fixture(scope="module")
def household(api_engine) -> int:
    """A parcel held by a household with members (personal data of several parties)."""
    with api_engine.connect() as conn:
        return int(conn.execute(sa.text("""
            SELECT r.parcel_id FROM current_land_right r JOIN party h ON h.id = r.party_id
            WHERE h.kind = 'household' AND EXISTS (
                SELECT 1 FROM party_member m WHERE m.group_party_id = h.id)
            ORDER BY r.parcel_id LIMIT 1""")).scalar_one())


def _reads(api_engine, after: int, upto: int = 2**62) -> list[tuple]:
    with api_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT actor, actor_role, table_name, row_key, party_id, endpoint, dossier_code, "
            "reason FROM audit_log WHERE id > :a AND id <= :b AND action = 'read_personal' "
            "ORDER BY id"), {"a": after, "b": upto})]


def _last_audit(api_engine) -> int:
    with api_engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar())


@pytest.fixture
def answered(monkeypatch) -> list[int]:
    """The parcels the fast path answered itself (not left to the route)."""
    from api import fastpath

    seen: list[int] = []
    original = fastpath._parcel_file

    async def recording(pool, parcel_id, *args):  # type: ignore[no-untyped-def]
        answer = await original(pool, parcel_id, *args)
        if answer is not None:
            seen.append(parcel_id)
        return answer

    monkeypatch.setattr(fastpath, "_parcel_file", recording)
    return seen


@pytest.mark.parametrize("role", SIGNED_IN)
def test_the_fast_path_answers_and_audits_exactly_like_the_route(
        client, headers, api_engine, mortgaged, household, answered, role):
    for parcel in (mortgaged, household):
        extra = {"X-Dossier-Code": "VPDK.HN.T7"}
        start = _last_audit(api_engine)
        fast = client.get(f"{API}/parcels/{parcel}", headers={**headers(role), **extra})
        middle = _last_audit(api_engine)
        # a parameter the fast path does not take (the default CRS, named) goes to the route
        full = client.get(f"{API}/parcels/{parcel}", params={"crs": "OGC:CRS84"},
                          headers={**headers(role), **extra})
        assert fast.status_code == full.status_code == 200, (fast.text, full.text)
        assert fast.content == full.content
        for header in HEADERS:
            assert fast.headers[header] == full.headers[header], header
        assert _reads(api_engine, start, middle) == _reads(api_engine, middle), (
            "the fast path's audit rows differ from the route's")
        assert answered[-1:] == [parcel], "the fast path left the request to the route"
        if role in ("land_officer", "admin", "counter_clerk", "supervisor"):
            assert _reads(api_engine, middle), "personal data shown without an audit row"


def test_what_the_fast_path_cannot_answer_the_same_way_goes_to_the_route(
        client, headers, api_engine, household):
    officer = headers("land_officer")
    url = f"{API}/parcels/{household}"
    first = client.get(url, headers=officer)
    assert first.status_code == 200
    assert client.get(url, headers={**officer, "If-None-Match": first.headers["etag"]}
                      ).status_code == 304
    assert client.get(f"{API}/parcels/{10**15}", headers=officer).status_code == 404
    assert client.get(f"{API}/parcels/{2**63}", headers=officer).status_code == 422
    for bad in ("Bearer not.a.token", "Bearer x'); DROP TABLE parcel; --"):
        response = client.get(url, headers={"Authorization": bad})
        assert response.status_code == 401, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # another scheme is no credential: the public's view, as the route gives it
    assert client.get(url, headers={"Authorization": "Basic abc"}).content == (
        client.get(url).content)
    odd = client.get(url, headers={**officer, "X-Dossier-Code": "HS'; --"})
    assert odd.status_code == 200 and odd.content == first.content


def test_a_disabled_accounts_token_is_refused_on_the_fast_path(client, api_engine, headers,
                                                               household):
    with api_engine.begin() as conn:
        exists = conn.execute(sa.text(
            "SELECT 1 FROM app_user WHERE username = 't-fast-officer'")).scalar()
        if not exists:
            add_user(conn, "t-fast-officer", "land_officer", password=PASSWORD,
                     office_code="VPDK.HN")
    token = client.post(f"{API}/auth/token", data={
        "username": "t-fast-officer", "password": PASSWORD}).json()["access_token"]
    signed_in = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/parcels/{household}", headers=signed_in).status_code == 200
    with api_engine.begin() as conn:
        disable_user(conn, "t-fast-officer")
    refused = client.get(f"{API}/parcels/{household}", headers=signed_in)
    assert refused.status_code == 401
    assert "personal" not in refused.text and "national_id" not in refused.text


def test_a_defect_in_the_fast_path_leaves_the_answer_to_the_route(
        client, headers, household, monkeypatch):
    from api import fastpath

    url = f"{API}/parcels/{household}"
    expected = client.get(url, params={"crs": "OGC:CRS84"}, headers=headers("land_officer"))

    def broken(*args):  # type: ignore[no-untyped-def]
        raise ValueError("a defect")

    monkeypatch.setattr(fastpath, "_audit_and_commit", broken)
    answered = client.get(url, headers=headers("land_officer"))
    assert answered.status_code == 200 and answered.content == expected.content
