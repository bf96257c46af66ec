"""`cadastre backup` and `cadastre restore` as a user runs them: a register with imported
data is backed up, restored into a fresh database and compared table by table; damaged
archives, occupied targets and unsuitable servers are refused with one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cadastre.backup import (
    PgToolMissing,
    WrongServer,
    find_pg_tool,
    manifest_path,
    table_facts,
)
from cadastre.db import create_engine
from cadastre.dbinit import drop_database, init_database
from cadastre.demo.loader import add_demo_extras
from cadastre.settings import Settings
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import
from tests.conftest import make_test_settings

CADASTRE = [sys.executable, "-c", "from cadastre.cli import main; main()"]


def run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CADASTRE, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CADASTRE_DATABASE_URL": url,
                               "CADASTRE_CONNECT_TIMEOUT_S": "3"})


def one_line(text: str) -> str:
    return " ".join(text.split())


def facts(settings: Settings) -> dict[str, tuple[int, str | None]]:
    """Row count and checksum of every table, read independently of the command."""
    engine = create_engine(settings)
    try:
        with engine.connect() as conn, conn.begin():
            return {name: (f.rows, f.checksum) for name, f in table_facts(conn).items()}
    finally:
        engine.dispose()


def database_exists(settings: Settings) -> bool:
    engine = create_engine(settings, url=sa.engine.make_url(settings.database_url).set(
        database="postgres"))
    try:
        with engine.connect() as conn:
            name = sa.engine.make_url(settings.database_url).database
            return bool(conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name}).scalar())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Iterator[Settings]:
    """A register with an imported layer, restrictions and users, committed."""
    settings = make_test_settings()
    init_database(settings, srid=5897)
    path = Path(tmp_path_factory.mktemp("backup")) / "register.gpkg"
    write_layer(generate_layer(300, seed=11), path)
    engine = create_engine(settings)
    try:
        run_import(engine, path, ImportOptions())
        with engine.begin() as conn:
            add_demo_extras(conn, seed=3)
    finally:
        engine.dispose()
    yield settings
    drop_database(settings)


@pytest.fixture(scope="module")
def archive(source: Settings, tmp_path_factory) -> Path:
    out = Path(tmp_path_factory.mktemp("archive")) / "register.dump"
    result = run("backup", "--out", str(out), url=source.database_url)
    assert result.returncode == 0, result.stderr
    assert "backed up" in result.stdout
    return out


@pytest.fixture
def fresh() -> Iterator[Settings]:
    settings = make_test_settings()
    yield settings
    drop_database(settings)


def test_backup_writes_an_archive_and_a_manifest_of_every_table(source, archive):
    manifest = json.loads(manifest_path(archive).read_text())
    assert manifest["format"] == "cadastre-backup/1"
    assert manifest["storage_srid"] == 5897
    assert manifest["server_version_num"] >= 150000
    assert manifest["bytes"] == archive.stat().st_size
    assert len(manifest["sha256"]) == 64
    assert "0004_parcels.sql" in manifest["migrations"]
    source_facts = facts(source)
    assert {name: (t["rows"], t["checksum"]) for name, t in manifest["tables"].items()} \
        == source_facts
    assert source_facts["public.parcel"][0] == 300
    assert source_facts["public.restriction"][0] > 0


def test_restore_into_a_fresh_database_gives_every_table_back(source, archive, fresh):
    result = run("restore", str(archive), url=fresh.database_url)
    assert result.returncode == 0, result.stderr
    out = one_line(result.stdout)
    assert "created database" in out
    assert "row counts and checksums match the manifest" in out

    assert facts(fresh) == facts(source)
    # and, read without the checksum code: the same parcels, geometries and lifespans
    query = sa.text("SELECT version_id, parcel_id, ST_AsEWKB(geom), lifespan::text, "
                    "ST_SRID(geom) FROM parcel ORDER BY version_id")
    rows = []
    for settings in (source, fresh):
        engine = create_engine(settings)
        with engine.connect() as conn:
            rows.append(conn.execute(query).all())
        engine.dispose()
    assert rows[0] == rows[1] and len(rows[0]) == 300
    assert {r[4] for r in rows[1]} == {5897}
    status = run("db", "status", url=fresh.database_url)
    assert status.returncode == 0 and "pending" not in status.stdout


def test_a_table_checksum_sees_a_changed_value(fresh, archive):
    assert run("restore", str(archive), url=fresh.database_url).returncode == 0
    engine = create_engine(fresh)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            before = table_facts(conn)["public.party"]
            conn.execute(sa.text("UPDATE party SET name = name || '.' WHERE id = "
                                 "(SELECT min(id) FROM party)"))
            after = table_facts(conn)["public.party"]
            transaction.rollback()
    finally:
        engine.dispose()
    assert before.rows == after.rows and before.checksum != after.checksum


def test_a_corrupt_archive_is_refused_and_nothing_is_created(archive, fresh, tmp_path):
    damaged = tmp_path / "damaged.dump"
    shutil.copy(archive, damaged)
    shutil.copy(manifest_path(archive), manifest_path(damaged))
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))

    result = run("restore", str(damaged), url=fresh.database_url)
    assert result.returncode != 0
    assert "sha256 does not match its manifest" in one_line(result.stderr)
    assert "Traceback" not in result.stderr
    assert not database_exists(fresh)

    damaged.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    result = run("restore", str(damaged), url=fresh.database_url)
    assert result.returncode != 0 and "truncated" in one_line(result.stderr)
    assert not database_exists(fresh)


def test_missing_archive_or_manifest_is_one_clear_line(archive, fresh, tmp_path):
    result = run("restore", str(tmp_path / "nothing.dump"), url=fresh.database_url)
    assert result.returncode != 0
    assert "no such backup file" in one_line(result.stderr)
    lone = tmp_path / "lone.dump"
    shutil.copy(archive, lone)
    result = run("restore", str(lone), url=fresh.database_url)
    assert result.returncode != 0
    assert "lone.dump.manifest.json is missing" in one_line(result.stderr)
    assert "Traceback" not in result.stderr
    assert not database_exists(fresh)


def test_a_database_holding_data_is_refused_without_force_and_replaced_with_it(
        source, archive, fresh):
    init_database(fresh, srid=5897)  # a working register of its own: migrations, provinces
    before = facts(fresh)

    refused = run("restore", str(archive), url=fresh.database_url)
    assert refused.returncode != 0
    message = one_line(refused.stderr)
    assert "is not empty" in message and "schema_migration records" in message
    assert "--force" in message
    assert facts(fresh) == before  # untouched

    forced = run("restore", str(archive), "--force", url=fresh.database_url)
    assert forced.returncode == 0, forced.stderr
    assert "was dropped" in one_line(forced.stdout)
    assert facts(fresh) == facts(source)
    engine = create_engine(fresh, url=sa.engine.make_url(fresh.database_url).set(
        database="postgres"))
    with engine.connect() as conn:
        leftovers = conn.execute(sa.text(
            "SELECT datname FROM pg_database WHERE datname LIKE :p"),
            {"p": sa.engine.make_url(fresh.database_url).database + "_restore_%"}).all()
    engine.dispose()
    assert leftovers == []


def test_an_empty_existing_database_is_restored_in_place(source, archive, fresh):
    engine = create_engine(fresh, url=sa.engine.make_url(fresh.database_url).set(
        database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        name = sa.engine.make_url(fresh.database_url).database
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    engine.dispose()
    result = run("restore", str(archive), url=fresh.database_url)
    assert result.returncode == 0, result.stderr
    assert "created database" not in result.stdout
    assert facts(fresh) == facts(source)


def test_a_server_older_than_the_backup_or_without_its_roles_is_refused(
        archive, fresh, tmp_path):
    copy = tmp_path / "future.dump"
    shutil.copy(archive, copy)
    manifest = json.loads(manifest_path(archive).read_text())
    manifest_path(copy).write_text(json.dumps({**manifest, "server_version": "99.1",
                                               "server_version_num": 990001}))
    result = run("restore", str(copy), url=fresh.database_url)
    assert result.returncode != 0
    assert "made on PostgreSQL 99.1" in one_line(result.stderr)

    manifest_path(copy).write_text(json.dumps({**manifest, "roles": ["no_such_role_x"]}))
    result = run("restore", str(copy), url=fresh.database_url)
    assert result.returncode != 0
    assert "roles this server does not have: no_such_role_x" in one_line(result.stderr)
    assert not database_exists(fresh)


def test_backup_of_an_unreachable_server_is_one_line(tmp_path):
    result = run("backup", "--out", str(tmp_path / "x.dump"),
                 url="postgresql://127.0.0.1:1/cadastre")
    assert result.returncode != 0
    assert "cannot connect to postgresql://127.0.0.1:1/cadastre" in one_line(result.stderr)
    assert not (tmp_path / "x.dump").exists()


def test_pg_dump_missing_or_too_old_is_named(source, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    with pytest.raises(PgToolMissing, match="pg_dump not found"):
        find_pg_tool("pg_dump", 15, dirs=[empty])
    old = empty / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    with pytest.raises(WrongServer, match="PostgreSQL 9, older than 15"):
        find_pg_tool("pg_dump", 15, dirs=[empty])

    result = run("backup", "--out", str(tmp_path / "x.dump"), "--pg-bin",
                 str(tmp_path / "nowhere"), url=source.database_url)
    assert result.returncode != 0
    assert "pg_dump not found" in one_line(result.stderr)
    assert not (tmp_path / "x.dump").exists()
    assert list(tmp_path.glob("*.partial")) == []


def test_backup_and_restore_have_help():
    for command in ("backup", "restore"):
        result = subprocess.run([*CADASTRE, command, "--help"], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0 and "Usage" in result.stdout


def test_restore_refuses_the_servers_own_database(archive):
    result = run("restore", str(archive), url="postgresql://127.0.0.1:5432/postgres")
    assert result.returncode != 0
    assert "will not restore into the server's own database postgres" in one_line(
        result.stderr)
