"""The API's database role: owns nothing, bypasses nothing, deletes nothing, cannot rewrite
the audit log, and reads personal data only through the view that applies the role matrix,
which agrees with cadastre.access for every role."""

from __future__ import annotations

import re

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
    # the party register: personal columns only through party_personal_visible, matches
    # through the functions of privileges_parties.sql, for the roles that see names
    "SELECT * FROM party_personal LIMIT 1",
    "SELECT nationality FROM party_personal LIMIT 1",
    "SELECT party_id FROM party_personal WHERE national_id LIKE '001%'",
    "UPDATE party_personal SET address = address",
    "UPDATE party SET created_by = 'someone'",
    "UPDATE party SET row_version = 1",
    "INSERT INTO party (kind, name, merged_into) VALUES ('individual', 'x', 1)",
    "SELECT party_with_identity('cccd', '', '001090012345')",
    "SELECT * FROM parties_with_id_number('001090012345', 5)",
    "SELECT * FROM parties_named('nguyen', 5, 0)",
    "SELECT restriction_parcels_of(1)",
    "SELECT restrictions_move_party(1, 2, 1, now())",
    "SELECT party_merge_obstacle(1, 2)",
    # a dossier's tax notices: amounts and receipts only through tax_notice_visible, and
    # the facts are never rewritten
    "SELECT total FROM tax_notice LIMIT 1",
    "SELECT amounts FROM tax_notice LIMIT 1",
    "SELECT reference, amount FROM tax_payment LIMIT 1",
    "UPDATE tax_payment SET paid_on = paid_on",
    "DELETE FROM tax_notice",
    "INSERT INTO tax_payment (notice_id, paid_on, reference, amount) VALUES (1, now(), 'x', 0)",
    # land price tables: loaded by the owner's command only
    "UPDATE land_price_table SET valid_to = valid_from",
    "INSERT INTO land_price_table (province_code, decision, valid_from, source_file, "
    "source_sha256, rows) VALUES ('01', 'x', '2040-01-01', 'x', repeat('0', 64), 1)",
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


@pytest.mark.parametrize("role", list(Role))
def test_the_party_register_functions_answer_the_roles_that_see_names(as_api, headers,
                                                                      person, role):
    """Which parties have an ID number or a name: for staff who see names (clerks register
    parties), never the analyst or the public; a merge's questions for the register's
    writers only."""
    sees = holder_view(role, {"name": "x"}).get("name") is not None
    with as_api.connect() as conn:
        for statement, allowed in (
                ("SELECT party_with_identity('cccd', '', :n)", sees),
                ("SELECT count(*) FROM parties_with_id_number(:n, 5)", sees),
                ("SELECT count(*) FROM parties_named('nguyen', 5, 0)", sees),
                ("SELECT restriction_parcels_of(1)",
                 role in (Role.LAND_OFFICER, Role.ADMIN, Role.SUPERVISOR))):
            with conn.begin():
                act(conn, headers, role.value)
                if allowed:
                    conn.execute(sa.text(statement), {"n": person["national_id"]})
                    continue
                with pytest.raises(sa.exc.DBAPIError) as caught:
                    conn.execute(sa.text(statement), {"n": person["national_id"]})
                assert caught.value.orig.pgcode == "42501", (role, statement)
    if sees:
        with as_api.begin() as conn:
            act(conn, headers, role.value)
            found = conn.execute(sa.text("SELECT party_with_identity('cccd', '', :n)"),
                                 {"n": person["national_id"]}).scalar()
        assert found is not None


@pytest.fixture(scope="module")
def foreigner(api_engine) -> int:
    with api_engine.begin() as conn:  # the owner writes a party with every column
        party = conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES ('foreigner', 'PARK JI-SOO') RETURNING id"
        )).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO party_personal (party_id, id_kind, national_id, nationality, "
            "birth_date, birth_year, gender, address, phone, email) VALUES (:p, 'passport', "
            "'M' || lpad(CAST(:p AS text), 8, '0'), 'KOR', '1991-04-05', 1991, 'female', "
            "'Seoul', '0901234567', 'park@example.kr')"), {"p": party})
    return int(party)


