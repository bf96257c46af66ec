"""Appointment dates against hand-checked calendars (weekends, holidays, Tết, pauses,
remote communes)."""

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
])
def test_hand_checked_appointments(conn, received, days, due):
    assert appointment_date(conn, received, days).due == due


def test_holidays_met_on_the_way_are_listed(conn):
    result = appointment_date(conn, date(2026, 2, 12), 5)
    assert [d for d, _ in result.skipped_holidays] == [
        date(2026, 2, day) for day in range(14, 21)]
    assert result.describe() == "Thứ Năm, 26/02/2026"


def test_paused_days_do_not_count(conn):
    # Mon 2/11/2026 + 5 with a supplement awaited Wed 4 .. Thu 5: Tue 3, Fri 6, Mon 9, Tue 10,
    # Wed 11
    result = appointment_date(conn, date(2026, 11, 2), 5,
                              paused=[(date(2026, 11, 4), date(2026, 11, 5))])
    assert result.due == date(2026, 11, 11)
    assert result.paused_days == 2


def test_remote_communes_get_extra_days(conn):
    conn.execute(sa.text(
        "INSERT INTO admin_unit (level, code, name, remote) VALUES "
        "('commune', '09999', 'Xã vùng cao', true), ('commune', '00070', 'Phường Hàng Bạc', "
        "false)"))
    town = appointment_date(conn, date(2026, 11, 2), 5, commune_code="00070")
    remote = appointment_date(conn, date(2026, 11, 2), 5, commune_code="09999")
    assert town.due == date(2026, 11, 9)
    assert remote.due == date(2026, 11, 23)  # 15 working days
    with pytest.raises(InvalidInput, match="unknown commune"):
        appointment_date(conn, date(2026, 11, 2), 5, commune_code="12345")


def test_a_swapped_working_saturday_counts(conn):
    conn.execute(sa.text(
        "INSERT INTO public_holiday (day, name, kind, source) VALUES "
        "('2026-11-07', 'Làm bù', 'swapped_working_day', 'test')"))
    assert appointment_date(conn, date(2026, 11, 6), 1).due == date(2026, 11, 7)


def test_no_appointment_in_a_year_without_a_calendar(conn):
    with pytest.raises(InvalidInput, match="no holiday calendar for 2028"):
        appointment_date(conn, date(2027, 12, 20), 20)


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
