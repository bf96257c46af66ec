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
    added = subprocess.run([*CADASTRE, "user", "add", "hoa", "--role", "land_officer",
                            "--name", "Nguyễn Thị Hoa"], input="a-long-password\n",
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, **env})
    assert added.returncode == 0, added.stderr
    short = subprocess.run([*CADASTRE, "user", "add", "lan", "--role", "counter_clerk"],
                           input="short\n", capture_output=True, text=True, timeout=60,
                           env={**os.environ, **env})
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    bad_role = run("user", "add", "x1y", "--role", "mayor", "--service", env=env)
    assert bad_role.returncode != 0 and "unknown role 'mayor'" in bad_role.stderr
    assert run("user", "add", "thue", "--role", "gis_analyst", "--service",
               env=env).returncode == 0
    key = run("user", "key", "thue", "--label", "tax office", env=env)
    assert key.returncode == 0 and "." in key.stdout.strip()
    listed = run("user", "list", env={**env, "COLUMNS": "200"})
    assert "hoa" in listed.stdout and "land_officer" in listed.stdout
    assert run("user", "disable", "hoa", env=env).returncode == 0
    assert "disabled" in run("user", "list", env={**env, "COLUMNS": "200"}).stdout
    missing = run("user", "disable", "nobody", env=env)
    assert missing.returncode != 0 and "no user 'nobody'" in missing.stderr
