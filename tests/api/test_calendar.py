"""The calendar over HTTP: anyone reads the loaded years, a year's days and an appointment
date; only an administrator records, corrects and ends swap entries (If-Match on the version
read), and the database refuses the other roles whatever the API does."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.db import api_database_url, create_engine

API = "/api/v1/calendar"


def test_anyone_reads_the_calendar(client):
    years = {y["year"]: y["source"] for y in client.get(f"{API}/years").json()}
    assert set(range(2024, 2031)) <= set(years)
    assert years[2026].startswith("holidays ")
    found = client.get(f"{API}/2026")
    assert found.status_code == 200, found.text
    days = {d["day"]: d for d in found.json()["days"]}
    assert days["2026-08-22"]["kind"] == "working_day"
    assert days["2026-08-31"]["kind"] == "day_off"
    assert days["2026-11-24"]["name"] == "Ngày Văn hóa Việt Nam"
    assert days["2026-02-16"]["name"] == "Tết Nguyên đán (29 tháng Chạp)"
    assert "recorded_by" not in str(found.json())


@pytest.mark.parametrize(("received", "days", "due"), [
    ("2026-08-21", 1, "2026-08-22"),   # Saturday 22/8/2026 is worked
    ("2026-11-23", 1, "2026-11-25"),   # 24/11 Vietnam Culture Day
    ("2025-04-29", 1, "2025-05-05"),   # 30/4, 1/5, and 2/5 swapped for Sat 26/4
])
def test_the_appointment_date_of_a_day(client, received, days, due):
    response = client.get(f"{API}/due", params={"from": received, "days": days})
    assert response.status_code == 200, response.text
    assert response.json()["due"] == due


def test_a_year_without_data_names_the_command_that_loads_it(client):
    due = client.get(f"{API}/due", params={"from": "2040-03-01", "days": 5})
    assert due.status_code == 422
    assert due.json()["code"] == "no-holiday-calendar"
    assert "cadastre calendar refresh --years 2040" in due.json()["detail"]
    year = client.get(f"{API}/2040")
    assert year.status_code == 404
    assert "cadastre calendar refresh --years 2040" in year.json()["detail"]
    assert client.get(f"{API}/20400").status_code == 422


def test_only_an_administrator_records_an_entry(client, headers):
    body = {"day": "2029-12-28", "kind": "day_off", "name": "Nghỉ hoán đổi (thử)",
            "legal_basis": "Thông báo số 1/TB-BNV (thử)"}
    assert client.post(f"{API}/swaps", json=body).status_code == 401
    for role in ("land_officer", "supervisor", "counter_clerk"):
        assert client.post(f"{API}/swaps", json=body,
                           headers=headers(role)).status_code == 403, role
    assert client.get(f"{API}/swaps").status_code == 401
    assert client.get(f"{API}/swaps", headers=headers("supervisor")).status_code == 200


def test_an_entry_is_recorded_corrected_and_ended_in_versions(client, headers):
    admin = headers("admin")
    body = {"day": "2029-12-28", "kind": "day_off", "name": "Nghỉ hoán đổi (thử)",
            "legal_basis": "Thông báo số 1/TB-BNV (thử)"}
    made = client.post(f"{API}/swaps", json=body, headers=admin)
    assert made.status_code == 201, made.text
    entry = made.json()
    swap_id = entry["swap_id"]
    assert made.headers["location"] == f"{API}/swaps/{swap_id}"
    assert entry["recorded_by"] == "t-admin"
    assert client.post(f"{API}/swaps", json=body, headers=admin).status_code == 409
    # Fri 28/12/2029 off: Thu 27 + 1 is Mon 31/12
    assert client.get(f"{API}/due", params={"from": "2029-12-27", "days": 1}
                      ).json()["due"] == "2029-12-31"
    shown = {d["day"]: d for d in client.get(f"{API}/2029").json()["days"]}
    assert shown["2029-12-28"]["source"] == "Thông báo số 1/TB-BNV (thử)"

    url = f"{API}/swaps/{swap_id}"
    correction = {"name": "Nghỉ hoán đổi Tết Dương lịch 2030",
                  "legal_basis": "Thông báo số 2/TB-BNV (thử)"}
    assert client.patch(url, json=correction, headers=admin).status_code == 428
    assert client.patch(url, json=correction, headers={
        **admin, "If-Match": '"calendar-entry-999.1"'}).status_code == 412
    edited = client.patch(url, json=correction, headers={**admin, "If-Match": made.headers["etag"]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["version_id"] != entry["version_id"]
    stale = client.patch(url, json={"name": "x"}, headers={**admin, "If-Match": made.headers["etag"]})
    assert stale.status_code == 412 and stale.json()["code"] == "stale-calendar-entry"
    assert client.patch(url, json=correction, headers={
        **headers("land_officer"), "If-Match": edited.headers["etag"]}).status_code == 403

    ended = client.post(f"{url}/end", json={"legal_basis": "Thông báo số 3/TB-BNV (thử)"},
                        headers={**admin, "If-Match": edited.headers["etag"]})
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_by"] == "t-admin" and ended.json()["valid_until"]
    versions = client.get(url, headers=admin)
    assert [v["name"] for v in versions.json()["versions"]] == [
        "Nghỉ hoán đổi (thử)", "Nghỉ hoán đổi Tết Dương lịch 2030"]
    assert "etag" not in versions.headers  # nothing in force to edit
    assert client.get(f"{API}/due", params={"from": "2029-12-27", "days": 1}
                      ).json()["due"] == "2029-12-28"
    history = client.get(f"{API}/swaps", params={"year": 2029, "history": "true"},
                         headers=headers("supervisor")).json()
    assert len([v for v in history if v["swap_id"] == swap_id]) == 2
    assert client.get(f"{API}/swaps", params={"year": 2029},
                      headers=admin).json() == []


@pytest.mark.parametrize(("body", "status"), [
    ({"day": "2029-12-29", "kind": "day_off", "name": "x", "legal_basis": "y"}, 422),
    ({"day": "2029-12-27", "kind": "holiday", "name": "x", "legal_basis": "y"}, 422),
    ({"day": "2029-12-27", "kind": "day_off", "name": "  ", "legal_basis": "y"}, 422),
    ({"day": "2029-12-27", "kind": "day_off", "name": "x"}, 422),
    ({"day": "2140-12-27", "kind": "day_off", "name": "x", "legal_basis": "y"}, 422),
])
def test_a_bad_entry_is_a_4xx(client, headers, body, status):
    assert client.post(f"{API}/swaps", json=body, headers=headers("admin")).status_code == status


def test_the_database_refuses_calendar_writes_of_other_roles(api_settings, headers):
    from tests.api.test_least_privilege import act

    engine = create_engine(api_settings, url=api_database_url(api_settings))
    try:
        for role, statement in (
                ("land_officer", "INSERT INTO calendar_swap (day, kind, name, legal_basis, "
                 "recorded_by) VALUES ('2029-12-27', 'day_off', 'x', 'y', 'me')"),
                ("admin", "DELETE FROM public_holiday WHERE day = '2026-08-31'"),
                ("admin", "UPDATE calendar_year SET source = 'x'"),
                ("admin", "DELETE FROM calendar_swap")):
            with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
                act(conn, headers, role)
                conn.execute(sa.text(statement))
            assert getattr(caught.value.orig, "pgcode", None) in ("42501", "CD001"), statement
    finally:
        engine.dispose()
