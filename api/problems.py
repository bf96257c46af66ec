"""RFC 9457 problem details. Domain errors map to their status and stable code, integrity
errors of the database to 409 (api/integrity.py); anything unexpected becomes a 500 with a
log id, never the exception text."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.integrity import Conflict, asyncpg_conflict, sqlalchemy_conflict
from api.responses import ProblemResponse
from cadastre.errors import CadastreError

log = logging.getLogger("cadastre.api")

#: What the async driver and the OS raise when the database server is away: the server
#: refused, reset or dropped the connection (a crash, a restart, a network cut), is starting
#: up or recovering (57P03), or ended the session (57P01/57P02). Answered 503, never 500.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, ConnectionDoesNotExistError
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)
_SERVER_GONE_SQLSTATES = ("57P01", "57P02", "57P03")


def database_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database server cannot be reached (either driver)."""
    if isinstance(exc, CONNECTION_LOST):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        code = getattr(exc.orig, "pgcode", None)
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) and (
            code is None or code.startswith("08") or code in _SERVER_GONE_SQLSTATES)
    return False


async def forget_pooled_connections(request: Request) -> None:
    """After a lost connection the pool's other connections are likely dead too (the
    same outage): have each one replaced when it is next acquired, so that the API
    recovers as soon as the server is back instead of failing once per stale connection."""
    pool = getattr(request.app.state, "pool", None)
    if pool is not None:
        await pool.expire_connections()


class PreconditionRequired(CadastreError):
    """A write without If-Match (HTTP 428)."""

    code = "precondition-required"
    status = 428


class PreconditionFailed(CadastreError):
    """An If-Match that is not an ETag of the resource (HTTP 412)."""

    code = "precondition-failed"
    status = 412


def problem(
    status: int, code: str, title: str, detail: str | None = None, **extra: Any
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"https://cadastre.example/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return ProblemResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(CadastreError)
    async def _domain(request: Request, exc: CadastreError) -> ProblemResponse:
        if exc.status >= 500:
            log_id = uuid.uuid4().hex[:12]
            log.error("%s [%s] %s", exc.code, log_id, exc.message)
            return problem(exc.status, exc.code, _title(exc.status), hint=exc.hint, log_id=log_id)
        response = problem(exc.status, exc.code, _title(exc.status), exc.message, hint=exc.hint)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if exc.status == 429 and "retry_after" in exc.context:
            response.headers["Retry-After"] = str(exc.context["retry_after"])
        if "allowed" in exc.context:
            response = problem(exc.status, exc.code, _title(exc.status), exc.message,
                               hint=exc.hint, allowed=exc.context["allowed"])
        if isinstance(exc.context.get("problem"), dict):  # members of the problem body
            response = problem(exc.status, exc.code, _title(exc.status), exc.message,
                               hint=exc.hint, **exc.context["problem"])
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem(422, "invalid-request", "Unprocessable request",
                       "the request's parameters or body are not valid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem(exc.status_code, code, _title(exc.status_code), str(exc.detail))

    async def _database_down(request: Request, exc: Exception) -> ProblemResponse:
        log.warning("database connection lost on %s %s: %s", request.method, request.url.path,
                    type(exc).__name__)
        await forget_pooled_connections(request)
        return problem(503, "database-unavailable", "Service Unavailable",
                       "the database does not answer; try again shortly")

    for lost in CONNECTION_LOST:
        app.add_exception_handler(lost, _database_down)

    @app.exception_handler(sa.exc.DBAPIError)
    async def _database_error(request: Request, exc: sa.exc.DBAPIError) -> ProblemResponse:
        if database_unreachable(exc):  # the writer engine (psycopg2) lost the server
            return await _database_down(request, exc)
        conflict = sqlalchemy_conflict(exc)
        if conflict is not None:
            return _conflict(request, conflict)
        if getattr(exc.orig, "pgcode", None) == REFUSED_BY_DATABASE:
            return _refused(request)
        return await _unexpected(request, exc)

    @app.exception_handler(asyncpg.PostgresError)
    async def _pool_error(request: Request, exc: asyncpg.PostgresError) -> ProblemResponse:
        conflict = asyncpg_conflict(exc)
        if conflict is not None:
            return _conflict(request, conflict)
        if getattr(exc, "sqlstate", None) == REFUSED_BY_DATABASE:
            return _refused(request)
        return await _unexpected(request, exc)

    @app.exception_handler(asyncpg.QueryCanceledError)
    async def _timeout(request: Request, exc: Exception) -> ProblemResponse:
        return problem(503, "query-timeout", "Service Unavailable",
                       "the query took too long and was cancelled")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        log_id = uuid.uuid4().hex[:12]
        log.exception("unexpected error [%s] on %s %s", log_id, request.method, request.url.path)
        return problem(500, "internal-error", "Internal server error",
                       "the error was logged; quote the log id when reporting it", log_id=log_id)


#: insufficient_privilege: the database refused the statement for the role the caller
#: proved (a write rule, a column the API's login may not read).
REFUSED_BY_DATABASE = "42501"


def _refused(request: Request) -> ProblemResponse:
    """The database's own refusal of the caller's role: 403, and a warning in the log, since
    the API's checks should have refused first."""
    log.warning("refused by the database's role rules on %s %s", request.method,
                request.url.path)
    return problem(403, "forbidden", "Forbidden",
                   "the database refused this for the role you proved")


def _conflict(request: Request, conflict: Conflict) -> ProblemResponse:
    log.info("%s on %s %s", conflict.code, request.method, request.url.path)
    return problem(409, conflict.code, "Conflict", conflict.detail,
                   hint="read the current state and repeat the request against it")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
