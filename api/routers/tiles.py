"""Vector tiles of the public layers (WebMercatorQuad, Mapbox Vector Tile), with a TileJSON
document per collection. Public data, the same for every caller.

Responses: 200 with the tile; 204 No Content for a tile with nothing in it and below the
layer's minimum zoom (map clients draw nothing, as for an empty tile); 304 when
If-None-Match names the current state; 404 (problem+json) for an unknown collection or an
address outside the tile matrix. Cache-Control ``public, no-cache``: clients and proxies
keep tiles but ask again each time, which costs one index scan when nothing changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from api.preconditions import client_has
from api.public_layers import any_origin, extent, json_document, pool
from cadastre.errors import TileNotFound
from cadastre.inputs import is_ascii_digits
from cadastre.layers import registry, tiles

router = APIRouter(prefix="/tiles", tags=["Vector tiles"])
_HEADERS = {"Cache-Control": "public, no-cache"}
#: Tiles each worker keeps (validated against the database on every request).
CACHE_BYTES = 64 * 1024 * 1024
_LAYER = Annotated[str, Path(description="A tile layer: " + ", ".join(registry.LAYERS),
                             json_schema_extra={"enum": list(registry.LAYERS)})]


def _index(description: str, maximum: int) -> Any:
    """A tile matrix index as the OpenAPI document shows it: an integer. The route parses it
    itself (a tile address that is not one is a 404, as for any unknown resource), so the
    schema is documentation only and costs nothing per tile."""
    return Path(description=description,
                json_schema_extra={"type": "integer", "minimum": 0, "maximum": maximum})


def _cache(request: Request) -> tiles.TileCache:
    cache: tiles.TileCache | None = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        cache = request.app.state.tile_cache = tiles.TileCache(CACHE_BYTES)
    return cache


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/tiles"


@router.get("", summary="The tile layers")
async def tile_layers(request: Request) -> Response:
    root = _root(request)
    return json_document(request, {"layers": [
        {"id": layer.id, "title": layer.title, "minzoom": layer.tile.minzoom,
         "maxzoom": layer.tile.maxzoom, "tilejson": f"{root}/{layer.id}/tilejson.json",
         "tiles": f"{root}/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"}
        for layer in registry.LAYERS.values()]})


@router.get("/{collection_id}/tilejson.json", summary="TileJSON 3.0 of a layer's tiles")
async def tilejson(request: Request, collection_id: _LAYER) -> Response:
    layer = registry.layer(collection_id)
    found = await extent(request, layer)
    url = f"{_root(request)}/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"
    return json_document(request, tiles.tilejson(layer, url, found.bbox))


@router.get("/{collection_id}/{z}/{x}/{y}.mvt", summary="One vector tile",
            description="WebMercatorQuad; attributes: parcels `land_use`, and from zoom 17 "
            "the labels `sheet` and `number` (the parcel id is the feature id). 204 when the "
            "tile is empty.",
            response_class=Response)
async def tile(request: Request, collection_id: _LAYER,
               z: Annotated[str, _index(f"Zoom level, 0 to {tiles.MAX_ZOOM}", tiles.MAX_ZOOM)],
               x: Annotated[str, _index("Column, 0 to 2^z - 1", 2**tiles.MAX_ZOOM - 1)],
               y: Annotated[str, _index("Row, 0 to 2^z - 1", 2**tiles.MAX_ZOOM - 1)],
               ) -> Response:
    layer = registry.layer(collection_id)
    if not all(is_ascii_digits(v) and len(v) <= 12 for v in (z, x, y)):
        raise TileNotFound(f"there is no tile {z[:8]}/{x[:12]}/{y[:12]}")
    zoom, column, row = int(z), int(x), int(y)
    tiles.check_address(zoom, column, row)
    async with (await pool(request)).acquire() as conn:
        found = await tiles.tile(conn, layer, zoom, column, row,
                                 request.app.state.storage_srid,
                                 if_none_match=request.headers.get("if-none-match"),
                                 cache=_cache(request))
    tag = found.etag(layer)
    headers = {**_HEADERS, **any_origin(request), "ETag": tag}
    sent = request.headers.get("if-none-match")
    if found.body is None or client_has(sent, tag):  # None: the state matched in the database
        return Response(status_code=304, headers=headers)
    if not found.body:
        return Response(status_code=204, headers=headers)
    return Response(content=found.body, media_type=tiles.MEDIA_TYPE, headers=headers)
