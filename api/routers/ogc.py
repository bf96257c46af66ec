"""OGC API - Features at /ogc (Part 1 core, GeoJSON, OpenAPI 3.0; Part 2 CRS): public
layers of the register, with no personal data, so the same for every caller. Parameters
are read by hand: the standard wants 400 (not FastAPI's 422) for a bad value and for a
parameter it does not define, and a property filter is any of the collection's
filterable properties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response

from api import ogc_documents as documents
from api.public_layers import extent, json_document, offer, pool, respond
from api.query_params import DEFINED_PARAMETERS_ONLY
from cadastre import __version__
from cadastre.errors import InvalidParameter
from cadastre.layers import crs as crs_list
from cadastre.layers import features, registry
from cadastre.layers.params import MAX_LIMIT, parse_format, parse_items
from gis.crs import VN2000_TM3_CODES

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])
#: The documents take no query parameter; items and features check theirs by hand.
_DOCUMENT = {"dependencies": [DEFINED_PARAMETERS_ONLY]}


def _documented_parameters() -> list[dict[str, Any]]:
    """What /openapi.json lists for items (the routes read the query string themselves):
    the standard parameters and every collection's property filters, with the collections
    that take each."""
    uris = [crs_list.CRS84_URI, crs_list.EPSG_URI.format(4326),
            *(crs_list.EPSG_URI.format(c) for c in VN2000_TM3_CODES)]
    found = list(documents.standard_parameters(uris).values())
    filters: dict[str, dict[str, Any]] = {}
    takers: dict[str, list[str]] = {}
    for layer in registry.LAYERS.values():
        for parameter in documents.filter_parameters(layer):
            filters.setdefault(parameter["name"], parameter)
            takers.setdefault(parameter["name"], []).append(layer.id)
    for name, parameter in filters.items():
        found.append({**parameter, "description": f"{parameter['description']} (property "
                      f"filter of {', '.join(takers[name])})"})
    return found


_ITEMS_PARAMETERS = _documented_parameters()
_FEATURE_PARAMETERS = [p for p in _ITEMS_PARAMETERS if p["name"] in ("crs", "f")]
#: Path parameters as the OpenAPI document shows them; the routes check them (404).
_COLLECTION_ID = Path(description="A collection: " + ", ".join(registry.LAYERS),
                      json_schema_extra={"enum": list(registry.LAYERS)})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


async def _collection(request: Request, layer: registry.Layer) -> dict[str, Any]:
    tiles_base = str(request.base_url).rstrip("/") + "/tiles"
    return documents.collection(_base(request), layer, await extent(request, layer),
                                await offer(request), tiles_base)


@router.get("/", summary="Landing page", **_DOCUMENT,
            description="At `{root}/` as OGC API - Features Part 1 places it "
            "(/req/core/root-op); `/ogc` answers the same.")
async def landing(request: Request) -> Response:
    return json_document(request, documents.landing(_base(request), request.app.title))


# The root without its slash is the URL people type and configure in QGIS and GDAL: the same
# document, not a redirect.
router.add_api_route("", landing, methods=["GET"], include_in_schema=False, **_DOCUMENT)


@router.get("/conformance", summary="Conformance classes", **_DOCUMENT)
async def conformance(request: Request) -> Response:
    return json_document(request, documents.conformance())


@router.get("/api", summary="OpenAPI 3.0 definition of /ogc", **_DOCUMENT)
async def api_definition(request: Request) -> Response:
    document = documents.openapi(_base(request), __version__, await offer(request))
    return json_document(request, document, documents.OPENAPI)


@router.get("/collections", summary="The collections", **_DOCUMENT)
async def collections(request: Request) -> Response:
    found = [await _collection(request, layer) for layer in registry.LAYERS.values()]
    return json_document(request, documents.collections(_base(request), found,
                                                        await offer(request)))


@router.get("/collections/{collection_id}", summary="One collection", **_DOCUMENT)
async def collection(request: Request,
                     collection_id: Annotated[str, _COLLECTION_ID]) -> Response:
    layer = registry.layer(collection_id)
    return json_document(request, await _collection(request, layer))


@router.get("/collections/{collection_id}/schema", summary="JSON Schema of the features",
            **_DOCUMENT)
async def schema(request: Request, collection_id: Annotated[str, _COLLECTION_ID]) -> Response:
    layer = registry.layer(collection_id)
    return json_document(request, documents.schema(_base(request), layer), documents.SCHEMA)


@router.get("/collections/{collection_id}/items", summary="Features",
            description=f"bbox, bbox-crs, crs, datetime, limit (at most {MAX_LIMIT}), f and "
            "the collection's property filters (each collection's own: /ogc/api); any "
            "other parameter is a 400.",
            openapi_extra={"parameters": _ITEMS_PARAMETERS})
async def items(request: Request, collection_id: Annotated[str, _COLLECTION_ID]) -> Response:
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


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature",
            openapi_extra={"parameters": _FEATURE_PARAMETERS})
async def feature(request: Request, collection_id: Annotated[str, _COLLECTION_ID],
                  feature_id: Annotated[str, Path(description="The feature's id",
                                                  json_schema_extra={"type": "integer"})],
                  ) -> Response:
    layer = registry.layer(collection_id)
    connections = await pool(request)
    storage_srid: int = request.app.state.storage_srid
    unknown = [k for k in request.query_params if k not in ("crs", "f")]
    if unknown:
        raise InvalidParameter(f"unknown parameter {unknown[0][:40]!r}",
                               hint="a feature takes crs and f")
    parse_format(request.query_params.get("f"))
    out = crs_list.parse_crs(request.query_params.get("crs"), await offer(request))
    async with connections.acquire() as conn:
        text = await features.feature(conn, layer, feature_id, out, storage_srid)
    own = f"{_base(request)}/collections/{layer.id}"
    links = [documents.link(str(request.url), "self", documents.GEOJSON, "This feature"),
             documents.link(own, "collection", documents.JSON, layer.title)]
    body = text[:-1].encode() + b',"links":' + orjson.dumps(links) + b"}"
    return respond(request, body, documents.GEOJSON, {"Content-Crs": out.content_crs})
