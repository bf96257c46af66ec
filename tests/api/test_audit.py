"""The audit trail over HTTP: writes record the end user, the endpoint and the dossier with
the row before and after; reads of personal data record who read whose; only supervisors and
admins read the log, supervisors with masked ID numbers; the log cannot be rewritten."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.api.test_least_privilege import act

API = "/api/v1"


@pytest.fixture(scope="module")
def holder(api_engine, person) -> dict[str, object]:
    with api_engine.connect() as conn:
        party_id = conn.execute(sa.text(
            "SELECT party_id FROM party_personal WHERE national_id = :n"),
            {"n": person["national_id"]}).scalar_one()
    return {**person, "party_id": party_id}


def _entries(client, headers, role="admin", **params):
    response = client.get(f"{API}/audit", params=params, headers=headers(role))
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_reading_a_parcel_file_with_personal_data_is_recorded(client, headers, holder):
    response = client.get(f"{API}/parcels/{holder['parcel_id']}",
                          headers={**headers("land_officer"), "X-Dossier-Code": "VPDK.HN.T1"})
    assert response.status_code == 200
    reads = _entries(client, headers, party=holder["party_id"], action="read_personal",
                     user="t-land-officer")
    assert reads, "the land officer's read is not in the audit log"
    latest = reads[0]
    assert latest["actor_role"] == "land_officer"
    assert latest["endpoint"] == "GET /api/v1/parcels/{parcel_id}"
    assert latest["dossier_code"] == "VPDK.HN.T1"
    assert latest["row_key"] == {"parcel_id": holder["parcel_id"]}


def test_roles_that_see_no_personal_data_leave_no_read_record(client, headers, holder):
    before = _entries(client, headers, party=holder["party_id"], action="read_personal")
    for role in ("gis_analyst", "anonymous"):
        assert client.get(f"{API}/parcels/{holder['parcel_id']}",
                          headers=headers(role)).status_code == 200
    after = _entries(client, headers, party=holder["party_id"], action="read_personal")
    assert [e["id"] for e in after] == [e["id"] for e in before]


def test_a_write_records_who_where_which_dossier_and_the_row_before_and_after(
        client, headers, holder):
    clerk = headers("counter_clerk")
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Lê Văn Kiểm", "id_number": "001080012345",
                          "phone": "0912345678", "address": "Số 3 Hàng Bông"},
            "parcel_ids": [holder["parcel_id"]],
            "documents": ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp",
                          "Giấy chứng nhận bản gốc"]}
    created = client.post(f"{API}/dossiers", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    etag = client.get(f"{API}/dossiers/{code}", headers=clerk).headers["etag"]
    moved = client.post(f"{API}/dossiers/{code}/transitions", json={"to": "in_processing"},
                        headers={**clerk, "If-Match": etag})
    assert moved.status_code == 200, moved.text

    writes = _entries(client, headers, dossier=code, user="t-counter-clerk")
    tables = {(e["action"], e["table_name"]) for e in writes}
    assert ("insert", "dossier") in tables and ("update", "dossier") in tables
    assert ("insert", "dossier_event") in tables
    update = next(e for e in writes if e["action"] == "update" and e["table_name"] == "dossier")
    assert update["before"]["status"] == "received"
    assert update["after"]["status"] == "in_processing"
    assert update["endpoint"] == "POST /api/v1/dossiers/{code}/transitions"
    assert update["actor_role"] == "counter_clerk"
    # the clerk's reads of the applicant are recorded against the dossier too
    reads = _entries(client, headers, dossier=code, action="read_personal")
    assert reads and reads[0]["table_name"] == "dossier"


def test_supervisors_see_masked_id_numbers_admins_full_ones(client, headers):
    admin = _entries(client, headers, "admin", action="insert", limit=1000)
    dossier_rows = [e for e in admin if e["table_name"] == "dossier"
                    and e["after"].get("applicant_id_number")]
    assert dossier_rows
    target = dossier_rows[0]
    full = target["after"]["applicant_id_number"]
    assert full.isdigit()
    supervisor = _entries(client, headers, "supervisor", action="insert",
                          before_id=target["id"] + 1, limit=1)
    masked = supervisor[0]["after"]
    assert masked["applicant_id_number"].endswith(full[-3:])
    assert full not in str(supervisor)
    assert masked["applicant_address"] == "withheld"


@pytest.mark.parametrize("role,status", [("anonymous", 401), ("gis_analyst", 403),
                                         ("counter_clerk", 403), ("land_officer", 403),
                                         ("supervisor", 200), ("admin", 200)])
def test_only_supervisors_and_admins_read_the_audit_log(client, headers, role, status):
    assert client.get(f"{API}/audit", headers=headers(role)).status_code == status


def test_audit_log_filters_page_and_refuse_bad_parameters(client, headers):
    first = client.get(f"{API}/audit", params={"limit": 2}, headers=headers("admin")).json()
    assert len(first["entries"]) == 2
    second = client.get(f"{API}/audit", params={"limit": 2,
                                                "before_id": first["next_before_id"]},
                        headers=headers("admin")).json()
    assert second["entries"][0]["id"] < first["entries"][-1]["id"]
    bad = client.get(f"{API}/audit", params={"from": "2026-02-01", "to": "2026-01-01"},
                     headers=headers("admin"))
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{API}/audit", params={"action": "drop"},
                      headers=headers("admin")).status_code == 422


def test_the_audit_log_cannot_be_rewritten(api_engine):
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), api_engine.begin() as conn:
            conn.execute(sa.text(statement))


def _reads_of(client, headers, code):
    return [e for e in _entries(client, headers, dossier=code, action="read_personal")
            if e["table_name"] == "dossier"]


def test_intake_transition_and_apology_responses_record_the_applicant_read(
        client, headers, api_engine, holder, office_clock):
    """Each of these answers with the applicant's name (and, by role, ID and address)."""
    from datetime import timedelta

    from cadastre.dossiers.calendar import load_calendar

    clerk = headers("counter_clerk")
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Đỗ Thị Hằng", "id_number": "001085067890",
                          "phone": "0987654321", "address": "Số 5 Hàng Đào"},
            "parcel_ids": [holder["parcel_id"]],
            "documents": ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp",
                          "Giấy chứng nhận bản gốc"]}
    created = client.post(f"{API}/dossiers", json=body, headers=clerk)
    assert created.status_code == 201 and created.json()["applicant_name"] == "Đỗ Thị Hằng"
    code = created.json()["code"]
    intake = _reads_of(client, headers, code)
    assert [e["reason"] for e in intake] == ["dossier intake"]
    assert intake[0]["actor"] == "t-counter-clerk"
    assert intake[0]["endpoint"] == "POST /api/v1/dossiers"

    moved = client.post(f"{API}/dossiers/{code}/transitions", json={"to": "in_processing"},
                        headers={**clerk, "If-Match": created.headers["etag"]})
    assert moved.status_code == 200, moved.text
    assert _reads_of(client, headers, code)[0]["reason"] == "dossier transition to in_processing"

    with api_engine.connect() as conn:
        due = conn.execute(sa.text("SELECT due_date FROM dossier WHERE code = :c"),
                           {"c": code}).scalar_one()
        calendar = load_calendar(conn)
    new_due = due + timedelta(days=14)
    while not calendar.is_working_day(new_due):
        new_due += timedelta(days=1)
    office_clock(7)  # a week later, the 3-day mortgage registration is late
    apology = client.post(f"{API}/dossiers/{code}/apology",
                          headers={**clerk, "If-Match": moved.headers["etag"]},
                          json={"new_due": new_due.isoformat(), "reason": "Chờ đo đạc lại"})
    assert apology.status_code == 201, apology.text
    latest = _reads_of(client, headers, code)[0]
    assert latest["reason"] == "apology letter issued"
    assert latest["endpoint"] == "POST /api/v1/dossiers/{code}/apology"


