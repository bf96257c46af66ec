"""Request dependencies: the async pool and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from cadastre.access import Role
from cadastre.accounts.service import (
    Principal,
    principal_for_api_key_async,
    principal_for_token,
)
from cadastre.errors import AuthenticationFailed, Forbidden

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    from api.app import open_pool

    pool = await open_pool(request.app)
    async with pool.acquire() as conn:
        yield conn


Connection = Annotated[asyncpg.Connection, Depends(connection)]


async def principal(request: Request, token: Annotated[str | None, Depends(oauth2)]
                    ) -> Principal:
    """A bearer token, or an X-API-Key header, or the anonymous public."""
    api_key = request.headers.get("x-api-key")
    from api.app import open_pool

    if token or api_key:
        pool = await open_pool(request.app)  # also loads the signing key
    if token:
        return principal_for_token(token, request.app.state.signing_key)
    if api_key:
        async with pool.acquire() as conn:
            return await principal_for_api_key_async(conn, api_key)
    return Principal.anonymous()


Caller = Annotated[Principal, Depends(principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency admitting only these roles: 401 for the anonymous, 403 for others."""

    async def check(caller: Caller) -> Principal:
        if caller.role is Role.ANONYMOUS:
            raise AuthenticationFailed("sign in to use this endpoint")
        if caller.role not in roles:
            raise Forbidden(f"the {caller.role.value} role may not use this endpoint")
        return caller

    return Depends(check)
