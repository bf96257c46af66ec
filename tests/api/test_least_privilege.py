"""The API's database role: owns nothing, bypasses nothing, deletes nothing, cannot rewrite
the audit log, and reads personal data only through the view that applies the role matrix,
which agrees with cadastre.access for every role."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.access import Role, holder_view
from cadastre.db import api_database_url, create_engine

API = "/api/v1"


def act(conn, headers, role: str) -> None:
    """Begin the transaction as the API does for a caller of ``role``: the database verifies
    the caller's token and seals the role it proves (nothing for the anonymous)."""
    if role == "anonymous":
        return
    token = headers(role)["Authorization"].removeprefix("Bearer ")
    conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {"t": token})


@pytest.fixture(scope="module")
def as_api(api_settings):
    """A connection exactly as the API makes it."""
    engine = create_engine(api_settings, url=api_database_url(api_settings))
    yield engine
    engine.dispose()


def test_the_api_connects_as_a_role_that_owns_nothing_and_bypasses_nothing(
        client, headers, api_engine, api_settings):
    assert client.get(f"{API}/parcels/1", headers=headers("land_officer")).status_code == 200
    with api_engine.connect() as conn:
        users = set(conn.execute(sa.text(
            "SELECT usename FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'cadastre-api'")).scalars())
        role = conn.execute(sa.text(
            "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles "
            "WHERE rolname = :r"), {"r": api_settings.api_database_user}).one()
        owned = conn.execute(sa.text(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = :r"), {"r": api_settings.api_database_user}).scalar_one()
    assert users == {api_settings.api_database_user}
    assert tuple(role) == (False, False, False, False)
    assert owned == 0


@pytest.mark.parametrize("statement", [
    "DELETE FROM parcel WHERE parcel_id = 1",
    "DELETE FROM dossier",
    "TRUNCATE land_right",
    "INSERT INTO audit_log (actor, action) VALUES ('me', 'insert')",
    "UPDATE audit_log SET actor = 'nobody'",
    "SELECT national_id FROM party_personal LIMIT 1",
    "SELECT name FROM party LIMIT 1",
    "SELECT applicant_phone FROM dossier LIMIT 1",
    "UPDATE party SET name = 'x' WHERE id = 1",
    "UPDATE database_setting SET value = 'x' WHERE name = 'storage_srid'",
    "SELECT secret FROM auth_signing_key",
    "SELECT password_hash FROM app_user",
    "UPDATE app_user SET role = 'admin'",
    "ALTER TABLE parcel DISABLE TRIGGER parcel_history",
    "SET ROLE postgres",
    # financial facts: only through restriction_visible, change_document_visible,
    # change_visible and import_quarantine_visible
    "SELECT amount FROM restriction LIMIT 1",
    "SELECT reference FROM current_restriction LIMIT 1",
    "SELECT party_id FROM restriction LIMIT 1",
    "SELECT * FROM restriction LIMIT 1",
    "SELECT count(*) FROM restriction WHERE reference LIKE 'HĐ%'",
    "SELECT issuer FROM source_document LIMIT 1",
    "SELECT note FROM change_transaction LIMIT 1",
    "SELECT attributes FROM import_quarantine LIMIT 1",
    "SELECT amount FROM restrictions_as_of(now()) LIMIT 1",
])
def test_what_the_api_role_may_not_do(as_api, statement):
    with pytest.raises(sa.exc.DBAPIError) as caught, as_api.begin() as conn:
        conn.execute(sa.text(statement))
    assert caught.value.orig.pgcode in ("42501", "22023", "42704"), caught.value


def test_audit_rows_are_invisible_outside_supervisor_and_admin_transactions(as_api,
                                                                            headers):
    with as_api.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == 0
        # naming the role is not enough: the database trusts only the role a token proved
        conn.execute(sa.text("SELECT set_config('cadastre.role', 'supervisor', true)"))
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == 0
    with as_api.begin() as conn:
        act(conn, headers, "supervisor")
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() > 0


@pytest.mark.parametrize("role", list(Role))
def test_the_personal_data_view_agrees_with_the_role_matrix(as_api, api_engine, headers,
                                                            role):
    with api_engine.connect() as conn:  # the owner reads the truth
        truth = conn.execute(sa.text(
            "SELECT p.id AS party_id, p.name, p.kind, pp.national_id, pp.birth_year, "
            "pp.address FROM party p JOIN party_personal pp ON pp.party_id = p.id "
            "WHERE pp.national_id IS NOT NULL AND pp.birth_year IS NOT NULL "
            "AND pp.address IS NOT NULL ORDER BY p.id LIMIT 5")).mappings().all()
    assert truth
    with as_api.begin() as conn:
        act(conn, headers, role.value)
        seen = {r["party_id"]: dict(r) for r in conn.execute(sa.text(
            "SELECT party_id, national_id, birth_year, address FROM party_personal_visible "
            "WHERE party_id = ANY(:ids)"), {"ids": [t["party_id"] for t in truth]}).mappings()}
        names = dict(conn.execute(sa.text(
            "SELECT id, name FROM party_visible WHERE id = ANY(:ids)"),
            {"ids": [t["party_id"] for t in truth]}).all())
        found = conn.execute(sa.text("SELECT count(*) FROM search_holders(:q, 5)"),
                             {"q": truth[0]["name"]}).scalar_one()
    assert (found > 0) == ("personal_data" not in holder_view(role, dict(truth[0])))
    for person in truth:
        expected = holder_view(role, dict(person))
        assert names[person["party_id"]] == expected.get("name"), (role, "name")
        row = seen.get(person["party_id"])
        if "personal_data" in expected:  # withheld: the database returns no row at all
            assert row is None
            continue
        assert row is not None
        for field in ("national_id", "birth_year", "address"):
            assert row[field] == expected.get(field), (role, field)


@pytest.fixture(scope="module")
def dossier_code(client, headers, person) -> str:
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Đỗ Thị Quyền", "id_number": "001190077777",
                          "phone": "0912341234", "address": "Số 2 Hàng Đào"},
            "parcel_ids": [person["parcel_id"]],
            "documents": ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp",
                          "Giấy chứng nhận bản gốc"]}
    created = client.post(f"{API}/dossiers", json=body, headers=headers("counter_clerk"))
    assert created.status_code == 201, created.text
    return str(created.json()["code"])


