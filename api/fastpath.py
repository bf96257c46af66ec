"""Lean paths for the busiest requests, as pure ASGI middleware that skips routing,
dependency injection and validation layers:

- the parcel under a point (`GET /api/v1/parcels/at?lon=&lat=`), the counters' lookup: the
  plain case (WGS 84 point, no credentials, no conditional headers) in one prepared query,
  the bytes PostGIS built;
- the officer's parcel file (`GET /api/v1/parcels/{id}` with a bearer token or API key and
  no parameters): four round trips in one transaction, the credential verified and the
  role sealed by the database (auth_act, the credential a bound parameter, never statement
  text a server log could keep), the whole file in one statement
  (cadastre.parcels.queries.PARCEL_FILE_SQL), the audit rows of the personal data it shows
  written with the commit. The full route verifies the credential once more on a second
  connection and adds the framework's layers (docs/benchmarks.md, "Parcel file").

Anything else (other parameters, bad values, If-None-Match, a credential the database
refuses, a parcel that is not there, a missing pool) goes on to the full FastAPI route,
which validates and reports errors, and so does a request whose connection was lost; the
response bytes and headers are the same either way (tests compare them)."""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from api import problems
from api.problems import CONNECTION_LOST
from api.responses import etag, state_etag
from cadastre.access import Role
from cadastre.layers.crs import CRS84
from cadastre.parcels import queries

PATH = "/api/v1/parcels/at"
_WGS84 = CRS84
_DELEGATE = (b"authorization", b"x-api-key", b"if-none-match")


class PointLookupFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "GET"
                and not any(name in _DELEGATE for name, _ in scope["headers"])):
            point = _point(scope["query_string"])
            state: Any = scope["app"].state if "app" in scope else None
            pool = getattr(state, "pool", None)
            if point is not None and pool is not None:
                try:
                    async with pool.acquire() as conn:
                        body = await queries.parcels_at(conn, point[0], point[1], 4326,
                                                        _WGS84, state.storage_srid)
                except CONNECTION_LOST:
                    # A dead pooled connection or the server away: this middleware sits
                    # outside the exception handlers, so the full route answers (503
                    # problem+json, or 200 when only this connection was stale).
                    await pool.expire_connections()
                else:
                    await send({"type": "http.response.start", "status": 200,
                                "headers": _headers(body)})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


