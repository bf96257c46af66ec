"""A purpose change over HTTP with a code the 2024 list ended: 422 problem+json naming the
successor, and the successor accepted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

API = "/api/v1"
DECISION = {"kind": "decision", "reference": "519/QĐ-UBND", "issuer": "UBND phường Hoàn Kiếm"}


@pytest.fixture(scope="module")
def parcel(api_engine):
    """A held parcel of its own with one purpose and no restriction."""
    with api_engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT p.parcel_id FROM current_parcel p JOIN current_land_right r "
            "USING (parcel_id) WHERE r.kind = 'land_use' AND NOT EXISTS (SELECT 1 FROM "
            "current_restriction x WHERE x.parcel_id = p.parcel_id) AND (SELECT count(*) "
            "FROM parcel_land_use u WHERE u.parcel_version_id = p.version_id) = 1 "
            "ORDER BY p.parcel_id DESC OFFSET 23 LIMIT 1")).scalar_one()


def test_a_bhk_purpose_in_2026_is_422_naming_hnk_and_hnk_is_accepted(client, headers, parcel):
    officer = headers("land_officer")
    etag = client.get(f"{API}/parcels/{parcel}", headers=officer).headers["etag"]
    body = {"parcel_id": parcel, "purposes": [{"code": "BHK"}], "source": DECISION}
    refused = client.post(f"{API}/changes/purpose", json=body,
                          headers={**officer, "If-Match": etag})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "land-use-code-not-in-force"
    assert "BHK ended on 2024-07-31: use HNK" in problem["detail"]
    body["purposes"] = [{"code": "HNK"}]
    done = client.post(f"{API}/changes/purpose", json=body,
                       headers={**officer, "If-Match": etag})
    assert done.status_code == 201, done.text
    uses = client.get(f"{API}/parcels/{parcel}", headers=officer).json()["properties"][
        "land_use"]
    assert [(u["code"], u["name_vi"]) for u in uses] == [("HNK", "Đất trồng cây hằng năm khác")]
