"""OGC API - Features at /ogc (Part 1 core, GeoJSON, OpenAPI 3.0; Part 2 CRS): public
layers of the register, with no personal data, so the same for every caller. Parameters
are read by hand: the standard wants 400 (not FastAPI's 422) for a bad value and for a
parameter it does not define, and a property filter is any of the collection's
filterable properties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from api import ogc_documents as documents
from api.public_layers import extent, json_document, offer, pool, respond
from cadastre import __version__
from cadastre.errors import InvalidParameter
from cadastre.layers import crs as crs_list
from cadastre.layers import features, registry
from cadastre.layers.params import MAX_LIMIT, parse_items

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


async def _collection(request: Request, layer: registry.Layer) -> dict[str, Any]:
    tiles_base = str(request.base_url).rstrip("/") + "/tiles"
    return documents.collection(_base(request), layer, await extent(request, layer),
                                await offer(request), tiles_base)


@router.get("", summary="Landing page")
async def landing(request: Request) -> Response:
    return json_document(request, documents.landing(_base(request), request.app.title))


@router.get("/conformance", summary="Conformance classes")
async def conformance(request: Request) -> Response:
    return json_document(request, documents.conformance())


@router.get("/api", summary="OpenAPI 3.0 definition of /ogc")
async def api_definition(request: Request) -> Response:
    document = documents.openapi(_base(request), __version__, await offer(request))
    return json_document(request, document, documents.OPENAPI)


@router.get("/collections", summary="The collections")
async def collections(request: Request) -> Response:
    found = [await _collection(request, layer) for layer in registry.LAYERS.values()]
    return json_document(request, documents.collections(_base(request), found,
                                                        await offer(request)))


@router.get("/collections/{collection_id}", summary="One collection")
async def collection(request: Request, collection_id: str) -> Response:
    layer = registry.layer(collection_id)
    return json_document(request, await _collection(request, layer))


@router.get("/collections/{collection_id}/schema", summary="JSON Schema of the features")
async def schema(request: Request, collection_id: str) -> Response:
    layer = registry.layer(collection_id)
    return json_document(request, documents.schema(_base(request), layer), documents.SCHEMA)


@router.get("/collections/{collection_id}/items", summary="Features",
            description=f"bbox, bbox-crs, crs, datetime, limit (at most {MAX_LIMIT}) and "
            "the collection's property filters; see /ogc/api.")
async def items(request: Request, collection_id: str) -> Response:
    layer = registry.layer(collection_id)
    connections = await pool(request)
    storage_srid: int = request.app.state.storage_srid
    query = parse_items(layer, request.query_params, await offer(request))
    async with connections.acquire() as conn:
        page = await features.items(conn, layer, query, storage_srid)
    url = request.url
    own = f"{_base(request)}/collections/{layer.id}"
    links = [documents.link(str(url), "self", documents.GEOJSON, "This page"),
             documents.link(own, "collection", documents.JSON, layer.title)]
    if page.next_after is not None:
        following = str(url.include_query_params(after=str(page.next_after)))
        links.append(documents.link(following, "next", documents.GEOJSON, "Next page"))
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body = (b'{"type":"FeatureCollection","features":[' + ",".join(page.features).encode()
            + b'],"links":' + orjson.dumps(links) + b',"numberReturned":'
            + str(len(page.features)).encode() + b',"timeStamp":"' + stamp.encode() + b'"}')
    return respond(request, body, documents.GEOJSON,
                    {"Content-Crs": query.out.content_crs})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
async def feature(request: Request, collection_id: str, feature_id: str) -> Response:
    layer = registry.layer(collection_id)
    connections = await pool(request)
    storage_srid: int = request.app.state.storage_srid
    unknown = [k for k in request.query_params if k not in ("crs", "f")]
    if unknown:
        raise InvalidParameter(f"unknown parameter {unknown[0][:40]!r}",
                               hint="a feature takes crs")
    out = crs_list.parse_crs(request.query_params.get("crs"), await offer(request))
    async with connections.acquire() as conn:
        text = await features.feature(conn, layer, feature_id, out, storage_srid)
    own = f"{_base(request)}/collections/{layer.id}"
    links = [documents.link(str(request.url), "self", documents.GEOJSON, "This feature"),
             documents.link(own, "collection", documents.JSON, layer.title)]
    body = text[:-1].encode() + b',"links":' + orjson.dumps(links) + b"}"
    return respond(request, body, documents.GEOJSON, {"Content-Crs": out.content_crs})
