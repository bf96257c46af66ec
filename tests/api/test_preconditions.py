"""Every write to a parcel or a dossier names the state it was made against (If-Match): 428
without it, 412 for an ETag that is not one of the resource (malformed, weak, `*`, a change
id of `None`, another parcel's), 409/412 for an older state; an ETag with `None` as its
change id does not switch the stale check off, and merge, boundary correction and the
injunctions need If-Match like every other write. Every request here is refused: nothing is
written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
ORDER = {"kind": "court_order", "reference": "61/2026/QĐ-BPKCTT"}
DECISION = {"kind": "decision", "reference": "90/QĐ-UBND"}


@pytest.fixture(scope="module")
def pair(api_engine) -> dict[str, object]:
    """Two current neighbours of one sheet, without restrictions, that the other API tests
    leave alone, with their shapes (EPSG:5897)."""
    with api_engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT a.parcel_id AS a, b.parcel_id AS b, ST_AsText(a.geom) AS a_wkt, "
            "ST_AsText(b.geom) AS b_wkt FROM current_parcel a JOIN current_parcel b "
            "ON a.parcel_id < b.parcel_id AND a.geom && b.geom "
            "AND a.commune_code = b.commune_code AND a.sheet_number = b.sheet_number "
            "AND ST_Relate(a.geom, b.geom, 'F***1****') WHERE a.parcel_id BETWEEN 60 AND 90 "
            "AND NOT EXISTS (SELECT 1 FROM current_restriction r "
            "                WHERE r.parcel_id IN (a.parcel_id, b.parcel_id)) "
            "ORDER BY a.parcel_id LIMIT 1")).one()
    return dict(row._mapping)


def _tag(client, officer, parcel) -> str:
    return client.get(f"{API}/parcels/{parcel}", headers=officer).headers["etag"]


def _state(tag: str) -> tuple[str, str]:
    """The parcel-change part and the hash part of a parcel ETag."""
    head, _, digest = tag.strip('"').partition(".")
    return head, digest


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def _one_parcel_writes(pair) -> list[tuple[str, dict]]:
    a = pair["a"]
    return [
        ("transfer", {"parcel_id": a, "holders": [{"party_id": 1}],
                      "source": {"kind": "contract", "reference": "HĐ 1"}}),
        ("mortgage", {"parcel_id": a, "lender_party_id": 1,
                      "source": {"kind": "contract", "reference": "HĐTC 1"}}),
        ("mortgage-release", {"parcel_id": a, "reference": "HĐTC 1", "source": DECISION}),
        ("injunction", {"parcel_id": a, "source": ORDER}),
        ("injunction-release", {"parcel_id": a, "reference": "61/2026", "source": ORDER}),
        ("purpose", {"parcel_id": a, "purposes": [{"code": "ODT"}], "source": DECISION}),
        ("split", {"parcel_id": a, "cut_line": "LINESTRING(0 0, 1 1)", "source": DECISION}),
    ]


OPERATIONS = ["transfer", "mortgage", "mortgage-release", "injunction", "injunction-release",
              "purpose", "split"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_parcel_change_needs_if_match(client, headers, pair, operation):
    body = dict(_one_parcel_writes(pair))[operation]
    officer = headers("land_officer")
    url = f"{API}/changes/{operation}"
    assert _refused(client.post(url, json=body, headers=officer), 428)["code"] == \
        "precondition-required"
    assert _refused(client.post(url, json=body, headers={**officer, "If-Match": "*"}), 428)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_change_id_of_none_is_no_precondition(client, headers, pair, operation):
    body = dict(_one_parcel_writes(pair))[operation]
    officer = headers("land_officer")
    head, digest = _state(_tag(client, officer, pair["a"]))
    url = f"{API}/changes/{operation}"
    for forged in (f'"{pair["a"]}-None.{digest}"', f'"{pair["a"]}-null.{digest}"',
                   f'"{pair["a"]}-.{digest}"', f'W/"{head}.{digest}"', f'"{head}"'):
        _refused(client.post(url, json=body, headers={**officer, "If-Match": forged}), 412)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_older_state_is_409_naming_the_change(client, headers, pair, operation):
    body = dict(_one_parcel_writes(pair))[operation]
    officer = headers("land_officer")
    head, digest = _state(_tag(client, officer, pair["a"]))
    older = f'"{pair["a"]}-0.{digest}"'  # no change has id 0: a state before every change
    refused = _refused(client.post(f"{API}/changes/{operation}", json=body,
                                   headers={**officer, "If-Match": older}), 409)
    assert refused["code"] == "stale-parcel"
    assert f"change #{head.split('-')[1]}" in refused["detail"]


def _two_parcel_writes(pair) -> dict[str, dict]:
    return {
        "merge": {"parcel_ids": [pair["a"], pair["b"]], "allow_different_holders": True,
                  "source": DECISION},
        "boundary-correction": {"first_parcel_id": pair["a"], "first": pair["a_wkt"],
                                "second_parcel_id": pair["b"], "second": pair["b_wkt"],
                                "source": {"kind": "survey", "reference": "BB 14/2026"}},
    }


@pytest.mark.parametrize("operation", ["merge", "boundary-correction"])
def test_a_change_of_two_parcels_needs_the_etag_of_each(client, headers, pair, operation):
    body = _two_parcel_writes(pair)[operation]
    officer = headers("land_officer")
    url = f"{API}/changes/{operation}"
    a, b = _tag(client, officer, pair["a"]), _tag(client, officer, pair["b"])
    other = _tag(client, officer, 1)
    _refused(client.post(url, json=body, headers=officer), 428)
    only_a = _refused(client.post(url, json=body, headers={**officer, "If-Match": a}), 428)
    assert f"no ETag of parcel {pair['b']}" in only_a["detail"]
    for listed in (f"{a}, {a}", f"{a}, {b}, {other}", f"{a}, {other}",
                   f'{a}, "{pair["b"]}-None.{_state(b)[1]}"', f"{a} {b}"):
        _refused(client.post(url, json=body, headers={**officer, "If-Match": listed}), 412)
    older_b = f'"{pair["b"]}-0.{_state(b)[1]}"'
    stale = _refused(client.post(url, json=body,
                                 headers={**officer, "If-Match": f"{a}, {older_b}"}), 409)
    assert f"parcel {pair['b']} was changed" in stale["detail"]


# -- dossiers --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dossier(client, headers, pair) -> dict[str, object]:
    """A mortgage dossier in processing on the pair's first parcel."""
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Hoàng Văn Điều", "phone": "0912000111"},
            "parcel_ids": [pair["a"]], "documents": [
                "Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp",
                "Giấy chứng nhận bản gốc"]}
    clerk = headers("counter_clerk")
    created = client.post(f"{API}/dossiers", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    moved = client.post(f"{API}/dossiers/{code}/transitions", json={"to": "in_processing"},
                        headers={**clerk, "If-Match": created.headers["etag"]})
    assert moved.status_code == 200, moved.text
    return {"code": code, "etag": moved.headers["etag"], "created_etag": created.headers["etag"]}


def _dossier_writes(dossier) -> list[tuple[str, str, dict]]:
    code = dossier["code"]
    return [
        ("land_officer", f"{API}/dossiers/{code}/transitions", {"to": "rejected", "note": "x"}),
        ("counter_clerk", f"{API}/dossiers/{code}/apology",
         {"new_due": "2099-12-31", "reason": "Chờ đo đạc"}),
    ]


def test_every_dossier_write_needs_a_current_etag(client, headers, dossier):
    for role, url, body in _dossier_writes(dossier):
        caller = headers(role)
        _refused(client.post(url, json=body, headers=caller), 428)
        _refused(client.post(url, json=body, headers={**caller, "If-Match": "*"}), 428)
        for forged in (f'"{dossier["code"]}-None"', f'W/{dossier["etag"]}',
                       '"VPDK.HN.000101.0001-1"'):
            _refused(client.post(url, json=body, headers={**caller, "If-Match": forged}), 412)
        stale = client.post(url, json=body,
                            headers={**caller, "If-Match": dossier["created_etag"]})
        assert _refused(stale, 412)["code"] == "stale-dossier", url


def test_an_approval_that_changes_a_parcel_needs_the_parcels_etag(client, headers, dossier,
                                                                 pair):
    officer = headers("land_officer")
    url = f"{API}/dossiers/{dossier['code']}/transitions"
    body = {"to": "approved", "change": {"lender_party_id": 1, "amount": 10**9}}
    alone = _refused(client.post(url, json=body,
                                 headers={**officer, "If-Match": dossier["etag"]}), 428)
    assert f"no ETag of parcel {pair['a']}" in alone["detail"]
    other = _tag(client, officer, pair["b"])
    _refused(client.post(url, json=body, headers={
        **officer, "If-Match": f"{dossier['etag']}, {other}"}), 412)
    _head, digest = _state(_tag(client, officer, pair["a"]))
    older = f'"{pair["a"]}-0.{digest}"'
    stale = client.post(url, json=body, headers={**officer,
                                                 "If-Match": f"{dossier['etag']}, {older}"})
    assert _refused(stale, 409)["code"] == "stale-parcel"
    # a parcel's ETag on a move that changes no parcel is not one of the dossier's
    _refused(client.post(url, json={"to": "rejected", "note": "x"}, headers={
        **officer, "If-Match": f"{dossier['etag']}, {other}"}), 412)


def test_a_citizens_rating_needs_the_status_pages_etag(client, dossier):
    url = f"{API}/public/dossiers/{dossier['code']}/rating"
    response = client.post(url, params={"verify": "0111"}, json={"rating": 5})
    assert response.status_code in (428, 429), response.text
    if response.status_code == 428:
        assert response.json()["code"] == "precondition-required"


def test_a_procedure_edit_needs_its_etag(client, headers):
    url = f"{API}/procedures/CAP-DOI"
    admin = headers("admin")
    _refused(client.patch(url, json={"working_days": 7}, headers=admin), 428)
    tag = client.get(url).headers["etag"]
    _refused(client.patch(url, json={"working_days": 7},
                          headers={**admin, "If-Match": '"CAP-DOI-None"'}), 412)
    stale = f'"CAP-DOI-{"0" * 32}"'
    assert _refused(client.patch(url, json={"working_days": 7},
                                 headers={**admin, "If-Match": stale}), 412)["code"] == \
        "stale-procedure"
    assert client.get(url).headers["etag"] == tag  # nothing was written