@pytest.mark.parametrize("role", list(Role))
def test_nationality_birth_and_contact_as_the_role_may_see_them(as_api, headers, foreigner,
                                                                role):
    party = foreigner
    with as_api.begin() as conn:
        act(conn, headers, role.value)
        row = conn.execute(sa.text(
            "SELECT nationality, birth_date, gender, phone, email FROM party_personal_visible "
            "WHERE party_id = :p"), {"p": party}).mappings().first()
        name = conn.execute(sa.text("SELECT name FROM party_visible WHERE id = :p"),
                            {"p": party}).scalar_one()
    r = holder_view(role, {"name": "x", "national_id": "123456789", "birth_year": 1,
                           "address": "a"})
    assert (name == "PARK JI-SOO") is ("name" in r)  # a foreigner's name is personal data
    if "name" not in r:
        assert row is None
        return
    assert row is not None and row["nationality"] == "KOR"
    everything = "birth_year" in r
    assert (row["birth_date"] is not None) is everything
    assert (row["gender"] == "female") is everything
    assert (row["phone"], row["email"]) == (("0901234567", "park@example.kr") if everything
                                            else (None, None))


@pytest.mark.parametrize("role,kind,allowed", [
    ("counter_clerk", "party_member", True), ("counter_clerk", "transfer", False),
    ("counter_clerk", "party_merge", False), ("supervisor", "party_member", True),
    ("gis_analyst", "party_member", False)])
def test_counter_clerks_record_the_changes_of_households_members_only(as_api, headers, role,
                                                                      kind, allowed):
    conn = as_api.connect()
    transaction = conn.begin()
    try:
        act(conn, headers, role)
        insert = sa.text("INSERT INTO change_transaction (kind) VALUES (:k) RETURNING id")
        if allowed:
            assert conn.execute(insert, {"k": kind}).scalar() is not None
        else:
            with pytest.raises(sa.exc.DBAPIError) as caught:
                conn.execute(insert, {"k": kind})
            assert caught.value.orig.pgcode == "42501"
    finally:
        transaction.rollback()
        conn.close()


@pytest.mark.parametrize("role", ["anonymous", "counter_clerk"])
def test_a_function_of_the_callers_own_sees_only_what_the_views_show(as_api, headers, role):
    """The masking views are not security barriers (sql/functions/privileges.sql): a
    function the API's login writes in pg_temp, put in a query's filter, is given the
    masked values, never the columns under them."""
    with as_api.begin() as conn:
        act(conn, headers, role)
        conn.execute(sa.text("CREATE TEMP TABLE seen (value text) ON COMMIT DROP"))
        conn.execute(sa.text(
            "CREATE OR REPLACE FUNCTION pg_temp.leak(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 "
            "AS $$ BEGIN INSERT INTO seen VALUES (v); RETURN true; END $$"))
        conn.execute(sa.text("SELECT count(*) FROM party_personal_visible "
                             "WHERE pg_temp.leak(national_id) OR pg_temp.leak(address)"))
        # columns the roles that see rows see whole: none reaches a role that sees no rows,
        # whatever plan the database takes (here one that scans the parties first)
        conn.execute(sa.text("SET LOCAL enable_nestloop = off"))
        conn.execute(sa.text("SET LOCAL enable_mergejoin = off"))
        conn.execute(sa.text(
            "SELECT count(*) FROM land_right r JOIN party_personal_visible pp "
            "ON pp.party_id = r.party_id "
            "WHERE pg_temp.leak(pp.nationality) OR pg_temp.leak(pp.id_kind)"))
        conn.execute(sa.text("SELECT count(*) FROM party_visible p "
                             "WHERE p.kind = 'individual' AND pg_temp.leak(name)"))
        seen = conn.execute(sa.text("SELECT value FROM seen")).scalars().all()
        conn.execute(sa.text("DROP FUNCTION pg_temp.leak(text)"))
    if role == "anonymous":  # no personal rows at all, and no names
        assert set(seen) <= {None}, seen
    else:  # a clerk sees names and the ID numbers masked to their last 3 digits, no address
        assert any(v is not None and v.startswith("•") for v in seen)
        assert not any(v is not None and v.isdigit() and len(v) == 12 for v in seen)


def test_every_personal_column_of_the_view_waits_for_the_role(api_engine):
    """party_personal_visible's columns, the id aside, are each a CASE on personal_sight():
    a filter a query puts on a bare column could run on the parties before the join that
    keeps no row for a role that sees none (on a 1M-party register the planner did scan
    them first, and a caller's function saw every nationality; docs/benchmarks.md)."""
    with api_engine.connect() as conn:
        definition = conn.execute(sa.text(
            "SELECT pg_get_viewdef('party_personal_visible'::regclass)")).scalar_one()
        columns = conn.execute(sa.text(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'party_personal_visible'::regclass "
            "AND attnum > 0 AND NOT attisdropped")).scalars().all()
    assert "party_id" in columns and len(columns) > 5
    for column in columns:
        if column != "party_id":
            assert re.search(rf"CASE\s+WHEN\s+s\.\w+\s+THEN\s+p\.{column}\b", definition), column
