"""The party register over HTTP, as a registration office uses it: register a buyer who is
not in the register yet, find people by ID number, by name without accents and by
certificate, edit them with If-Match, keep households' members, refuse a second record of
one person (409 naming the first) and merge two records of one person into one."""

from __future__ import annotations

import random
import threading

import pytest
import sqlalchemy as sa
from stdnum.vn import mst

from cadastre.changes.record import SourceDocument
from cadastre.parties import service
from cadastre.parties.merge import merge_parties

API = "/api/v1/parties"
SOURCE = {"kind": "other", "reference": "Xác nhận thông tin về cư trú số 77/2026"}


def cccd(api_engine, birth_year: int, gender: str, province: str = "001") -> str:
    """A CCCD number nobody in the test register has, for someone born in ``birth_year``."""
    digit = 2 * ((birth_year - 1900) // 100) + (gender == "female")
    rng = random.Random()
    with api_engine.connect() as conn:
        while True:
            number = f"{province}{digit}{birth_year % 100:02d}{rng.randrange(10**6):06d}"
            if conn.execute(sa.text("SELECT 1 FROM party_personal WHERE national_id = :n"),
                            {"n": number}).scalar() is None:
                return number


def person_body(number: str, *, name: str = "Nguyễn Văn An", birth_year: int = 1990,
                gender: str = "male", **more):
    return {"kind": "individual", "name": name,
            "identity": {"id_kind": "cccd", "id_number": number, "birth_year": birth_year,
                         "gender": gender},
            "address": "Số 5 Hàng Bạc, Hoàn Kiếm, Hà Nội", **more}


def test_a_clerk_registers_a_buyer_and_sees_the_id_masked(client, headers, api_engine):
    number = cccd(api_engine, 1990, "male")
    made = client.post(API, json=person_body(number, phone="0912000111"),
                       headers=headers("counter_clerk"))
    assert made.status_code == 201, made.text
    party_id = made.json()["party_id"]
    assert made.headers["location"] == f"{API}/{party_id}"
    assert made.headers["etag"] == f'"party-{party_id}-1"'
    shown = made.json()
    assert shown["name"] == "Nguyễn Văn An" and shown["kind"] == "individual"
    assert shown["id_number"] == "•" * 9 + number[-3:]
    assert "address" not in shown and "birth_year" not in shown and "phone" not in shown
    full = client.get(f"{API}/{party_id}", headers=headers("land_officer")).json()
    assert full["id_number"] == number and full["birth_year"] == 1990
    assert full["gender"] == "male" and full["address"].startswith("Số 5")
    assert full["created_by"] == "t-counter-clerk" and full["edited_by"] is None
    assert client.get(f"{API}/{party_id}", headers=headers("gis_analyst")).status_code == 403
    assert client.get(f"{API}/{party_id}").status_code == 401
    with api_engine.connect() as conn:  # both reads are in the audit trail, by their readers
        readers = set(conn.execute(sa.text(
            "SELECT actor FROM audit_log WHERE action = 'read_personal' AND party_id = :p"),
            {"p": party_id}).scalars())
        created = conn.execute(sa.text(
            "SELECT actor FROM audit_log WHERE action = 'insert' AND table_name = "
            "'party_personal' AND party_id = :p"), {"p": party_id}).scalar_one()
    assert readers == {"t-counter-clerk", "t-land-officer"} and created == "t-counter-clerk"


@pytest.mark.parametrize("role,status", [("supervisor", 403), ("gis_analyst", 403),
                                         ("anonymous", 401), ("land_officer", 201),
                                         ("admin", 201)])
def test_who_registers_parties(client, headers, role, status):
    body = {"kind": "organisation", "name": f"Công ty TNHH Thử Quyền {role}"}
    assert client.post(API, json=body, headers=headers(role)).status_code == status


def test_a_second_record_of_one_person_is_refused_naming_the_first(client, headers,
                                                                   api_engine):
    number = cccd(api_engine, 1985, "female")
    first = client.post(API, json=person_body(number, name="Trần Thị Bích", birth_year=1985,
                                              gender="female"),
                        headers=headers("land_officer"))
    assert first.status_code == 201
    again = client.post(API, json=person_body(number, name="Tran Thi Bich", birth_year=1985,
                                              gender="female"),
                        headers=headers("counter_clerk"))
    assert again.status_code == 409
    problem = again.json()
    assert problem["code"] == "party-exists"
    assert problem["existing_party_id"] == first.json()["party_id"]
    assert number not in again.text
    body = f"01{random.randrange(10**7):07d}"
    while len(mst.calc_check_digit(body)) != 1:  # a remainder of 10: no code has that body
        body = f"01{random.randrange(10**7):07d}"
    code = body + mst.calc_check_digit(body)  # a tax code whose tenth digit checks
    assert client.post(API, json={"kind": "organisation", "name": "Công ty A",
                                  "organisation_code": code},
                       headers=headers("admin")).status_code == 201
    taken = client.post(API, json={"kind": "organisation", "name": "Công ty A (trùng)",
                                   "organisation_code": code}, headers=headers("admin"))
    assert taken.status_code == 409 and taken.json()["code"] == "party-exists"


def test_two_clerks_entering_one_person_at_once_make_one_record(api_engine):
    """The unique index decides: the second insert waits for the first, then is refused
    naming the record the first made."""
    number = cccd(api_engine, 1972, "male")
    party = service.NewParty(kind="individual", name="Lê Văn Cường", identity=service.Identity(
        id_kind="cccd", id_number=number, birth_year=1972, gender="male"))
    first = api_engine.connect()
    transaction = first.begin()
    made = service.create(first, party=party)
    outcome: list[object] = []

    def second() -> None:
        try:
            with api_engine.connect() as conn, conn.begin():
                outcome.append(service.create(conn, party=party))
        except service.PartyExists as exc:  # and its transaction rolled back
            outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)
    assert thread.is_alive()  # waiting on the first transaction's row
    transaction.commit()
    first.close()
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], service.PartyExists)
    assert outcome[0].context["problem"] == {"existing_party_id": made}


