"""A procedure names the change operation its approval applies (procedure.operation, a
name in the operations catalogue): a new procedure added as one row, with no code, takes a
dossier through approval to the register change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
DOCUMENTS = ["Đơn đăng ký biến động", "Hợp đồng góp vốn công chứng"]


@pytest.fixture(scope="module")
def contribution(api_engine) -> dict[str, object]:
    """Góp vốn bằng quyền sử dụng đất (a contribution of the land-use right to a company's
    capital) as a migration would add it, and a parcel with its current holder and a party
    to receive the right."""
    with api_engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO procedure (code, name, level, working_days, steps, documents, "
            "fee_vnd, tax_step, change_operation, operation) VALUES ('GOP-VON', "
            "'Đăng ký biến động: góp vốn bằng quyền sử dụng đất', 'province', 10, "
            "'[\"reception\", \"approval\"]', CAST(:docs AS jsonb), 50000, false, 'transfer', "
            "'transfer')"), {"docs": str(DOCUMENTS).replace("'", '"')})
        row = conn.execute(sa.text(
            "SELECT r.parcel_id, r.party_id FROM current_land_right r "
            "WHERE r.kind = 'land_use' AND r.parcel_id BETWEEN 300 AND 390 "
            "AND NOT EXISTS (SELECT 1 FROM current_restriction x "
            "                WHERE x.parcel_id = r.parcel_id) "
            "AND (SELECT count(*) FROM current_land_right o WHERE o.parcel_id = r.parcel_id "
            "     AND o.kind = 'land_use') = 1 ORDER BY r.parcel_id DESC LIMIT 1")).one()
        company = conn.execute(sa.text("SELECT min(id) FROM party WHERE id <> :p"),
                               {"p": row.party_id}).scalar_one()
    return {"parcel_id": row.parcel_id, "holder": row.party_id, "company": company}


def test_a_new_procedure_applies_the_operation_it_names(client, headers, api_engine,
                                                        contribution):
    parcel = contribution["parcel_id"]
    received = client.post(f"{API}/dossiers", headers=headers("counter_clerk"), json={
        "procedure_code": "GOP-VON", "received_by_office": "VPDK.HN",
        "applicant": {"name": "Công ty TNHH Góp Vốn", "phone": "0903123777"},
        "parcel_ids": [parcel], "documents": DOCUMENTS})
    assert received.status_code == 201, received.text
    code = received.json()["code"]
    url = f"{API}/dossiers/{code}/transitions"
    officer = headers("land_officer")
    moved = client.post(url, json={"to": "in_processing"},
                        headers={**officer, "If-Match": received.headers["etag"]})
    assert moved.status_code == 200, moved.text
    parcel_tag = client.get(f"{API}/parcels/{parcel}", headers=officer).headers["etag"]
    approved = client.post(url, headers={
        **officer, "If-Match": f"{moved.headers['etag']}, {parcel_tag}"}, json={
        "to": "approved", "change": {"source_kind": "contract",
                                     "holders": [{"party_id": contribution["company"]}]}})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    with api_engine.connect() as conn:
        change = conn.execute(sa.text(
            "SELECT c.kind, s.reference FROM change_transaction c JOIN change_source cs "
            "ON cs.change_id = c.id JOIN source_document s ON s.id = cs.source_id "
            "WHERE c.dossier_code = :d"), {"d": code}).one()
        holders = conn.execute(sa.text(
            "SELECT party_id FROM current_land_right WHERE parcel_id = :p "
            "AND kind = 'land_use'"), {"p": parcel}).scalars().all()
    assert tuple(change) == ("transfer", code)
    assert holders == [contribution["company"]]