def test_a_feedback_answer_records_the_read_of_the_complainants_contact(
        client, headers, api_engine):
    from datetime import date

    from cadastre.dossiers import feedback

    with api_engine.begin() as conn:  # (the public form is rate-limited per process)
        code = feedback.record(conn, feedback.FeedbackIn(
            channel="web", subject="Chậm trả kết quả", body="Hồ sơ của tôi quá hạn.",
            contact_name="Vũ Văn Long", contact_phone="0911222333"), today=date.today())["code"]
    answered = client.post(f"{API}/feedback/{code}/answer", headers=headers("counter_clerk"),
                           json={"answer": "Văn phòng sẽ trả kết quả trong tuần."})
    assert answered.status_code == 200 and answered.json()["contact_phone"] == "0911222333"
    reads = [e for e in _entries(client, headers, action="read_personal",
                                 user="t-counter-clerk", limit=50)
             if e["table_name"] == "feedback" and e["row_key"] == {"code": code}]
    assert reads, "the answer showed the complainant's phone without an audit row"
    assert reads[0]["endpoint"] == "POST /api/v1/feedback/{code}/answer"
    # ... and the supervisor's audit view does not show the contact either
    supervisor = _entries(client, headers, "supervisor", action="insert", limit=200)
    row = next(e for e in supervisor if e["table_name"] == "feedback"
               and e["after"]["code"] == code)
    assert "0911222333" not in str(supervisor)
    assert row["after"]["contact_phone"] == "withheld"
    assert row["after"]["contact_name"] == "Vũ Văn Long"  # supervisors see names