@pytest.mark.parametrize("identity,digit", [
    ({"birth_year": 1991}, "digits 5-6"),
    ({"birth_year": 1890}, "digit 4"),
    ({"birth_year": 2090 - 100 + 15}, "digit 4"),
    ({"gender": "female"}, "digit 4"),
    ({"id_number": "999090123456"}, "digits 1-3"),
    ({"id_number": "00109012345"}, "12 digits"),
    ({"id_number": "0010901234567"}, "12 digits"),
    ({"id_number": "00109O123456"}, "12 digits"),
])
def test_a_cccd_that_disagrees_is_refused_naming_the_digit(client, headers, api_engine,
                                                           identity, digit):
    body = person_body("001090123456")
    body["identity"] |= identity
    refused = client.post(API, json=body, headers=headers("counter_clerk"))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert digit in refused.json()["detail"]


@pytest.mark.parametrize("body", [
    {"kind": "individual", "name": ""},
    {"kind": "individual", "name": "   "},
    {"kind": "individual", "name": "x" * 301},
    {"kind": "individual", "name": "A\u0007B"},
    {"kind": "martian", "name": "Zorg"},
    {"kind": "individual", "name": "An", "identity": {"birth_year": 1e300}},
    {"kind": "individual", "name": "An", "identity": {"birth_year": 1700}},
    {"kind": "individual", "name": "An", "identity": {"birth_year": 2999}},
    {"kind": "individual", "name": "An", "identity": {"birth_date": "2999-01-01"}},
    {"kind": "individual", "name": "An", "identity": {"birth_date": "1990-01-01",
                                                      "birth_year": 1991}},
    {"kind": "individual", "name": "An", "identity": {"id_kind": "cccd"}},
    {"kind": "individual", "name": "An", "identity": {"id_kind": "cmnd",
                                                      "id_number": "12345678"}},
    {"kind": "individual", "name": "An", "identity": {"id_kind": "passport",
                                                      "id_number": "C1234567"}},
    {"kind": "individual", "name": "An", "identity": {"nationality": "KR"}},
    {"kind": "foreigner", "name": "KIM MIN-JUN"},
    {"kind": "foreigner", "name": "KIM", "identity": {"id_kind": "passport",
                                                       "id_number": "M1234567"}},
    {"kind": "foreigner", "name": "KIM", "identity": {"id_kind": "passport",
                                                       "id_number": "M1234567",
                                                       "nationality": "XX"}},
    {"kind": "foreigner", "name": "KIM", "identity": {"id_kind": "passport",
                                                       "id_number": "M1234567",
                                                       "nationality": "VN"}},
    {"kind": "organisation", "name": "Công ty", "organisation_code": "12345"},
    {"kind": "organisation", "name": "Công ty", "organisation_code": "0101234567-1"},
    {"kind": "organisation", "name": "Công ty", "organisation_code": "0100109107"},
    {"kind": "organisation", "name": "Công ty", "identity": {"gender": "male"}},
    {"kind": "household", "name": "Hộ ông Lê Văn Tám",
     "identity": {"id_kind": "cccd", "id_number": "001090123456"}},
    {"kind": "household", "name": "Hộ ông Lê Văn Tám", "members": [{"party_id": 1}]},
    {"kind": "individual", "name": "An", "organisation_code": "0101234567"},
    {"kind": "individual", "name": "An", "extra": 1},
])
def test_absurd_parties_are_422_problems(client, headers, body):
    refused = client.post(API, json=body, headers=headers("land_officer"))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_nul_in_a_name_is_refused(client, headers):
    refused = client.post(API, content='{"kind": "individual", "name": "A\\u0000B"}',
                          headers={**headers("land_officer"),
                                   "Content-Type": "application/json"})
    assert refused.status_code in (400, 422)


