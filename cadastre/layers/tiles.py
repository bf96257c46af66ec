"""Mapbox vector tiles (WebMercatorQuad) built by PostGIS with ST_AsMVT, one statement per
request, and the state token that makes a tile's ETag.

Encoding: extent 1024 (at 512-pixel tiles, two units per pixel at every zoom; the layers
go to zoom 22, so clients need not over-zoom) with a buffer of 4 units (2 px). Shapes are
simplified by one unit before encoding, which drops the vertices that only mark
neighbours' corners along a straight edge. Label attributes (a parcel's sheet and number)
come from the layer's label zoom up: below it the labels cannot be drawn and are most of
the bytes.

Projection: from zoom 12 up the storage CRS is mapped to Web Mercator by an affine map
fitted on the tile (PostGIS transforms three points per tile, not every vertex). Both
projections are conformal and nearly uniform across one tile: the map is off by under a
hundredth of a tile unit at zoom 16 and under a fifth at zoom 12 (tests/api/test_tiles.py
measures it); below zoom 12 every vertex is transformed.

Freshness: versions are never edited (a change closes some and inserts new ones with
fresh, larger ids), so the number of current versions in the tile's envelope and the sum of
their ids change with every change inside it. That pair is the ETag; it is computed first
in the same statement, and when it matches the client's If-None-Match the tile is not
built at all (304). Each worker also keeps the tiles it built, with their token, in a
bounded LRU cache: a request whose tile state is still the cached one costs the token's
index scan and no build. Every request asks the database, so a change shows on the next
request whatever is cached.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

import asyncpg

from cadastre.errors import TileNotFound
from cadastre.layers.registry import Layer, TileSpec

EXTENT = 1024
#: Tile units drawn beyond the tile's edge: 2 px of a 512 px tile, enough for the 1-2 px
#: boundary lines of a cadastral map (16 units shipped 4.5 % more bytes, whole parcels
#: from the neighbouring tiles).
BUFFER = 4
#: Shapes are simplified by one tile unit (half a pixel of a 512 px tile) before ST_AsMVTGeom
#: snaps them to the unit grid: together less than a pixel; 4.6 % fewer bytes than half a
#: unit.
SIMPLIFY_UNITS = 1
#: Zooms at and above which the per-tile affine map replaces ST_Transform.
AFFINE_MIN_ZOOM = 12
MAX_ZOOM = 24
#: Bumped when the encoding changes, so that clients drop tiles of the old format.
FORMAT = "m3"
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

#: The tile's address, materialised so that no plan sees its value: PostgreSQL then keeps
#: the statement's generic plan (a GiST scan whatever the tile) instead of planning each
#: request, which was half the database CPU of a cached tile's state check (3.7 -> 1.9 ms;
#: tests/api/test_plans.py).
_ADDRESS = ("adr AS MATERIALIZED (SELECT CAST($1 AS int) AS z, CAST($2 AS int) AS x, "
            "CAST($3 AS int) AS y),")

_FRAME = _ADDRESS + f"""
k AS (
    SELECT e, s, (ST_XMin(e) + ST_XMax(e)) / 2 AS cx, (ST_YMin(e) + ST_YMax(e)) / 2 AS cy,
           (ST_XMax(e) - ST_XMin(e)) / 2 AS h
    FROM (SELECT ST_TileEnvelope(adr.z, adr.x, adr.y) AS e,
                 ST_Transform(ST_TileEnvelope(adr.z, adr.x, adr.y, margin => {BUFFER / EXTENT}),
                              {{srid}}) AS s FROM adr) t),
p AS (  -- the tile's centre, and half a tile east and north of it, in the storage CRS
    SELECT k.*, ST_Transform(ST_SetSRID(ST_MakePoint(cx, cy), 3857), {{srid}}) AS o,
           ST_Transform(ST_SetSRID(ST_MakePoint(cx + h, cy), 3857), {{srid}}) AS pe,
           ST_Transform(ST_SetSRID(ST_MakePoint(cx, cy + h), 3857), {{srid}}) AS pn
    FROM k),
a AS (
    SELECT e, s, cx, cy, h, ST_X(o) AS ox, ST_Y(o) AS oy, ST_X(pe) - ST_X(o) AS u1,
           ST_Y(pe) - ST_Y(o) AS v1, ST_X(pn) - ST_X(o) AS u2, ST_Y(pn) - ST_Y(o) AS v2
    FROM p),
c AS (  -- storage -> Web Mercator, exact at those three points: M (q - o) + centre
    SELECT e, s, h * v2 / d AS ma, -h * u2 / d AS mb, -h * v1 / d AS md, h * u1 / d AS me,
           cx - (h * v2 * ox - h * u2 * oy) / d AS mx,
           cy - (-h * v1 * ox + h * u1 * oy) / d AS my,
           {SIMPLIFY_UNITS} * 2 * abs(d) / {EXTENT} / sqrt(v1 * v1 + v2 * v2) AS tol
    FROM (SELECT a.*, u1 * v2 - u2 * v1 AS d FROM a) a)"""

_FRAME_EXACT = _ADDRESS + f"""
c AS (
    SELECT e, ST_Transform(ST_TileEnvelope(z, x, y, margin => {BUFFER / EXTENT}),
                           {{srid}}) AS s,
           {SIMPLIFY_UNITS} * (ST_XMax(e) - ST_XMin(e)) / {EXTENT} AS tol
    FROM (SELECT ST_TileEnvelope(z, x, y) AS e, z, x, y FROM adr) t)"""


@dataclass(frozen=True, slots=True)
class Tile:
    body: bytes | None  # None: the client's copy is current (304)
    token: str | None  # the state the tile shows (None: the layer has no versions)

    def etag(self, layer: Layer) -> str:
        if self.token is not None:
            return f'"{layer.id}.{FORMAT}.{self.token}"'
        return '"' + hashlib.sha256(self.body or b"").hexdigest()[:32] + '"'


class TileCache:
    """Tiles this process built, by address, with the state token they show (LRU, bounded
    by the bytes held)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._tiles: OrderedDict[tuple[str, int, int, int], tuple[str, bytes]] = OrderedDict()

    def get(self, key: tuple[str, int, int, int]) -> tuple[str, bytes] | None:
        found = self._tiles.get(key)
        if found is not None:
            self._tiles.move_to_end(key)
        return found

    def put(self, key: tuple[str, int, int, int], token: str, body: bytes) -> None:
        old = self._tiles.pop(key, None)
        if old is not None:
            self.bytes -= len(old[1])
        if len(body) > self.max_bytes // 8:
            return
        self._tiles[key] = (token, body)
        self.bytes += len(body)
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._tiles.popitem(last=False)
            self.bytes -= len(dropped)


