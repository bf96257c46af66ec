"""`cadastre party ...` as a user runs it: a real process, its exit code, what it prints."""

from __future__ import annotations

import re

import sqlalchemy as sa

from cadastre.db import create_engine
from cadastre.dbinit import init_database
from tests.cli.test_cli import run


def test_party_commands(fresh_database):
    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    added = run("party", "add", "--kind", "individual", "--name", "Nguyễn Văn An",
                "--cccd", "001090012345", "--birth-year", "1990", "--gender", "male",
                "--address", "Số 5 Hàng Bạc", env=env)
    assert added.returncode == 0, added.stderr
    first = int(re.search(r"party #(\d+) registered", added.stdout).group(1))
    assert "CCCD 001090012345" in added.stdout and "Số 5 Hàng Bạc" in added.stdout

    again = run("party", "add", "--kind", "individual", "--name", "Nguyen Van An",
                "--cccd", "001090012345", env=env)
    assert again.returncode == 2 and f"party #{first} has this CCCD number" in again.stderr
    wrong = run("party", "add", "--kind", "individual", "--name", "Lê Thị Hoa",
                "--cccd", "001090012346", "--gender", "female", env=env)
    assert wrong.returncode == 2 and "digit 4 ('0')" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    second = run("party", "add", "--kind", "individual", "--name", "Nguyen Van An",
                 "--birth-year", "1990", env=env)
    duplicate = int(re.search(r"party #(\d+) registered", second.stdout).group(1))
    found = run("party", "find", "--name", "nguyen van an", env=env)
    assert found.returncode == 0, found.stderr
    assert f"party #{first} " in found.stdout and f"party #{duplicate} " in found.stdout
    by_number = run("party", "find", "--id-number", "001090012345", env=env)
    assert f"party #{first} " in by_number.stdout and f"#{duplicate} " not in by_number.stdout

    edited = run("party", "edit", str(first), "--phone", "0912345678", env=env)
    assert edited.returncode == 0 and "phone: 0912345678" in edited.stdout
    assert "version 2" in edited.stdout

    household = run("party", "add", "--kind", "household", "--name", "Hộ ông Nguyễn Văn An",
                    env=env)
    group = int(re.search(r"party #(\d+) registered", household.stdout).group(1))
    joined = run("party", "member-add", str(group), str(duplicate), "--role", "head",
                 "--source-ref", "Sổ hộ khẩu 1", env=env)
    assert joined.returncode == 0, joined.stderr

    merged = run("party", "merge", str(duplicate), "--into", str(first), "--source-ref",
                 "Phiếu đính chính 1", env=env)
    assert merged.returncode == 0, merged.stderr
    assert f"party #{duplicate} merged into #{first}" in merged.stdout
    assert "1 memberships" in merged.stdout
    shown = run("party", "show", str(group), env=env)
    assert f"member #{first} Nguyễn Văn An (head)" in shown.stdout
    refused = run("party", "merge", str(first), "--into", str(group), "--source-ref", "2",
                  env=env)
    assert refused.returncode == 2
    assert "only parties of one kind" in " ".join(refused.stderr.split())

    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        reads = conn.execute(sa.text(
            "SELECT count(*) FROM audit_log WHERE action = 'read_personal' AND party_id = :p"),
            {"p": first}).scalar_one()
    engine.dispose()
    assert reads >= 4  # add, find twice, edit, show: each read is recorded