def _point(query: bytes) -> tuple[float, float] | None:
    try:
        params = dict(parse_qsl(query.decode("ascii"), strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return None
    if set(params) != {"lon", "lat"}:
        return None
    try:
        lon, lat = float(params["lon"]), float(params["lat"])
    except ValueError:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        return None
    return lon, lat


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/geo+json"),
        (b"content-length", str(len(body)).encode()),
        (b"etag", etag(body).encode()),
        (b"cache-control", b"public, max-age=60"),
        (b"vary", b"Authorization, X-API-Key"),
        (b"content-crs", _WGS84.content_crs.encode()),
    ]


FILE_PATH = re.compile(r"/api/v1/parcels/([1-9][0-9]{0,17})")
FILE_ENDPOINT = "GET /api/v1/parcels/{parcel_id}"  # the route's template, as the audit names it
_BIGINT_MAX = 2**63 - 1
#: What may go into the audit statement as a literal: a dossier code. Another is left to
#: the full route, which binds it as a parameter.
_DOSSIER = re.compile(r"[A-Za-z0-9_./-]{1,40}")
#: The whole file, in the default CRS, current.
PARCEL_FILE = queries.PARCEL_FILE_SQL[(CRS84.lat_lon, False)]
_FILE_DELEGATE = (b"if-none-match", b"if-match")


class ParcelFileFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = FILE_PATH.fullmatch(scope["path"])
            state: Any = scope["app"].state if "app" in scope else None
            pool = getattr(state, "pool", None)
            request = _file_request(scope["headers"]) if match else None
            if (match and request is not None and pool is not None
                    and int(match[1]) <= _BIGINT_MAX):
                answer = await _parcel_file(pool, int(match[1]), *request)
                if answer is not None:
                    body, headers = answer
                    await send({"type": "http.response.start", "status": 200,
                                "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


def _file_request(headers: list[tuple[bytes, bytes]]) -> tuple[str, str | None] | None:
    """The credential and the dossier the work is for, when the fast path can take them."""
    credential: str | None = None
    dossier: str | None = None
    for name, value in headers:
        if name in _FILE_DELEGATE:
            return None
        if name in (b"authorization", b"x-api-key"):
            if credential is not None:
                return None  # two credentials: the full route decides
            text = value.decode("latin-1")
            if name == b"authorization":
                scheme, _, text = text.partition(" ")
                if scheme.lower() != "bearer":
                    return None
            credential = text  # as the route reads it (FastAPI splits at the first space)
        elif name == b"x-dossier-code":
            dossier = value.decode("latin-1")[:40]
            if not _DOSSIER.fullmatch(dossier):
                return None
    if not credential:
        return None
    return credential, dossier


def _literal(text: str | None) -> str:
    # only a dossier code matching _DOSSIER comes here: no quote, no backslash
    return "NULL" if text is None else f"'{text}'"


async def _parcel_file(pool: asyncpg.Pool, parcel_id: int, credential: str,
                       dossier: str | None) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
    """The parcel file as the route answers it, or None to leave the request to the route."""
    try:
        async with pool.acquire() as conn:
            try:
                # the database checks the credential and seals the role it proves for
                # this transaction (sql/functions/auth.sql)
                await conn.execute("BEGIN")
                await conn.execute("SELECT auth_act($1, $2, $3)", credential, FILE_ENDPOINT,
                                   dossier)
                document = await conn.fetchval(PARCEL_FILE, CRS84.srid, CRS84.digits,
                                               parcel_id)
                if document is None:
                    raise LookupError(parcel_id)
                parsed = orjson.loads(document)
                feature = queries.shape_parcel_file(parsed, Role(parsed["role"]), parcel_id)
                await conn.execute(_audit_and_commit(feature, parcel_id, dossier))
            except BaseException:
                if not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.execute("ROLLBACK")
                raise
    except CONNECTION_LOST:
        await pool.expire_connections()
        return None
    except (asyncpg.PostgresError, LookupError):
        return None  # a refused credential, no such parcel, ...: the route says why
    except Exception:  # a defect here must not become a bare 500 outside the handlers
        problems.log.exception("parcel file fast path failed; the route answers instead")
        return None
    body = orjson.dumps(feature, default=str)
    tag = state_etag(f"{parcel_id}-{feature['properties']['last_change_id']}", body)
    return body, [
        (b"content-type", b"application/geo+json"),
        (b"content-length", str(len(body)).encode()),
        (b"etag", tag.encode()),
        (b"cache-control", b"private, no-cache"),
        (b"vary", b"Authorization, X-API-Key"),
        (b"content-crs", CRS84.content_crs.encode()),
    ]



def _audit_and_commit(feature: dict[str, Any], parcel_id: int, dossier: str | None) -> str:
    """The route's audit rows (api.routers.parcels.parcel), then the commit, in one round
    trip: only integers and the checked dossier code go into the statement."""
    statements = []
    shown = sorted(set(queries.parties_shown(feature)))
    if shown:
        statements.append(_audit(shown, "party", {"parcel_id": parcel_id}, "parcel file",
                                 dossier))
    restrictions, about = queries.financial_facts_shown(feature)
    if restrictions:
        statements.append(_audit(
            sorted(set(about)), "restriction",
            {"parcel_id": parcel_id, "restriction_ids": restrictions},
            "parcel file: financial facts of restrictions", dossier))
    return "; ".join([*statements, "COMMIT"])


def _audit(parties: list[int], table: str, key: dict[str, Any], reason: str,
           dossier: str | None) -> str:
    ids = ",".join(str(int(p)) for p in parties)
    return (f"SELECT audit_personal_read(NULL, NULL, '{FILE_ENDPOINT}', {_literal(dossier)}, "
            f"ARRAY[{ids}]::bigint[], '{table}', '{orjson.dumps(key).decode()}'::jsonb, "
            f"'{reason}')")
