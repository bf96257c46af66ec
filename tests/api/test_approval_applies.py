"""A dossier's approval applies its procedure's register change to every parcel the dossier
names, in the approval's transaction, with the dossier's code on every change; an approval
that would change nothing, or whose change fails, leaves the dossier as it was. A change's
dossier exists, is open and names the parcel; an injunction blocks the intake and the
approval of the procedures that would move or burden the parcel.

The parcels are this module's own (ids 150-290 of the shared API register, each used once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

API = "/api/v1"
_CLAIMED: set[int] = set()
CONTRACT = {"kind": "contract", "reference": "1240/2026/HĐCN",
            "issuer": "Văn phòng công chứng Hoàn Kiếm"}


# -- the register before and after ---------------------------------------------------------

def _free_parcels(engine, count: int, *, certified: bool = True) -> list[int]:
    """Parcels of one holder (the whole land-use right, share 1/1), under no restriction,
    on a certificate covering that parcel alone (``certified``) or on none."""
    certificate = (
        "r.certificate_id IS NOT NULL AND (SELECT count(*) FROM current_certificate c "
        "JOIN certificate_parcel cp ON cp.certificate_version_id = c.version_id "
        "WHERE c.certificate_id = r.certificate_id) = 1" if certified else
        "NOT EXISTS (SELECT 1 FROM current_certificate c JOIN certificate_parcel cp ON "
        "cp.certificate_version_id = c.version_id WHERE cp.parcel_id = r.parcel_id)")
    with engine.connect() as conn:
        found = conn.execute(sa.text(f"""
            SELECT r.parcel_id FROM current_land_right r
            WHERE r.kind = 'land_use' AND r.parcel_id BETWEEN 150 AND 290
              AND r.share_numerator = r.share_denominator AND NOT (r.parcel_id = ANY(:taken))
              AND (SELECT count(*) FROM current_land_right o WHERE o.parcel_id = r.parcel_id
                   AND o.kind = 'land_use') = 1
              AND NOT EXISTS (SELECT 1 FROM current_restriction x
                              WHERE x.parcel_id = r.parcel_id)
              AND {certificate}
            ORDER BY r.parcel_id LIMIT :n"""), {"taken": sorted(_CLAIMED), "n": count}
        ).scalars().all()
    assert len(found) == count
    _CLAIMED.update(found)
    return list(found)


def _neighbours(engine) -> list[int]:
    """Two free certified parcels sharing a boundary line."""
    with engine.connect() as conn:
        a, b = conn.execute(sa.text("""
            SELECT a.parcel_id, b.parcel_id FROM current_parcel a JOIN current_parcel b
              ON a.parcel_id < b.parcel_id AND a.geom && b.geom
             AND ST_Relate(a.geom, b.geom, 'F***1****')
            WHERE a.parcel_id BETWEEN 150 AND 290 AND b.parcel_id BETWEEN 150 AND 290
              AND NOT (a.parcel_id = ANY(:taken)) AND NOT (b.parcel_id = ANY(:taken))
              AND NOT EXISTS (SELECT 1 FROM current_restriction x
                              WHERE x.parcel_id IN (a.parcel_id, b.parcel_id))
            ORDER BY a.parcel_id DESC LIMIT 1"""), {"taken": sorted(_CLAIMED)}).one()
    _CLAIMED.update((a, b))
    return [a, b]


def _halves(engine, parcel: int) -> list[str]:
    """The parcel cut in two by a north-south line through its centroid (WKT, EPSG:5897),
    the western half first."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text("""
            SELECT ST_AsText(g) FROM (SELECT (ST_Dump(ST_Split(p.geom, ST_SetSRID(
                ST_MakeLine(ST_MakePoint(ST_X(ST_Centroid(p.geom)), ST_YMin(p.geom) - 1),
                            ST_MakePoint(ST_X(ST_Centroid(p.geom)), ST_YMax(p.geom) + 1)),
                ST_SRID(p.geom))))).geom AS g
                FROM current_parcel p WHERE p.parcel_id = :p) s
            ORDER BY ST_X(ST_Centroid(g))"""), {"p": parcel}).scalars())


def _party(engine, name: str, kind: str = "individual") -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES (:k, :n) RETURNING id"),
            {"k": kind, "n": name}).scalar_one())


def _holders(engine, parcel: int, kind: str = "land_use") -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT party_id, share_numerator || '/' || share_denominator "
            "FROM current_land_right WHERE parcel_id = :p AND kind = :k ORDER BY party_id"),
            {"p": parcel, "k": kind}).all()]


def _holder(engine, parcel: int) -> int:
    ((party, _),) = _holders(engine, parcel)
    return party


def _changes_of(engine, code: str) -> list[tuple[str, int | None]]:
    """The changes recorded for the dossier: kind and the parcel whose version or rights
    they began or ended first (by change id)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT kind, id FROM change_transaction WHERE dossier_code = :d ORDER BY id"),
            {"d": code}).all()]


