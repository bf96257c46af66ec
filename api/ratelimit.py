"""Rate limits of the endpoints a stranger can use to guess or to scrape: sign-in (per client
address and per account tried), search (per address and per account), the citizen's
dossier and feedback lookups (per address, and per code so that a 4-digit check cannot be
guessed from many addresses). The counters are in PostgreSQL (cadastre.limits.service), so
every worker process and every host of one database share them.

The client address is the socket's peer, or, when that peer is one of
``CADASTRE_TRUSTED_PROXIES``, what the proxy wrote in X-Forwarded-For (api/app.py installs
uvicorn's ProxyHeadersMiddleware for those proxies only). IPv6 clients are counted per /64,
the block one subscriber usually holds."""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Request

from cadastre.accounts.service import Principal
from cadastre.limits.service import DAY, MINUTE, Limit, hit
from cadastre.settings import Settings


def client_address(request: Request) -> str:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


async def _count(request: Request, *limits: Limit, conn: Any = None) -> None:
    """One round trip; on ``conn`` when the route holds a pooled connection already (a
    second one taken from the pool could wait for ever when every request holds one)."""
    from api.app import open_pool

    await hit(conn if conn is not None else await open_pool(request.app), limits)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def sign_in(request: Request, username: str) -> None:
    """Before the password is checked: per address, and per account so that a guess
    spread over many addresses is limited too."""
    per_minute = _settings(request).login_attempts_per_minute
    await _count(
        request,
        Limit("sign-in:address", client_address(request), per_minute, MINUTE,
              "too many sign-in attempts from this address; wait a minute"),
        Limit("sign-in:account", username.strip().casefold(), per_minute, MINUTE,
              "too many sign-in attempts for this account; wait a minute"))


async def search(request: Request, caller: Principal, conn: Any) -> None:
    per_minute = _settings(request).searches_per_minute
    limits = [Limit("search:address", client_address(request), per_minute, MINUTE,
                    "too many searches from this address; wait a minute")]
    if caller.username:
        limits.append(Limit("search:account", caller.username, per_minute, MINUTE,
                            "too many searches from this account; wait a minute"))
    await _count(request, *limits, conn=conn)


async def citizen(request: Request, code: str | None = None, *, kind: str = "dossier") -> None:
    """A citizen's lookup, feedback or rating: per address and, when it checks the digits
    of a dossier or feedback ``code``, per code from any address (per day)."""
    settings = _settings(request)
    limits = [Limit("public:address", client_address(request),
                    settings.public_lookups_per_minute, MINUTE,
                    "too many lookups from this address; wait a minute")]
    if code is not None:
        limits.append(Limit("public:code", f"{kind}:{code}",
                            settings.public_checks_per_code_per_day, DAY,
                            f"too many checks of this {kind} code today; ask the office "
                            "that received it, or try again tomorrow"))
    await _count(request, *limits)
