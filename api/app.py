"""Application factory. The engines are built at start-up from the settings passed in: a
SQLAlchemy engine (psycopg2) for writes and administrative reads, and an asyncpg pool for
the hot read paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from api import docs, limits, problems
from api.fastpath import ParcelFileFastPath, PointLookupFastPath
from api.origin import ProxyHeadersMiddleware, PublicOrigin
from api.query_params import DEFINED_PARAMETERS_ONLY
from api.responses import JSONResponse
from api.routers import (
    audit,
    auth,
    calendar,
    certificates,
    changes,
    dossiers,
    exports,
    feedback,
    health,
    offices,
    ogc,
    parcels,
    parties,
    prices,
    tiles,
)
from cadastre import __version__
from cadastre.clock import OFFICE_TIME_ZONE
from cadastre.db import api_database_url, create_engine
from cadastre.errors import DatabaseUnavailable
from cadastre.migrations import storage_srid
from cadastre.settings import Settings


async def _init_connection(conn: asyncpg.Connection) -> None:
    # numeric (areas, amounts) as JSON numbers
    await conn.set_type_codec("numeric", encoder=str, decoder=float, schema="pg_catalog",
                              format="text")
    # load PostGIS and PROJ in the new backend now, not in a citizen's first request
    await conn.execute("SELECT ST_Transform(ST_SetSRID(ST_MakePoint(105.8, 21.0), 4326), "
                       "5897)")


async def open_pool(app: FastAPI) -> asyncpg.Pool:
    """The async pool, opened at start-up or, when the database was down then, on the first
    request after it came back."""
    if app.state.pool is not None:
        return app.state.pool
    async with app.state.pool_lock:
        if app.state.pool is None:
            settings: Settings = app.state.settings
            engine = app.state.engine

            def facts() -> int:
                with engine.begin() as conn:
                    return storage_srid(conn)

            try:
                app.state.storage_srid = await run_in_threadpool(facts)
                app.state.pool = await asyncpg.create_pool(
                    api_database_url(settings).set(drivername="postgresql").render_as_string(
                        hide_password=False),
                    min_size=settings.api_pool_min, max_size=settings.api_pool_max,
                    init=_init_connection, reset=_reset_connection,
                    timeout=settings.connect_timeout_s,
                    server_settings={"application_name": "cadastre-api",
                                     "statement_timeout": str(settings.statement_timeout_ms),
                                     "TimeZone": OFFICE_TIME_ZONE})
            except Exception as exc:
                raise DatabaseUnavailable("the database does not answer") from exc
    return app.state.pool


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs before its next request: a transaction left open
    (a request that failed inside one) is rolled back (asyncpg does it before calling this;
    checked again here). asyncpg's default reset also sends
    `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release, one
    more round trip per request; this pool's users take no session-level advisory lock,
    LISTEN or cursor and set no session setting (auth_act and the statement timeout of an
    export are transaction-local; those with session state use the SQLAlchemy engine), so
    there is nothing for it to undo. docs/benchmarks.md, "Parcel file"."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings, url=api_database_url(settings))
        app.state.engine = engine
        app.state.pool = None
        app.state.pool_lock = asyncio.Lock()
        app.state.storage_srid = None
        try:
            await open_pool(app)
        except DatabaseUnavailable:  # serve /health as 503 and retry on later requests
            problems.log.error("database not reachable at start-up")
        try:
            yield
        finally:
            if app.state.pool is not None:
                await app.state.pool.close()
            engine.dispose()

    app = FastAPI(
        title="Cadastre API",
        version=__version__,
        summary="Land parcels, rights and one-stop land dossiers (LADM, Vietnamese profile).",
        default_response_class=JSONResponse,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    problems.install(app)
    docs.install(app)
    app.add_middleware(PointLookupFastPath)
    app.add_middleware(ParcelFileFastPath)
    app.add_middleware(limits.NoNulCharacters)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_credentials=False, allow_methods=["GET", "POST", "PATCH"],
                           allow_headers=limits.CORS_HEADERS,
                           expose_headers=limits.CORS_EXPOSED, max_age=600)
    app.add_middleware(limits.BodySizeLimit, max_bytes=settings.max_body_bytes)
    # outermost: who the client is and which host the API names, before anything reads them
    app.add_middleware(PublicOrigin, base_url=settings.public_base_url)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    for router in (health.router, auth.router, parcels.router, changes.router,
                   dossiers.router, audit.router, exports.router, certificates.router,
                   certificates.public_router, calendar.router, parties.router,
                   offices.router, feedback.router, prices.router):
        # a query parameter an operation does not define is a 400 (api/query_params.py);
        # the OGC routes check theirs themselves, tiles ignore them (cache-busting keys)
        app.include_router(router, dependencies=[DEFINED_PARAMETERS_ONLY])
    app.include_router(ogc.router)
    app.include_router(tiles.router)
    return app
