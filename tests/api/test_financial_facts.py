"""Financial facts of rights and restrictions are personal data (Decree 13/2023): everyone
sees that a parcel is mortgaged or enjoined and since when; the roles that see names see
references and counterparties; only land officers and admins see amounts; every response
that carries them is in the audit log; and the database's views apply the same rule."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.access import PRIVATE_CHANGE_KINDS, Role, rule
from cadastre.changes.service import SourceDocument, register_mortgage, set_injunction
from cadastre.db import api_database_url, create_engine
from tests.api.test_least_privilege import act

API = "/api/v1"
ALL_ROLES = ("anonymous", "land_officer", "counter_clerk", "gis_analyst", "supervisor",
             "admin", "api-key")
#: What each role sees of a restriction (api-key: a gis_analyst service account).
EXPECTED = {
    "land_officer": {"references": True, "amounts": True},
    "admin": {"references": True, "amounts": True},
    "supervisor": {"references": True, "amounts": False},
    "counter_clerk": {"references": True, "amounts": False},
    "gis_analyst": {"references": False, "amounts": False},
    "anonymous": {"references": False, "amounts": False},
    "api-key": {"references": False, "amounts": False},
}
AMOUNT = 10_900_000_000
CONTRACT = "FIN-4417/2026/HĐTC"
LENDER_NOTE = "Vay tiêu dùng, lãi suất 9,5 %/năm"
ORDER = "FIN-88/2026/QĐ-BPKCTT"


@pytest.fixture(scope="module")
def mortgaged(api_engine) -> dict[str, object]:
    """A parcel of a private person mortgaged to another private person (10.9 billion VND,
    contract FIN-4417/2026/HĐTC) and then enjoined by a court (committed: the API reads its
    own pool)."""
    with api_engine.begin() as conn:
        parcel, holder = conn.execute(sa.text("""
            SELECT r.parcel_id, r.party_id FROM current_land_right r
            JOIN party h ON h.id = r.party_id WHERE h.kind = 'individual'
            AND NOT EXISTS (SELECT 1 FROM restriction x WHERE x.parcel_id = r.parcel_id)
            AND (SELECT count(*) FROM current_land_right o WHERE o.parcel_id = r.parcel_id) = 1
            ORDER BY r.parcel_id OFFSET 5 LIMIT 1""")).one()
        lender, lender_name = conn.execute(sa.text(
            "SELECT id, name FROM party WHERE kind = 'individual' AND id <> :h "
            "ORDER BY id DESC LIMIT 1"), {"h": holder}).one()
        court = conn.execute(sa.text(
            "SELECT id FROM party WHERE kind = 'organisation' AND name LIKE 'Tòa án%' "
            "LIMIT 1")).scalar_one()
        mortgage = register_mortgage(
            conn, parcel, lender, SourceDocument("contract", CONTRACT, issuer=lender_name,
                                                 description=LENDER_NOTE), amount=AMOUNT)
        injunction = set_injunction(conn, parcel, court, SourceDocument("court_order", ORDER))
    return {"parcel": parcel, "holder": holder, "lender": lender, "lender_name": lender_name,
            "mortgage_change": mortgage.change_id, "injunction_change": injunction.change_id}


def _secrets(mortgaged) -> dict[str, list[str]]:
    return {"references": [CONTRACT, ORDER, LENDER_NOTE, str(mortgaged["lender_name"])],
            "amounts": [str(AMOUNT), "1.09e10", "10900000000.0"]}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_mortgage_shows_its_facts_by_role(client, headers, mortgaged, role):
    expected = EXPECTED[role]
    secrets = _secrets(mortgaged)
    parcel = mortgaged["parcel"]
    for url in (f"{API}/parcels/{parcel}", f"{API}/parcels/{parcel}/changes",
                f"{API}/parcels/{parcel}/history", f"{API}/parcels/{parcel}/lineage",
                f"{API}/parcels/{parcel}/dossiers"):
        response = client.get(url, headers=headers(role))
        assert response.status_code == 200, (url, response.text)
        text = response.content.decode()
        if url.endswith(f"/{parcel}") or url.endswith("/changes"):
            for value in secrets["references"][:2]:
                assert (value in text) is expected["references"], (url, role, value)
        else:
            assert not any(v in text for v in secrets["references"]), (url, role)
        for value in secrets["amounts"]:
            if value in text:
                assert expected["amounts"], (url, role, "the amount")

    props = client.get(f"{API}/parcels/{parcel}", headers=headers(role)).json()["properties"]
    assert props["mortgaged"] is True
    assert props["injunction"]["active"] is True and props["injunction"]["since"]
    mortgage = next(r for r in props["restrictions"] if r["kind"] == "mortgage")
    assert mortgage["since"]
    assert (mortgage.get("amount") == AMOUNT) is expected["amounts"]
    assert (mortgage.get("reference") == CONTRACT) is expected["references"]
    assert (mortgage.get("description") == LENDER_NOTE) is expected["references"]
    assert (mortgage.get("beneficiary") == mortgaged["lender_name"]) is expected["references"]
    assert ("references" in props["injunction"]) is expected["references"]

    changes = client.get(f"{API}/parcels/{parcel}/changes", headers=headers(role)).json()
    change = next(c for c in changes if c["id"] == mortgaged["mortgage_change"])
    assert change["kind"] == "mortgage" and change["documents"][0]["kind"] == "contract"
    assert (change["documents"][0]["reference"] == CONTRACT) is expected["references"]
    assert (change["documents"][0]["issuer"] == mortgaged["lender_name"]) is (
        expected["references"])


def _reads(client, headers, **params):
    response = client.get(f"{API}/audit", params={"action": "read_personal", **params},
                          headers=headers("admin"))
    assert response.status_code == 200, response.text
    return response.json()["entries"]


@pytest.mark.parametrize("role", ["land_officer", "counter_clerk"])
def test_reading_financial_facts_is_recorded(client, headers, mortgaged, role):
    user = "t-" + role.replace("_", "-")
    parcel = mortgaged["parcel"]
    assert client.get(f"{API}/parcels/{parcel}", headers=headers(role)).status_code == 200
    reads = [e for e in _reads(client, headers, user=user, party=mortgaged["holder"])
             if e["table_name"] == "restriction"]
    assert reads, "the read of the mortgage is not in the audit log"
    assert reads[0]["row_key"]["parcel_id"] == parcel
    assert reads[0]["actor_role"] == role
    lender = [e for e in _reads(client, headers, user=user, party=mortgaged["lender"])
              if e["table_name"] == "restriction"]
    assert lender, "the private lender's read is not in the audit log"

    assert client.get(f"{API}/parcels/{parcel}/changes",
                      headers=headers(role)).status_code == 200
    documents = [e for e in _reads(client, headers, user=user, party=mortgaged["holder"])
                 if e["table_name"] == "change_transaction"]
    assert documents and mortgaged["mortgage_change"] in documents[0]["row_key"]["change_ids"]


def test_roles_that_see_only_kinds_leave_no_financial_read(client, headers, mortgaged):
    before = _reads(client, headers, party=mortgaged["lender"])
    for role in ("anonymous", "gis_analyst", "api-key"):
        for tail in ("", "/changes"):
            assert client.get(f"{API}/parcels/{mortgaged['parcel']}{tail}",
                              headers=headers(role)).status_code == 200
    after = _reads(client, headers, party=mortgaged["lender"])
    assert [e["id"] for e in after] == [e["id"] for e in before]


@pytest.fixture(scope="module")
def as_api(api_settings):
    engine = create_engine(api_settings, url=api_database_url(api_settings))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("role", list(Role))
def test_the_database_views_apply_the_same_rule(as_api, headers, mortgaged, role):
    """Read as the API's database role: restriction_visible and change_document_visible
    show what cadastre.access says, whatever the query."""
    with as_api.begin() as conn:
        act(conn, headers, role.value)
        row = conn.execute(sa.text(
            "SELECT reference, description, party_id, amount FROM restriction_visible "
            "WHERE parcel_id = :p AND kind = 'mortgage'"), {"p": mortgaged["parcel"]}).one()
        document = conn.execute(sa.text(
            "SELECT kind, reference, issuer FROM change_document_visible "
            "WHERE change_id = :c"), {"c": mortgaged["mortgage_change"]}).one()
    r = rule(role)
    assert (row.reference == CONTRACT) is r.financial_references
    assert (row.description == LENDER_NOTE) is r.financial_references
    assert (row.party_id == mortgaged["lender"]) is r.financial_references
    assert (row.amount == AMOUNT) is r.financial_amounts
    assert document.kind == "contract"
    assert (document.reference == CONTRACT) is r.financial_references
    assert (document.issuer == mortgaged["lender_name"]) is r.financial_references


def test_private_change_kinds_agree_with_the_database(api_engine):
    with api_engine.connect() as conn:
        check = conn.execute(sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'change_transaction'::regclass AND contype = 'c' "
            "AND pg_get_constraintdef(oid) LIKE '%kind%'")).scalar_one()
        kinds = set(conn.execute(sa.text(
            "SELECT (regexp_matches(:c, '''([a-z_]+)''', 'g'))[1]"), {"c": check}).scalars())
        private = set(conn.execute(sa.text(
            "SELECT k FROM unnest(CAST(:k AS text[])) k WHERE change_kind_is_private(k)"),
            {"k": sorted(kinds)}).scalars())
    assert "mortgage" in kinds and "split" in kinds
    assert private == PRIVATE_CHANGE_KINDS


def test_a_split_carries_and_a_release_ends_facts_the_api_login_cannot_read(
        client, headers, api_engine):
    """The API's database login reads no reference or amount, yet a split carries the
    mortgage's amount, counterparty and reference to the children unchanged, and a release
    finds the mortgage by its reference (restrictions_carry, restriction_end)."""
    with api_engine.begin() as conn:
        parcel, line = conn.execute(sa.text(
            "SELECT parcel_id, ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(geom) - 1), "
            "ST_MakePoint(ST_X(c), ST_YMax(geom) + 1))) FROM (SELECT p.parcel_id, p.geom, "
            "ST_Centroid(p.geom) AS c FROM current_parcel p WHERE NOT EXISTS (SELECT 1 FROM "
            "restriction x WHERE x.parcel_id = p.parcel_id) ORDER BY p.parcel_id DESC "
            "OFFSET 9 LIMIT 1) x")).one()
        lender = conn.execute(sa.text(
            "SELECT id FROM party WHERE kind = 'organisation' ORDER BY id LIMIT 1")).scalar_one()
        register_mortgage(conn, parcel, lender, SourceDocument("contract", "SPLIT-1/HĐTC",
                                                               description="hạn mức"),
                          amount=7_500_000_000)
    officer = headers("land_officer")

    def etag(p: int) -> str:
        return client.get(f"{API}/parcels/{p}", headers=officer).headers["ETag"]

    split = client.post(f"{API}/changes/split", headers={**officer, "If-Match": etag(parcel)},
                        json={"parcel_id": parcel, "cut_line": line, "crs": "EPSG:5897",
                              "source": {"kind": "decision", "reference": "SPLIT-1/QĐ"}})
    assert split.status_code == 201, split.text
    children = split.json()["children"]
    shown = client.get(f"{API}/parcels/{children[0]}", headers=headers("supervisor")).json()
    mortgage = next(r for r in shown["properties"]["restrictions"] if r["kind"] == "mortgage")
    assert mortgage["reference"] == "SPLIT-1/HĐTC" and mortgage.get("amount") is None
    with api_engine.connect() as conn:
        carried = conn.execute(sa.text(
            "SELECT party_id, reference, description, amount FROM current_restriction "
            "WHERE parcel_id = ANY(:c) ORDER BY parcel_id"), {"c": children}).all()
    assert [tuple(r) for r in carried] == [
        (lender, "SPLIT-1/HĐTC", "hạn mức", 7_500_000_000)] * len(children)
    release = client.post(
        f"{API}/changes/mortgage-release", headers={**officer, "If-Match": etag(children[0])},
        json={"parcel_id": children[0], "reference": "SPLIT-1/HĐTC",
              "source": {"kind": "contract", "reference": "SPLIT-1/XTC"}})
    assert release.status_code == 201, release.text
    with api_engine.connect() as conn:
        left = conn.execute(sa.text(
            "SELECT parcel_id FROM current_restriction WHERE parcel_id = ANY(:c)"),
            {"c": children}).scalars().all()
    assert left == children[1:]
