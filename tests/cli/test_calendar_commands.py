"""`cadastre calendar refresh|show|swap ...` and the calendar on `db init` / `db upgrade`, as an
administrator runs them."""

from __future__ import annotations

import re

import sqlalchemy as sa

from cadastre.db import create_engine
from tests.cli.test_cli import run


def test_an_administrator_keeps_the_calendar_from_the_command_line(fresh_database):
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    init = run("db", "init", env=env)
    assert init.returncode == 0, init.stderr
    for year in range(2024, 2031):
        assert f"holiday calendar {year}: loaded" in init.stdout
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0 and "holiday calendar" not in upgraded.stdout

    refused = run("calendar", "due", "--from", "2040-03-01", "--days", "5", env=env)
    assert refused.returncode != 0
    assert "cadastre calendar refresh --years 2040" in refused.stderr
    loaded = run("calendar", "refresh", "--years", "2040", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert re.search(r"2040: loaded \(\d+ days, holidays [0-9.]+ \(VN\)\)", loaded.stdout)
    assert run("calendar", "due", "--from", "2040-03-01", "--days", "5",
               env=env).returncode == 0
    again = run("calendar", "refresh", env=env)
    assert again.stdout.count("unchanged") == 8, again.stdout

    shown = run("calendar", "show", "2026", env={**env, "COLUMNS": "200"})
    assert "22/08/2026 Thứ Bảy" in shown.stdout and "làm việc" in shown.stdout
    assert "16/02/2026" in shown.stdout and "29 tháng Chạp" in shown.stdout

    added = run("calendar", "swap", "add", "--day", "2027-12-31", "--kind", "day_off",
                "--name", "Nghỉ hoán đổi Tết Dương lịch", "--basis",
                "Thông báo số 9999/TB-BNV (thử)", env={**env, "COLUMNS": "200"})
    assert added.returncode == 0, added.stderr
    swap_id = re.match(r"#(\d+) v\d+", added.stdout).group(1)
    assert "by os:" in added.stdout
    due = run("calendar", "due", "--from", "2027-12-30", "--days", "1", env=env)
    assert "04/01/2028" in due.stdout and "Nghỉ hoán đổi Tết Dương lịch" in due.stdout
    bad = run("calendar", "swap", "add", "--day", "2027-12-25", "--kind", "day_off",
              "--name", "x", "--basis", "y", env=env)
    assert bad.returncode != 0 and "already a day off" in bad.stderr

    edited = run("calendar", "swap", "edit", swap_id, "--basis", "Thông báo số 10000/TB-BNV",
                 env={**env, "COLUMNS": "200"})
    assert edited.returncode == 0 and "10000/TB-BNV" in edited.stdout
    ended = run("calendar", "swap", "end", swap_id, "--basis", "Thông báo số 10001/TB-BNV",
                env={**env, "COLUMNS": "200"})
    assert ended.returncode == 0 and "ended by os:" in ended.stdout
    history = run("calendar", "swap", "list", "--history", env={**env, "COLUMNS": "200"})
    assert history.stdout.count(f"#{swap_id} ") == 2
    assert "no calendar entries" in run("calendar", "swap", "list", env=env).stdout

    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            actors = set(conn.execute(sa.text(
                "SELECT DISTINCT actor FROM audit_log WHERE table_name = 'calendar_swap'"
            )).scalars())
            loaded_by = conn.execute(sa.text(
                "SELECT loaded_by FROM calendar_year WHERE year = 2040")).scalar_one()
    finally:
        engine.dispose()
    assert all(a.startswith("os:") for a in actors) and loaded_by.startswith("os:")
