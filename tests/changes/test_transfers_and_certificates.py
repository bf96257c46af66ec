"""What a transfer moves (land-use right, house, other assets, in exact shares, a co-holder's
share alone) and the certificate it leaves (endorsed or replaced, never the buyer's proof);
the certificate's lifecycle; mortgages named by lender and contract; what a retired parcel
leaves behind."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sqlalchemy as sa

from cadastre.certificates import register
from cadastre.certificates import service as certificates
from cadastre.certificates.register import CertificateFacts, SerialInUse
from cadastre.changes import operations, service
from cadastre.changes.record import record_change
from cadastre.changes.service import (
    AmbiguousRestriction,
    CertificateChoice,
    DuplicateMortgage,
    RightMove,
    Share,
    SourceDocument,
)
from cadastre.changes.spatial import merge_parcels, split_parcel
from cadastre.errors import InvalidInput
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import

CONTRACT = SourceDocument("contract", "1234/2026/HĐCN", issuer="VPCC Hoàn Kiếm")
DECISION = SourceDocument("decision", "312/QĐ-UBND", issuer="UBND phường Hoàn Kiếm")


@pytest.fixture
def sheet(conn, tmp_path):
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(60, seed=8), path)
    run_import(conn, path, ImportOptions())


def _party(conn, name: str, kind: str = "individual") -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO party (kind, name) VALUES (:k, :n) RETURNING id"),
        {"k": kind, "n": name}).scalar_one())


@pytest.fixture
def people(conn):
    return [_party(conn, n) for n in ("Lê Văn Bình", "Phạm Thị Mai", "Trần Quốc Hùng",
                                      "Đỗ Thu Hà")]


@pytest.fixture
def home(conn, sheet):
    """A certified parcel with one holder, the certificate covering it alone, and the
    house on it owned by the same holder (recorded on the same certificate)."""
    parcel, holder, cert = conn.execute(sa.text(
        "SELECT r.parcel_id, r.party_id, r.certificate_id FROM current_land_right r "
        "JOIN current_certificate c ON c.certificate_id = r.certificate_id "
        "JOIN party h ON h.id = r.party_id AND h.kind = 'individual' "
        "WHERE r.kind = 'land_use' AND (SELECT count(*) FROM certificate_parcel cp "
        "WHERE cp.certificate_version_id = c.version_id) = 1 "
        "AND (SELECT count(*) FROM current_land_right o WHERE o.parcel_id = r.parcel_id) = 1 "
        "ORDER BY r.parcel_id LIMIT 1")).one()
    change = record_change(conn, "first_registration", [], note="house").change_id
    conn.execute(sa.text(
        "INSERT INTO land_right (right_id, kind, parcel_id, party_id, certificate_id, "
        "lifespan, begun_by) VALUES (nextval('land_right_id_seq'), 'house_ownership', :p, "
        ":h, :c, tstzrange(clock_timestamp(), NULL), :x)"),
        {"p": parcel, "h": holder, "c": cert, "x": change})
    return {"parcel": parcel, "seller": holder, "certificate": cert}


def rights(conn, parcel):
    return sorted((r.kind, r.party_id, f"{r.share_numerator}/{r.share_denominator}",
                   r.certificate_id) for r in conn.execute(sa.text(
        "SELECT kind, party_id, share_numerator, share_denominator, certificate_id "
        "FROM current_land_right WHERE parcel_id = :p"), {"p": parcel}).all())


def current_certificate(conn, certificate_id):
    return conn.execute(sa.text(
        "SELECT c.version_id, c.serial, c.endorsement, c.replaces_certificate, "
        "array(SELECT party_id FROM certificate_holder h WHERE h.certificate_version_id = "
        "c.version_id ORDER BY party_id) AS holders, array(SELECT parcel_id FROM "
        "certificate_parcel cp WHERE cp.certificate_version_id = c.version_id) AS parcels "
        "FROM current_certificate c WHERE c.certificate_id = :c"), {"c": certificate_id}).first()


def ended_by(conn, certificate_id):
    return conn.execute(sa.text(
        "SELECT ended_by FROM certificate WHERE certificate_id = :c ORDER BY version_id DESC "
        "LIMIT 1"), {"c": certificate_id}).scalar()


# --- what a transfer moves -----------------------------------------------------------------

def test_a_sale_of_the_whole_parcel_moves_the_house_and_replaces_the_certificate(
        conn, home, people):
    buyer = people[0]
    result = service.transfer(conn, home["parcel"], [Share(buyer)], CONTRACT,
                              certificate=CertificateChoice(serial="cs 900001",
                                                            registry_number="CS 12345"))
    new = result.certificate["certificate_id"]
    assert rights(conn, home["parcel"]) == [("house_ownership", buyer, "1/1", new),
                                            ("land_use", buyer, "1/1", new)]
    assert current_certificate(conn, home["certificate"]) is None
    assert ended_by(conn, home["certificate"]) == result.change_id
    made = current_certificate(conn, new)
    assert made.serial == "CS 900001" and made.holders == [buyer]
    assert made.replaces_certificate == home["certificate"]
    assert made.parcels == [home["parcel"]]
    assert certificates.detail(conn, home["certificate"], service_role())["status"] == \
        "replaced"


def service_role():
    from cadastre.access import Role

    return Role.LAND_OFFICER


def test_without_a_serial_the_parcel_awaits_its_new_certificate(conn, home, people):
    result = service.transfer(conn, home["parcel"], [Share(people[0])], CONTRACT)
    assert result.certificate["action"] == "ended"
    assert current_certificate(conn, home["certificate"]) is None
    assert {r[3] for r in rights(conn, home["parcel"])} == {None}
    state = certificates.of_parcel(conn, home["parcel"])
    assert state["awaiting_certificate"] is True and state["certificates"] == []
    # the new certificate, issued later, replaces the one the parcel awaited a successor for
    issued = certificates.issue(conn, [home["parcel"]], CertificateFacts("CS 900002"),
                                DECISION)
    new = issued.certificate["certificate_id"]
    assert issued.certificate["replaced"] == home["certificate"]
    assert {r[3] for r in rights(conn, home["parcel"])} == {new}
    assert certificates.of_parcel(conn, home["parcel"])["awaiting_certificate"] is False
    assert certificates.detail(conn, home["certificate"], service_role())["status"] == \
        "replaced"


def test_a_co_holder_sells_his_half_the_other_keeps_hers_and_the_certificate_is_endorsed(
        conn, home, people):
    a, b, c = people[:3]
    service.transfer(conn, home["parcel"], [Share(a, 1, 2), Share(b, 1, 2)], CONTRACT,
                     certificate=CertificateChoice(serial="CS 900003"))
    cert = certificates.of_parcel(conn, home["parcel"])["certificates"][0]["certificate_id"]
    before = current_certificate(conn, cert)
    result = service.transfer(conn, home["parcel"], [Share(c)], CONTRACT, from_party_id=a)
    assert rights(conn, home["parcel"]) == sorted([
        ("house_ownership", b, "1/2", cert), ("house_ownership", c, "1/2", cert),
        ("land_use", b, "1/2", cert), ("land_use", c, "1/2", cert)])
    after = current_certificate(conn, cert)
    assert result.certificate == {"action": "endorsed", "certificate_ids": [cert]}
    assert after.version_id != before.version_id and after.serial == before.serial
    assert after.holders == sorted([b, c])
    assert "phần 1/2" in after.endorsement and "Lê" not in after.endorsement


def test_a_co_holder_buying_the_other_half_holds_one_right_of_the_whole(conn, home, people):
    a, b = people[:2]
    service.transfer(conn, home["parcel"], [Share(a, 1, 2), Share(b, 1, 2)], CONTRACT,
                     certificate=CertificateChoice(serial="CS 900004"))
    service.transfer(conn, home["parcel"], [Share(b)], CONTRACT, from_party_id=a)
    assert [r[:3] for r in rights(conn, home["parcel"])] == [
        ("house_ownership", b, "1/1"), ("land_use", b, "1/1")]


def test_inheritance_to_three_heirs_in_equal_shares(conn, home, people):
    heirs = people[:3]
    result = service.transfer(conn, home["parcel"], [Share(h, 1, 3) for h in heirs],
                              SourceDocument("other", "Văn bản khai nhận di sản 5/2026"),
                              kind="inheritance",
                              certificate=CertificateChoice(serial="CS 900005"))
    assert [r[:3] for r in rights(conn, home["parcel"])] == sorted(
        [(k, h, "1/3") for k in ("house_ownership", "land_use") for h in heirs])
    assert current_certificate(conn, result.certificate["certificate_id"]).holders == \
        sorted(heirs)
    kind = conn.execute(sa.text("SELECT kind FROM change_transaction WHERE id = :c"),
                        {"c": result.change_id}).scalar_one()
    assert kind == "inheritance"


def test_the_house_alone_can_move_and_the_land_stays(conn, home, people):
    result = service.transfer(conn, home["parcel"], None, CONTRACT, rights=[
        RightMove("house_ownership", [Share(people[0], 1, 2), Share(people[1], 1, 2)])])
    assert [r[:3] for r in rights(conn, home["parcel"])] == sorted([
        ("house_ownership", people[0], "1/2"), ("house_ownership", people[1], "1/2"),
        ("land_use", home["seller"], "1/1")])
    assert result.certificate["action"] == "endorsed"
    assert current_certificate(conn, home["certificate"]).holders == sorted(
        [home["seller"], *people[:2]])


def test_land_and_house_can_go_to_different_holders(conn, home, people):
    service.transfer(conn, home["parcel"], None, CONTRACT, rights=[
        RightMove("land_use", [Share(people[0])]),
        RightMove("house_ownership", [Share(people[1])])],
        certificate=CertificateChoice(serial="CS 900006"))
    assert [r[:3] for r in rights(conn, home["parcel"])] == [
        ("house_ownership", people[1], "1/1"), ("land_use", people[0], "1/1")]


@pytest.mark.parametrize("move,message", [
    (RightMove("asset_ownership", [Share(1)]), "no current asset ownership right"),
    (RightMove("land_use", [Share(1)], from_party_id=-1), "holds no land use right"),
    (RightMove("lease", [Share(1)]), "not 'lease'"),
])
def test_a_right_the_parcel_or_the_seller_does_not_have_is_refused(conn, home, people, move,
                                                                   message):
    move = RightMove(move.kind, [Share(people[0])],
                     None if move.from_party_id is None else people[3])
    before = rights(conn, home["parcel"])
    with pytest.raises(InvalidInput, match=message):
        service.transfer(conn, home["parcel"], None, CONTRACT, rights=[move])
    assert rights(conn, home["parcel"]) == before


def test_the_seller_s_certificate_is_not_endorsed_as_the_buyer_s_proof(conn, home, people):
    with pytest.raises(InvalidInput, match="not endorsed as the buyer's proof"):
        service.transfer(conn, home["parcel"], [Share(people[0])], CONTRACT,
                         certificate=CertificateChoice(action="endorse"))
    with pytest.raises(InvalidInput, match="needs its serial"):
        service.transfer(conn, home["parcel"], [Share(people[0])], CONTRACT,
                         certificate=CertificateChoice(action="new"))


def test_a_serial_is_printed_once(conn, home, people):
    used = conn.execute(sa.text("SELECT serial FROM certificate WHERE certificate_id = :c"),
                        {"c": home["certificate"]}).scalar_one()
    with pytest.raises(SerialInUse, match="printed once"):
        service.transfer(conn, home["parcel"], [Share(people[0])], CONTRACT,
                         certificate=CertificateChoice(serial=used))


def test_the_catalogue_takes_rights_and_the_certificate_choice(conn, home, people):
    result = operations.apply(conn, "gift", {
        "parcel_id": home["parcel"], "from_party_id": home["seller"],
        "rights": [{"kind": "land_use", "holders": [{"party_id": people[0], "share": "1/1"}]},
                   {"kind": "house_ownership",
                    "holders": [{"party_id": people[0], "share": "1/1"}]}],
        "certificate": {"serial": "CS 900007"}}, CONTRACT)
    assert result.certificate["action"] == "replaced"
    with pytest.raises(InvalidInput, match="certificate.action"):
        operations.apply(conn, "transfer", {"parcel_id": home["parcel"], "holders": [
            {"party_id": people[1]}], "certificate": {"action": "keep"}}, CONTRACT)


# --- the certificate's lifecycle -----------------------------------------------------------

def test_exchange_reissue_and_revocation(conn, home):
    exchanged = certificates.exchange(conn, home["certificate"],
                                      CertificateFacts("CS 900010"), DECISION)
    new = exchanged.certificate["certificate_id"]
    assert {r[3] for r in rights(conn, home["parcel"])} == {new}
    assert certificates.detail(conn, home["certificate"], service_role())["status"] == \
        "replaced"
    lost = certificates.exchange(conn, new, CertificateFacts("CS 900011"), DECISION,
                                 lost=True)
    kind = conn.execute(sa.text("SELECT kind FROM change_transaction WHERE id = :c"),
                        {"c": lost.change_id}).scalar_one()
    assert kind == "certificate_reissue"
    third = lost.certificate["certificate_id"]
    certificates.revoke(conn, third, SourceDocument("decision", "99/QĐ-UBND"))
    view = certificates.detail(conn, third, service_role())
    assert view["status"] == "revoked" and view["replaces"][0]["serial"] == "CS 900010"
    assert {r[3] for r in rights(conn, home["parcel"])} == {None}
    with pytest.raises(certificates.CertificateEnded):
        certificates.revoke(conn, third, SourceDocument("decision", "100/QĐ-UBND"))


def test_an_endorsement_is_a_new_version_and_moves_the_parcel_s_state(conn, home):
    seen = conn.execute(sa.text(service.LAST_CHANGE_SQL.format(p=":p")),
                        {"p": home["parcel"]}).first().id
    result = certificates.endorse(conn, home["certificate"], "Đăng ký thế chấp ngày 1/12/2026",
                                  DECISION)
    assert current_certificate(conn, home["certificate"]).endorsement.startswith("Đăng ký")
    now = conn.execute(sa.text(service.LAST_CHANGE_SQL.format(p=":p")),
                       {"p": home["parcel"]}).first().id
    assert now == result.change_id != seen
    versions = certificates.detail(conn, home["certificate"], service_role())["versions"]
    assert len(versions) == 2 and versions[0]["ended_by"]["change_id"] == result.change_id


def test_a_parcel_on_a_current_certificate_is_not_issued_another(conn, home):
    with pytest.raises(service.Conflict, match="endorse it, or exchange"):
        certificates.issue(conn, [home["parcel"]], CertificateFacts("CS 900012"), DECISION)


def test_the_verification_code_names_one_certificate_and_cannot_be_forged(conn, home):
    code = certificates.verification_code(conn, home["certificate"])
    shown = certificates.verify(conn, code)
    assert shown["status"] == "valid" and shown["parcels"]
    assert all("national_id" not in h for h in shown["holders"])
    cid, mac = code.split("-")
    for forged in (f"{int(cid) + 1}-{mac}", f"{cid}-{'0' * 24}", "", "x" * 500,
                   f"{cid}-{mac[:-1]}"):
        with pytest.raises(certificates.CertificateNotFound):
            certificates.verify(conn, forged)
    name = conn.execute(sa.text("SELECT name FROM party WHERE id = :p"),
                        {"p": home["seller"]}).scalar_one()
    printed = [h["name"] for h in shown["holders"]]
    assert name not in printed and printed == [
        " ".join(w[0].upper() + "." for w in name.split())]


# --- mortgages named by lender and contract ------------------------------------------------

def test_release_of_one_of_two_mortgages_with_one_reference_ends_only_that_one(conn, home):
    banks = [_party(conn, n, "organisation") for n in ("Ngân hàng A", "Ngân hàng B")]
    contract = SourceDocument("contract", "01/2026/HĐTC")
    for bank in banks:
        service.register_mortgage(conn, home["parcel"], bank, contract, amount=10**9)
    count = ("SELECT count(*) FROM current_restriction WHERE parcel_id = :p "
             "AND kind = 'mortgage'")
    with pytest.raises(AmbiguousRestriction, match="name the lender"):
        service.release_mortgage(conn, home["parcel"], "01/2026/HĐTC",
                                 SourceDocument("application", "Đơn xóa 1"))
    assert conn.execute(sa.text(count), {"p": home["parcel"]}).scalar_one() == 2
    service.release_mortgage(conn, home["parcel"], "01/2026/HĐTC",
                             SourceDocument("application", "Đơn xóa 2"),
                             lender_party_id=banks[0])
    left = conn.execute(sa.text("SELECT party_id FROM current_restriction WHERE parcel_id = :p "
                                "AND kind = 'mortgage'"), {"p": home["parcel"]}).scalars().all()
    assert left == [banks[1]]
    restriction = conn.execute(sa.text(
        "SELECT restriction_id FROM current_restriction WHERE parcel_id = :p"),
        {"p": home["parcel"]}).scalar_one()
    service.release_mortgage(conn, home["parcel"], None, SourceDocument("application", "3"),
                             restriction_id=restriction)
    assert conn.execute(sa.text(count), {"p": home["parcel"]}).scalar_one() == 0


def test_a_lender_s_contract_reference_names_one_active_mortgage(conn, home, sheet):
    bank = _party(conn, "Ngân hàng C", "organisation")
    other = conn.execute(sa.text(
        "SELECT parcel_id FROM current_parcel WHERE parcel_id <> :p ORDER BY parcel_id "
        "LIMIT 1"), {"p": home["parcel"]}).scalar_one()
    contract = SourceDocument("contract", "02/2026/HĐTC")
    service.register_mortgage(conn, home["parcel"], bank, contract)
    with pytest.raises(DuplicateMortgage, match="02/2026/HĐTC") as refused:
        service.register_mortgage(conn, other, bank, contract)
    assert refused.value.status == 409 and refused.value.code == "conflict-unique"
    with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # the database's own rule
        conn.execute(sa.text(
            "INSERT INTO restriction (restriction_id, kind, parcel_id, party_id, reference, "
            "begun_by) SELECT nextval('restriction_id_seq'), kind, parcel_id, party_id, "
            "reference, begun_by FROM current_restriction WHERE parcel_id = :p"),
            {"p": home["parcel"]})


# --- what a retired parcel leaves behind ---------------------------------------------------

def _cut_line(conn, parcel_id):
    return conn.execute(sa.text(
        "SELECT ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(g) - 1), "
        "ST_MakePoint(ST_X(c), ST_YMax(g) + 1))) FROM (SELECT geom AS g, "
        "ST_Centroid(geom) AS c FROM current_parcel WHERE parcel_id = :p) x"),
        {"p": parcel_id}).scalar_one()


def _left_on(conn, parcel_ids):
    return {table: conn.execute(sa.text(
        f"SELECT count(*) FROM {table} WHERE upper_inf(lifespan) AND parcel_id = ANY(:p)"),
        {"p": parcel_ids}).scalar_one()
        for table in ("land_right", "restriction", "responsibility")} | {
        "certificate": len(certificates.of_parcel(conn, parcel_ids[0])["certificates"])}


def test_a_split_carries_mortgage_and_levy_to_the_children_and_leaves_nothing_on_the_parent(
        conn, home):
    bank = _party(conn, "Ngân hàng D", "organisation")
    service.register_mortgage(conn, home["parcel"], bank, SourceDocument("contract", "7/HĐTC"),
                              amount=5 * 10**8)
    service.record_responsibility(conn, home["parcel"], "deferred_land_levy",
                                  "Ghi nợ tiền sử dụng đất", DECISION)
    _, children = split_parcel(conn, home["parcel"], DECISION,
                               cut_line_wkt=_cut_line(conn, home["parcel"]))
    assert _left_on(conn, [home["parcel"]]) == {"land_right": 0, "restriction": 0,
                                                "responsibility": 0, "certificate": 0}
    assert ended_by(conn, home["certificate"]) is not None
    for child in children:
        carried = conn.execute(sa.text(
            "SELECT (SELECT array_agg(party_id) FROM current_restriction WHERE parcel_id = :c "
            "AND kind = 'mortgage'), (SELECT array_agg(kind) FROM responsibility WHERE "
            "upper_inf(lifespan) AND parcel_id = :c)"), {"c": child}).one()
        assert carried == ([bank], ["deferred_land_levy"])
        assert certificates.of_parcel(conn, child)["awaiting_certificate"] is True


def test_a_merge_takes_the_parcels_off_a_certificate_covering_others_too(conn, sheet):
    a, b, c = conn.execute(sa.text(
        "SELECT a.parcel_id, b.parcel_id, x.parcel_id FROM current_parcel a "
        "JOIN current_parcel b ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
        "AND ST_Relate(a.geom, b.geom, 'F***1****') AND a.sheet_number = b.sheet_number "
        "JOIN current_parcel x ON x.parcel_id NOT IN (a.parcel_id, b.parcel_id) "
        "ORDER BY a.parcel_id, b.parcel_id, x.parcel_id LIMIT 1")).one()
    holder = _party(conn, "Hộ ông Nguyễn Văn Tư", "household")
    for p in (a, b, c):
        service.transfer(conn, p, [Share(holder)], CONTRACT,
                         certificate=CertificateChoice(action="await"))
    issued = certificates.issue(conn, [a, b, c], CertificateFacts("CS 900020"), DECISION)
    cert = issued.certificate["certificate_id"]
    service.record_responsibility(conn, a, "maintenance", "Giữ hành lang thoát nước",
                                  DECISION, party_id=holder)
    _, merged = merge_parcels(conn, [a, b], DECISION)
    assert _left_on(conn, [a, b]) == {"land_right": 0, "restriction": 0, "responsibility": 0,
                                      "certificate": 0}
    assert current_certificate(conn, cert).parcels == [c]
    assert "hợp các thửa" in current_certificate(conn, cert).endorsement
    assert conn.execute(sa.text(
        "SELECT party_id FROM responsibility WHERE upper_inf(lifespan) AND parcel_id = :m"),
        {"m": merged}).scalars().all() == [holder]


def test_a_responsibility_is_recorded_and_ended(conn, home):
    done = service.record_responsibility(conn, home["parcel"], "deferred_land_levy",
                                         "Ghi nợ tiền sử dụng đất theo Thông báo 12/TB-CT",
                                         DECISION, party_id=home["seller"])
    rid = conn.execute(sa.text(
        "SELECT responsibility_id FROM responsibility WHERE begun_by = :c"),
        {"c": done.change_id}).scalar_one()
    with pytest.raises(InvalidInput, match="one of deferred_land_levy"):
        service.record_responsibility(conn, home["parcel"], "tax", "x", DECISION)
    with pytest.raises(InvalidInput, match="no current responsibility #0"):
        service.end_responsibility(conn, home["parcel"], 0, DECISION)
    service.end_responsibility(conn, home["parcel"], rid,
                               SourceDocument("other", "Biên lai nộp tiền 5/2026"))
    assert conn.execute(sa.text(
        "SELECT count(*) FROM responsibility WHERE upper_inf(lifespan) AND parcel_id = :p"),
        {"p": home["parcel"]}).scalar_one() == 0


def test_merged_parcels_share_by_area_and_new_certificates_replace_the_awaited_ones(
        conn, sheet, people):
    """Parcels of different holders merged: each holds what his parcel brought. A new
    certificate for a merged or split parcel replaces the one its parents awaited a
    successor for."""
    a, b = conn.execute(sa.text(
        "SELECT a.parcel_id, b.parcel_id FROM current_parcel a JOIN current_parcel b "
        "ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
        "AND ST_Relate(a.geom, b.geom, 'F***1****') AND a.sheet_number = b.sheet_number "
        "ORDER BY a.parcel_id LIMIT 1")).one()
    before = {c.certificate_id for c in register.current_on_parcels(conn, [a, b])}
    for parcel, holder in ((a, people[0]), (b, people[1])):
        service.transfer(conn, parcel, [Share(holder)], CONTRACT,
                         certificate=CertificateChoice(action="await"))
    areas = dict(conn.execute(sa.text(
        "SELECT parcel_id, area_legal FROM current_parcel WHERE parcel_id IN (:a, :b)"),
        {"a": a, "b": b}).all())
    _, merged = merge_parcels(conn, [a, b], DECISION, allow_different_holders=True)
    shares = {party: Fraction(share) for _, party, share, _ in rights(conn, merged)}
    total = areas[a] + areas[b]
    assert shares == {people[0]: Fraction(str(areas[a])) / Fraction(str(total)),
                      people[1]: Fraction(str(areas[b])) / Fraction(str(total))}
    assert sum(shares.values()) == 1
    issued = certificates.issue(conn, [merged], CertificateFacts("CS 900030"), DECISION)
    assert issued.certificate["replaced"] in (before or {None})
    _, children = split_parcel(conn, merged, DECISION, cut_line_wkt=_cut_line(conn, merged))
    assert certificates.detail(conn, issued.certificate["certificate_id"],
                               service_role())["status"] == "ended"
    child = certificates.issue(conn, [children[0]], CertificateFacts("CS 900031"), DECISION)
    assert child.certificate["replaced"] == issued.certificate["certificate_id"]
    assert certificates.detail(conn, issued.certificate["certificate_id"],
                               service_role())["status"] == "replaced"
