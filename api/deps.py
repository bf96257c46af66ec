"""Request dependencies: the async pool and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.engine import Connection as SyncConnection

from cadastre.access import Role
from cadastre.accounts.service import Principal, principal_for_credential
from cadastre.audit.service import Actor, act_as
from cadastre.errors import AuthenticationFailed, Forbidden, InvalidInput

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def principal(request: Request, token: Annotated[str | None, Depends(oauth2)]
                    ) -> Principal:
    """A bearer token, or an X-API-Key header, or the anonymous public. The database
    verifies the credential (sql/functions/auth.sql: signature, expiry, and the account as
    it is now: disabled, deleted or changed accounts' tokens are refused at once)."""
    from api.app import open_pool

    credential = token or request.headers.get("x-api-key")
    if credential:
        pool = await open_pool(request.app)
        async with pool.acquire() as conn:
            found = await principal_for_credential(conn, credential)
    else:
        found = Principal.anonymous()
    request.state.principal = found
    return found


Caller = Annotated[Principal, Depends(principal)]


async def connection(request: Request, caller: Caller) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection. A signed-in caller's requests run in one transaction that
    begins with auth_act(): the database verifies the credential again and seals the proven
    end user for that transaction, which its views and audit rows then trust."""
    from api.app import open_pool

    pool = await open_pool(request.app)
    async with pool.acquire() as conn:
        if caller.credential is None:
            yield conn
            return
        who = actor(request)
        async with conn.transaction():
            await conn.execute("SELECT auth_act($1, $2, $3)", caller.credential,
                               who.endpoint, who.dossier_code)
            yield conn


Connection = Annotated[asyncpg.Connection, Depends(connection)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency admitting only these roles: 401 for the anonymous, 403 for others."""

    async def check(caller: Caller) -> Principal:
        if caller.role is Role.ANONYMOUS:
            raise AuthenticationFailed("sign in to use this endpoint")
        if caller.role not in roles:
            raise Forbidden(f"the {caller.role.value} role may not use this endpoint")
        return caller

    return Depends(check)


def actor(request: Request, dossier_code: str | None = None) -> Actor:
    """The end user of this request for the audit trail: account, role, the endpoint (method
    and route template) and the dossier the work is for, when there is one (from the route,
    the body, or the caller's ``X-Dossier-Code`` header saying why it looks)."""
    caller: Principal = getattr(request.state, "principal", None) or Principal.anonymous()
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    dossier = dossier_code or request.headers.get("x-dossier-code")
    return Actor(caller.username or "anonymous", caller.role.value,
                 f"{request.method} {path}", dossier[:40] if dossier else None,
                 credential=caller.credential)


T = TypeVar("T")


async def write(request: Request, operation: Callable[[SyncConnection], T], *,
                dossier_code: str | None = None, who: Actor | None = None) -> T:
    """Run ``operation`` in one transaction on the writer engine, tagged with the end user
    so that the audit triggers record who did it."""
    tagged = who or actor(request, dossier_code)

    def run() -> T:
        with _refusing_nul(), request.app.state.engine.begin() as conn:
            act_as(conn, tagged)
            return operation(conn)

    return await run_in_threadpool(run)


def read(request: Request, operation: Callable[[SyncConnection], Any]) -> Any:
    """Run ``operation`` on the writer engine without committing, with the end user's role
    known to the database (the views of personal data apply it)."""
    tagged = actor(request)

    def run() -> Any:
        with _refusing_nul(), request.app.state.engine.connect() as conn:
            act_as(conn, tagged)
            return operation(conn)

    return run_in_threadpool(run)


#: What psycopg2 raises, before sending anything, for a parameter holding U+0000.
_PSYCOPG2_NUL = "cannot contain NUL (0x00) characters"


@contextmanager
def _refusing_nul() -> Iterator[None]:
    """Text holding NUL that came in a way api.limits.NoNulCharacters does not read (a
    multipart form field) is a 422 too, not a driver error."""
    try:
        yield
    except ValueError as exc:
        if _PSYCOPG2_NUL in str(exc):
            raise InvalidInput("text may not hold a NUL character (U+0000)") from exc
        raise
