"""Keeping the calendar: the base calendar loaded from the pinned package (refresh, and the
configured years on db init / upgrade), and the administrator's versioned swap entries."""

from __future__ import annotations

from datetime import date
from importlib.metadata import version

import pytest
import sqlalchemy as sa

from cadastre.dossiers import calendar_admin
from cadastre.dossiers.calendar import appointment_date, load_calendar
from cadastre.errors import Conflict, InvalidInput, NotFound

SOURCE = f"holidays {version('holidays')} (VN)"


def test_the_configured_years_are_loaded_from_the_pinned_package(conn):
    loaded = calendar_admin.loaded_years(conn)
    assert set(range(2024, 2031)) <= set(loaded)
    assert set(loaded.values()) == {SOURCE}
    assert conn.execute(sa.text(
        "SELECT count(*) FROM public_holiday WHERE source = 'seed (check)'")).scalar_one() == 0
    # a second run changes nothing
    assert calendar_admin.ensure_loaded(conn) == []
    assert {load.action for load in calendar_admin.refresh(conn)} == {"unchanged"}


def test_a_year_without_data_is_loaded_by_refresh(conn):
    with pytest.raises(InvalidInput, match="cadastre calendar refresh --years 2040"):
        appointment_date(conn, date(2040, 8, 31), 1)
    [load] = calendar_admin.refresh(conn, years=[2040])
    assert (load.year, load.action, load.source) == (2040, "loaded", SOURCE)
    # Sun 2/9/2040 Quốc khánh, Mon 3/9 its adjacent day, Tue 4/9 the substitute
    assert appointment_date(conn, date(2040, 8, 31), 1).due == date(2040, 9, 5)
    assert calendar_admin.year_calendar(conn, 2040)["source"] == SOURCE


def test_upgrade_reloads_a_year_of_another_package_version_and_loads_a_missing_one(conn):
    conn.execute(sa.text("UPDATE calendar_year SET source = 'holidays 0.60 (VN)' "
                         "WHERE year = 2026"))
    conn.execute(sa.text("DELETE FROM public_holiday WHERE day >= '2027-01-01' "
                         "AND day < '2028-01-01'"))
    conn.execute(sa.text("DELETE FROM calendar_year WHERE year = 2027"))
    changed = {load.year: load.action for load in calendar_admin.ensure_loaded(conn)}
    assert changed == {2026: "updated", 2027: "loaded"}
    assert calendar_admin.loaded_years(conn)[2026] == SOURCE
    assert date(2027, 11, 24) in load_calendar(conn).holidays


def test_years_are_read_as_a_list_or_a_range(conn):
    assert calendar_admin.parse_years("2024-2026,2030") == [2024, 2025, 2026, 2030]
    for bad in ("20x6", "2030-2024", "2000-2100"):
        with pytest.raises(InvalidInput):
            calendar_admin.parse_years(bad)
    with pytest.raises(InvalidInput, match="covers 1995 to 2099, not 2200"):
        calendar_admin.refresh(conn, years=[2030, 2200])


def test_the_public_calendar_of_a_year(conn):
    days = {d["day"]: d for d in calendar_admin.year_calendar(conn, 2026)["days"]}
    assert days[date(2026, 8, 22)]["kind"] == "working_day"
    assert days[date(2026, 8, 22)]["weekday"] == "Thứ Bảy"
    assert days[date(2026, 8, 31)]["kind"] == "day_off"
    assert days[date(2026, 11, 24)]["name"] == "Ngày Văn hóa Việt Nam"
    assert days[date(2026, 2, 16)]["source"] == SOURCE
    with pytest.raises(NotFound, match="cadastre calendar refresh --years 2041"):
        calendar_admin.year_calendar(conn, 2041)


def test_an_announced_swap_decides_its_days_and_ending_it_gives_them_back(conn):
    # a hypothetical announcement: Fri 31/12/2027 off, for Sat 18/12/2027 worked
    worked = calendar_admin.add_swap(
        conn, day=date(2027, 12, 18), kind="working_day", name="Làm bù cho ngày 31/12/2027",
        legal_basis="Thông báo số 9999/TB-BNV (thử)")
    off = calendar_admin.add_swap(
        conn, day=date(2027, 12, 31), kind="day_off", name="Nghỉ hoán đổi Tết Dương lịch",
        legal_basis="  Thông báo số 9999/TB-BNV   (thử) ")
    assert off["legal_basis"] == "Thông báo số 9999/TB-BNV (thử)"
    assert off["recorded_by"] and off["valid_until"] is None
    assert appointment_date(conn, date(2027, 12, 17), 1).due == date(2027, 12, 18)
    # 31/12 off, 1-2/1 the weekend, Mon 3/1/2028 the substitute for Sat 1/1: Tue 4/1
    assert appointment_date(conn, date(2027, 12, 30), 1).due == date(2028, 1, 4)
    days = {d["day"]: d for d in calendar_admin.year_calendar(conn, 2027)["days"]}
    assert days[date(2027, 12, 31)]["source"] == "Thông báo số 9999/TB-BNV (thử)"
    assert days[date(2027, 12, 31)]["swap_id"] == off["swap_id"]

    ended = calendar_admin.end_swap(conn, off["swap_id"], legal_basis="Thông báo 10000/TB-BNV")
    assert ended["valid_until"] is not None and ended["end_basis"] == "Thông báo 10000/TB-BNV"
    assert appointment_date(conn, date(2027, 12, 30), 1).due == date(2027, 12, 31)
    assert [s["swap_id"] for s in calendar_admin.swaps(conn, year=2027)] == [worked["swap_id"]]
    with pytest.raises(Conflict, match="was ended"):
        calendar_admin.end_swap(conn, off["swap_id"], legal_basis="again")


