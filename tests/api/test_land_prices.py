"""The province's land price table: loaded from CSV or XLSX whole or not at all, one table in
force at a time, and the prices that may apply to a parcel on a day (its land use, its
commune, the road its address names)."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from cadastre.errors import ImportSourceError, InvalidInput
from cadastre.land_use import prices

API = "/api/v1"
DECISION = "Nghị quyết 99/2025/NQ-HĐND (bảng giá đất minh họa của bộ kiểm thử)"


@pytest.fixture(scope="module")
def parcel(api_engine) -> dict:
    """A residential parcel of the demo whose address names its road."""
    with api_engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT p.parcel_id, p.address FROM current_parcel p JOIN parcel_land_use u "
            "ON u.parcel_version_id = p.version_id AND u.land_use_code = 'ODT' "
            "WHERE p.address ~ '^Số [0-9]+ ' ORDER BY p.parcel_id LIMIT 1")).one()
    road = re.match(r"^Số [0-9]+[A-Za-z]? ([^,]+),", row.address).group(1)
    return {"parcel_id": row.parcel_id, "address": row.address, "road": road}


@pytest.fixture(scope="module")
def table_2026(api_engine, parcel, tmp_path_factory) -> int:
    path = tmp_path_factory.mktemp("prices") / "bang_gia_2026.xlsx"
    title = pd.DataFrame([["BẢNG GIÁ ĐẤT Ở TẠI ĐÔ THỊ", None, None, None, None, None]])
    body = pd.DataFrame([
        ["Tên đường", "Đoạn từ", "Đến", "Vị trí", "Mã loại đất", "Giá đất (đồng/m²)"],
        [parcel["road"], "Đầu phố", "Cuối phố", 1, "ODT", 250_000_000],
        [parcel["road"], "Đầu phố", "Cuối phố", 2, "ODT", 120_000_000],
        [parcel["road"], "Đầu phố", "Cuối phố", 1, "TMD", 180_000_000],
        ["Phố Không Có Thật", None, None, 1, "ODT", 90_000_000],
    ])
    with pd.ExcelWriter(path) as writer:
        pd.concat([title, body]).to_excel(writer, header=False, index=False)
    with api_engine.begin() as conn:
        loaded = prices.load_table(conn, path, province_code="01", decision=DECISION,
                                   valid_from=date(2026, 1, 1))
    assert loaded.rows == 4
    return loaded.table_id


def test_the_price_that_applies_to_a_parcel_on_a_day(client, headers, parcel, table_2026):
    url = f"{API}/parcels/{parcel['parcel_id']}/land-price"
    found = client.get(url, params={"on": "2026-12-03"}, headers=headers("land_officer"))
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["table"]["decision"] == DECISION and body["province_code"] == "01"
    assert body["basis"] == "the road named in the parcel's address"
    assert [(p["road"], p["position"], p["land_use_code"], p["price_vnd_m2"])
            for p in body["prices"]] == [(parcel["road"], 1, "ODT", 250_000_000),
                                         (parcel["road"], 2, "ODT", 120_000_000)]
    assert "position" in body["reason"]  # two positions: the office decides, not the lookup
    # before the table: none in force, said so
    before = client.get(url, params={"on": "2025-06-01"}, headers=headers("gis_analyst"))
    assert before.json()["table"] is None and "no land price table" in before.json()["reason"]
    assert client.get(url).status_code in (401, 403)
    assert client.get(url, params={"on": "1e300"},
                      headers=headers("land_officer")).status_code == 422
    listed = client.get(f"{API}/land-price-tables", params={"province": "01"}).json()
    assert any(t["decision"] == DECISION for t in listed)


def test_a_bad_table_is_refused_whole_with_every_row_named(api_engine, tmp_path, table_2026):
    path = tmp_path / "bang_gia_loi.csv"
    path.write_text("Tên đường,Vị trí,Mã loại đất,Giá đất\n"
                    "Hàng Bạc,1,ODT,abc\n"
                    "Hàng Bạc,12,ODT,1000\n"
                    ",1,ODT,1000\n"
                    "Hàng Gai,1,odt,5000\n"
                    "Hàng Gai,1,ODT,5000\n", encoding="utf-8")
    with pytest.raises(ImportSourceError) as caught, api_engine.begin() as conn:
        prices.load_table(conn, path, province_code="01", decision="x",
                          valid_from=date(2031, 1, 1))
    message = str(caught.value)
    assert "row 2: price 'abc'" in message and "row 3: position '12'" in message
    assert "row 4: neither a road nor a zone" in message
    assert "rows 5, 6: the same price twice" in message  # the code is read in capitals
    path.write_text("Tên đường,Mã loại đất,Giá đất\nHàng Bạc,BHK,1000\n", encoding="utf-8")
    with pytest.raises(ImportSourceError, match="BHK \\(ended\\)"), api_engine.begin() as conn:
        prices.load_table(conn, path, province_code="01", decision="x",
                          valid_from=date(2031, 1, 1))
    path.write_bytes(b"Ten duong,Ma loai dat,Gia dat\nH\xe0ng B\xe1c,ODT,1000\n")  # Windows-1252
    with pytest.raises(ImportSourceError, match="not UTF-8"), api_engine.begin() as conn:
        prices.load_table(conn, path, province_code="01", decision="x",
                          valid_from=date(2031, 1, 1))
    with api_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land_price_table WHERE valid_from "
                                    "= '2031-01-01'")).scalar_one() == 0


def test_a_newer_table_ends_the_one_in_force_and_never_overlaps(api_engine, tmp_path,
                                                                table_2026):
    path = tmp_path / "bang_gia_2027.csv"
    path.write_text("Khu vực,Mã loại đất,Giá đất,Mã xã\nKhu vực 1,ONT,3.500.000,00097\n",
                    encoding="utf-8")
    with api_engine.connect() as conn:
        transaction = conn.begin()
        loaded = prices.load_table(conn, path, province_code="01", decision="NQ 2027",
                                   valid_from=date(2027, 1, 1))
        ended = conn.execute(sa.text("SELECT valid_to FROM land_price_table WHERE id = :t"),
                             {"t": table_2026}).scalar_one()
        assert (loaded.ended, ended) == (table_2026, date(2026, 12, 31))
        with pytest.raises(InvalidInput, match="do not overlap"):
            prices.load_table(conn, path, province_code="01", decision="NQ bis",
                              valid_from=date(2026, 6, 1))
        transaction.rollback()
    with pytest.raises(InvalidInput, match="no province 99"), api_engine.begin() as conn:
        prices.load_table(conn, path, province_code="99", decision="x",
                          valid_from=date(2027, 1, 1))
