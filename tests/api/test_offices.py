"""Authority follows offices, over HTTP: offices and delegations managed through the API by
the people entitled to; a counter clerk receives dossiers only at their own office; officers
act only on dossiers their office handles or holds a delegation of, within its validity
period; the database refuses the same to the API's login; an account without an office
cannot sign in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cadastre.accounts.service import add_user, set_office
from cadastre.db import api_database_url, create_engine
from tests.api.conftest import PASSWORD

API = "/api/v1"
HANOI, BRANCH, WARD = "VPDK.HN", "VPDK.HN.CN2", "UBND.00097"
RELEASE = "XOA-THE-CHAP"  # a procedure no other test module delegates
RELEASE_DOCS = ["Phiếu yêu cầu xóa đăng ký", "Văn bản đồng ý của bên nhận thế chấp"]
EXTRACT_DOCS = ["Phiếu yêu cầu cung cấp dữ liệu đất đai"]
#: Accounts of this module: username -> (role, office).
ACCOUNTS = {"of-branch-officer": ("land_officer", BRANCH),
            "of-branch-supervisor": ("supervisor", BRANCH),
            "of-ward-clerk": ("counter_clerk", WARD)}


def _sign_in(client, username: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token", data={"username": username,
                                                      "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def branch(client, headers, api_engine):
    """A second province-level office (a branch of the registration office), made through
    the API, and accounts at it and at a ward's counter."""
    made = client.post(f"{API}/offices", headers=headers("admin"), json={
        "code": BRANCH, "name": "Văn phòng đăng ký đất đai Hà Nội - Chi nhánh 2",
        "level": "province", "province_code": "01", "address": "Số 1 Tràng Thi"})
    assert made.status_code == 201, made.text
    with api_engine.begin() as conn:
        for name, (role, office) in ACCOUNTS.items():
            add_user(conn, name, role, password=PASSWORD, office_code=office)
    return {name: _sign_in(client, name) for name in ACCOUNTS}


def _receive(client, auth, *, procedure=RELEASE, documents=RELEASE_DOCS, office=None,
             parcel=None, commune=None):
    body = {"procedure_code": procedure, "documents": documents,
            "applicant": {"name": "Lê Văn Tám", "phone": "0912000111"}}
    if office is not None:
        body["received_by_office"] = office
    if parcel is not None:
        body["parcel_ids"] = [parcel]
    if commune is not None:
        body["commune_code"] = commune
    return client.post(f"{API}/dossiers", json=body, headers=auth)


def _move(client, auth, dossier, to):
    etag = client.get(f"{API}/dossiers/{dossier}", headers=auth).headers.get("etag")
    return client.post(f"{API}/dossiers/{dossier}/transitions", json={"to": to},
                       headers={**auth, "If-Match": etag or '"x-1"'})


def _delegation(client, auth, *, procedures=(RELEASE,), valid_from, valid_to=None,
                frm=HANOI, to=BRANCH):
    return client.post(f"{API}/delegations", headers=auth, json={
        "from_office": frm, "to_office": to, "procedures": list(procedures),
        "decision": {"number": "125/QĐ-VPĐK", "signed_on": "2026-01-02",
                     "signer": "Giám đốc Văn phòng đăng ký đất đai Hà Nội"},
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat() if valid_to else None})


def _today(api_engine) -> date:
    with api_engine.connect() as conn:
        return conn.execute(sa.text("SELECT office_today()")).scalar_one()