def _status(engine, code: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT status FROM dossier WHERE code = :c"),
                                {"c": code}).scalar_one())


def _current(engine, parcel: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM current_parcel WHERE parcel_id = :p"), {"p": parcel}
        ).scalar_one())


# -- the dossier -------------------------------------------------------------------------

class Desk:
    """The counter and the officer, over HTTP."""

    def __init__(self, client, headers) -> None:
        self.client, self.headers = client, headers
        self.officers: dict[str, str] = {}  # dossier -> the officer of its office

    @staticmethod
    def _staff(office: str, role: str) -> str:
        """The account of ``role`` at ``office`` (authority follows offices)."""
        return role if office == "VPDK.HN" else {"counter_clerk": "ward_clerk",
                                                 "land_officer": "ward_officer"}[role]

    def documents(self, procedure: str) -> list[str]:
        return list(self.client.get(f"{API}/procedures/{procedure}").json()["documents"])

    def receive(self, procedure: str, parcels: list[int], *, office: str = "VPDK.HN"):
        return self.client.post(f"{API}/dossiers",
                                headers=self.headers(self._staff(office, "counter_clerk")),
                                json={"procedure_code": procedure, "received_by_office": office,
                                      "applicant": {"name": "Nguyễn Văn Bán",
                                                    "phone": "0912000111"},
                                      "parcel_ids": parcels,
                                      "documents": self.documents(procedure)})

    def open(self, procedure: str, parcels: list[int], **kwargs: str) -> tuple[str, str]:
        """A dossier received and in processing: its code and ETag."""
        received = self.receive(procedure, parcels, **kwargs)
        assert received.status_code == 201, received.text
        code = received.json()["code"]
        self.officers[code] = self._staff(received.json()["handling_office"], "land_officer")
        moved = self.move(code, received.headers["etag"], {"to": "in_processing"})
        assert moved.status_code == 200, moved.text
        return code, moved.headers["etag"]

    def move(self, code: str, etag: str, body: dict, parcels: list[int] = ()):
        tags = [etag, *(self.parcel_tag(p) for p in parcels)]
        return self.client.post(f"{API}/dossiers/{code}/transitions", json=body, headers={
            **self.headers(self.officers.get(code, "land_officer")),
            "If-Match": ", ".join(tags)})

    def parcel_tag(self, parcel: int) -> str:
        return self.client.get(f"{API}/parcels/{parcel}",
                               headers=self.headers("land_officer")).headers["etag"]

    def approve(self, code: str, etag: str, parcels: list[int], **body: object):
        return self.move(code, etag, {"to": "approved", **body}, parcels)


@pytest.fixture
def desk(client, headers) -> Iterator[Desk]:
    yield Desk(client, headers)


def _problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body


# -- each procedure's approval applies its operation ---------------------------------------

