"""Dossiers over HTTP: catalogue, intake with Idempotency-Key, receipt, transitions with
If-Match (428/412/409 with the allowed transitions), the citizen's lookup (no personal data,
same 404 for a wrong code or wrong digits, rate-limited), feedback, KPI access and CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

API = "/api/v1"
DOCS = ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp", "Giấy chứng nhận bản gốc"]


@pytest.fixture(scope="module")
def dossier(client, headers, person):
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Trần Thị Bích", "id_number": "001190054321",
                          "phone": "0903123456", "address": "Số 9 Hàng Gai"},
            "parcel_ids": [person["parcel_id"]], "documents": DOCS}
    first = client.post(f"{API}/dossiers", json=body,
                        headers={**headers("counter_clerk"), "Idempotency-Key": "abc-1"})
    assert first.status_code == 201, first.text
    again = client.post(f"{API}/dossiers", json=body,
                        headers={**headers("counter_clerk"), "Idempotency-Key": "abc-1"})
    assert again.status_code == 200
    assert again.json()["code"] == first.json()["code"]
    return first.json()


def test_catalogue_lists_the_common_land_procedures(client):
    codes = {p["code"] for p in client.get(f"{API}/procedures").json()}
    assert {"DK-LAN-DAU", "CHUYEN-NHUONG", "THUA-KE", "TANG-CHO", "THE-CHAP", "XOA-THE-CHAP",
            "CHUYEN-MUC-DICH", "TACH-THUA", "HOP-THUA", "CAP-DOI", "TRICH-LUC"} <= codes


def test_intake_answers_with_code_and_appointment(dossier):
    assert dossier["code"].startswith("VPDK.HN.")
    assert dossier["status"] == "received"
    assert dossier["due_date"]
    assert "in_processing" in dossier["allowed_transitions"]


def test_receipt_is_printable_html(client, headers, dossier):
    page = client.get(f"{API}/dossiers/{dossier['code']}/receipt",
                      headers=headers("counter_clerk"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in page.text
    assert dossier["code"] in page.text and "Trần Thị Bích" in page.text


def test_receipt_prints_the_reception_time_in_ha_noi(client, headers, dossier):
    received = datetime.fromisoformat(dossier["received_at"])
    page = client.get(f"{API}/dossiers/{dossier['code']}/receipt",
                      headers=headers("counter_clerk")).text
    in_ha_noi = received.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert in_ha_noi.strftime("%d/%m/%Y %H:%M") in page
    assert received.astimezone(UTC).strftime("%H:%M") not in page  # 7 hours apart
    assert dossier["received_at"].endswith("+07:00")  # the JSON says it in Hà Nội time too


def test_transitions_need_if_match_and_respect_the_workflow(client, headers, dossier):
    url = f"{API}/dossiers/{dossier['code']}/transitions"
    clerk = headers("counter_clerk")
    assert client.post(url, json={"to": "in_processing"}, headers=clerk).status_code == 428
    current = client.get(f"{API}/dossiers/{dossier['code']}", headers=clerk)
    etag = current.headers["etag"]
    wrong = client.post(url, json={"to": "approved"}, headers={**clerk, "If-Match": etag})
    assert wrong.status_code == 409
    assert wrong.json()["allowed"] == ["in_processing", "supplement_requested", "withdrawn"]
    moved = client.post(url, json={"to": "in_processing"}, headers={**clerk, "If-Match": etag})
    assert moved.status_code == 200
    stale = client.post(url, json={"to": "withdrawn"}, headers={**clerk, "If-Match": etag})
    assert stale.status_code == 412


def test_citizen_lookup_shows_status_without_personal_data(client, dossier):
    url = f"{API}/public/dossiers/{dossier['code']}"
    ok = client.get(url, params={"verify": "3456"})
    assert ok.status_code == 200
    body = ok.text
    assert ok.json()["code"] == dossier["code"] and ok.json()["steps"]
    for secret in ("Trần Thị Bích", "001190054321", "0903123456", "Hàng Gai", "t-counter"):
        assert secret not in body
    wrong_digits = client.get(url, params={"verify": "0000"})
    unknown = client.get(f"{API}/public/dossiers/NOPE.261127.0001", params={"verify": "3456"})
    assert wrong_digits.status_code == unknown.status_code == 404
    assert wrong_digits.json()["detail"] == unknown.json()["detail"]


def test_citizen_lookup_is_rate_limited(client, dossier):
    statuses = [client.get(f"{API}/public/dossiers/{dossier['code']}",
                           params={"verify": "0000"}).status_code for _ in range(40)]
    assert 429 in statuses
    limited = next(i for i, s in enumerate(statuses) if s == 429)
    assert all(s == 429 for s in statuses[limited:])


def test_feedback_needs_a_contact(client):
    missing = client.post(f"{API}/public/feedback", json={"subject": "Chậm", "body": "..."})
    assert missing.status_code in (422, 429)


def test_kpis_for_supervisors_only_and_as_csv(client, headers):
    params = {"from": "2026-01-01", "to": "2030-12-31"}
    assert client.get(f"{API}/reports/kpi", params=params).status_code == 401
    assert client.get(f"{API}/reports/kpi", params=params,
                      headers=headers("counter_clerk")).status_code == 403
    rows = client.get(f"{API}/reports/kpi", params=params, headers=headers("supervisor")).json()
    assert rows and rows[0]["received"] >= 1
    csv = client.get(f"{API}/reports/kpi", params={**params, "format": "csv"},
                     headers=headers("supervisor"))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("office,month,received,resolved")


def test_admins_edit_the_catalogue(client, headers):
    url = f"{API}/procedures/TRICH-LUC"
    assert client.patch(url, json={"working_days": 3},
                        headers=headers("counter_clerk")).status_code == 403
    etag = client.get(url).headers["etag"]
    # a same-day procedure counted in days loses its cut-off hour, or the edit is refused
    half = client.patch(url, json={"working_days": 3}, headers={**headers("admin"),
                                                                 "If-Match": etag})
    assert half.status_code == 422 and "cut-off hour" in half.json()["detail"]
    assert client.patch(url, json={"working_days": 1, "cutoff_time": None, "name": None},
                        headers={**headers("admin"), "If-Match": etag}).status_code == 422
    edited = client.patch(url, json={"working_days": 3, "cutoff_time": None,
                                     "extended_days": None, "fee_vnd": 25000},
                          headers={**headers("admin"), "If-Match": etag})
    assert edited.status_code == 200 and edited.json()["working_days"] == 3
    assert edited.json()["cutoff_time"] is None
    assert edited.headers["etag"] != etag
    listed = {p["code"]: p for p in client.get(f"{API}/procedures").json()}
    assert listed["TRICH-LUC"]["working_days"] == 3
    back = client.patch(url, json={"working_days": 0, "cutoff_time": "16:30"}, headers={
        **headers("admin"), "If-Match": edited.headers["etag"]})
    assert back.status_code == 200 and back.json()["cutoff_time"] == "16:30"
    assert client.patch(f"{API}/procedures/NOPE", json={"working_days": 3}, headers={
        **headers("admin"), "If-Match": f'"NOPE-{"0" * 32}"'}).status_code == 422


def test_citizen_rates_a_returned_dossier_once(api_settings, api_engine):
    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from api.app import create_app

    with api_engine.begin() as conn:
        code, phone = conn.execute(sa.text(
            "SELECT code, applicant_phone FROM dossier WHERE status = 'returned' "
            "ORDER BY code LIMIT 1")).one()
        conn.execute(sa.text("UPDATE dossier SET rating = NULL WHERE code = :c"), {"c": code})
        open_code = conn.execute(sa.text(
            "SELECT code FROM dossier WHERE status = 'in_processing' LIMIT 1")).scalar_one()
    with TestClient(create_app(api_settings)) as fresh:
        url = f"{API}/public/dossiers/{code}/rating"
        verify = {"verify": phone[-4:]}
        seen = fresh.get(f"{API}/public/dossiers/{code}", params=verify).headers["etag"]
        ok = fresh.post(url, params=verify, json={"rating": 4}, headers={"If-Match": seen})
        assert ok.status_code == 200, ok.text
        stale = fresh.post(url, params=verify, json={"rating": 5}, headers={"If-Match": seen})
        assert stale.status_code == 412
        now = fresh.get(f"{API}/public/dossiers/{code}", params=verify).headers["etag"]
        twice = fresh.post(url, params=verify, json={"rating": 5}, headers={"If-Match": now})
        assert twice.status_code == 422
        early = fresh.post(f"{API}/public/dossiers/{open_code}/rating",
                           params={"verify": "0000"}, json={"rating": 5},
                           headers={"If-Match": f'"{open_code}-1"'})
        assert early.status_code == 404


def test_receipt_as_pdf_with_vietnamese_text(client, headers, dossier):
    response = client.get(f"{API}/dossiers/{dossier['code']}/receipt",
                          params={"format": "pdf"}, headers=headers("counter_clerk"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    import re
    import zlib

    from fpdf import FPDF  # noqa: F401  (the generator is installed)

    # the text is in the PDF's content streams; the font is embedded (subset)
    assert b"/FontFile2" in response.content
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", response.content, re.S)
    assert any(len(zlib.decompress(s)) > 500 for s in streams if s[:2] == b"x\x9c")


def test_late_dossier_apology_is_recorded_and_printable(client, headers, api_engine):
    from datetime import timedelta

    import sqlalchemy as sa

    from cadastre.dossiers.calendar import load_calendar

    with api_engine.connect() as conn:  # a late demo dossier without a letter yet
        code, today = conn.execute(sa.text(
            "SELECT code, office_today() FROM dossier d WHERE status = 'in_processing' "
            "AND due_date < office_today() AND NOT EXISTS (SELECT 1 FROM apology_letter a "
            "WHERE a.dossier_id = d.id) ORDER BY due_date LIMIT 1")).one()
        calendar = load_calendar(conn)
    clerk = headers("counter_clerk")
    assert client.get(f"{API}/dossiers/{code}/apology", headers=clerk).status_code == 404
    new_due = today + timedelta(days=14)
    while not calendar.is_working_day(new_due):
        new_due += timedelta(days=1)
    etag = client.get(f"{API}/dossiers/{code}", headers=clerk).headers["etag"]
    made = client.post(f"{API}/dossiers/{code}/apology", headers={**clerk, "If-Match": etag},
                       json={"new_due": new_due.isoformat(), "reason": "Chờ đo đạc lại"})
    assert made.status_code == 201, made.text
    letter = client.get(f"{API}/dossiers/{code}/apology", headers=clerk)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in letter.text
    assert new_due.strftime("%d/%m/%Y") in letter.text and "Chờ đo đạc lại" in letter.text


def test_a_feedback_is_proved_by_the_phone_s_last_4_digits_only(client):
    sent = client.post(f"{API}/public/feedback", json={
        "subject": "Chậm trả kết quả", "body": "Quá hẹn 5 ngày", "contact_phone": "0912345678",
        "contact_email": "an.nguyen@example.com"})
    assert sent.status_code == 201, sent.text
    url = f"{API}/public/feedback/{sent.json()['code']}"
    for guess in (".com", "e.com", " 678", "567８", "٥٦٧٨"):
        response = client.get(url, params={"verify": guess})
        assert response.status_code in (404, 422), (guess, response.text)
    shown = client.get(url, params={"verify": "5678"})
    assert shown.status_code == 200, shown.text
    assert "an.nguyen@example.com" not in shown.text and "0912345678" not in shown.text
    only_email = client.post(f"{API}/public/feedback", json={
        "subject": "Hỏi thủ tục", "body": "...", "contact_email": "binh@example.com"})
    assert only_email.status_code == 201
    assert client.get(f"{API}/public/feedback/{only_email.json()['code']}",
                      params={"verify": ".com"}).status_code == 404
