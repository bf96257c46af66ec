"""A lean path for the busiest request of the counters, the parcel under a point
(`GET /api/v1/parcels/at?lon=&lat=`), as pure ASGI middleware: it answers the plain case
(WGS 84 point, no credentials, no conditional headers) with one prepared query and the
bytes PostGIS built, skipping routing, dependency injection and validation layers.
Anything else (other parameters, bad values, credentials, If-None-Match, a missing pool)
goes on to the full FastAPI route, which validates and reports errors, and so does a
request whose connection was lost; the response bytes and headers are the same either way
(tests compare them)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import CONNECTION_LOST
from api.responses import etag
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