def test_foreigners_and_overseas_vietnamese_with_passports(client, headers):
    number = f"M{random.randrange(10**8):08d}"
    made = client.post(API, json={"kind": "foreigner", "name": "KIM MIN-JUN", "identity": {
        "id_kind": "passport", "id_number": number.lower(), "nationality": "kr"}},
        headers=headers("land_officer"))
    assert made.status_code == 201, made.text
    assert made.json()["nationality"] == "KOR" and made.json()["id_number"] == number
    # the same number of another country's passport is another document
    other = client.post(API, json={"kind": "overseas_vietnamese", "name": "PHAM ANH TUAN",
                                   "identity": {"id_kind": "passport", "id_number": number,
                                                "nationality": "USA"}},
                        headers=headers("land_officer"))
    assert other.status_code == 201, other.text
    again = client.post(API, json={"kind": "foreigner", "name": "KIM M.", "identity": {
        "id_kind": "passport", "id_number": number, "nationality": "KOR"}},
        headers=headers("land_officer"))
    assert again.status_code == 409
    assert again.json()["existing_party_id"] == made.json()["party_id"]


def test_find_by_name_without_accents_by_id_number_and_by_certificate(client, headers,
                                                                     api_engine, person):
    names = ["Đặng Thị Ngọc Điệp", "ĐẶNG THỊ NGỌC  ĐIỆP", "Đặng Thị Ngọc Điệp"]
    ids = [client.post(API, json={"kind": "individual", "name": n},
                       headers=headers("land_officer")).json()["party_id"] for n in names]
    page = client.get(API, params={"name": "dang thi ngoc diep", "limit": 2},
                      headers=headers("counter_clerk"))
    assert page.status_code == 200, page.text
    first = page.json()
    assert len(first["parties"]) == 2 and first["next_offset"] == 2
    rest = client.get(API, params={"name": "DANG THI NGOC DIEP", "limit": 2, "offset": 2},
                      headers=headers("counter_clerk")).json()
    found = [p["party_id"] for p in first["parties"] + rest["parties"]]
    assert set(ids) <= set(found) and len(found) == len(set(found))
    by_number = client.get(API, params={"id_number": person["national_id"]},
                           headers=headers("counter_clerk")).json()["parties"]
    assert [p["name"] for p in by_number] == [person["name"]]
    assert by_number[0]["id_number"].endswith(person["national_id"][-3:])
    assert person["national_id"] not in str(by_number)
    holders = client.get(API, params={"certificate": person["serial"].replace(" ", "").lower()},
                         headers=headers("supervisor")).json()["parties"]
    assert person["name"] in [h["name"] for h in holders]
    assert client.get(API, params={"name": "dang"},
                      headers=headers("gis_analyst")).status_code == 403
    assert client.get(API, params={"name": "dang", "certificate": "CS 123456"},
                      headers=headers("land_officer")).status_code == 422
    assert client.get(API, headers=headers("land_officer")).status_code == 422
    with api_engine.connect() as conn:  # the search's reads are audited, its text masked
        logged = conn.execute(sa.text(
            "SELECT count(*) FROM audit_log WHERE action = 'read_personal' "
            "AND reason = 'party search' AND party_id = ANY(:p)"), {"p": ids}).scalar_one()
    assert logged >= len(ids)