def test_offices_are_listed_to_everyone_and_managed_by_admins(client, headers, branch):
    listed = {o["code"] for o in client.get(f"{API}/offices").json()}
    assert {HANOI, BRANCH, WARD} <= listed
    body = {"code": "UBND.00049", "name": "UBND phường Hàng Đào", "level": "commune",
            "province_code": "01", "commune_code": "00049"}
    for role in ("counter_clerk", "land_officer", "supervisor"):
        assert client.post(f"{API}/offices", json=body,
                           headers=headers(role)).status_code == 403
    assert client.post(f"{API}/offices", json=body).status_code == 401
    unknown = client.post(f"{API}/offices", headers=headers("admin"),
                          json={**body, "code": "UBND.99999", "commune_code": "99999"})
    assert unknown.status_code == 422 and "unknown commune" in unknown.json()["detail"]
    made = client.post(f"{API}/offices", json=body, headers=headers("admin"))
    assert made.status_code == 201, made.text
    assert client.post(f"{API}/offices", json=body,
                       headers=headers("admin")).status_code == 409
    served = client.post(f"{API}/offices", headers=headers("admin"),
                         json={**body, "code": "UBND.00049B"})
    assert served.status_code == 409 and "serves commune 00049" in served.json()["detail"]
    url = f"{API}/offices/UBND.00049"
    etag = client.get(url).headers["etag"]
    assert client.patch(url, json={"phone": "02439260000"},
                        headers=headers("admin")).status_code == 428
    edited = client.patch(url, json={"phone": "02439260000"},
                          headers={**headers("admin"), "If-Match": etag})
    assert edited.status_code == 200 and edited.json()["phone"] == "02439260000"
    stale = client.patch(url, json={"phone": "02439261111"},
                         headers={**headers("admin"), "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(f"{API}/offices/NOPE.1").status_code == 404


def test_a_counter_clerk_receives_dossiers_only_at_their_own_office(
        client, headers, branch, person):
    clerk = headers("counter_clerk")  # of VPDK.HN
    elsewhere = _receive(client, clerk, office=WARD, parcel=person["parcel_id"])
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "wrong-office"
    assert "receive dossiers at VPDK.HN, not at UBND.00097" in elsewhere.json()["detail"]
    own = _receive(client, clerk, parcel=person["parcel_id"])  # the office is the clerk's
    assert own.status_code == 201, own.text
    assert own.json()["received_by_office"] == HANOI
    assert own.json()["code"].startswith(HANOI + ".")
    named = _receive(client, clerk, office=HANOI, parcel=person["parcel_id"])
    assert named.status_code == 201
    ward = branch["of-ward-clerk"]
    extract = _receive(client, ward, procedure="TRICH-LUC", documents=EXTRACT_DOCS,
                       commune="00037")
    assert extract.status_code == 201, extract.text
    assert extract.json()["received_by_office"] == WARD
    at_hanoi = _receive(client, ward, procedure="TRICH-LUC", documents=EXTRACT_DOCS,
                        commune="00037", office=HANOI)
    assert at_hanoi.status_code == 403 and at_hanoi.json()["code"] == "wrong-office"


def test_an_officer_of_another_office_is_refused(client, headers, branch, person):
    dossier = _receive(client, headers("counter_clerk"), parcel=person["parcel_id"]).json()
    assert dossier["handling_office"] == HANOI
    refused = _move(client, branch["of-branch-officer"], dossier["code"], "in_processing")
    assert refused.status_code == 403 and refused.json()["code"] == "wrong-office"
    assert "does not handle dossier" in refused.json()["detail"]
    assert _move(client, headers("land_officer"), dossier["code"],
                 "in_processing").status_code == 200
    for to in ("supplement_requested", "approved", "rejected"):
        assert _move(client, branch["of-branch-officer"], dossier["code"],
                     to).status_code == 403
    etag = client.get(f"{API}/dossiers/{dossier['code']}", headers=headers("land_officer")
                      ).headers["etag"]
    apology = client.post(f"{API}/dossiers/{dossier['code']}/apology",
                          headers={**branch["of-branch-supervisor"], "If-Match": etag},
                          json={"new_due": "2027-03-01", "reason": "Chờ"})
    assert apology.status_code == 403 and apology.json()["code"] == "wrong-office"
    # and a clerk at the counter that received it may hand it on, not one elsewhere
    assert _move(client, branch["of-ward-clerk"], dossier["code"],
                 "supplement_requested").status_code == 403


def test_a_delegated_office_acts_within_the_validity_period_and_not_after(
        client, headers, branch, person, api_engine, office_clock):
    today = _today(api_engine)
    received = _receive(client, headers("counter_clerk"), parcel=person["parcel_id"]).json()
    officer = branch["of-branch-officer"]
    assert _move(client, officer, received["code"], "in_processing").status_code == 403
    # only an admin or a supervisor of the delegating office delegates its procedures
    assert _delegation(client, branch["of-branch-supervisor"],
                       valid_from=today).status_code == 403
    assert _delegation(client, headers("land_officer"), valid_from=today).status_code == 403
    made = _delegation(client, headers("supervisor"), valid_from=today,
                       valid_to=today + timedelta(days=10))
    assert made.status_code == 201, made.text
    delegation = made.json()
    try:
        assert delegation["status"] == "active" and delegation["procedures"] == [RELEASE]
        assert delegation["created_by"] == "t-supervisor"
        assert delegation["decision_number"] == "125/QĐ-VPĐK"
        overlapping = _delegation(client, headers("admin"), valid_from=today + timedelta(
            days=5), procedures=(RELEASE, "CAP-DOI"), to=WARD)
        assert overlapping.status_code == 409
        assert overlapping.json()["code"] == "delegation-overlap"
        assert f"(delegation {delegation['id']})" in overlapping.json()["detail"]
        # within the period: the delegate acts on the delegating office's dossier ...
        moved = _move(client, officer, received["code"], "in_processing")
        assert moved.status_code == 200, moved.text
        assert moved.json()["events"][-1]["office_code"] == BRANCH
        # ... new dossiers of the procedure are routed to it, and its work list shows both
        routed = _receive(client, headers("counter_clerk"), parcel=person["parcel_id"]).json()
        assert routed["handling_office"] == BRANCH
        work = client.get(f"{API}/dossiers", params={"soon_days": 30}, headers=officer).json()
        listed = {d["code"] for d in work["due_soon"] + work["overdue"]}
        assert {received["code"], routed["code"]} <= listed
        # after its last day, no more
        office_clock(11)
        refused = _move(client, officer, received["code"], "supplement_requested")
        assert refused.status_code == 403 and refused.json()["code"] == "wrong-office"
        listed = client.get(f"{API}/delegations", params={"office": BRANCH},
                            headers=headers("supervisor")).json()
        assert next(d for d in listed if d["id"] == delegation["id"])["status"] == "expired"
    finally:
        office_clock(0)
        with api_engine.begin() as conn:  # the other modules' dossiers stay with VPDK.HN
            conn.execute(sa.text("UPDATE delegation SET valid_to = valid_from - 1 "
                                 "WHERE id = :i AND ended_at IS NULL"),
                         {"i": delegation["id"]})


def test_ending_a_delegation_keeps_it_on_record_and_stops_it_today(
        client, headers, branch, person, api_engine):
    today = _today(api_engine)
    received = _receive(client, headers("counter_clerk"), parcel=person["parcel_id"]).json()
    made = _delegation(client, headers("admin"), valid_from=today).json()
    officer = branch["of-branch-officer"]
    assert _move(client, officer, received["code"], "in_processing").status_code == 200
    url = f"{API}/delegations/{made['id']}/end"
    assert client.post(url, json={}, headers=branch["of-branch-supervisor"]).status_code == 403
    back = client.post(url, json={"valid_to": (today - timedelta(days=3)).isoformat()},
                       headers=headers("supervisor"))
    assert back.status_code == 422 and "stays authorised" in back.json()["detail"]
    ended = client.post(url, json={}, headers=headers("supervisor"))
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "revoked"  # it began today: it now never held
    assert ended.json()["ended_by"] == "t-supervisor"
    assert client.post(url, json={}, headers=headers("supervisor")).status_code == 409
    assert client.get(f"{API}/delegations/{made['id']}").json()["valid_to"] == (
        today - timedelta(days=1)).isoformat()
    assert _move(client, officer, received["code"], "supplement_requested").status_code == 403
    # a new delegation of the same procedure may follow the ended one
    again = _delegation(client, headers("admin"), valid_from=today + timedelta(days=1),
                        valid_to=today + timedelta(days=2))
    assert again.status_code == 201, again.text
    with api_engine.begin() as conn:
        conn.execute(sa.text("UPDATE delegation SET valid_to = valid_from - 1 WHERE id = :i"),
                     {"i": again.json()["id"]})


def test_delegations_are_checked_before_they_are_recorded(client, headers, branch,
                                                          api_engine):
    today = _today(api_engine)
    for change, message in (
            ({"valid_from": (today - timedelta(days=1)).isoformat()}, "begins today"),
            ({"to_office": HANOI}, "does not delegate to itself"),
            ({"procedures": ["NOPE"]}, "unknown or inactive procedures: NOPE"),
            ({"to_office": "NOPE.9"}, "no office")):
        body = {"from_office": HANOI, "to_office": BRANCH, "procedures": [RELEASE],
                "decision": {"number": "1/QĐ", "signed_on": (today - timedelta(days=1))
                             .isoformat(), "signer": "Giám đốc"},
                "valid_from": today.isoformat(), **change}
        refused = client.post(f"{API}/delegations", json=body, headers=headers("admin"))
        assert refused.status_code in (404, 422), (change, refused.text)
        assert message in refused.json()["detail"], (change, refused.text)
    assert client.post(f"{API}/delegations/999999/end", json={},
                       headers=headers("admin")).status_code == 404


# --- the database refuses the same to the API's login ----------------------------------------

@pytest.fixture(scope="module")
def as_api(api_settings):
    engine = create_engine(api_settings, url=api_database_url(api_settings))
    yield engine
    engine.dispose()


def _act(conn, auth: dict[str, str]) -> None:
    conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"),
                 {"t": auth["Authorization"].removeprefix("Bearer ")})


def test_the_database_knows_the_callers_office_and_nobody_can_claim_another(
        as_api, headers, branch):
    with as_api.begin() as conn:
        _act(conn, branch["of-ward-clerk"])
        assert conn.execute(sa.text("SELECT proven_office()")).scalar_one() == WARD
    with as_api.begin() as conn:  # naming an office or a user is not proving one
        conn.execute(sa.text("SELECT set_config('cadastre.office', 'VPDK.HN', true), "
                             "set_config('cadastre.uid', '1', true)"))
        assert conn.execute(sa.text("SELECT proven_office()")).scalar_one() is None


@pytest.mark.parametrize(("account", "statement"), [
    # a ward clerk filing at the registration office
    ("of-ward-clerk", "INSERT INTO dossier (code, received_by_office, handling_office, "
     "procedure_code, status, channel, due_date, statutory_days, applicant_name) VALUES "
     "('X.1', 'VPDK.HN', 'VPDK.HN', 'THE-CHAP', 'received', 'counter', current_date, 3, "
     "'A')"),
    # an officer of the branch moving a dossier of VPDK.HN's, or writing its events
    ("of-branch-officer", "UPDATE dossier SET status = 'in_processing' "
     "WHERE handling_office = 'VPDK.HN' AND status = 'received'"),
    ("of-branch-officer", "INSERT INTO dossier_event (dossier_id, to_status, actor) "
     "SELECT id, 'in_processing', 'x' FROM dossier WHERE handling_office = 'VPDK.HN' "
     "LIMIT 1"),
    # a supervisor of the branch delegating the registration office's procedures
    ("of-branch-supervisor", "INSERT INTO delegation (from_office, to_office, valid_from, "
     "decision_number) VALUES ('VPDK.HN', 'VPDK.HN.CN2', current_date, '1/QĐ')"),
    # offices are edited by admins only
    ("of-branch-supervisor", "UPDATE office SET name = 'x' WHERE code = 'VPDK.HN.CN2'"),
    # delegations are never deleted; feedback contacts only through the view
    ("admin", "DELETE FROM delegation"),
    ("admin", "SELECT contact_phone FROM feedback LIMIT 1"),
])
def test_what_the_api_login_may_not_do_for_another_office(as_api, headers, branch, account,
                                                         statement):
    auth = headers(account) if account == "admin" else branch[account]
    with pytest.raises(sa.exc.DBAPIError) as caught, as_api.begin() as conn:
        _act(conn, auth)
        conn.execute(sa.text(statement))
    assert caught.value.orig.pgcode == "42501", caught.value


def test_a_delegation_is_never_rewritten(api_engine):
    with api_engine.begin() as conn:
        made = conn.execute(sa.text(
            "INSERT INTO delegation (from_office, to_office, valid_from, valid_to, "
            "decision_number) VALUES ('UBND.00070', 'UBND.00073', '2027-01-04', "
            "'2027-01-29', 'QĐ 7') RETURNING id")).scalar_one()
        conn.execute(sa.text("INSERT INTO delegation_procedure VALUES (:d, 'TRICH-LUC')"),
                     {"d": made})
    for statement in ("UPDATE delegation SET to_office = 'UBND.00196' WHERE id = :d",
                      "UPDATE delegation SET valid_to = '2027-02-28' WHERE id = :d",
                      "DELETE FROM delegation WHERE id = :d",
                      "UPDATE delegation_procedure SET procedure_code = 'CAP-DOI' "
                      "WHERE delegation_id = :d",
                      "WITH x AS (INSERT INTO delegation (from_office, to_office, "
                      "valid_from, decision_number) VALUES ('UBND.00070', 'UBND.00196', "
                      "'2027-01-20', 'QĐ 8') RETURNING id) "
                      "INSERT INTO delegation_procedure SELECT id, 'TRICH-LUC' FROM x"):
        with pytest.raises(sa.exc.DBAPIError) as caught, api_engine.begin() as conn:
            conn.execute(sa.text(statement), {"d": made})
        assert caught.value.orig.pgcode in ("CD001", "23P01"), statement


# --- accounts belong to offices ---------------------------------------------------------------

def test_an_account_without_an_office_is_told_so_at_sign_in_until_it_has_one(
        client, api_engine):
    from cadastre.errors import InvalidInput

    with api_engine.begin() as conn, pytest.raises(InvalidInput, match="belongs to an office"):
        add_user(conn, "of-nowhere", "counter_clerk", password=PASSWORD)
    with api_engine.begin() as conn:  # as 0019 leaves an account it knew no office of
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        add_user(conn, "of-nowhere", "gis_analyst", password=PASSWORD)
        conn.execute(sa.text("UPDATE app_user SET role = 'counter_clerk' "
                             "WHERE username = 'of-nowhere'"))
    refused = client.post(f"{API}/auth/token", data={"username": "of-nowhere",
                                                     "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["code"] == "no-office"
    assert "belongs to no office" in refused.json()["detail"]
    wrong = client.post(f"{API}/auth/token", data={"username": "of-nowhere",
                                                   "password": "not the password"})
    assert wrong.status_code == 401  # nothing is told without the password
    with api_engine.begin() as conn:
        set_office(conn, "of-nowhere", WARD)
    assert client.post(f"{API}/auth/token", data={"username": "of-nowhere",
                                                  "password": PASSWORD}).status_code == 200
    me = client.get(f"{API}/auth/me", headers=_sign_in(client, "of-nowhere")).json()
    assert me["role"] == "counter_clerk" and me["office"] == WARD
