"""Application factory. The engine is built at start-up from the settings passed in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.responses import JSONResponse
from api.routers import health
from cadastre import __version__
from cadastre.db import create_engine, session_factory
from cadastre.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Cadastre API",
        version=__version__,
        summary="Land parcels, rights and one-stop land dossiers (LADM, Vietnamese profile).",
        default_response_class=JSONResponse,
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)
    app.include_router(health.router)
    return app
