"""Database engine and connections. One engine per process, built from settings at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from cadastre.clock import OFFICE_TIME_ZONE
from cadastre.errors import DatabaseUnavailable
from cadastre.settings import Settings


def database_url(settings: Settings) -> URL:
    return make_url(settings.database_url)


def api_database_url(settings: Settings) -> URL:
    """Where the API connects: the database of ``database_url`` as the least-privileged
    API role (sql/functions/privileges.sql)."""
    url = database_url(settings)
    if not settings.api_database_user:
        return url
    password = settings.api_database_password
    return url.set(username=settings.api_database_user,
                   password=password.get_secret_value() if password else None)


def describe(url: URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


def create_engine(settings: Settings, *, url: URL | None = None,
                  session_settings: dict[str, str] | None = None, **kwargs: object) -> Engine:
    """The process's engine: psycopg2, bounded pool, statement timeout, app name, sessions
    in Việt Nam time (cadastre.clock), and any other ``session_settings`` (e.g. who is
    acting, for the audit trail)."""
    target = url or database_url(settings)
    options = (f"-c statement_timeout={settings.statement_timeout_ms} "
               f"-c TimeZone={OFFICE_TIME_ZONE}")
    for name, value in (session_settings or {}).items():
        escaped = value.replace("\\", "\\\\").replace(" ", "\\ ")
        options += f" -c {name}={escaped}"
    return sa.create_engine(
        target,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": settings.connect_timeout_s,
            "application_name": "cadastre",
            "options": options,
        },
        **kwargs,
    )


@contextmanager
def translate_connection_errors(url: URL) -> Iterator[None]:
    """Turn a failed or lost connection into one clear DatabaseUnavailable error."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        detail = (str(exc.orig).strip().splitlines() or ["no answer"])[0] if exc.orig else (
            "no answer")
        raise DatabaseUnavailable(
            f"cannot connect to {describe(url)}, or lost the connection: {detail}",
            hint="check CADASTRE_DATABASE_URL and that PostgreSQL is running ('make setup'). "
            "Work in progress was not committed: an import is all or nothing, and "
            "'cadastre import --history' lists the imports that were",
        ) from exc


def check_connection(engine: Engine) -> None:
    with translate_connection_errors(engine.url), engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