def test_a_transfer_of_two_parcels_transfers_both(desk, api_engine):
    parcels = _free_parcels(api_engine, 2)
    buyer = _party(api_engine, "Trần Thị Mua")
    code, etag = desk.open("CHUYEN-NHUONG", parcels)
    approved = desk.approve(code, etag, parcels, source=CONTRACT, steps=[
        {"operation": "transfer", "parameters": {"holders": [{"party_id": buyer}]}}])
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert [c["parcel_id"] for c in approved.json()["changes"]] == parcels
    for parcel in parcels:
        assert _holders(api_engine, parcel) == [(buyer, "1/1")]
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["transfer", "transfer"]
    with api_engine.connect() as conn:  # every holder changed: the seller's paper ended
        covering = conn.execute(sa.text(
            "SELECT count(*) FROM current_certificate c JOIN certificate_parcel cp "
            "ON cp.certificate_version_id = c.version_id WHERE cp.parcel_id = ANY(:p)"),
            {"p": parcels}).scalar_one()
    assert covering == 0


def test_an_inheritance_to_three_heirs_in_shares(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    heirs = [_party(api_engine, f"Lê Văn Thừa {n}") for n in ("Một", "Hai", "Ba")]
    code, etag = desk.open("THUA-KE", [parcel])
    approved = desk.approve(code, etag, [parcel], change={
        "source_kind": "contract", "source_reference": "Văn bản khai nhận di sản 12/2026",
        "holders": [{"party_id": heirs[0], "share": "1/2"},
                    {"party_id": heirs[1], "share": "1/4"},
                    {"party_id": heirs[2], "share": "1/4"}],
        "certificate": {"action": "new", "serial": "TK 700001"}})
    assert approved.status_code == 200, approved.text
    assert _holders(api_engine, parcel) == [(heirs[0], "1/2"), (heirs[1], "1/4"),
                                            (heirs[2], "1/4")]
    certificate = approved.json()["changes"][0]["certificate"]
    assert certificate["action"] == "replaced"
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["inheritance"]


def test_a_gift(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    child = _party(api_engine, "Phạm Văn Nhận")
    code, etag = desk.open("TANG-CHO", [parcel])
    approved = desk.approve(code, etag, [parcel], steps=[
        {"operation": "gift", "parameters": {"holders": [{"party_id": child}]}}])
    assert approved.status_code == 200, approved.text
    assert _holders(api_engine, parcel) == [(child, "1/1")]
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["gift"]


def test_a_mortgage_over_three_parcels_mortgages_the_three_then_a_release_ends_them(
        desk, api_engine):
    parcels = _free_parcels(api_engine, 3)
    bank = _party(api_engine, "Ngân hàng TMCP Thế Chấp Ba Thửa", "organisation")
    contract = {"kind": "contract", "reference": "88/2026/HĐTC"}
    code, etag = desk.open("THE-CHAP", parcels)
    approved = desk.approve(code, etag, parcels, source=contract, steps=[
        {"operation": "mortgage", "parameters": {"lender_party_id": bank,
                                                 "amount": 3_000_000_000}},
        {"operation": "certificate_endorsement",
         "parameters": {"endorsement": "Đăng ký thế chấp ngày 01/12/2026"}}])
    assert approved.status_code == 200, approved.text
    with api_engine.connect() as conn:
        mortgages = conn.execute(sa.text(
            "SELECT parcel_id, party_id, reference FROM current_restriction "
            "WHERE kind = 'mortgage' AND parcel_id = ANY(:p) ORDER BY parcel_id"),
            {"p": parcels}).all()
    assert [tuple(m) for m in mortgages] == [(p, bank, "88/2026/HĐTC") for p in parcels]
    assert [kind for kind, _ in _changes_of(api_engine, code)] == (
        ["mortgage"] * 3 + ["certificate_endorsement"] * 3)
    # one contract is one dossier's: another dossier may not register it again
    (other,) = _free_parcels(api_engine, 1)
    again, again_etag = desk.open("THE-CHAP", [other])
    duplicate = _problem(desk.approve(again, again_etag, [other], source=contract, steps=[
        {"operation": "mortgage", "parameters": {"lender_party_id": bank}}]), 409,
        "conflict-unique")
    assert "88/2026/HĐTC" in duplicate["detail"]
    assert _status(api_engine, again) == "in_processing"

    release, etag = desk.open("XOA-THE-CHAP", parcels)
    released = desk.approve(release, etag, parcels, steps=[
        {"operation": "mortgage_release", "parameters": {"reference": "88/2026/HĐTC",
                                                         "lender_party_id": bank}}])
    assert released.status_code == 200, released.text
    with api_engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM current_restriction WHERE parcel_id = ANY(:p)"),
            {"p": parcels}).scalar_one() == 0
    assert [kind for kind, _ in _changes_of(api_engine, release)] == ["mortgage_release"] * 3


def test_a_purpose_change(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    code, etag = desk.open("CHUYEN-MUC-DICH", [parcel], office="UBND.00097")
    approved = desk.approve(code, etag, [parcel], steps=[
        {"operation": "purpose_change", "parameters": {"purposes": [{"code": "TMD"}]}}])
    assert approved.status_code == 200, approved.text
    with api_engine.connect() as conn:
        codes = conn.execute(sa.text(
            "SELECT u.land_use_code FROM current_parcel p JOIN parcel_land_use u "
            "ON u.parcel_version_id = p.version_id WHERE p.parcel_id = :p"),
            {"p": parcel}).scalars().all()
    assert codes == ["TMD"]
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["purpose_change"]


def test_a_split_splits_the_parcel_and_issues_the_childrens_certificates(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    holder = _holder(api_engine, parcel)
    code, etag = desk.open("TACH-THUA", [parcel])
    approved = desk.approve(code, etag, [parcel], steps=[
        {"operation": "split", "parameters": {"children": _halves(api_engine, parcel)}},
        {"operation": "certificate_issue", "parcel": {"step": 0, "child": 0},
         "parameters": {"serial": "TT 700010"}},
        {"operation": "certificate_issue", "parcel": {"step": 0, "child": 1},
         "parameters": {"serial": "TT 700011"}}])
    assert approved.status_code == 200, approved.text
    changes = approved.json()["changes"]
    children = changes[0]["new_parcels"]
    assert len(children) == 2 and not _current(api_engine, parcel)
    assert [c["parcel_id"] for c in changes[1:]] == children
    for child in children:
        assert _holders(api_engine, child) == [(holder, "1/1")]
    with api_engine.connect() as conn:
        serials = conn.execute(sa.text(
            "SELECT cp.parcel_id, c.serial FROM current_certificate c JOIN certificate_parcel "
            "cp ON cp.certificate_version_id = c.version_id WHERE cp.parcel_id = ANY(:p) "
            "ORDER BY cp.parcel_id"), {"p": children}).all()
    assert [s for _, s in serials] == ["TT 700010", "TT 700011"]
    assert [kind for kind, _ in _changes_of(api_engine, code)] == [
        "split", "certificate_issue", "certificate_issue"]


def test_a_merge_merges_the_dossiers_parcels(desk, api_engine):
    parcels = _neighbours(api_engine)
    code, etag = desk.open("HOP-THUA", parcels)
    approved = desk.approve(code, etag, parcels, steps=[
        {"operation": "merge", "parameters": {"allow_different_holders": True}}])
    assert approved.status_code == 200, approved.text
    (merged,) = approved.json()["changes"][0]["new_parcels"]
    assert _current(api_engine, merged)
    assert not any(_current(api_engine, p) for p in parcels)
    with api_engine.connect() as conn:
        parents = conn.execute(sa.text(
            "SELECT parent_parcel_id FROM parcel_lineage WHERE child_parcel_id = :c "
            "ORDER BY 1"), {"c": merged}).scalars().all()
    assert parents == parcels
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["merge"]


def test_a_first_registration_issues_the_certificate(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1, certified=False)
    # decided by the commune since 2025-07-01 (Decree 151/2025)
    code, etag = desk.open("DK-LAN-DAU", [parcel], office="UBND.00097")
    approved = desk.approve(code, etag, [parcel], steps=[
        {"operation": "certificate_issue",
         "parameters": {"serial": "DK 700020", "registry_number": "CS 07020"}}])
    assert approved.status_code == 200, approved.text
    with api_engine.connect() as conn:
        serial = conn.execute(sa.text(
            "SELECT c.serial FROM current_land_right r JOIN current_certificate c "
            "ON c.certificate_id = r.certificate_id WHERE r.parcel_id = :p "
            "AND r.kind = 'land_use'"), {"p": parcel}).scalar_one()
    assert serial == "DK 700020"
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["certificate_issue"]


def test_an_exchange_replaces_the_certificate(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    code, etag = desk.open("CAP-DOI", [parcel])
    approved = desk.approve(code, etag, [], steps=[
        {"operation": "certificate_exchange", "parameters": {"serial": "CD 700030"}}])
    assert approved.status_code == 200, approved.text
    certificate = approved.json()["changes"][0]["certificate"]
    assert certificate["action"] == "exchanged" and certificate["replaced"]
    assert [kind for kind, _ in _changes_of(api_engine, code)] == ["certificate_exchange"]


# -- the sale of part of a parcel: a split, then a transfer, in one dossier ------------------

def test_part_of_a_parcel_is_sold_by_a_split_then_a_transfer_of_one_child(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    seller = _holder(api_engine, parcel)
    buyer = _party(api_engine, "Đỗ Văn Mua Một Phần")
    with api_engine.connect() as conn:
        old_certificate = conn.execute(sa.text(
            "SELECT certificate_id FROM current_land_right WHERE parcel_id = :p "
            "AND kind = 'land_use'"), {"p": parcel}).scalar_one()
    code, etag = desk.open("CHUYEN-NHUONG-MOT-PHAN", [parcel])
    approved = desk.approve(code, etag, [parcel], source=CONTRACT, steps=[
        {"operation": "split", "parameters": {"children": _halves(api_engine, parcel)},
         "source": {"kind": "decision", "reference": "Bản vẽ tách thửa 31/2026"}},
        {"operation": "transfer", "parcel": {"step": 0, "child": 1},
         "parameters": {"holders": [{"party_id": buyer}],
                        "certificate": {"action": "new", "serial": "MP 700040"}}},
        {"operation": "certificate_issue", "parcel": {"step": 0, "child": 0},
         "parameters": {"serial": "MP 700041"}}])
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    kept, sold = approved.json()["changes"][0]["new_parcels"]
    assert not _current(api_engine, parcel)
    assert _holders(api_engine, sold) == [(buyer, "1/1")]
    assert _holders(api_engine, kept) == [(seller, "1/1")]
    with api_engine.connect() as conn:
        papers = dict(conn.execute(sa.text(
            "SELECT cp.parcel_id, c.serial FROM current_certificate c JOIN certificate_parcel "
            "cp ON cp.certificate_version_id = c.version_id WHERE cp.parcel_id = ANY(:p)"),
            {"p": [parcel, kept, sold]}).all())
        old_is_current = conn.execute(sa.text(
            "SELECT count(*) FROM current_certificate WHERE certificate_id = :c"),
            {"c": old_certificate}).scalar_one()
        documents = conn.execute(sa.text(
            "SELECT c.kind, s.reference FROM change_transaction c JOIN change_source cs "
            "ON cs.change_id = c.id JOIN source_document s ON s.id = cs.source_id "
            "WHERE c.dossier_code = :d ORDER BY c.id"), {"d": code}).all()
    # the seller's old paper is no proof of either part; each part has its own
    assert papers == {sold: "MP 700040", kept: "MP 700041"}
    assert old_is_current == 0
    assert [tuple(d) for d in documents] == [
        ("split", "Bản vẽ tách thửa 31/2026"), ("transfer", "1240/2026/HĐCN"),
        ("certificate_issue", "1240/2026/HĐCN")]


def test_a_part_sale_needs_its_transfer_and_names_the_child_it_sells(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    buyer = _party(api_engine, "Đỗ Văn Chưa Mua")
    code, etag = desk.open("CHUYEN-NHUONG-MOT-PHAN", [parcel])
    split = {"operation": "split", "parameters": {"children": _halves(api_engine, parcel)}}
    transfer = {"operation": "transfer", "parameters": {"holders": [{"party_id": buyer}]}}
    alone = _problem(desk.approve(code, etag, [parcel], steps=[split]), 422)
    assert "no step gives transfer" in alone["detail"]
    backwards = _problem(desk.approve(code, etag, [parcel], steps=[transfer, split]), 422)
    assert "out of order" in backwards["detail"]
    shorthand = _problem(desk.approve(code, etag, [parcel], change={
        "holders": [{"party_id": buyer}]}), 422)
    assert "give them as steps" in shorthand["detail"]
    # the transfer names no parcel: the dossier's is the one the split retired
    unnamed = _problem(desk.approve(code, etag, [parcel], steps=[split, transfer]), 422)
    assert f"parcel {parcel} of the dossier was retired by step 0" in unnamed["detail"]
    beyond = _problem(desk.approve(code, etag, [parcel], steps=[
        split, {**transfer, "parcel": {"step": 0, "child": 2}}]), 422)
    assert "names child 2 of step 0, which made 2 parcel(s)" in beyond["detail"]
    assert _current(api_engine, parcel) and _status(api_engine, code) == "in_processing"
    assert _changes_of(api_engine, code) == []


# -- refusals: nothing approved, nothing changed -------------------------------------------

def test_an_approval_without_what_the_operation_needs_is_refused(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    code, etag = desk.open("THE-CHAP", [parcel])
    nothing = _problem(desk.approve(code, etag, [parcel]), 422, "invalid-input")
    assert "the approval of a mortgage needs change.lender_party_id" in nothing["detail"]
    other = _problem(desk.approve(code, etag, [parcel], steps=[
        {"operation": "transfer", "parameters": {"holders": [{"party_id": 1}]}}]), 422)
    assert "applies mortgage, then certificate_endorsement (optional), not transfer" in \
        other["detail"]
    missing = _problem(desk.approve(code, etag, [parcel], steps=[
        {"operation": "mortgage", "parameters": {}}]), 422, "invalid-request")
    assert missing["errors"][0]["loc"][-1] == "lender_party_id"
    assert _status(api_engine, code) == "in_processing"
    assert _changes_of(api_engine, code) == []


def test_a_split_without_its_geometry_is_refused(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    code, etag = desk.open("TACH-THUA", [parcel])
    refused = _problem(desk.approve(code, etag, []), 422)
    assert "give either a cutting line or the child geometries" in refused["detail"]
    assert _status(api_engine, code) == "in_processing" and _current(api_engine, parcel)


def test_a_procedure_without_operations_takes_no_change(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    code, etag = desk.open("TRICH-LUC", [parcel], office="UBND.00097")
    refused = _problem(desk.approve(code, etag, [], steps=[
        {"operation": "mortgage", "parameters": {"lender_party_id": 1}}]), 422)
    assert "applies no register change" in refused["detail"]
    approved = desk.approve(code, etag, [])
    assert approved.status_code == 200, approved.text
    assert approved.json()["changes"] == []


def test_a_change_that_fails_on_the_second_parcel_keeps_nothing_of_the_first(
        desk, api_engine):
    first, second = _free_parcels(api_engine, 2)
    bank = _party(api_engine, "Ngân hàng Một Thửa", "organisation")
    mortgaged = desk.client.post(f"{API}/changes/mortgage", json={
        "parcel_id": first, "lender_party_id": bank,
        "source": {"kind": "contract", "reference": "91/2026/HĐTC"}},
        headers={**desk.headers("land_officer"), "If-Match": desk.parcel_tag(first)})
    assert mortgaged.status_code == 201, mortgaged.text
    code, etag = desk.open("XOA-THE-CHAP", [first, second])
    refused = _problem(desk.approve(code, etag, [first, second], steps=[
        {"operation": "mortgage_release", "parameters": {"reference": "91/2026/HĐTC"}}]), 422)
    assert f"parcel {second} has no current mortgage '91/2026/HĐTC'" in refused["detail"]
    assert _status(api_engine, code) == "in_processing"
    assert _changes_of(api_engine, code) == []
    with api_engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM current_restriction WHERE parcel_id = :p "
            "AND kind = 'mortgage'"), {"p": first}).scalar_one() == 1


def test_a_failing_change_leaves_a_dossier_in_its_tax_notice(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    heirs = [_party(api_engine, f"Hoàng Văn Chia {n}") for n in ("Một", "Hai")]
    code, etag = desk.open("THUA-KE", [parcel])
    taxed = desk.move(code, etag, {"to": "tax_notice"})
    assert taxed.status_code == 200, taxed.text
    etag = taxed.headers["etag"]

    def inheritance(second_share: str) -> dict:
        return {"operation": "inheritance", "parameters": {"holders": [
            {"party_id": heirs[0], "share": "1/2"},
            {"party_id": heirs[1], "share": second_share}]}}

    shares = _problem(desk.approve(code, etag, [parcel], steps=[inheritance("1/4")]), 422)
    assert "add up to 3/4" in shares["detail"]
    seen = desk.parcel_tag(parcel)  # then another change comes in between
    noted = desk.client.post(f"{API}/changes/responsibility", json={
        "parcel_id": parcel, "kind": "other", "description": "Giữ lối đi chung",
        "source": {"kind": "decision", "reference": "Biên bản 7/2026"}},
        headers={**desk.headers("land_officer"), "If-Match": seen})
    assert noted.status_code == 201, noted.text
    stale = desk.client.post(f"{API}/dossiers/{code}/transitions", json={
        "to": "approved", "steps": [inheritance("1/2")]}, headers={
        **desk.headers("land_officer"), "If-Match": f"{etag}, {seen}"})
    _problem(stale, 409, "stale-parcel")
    assert _status(api_engine, code) == "tax_notice"
    assert _changes_of(api_engine, code) == []
    assert heirs[0] not in [p for p, _ in _holders(api_engine, parcel)]


def _apart(engine) -> list[int]:
    """Two free certified parcels that do not touch."""
    first = _free_parcels(engine, 1)
    with engine.connect() as conn:
        second = conn.execute(sa.text("""
            SELECT b.parcel_id FROM current_parcel a JOIN current_parcel b
              ON NOT ST_DWithin(a.geom, b.geom, 1)
            JOIN current_land_right r ON r.parcel_id = b.parcel_id AND r.kind = 'land_use'
            WHERE a.parcel_id = :a AND b.parcel_id BETWEEN 150 AND 290
              AND NOT (b.parcel_id = ANY(:taken))
              AND NOT EXISTS (SELECT 1 FROM current_restriction x
                              WHERE x.parcel_id = b.parcel_id)
            ORDER BY b.parcel_id LIMIT 1"""),
            {"a": first[0], "taken": sorted(_CLAIMED)}).scalar_one()
    _CLAIMED.add(second)
    return sorted([first[0], second])


def test_a_merge_of_parcels_apart_is_refused_and_nothing_merged(desk, api_engine):
    parcels = _apart(api_engine)
    code, etag = desk.open("HOP-THUA", parcels)
    refused = _problem(desk.approve(code, etag, parcels, steps=[
        {"operation": "merge", "parameters": {"allow_different_holders": True}}]), 422)
    assert "do not share a boundary" in refused["detail"]
    assert _status(api_engine, code) == "in_processing"
    assert _changes_of(api_engine, code) == []
    assert all(_current(api_engine, p) for p in parcels)


# -- a change names a dossier that exists, is open and is about its parcel -----------------

def _mortgage(desk, parcel: int, dossier: str | None, lender: int):
    body = {"parcel_id": parcel, "lender_party_id": lender,
            "source": {"kind": "contract", "reference": f"{dossier}/HĐTC"}}
    if dossier is not None:
        body["dossier_code"] = dossier
    return desk.client.post(f"{API}/changes/mortgage", json=body, headers={
        **desk.headers("land_officer"), "If-Match": desk.parcel_tag(parcel)})


def test_a_change_naming_no_dossier_that_exists_is_refused(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    bank = _party(api_engine, "Ngân hàng Không Hồ Sơ", "organisation")
    refused = _problem(_mortgage(desk, parcel, "NO-SUCH-DOSSIER", bank), 422,
                       "unknown-dossier")
    assert "no dossier 'NO-SUCH-DOSSIER'" in refused["detail"]
    with api_engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM change_transaction WHERE dossier_code = 'NO-SUCH-DOSSIER'")
        ).scalar_one() == 0
        with pytest.raises(sa.exc.IntegrityError, match="change_transaction_dossier_code_fkey"):
            conn.execute(sa.text("INSERT INTO change_transaction (kind, dossier_code) "
                                 "VALUES ('correction', 'NO-SUCH-DOSSIER')"))


def test_a_change_for_a_closed_dossier_or_another_parcel_is_refused(desk, api_engine):
    parcel, other = _free_parcels(api_engine, 2)
    bank = _party(api_engine, "Ngân hàng Hồ Sơ Đóng", "organisation")
    received = desk.receive("THE-CHAP", [parcel])
    assert received.status_code == 201, received.text
    code = received.json()["code"]
    elsewhere = _problem(_mortgage(desk, other, code, bank), 409, "parcel-not-in-dossier")
    assert f"not about parcel {other}" in elsewhere["detail"]
    withdrawn = desk.client.post(f"{API}/dossiers/{code}/transitions", json={
        "to": "withdrawn"}, headers={**desk.headers("counter_clerk"),
                                     "If-Match": received.headers["etag"]})
    assert withdrawn.status_code == 200, withdrawn.text
    closed = _problem(_mortgage(desk, parcel, code, bank), 409, "dossier-closed")
    assert "is withdrawn" in closed["detail"]
    assert _changes_of(api_engine, code) == []


# -- an injunction blocks the intake, and the approval ---------------------------------------

def _enjoin(desk, parcel: int, reference: str) -> None:
    enjoined = desk.client.post(f"{API}/changes/injunction", json={
        "parcel_id": parcel, "source": {"kind": "court_order", "reference": reference,
                                        "issuer": "TAND khu vực 1 Hà Nội"}},
        headers={**desk.headers("land_officer"), "If-Match": desk.parcel_tag(parcel)})
    assert enjoined.status_code == 201, enjoined.text


def test_an_injunction_blocks_the_intake_of_a_sale(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    _enjoin(desk, parcel, "45/2026/QĐ-BPKCTT")
    refused = _problem(desk.receive("CHUYEN-NHUONG", [parcel]), 409, "parcel-enjoined")
    assert f"parcel {parcel} is under injunction 45/2026/QĐ-BPKCTT" in refused["detail"]
    for blocked in ("THE-CHAP", "TACH-THUA", "CHUYEN-NHUONG-MOT-PHAN"):
        _problem(desk.receive(blocked, [parcel]), 409, "parcel-enjoined")
    # a procedure that moves nothing is received (its change, if any, is refused later)
    assert desk.receive("CAP-DOI", [parcel]).status_code == 201
    # which procedures are blocked is the catalogue's data, edited by an administrator
    url, admin = f"{API}/procedures/CAP-DOI", desk.headers("admin")
    edited = desk.client.patch(url, json={"blocked_by_injunction": True}, headers={
        **admin, "If-Match": desk.client.get(url).headers["etag"]})
    assert edited.status_code == 200 and edited.json()["blocked_by_injunction"], edited.text
    try:
        _problem(desk.receive("CAP-DOI", [parcel]), 409, "parcel-enjoined")
    finally:
        restored = desk.client.patch(url, json={"blocked_by_injunction": False}, headers={
            **admin, "If-Match": desk.client.get(url).headers["etag"]})
        assert restored.status_code == 200, restored.text


def test_an_injunction_recorded_after_intake_blocks_the_approval(desk, api_engine):
    (parcel,) = _free_parcels(api_engine, 1)
    buyer = _party(api_engine, "Ngô Văn Chờ")
    code, etag = desk.open("CHUYEN-NHUONG", [parcel])
    _enjoin(desk, parcel, "46/2026/QĐ-BPKCTT")
    refused = _problem(desk.approve(code, etag, [parcel], steps=[
        {"operation": "transfer", "parameters": {"holders": [{"party_id": buyer}]}}]),
        409, "parcel-enjoined")
    assert "is not approved" in refused["detail"]
    assert "46/2026/QĐ-BPKCTT" in refused["detail"]
    assert _status(api_engine, code) == "in_processing"
    assert [kind for kind, _ in _changes_of(api_engine, code)] == []
    assert buyer not in [p for p, _ in _holders(api_engine, parcel)]