def test_edits_need_the_etag_and_check_the_identity_as_a_whole(client, headers, api_engine):
    number = cccd(api_engine, 2001, "female", "079")
    made = client.post(API, json=person_body(number, name="Hồ Ngọc Hà", birth_year=2001,
                                             gender="female"), headers=headers("counter_clerk"))
    party_id, etag = made.json()["party_id"], made.headers["etag"]
    url = f"{API}/{party_id}"
    clerk = headers("counter_clerk")
    assert client.patch(url, json={"address": "Số 9"}, headers=clerk).status_code == 428
    assert client.patch(url, json={"address": "Số 9"},
                        headers={**clerk, "If-Match": '"party-1-1"'}).status_code == 412
    edited = client.patch(url, json={"address": "Số 9 Lê Lợi", "phone": None},
                          headers={**clerk, "If-Match": etag})
    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] == f'"party-{party_id}-2"'
    stale = client.patch(url, json={"name": "Hồ Ngọc Hà (sửa)"},
                         headers={**clerk, "If-Match": etag})
    assert stale.status_code == 412 and stale.json()["code"] == "stale-party"
    wrong = client.patch(url, json={"identity": {"id_kind": "cccd", "id_number": number,
                                                 "birth_year": 2002, "gender": "female"}},
                         headers={**clerk, "If-Match": edited.headers["etag"]})
    assert wrong.status_code == 422 and "digits 5-6" in wrong.json()["detail"]
    fixed = client.patch(url, json={"identity": {"id_kind": "cccd", "id_number": number,
                                                 "birth_date": "2001-03-08",
                                                 "gender": "female"}},
                         headers={**clerk, "If-Match": edited.headers["etag"]})
    assert fixed.status_code == 200, fixed.text
    full = client.get(url, headers=headers("admin")).json()
    assert full["address"] == "Số 9 Lê Lợi" and full["birth_date"] == "2001-03-08"
    assert full["birth_year"] == 2001 and full["edited_by"] == "t-counter-clerk"
    assert client.patch(url, json={"name": None},
                        headers={**clerk, "If-Match": fixed.headers["etag"]}
                        ).status_code == 422
    assert client.patch(url, json={"kind": "foreigner"},
                        headers={**clerk, "If-Match": fixed.headers["etag"]}
                        ).status_code == 422


