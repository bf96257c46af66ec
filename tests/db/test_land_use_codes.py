"""The land-use code list of Circular 08/2024/TT-BTNMT as the database holds it, its loads
from the data files, and the database's refusal of a new purpose with an ended code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from cadastre.changes.record import record_change
from cadastre.land_use.files import (
    LEGACY_FILE,
    TYPES_FILE,
    InvalidCodeList,
    read_code_lists,
)
from cadastre.land_use.service import (
    LandUseCodeNotInForce,
    UnknownLandUseCode,
    check_new_purposes,
    code_list,
    load_code_lists,
)

SQUARE = "SRID=5897;MULTIPOLYGON(((585000 2326000,585010 2326000,585010 2326010,585000 2326010,585000 2326000)))"


def _code(conn, code):
    return conn.execute(sa.text(
        "SELECT code, name_vi, land_group, valid_from, valid_to, successor, legal_basis "
        "FROM land_use_type WHERE code = :c"), {"c": code}).one()


def test_the_list_holds_the_codes_of_circular_08_2024(conn):
    hnk, cnt = _code(conn, "HNK"), _code(conn, "CNT")
    assert hnk.name_vi == "Đất trồng cây hằng năm khác" and hnk.valid_to is None
    assert hnk.valid_from == date(2024, 8, 1) and "08/2024/TT-BTNMT" in hnk.legal_basis
    assert cnt.name_vi == "Đất chăn nuôi tập trung" and cnt.land_group == "agricultural"
    assert _code(conn, "LUC").name_vi == "Đất chuyên trồng lúa"
    assert _code(conn, "LUK").name_vi == "Đất trồng lúa còn lại"
    for ended, successor in (("BHK", "HNK"), ("NHK", "HNK"), ("LUN", "LUK"),
                             ("DDT", "DDD"), ("DSH", "DKV")):
        row = _code(conn, ended)
        assert (row.valid_to, row.successor) == (date(2024, 7, 31), successor), ended
    in_force = {r["code"] for r in code_list(conn, on=date(2026, 3, 2))}
    assert {"HNK", "CNT", "LUC", "LUK", "ODT", "DCT", "DPC"} <= in_force
    assert not {"BHK", "NHK", "LUN"} & in_force


def test_renamed_codes_keep_their_old_names_for_past_days(conn):
    names = dict(conn.execute(sa.text(
        "SELECT valid_from, name_vi FROM land_use_type_version WHERE code = 'LUC'")).all())
    assert names == {date(2014, 7, 5): "Đất chuyên trồng lúa nước",
                     date(2024, 8, 1): "Đất chuyên trồng lúa"}
    before = {r["code"]: r["name_vi"] for r in code_list(conn, on=date(2020, 1, 1))}
    assert before["LUC"] == "Đất chuyên trồng lúa nước" and "BHK" in before
    assert "HNK" not in before


def test_the_migration_loaded_exactly_the_package_files(conn):
    summary = load_code_lists(conn, read_code_lists(), dry_run=True)
    assert not summary.changed, summary.lines()
    loaded = conn.execute(sa.text(
        "SELECT types_csv, legacy_csv, loaded_by FROM land_use_list_load ORDER BY id "
        "LIMIT 1")).one()
    assert loaded.loaded_by == "migration 0024"
    assert loaded.types_csv == TYPES_FILE.read_text(encoding="utf-8")
    assert loaded.legacy_csv == LEGACY_FILE.read_text(encoding="utf-8")


def test_a_new_purpose_with_an_ended_code_is_refused_naming_the_successor(conn):
    with pytest.raises(LandUseCodeNotInForce, match="BHK ended on 2024-07-31: use HNK"):
        check_new_purposes(conn, ["ODT", "BHK"], on=date(2026, 3, 2))
    with pytest.raises(LandUseCodeNotInForce, match="HNK is in force from 2024-08-01"):
        check_new_purposes(conn, ["HNK"], on=date(2020, 1, 1))
    with pytest.raises(UnknownLandUseCode, match="XYZ"):
        check_new_purposes(conn, ["XYZ"])
    check_new_purposes(conn, ["HNK", "CNT"], on=date(2026, 3, 2))
    check_new_purposes(conn, ["BHK"], on=date(2020, 1, 1))  # what was right then


def _parcel(conn, *, begins: str | None, code: str) -> int:
    """A parcel version beginning at ``begins`` (None: now) with one land-use row."""
    change = record_change(conn, "first_registration", []).change_id
    parcel = conn.execute(sa.text(
        "INSERT INTO parcel_identity DEFAULT VALUES RETURNING parcel_id")).scalar_one()
    version = conn.execute(sa.text(
        "INSERT INTO parcel (parcel_id, commune_code, sheet_number, parcel_number, "
        "area_legal, geom, lifespan, begun_by) VALUES (:p, '00037', '99', :p, 100, "
        "ST_GeomFromEWKT(:g), tstzrange(coalesce(CAST(:b AS timestamptz), now()), NULL, "
        "'[)'), :c) RETURNING version_id"),
        {"p": parcel, "g": SQUARE, "b": begins, "c": change}).scalar_one()
    conn.execute(sa.text(
        "INSERT INTO parcel_land_use (parcel_version_id, land_use_code, area) "
        "VALUES (:v, :code, 100)"), {"v": version, "code": code})
    return int(parcel)


def test_the_database_refuses_an_ended_code_on_a_new_version_but_keeps_history(conn):
    # a version of 2020 with BHK is history as it was: allowed
    _parcel(conn, begins="2020-01-01 08:00+07", code="BHK")
    _parcel(conn, begins=None, code="HNK")
    with pytest.raises(sa.exc.IntegrityError, match="BHK ended on 2024-07-31: use HNK"), \
            conn.begin_nested():
        _parcel(conn, begins=None, code="BHK")
    # the day is Việt Nam's: 2024-07-31 23:30 in Hà Nội is still the code's last day
    _parcel(conn, begins="2024-07-31 23:30+07", code="BHK")
    with pytest.raises(sa.exc.IntegrityError, match="NHK ended"), conn.begin_nested():
        _parcel(conn, begins="2024-07-31 17:30Z", code="NHK")  # 2024-08-01 00:30 in Hà Nội


def _copy(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_administrator_ends_a_code_with_a_new_file_and_the_load_is_recorded(conn, tmp_path):
    text = TYPES_FILE.read_text(encoding="utf-8").replace(
        "DCK,Đất công trình công cộng khác,Other public works land,non_agricultural,"
        "2014-07-05,,,", "DCK,Đất công trình công cộng khác,Other public works land,"
        "non_agricultural,2014-07-05,2030-12-31,PNK,")
    assert "2030-12-31,PNK" in text
    lists = read_code_lists(_copy(tmp_path, "codes.csv", text), LEGACY_FILE)
    dry = load_code_lists(conn, lists, dry_run=True)
    assert dry.codes_ended == ["DCK"] and dry.load_id is None
    summary = load_code_lists(conn, lists)
    assert summary.codes_ended == ["DCK"] and summary.load_id is not None
    assert _code(conn, "DCK").valid_to == date(2030, 12, 31)
    assert _code(conn, "DCK").successor == "PNK"
    with pytest.raises(LandUseCodeNotInForce, match="DCK ended on 2030-12-31: use PNK"):
        check_new_purposes(conn, ["DCK"], on=date(2031, 1, 2))
    recorded = conn.execute(sa.text(
        "SELECT types_source, types_csv, summary FROM land_use_list_load WHERE id = :i"),
        {"i": summary.load_id}).one()
    assert recorded.types_csv == text and recorded.summary["codes_ended"] == ["DCK"]
    assert not load_code_lists(conn, lists).changed  # a second load changes nothing


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("\nBHK,", "\n#BHK,"), "leaves out BHK: a code is never removed"),
    (lambda t: t.replace("HNK,Đất trồng cây hằng năm khác,Other annual crop land,agricultural,"
                         "2024-08-01", "HNK,Đất trồng cây hằng năm khác,Other annual crop land,"
                         "agricultural,2024-09-01"), "successor of BHK, HNK, is not in force"),
    (lambda t: t.replace("LUC,Đất chuyên trồng lúa,Specialised rice land,agricultural,"
                         "2024-08-01", "LUC,Đất chuyên trồng lúa,Specialised rice land,"
                         "agricultural,2024-07-01"), "periods of LUC must follow each other"),
    (lambda t: t.replace(",2024-07-31,HNK,", ",2024-07-31,XXX,", 1), "XXX, is not another code"),
])
def test_a_wrong_file_is_refused_with_where(conn, tmp_path, edit, message):
    text = edit(TYPES_FILE.read_text(encoding="utf-8"))
    with pytest.raises(InvalidCodeList, match=message):
        load_code_lists(conn, read_code_lists(_copy(tmp_path, "codes.csv", text)))


def test_a_legacy_row_must_name_a_code_of_the_list(tmp_path):
    text = LEGACY_FILE.read_text(encoding="utf-8") + "ZZ,Không rõ,QQQ,,QĐ 499/QĐ-ĐC 1995\n"
    with pytest.raises(InvalidCodeList, match="line .*: QQQ is not a code of the code list"):
        read_code_lists(None, _copy(tmp_path, "legacy.csv", text))
