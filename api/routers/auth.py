"""Sign-in (OAuth2 password flow) and the caller's identity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from api import ratelimit
from api.deps import Caller, require, write
from cadastre.access import Role
from cadastre.accounts.service import authenticate, issue_token, list_users
from cadastre.audit.service import Actor

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", summary="Sign in: a short-lived bearer token")
async def token(request: Request,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    await ratelimit.sign_in(request, form.username)
    # argon2 is deliberately slow: it runs in the thread pool, like every write
    principal = await write(request, lambda conn: authenticate(conn, form.username,
                                                               form.password),
                            who=Actor(form.username[:64], "sign-in", "POST /api/v1/auth/token"))
    access_token, _ = issue_token(principal, request.app.state.signing_key,
                                  minutes=request.app.state.settings.token_minutes)
    return {"access_token": access_token, "token_type": "bearer",
            "expires_in": request.app.state.settings.token_minutes * 60}


@router.get("/auth/me", summary="Who the request is from, and what it may see")
async def me(caller: Caller) -> dict[str, Any]:
    from cadastre.access import rule

    r = rule(caller.role)
    return {"username": caller.username, "role": caller.role.value, "via": caller.via,
            "personal_data": {"names": r.names, "national_id": r.national_id,
                              "birth": r.birth, "addresses": r.addresses}}


@router.get("/users", summary="Accounts (admin)", dependencies=[require(Role.ADMIN)])
async def users(request: Request) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        with request.app.state.engine.connect() as conn:
            return [dict(r._mapping) for r in list_users(conn)]

    return await run_in_threadpool(read)