def check_address(z: int, x: int, y: int) -> None:
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise TileNotFound(f"there is no tile {z}/{x}/{y} in WebMercatorQuad",
                           hint=f"zoom 0-{MAX_ZOOM}, x and y from 0 to 2^zoom - 1")


@cache
def tile_sql(layer: Layer, storage_srid: int, affine: bool, labelled: bool = True) -> str:
    spec = layer.tile
    frame = (_FRAME if affine else _FRAME_EXACT).format(srid=int(storage_srid))
    shape = f"ST_Simplify({spec.geometry}, c.tol, true)"
    if affine:
        shape = f"ST_SetSRID(ST_Affine({shape}, ma, mb, md, me, mx, my), 3857)"
    else:
        shape = f"ST_Transform({shape}, 3857)"
    fields = layer.tile_fields(labels=False) + (layer.tile_fields(labels=True) if labelled
                                                 else ())
    attributes = "".join(f", {sql} AS {name}" for name, sql, _ in fields)
    build = (f"SELECT ST_AsMVT(t, '{layer.id}', {EXTENT}, 'geom', 'id') FROM ("
             f"SELECT {spec.feature_id} AS id{attributes}, "
             f"ST_AsMVTGeom({shape}, c.e, {EXTENT}, {BUFFER}, true) AS geom "
             f"FROM {spec.source}, c WHERE {spec.geometry} && c.s) t")
    if spec.version is None:
        return f"WITH {frame} SELECT NULL::text AS token, ({build}) AS tile"
    return (f"WITH {frame}, state AS (SELECT count(*) || '.' || coalesce(sum({spec.version}), 0)"
            f" AS token FROM {spec.source}, c WHERE {spec.geometry} && c.s) "
            f"SELECT token, CASE WHEN token = ANY($4::text[]) THEN NULL ELSE ({build}) END "
            "AS tile FROM state")


def known_tokens(layer: Layer, if_none_match: str | None) -> list[str]:
    """The state tokens of this layer's ETags in an If-None-Match header."""
    prefix = f"{layer.id}.{FORMAT}."
    tokens = []
    for tag in (if_none_match or "").split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag.startswith(prefix) and len(tag) < 100:
            tokens.append(tag[len(prefix):])
    return tokens


async def tile(conn: asyncpg.Connection, layer: Layer, z: int, x: int, y: int,
               storage_srid: int, *, if_none_match: str | None = None,
               cache: TileCache | None = None) -> Tile:
    """The tile, or Tile(None, token) when the client's ETag is still the current one.
    Below the layer's minimum zoom the tile is empty (b"")."""
    check_address(z, x, y)
    if z < layer.tile.minzoom:
        return Tile(b"", None)
    sql = tile_sql(layer, storage_srid, z >= AFFINE_MIN_ZOOM, z >= layer.tile.label_minzoom)
    if layer.tile.version is None:
        row = await conn.fetchrow(sql, z, x, y)
        assert row is not None
        return Tile(bytes(row["tile"]), None)
    client = known_tokens(layer, if_none_match)
    key = (layer.id, z, x, y)
    cached = cache.get(key) if cache is not None else None
    row = await conn.fetchrow(sql, z, x, y, client + ([cached[0]] if cached else []))
    assert row is not None
    token: str = row["token"]
    if row["tile"] is not None:
        body = bytes(row["tile"])
        if cache is not None:
            cache.put(key, token, body)
        return Tile(body, token)
    if token in client:
        return Tile(None, token)
    assert cached is not None and cached[0] == token
    return Tile(cached[1], token)


def tilejson(layer: Layer, tiles_url: str, bounds: tuple[float, float, float, float] | None,
             ) -> dict[str, Any]:
    """TileJSON 3.0.0 of a collection's tiles."""
    spec: TileSpec = layer.tile
    fields = {name: kind for name, _, kind in layer.tile_fields(labels=False)
              + layer.tile_fields(labels=True)}
    document: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.title,
        "description": layer.description,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": spec.minzoom,
        "maxzoom": spec.maxzoom,
        "vector_layers": [{"id": layer.id, "description": _described(layer), "fields": fields,
                           "minzoom": spec.minzoom, "maxzoom": spec.maxzoom}],
    }
    if bounds is not None:
        document["bounds"] = list(bounds)
        document["center"] = [round((bounds[0] + bounds[2]) / 2, 6),
                              round((bounds[1] + bounds[3]) / 2, 6),
                              max(spec.minzoom, 16 if spec.minzoom >= 15 else spec.minzoom)]
    return document


def _described(layer: Layer) -> str:
    labels = layer.tile_fields(labels=True)
    if not labels:
        return layer.title
    names = " and ".join(name for name, _, _ in labels)
    return f"{layer.title}; {names} from zoom {layer.tile.label_minzoom}"
