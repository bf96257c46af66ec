"""Appointment dates against hand-checked calendars (weekends, holidays, Tết, pauses,
remote communes), on the base calendar loaded from the pinned package (holidays, Việt Nam)
and the administrator's swap entries. The expected days are the official ones: the Labor
Code 2019 art. 112 holidays, Vietnam Culture Day 24/11 from 2026, and the government's
swaps (2024: 29/4 off for Sat 4/5, Công văn 2450/VPCP-KGVX; 2025: 2/5 off for Sat 26/4;
2026: 31/8 off for Sat 22/8)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from cadastre.dossiers.calendar import (
    add_working_days,
    appointment_date,
    load_calendar,
    office_day,
    office_today,
)
from cadastre.errors import InvalidInput


@pytest.mark.parametrize(("received", "days", "due"), [
    # Fri 27/11/2026 + 3: the clock starts Mon 30/11 -> Mon, Tue, Wed 2/12
    (date(2026, 11, 27), 3, date(2026, 12, 2)),
    # received on a Saturday: Mon is day 1
    (date(2026, 11, 28), 1, date(2026, 11, 30)),
    # Thu 12/2/2026 + 5 across Tết Bính Ngọ (14-22/2 off): Fri 13, Mon 23 .. Thu 26
    (date(2026, 2, 12), 5, date(2026, 2, 26)),
    # Wed 29/4/2026 + 2: 30/4 and 1/5 are holidays, then the weekend: Mon 4/5, Tue 5/5
    (date(2026, 4, 29), 2, date(2026, 5, 5)),
    # Fri 24/4/2026 + 1: Mon 27/4 is the day off for Hùng Kings (Sun 26/4): Tue 28/4
    (date(2026, 4, 24), 1, date(2026, 4, 28)),
    # 31/8/2026 + 1: Tue 1/9 and Wed 2/9 National Day: Thu 3/9
    (date(2026, 8, 31), 1, date(2026, 9, 3)),
    # 30 working days from 1/12/2026, across New Year 2027: 31 December days minus weekends
    (date(2026, 12, 1), 30, date(2027, 1, 13)),
    # the 2026 swap: Sat 22/8 is worked, Mon 31/8 is off
    (date(2026, 8, 21), 1, date(2026, 8, 22)),
    (date(2026, 8, 28), 1, date(2026, 9, 3)),
    # Vietnam Culture Day, Tue 24/11/2026, a paid holiday from 2026 ...
    (date(2026, 11, 23), 1, date(2026, 11, 25)),
    # ... and not in 2025: Mon 24/11/2025 is a working day
    (date(2025, 11, 21), 1, date(2025, 11, 24)),
    # 2025 (once refused: "no holiday calendar"): Sat 26/4 worked, Fri 2/5 off
    (date(2025, 4, 25), 1, date(2025, 4, 26)),
    (date(2025, 4, 29), 1, date(2025, 5, 5)),
    # Tết Ất Tỵ 2025: 27/1 (28 tháng Chạp) to 31/1 off, then the weekend
    (date(2025, 1, 24), 1, date(2025, 2, 3)),
    # 2024: Sat 4/5 worked for Mon 29/4 off
    (date(2024, 4, 26), 1, date(2024, 5, 2)),
    (date(2024, 5, 3), 1, date(2024, 5, 4)),
    # Tết Canh Tuất 2030 begins on Sat 2/2 in Việt Nam (UTC+7; 3/2 in China): Thu 31/1 and
    # Fri 1/2 (28, 29 tháng Chạp) to Wed 6/2 (mùng 5) off
    (date(2030, 1, 30), 1, date(2030, 2, 7)),
])
def test_hand_checked_appointments(conn, received, days, due):
    assert appointment_date(conn, received, days).due == due


def test_holidays_met_on_the_way_are_listed(conn):
    # Tết Bính Ngọ: 16/2 (29 tháng Chạp, the eve: tháng Chạp of Ất Tỵ has 29 days) to 20/2
    # (mùng 4) are the holidays; 14-15 and 21-22 are the weekends around them (the seed of
    # migration 0008 listed 14 and 15 as holidays too)
    result = appointment_date(conn, date(2026, 2, 12), 5)
    assert result.skipped_holidays == [
        (date(2026, 2, 16), "Tết Nguyên đán (29 tháng Chạp)"),
        (date(2026, 2, 17), "Tết Nguyên đán (mùng 1 tháng Giêng)"),
        (date(2026, 2, 18), "Tết Nguyên đán (mùng 2 tháng Giêng)"),
        (date(2026, 2, 19), "Tết Nguyên đán (mùng 3 tháng Giêng)"),
        (date(2026, 2, 20), "Tết Nguyên đán (mùng 4 tháng Giêng)")]
    assert result.describe() == "Thứ Năm, 26/02/2026"


def test_days_are_named_in_vietnamese_by_the_lunar_calendar(conn):
    calendar = load_calendar(conn)
    # the eve of Tết is the 30th when tháng Chạp is long (2024), the 29th when it is short
    assert calendar.holidays[date(2024, 2, 9)] == "Tết Nguyên đán (30 tháng Chạp)"
    assert calendar.holidays[date(2026, 2, 16)] == "Tết Nguyên đán (29 tháng Chạp)"
    # the package calls this day "29 Tết"; it is the 28th of tháng Chạp Giáp Thìn
    assert calendar.holidays[date(2025, 1, 27)] == "Tết Nguyên đán (28 tháng Chạp)"
    assert calendar.holidays[date(2026, 4, 26)] == "Giỗ Tổ Hùng Vương (mùng 10 tháng Ba)"
    assert calendar.holidays[date(2026, 4, 27)] == "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"
    assert calendar.holidays[date(2026, 11, 24)] == "Ngày Văn hóa Việt Nam"
    assert calendar.holidays[date(2026, 8, 31)] == "Nghỉ hoán đổi (làm bù thứ Bảy 22/08/2026)"
    assert calendar.holidays[date(2026, 9, 1)] == "Quốc khánh (ngày liền kề)"
    assert date(2026, 8, 22) in calendar.working_weekend_days
    assert date(2025, 11, 24) not in calendar.holidays
    assert set(range(2024, 2031)) <= calendar.years


def test_paused_days_do_not_count(conn):
    # Mon 2/11/2026 + 5 with a supplement awaited Wed 4 .. Thu 5: Tue 3, Fri 6, Mon 9, Tue 10,
    # Wed 11
    result = appointment_date(conn, date(2026, 11, 2), 5,
                              paused=[(date(2026, 11, 4), date(2026, 11, 5))])
    assert result.due == date(2026, 11, 11)
    assert result.paused_days == 2


def test_remote_communes_get_extra_days(conn):
    # of the loaded units: Xã Lũng Cú (00715), a border commune of Tuyên Quang, marked remote;
    # Phường Hoàn Kiếm (00070) is not
    conn.execute(sa.text("UPDATE admin_unit SET remote = true WHERE level = 'commune' "
                         "AND code = '00715' AND valid_to IS NULL"))
    town = appointment_date(conn, date(2026, 11, 2), 5, commune_code="00070")
    remote = appointment_date(conn, date(2026, 11, 2), 5, commune_code="00715")
    assert town.due == date(2026, 11, 9)
    assert remote.due == date(2026, 11, 23)  # 15 working days
    with pytest.raises(InvalidInput, match="unknown commune"):
        appointment_date(conn, date(2026, 11, 2), 5, commune_code="12345")


def test_no_appointment_in_a_year_without_a_calendar(conn):
    with pytest.raises(InvalidInput, match="no holiday calendar for 2040") as refused:
        appointment_date(conn, date(2040, 3, 1), 5)
    assert "cadastre calendar refresh --years 2040" in refused.value.message
    with pytest.raises(InvalidInput, match="no holiday calendar for 2031"):
        appointment_date(conn, date(2030, 12, 20), 20)


def test_cli_answers_the_phone(settings):
    from tests.cli.test_cli import run

    result = run("calendar", "due", "--from", "2026-02-12", "--days", "5",
                 env={"CADASTRE_DATABASE_URL": settings.database_url})
    assert result.returncode == 0, result.stderr
    assert "Thứ Năm, 26/02/2026" in result.stdout
    bad = run("calendar", "due", "--from", "12/02/2026", "--days", "5",
              env={"CADASTRE_DATABASE_URL": settings.database_url})
    assert bad.returncode != 0 and "not a date" in bad.stderr


def test_the_registers_day_is_viet_nams_whatever_the_sessions_time_zone(conn):
    hour = conn.execute(sa.text(
        "SELECT extract(hour FROM now() AT TIME ZONE 'Asia/Ho_Chi_Minh')")).scalar_one()
    # a session time zone whose date differs from Việt Nam's now (UTC-12 before 19:00 ICT)
    conn.execute(sa.text("SET LOCAL TIME ZONE :tz"),
                 {"tz": "Etc/GMT+12" if hour < 19 else "Etc/GMT-14"})
    now, session_day = conn.execute(sa.text("SELECT now(), current_date")).one()
    assert office_today(conn) == office_day(now) != session_day


def test_a_stored_instant_falls_on_its_day_in_viet_nam():
    assert office_day(datetime(2026, 11, 2, 18, 30, tzinfo=UTC)) == date(2026, 11, 3)
    assert office_day(datetime(2026, 11, 2, 16, 59, tzinfo=UTC)) == date(2026, 11, 2)


def test_a_horizon_may_reach_a_year_without_a_calendar_an_appointment_may_not(conn):
    calendar = load_calendar(conn)
    last = max(calendar.years)
    with pytest.raises(InvalidInput, match=f"no holiday calendar for {last + 1}"):
        add_working_days(calendar, date(last, 12, 30), 3)
    horizon = add_working_days(calendar, date(last, 12, 30), 3, beyond_calendar=True).due
    assert horizon.year == last + 1 and horizon.weekday() < 5
