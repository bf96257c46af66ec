from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from cadastre import migrations
from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.errors import (
    ConfigurationError,
    DatabaseUnavailable,
    MigrationEdited,
    MigrationError,
    SridMismatch,
)
from cadastre.settings import Settings


def _database_exists(settings: Settings) -> bool:
    name = sa.engine.make_url(settings.database_url).database
    admin = create_engine(settings, url=sa.engine.make_url(settings.database_url).set(
        database="postgres"))
    try:
        with admin.connect() as conn:
            return bool(conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name}).scalar())
    finally:
        admin.dispose()


def test_every_migration_is_applied_and_recorded(engine, settings):
    with engine.connect() as conn:
        states = migrations.status(conn, settings.sql_dir)
    files = sorted(p.name for p in (settings.sql_dir / "migrations").glob("*.sql"))
    assert [s.name for s in states] == files
    assert {s.status for s in states} == {"applied"}


def test_upgrade_again_applies_nothing(engine, settings):
    assert migrations.upgrade(engine, settings.sql_dir) == []


def test_init_is_idempotent_and_keeps_the_srid(settings):
    result = init_database(settings)
    assert result.created_database is False
    assert result.applied == []
    assert result.storage_srid == 5897
    assert result.provinces_added == 0


def test_second_init_with_another_srid_is_refused(settings):
    with pytest.raises(SridMismatch, match="EPSG:5897.*EPSG:9210"):
        init_database(settings, srid=9210)


def test_geographic_storage_srid_is_refused_before_anything_is_created(fresh_database):
    with pytest.raises(ConfigurationError, match="projected CRS in metres"):
        init_database(fresh_database, srid=4326)
    assert not _database_exists(fresh_database)


def test_geometry_columns_use_the_storage_srid(conn):
    rows = conn.execute(sa.text(
        "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns "
        "WHERE f_table_schema = 'public' ORDER BY 1")).all()
    assert {(r.f_table_name, r.srid) for r in rows} >= {
        ("parcel", 5897), ("map_sheet", 5897), ("admin_unit", 5897)}
    assert {r.type for r in rows if r.f_table_name == "parcel"} == {"MULTIPOLYGON"}


def test_edited_migration_is_refused_with_a_clear_message(fresh_database, tmp_path: Path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(fresh_database.sql_dir, sql_dir)
    settings = fresh_database.model_copy(update={"sql_dir": sql_dir})
    init_database(settings, srid=5897)
    target = sql_dir / "migrations" / "0002_admin_units.sql"
    target.write_text(target.read_text() + "\n-- an innocent-looking edit\n")
    engine = create_engine(settings)
    try:
        with pytest.raises(MigrationEdited, match="0002_admin_units.sql was edited"):
            migrations.upgrade(engine, sql_dir)
        with engine.connect() as conn:
            states = {s.name: s.status for s in migrations.status(conn, sql_dir)}
        assert states["0002_admin_units.sql"] == "EDITED after it was applied"
    finally:
        engine.dispose()


def test_new_migration_is_pending_then_applied(fresh_database, tmp_path: Path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(fresh_database.sql_dir, sql_dir)
    settings = fresh_database.model_copy(update={"sql_dir": sql_dir})
    init_database(settings, srid=5897)
    (sql_dir / "migrations" / "9000_probe.sql").write_text(
        "CREATE TABLE probe (id int, g geometry(Point, {{storage_srid}}));")
    engine = create_engine(settings)
    try:
        with engine.connect() as conn:
            pending = [s.name for s in migrations.status(conn, sql_dir) if s.status == "pending"]
        assert pending == ["9000_probe.sql"]
        assert migrations.upgrade(engine, sql_dir) == ["9000_probe.sql"]
        with engine.connect() as conn:
            srid = conn.execute(sa.text("SELECT Find_SRID('public', 'probe', 'g')")).scalar()
        assert srid == 5897
    finally:
        engine.dispose()


def test_failing_migration_rolls_back_and_a_new_database_is_dropped(fresh_database, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(fresh_database.sql_dir, sql_dir)
    (sql_dir / "migrations" / "9001_broken.sql").write_text(
        "CREATE TABLE half_made (id int);\nSELECT no_such_function();")
    settings = fresh_database.model_copy(update={"sql_dir": sql_dir})
    with pytest.raises(MigrationError, match="9001_broken.sql failed and was rolled back"):
        init_database(settings, srid=5897)
    assert not _database_exists(fresh_database)


def test_unreachable_server_is_one_clear_error(tmp_path):
    settings = Settings(database_url="postgresql://127.0.0.1:1/cadastre", connect_timeout_s=1)
    with pytest.raises(DatabaseUnavailable, match="cannot connect to postgresql://127.0.0.1:1"):
        init_database(settings)
