"""Test fixtures: a throwaway PostGIS database per run, migrated once; each test runs inside
a transaction that is rolled back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from cadastre.db import create_engine
from cadastre.dbinit import drop_database, init_database
from cadastre.settings import Settings


def make_test_settings(base: Settings | None = None, *, name: str | None = None) -> Settings:
    """Settings pointing at a new database name on the configured server."""
    base = base or Settings()
    from sqlalchemy.engine import make_url

    url = make_url(base.database_url).set(
        database=name or f"cadastre_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    )
    return base.model_copy(update={"database_url": url.render_as_string(hide_password=False)})


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    test_settings = make_test_settings()
    init_database(test_settings, srid=5897)
    yield test_settings
    drop_database(test_settings)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session(conn: Connection) -> Iterator[Session]:
    """An ORM session joined to the rolled-back transaction (its commits are savepoints)."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def fresh_database() -> Iterator[Settings]:
    """Settings for a database that does not exist yet; dropped after the test."""
    fresh = make_test_settings()
    yield fresh
    drop_database(fresh)
