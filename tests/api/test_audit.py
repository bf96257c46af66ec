"""The audit trail over HTTP: writes record the end user, the endpoint and the dossier with
the row before and after; reads of personal data record who read whose; only supervisors and
admins read the log, supervisors with masked ID numbers; the log cannot be rewritten."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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
