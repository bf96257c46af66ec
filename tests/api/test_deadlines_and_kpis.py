"""Deadlines and KPIs tell the truth, over HTTP, with the days passing on the office clock:
an apology letter only for a dossier that is late or will be, a promised date that leaves
the statutory one in place (the citizen sees the promise, the KPI the statute), late
dossiers counted late with or without an apology, a dossier waiting for the citizen never
overdue and its due date moved by the wait."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cadastre.accounts.service import add_user
from cadastre.dossiers.calendar import add_working_days, load_calendar
from cadastre.dossiers.reports import KPI_FIELDS
from tests.api.conftest import PASSWORD

API = "/api/v1"
OFFICE = "VPDK.HN.KPI"
DOCS = ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp", "Giấy chứng nhận bản gốc"]
PHONE = "0912000222"


@pytest.fixture(scope="module")
def staff(client, api_engine):
    """An office of its own (so that its KPIs are this module's dossiers only), and its
    counter clerk, land officer and supervisor."""
    with api_engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO office (code, name, level, province_code) VALUES (:c, "
            "'Văn phòng đăng ký đất đai Hà Nội - Chi nhánh KPI', 'province', '01')"),
            {"c": OFFICE})
        for role in ("counter_clerk", "land_officer", "supervisor"):
            add_user(conn, f"kpi-{role.replace('_', '-')}", role, password=PASSWORD,
                     office_code=OFFICE)
    tokens = {}
    for role in ("counter_clerk", "land_officer", "supervisor"):
        signed = client.post(f"{API}/auth/token", data={
            "username": f"kpi-{role.replace('_', '-')}", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        tokens[role] = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    return tokens


class Days:
    """The office clock, moved to a day of Việt Nam (and back to the real one at the end
    of the test, by the office_clock fixture)."""

    def __init__(self, api_engine, office_clock) -> None:
        with api_engine.connect() as conn:
            self.today = conn.execute(sa.text("SELECT office_today()")).scalar_one()
            self.calendar = load_calendar(conn)
        self.real = self.today
        self._move = office_clock

    def go(self, day: date) -> None:
        self._move((day - self.real).days)
        self.today = day


def _receive(client, staff, parcel: int) -> dict:
    made = client.post(f"{API}/dossiers", headers=staff["counter_clerk"], json={
        "procedure_code": "THE-CHAP", "parcel_ids": [parcel], "documents": DOCS,
        "applicant": {"name": "Phạm Thị Lan", "phone": PHONE},
        # the same-day registration's extended time (Decree 99/2022 art. 18): 3 days
        "deadline_reason": "Hồ sơ phải xác minh thông tin với cơ quan thuế"})
    assert made.status_code == 201, made.text
    assert made.json()["statutory_days"] == 3
    assert made.json()["handling_office"] == OFFICE
    return made.json()


#: A result the citizen is given without a register change (a mortgage's approval registers
#: a mortgage; the KPIs count a rejection as resolved all the same).
RESOLVED = {"to": "rejected", "note": "Hợp đồng thế chấp chưa công chứng"}


def _resolve(client, auth, code: str) -> dict:
    return _move(client, auth, code, **RESOLVED)


def _move(client, auth, code: str, to: str, **body) -> dict:
    etag = client.get(f"{API}/dossiers/{code}", headers=auth).headers["etag"]
    moved = client.post(f"{API}/dossiers/{code}/transitions", json={"to": to, **body},
                        headers={**auth, "If-Match": etag})
    assert moved.status_code == 200, moved.text
    return moved.json()


def _apology(client, auth, code: str, new_due: date):
    etag = client.get(f"{API}/dossiers/{code}", headers=auth).headers["etag"]
    return client.post(f"{API}/dossiers/{code}/apology", headers={**auth, "If-Match": etag},
                       json={"new_due": new_due.isoformat(),
                             "reason": "Chờ kết quả xác minh của ngân hàng"})


def _working_day_from(calendar, day: date) -> date:
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def test_a_late_dossier_with_an_apology_and_a_paused_one_as_the_kpis_count_them(
        client, staff, person, api_engine, office_clock):
    days = Days(api_engine, office_clock)
    received = days.today
    officer, clerk = staff["land_officer"], staff["counter_clerk"]
    early, late, apologised, on_time, paused, overdue = (
        _receive(client, staff, person["parcel_id"]) for _ in range(6))
    due = early["due_date"]
    assert due == add_working_days(days.calendar, received, 3).due.isoformat()
    for d in (early, late, apologised, on_time, paused, overdue):
        _move(client, officer, d["code"], "in_processing")
    _resolve(client, officer, early["code"])
    _move(client, officer, paused["code"], "supplement_requested")
    # on time: no apology letter (the statutory date is 3 working days away)
    refused = _apology(client, clerk, apologised["code"], date.fromisoformat(due) +
                       timedelta(days=7))
    assert refused.status_code == 409 and refused.json()["code"] == "not-late"
    assert "on time" in refused.json()["detail"]

    days.go(date.fromisoformat(due))  # the due date: one is resolved on time, one will be late
    _resolve(client, officer, on_time["code"])
    promised = _working_day_from(days.calendar, days.today + timedelta(days=5))
    letter = _apology(client, clerk, apologised["code"], promised)
    assert letter.status_code == 201, letter.text
    assert letter.json()["due_date"] == due  # the statutory date stays
    assert letter.json()["promised_date"] == promised.isoformat()
    citizen = client.get(f"{API}/public/dossiers/{apologised['code']}",
                         params={"verify": PHONE[-4:]})
    assert citizen.status_code == 200, citizen.text
    assert citizen.json()["appointment"] == promised.isoformat()
    assert citizen.json()["apologies"][0]["new_appointment"] == promised.isoformat()

    days.go(days.today + timedelta(days=2))  # past the due date
    _resolve(client, officer, late["code"])
    _resolve(client, officer, apologised["code"])  # before the promise, after the law
    kpi = client.get(f"{API}/reports/kpi", headers=staff["supervisor"], params={
        "from": received.isoformat(), "to": received.isoformat()})
    assert kpi.status_code == 200, kpi.text
    (row,) = kpi.json()  # the supervisor's own office by default
    assert row["office"] == OFFICE
    assert (row["received"], row["resolved"]) == (6, 4)
    assert (row["resolved_early"], row["resolved_on_time"], row["resolved_late"],
            row["resolved_late_with_apology"]) == (1, 1, 1, 1)
    assert row["on_time_rate"] == 0.5
    assert row["overdue_now"] == 1  # the dossier waiting for a supplement is not overdue
    csv = client.get(f"{API}/reports/kpi", headers=staff["supervisor"], params={
        "from": received.isoformat(), "to": received.isoformat(), "format": "csv"})
    header, values = csv.text.splitlines()
    assert header.split(",") == list(KPI_FIELDS)
    assert dict(zip(KPI_FIELDS, values.split(","), strict=True))[
        "resolved_late_with_apology"] == "1"

    work = client.get(f"{API}/dossiers", headers=officer).json()  # the officer's own office
    assert [d["code"] for d in work["overdue"]] == [overdue["code"]]
    assert [d["code"] for d in work["paused"]] == [paused["code"]]

    # the supplement comes back: the days it waited do not count
    resumed = _move(client, clerk, paused["code"], "received_back")
    assert resumed["due_date"] == add_working_days(days.calendar, days.today, 3).due.isoformat()
    assert resumed["due_date"] > due
    again = client.get(f"{API}/reports/kpi", headers=staff["supervisor"], params={
        "from": received.isoformat(), "to": received.isoformat()}).json()
    assert again[0]["overdue_now"] == 1


def test_deadlines_and_kpis_of_another_office_are_asked_for_by_name(client, staff, headers):
    mine = client.get(f"{API}/reports/kpi", headers=headers("supervisor"),
                      params={"from": "2026-01-01", "to": "2027-12-31"}).json()
    assert {r["office"] for r in mine} == {"VPDK.HN"}
    theirs = client.get(f"{API}/reports/kpi", headers=headers("supervisor"), params={
        "from": "2026-01-01", "to": "2027-12-31", "office": OFFICE}).json()
    assert {r["office"] for r in theirs} == {OFFICE}
    everyone = client.get(f"{API}/reports/kpi", headers=headers("admin"),
                          params={"from": "2026-01-01", "to": "2027-12-31"}).json()
    assert {"VPDK.HN", OFFICE} <= {r["office"] for r in everyone}
    unknown = client.get(f"{API}/dossiers", headers=headers("land_officer"),
                         params={"office": "NOPE.1"})
    assert unknown.status_code == 404