def test_an_edit_is_a_new_version_never_an_overwrite(conn):
    first = calendar_admin.add_swap(conn, day=date(2027, 9, 6), kind="day_off",
                                    name="Nghỉ bù", legal_basis="Thông báo 1/TB-BNV")
    second = calendar_admin.edit_swap(conn, first["swap_id"],
                                      expected_version=first["version_id"],
                                      name="Nghỉ hoán đổi Quốc khánh",
                                      legal_basis="Thông báo 2/TB-BNV")
    versions = calendar_admin.swap_versions(conn, first["swap_id"])
    assert [v["version_id"] for v in versions] == [first["version_id"], second["version_id"]]
    assert versions[0]["name"] == "Nghỉ bù" and versions[0]["ended_by"]
    assert versions[0]["valid_until"] == versions[1]["valid_since"]
    assert versions[0]["end_basis"] == "replaced: Thông báo 2/TB-BNV"
    assert load_calendar(conn).holidays[date(2027, 9, 6)] == "Nghỉ hoán đổi Quốc khánh"
    with pytest.raises(calendar_admin.StaleSwap):
        calendar_admin.edit_swap(conn, first["swap_id"], expected_version=first["version_id"],
                                 name="x")
    with pytest.raises(InvalidInput, match="nothing to change"):
        calendar_admin.edit_swap(conn, first["swap_id"], name="Nghỉ hoán đổi Quốc khánh")
    # moved to another day: checked again there
    with pytest.raises(InvalidInput, match="already a day off"):
        calendar_admin.edit_swap(conn, first["swap_id"], day=date(2027, 9, 4))
    # the database refuses a rewrite or a deletion, whoever asks
    for statement, version_id in (
            ("UPDATE calendar_swap SET name = 'x' WHERE version_id = :v", second["version_id"]),
            ("UPDATE calendar_swap SET lifespan = tstzrange(now(), NULL) WHERE version_id = :v",
             first["version_id"]),
            ("DELETE FROM calendar_swap WHERE version_id = :v", first["version_id"])):
        with pytest.raises(sa.exc.DBAPIError, match="not edited|already closed|never deleted"
                           ), conn.begin_nested():
            conn.execute(sa.text(statement), {"v": version_id})


@pytest.mark.parametrize(("day", "kind", "message"), [
    (date(2027, 9, 4), "day_off", "already a day off \\(a weekend day\\)"),
    (date(2027, 9, 2), "day_off", "already a day off \\(Quốc khánh\\)"),
    (date(2027, 9, 6), "working_day", "already a working day"),
    (date(2026, 8, 22), "working_day", "already a working day"),
    (date(2027, 9, 6), "holiday", "day_off or a working_day"),
    (date(2040, 9, 6), "day_off", "cadastre calendar refresh --years 2040"),
])
def test_an_entry_must_change_its_day(conn, day, kind, message):
    with pytest.raises(InvalidInput, match=message):
        calendar_admin.add_swap(conn, day=day, kind=kind, name="x", legal_basis="y")


def test_an_entry_needs_a_name_and_a_legal_basis_and_one_per_day(conn):
    with pytest.raises(InvalidInput, match="legal basis"):
        calendar_admin.add_swap(conn, day=date(2027, 9, 6), kind="day_off", name="Nghỉ",
                                legal_basis="   ")
    calendar_admin.add_swap(conn, day=date(2027, 9, 6), kind="day_off", name="Nghỉ",
                            legal_basis="Thông báo 1/TB-BNV")
    with pytest.raises(Conflict, match="in force on Thứ Hai 06/09/2027"):
        calendar_admin.add_swap(conn, day=date(2027, 9, 6), kind="day_off", name="Nghỉ",
                                legal_basis="Thông báo 2/TB-BNV")


def test_an_entry_may_cancel_a_swap_the_package_carries(conn):
    # were the 2026 swap withdrawn: Sat 22/8 a weekend again, Mon 31/8 worked
    calendar_admin.add_swap(conn, day=date(2026, 8, 22), kind="day_off",
                            name="Hủy làm bù", legal_basis="Thông báo (thử)")
    calendar_admin.add_swap(conn, day=date(2026, 8, 31), kind="working_day",
                            name="Hủy nghỉ hoán đổi", legal_basis="Thông báo (thử)")
    assert appointment_date(conn, date(2026, 8, 21), 1).due == date(2026, 8, 24)
    assert appointment_date(conn, date(2026, 8, 28), 2).due == date(2026, 9, 3)
