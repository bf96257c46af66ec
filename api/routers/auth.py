"""Sign-in (OAuth2 password flow) and the caller's identity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api import ratelimit
from api.deps import Caller, read, require, write
from cadastre.access import Role, rule
from cadastre.accounts.service import sign_in, users_for_admin
from cadastre.audit.service import Actor
from cadastre.dossiers.offices import account_office

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", summary="Sign in: a short-lived bearer token")
async def token(request: Request,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    await ratelimit.sign_in(request, form.username)
    # the database checks the password (bcrypt, deliberately slow: in the thread pool) and
    # mints the token with a key the API cannot read (sql/functions/auth.sql)
    minutes = request.app.state.settings.token_minutes
    access_token = await write(
        request, lambda conn: sign_in(conn, form.username, form.password, minutes=minutes),
        who=Actor("anonymous", "anonymous", "POST /api/v1/auth/token"))
    return {"access_token": access_token, "token_type": "bearer",
            "expires_in": request.app.state.settings.token_minutes * 60}


@router.get("/auth/me", summary="Who the request is from, and what it may see")
async def me(request: Request, caller: Caller) -> dict[str, Any]:
    r = rule(caller.role)
    office = await read(request, account_office) if caller.credential else None
    return {"username": caller.username, "role": caller.role.value, "via": caller.via,
            "office": office,
            "personal_data": {"names": r.names, "national_id": r.national_id,
                              "birth": r.birth, "addresses": r.addresses,
                              "financial": r.financial}}


@router.get("/users", summary="Accounts (admin)", dependencies=[require(Role.ADMIN)])
async def users(request: Request) -> list[dict[str, Any]]:
    """Through auth_users(), which the database runs only for a proven admin."""
    return await read(request, users_for_admin)  # type: ignore[no-any-return]