def test_a_household_with_its_members(client, headers, api_engine):
    clerk = headers("counter_clerk")
    head = client.post(API, json=person_body(cccd(api_engine, 1960, "male"),
                                             name="Lê Văn Tám", birth_year=1960),
                       headers=clerk).json()["party_id"]
    spouse = client.post(API, json=person_body(cccd(api_engine, 1962, "female"),
                                               name="Phạm Thị Lan", birth_year=1962,
                                               gender="female"),
                         headers=clerk).json()["party_id"]
    made = client.post(API, json={"kind": "household", "name": "Hộ ông Lê Văn Tám",
                                  "members": [{"party_id": head, "role": "head"}],
                                  "source": SOURCE}, headers=clerk)
    assert made.status_code == 201, made.text
    household, etag = made.json()["party_id"], made.headers["etag"]
    assert [(m["party_id"], m["role"]) for m in made.json()["members"]] == [(head, "head")]
    members = f"{API}/{household}/members"
    assert client.post(members, json={"party_id": spouse, "role": "spouse",
                                      "source": SOURCE}, headers=clerk).status_code == 428
    second_head = client.post(members, json={"party_id": spouse, "role": "head",
                                             "source": SOURCE},
                              headers={**clerk, "If-Match": etag})
    assert second_head.status_code == 409 and second_head.json()["code"] == "member-exists"
    added = client.post(members, json={"party_id": spouse, "role": "spouse",
                                       "source": SOURCE}, headers={**clerk, "If-Match": etag})
    assert added.status_code == 201, added.text
    ended = client.post(f"{members}/{head}/end", json={"source": SOURCE},
                        headers={**clerk, "If-Match": added.headers["etag"]})
    assert ended.status_code == 201, ended.text
    view = client.get(f"{API}/{household}", headers=headers("supervisor")).json()
    states = {(m["party_id"], m["role"], m["until"] is None) for m in view["members"]}
    assert states == {(head, "head", False), (spouse, "spouse", True)}
    assert client.get(f"{API}/{spouse}", headers=clerk).json()["member_of"][0][
        "party_id"] == household
    # the clerk recorded the members' changes, and may record no other
    with api_engine.connect() as conn:
        kinds = conn.execute(sa.text(
            "SELECT kind FROM change_transaction WHERE id IN (SELECT begun_by FROM "
            "party_member WHERE group_party_id = :h UNION SELECT ended_by FROM party_member "
            "WHERE group_party_id = :h)"), {"h": household}).scalars().all()
    assert sorted(kinds) == ["party_member", "party_member", "party_member_end"]


