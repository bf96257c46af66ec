"""Over HTTP: a sale moves what was sold and replaces or endorses the certificate; the
certificate's lifecycle; the public verification shows what the paper shows and no ID
number; a release names one mortgage; obligations recorded and ended; a split leaves nothing
on its parent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
CONTRACT = {"kind": "contract", "reference": "501/2026/HĐCN", "issuer": "VPCC Hoàn Kiếm"}
DECISION = {"kind": "decision", "reference": "88/QĐ-UBND"}


def _party(conn, name: str, kind: str = "individual") -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO party (kind, name) VALUES (:k, :n) RETURNING id"),
        {"k": kind, "n": name}).scalar_one())


def _homes(conn, count: int, offset: int) -> list[dict]:
    """Certified homes of one individual holding the land and the house, the certificate
    covering that parcel alone, no restriction on it."""
    rows = conn.execute(sa.text("""
        SELECT r.parcel_id, r.party_id AS seller, r.certificate_id, pp.national_id
        FROM current_land_right r
        JOIN current_land_right hr ON hr.parcel_id = r.parcel_id
             AND hr.kind = 'house_ownership' AND hr.party_id = r.party_id
        JOIN party h ON h.id = r.party_id AND h.kind = 'individual'
        JOIN party_personal pp ON pp.party_id = h.id AND pp.national_id IS NOT NULL
        JOIN current_certificate c ON c.certificate_id = r.certificate_id
        WHERE r.kind = 'land_use'
          AND (SELECT count(*) FROM certificate_parcel cp
               WHERE cp.certificate_version_id = c.version_id) = 1
          AND (SELECT count(*) FROM current_land_right o WHERE o.parcel_id = r.parcel_id) = 2
          AND NOT EXISTS (SELECT 1 FROM restriction x WHERE x.parcel_id = r.parcel_id)
        ORDER BY r.parcel_id DESC OFFSET :o LIMIT :n"""), {"o": offset, "n": count}).all()
    assert len(rows) == count
    return [dict(r._mapping) for r in rows]


@pytest.fixture(scope="module")
def homes(api_engine):
    with api_engine.begin() as conn:
        found = _homes(conn, 6, 40)
        buyers = [_party(conn, n) for n in ("Vũ Minh Khôi", "Đỗ Thu Hà", "Ngô Bảo Châu",
                                             "Lý Thị Nga")]
        banks = [_party(conn, n, "organisation") for n in ("Ngân hàng TMCP X", "Ngân hàng Y")]
    return {"homes": found, "buyers": buyers, "banks": banks}


def _etag(client, headers, parcel):
    return client.get(f"{API}/parcels/{parcel}", headers=headers("land_officer")).headers["etag"]


def _officer(client, headers, parcel):
    return {**headers("land_officer"), "If-Match": _etag(client, headers, parcel)}


def test_a_sale_of_a_parcel_with_its_house_moves_both_and_replaces_the_certificate(
        client, headers, homes, api_engine):
    home, buyer = homes["homes"][0], homes["buyers"][0]
    parcel = home["parcel_id"]
    old = client.get(f"{API}/certificates/{home['certificate_id']}",
                     headers=headers("land_officer")).json()
    assert old["status"] == "valid" and old["qr_content"].endswith(old["verification_code"])
    sold = client.post(f"{API}/changes/transfer", headers=_officer(client, headers, parcel),
                       json={"parcel_id": parcel, "holders": [{"party_id": buyer}],
                             "certificate": {"serial": "ca 700001", "registry_number": "CS 9"},
                             "source": CONTRACT})
    assert sold.status_code == 201, sold.text
    outcome = sold.json()["certificate"]
    assert outcome["action"] == "replaced" and outcome["replaced"] == [home["certificate_id"]]
    file = client.get(f"{API}/parcels/{parcel}", headers=headers("land_officer")).json()
    props = file["properties"]
    assert sorted((r["right"], r["party_id"], r["certificate_id"]) for r in props["rights"]) == [
        ("house_ownership", buyer, outcome["certificate_id"]),
        ("land_use", buyer, outcome["certificate_id"])]
    assert [c["serial"] for c in props["certificates"]] == ["CA 700001"]
    with api_engine.connect() as conn:
        ended = conn.execute(sa.text(
            "SELECT ended_by FROM certificate WHERE certificate_id = :c ORDER BY version_id "
            "DESC LIMIT 1"), {"c": home["certificate_id"]}).scalar_one()
    assert ended == sold.json()["change_id"]
    # the public verification of the seller's old paper: replaced, and no ID number
    shown = client.get(f"{API}/public/certificates/verify",
                       params={"code": old["verification_code"]})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["status"] == "replaced" and body["replaced_by"][0]["serial"] == "CA 700001"
    assert home["national_id"] not in shown.text and "national_id" not in shown.text
    assert body["parcels"][0]["parcel_number"] == props["parcel_number"]
    new = client.get(f"{API}/certificates/{outcome['certificate_id']}",
                     headers=headers("land_officer")).json()
    assert new["replaces"][0]["certificate_id"] == home["certificate_id"]
    assert [h["party_id"] for h in new["versions"][0]["holders"]] == [buyer]
    valid = client.get(f"{API}/public/certificates/verify",
                       params={"code": new["verification_code"]}).json()
    assert valid["status"] == "valid" and valid["holders"] == [
        {"kind": "individual", "name": "V. M. K."}]


def test_a_co_owner_sells_his_half_and_the_certificate_is_endorsed(client, headers, homes):
    home = homes["homes"][1]
    parcel, (a, b, c) = home["parcel_id"], homes["buyers"][:3]
    shared = client.post(f"{API}/changes/transfer", headers=_officer(client, headers, parcel),
                         json={"parcel_id": parcel, "kind": "gift",
                               "holders": [{"party_id": a, "share": "1/2"},
                                           {"party_id": b, "share": "1/2"}],
                               "certificate": {"serial": "CA 700002"}, "source": CONTRACT})
    assert shared.status_code == 201, shared.text
    half = client.post(f"{API}/changes/transfer", headers=_officer(client, headers, parcel),
                       json={"parcel_id": parcel, "from_party_id": a,
                             "rights": [{"kind": "land_use", "holders": [{"party_id": c}]},
                                        {"kind": "house_ownership",
                                         "holders": [{"party_id": c}]}],
                             "source": CONTRACT})
    assert half.status_code == 201, half.text
    assert half.json()["certificate"]["action"] == "endorsed"
    rights = client.get(f"{API}/parcels/{parcel}",
                        headers=headers("land_officer")).json()["properties"]["rights"]
    assert sorted((r["right"], r["party_id"], r["share"]) for r in rights) == sorted(
        (k, p, "1/2") for k in ("land_use", "house_ownership") for p in (b, c))
    cert = shared.json()["certificate"]["certificate_id"]
    history = client.get(f"{API}/certificates/{cert}", headers=headers("land_officer")).json()
    assert len(history["versions"]) == 2 and history["serial"] == "CA 700002"
    assert "phần 1/2" in history["versions"][1]["endorsement"]


def test_inheritance_to_three_heirs_in_thirds(client, headers, homes):
    home, heirs = homes["homes"][2], homes["buyers"][:3]
    parcel = home["parcel_id"]
    done = client.post(f"{API}/changes/transfer", headers=_officer(client, headers, parcel),
                       json={"parcel_id": parcel, "kind": "inheritance",
                             "holders": [{"party_id": h, "share": "1/3"} for h in heirs],
                             "source": {"kind": "other",
                                        "reference": "Văn bản khai nhận di sản 7/2026"}})
    assert done.status_code == 201, done.text
    assert done.json()["certificate"]["awaiting_certificate"] is True
    rights = client.get(f"{API}/parcels/{parcel}",
                        headers=headers("land_officer")).json()["properties"]["rights"]
    assert sorted((r["right"], r["party_id"], r["share"]) for r in rights) == sorted(
        (k, h, "1/3") for k in ("land_use", "house_ownership") for h in heirs)
    state = client.get(f"{API}/certificates", params={"parcel_id": parcel},
                       headers=headers("counter_clerk")).json()
    assert state["awaiting_certificate"] is True and state["certificates"] == []
    issued = client.post(f"{API}/certificates", headers=headers("land_officer"), json={
        "parcel_ids": [parcel], "serial": "CA 700003", "source": DECISION})
    assert issued.status_code == 201, issued.text
    assert issued.json()["replaced"] == home["certificate_id"]
    assert client.get(f"{API}/certificates", params={"parcel_id": parcel},
                      headers=headers("counter_clerk")).json()["awaiting_certificate"] is False


@pytest.mark.parametrize("body,status,says", [
    ({"rights": [{"kind": "asset_ownership", "holders": [{"party_id": 1}]}]}, 422,
     "no current asset ownership right"),
    ({"holders": [{"party_id": 1}], "rights": [{"kind": "land_use",
                                                "holders": [{"party_id": 1}]}]}, 422, None),
    ({"holders": [{"party_id": 1}], "certificate": {"action": "endorse"}}, 422,
     "not endorsed as the buyer's proof"),
    ({"holders": [{"party_id": 1}], "certificate": {"serial": "C 12"}}, 422, None),
])
def test_transfers_that_cannot_be_made_are_4xx(client, headers, homes, body, status, says):
    parcel = homes["homes"][3]["parcel_id"]
    response = client.post(f"{API}/changes/transfer",
                           headers=_officer(client, headers, parcel),
                           json={"parcel_id": parcel, "source": CONTRACT, **body})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if says:
        assert says in response.json()["detail"]


def test_the_certificate_lifecycle_and_who_may_see_and_change_it(client, headers, homes):
    home = homes["homes"][4]
    cid = home["certificate_id"]
    body = {"serial": "CA 700010", "source": DECISION}
    assert client.post(f"{API}/certificates/{cid}/exchange", json=body).status_code == 401
    assert client.post(f"{API}/certificates/{cid}/exchange", json=body,
                       headers=headers("counter_clerk")).status_code == 403
    endorsed = client.post(f"{API}/certificates/{cid}/endorse", headers=headers("admin"),
                           json={"endorsement": "Chỉnh lý địa chỉ thửa đất",
                                 "source": DECISION})
    assert endorsed.status_code == 201, endorsed.text
    exchanged = client.post(f"{API}/certificates/{cid}/exchange", json=body,
                            headers=headers("land_officer"))
    assert exchanged.status_code == 201, exchanged.text
    new = exchanged.json()["certificate_id"]
    again = client.post(f"{API}/certificates/{cid}/exchange", headers=headers("land_officer"),
                        json={**body, "serial": "CA 700011"})
    assert again.status_code == 409 and again.json()["code"] == "certificate-ended"
    reused = client.post(f"{API}/certificates/{new}/reissue", json=body,
                         headers=headers("land_officer"))
    assert reused.status_code == 409 and reused.json()["code"] == "conflict-unique"
    lost = client.post(f"{API}/certificates/{new}/reissue", headers=headers("land_officer"),
                       json={**body, "serial": "CA 700012"})
    assert lost.status_code == 201, lost.text
    third = lost.json()["certificate_id"]
    assert client.post(f"{API}/certificates/{third}/revoke", headers=headers("land_officer"),
                       json={"source": DECISION}).status_code == 201
    officer_view = client.get(f"{API}/certificates/{third}",
                              headers=headers("land_officer")).json()
    assert officer_view["status"] == "revoked"
    assert officer_view["versions"][0]["holders"][0]["name"]
    analyst_view = client.get(f"{API}/certificates/{third}", headers=headers("gis_analyst"))
    assert analyst_view.status_code == 200
    holder = analyst_view.json()["versions"][0]["holders"][0]
    assert "name" not in holder and holder["personal_data"] == "withheld"
    assert analyst_view.json()["verification_code"] is None
    assert client.get(f"{API}/certificates/{third}").status_code == 401
    assert client.get(f"{API}/certificates/999999999",
                      headers=headers("land_officer")).status_code == 404
    revoked = client.get(f"{API}/public/certificates/verify",
                         params={"code": officer_view["verification_code"]}).json()
    assert revoked["status"] == "revoked"
    first = client.get(f"{API}/public/certificates/verify", params={
        "code": client.get(f"{API}/certificates/{cid}",
                           headers=headers("land_officer")).json()["verification_code"]})
    assert first.json()["status"] == "replaced" and first.json()["last_endorsed_on"]


def test_a_forged_or_malformed_code_is_404_and_lookups_are_rate_limited(client, homes):
    cid = homes["homes"][5]["certificate_id"]
    for code in (f"{cid}-{'a' * 24}", "not-a-code", f"{cid}"):
        response = client.get(f"{API}/public/certificates/verify", params={"code": code})
        assert response.status_code == 404, code
        assert response.json()["code"] == "certificate-not-found"
    assert client.get(f"{API}/public/certificates/verify",
                      params={"code": "x" * 65}).status_code == 422
    statuses = [client.get(f"{API}/public/certificates/verify",
                           params={"code": "1-" + "0" * 24}).status_code for _ in range(30)]
    assert 429 in statuses


def test_one_of_two_mortgages_with_one_reference_is_released(client, headers, homes,
                                                             api_engine):
    parcel = homes["homes"][5]["parcel_id"]
    banks = homes["banks"]
    contract = {"kind": "contract", "reference": "55/2026/HĐTC"}
    for bank in banks:
        made = client.post(f"{API}/changes/mortgage", headers=_officer(client, headers, parcel),
                           json={"parcel_id": parcel, "lender_party_id": bank,
                                 "amount": 10**9, "source": contract})
        assert made.status_code == 201, made.text
    twice = client.post(f"{API}/changes/mortgage", headers=_officer(client, headers, parcel),
                        json={"parcel_id": parcel, "lender_party_id": banks[0],
                              "source": contract})
    assert twice.status_code == 409 and twice.json()["code"] == "conflict-unique"
    release = {"parcel_id": parcel, "reference": "55/2026/HĐTC",
               "source": {"kind": "application", "reference": "Đơn xóa thế chấp 9"}}
    ambiguous = client.post(f"{API}/changes/mortgage-release", json=release,
                            headers=_officer(client, headers, parcel))
    assert ambiguous.status_code == 409 and ambiguous.json()["code"] == "ambiguous-restriction"
    done = client.post(f"{API}/changes/mortgage-release",
                       json={**release, "lender_party_id": banks[1]},
                       headers=_officer(client, headers, parcel))
    assert done.status_code == 201, done.text
    assert done.json()["versions_ended"] == 1
    with api_engine.connect() as conn:
        left = conn.execute(sa.text(
            "SELECT party_id FROM current_restriction WHERE parcel_id = :p "
            "AND kind = 'mortgage'"), {"p": parcel}).scalars().all()
    assert left == [banks[0]]
    nothing = client.post(f"{API}/changes/mortgage-release",
                          json={"parcel_id": parcel, "source": release["source"]},
                          headers=_officer(client, headers, parcel))
    assert nothing.status_code == 422 and "reference or its restriction_id" in \
        nothing.json()["detail"]


def test_a_deferred_levy_is_recorded_and_ended(client, headers, homes, api_engine):
    parcel = homes["homes"][3]["parcel_id"]
    recorded = client.post(f"{API}/changes/responsibility",
                           headers=_officer(client, headers, parcel), json={
        "parcel_id": parcel, "kind": "deferred_land_levy",
        "description": "Ghi nợ tiền sử dụng đất theo Thông báo 31/TB-CT",
        "party_id": homes["homes"][3]["seller"], "source": DECISION})
    assert recorded.status_code == 201, recorded.text
    with api_engine.connect() as conn:
        rid = conn.execute(sa.text(
            "SELECT responsibility_id FROM responsibility WHERE begun_by = :c"),
            {"c": recorded.json()["change_id"]}).scalar_one()
    assert client.post(f"{API}/changes/responsibility-end", json={
        "parcel_id": parcel, "responsibility_id": rid, "source": DECISION},
        headers=headers("land_officer")).status_code == 428
    wrong = client.post(f"{API}/changes/responsibility-end",
                        headers=_officer(client, headers, parcel), json={
        "parcel_id": parcel, "responsibility_id": rid + 1000, "source": DECISION})
    assert wrong.status_code == 422
    ended = client.post(f"{API}/changes/responsibility-end",
                        headers=_officer(client, headers, parcel), json={
        "parcel_id": parcel, "responsibility_id": rid,
        "source": {"kind": "other", "reference": "Biên lai 12/2026"}})
    assert ended.status_code == 201, ended.text
    assert client.post(f"{API}/changes/responsibility", headers=_officer(
        client, headers, parcel), json={"parcel_id": parcel, "kind": "tax",
                                        "description": "x", "source": DECISION}
    ).status_code == 422


def test_a_split_of_a_mortgaged_parcel_carries_the_mortgage_and_leaves_the_parent_bare(
        client, headers, api_engine):
    with api_engine.begin() as conn:
        parcel, line = conn.execute(sa.text(
            "SELECT p.parcel_id, ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(geom) - 1), "
            "ST_MakePoint(ST_X(c), ST_YMax(geom) + 1))) FROM (SELECT p.parcel_id, p.geom, "
            "ST_Centroid(p.geom) AS c FROM current_parcel p JOIN current_land_right r USING "
            "(parcel_id) JOIN current_certificate g ON g.certificate_id = r.certificate_id "
            "WHERE NOT EXISTS (SELECT 1 FROM restriction x WHERE x.parcel_id = p.parcel_id) "
            "ORDER BY p.parcel_id DESC OFFSET 60 LIMIT 1) p")).one()
        bank = _party(conn, "Ngân hàng Z", "organisation")
    mortgaged = client.post(f"{API}/changes/mortgage", headers=_officer(client, headers, parcel),
                            json={"parcel_id": parcel, "lender_party_id": bank,
                                  "source": {"kind": "contract", "reference": "66/HĐTC"}})
    assert mortgaged.status_code == 201, mortgaged.text
    split = client.post(f"{API}/changes/split", headers=_officer(client, headers, parcel),
                        json={"parcel_id": parcel, "cut_line": line, "source": DECISION})
    assert split.status_code == 201, split.text
    children = split.json()["children"]
    with api_engine.connect() as conn:
        left = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM current_land_right WHERE parcel_id = :p) + "
            "(SELECT count(*) FROM current_restriction WHERE parcel_id = :p) + "
            "(SELECT count(*) FROM current_certificate c JOIN certificate_parcel cp ON "
            "cp.certificate_version_id = c.version_id WHERE cp.parcel_id = :p)"),
            {"p": parcel}).scalar_one()
        carried = conn.execute(sa.text(
            "SELECT parcel_id FROM current_restriction WHERE kind = 'mortgage' "
            "AND parcel_id = ANY(:c) ORDER BY parcel_id"), {"c": children}).scalars().all()
    assert left == 0 and carried == sorted(children)


@pytest.fixture(scope="module")
def as_api(api_settings):
    from cadastre.db import api_database_url, create_engine

    engine = create_engine(api_settings, url=api_database_url(api_settings))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("statement", [
    "SELECT secret FROM certificate_seal_key",
    "SELECT certificate_mac(1, 'CS 000001')",
    "SELECT certificate_code(1)",  # no proven role: the public may not read codes
    "INSERT INTO certificate_holder SELECT version_id, 1 FROM certificate LIMIT 1",
    "SELECT mortgage_reference_in_use(1, 'x')",  # financial facts: writers of the register
    "SELECT * FROM restriction_end_one(1, 'mortgage', NULL, 'x', NULL, 1, now())",
])
def test_the_api_login_cannot_read_the_code_key_nor_make_codes_or_holders(as_api, statement):
    with pytest.raises(sa.exc.DBAPIError) as caught, as_api.begin() as conn:
        conn.execute(sa.text(statement))
    assert caught.value.orig.pgcode == "42501", statement


def test_a_proven_officer_reads_codes_and_the_key_never_enters_the_log(as_api, headers,
                                                                       api_engine):
    token = headers("land_officer")["Authorization"].removeprefix("Bearer ")
    with as_api.connect() as conn, conn.begin():
        cid = conn.execute(sa.text("SELECT min(certificate_id) FROM certificate")).scalar_one()
        conn.execute(sa.text("SELECT auth_act(:t, 'test', NULL)"), {"t": token})
        code = conn.execute(sa.text("SELECT certificate_code(:c)"), {"c": cid}).scalar_one()
        assert conn.execute(sa.text("SELECT certificate_by_code(:c)"),
                            {"c": code}).scalar_one() == cid
    with api_engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'certificate_seal_key'"
        )).scalar_one() == 0
        assert conn.execute(sa.text(
            "SELECT has_table_privilege('cadastre_definer', 'certificate_seal_key', 'SELECT')"
        )).scalar_one() is False
