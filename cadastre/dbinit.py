"""`cadastre db init`: create the database if missing, enable PostGIS, apply everything.

Nothing is left half-created: a database this call created is dropped again when a later
step fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from pyproj import CRS
from pyproj.exceptions import CRSError
from sqlalchemy.engine import URL, Engine

from cadastre import migrations
from cadastre.admin.service import sync_provinces
from cadastre.admin.units import LoadReport, load_units
from cadastre.db import create_engine, database_url, describe, translate_connection_errors
from cadastre.dossiers.calendar_admin import YearLoad, ensure_loaded
from cadastre.errors import ConfigurationError, PostgisMissing
from cadastre.settings import DEFAULT_STORAGE_SRID, Settings


@dataclass(frozen=True, slots=True)
class InitResult:
    created_database: bool
    storage_srid: int
    applied: list[str]
    provinces_added: int
    calendar_years: list[YearLoad] = field(default_factory=list)  # loaded or reloaded
    admin_units: LoadReport | None = None  # districts and communes from the pinned packages


def check_storage_srid(srid: int) -> None:
    """A storage SRID must be a projected CRS in metres (legal areas are planar areas)."""
    try:
        crs = CRS.from_epsg(srid)
    except CRSError as exc:
        raise ConfigurationError(f"EPSG:{srid} is not a known CRS") from exc
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        raise ConfigurationError(
            f"EPSG:{srid} ({crs.name}) cannot be the storage SRID: areas must be measured in "
            "a projected CRS in metres",
            hint="use the province's VN-2000 TM-3 zone, e.g. --srid 5897 for Hà Nội",
        )


def _maintenance_url(url: URL) -> URL:
    return url.set(database="postgres")


def create_database_if_missing(settings: Settings) -> bool:
    url = database_url(settings)
    name = url.database
    if not name:
        raise ConfigurationError("CADASTRE_DATABASE_URL names no database")
    admin = create_engine(settings, url=_maintenance_url(url), isolation_level="AUTOCOMMIT")
    try:
        with translate_connection_errors(url), admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(sa.text(f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8'"))
            return True
    finally:
        admin.dispose()


def drop_database(settings: Settings, *, url: URL | None = None) -> None:
    target = url or database_url(settings)
    admin = create_engine(settings, url=_maintenance_url(target), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(str(target.database))
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        admin.dispose()


def check_postgis(engine: Engine) -> None:
    with engine.connect() as conn:
        available = conn.execute(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        ).scalar()
    if not available:
        raise PostgisMissing(
            f"PostGIS is not installed on the server of {describe(engine.url)}",
            hint="install it: apt-get install postgresql-15-postgis-3 (make setup does this)",
        )


def init_database(settings: Settings, *, srid: int | None = None) -> InitResult:
    if srid is not None:
        check_storage_srid(srid)
    created = create_database_if_missing(settings)
    engine = create_engine(settings)
    try:
        with translate_connection_errors(engine.url):
            check_postgis(engine)
            with engine.connect() as conn:
                recorded = migrations.read_setting(conn, "storage_srid")
            wanted = srid if srid is not None else (None if recorded else DEFAULT_STORAGE_SRID)
            applied = migrations.upgrade(engine, settings.sql_dir, storage_srid=wanted)
            with engine.begin() as conn:
                actual = migrations.storage_srid(conn)
                added = sync_provinces(conn)
                units = load_units(conn)
                calendar_years = ensure_loaded(conn)
        return InitResult(created, actual, applied, added, calendar_years, units)
    except BaseException:
        engine.dispose()
        if created:
            drop_database(settings)
        raise
    finally:
        engine.dispose()