@pytest.fixture(scope="module")
def sold_parcel(api_engine):
    """A parcel with a current certificate, whose land and house one individual holds."""
    with api_engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT r.parcel_id, r.party_id, r.certificate_id FROM current_land_right r
            JOIN party h ON h.id = r.party_id JOIN current_certificate c USING (certificate_id)
            WHERE r.kind = 'land_use' AND h.kind = 'individual'
              AND (SELECT array_agg(o.kind ORDER BY o.kind) FROM current_land_right o
                   WHERE o.parcel_id = r.parcel_id AND o.party_id = r.party_id)
                  = ARRAY['house_ownership', 'land_use']
              AND (SELECT count(*) FROM current_land_right o WHERE o.parcel_id = r.parcel_id)
                  = 2
              AND NOT EXISTS (SELECT 1 FROM restriction x WHERE x.parcel_id = r.parcel_id)
            ORDER BY r.parcel_id OFFSET 40 LIMIT 1""")).one()


def test_a_transfer_to_a_new_buyer_registered_through_the_api(client, headers, api_engine,
                                                              sold_parcel):
    """Item 1 of issue 16: the buyer is not in the register; the clerk registers them and
    the officer transfers the parcel to them (the house to a second record of the same
    buyer, entered without the ID number); the second record is then merged into the first,
    and the rights and the certificate follow."""
    parcel = sold_parcel.parcel_id
    officer = headers("land_officer")
    number = cccd(api_engine, 1995, "male", "031")
    buyer = client.post(API, json=person_body(number, name="Vũ Đức Thắng", birth_year=1995),
                        headers=headers("counter_clerk"))
    assert buyer.status_code == 201, buyer.text
    buyer_id = buyer.json()["party_id"]
    duplicate = client.post(API, json={"kind": "individual", "name": "Vu Duc Thang",
                                       "identity": {"birth_year": 1995}},
                            headers=headers("counter_clerk")).json()["party_id"]
    etag = client.get(f"/api/v1/parcels/{parcel}", headers=officer).headers["etag"]
    sold = client.post("/api/v1/changes/transfer", headers={**officer, "If-Match": etag}, json={
        "parcel_id": parcel, "rights": [
            {"kind": "land_use", "holders": [{"party_id": buyer_id, "share": "1/1"}]},
            {"kind": "house_ownership", "holders": [{"party_id": duplicate}]}],
        "certificate": {"action": "new", "serial": f"CS {random.randrange(10**6):06d}"},
        "source": {"kind": "contract", "reference": "101/2026/HĐCN"}})
    assert sold.status_code == 201, sold.text
    new_certificate = sold.json()["certificate"]["certificate_id"]
    holdings = client.get(f"{API}/{buyer_id}", headers=officer).json()
    assert [(r["parcel_id"], r["kind"]) for r in holdings["rights"]] == [(parcel, "land_use")]
    assert [c["certificate_id"] for c in holdings["certificates"]] == [new_certificate]

    tags = [client.get(f"{API}/{p}", headers=officer).headers["etag"]
            for p in (duplicate, buyer_id)]
    url = f"{API}/{duplicate}/merge"
    body = {"into": buyer_id, "source": {"kind": "decision", "reference": "Đính chính 5"}}
    assert client.post(url, json=body, headers=headers("counter_clerk")).status_code == 403
    assert client.post(url, json=body, headers={**officer, "If-Match": tags[0]}
                       ).status_code == 428
    backwards = client.post(f"{API}/{buyer_id}/merge", json={**body, "into": duplicate},
                            headers={**officer, "If-Match": ", ".join(tags)})
    assert backwards.status_code == 409 and backwards.json()["code"] == "party-merge-refused"
    assert f"merge party #{duplicate} into #{buyer_id}" in backwards.json()["detail"]
    parcel_etag = client.get(f"/api/v1/parcels/{parcel}", headers=officer).headers["etag"]
    merged = client.post(url, json=body, headers={**officer, "If-Match": ", ".join(tags)})
    assert merged.status_code == 201, merged.text
    assert merged.json()["merged_into"] == buyer_id
    assert merged.json()["moved"]["rights"] == 1 and merged.json()["moved"]["certificates"] == 1
    survivor = client.get(f"{API}/{buyer_id}", headers=officer).json()
    assert sorted(r["kind"] for r in survivor["rights"]) == ["house_ownership", "land_use"]
    gone = client.get(f"{API}/{duplicate}", headers=officer).json()
    assert gone["merged_into"] == buyer_id and gone["rights"] == []
    # the parcel changed: a change made against its state before the merge is stale
    assert client.get(f"/api/v1/parcels/{parcel}", headers=officer).headers["etag"] \
        != parcel_etag
    with api_engine.connect() as conn:
        holders = conn.execute(sa.text(
            "SELECT h.party_id FROM certificate_holder h JOIN current_certificate c "
            "ON c.version_id = h.certificate_version_id WHERE c.certificate_id = :c"),
            {"c": new_certificate}).scalars().all()
        history = conn.execute(sa.text(
            "SELECT count(*) FROM land_right WHERE party_id = :d AND NOT upper_inf(lifespan)"),
            {"d": duplicate}).scalar_one()
        change = conn.execute(sa.text(
            "SELECT kind, recorded_by FROM change_transaction WHERE id = :c"),
            {"c": merged.json()["change_id"]}).one()
        audited = conn.execute(sa.text(
            "SELECT DISTINCT actor FROM audit_log WHERE action = 'update' "
            "AND table_name = 'party' AND party_id = :d"), {"d": duplicate}).scalars().all()
    assert holders == [buyer_id] and history == 1
    assert change.kind == "party_merge" and audited == ["t-land-officer"]
    # a merged party takes no new rights, edits or merges
    again = client.post(url, json=body, headers={**officer, "If-Match": ", ".join(
        client.get(f"{API}/{p}", headers=officer).headers["etag"]
        for p in (duplicate, buyer_id))})
    assert again.status_code == 409 and again.json()["code"] == "party-merged"
    # the buyer's CCCD entered again names the survivor
    repeat = client.post(API, json=person_body(number, name="Vũ Đức Thắng", birth_year=1995),
                         headers=headers("counter_clerk"))
    assert repeat.status_code == 409 and repeat.json()["existing_party_id"] == buyer_id


def test_parties_of_different_kinds_or_documents_are_not_merged(client, headers, api_engine):
    officer = headers("land_officer")
    made = client.post(API, json=person_body(cccd(api_engine, 1980, "male"),
                                             birth_year=1980), headers=officer)
    assert made.status_code == 201, made.text
    a = made.json()["party_id"]
    b = client.post(API, json=person_body(cccd(api_engine, 1980, "male"), birth_year=1980),
                    headers=officer).json()["party_id"]
    org = client.post(API, json={"kind": "organisation", "name": "Công ty Nguyễn Văn An"},
                      headers=officer).json()["party_id"]
    source = {"kind": "decision", "reference": "Đính chính 6"}
    for duplicate, into, words in ((a, b, "different CCCD numbers"), (a, org, "kind")):
        tags = ", ".join(client.get(f"{API}/{p}", headers=officer).headers["etag"]
                         for p in (duplicate, into))
        refused = client.post(f"{API}/{duplicate}/merge", json={"into": into,
                                                                "source": source},
                              headers={**officer, "If-Match": tags})
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "party-merge-refused"
        assert words in refused.json()["detail"]


def test_a_merge_in_the_service_moves_memberships_and_keeps_history(conn):
    """A household recorded twice (two imports): the duplicate's members join the survivor
    (the one member in both stays once), and the duplicate keeps its history."""
    def party(kind: str, name: str) -> int:
        return int(conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES (:k, :n) RETURNING id"),
            {"k": kind, "n": name}).scalar_one())

    source = SourceDocument("other", "Sổ hộ khẩu 12")
    first, second = party("household", "Hộ bà Mai"), party("household", "Hộ bà Mai")
    mai, son = party("individual", "Đinh Thị Mai"), party("individual", "Đinh Văn Nam")
    from cadastre.parties.members import add_member
    add_member(conn, group_id=first, member_id=mai, role="head", share=None, source=source)
    add_member(conn, group_id=second, member_id=mai, role="head", share=None, source=source)
    add_member(conn, group_id=second, member_id=son, role="member", share=None, source=source)
    result = merge_parties(conn, duplicate_id=second, into_id=first, source=source)
    assert result.party is not None and result.party["moved"]["memberships"] == 2
    current = conn.execute(sa.text(
        "SELECT group_party_id, member_party_id FROM party_member WHERE upper_inf(lifespan) "
        "AND group_party_id IN (:a, :b) ORDER BY member_party_id"),
        {"a": first, "b": second}).all()
    assert [tuple(r) for r in current] == [(first, mai), (first, son)]
    assert conn.execute(sa.text("SELECT merged_into FROM party WHERE id = :p"),
                        {"p": second}).scalar_one() == first
    assert conn.execute(sa.text("SELECT count(*) FROM party_member WHERE group_party_id = :b"),
                        {"b": second}).scalar_one() == 2
