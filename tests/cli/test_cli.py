"""The command line as a user runs it: a real process, its exit code and what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CADASTRE = [sys.executable, "-c", "from cadastre.cli import main; main()"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CADASTRE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_every_command_has_help():
    for command in (["--help"], ["db", "--help"], ["db", "init", "--help"],
                    ["db", "upgrade", "--help"], ["db", "status", "--help"],
                    ["synth", "--help"], ["serve", "--help"], ["demo", "load", "--help"]):
        result = run(*command)
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout


def test_db_status_lists_every_migration_as_applied(settings):
    result = run("db", "status", env={"CADASTRE_DATABASE_URL": settings.database_url})
    assert result.returncode == 0, result.stderr
    for path in (settings.sql_dir / "migrations").glob("*.sql"):
        assert path.name in result.stdout
    assert "pending" not in result.stdout


def test_unreachable_database_is_one_line_and_non_zero():
    result = run("db", "status", env={"CADASTRE_DATABASE_URL": "postgresql://127.0.0.1:1/x",
                                      "CADASTRE_CONNECT_TIMEOUT_S": "1"})
    assert result.returncode != 0
    assert "cannot connect to postgresql://127.0.0.1:1/x" in result.stderr
    assert "Traceback" not in result.stderr


def test_second_init_with_another_srid_is_refused(settings):
    result = run("db", "init", "--srid", "9210",
                 env={"CADASTRE_DATABASE_URL": settings.database_url})
    assert result.returncode != 0
    assert "EPSG:5897" in result.stderr and "EPSG:9210" in result.stderr
    assert "Traceback" not in result.stderr


def test_synth_writes_a_geopackage(tmp_path: Path):
    import pyogrio

    out = tmp_path / "layer.gpkg"
    result = run("synth", "--parcels", "300", "--out", str(out))
    assert result.returncode == 0, result.stderr
    info = pyogrio.read_info(out)
    assert info["features"] == 300
    assert info["crs"] == "EPSG:5897"


def test_synth_refuses_an_unknown_format(tmp_path: Path):
    result = run("synth", "--parcels", "10", "--out", str(tmp_path / "layer.xyz"))
    assert result.returncode != 0
    assert "unknown format" in result.stderr


def test_user_commands(fresh_database):
    from cadastre.dbinit import init_database

    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    assert run("office", "add", "VPDK.HN", "--name", "Văn phòng đăng ký đất đai Hà Nội",
               "--level", "province", "--province", "01", env=env).returncode == 0
    nowhere = subprocess.run([*CADASTRE, "user", "add", "hoa", "--role", "land_officer"],
                             input="a-long-password\n", capture_output=True, text=True,
                             timeout=60, env={**os.environ, **env})
    assert nowhere.returncode != 0 and "belongs to an office" in nowhere.stderr
    added = subprocess.run([*CADASTRE, "user", "add", "hoa", "--role", "land_officer",
                            "--name", "Nguyễn Thị Hoa", "--office", "VPDK.HN"],
                           input="a-long-password\n", capture_output=True, text=True,
                           timeout=60, env={**os.environ, **env})
    assert added.returncode == 0, added.stderr
    short = subprocess.run([*CADASTRE, "user", "add", "lan", "--role", "counter_clerk",
                            "--office", "VPDK.HN"],
                           input="short\n", capture_output=True, text=True, timeout=60,
                           env={**os.environ, **env})
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    bad_role = run("user", "add", "x1y", "--role", "mayor", "--service", env=env)
    assert bad_role.returncode != 0 and "unknown role 'mayor'" in bad_role.stderr
    assert run("user", "add", "thue", "--role", "gis_analyst", "--service",
               env=env).returncode == 0
    key = run("user", "key", "thue", "--label", "tax office", env=env)
    assert key.returncode == 0 and "." in key.stdout.strip()
    listed = run("user", "list", env={**env, "COLUMNS": "200"})
    assert "hoa" in listed.stdout and "land_officer" in listed.stdout
    assert "VPDK.HN" in listed.stdout
    assert run("user", "disable", "hoa", env=env).returncode == 0
    assert "disabled" in run("user", "list", env={**env, "COLUMNS": "200"}).stdout
    missing = run("user", "disable", "nobody", env=env)
    assert missing.returncode != 0 and "no user 'nobody'" in missing.stderr


def test_change_commands(fresh_database, tmp_path):
    import sqlalchemy as sa

    from cadastre.db import create_engine
    from cadastre.dbinit import init_database
    from cadastre.synth import generate_layer, write_layer

    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(30, seed=4), path)
    assert run("import", str(path), env=env).returncode == 0
    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        parcel, party = conn.execute(sa.text(
            "SELECT parcel_id, (SELECT min(id) FROM party) FROM current_land_right "
            "WHERE kind = 'land_use' ORDER BY parcel_id LIMIT 1")).one()
    engine.dispose()
    blocked = run("change", "injunction", str(parcel), "--source-ref", "12/2026/QĐ-BPKCTT",
                  env=env)
    assert blocked.returncode == 0, blocked.stderr
    refused = run("change", "transfer", str(parcel), "--holder", f"{party}:1/1",
                  "--source-ref", "HĐ 1", env=env)
    assert refused.returncode != 0
    assert "12/2026/QĐ-BPKCTT" in refused.stderr and "Traceback" not in refused.stderr
    bad_shares = run("change", "transfer", str(parcel), "--holder", f"{party}:1/3",
                     "--source-ref", "HĐ 1", env=env)
    assert bad_shares.returncode != 0
    assert run("change", "injunction-release", str(parcel), "--reference",
               "12/2026/QĐ-BPKCTT", "--source-ref", "13/2026/QĐ", env=env).returncode == 0
    done = run("change", "transfer", str(parcel), "--holder", f"{party}:1/1",
               "--source-ref", "HĐ 1", env=env)
    assert done.returncode == 0 and "transferred" in done.stdout