@pytest.mark.parametrize("role,name,id_number,address", [
    ("anonymous", False, None, False), ("gis_analyst", False, None, False),
    ("counter_clerk", True, "masked", False), ("supervisor", True, "masked", False),
    ("land_officer", True, "full", True), ("admin", True, "full", True)])
def test_dossier_applicants_as_the_role_may_see_them(as_api, api_engine, headers,
                                                     dossier_code, role, name, id_number,
                                                     address):
    with api_engine.connect() as conn:  # the owner reads the truth
        truth = conn.execute(sa.text(
            "SELECT id, code, applicant_name, applicant_id_number, applicant_address, "
            "applicant_phone FROM dossier WHERE code = :c"), {"c": dossier_code}
        ).mappings().one()
    with as_api.begin() as conn:
        act(conn, headers, role)
        seen = conn.execute(sa.text(
            "SELECT * FROM dossier_applicant_visible WHERE id = :i"), {"i": truth["id"]}
        ).mappings().one()
        proved = conn.execute(sa.text("SELECT dossier_verifies(:c, :v)"),
                              {"c": truth["code"], "v": truth["applicant_phone"][-4:]}
                              ).scalar_one()
        wrong = conn.execute(sa.text("SELECT dossier_verifies(:c, '0000')"),
                             {"c": truth["code"]}).scalar_one()
    assert (seen["applicant_name"] == truth["applicant_name"]) is name
    full = truth["applicant_id_number"]
    expected_id = {None: None, "full": full,
                   "masked": "•" * (len(full) - 3) + full[-3:]}[id_number]
    assert seen["applicant_id_number"] == expected_id
    assert (seen["applicant_address"] == truth["applicant_address"]) is address
    assert proved is True and (wrong is False or truth["applicant_phone"].endswith("0000"))
