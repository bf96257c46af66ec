"""The threat model of docs/reliability.md ("Trust"): whoever has a backup, the API's own
database login (`cadastre_api`) or an old token of a disabled or changed account cannot mint
tokens, read personal data, change roles or rewrite the legal record. Each refusal is made by
the database, tried here as `cadastre_api` or over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
import uuid

import pytest
import sqlalchemy as sa

from cadastre.accounts.service import (
    add_user,
    check_password_policy,
    disable_user,
    export_signing_keys,
    rotate_signing_key,
    set_role,
)
from cadastre.db import api_database_url, create_engine
from cadastre.errors import InvalidInput
from tests.api.conftest import PASSWORD

API = "/api/v1"


@pytest.fixture(scope="module")
def as_api(api_settings):
    engine = create_engine(api_settings, url=api_database_url(api_settings))
    yield engine
    engine.dispose()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict, key: bytes, kid: str = "guessed-kid") -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = _b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def _token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post(f"{API}/auth/token", data={"username": username,
                                                      "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _me(client, token: str) -> int:
    return client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code


def _account(api_engine, role: str) -> str:
    name = f"trust-{uuid.uuid4().hex[:8]}"
    with api_engine.begin() as conn:
        add_user(conn, name, role, password=PASSWORD,
                 office_code=None if role in ("admin", "gis_analyst") else "VPDK.HN")
    return name


# --- 1. the key is out of reach ------------------------------------------------------------

def test_the_api_login_cannot_read_the_signing_key_and_no_key_is_left_in_settings(as_api):
    with as_api.connect() as conn:
        for statement in ("SELECT secret FROM auth_signing_key",
                          "SELECT password_hash FROM app_user",
                          "SELECT key_hash FROM api_key",
                          "SELECT auth_issue(1, 600)",
                          "SELECT auth_rotate_key(interval '0')"):
            with pytest.raises(sa.exc.DBAPIError) as caught:
                conn.execute(sa.text(statement))
            assert caught.value.orig.pgcode == "42501", statement
            conn.rollback()
        assert conn.execute(sa.text(
            "SELECT count(*) FROM database_setting WHERE name LIKE '%key%'")).scalar() == 0


def test_a_token_signed_with_any_key_but_the_databases_is_refused(client, api_engine):
    with api_engine.connect() as conn:
        admin = conn.execute(sa.text(
            "SELECT id, username, token_version FROM app_user WHERE role = 'admin' "
            "ORDER BY id LIMIT 1")).one()
        kid = conn.execute(sa.text(
            "SELECT kid FROM auth_signing_key WHERE retired_at IS NULL")).scalar_one()
    now = int(time.time())
    claims = {"sub": admin.username, "uid": admin.id, "role": "admin",
              "ver": admin.token_version, "aud": "cadastre-api", "iat": now,
              "exp": now + 365 * 86400}
    for key, key_id in ((os.urandom(32), kid), (b"", kid), (os.urandom(32), "other-kid")):
        assert _me(client, _jwt(claims, key, key_id)) == 401
    # a token of the real key for a user that does not exist: refused too (needs the key)
    assert client.get(f"{API}/users", headers={
        "Authorization": f"Bearer {_jwt(claims, os.urandom(32), kid)}"}).status_code == 401


def test_an_unsigned_or_mangled_token_is_refused(client, headers):
    good = headers("land_officer")["Authorization"].removeprefix("Bearer ")
    head, body, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["role"] = "admin"
    forged_body = _b64(json.dumps(claims).encode())
    none_head = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    for token in (f"{head}.{forged_body}.{sig}", f"{none_head}.{body}.", f"{head}.{body}",
                  f"{head}.{body}.{sig}x", "a.b.c", "." * 3, "x" * 5000):
        assert _me(client, token) == 401, token[:40]
    assert _me(client, good) == 200


# --- 2. tokens reflect the account now -----------------------------------------------------

def test_a_disabled_account_s_token_stops_working_at_once(client, api_engine):
    name = _account(api_engine, "land_officer")
    token = _token(client, name)
    assert _me(client, token) == 200
    with api_engine.begin() as conn:
        disable_user(conn, name)
    response = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "disabled or changed" in response.json()["detail"]
    assert client.post(f"{API}/auth/token", data={"username": name, "password": PASSWORD}
                       ).status_code == 401


def test_a_demoted_account_s_token_stops_working_and_a_new_one_has_the_new_role(
        client, api_engine):
    name = _account(api_engine, "admin")
    token = _token(client, name)
    assert client.get(f"{API}/users", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    with api_engine.begin() as conn:
        set_role(conn, name, "gis_analyst")
    assert client.get(f"{API}/users", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401
    fresh = _token(client, name)
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {fresh}"}).json()
    assert me["role"] == "gis_analyst"
    assert client.get(f"{API}/users", headers={"Authorization": f"Bearer {fresh}"}
                      ).status_code == 403


def _kid(token: str) -> str:
    return str(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))["kid"])


def test_rotation_keeps_old_tokens_for_their_lifetime_then_not(client, api_engine):
    name = _account(api_engine, "counter_clerk")
    with api_engine.begin() as conn:  # the other tests' tokens keep an hour of grace
        rotate_signing_key(conn, accept_minutes=60)
    old = _token(client, name)
    with api_engine.begin() as conn:
        rotate_signing_key(conn, accept_minutes=30)
    new = _token(client, name)
    assert _me(client, old) == 200 and _me(client, new) == 200
    assert _kid(old) != _kid(new)
    with api_engine.begin() as conn:
        rotate_signing_key(conn, accept_minutes=0)
    assert _me(client, new) == 401  # its key retired with no grace
    assert _me(client, old) == 200  # its key still within its 30 minutes
    assert _me(client, _token(client, name)) == 200
    with api_engine.begin() as conn:  # the 30 minutes are over
        conn.execute(sa.text("UPDATE auth_signing_key SET accepted_until = now() "
                             "WHERE kid = :k"), {"k": _kid(old)})
    assert _me(client, old) == 401
    with api_engine.begin() as conn:
        rotate_signing_key(conn, accept_minutes=30)
        kept = {k["kid"] for k in export_signing_keys(conn)}
    assert _kid(old) not in kept and _kid(new) not in kept  # deleted once past their time


@pytest.mark.parametrize("password", ["short-pw", "password1234", "qwerty123456", "QWERTY 123456",
                                      "trust-officer-password"])
def test_the_password_policy(password):
    with pytest.raises(InvalidInput):
        check_password_policy(password, username="trust-officer")


def test_a_good_password_passes_the_policy():
    check_password_policy("mười hai chữ cái dài", username="someone")


# --- 3. the database decides what a role may see and do ------------------------------------

def _personal_rows(conn) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM party_personal_visible")).scalar())


def test_naming_a_role_or_forging_a_seal_sees_nothing(as_api, headers):
    with as_api.begin() as conn:
        conn.execute(sa.text("SELECT set_config('cadastre.role', 'land_officer', true), "
                             "set_config('cadastre.actor', 'officer', true), "
                             "set_config('cadastre.proof', repeat('0', 64), true)"))
        assert _personal_rows(conn) == 0
        assert conn.execute(sa.text("SELECT personal_data_role()")).scalar() == "anonymous"
    token = headers("land_officer")["Authorization"].removeprefix("Bearer ")
    with as_api.begin() as conn:
        conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {"t": token})
        assert _personal_rows(conn) > 0
        sealed = conn.execute(sa.text(
            "SELECT current_setting('cadastre.actor'), current_setting('cadastre.uid'), "
            "current_setting('cadastre.proof')")).one()
        # a counter clerk's token, then the role changed by hand: the seal breaks
    with as_api.begin() as conn:  # the seal of another transaction replayed: nothing
        conn.execute(sa.text(
            "SELECT set_config('cadastre.role', 'land_officer', true), "
            "set_config('cadastre.actor', :a, true), set_config('cadastre.uid', :u, true), "
            "set_config('cadastre.proof', :p, true)"),
            {"a": sealed[0], "u": sealed[1], "p": sealed[2]})
        assert _personal_rows(conn) == 0
    clerk = headers("counter_clerk")["Authorization"].removeprefix("Bearer ")
    with as_api.begin() as conn:
        conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {"t": clerk})
        conn.execute(sa.text("SELECT set_config('cadastre.role', 'land_officer', true)"))
        assert conn.execute(sa.text("SELECT personal_data_role()")).scalar() == "anonymous"


def test_a_temporary_pg_roles_view_does_not_make_the_api_trusted(as_api):
    with as_api.begin() as conn:
        conn.execute(sa.text(
            "CREATE TEMP VIEW pg_roles AS SELECT true AS rolsuper, oid, rolname "
            "FROM pg_catalog.pg_roles"))
        conn.execute(sa.text("SELECT set_config('cadastre.role', 'admin', true)"))
        assert conn.execute(sa.text("SELECT auth_trusted_session()")).scalar() is False
        assert _personal_rows(conn) == 0


@pytest.mark.parametrize("statement", [
    "UPDATE app_user SET role = 'admin'",
    "UPDATE change_transaction SET note = 'x' WHERE id = 1",
    "UPDATE source_document SET reference = 'x' WHERE id = 1",
    "UPDATE change_source SET source_id = source_id WHERE false",
    "UPDATE parcel_lineage SET parent_id = parent_id WHERE false",
    "UPDATE parcel_land_use SET area = area WHERE false",
    "UPDATE party_visible SET kind = 'organisation' WHERE false",
    "INSERT INTO party_visible (kind) VALUES ('organisation')",
    "UPDATE dossier_applicant_visible SET id = id WHERE false",
    "DELETE FROM change_transaction WHERE false",
])
def test_the_api_login_cannot_rewrite_the_record(as_api, statement):
    with pytest.raises(sa.exc.DBAPIError) as caught, as_api.begin() as conn:
        conn.execute(sa.text("SELECT set_config('cadastre.allow_purge', 'on', true)"))
        conn.execute(sa.text(statement))
    # refused for want of the privilege, by a rule, for a column it may not name, or (55000)
    # because the view is not updatable at all (a masking view that joins personal_sight())
    assert caught.value.orig.pgcode in ("42501", "CD001", "42703", "55000"), caught.value


@pytest.mark.parametrize("role,allowed", [("anonymous", False), ("gis_analyst", False),
                                          ("counter_clerk", False), ("land_officer", True)])
def test_new_register_facts_need_a_proven_role_that_may_change_the_register(
        as_api, headers, role, allowed):
    conn = as_api.connect()
    transaction = conn.begin()
    try:
        if role != "anonymous":
            token = headers(role)["Authorization"].removeprefix("Bearer ")
            conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {"t": token})
        insert = sa.text("INSERT INTO change_transaction (kind, note) "
                         "VALUES ('correction', 'forged') RETURNING id")
        if allowed:
            assert conn.execute(insert).scalar() is not None
            assert conn.execute(sa.text("SELECT proven_actor()")).scalar() == "t-land-officer"
        else:
            with pytest.raises(sa.exc.DBAPIError) as caught:
                conn.execute(insert)
            assert caught.value.orig.pgcode == "42501"
    finally:
        transaction.rollback()
        conn.close()


def test_audit_read_rows_name_the_proven_user_only(as_api, headers):
    call = sa.text("SELECT audit_personal_read('someone-else', 'admin', 'GET /x', NULL, "
                   "ARRAY[1]::bigint[], 'party', '{}'::jsonb, 'forged')")
    with pytest.raises(sa.exc.DBAPIError) as caught, as_api.begin() as conn:
        conn.execute(call)
    assert caught.value.orig.pgcode == "42501"
    token = headers("counter_clerk")["Authorization"].removeprefix("Bearer ")
    conn = as_api.connect()
    transaction = conn.begin()
    try:
        conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {"t": token})
        conn.execute(call)
        # the clerk may not read the log itself; the owner's view is checked by the row
        # counts: no row names 'someone-else'
        assert conn.execute(sa.text("SELECT personal_data_role()")).scalar() == "counter_clerk"
    finally:
        transaction.rollback()
        conn.close()


def test_security_definer_functions_are_owned_by_non_superusers(api_engine):
    with api_engine.connect() as conn:
        owners = conn.execute(sa.text(
            "SELECT p.proname, r.rolname, r.rolsuper, r.rolcanlogin FROM pg_proc p "
            "JOIN pg_roles r ON r.oid = p.proowner WHERE p.prosecdef "
            "AND p.pronamespace = 'public'::regnamespace AND NOT EXISTS (SELECT 1 FROM "
            "pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')")).all()
    assert owners
    assert [o for o in owners if o.rolsuper or o.rolcanlogin] == []


def test_an_answered_feedback_is_never_rewritten(api_engine):
    with api_engine.connect() as conn, conn.begin():
        office = conn.execute(sa.text("SELECT code FROM office LIMIT 1")).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO feedback (code, channel, subject, body, contact_phone, office_code, "
            "answer_due, answered_at, answer) VALUES ('TRUST-FB', 'web', 's', 'b', "
            "'0912345678', :o, current_date, now(), 'done')"), {"o": office})
        with pytest.raises(sa.exc.DBAPIError) as caught, conn.begin_nested():
            conn.execute(sa.text("UPDATE feedback SET answer = 'rewritten' "
                                 "WHERE code = 'TRUST-FB'"))
        assert caught.value.orig.pgcode == "CD001"
        conn.rollback()


def test_backups_are_private_and_carry_no_key(api_settings, tmp_path):
    from cadastre.backup import backup

    out = tmp_path / "register.dump"
    backup(api_settings, out, checksums=False)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "register.dump.manifest.json").stat().st_mode) == 0o600
    manifest = json.loads((tmp_path / "register.dump.manifest.json").read_text())
    assert "public.auth_signing_key" not in manifest["tables"]


def test_a_restored_copy_refuses_the_original_s_tokens_unless_the_keys_are_carried(
        client, api_settings, api_engine, tmp_path):
    from cadastre.backup import backup, restore
    from cadastre.dbinit import drop_database
    from tests.conftest import make_test_settings

    token = _token(client, _account(api_engine, "land_officer"))
    out = tmp_path / "register.dump"
    backup(api_settings, out, checksums=False)
    with api_engine.connect() as conn:
        keys = export_signing_keys(conn)
    for carried, problem in ((None, "invalid"), (keys, None)):
        copy = make_test_settings(api_settings)
        try:
            restore(copy, out, signing_keys=carried)
            engine = create_engine(copy)
            with engine.connect() as conn:
                found = conn.execute(sa.text("SELECT * FROM auth_verify(:t)"),
                                     {"t": token}).one()
                owner = conn.execute(sa.text(
                    "SELECT pg_get_userbyid(relowner) FROM pg_class "
                    "WHERE relname = 'auth_signing_key'")).scalar()
            engine.dispose()
            assert found.problem == problem
            assert owner == "cadastre_auth"
        finally:
            drop_database(copy)
