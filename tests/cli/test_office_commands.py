"""`cadastre office ...`, `cadastre delegation ...`, `cadastre feedback ...` and
`cadastre user set-office`, as an admin or a supervisor runs them: a real process, its exit
code, what it prints."""

from __future__ import annotations

import sqlalchemy as sa

from cadastre.accounts.service import add_user
from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.dossiers import feedback
from tests.cli.test_cli import run


def test_offices_delegations_and_the_feedback_queue_from_the_command_line(fresh_database):
    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url, "COLUMNS": "200"}
    engine = create_engine(fresh_database)
    # Phường Hoàn Kiếm (00070) is one of the communes `db init` loads (cadastre/admin/units.py)
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT name FROM admin_unit WHERE level = 'commune' AND code = '00070' "
            "AND valid_to IS NULL")).scalar_one() == "Phường Hoàn Kiếm"
    try:
        assert run("office", "add", "VPDK.HN", "--name", "Văn phòng đăng ký đất đai Hà Nội",
                   "--level", "province", "--province", "01", env=env).returncode == 0
        unknown = run("office", "add", "UBND.00099", "--name", "UBND", "--level", "commune",
                      "--province", "01", "--commune", "00099", env=env)
        assert unknown.returncode != 0 and "unknown commune '00099'" in unknown.stderr
        assert "Traceback" not in unknown.stderr
        ward = run("office", "add", "UBND.00070", "--name", "UBND phường Hoàn Kiếm",
                   "--level", "commune", "--province", "01", "--commune", "00070", env=env)
        assert ward.returncode == 0, ward.stderr
        assert run("office", "edit", "UBND.00070", "--phone", "02438250000",
                   env=env).returncode == 0
        listed = run("office", "list", env=env)
        assert "UBND.00070" in listed.stdout and "02438250000" in listed.stdout

        made = run("delegation", "add", "--from", "UBND.00070", "--to", "VPDK.HN",
                   "--procedure", "TRICH-LUC", "--procedure", "CHUYEN-MUC-DICH",
                   "--decision", "12/QĐ-UBND", "--decision-date", "2026-01-05",
                   "--signer", "Chủ tịch UBND phường Hoàn Kiếm",
                   "--valid-from", "2027-01-04", "--valid-to", "2027-06-30", env=env)
        assert made.returncode == 0, made.stderr
        assert "UBND.00070 -> VPDK.HN: CHUYEN-MUC-DICH, TRICH-LUC" in made.stdout
        assert "[future]" in made.stdout
        number = made.stdout.split()[0].lstrip("#")
        twice = run("delegation", "add", "--from", "UBND.00070", "--to", "VPDK.HN",
                    "--procedure", "TRICH-LUC", "--decision", "13/QĐ-UBND",
                    "--decision-date", "2026-01-05", "--signer", "Chủ tịch",
                    "--valid-from", "2027-03-01", env=env)
        assert twice.returncode != 0 and "already delegates TRICH-LUC" in twice.stderr
        ended = run("delegation", "end", number, env=env)
        assert ended.returncode == 0, ended.stderr
        assert "[revoked]" in ended.stdout  # ended before it began: it never held
        assert "[revoked]" in run("delegation", "list", "--office", "VPDK.HN",
                                  env=env).stdout

        with engine.begin() as conn:
            add_user(conn, "officer-hk", "land_officer", password=None,
                     office_code="UBND.00070")
            code = feedback.record(conn, feedback.FeedbackIn(
                "hotline", "Chậm trích lục", "Đã 5 ngày chưa có trích lục",
                contact_phone="0987000111", office_code="UBND.00070"))["code"]
        queue = run("feedback", "queue", "--office", "UBND.00070", env=env)
        assert queue.returncode == 0, queue.stderr
        assert code in queue.stdout and "Chậm trích lục" in queue.stdout
        assert "0987000111" not in queue.stdout
        away = run("feedback", "assign", code, "--to", "nobody", env=env)
        assert away.returncode != 0 and "no active counter clerk" in away.stderr
        assert run("feedback", "assign", code, "--to", "officer-hk", env=env).returncode == 0
        answered = run("feedback", "answer", code, "--text", "Đã trả trích lục ngày 3/12.",
                       "--by", "officer-hk", env=env)
        assert answered.returncode == 0, answered.stderr
        assert code in run("feedback", "queue", "--status", "answered", env=env).stdout
        twice = run("feedback", "answer", code, "--text", "x", env=env)
        assert twice.returncode != 0 and "already answered" in twice.stderr

        moved = run("user", "set-office", "officer-hk", "VPDK.HN", env=env)
        assert moved.returncode == 0, moved.stderr
        assert "VPDK.HN" in run("user", "list", env=env).stdout
        nowhere = run("user", "set-office", "officer-hk", env=env)
        assert nowhere.returncode != 0 and "belongs to an office" in nowhere.stderr
    finally:
        engine.dispose()
