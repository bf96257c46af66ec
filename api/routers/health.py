"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.problems import problem
from api.responses import JSONResponse
from cadastre import __version__
from cadastre.health import database_facts

router = APIRouter(tags=["health"])


def _probe(request: Request) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        return database_facts(conn)


@router.get("/health", summary="200 when the database answers, 503 otherwise")
async def health(request: Request) -> JSONResponse:
    try:
        database = await run_in_threadpool(_probe, request)
    except Exception:
        return problem(503, "database-unavailable", "Service Unavailable",
                       "the database does not answer")
    return JSONResponse({"status": "ok", "version": __version__, "database": database})
