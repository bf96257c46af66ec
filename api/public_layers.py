"""What the OGC API and the tile routes share: the pool, cached collection extents and
responses for public data (the same for every caller, so cacheable by anyone)."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import orjson
from fastapi import Request, Response

from api.preconditions import client_has
from api.responses import etag
from cadastre.layers import crs as crs_list
from cadastre.layers import features, registry

JSON = "application/json"
PUBLIC = "public, max-age=60"
_EXTENT_SECONDS = 300
_extents: dict[tuple[int, str], tuple[float, features.Extent]] = {}
_offers: dict[int, tuple[crs_list.OutputCrs, ...]] = {}


async def pool(request: Request) -> asyncpg.Pool:
    from api.app import open_pool

    return await open_pool(request.app)


def any_origin(request: Request) -> dict[str, str]:
    """``Access-Control-Allow-Origin: *`` when CADASTRE_PUBLIC_LAYERS_ANY_ORIGIN says so;
    otherwise the public layers follow CADASTRE_CORS_ORIGINS like every other route."""
    return ({"Access-Control-Allow-Origin": "*"}
            if request.app.state.settings.public_layers_any_origin else {})


def respond(request: Request, body: bytes, media_type: str,
            headers: dict[str, str] | None = None) -> Response:
    """The body with a strong ETag (304 when the client has it), cacheable by anyone."""
    tag = etag(body)
    common = {"ETag": tag, "Cache-Control": PUBLIC, **any_origin(request), **(headers or {})}
    if client_has(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=common)
    return Response(content=body, media_type=media_type, headers=common)


def json_document(request: Request, document: Any, media_type: str = JSON) -> Response:
    return respond(request, orjson.dumps(document), media_type)


async def extent(request: Request, layer: registry.Layer) -> features.Extent:
    """The collection's extent, kept for a few minutes (it moves only with imports)."""
    key = (id(request.app), layer.id)
    cached = _extents.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    async with (await pool(request)).acquire() as conn:
        found = await features.extent(conn, layer)
    _extents[key] = (time.monotonic() + _EXTENT_SECONDS, found)
    return found


async def offer(request: Request) -> tuple[crs_list.OutputCrs, ...]:
    """The CRSs offered (those of the list the database can transform to), read once."""
    found = _offers.get(id(request.app))
    if found is None:
        connections = await pool(request)
        storage_srid: int = request.app.state.storage_srid
        async with connections.acquire() as conn:
            known = await conn.fetch("SELECT srid FROM spatial_ref_sys WHERE srid = ANY($1)",
                                     list(crs_list.candidates(storage_srid)))
        found = _offers[id(request.app)] = crs_list.offered(
            storage_srid, frozenset(r["srid"] for r in known))
    return found
