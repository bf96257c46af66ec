"""The JSON documents of the OGC API - Features service at /ogc: landing page,
conformance, collections, JSON Schema of a collection's features, and the OpenAPI 3.0
description (service-desc) that clients such as GDAL read for the page size."""

from __future__ import annotations

from typing import Any

from cadastre.layers import crs as crs_list
from cadastre.layers.crs import OutputCrs
from cadastre.layers.features import Extent
from cadastre.layers.params import DEFAULT_LIMIT, MAX_LIMIT
from cadastre.layers.registry import LAYERS, Layer

JSON, GEOJSON = "application/json", "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


def link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def landing(base: str, title: str) -> dict[str, Any]:
    return {
        "title": f"{title}: OGC API - Features",
        "description": "Parcels, land-use purposes, map sheets and administrative units of "
        "the cadastral register, in WGS 84 or VN-2000 TM-3. No personal data.",
        "links": [
            link(f"{base}/", "self", JSON, "This document"),
            link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "The collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def collection(base: str, layer: Layer, extent: Extent, offer: tuple[OutputCrs, ...],
               tiles_base: str) -> dict[str, Any]:
    own = f"{base}/collections/{layer.id}"
    document: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "links": [
            link(own, "self", JSON, "This collection"),
            link(f"{own}/items", "items", GEOJSON, "The features (GeoJSON)"),
            link(f"{own}/schema", "describedby", SCHEMA, "JSON Schema of the features"),
            link(f"{tiles_base}/{layer.id}/tilejson.json", "tiles", JSON,
                  "Vector tiles (TileJSON)"),
        ],
        "crs": [c.uri for c in offer],
        "storageCrs": crs_list.storage_crs(offer).uri,
    }
    spatial: dict[str, Any] = {"crs": crs_list.CRS84_URI}
    if extent.bbox is not None:
        spatial["bbox"] = [list(extent.bbox)]
    document["extent"] = {
        "spatial": spatial,
        "temporal": {"interval": [[extent.since.isoformat() if extent.since else None, None]],
                     "trs": GREGORIAN},
    }
    return document


def collections(base: str, documents: list[dict[str, Any]], offer: tuple[OutputCrs, ...],
                ) -> dict[str, Any]:
    return {
        "links": [link(f"{base}/collections", "self", JSON, "The collections")],
        "collections": documents,
        "crs": [c.uri for c in offer],
    }


def schema(base: str, layer: Layer) -> dict[str, Any]:
    """JSON Schema (2019-09) of one feature of the collection."""
    properties: dict[str, Any] = {}
    for p in layer.ogc:
        entry: dict[str, Any] = {"type": [p.type, "null"], "description": p.description}
        if p.format:
            entry["format"] = p.format
        properties[p.name] = entry
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/collections/{layer.id}/schema",
        "title": layer.title,
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"format": f"geometry-{layer.geometry_type.lower()}"},
            "properties": {"type": "object", "properties": properties},
        },
    }


def _parameter(name: str, description: str, schema: dict[str, Any], **extra: Any,
               ) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}


def standard_parameters(offered: list[str]) -> dict[str, dict[str, Any]]:
    """The items operation's parameters besides the property filters, by name (OpenAPI 3.0
    parameter objects), for /ogc/api and the service's own /openapi.json alike."""
    return {
        "limit": _parameter(
            "limit", f"Features per page (default {DEFAULT_LIMIT}; a larger value than "
            f"{MAX_LIMIT} gives {MAX_LIMIT})",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            style="form", explode=False),
        "bbox": _parameter(
            "bbox", "minx,miny,maxx,maxy (or 6 numbers for a 3D box) in bbox-crs's axis "
            "order (default CRS84: lon,lat,lon,lat)",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            style="form", explode=False),
        "bbox-crs": _parameter("bbox-crs", "CRS of bbox (default CRS84)",
                               {"type": "string", "format": "uri", "enum": offered}),
        "crs": _parameter("crs", "CRS of the response (default CRS84)",
                          {"type": "string", "format": "uri", "enum": offered}),
        "datetime": _parameter(
            "datetime", "An instant (RFC 3339, e.g. 2024-05-01T00:00:00Z): the map at that "
            "moment; a date or an interval (start/end, `..` for open): each feature's latest "
            "state within it", {"type": "string"}, style="form", explode=False),
        "after": _parameter("after", "Continue after this id (used by the next links)",
                            {"type": "integer"}),
        "f": _parameter("f", "Output format: GeoJSON only",
                        {"type": "string", "enum": ["json", "geojson"]}),
    }


def filter_parameters(layer: Layer) -> list[dict[str, Any]]:
    """The collection's property filters as query parameters."""
    return [_parameter(p.name, p.description, {"type": p.type})
            for p in layer.filters.values()]


def openapi(base: str, version: str, offer: tuple[OutputCrs, ...]) -> dict[str, Any]:
    """OpenAPI 3.0 description of /ogc. Each collection's items path lists its property
    filters; ``limit`` carries the page size's default and maximum."""
    offered = [c.uri for c in offer]
    problem = {"description": "A problem (RFC 9457); `code` is stable",
               "content": {"application/problem+json": {"schema": {
                   "$ref": "#/components/schemas/exception"}}}}
    parameters: dict[str, Any] = {
        **standard_parameters(offered),
        "featureId": {"name": "featureId", "in": "path", "required": True,
                      "schema": {"type": "integer"}},
    }
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "responses": {"200": {"description": "Landing page"}}}},
        "/conformance": {"get": {"summary": "Conformance classes",
                                 "operationId": "getConformance",
                                 "responses": {"200": {"description": "Conformance"}}}},
        "/api": {"get": {"summary": "This API definition", "operationId": "getApi",
                         "responses": {"200": {"description": "OpenAPI 3.0"}}}},
        "/collections": {"get": {"summary": "The collections", "operationId": "getCollections",
                                 "responses": {"200": {"description": "Collections"}}}},
    }
    standard = ["limit", "bbox", "bbox-crs", "crs", "datetime", "after", "f"]
    for layer in LAYERS.values():
        own = f"/collections/{layer.id}"
        filters = filter_parameters(layer)
        paths[own] = {"get": {"summary": layer.title, "operationId": f"describe-{layer.id}",
                              "responses": {"200": {"description": "The collection"},
                                            "404": problem}}}
        paths[f"{own}/items"] = {"get": {
            "summary": f"{layer.title}: features", "operationId": f"items-{layer.id}",
            "parameters": [{"$ref": f"#/components/parameters/{n}"} for n in standard]
            + filters,
            "responses": {"200": {"description": "A page of features",
                                  "content": {GEOJSON: {"schema": {"type": "object"}}}},
                          "400": problem, "404": problem}}}
        paths[f"{own}/items/{{featureId}}"] = {"get": {
            "summary": f"{layer.title}: one feature", "operationId": f"feature-{layer.id}",
            "parameters": [{"$ref": "#/components/parameters/featureId"},
                           {"$ref": "#/components/parameters/crs"},
                           {"$ref": "#/components/parameters/f"}],
            "responses": {"200": {"description": "The feature",
                                  "content": {GEOJSON: {"schema": {"type": "object"}}}},
                          "400": problem, "404": problem}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Cadastre OGC API - Features", "version": version,
                 "description": "Public layers of the cadastral register. No personal data."},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "parameters": parameters,
            "schemas": {"exception": {
                "type": "object", "required": ["code"],
                "properties": {"code": {"type": "string"}, "title": {"type": "string"},
                               "detail": {"type": "string"}, "status": {"type": "integer"}}}},
        },
    }
