"""The feedback queue over HTTP: staff see the open items of their office with their text,
a supervisor assigns one to an officer, the officer answers it, items past their answer
date are flagged overdue, the citizen reads the answer; the complainant's contact is shown
only to staff, audited, and sealed from the API's login."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.access import Role
from cadastre.accounts.service import add_user
from cadastre.db import api_database_url, create_engine
from tests.api.conftest import PASSWORD

API = "/api/v1"


def _send(client, office: str, phone: str, subject: str) -> str:
    sent = client.post(f"{API}/public/feedback", json={
        "channel": "hotline", "subject": subject, "body": f"{subject}: xin trả lời sớm.",
        "contact_name": "Trịnh Văn Quang", "contact_phone": phone, "office_code": office})
    assert sent.status_code == 201, sent.text
    assert phone not in sent.text and "Trịnh Văn Quang" not in sent.text
    return str(sent.json()["code"])


@pytest.fixture(scope="module")
def ward_clerk(client, api_engine) -> dict[str, str]:
    with api_engine.begin() as conn:
        add_user(conn, "fb-ward-clerk", "counter_clerk", password=PASSWORD,
                 office_code="UBND.00070")
    signed = client.post(f"{API}/auth/token", data={"username": "fb-ward-clerk",
                                                    "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def _queue(client, auth, **params):
    response = client.get(f"{API}/feedback", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return {item["code"]: item for item in response.json()}


def test_staff_work_the_queue_of_their_office(client, headers, ward_clerk, office_clock):
    ours = _send(client, "VPDK.HN", "0913555666", "Chậm cấp Giấy chứng nhận")
    theirs = _send(client, "UBND.00070", "0913777888", "Hỏi về trích lục")
    clerk, officer, supervisor = (headers(r) for r in ("counter_clerk", "land_officer",
                                                       "supervisor"))
    queue = _queue(client, clerk)
    assert ours in queue and theirs not in queue
    assert queue[ours]["body"] == "Chậm cấp Giấy chứng nhận: xin trả lời sớm."
    assert queue[ours]["contact_phone"] == "0913555666"  # staff call the citizen back
    assert queue[ours]["overdue"] is False
    assert theirs in _queue(client, ward_clerk) and ours not in _queue(client, ward_clerk)
    other = client.get(f"{API}/feedback", headers=clerk, params={"office": "UBND.00070"})
    assert other.status_code == 403 and other.json()["code"] == "wrong-office"
    assert theirs in _queue(client, headers("admin"), office="UBND.00070")
    assert client.get(f"{API}/feedback", headers=headers("gis_analyst")).status_code == 403
    assert client.get(f"{API}/feedback").status_code == 401

    # the supervisor gives it to an officer of the office; not to someone elsewhere
    url = f"{API}/feedback/{ours}"
    assert client.post(f"{url}/assign", json={"assignee": "t-land-officer"},
                       headers=clerk).status_code == 403
    away = client.post(f"{url}/assign", json={"assignee": "fb-ward-clerk"},
                       headers=supervisor)
    assert away.status_code == 422 and "works at office UBND.00070" in away.json()["detail"]
    assigned = client.post(f"{url}/assign", json={"assignee": "t-land-officer"},
                           headers=supervisor)
    assert assigned.status_code == 200, assigned.text
    assert (assigned.json()["assigned_to"], assigned.json()["assigned_by"]) == (
        "t-land-officer", "t-supervisor")
    # ... who answers it; another clerk may not, nor staff of another office
    assert client.post(f"{url}/answer", json={"answer": "x"},
                       headers=clerk).status_code == 403
    assert client.post(f"{url}/answer", json={"answer": "x"},
                       headers=ward_clerk).status_code == 403
    answered = client.post(f"{url}/answer", headers=officer,
                           json={"answer": "Giấy chứng nhận sẽ được trả ngày 10/12."})
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered_by"] == "t-land-officer"
    assert ours not in _queue(client, clerk)
    assert ours in _queue(client, clerk, status="answered")
    again = client.post(f"{url}/answer", json={"answer": "y"}, headers=officer)
    assert again.status_code == 422

    # the citizen reads the answer with the last digits of their phone, and nothing else
    shown = client.get(f"{API}/public/feedback/{ours}", params={"verify": "5666"})
    assert shown.status_code == 200, shown.text
    assert shown.json()["answer"] == "Giấy chứng nhận sẽ được trả ngày 10/12."
    assert "0913555666" not in shown.text and "Trịnh Văn Quang" not in shown.text
    assert client.get(f"{API}/public/feedback/{ours}",
                      params={"verify": "5667"}).status_code == 404

    # past its answer date (10 working days), an open item is flagged overdue
    assert theirs not in _queue(client, ward_clerk, status="overdue")
    office_clock(20)
    late = _queue(client, ward_clerk, status="overdue")
    assert late[theirs]["overdue"] is True
    assert _queue(client, ward_clerk)[theirs]["overdue"] is True


def test_every_queue_that_shows_a_contact_is_an_audited_read(client, headers):
    code = _send(client, "VPDK.HN", "0913999000", "Thái độ cán bộ")
    assert code in _queue(client, headers("counter_clerk"))
    entries = client.get(f"{API}/audit", headers=headers("supervisor"), params={
        "user": "t-counter-clerk", "action": "read_personal", "limit": 100}).json()
    reads = [e for e in entries["entries"] if e["table_name"] == "feedback"
             and e["row_key"] == {"code": code}]
    assert reads and reads[0]["endpoint"] == "GET /api/v1/feedback"


@pytest.fixture(scope="module")
def as_api(api_settings):
    engine = create_engine(api_settings, url=api_database_url(api_settings))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("role", list(Role))
def test_the_contact_view_agrees_with_the_role_matrix(client, as_api, headers, role):
    code = _send(client, "VPDK.HN", "0913111222", "Hỏi tiến độ")
    with as_api.begin() as conn:
        if role is not Role.ANONYMOUS:
            conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {
                "t": headers(role.value)["Authorization"].removeprefix("Bearer ")})
        seen = conn.execute(sa.text(
            "SELECT contact_name, contact_phone FROM feedback_contact_visible "
            "WHERE code = :c"), {"c": code}).one()
        proved = conn.execute(sa.text("SELECT feedback_verifies(:c, '1222'), "
                                      "feedback_verifies(:c, '1221')"), {"c": code}).one()
    staff = role in (Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.SUPERVISOR, Role.ADMIN)
    assert tuple(seen) == (("Trịnh Văn Quang", "0913111222") if staff else (None, None))
    assert tuple(proved) == (True, False)