@pytest.fixture(scope="module")
def quarantined(api_engine, tmp_path_factory) -> dict[str, object]:
    """A real import (committed, with --allow-empty) of four parcels of a commune of their
    own, all rejected for their area: the row of a private person in the quarantine holds
    the raw CCCD, NamSinh, DiaChiChu and TenChu."""
    from cadastre.synth import generate_layer, write_layer
    from importers.pipeline import ImportOptions, run_import

    layer = generate_layer(4, seed=9, origin=(640_000.0, 2_380_000.0),
                           communes=[("99917", "Phường Kiểm Thử")])
    person = layer.index[layer["CCCD"].notna()][0]
    # every row rejected for its area, so that no parcel of this far-away commune joins the
    # shared register (the OGC and tile tests measure its extent)
    layer["DienTich"] = layer["DienTich"] * 1.5
    path = tmp_path_factory.mktemp("quarantine") / "broken.gpkg"
    write_layer(layer, path)
    report = run_import(api_engine, path, ImportOptions(allow_empty=True))
    assert report.counts["quarantined"] == 4, report.summary()
    raw = layer.loc[person]
    return {"import_id": report.import_id, "CCCD": str(raw["CCCD"]),
            "NamSinh": int(raw["NamSinh"]), "DiaChiChu": str(raw["DiaChiChu"]),
            "TenChu": str(raw["TenChu"]), "SoThua": int(raw["SoThua"])}


def _quarantine_entry(client, headers, role, quarantined):
    rows = [e for e in _entries(client, headers, role, action="insert", limit=1000)
            if e["table_name"] == "import_quarantine"
            and e["after"]["import_id"] == quarantined["import_id"]
            and int(e["after"]["attributes"]["SoThua"]) == quarantined["SoThua"]]
    assert len(rows) == 1
    return rows[0]


def test_quarantined_rows_are_redacted_by_the_profiles_mapping(client, headers, quarantined):
    admin = _quarantine_entry(client, headers, "admin", quarantined)["after"]
    assert str(admin["attributes"]["CCCD"]) == quarantined["CCCD"]
    assert admin["attributes"]["DiaChiChu"] == quarantined["DiaChiChu"]
    entry = _quarantine_entry(client, headers, "supervisor", quarantined)
    attributes = entry["after"]["attributes"]
    assert quarantined["CCCD"] not in str(entry)
    assert quarantined["DiaChiChu"] not in str(entry)
    assert attributes["CCCD"].endswith(quarantined["CCCD"][-3:])  # masked, as IDs are
    assert attributes["NamSinh"] == "withheld"
    assert attributes["DiaChiChu"] == "withheld"
    assert attributes["TenChu"] == quarantined["TenChu"]  # supervisors see names
    assert attributes["SoThua"] is not None  # the rest stays readable: why it was rejected


@pytest.mark.parametrize("role", ["anonymous", "gis_analyst", "counter_clerk", "supervisor",
                                  "land_officer", "admin"])
def test_the_quarantine_view_keeps_personal_fields_for_entitled_roles(
        api_settings, headers, quarantined, role):
    from cadastre.access import Role, rule
    from cadastre.db import api_database_url, create_engine

    engine = create_engine(api_settings, url=api_database_url(api_settings))
    try:
        with engine.begin() as conn:
            act(conn, headers, role)
            attributes = conn.execute(sa.text(
                "SELECT attributes FROM import_quarantine_visible WHERE import_id = :i "
                "AND (attributes ->> 'SoThua')::int = :n"),
                {"i": quarantined["import_id"], "n": quarantined["SoThua"]}).scalar_one()
    finally:
        engine.dispose()
    r = rule(Role(role))
    text = str(attributes)
    assert (quarantined["CCCD"] in text) is (r.national_id == "full")
    assert (quarantined["DiaChiChu"] in text) is r.addresses
    assert (quarantined["TenChu"] in text) is r.names
    if r.national_id == "masked":
        assert attributes["CCCD"].endswith(quarantined["CCCD"][-3:])
