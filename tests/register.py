"""A small imported register for tests that serve it over HTTP (the API's own database, the
fuzzer's): a synthetic layer imported like a land office would, the demo's administrative
units, offices, house rights and restrictions, and one account per role (the staff at the
province's registration office, OFFICE)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Connection

from cadastre.access import OFFICE_ROLES, Role
from cadastre.accounts.service import add_user
from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.demo.loader import add_demo_extras
from cadastre.settings import Settings
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import

ROLES = ("land_officer", "counter_clerk", "gis_analyst", "supervisor", "admin")
#: The office of the accounts of the roles that belong to one (the demo's).
OFFICE = "VPDK.HN"


def account(prefix: str, role: str) -> str:
    return prefix + role.replace("_", "-")


def build_register(
    settings: Settings, directory: Path, *, parcels: int, seed: int, prefix: str,
    password: str, extra: Callable[[Connection], None] | None = None,
) -> None:
    """Create the database of ``settings`` and fill it; accounts are ``prefix`` + role."""
    init_database(settings, srid=5897)
    path = directory / "register.gpkg"
    write_layer(generate_layer(parcels, seed=seed), path)
    engine = create_engine(settings)
    try:
        run_import(engine, path, ImportOptions())
        with engine.begin() as conn:
            add_demo_extras(conn, seed=5)
            for role in ROLES:
                add_user(conn, account(prefix, role), role, password=password,
                         full_name=f"Cán bộ {role}",
                         office_code=OFFICE if Role(role) in OFFICE_ROLES else None)
            if extra is not None:
                extra(conn)
    finally:
        engine.dispose()
