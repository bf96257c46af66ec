"""OGC API items and single features on asyncpg: one statement per request, each feature
written as GeoJSON text by PostgreSQL (the geometry by ST_AsGeoJSON, never re-parsed).
Identifiers come from the registry; every value is a bound parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from cadastre.errors import FeatureNotFound
from cadastre.inputs import is_ascii_digits
from cadastre.layers.crs import OutputCrs
from cadastre.layers.params import Instant, ItemsQuery, When
from cadastre.layers.registry import Layer


@dataclass
class _Params:
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any, cast: str = "") -> str:
        self.values.append(value)
        return f"${len(self.values)}{cast}"


#: Boxes up to about 1 km² (0.0001 square degree is 1.1 x 1.0 km at 21° N): at most a few
#: thousand parcels to sort, where a larger box may be better read in id order.
_SMALL_DEGREES, _SMALL_METRES = 1e-4, 1e6


@dataclass(frozen=True, slots=True)
class Page:
    features: list[str]
    next_after: int | None  # the keyset value to continue after, when there is more


def feature_sql(layer: Layer, out: OutputCrs, storage_srid: int) -> str:
    """One feature as GeoJSON text."""
    geometry = layer.geometry
    if out.srid != storage_srid:
        geometry = f"ST_Transform({geometry}, {out.srid:d})"
    if out.lat_lon:
        geometry = f"ST_FlipCoordinates({geometry})"
    properties = ", ".join(f"'{p.name}', {p.sql}" for p in layer.ogc)
    return (f"""'{{"type":"Feature","id":' || {layer.feature_id} || ',"geometry":' || """
            f"coalesce(ST_AsGeoJSON({geometry}, {out.digits:d}, 0), 'null') || "
            f"""',"properties":' || json_build_object({properties})::text || '}}'""")


def _source(layer: Layer, when: When | None, params: _Params) -> str:
    if when is None:
        return layer.current
    if isinstance(when, Instant):
        return layer.at.format(at=params.add(when.at, "::timestamptz"))
    start = params.add(when.start, "::timestamptz")
    end = params.add(when.end, "::timestamptz")
    return layer.during.format(start=start, end=end)


async def items(conn: asyncpg.Connection, layer: Layer, query: ItemsQuery,
                storage_srid: int) -> Page:
    """A page of features, ordered by id, with the id to continue after."""
    if query.empty:
        return Page([], None)
    params = _Params()
    source = _source(layer, query.when, params)
    where = []
    if query.bbox is not None:
        x0, y0, x1, y1 = query.bbox
        f8 = "::float8"
        envelope = (f"ST_MakeEnvelope({params.add(x0, f8)}, {params.add(y0, f8)}, "
                    f"{params.add(x1, f8)}, {params.add(y1, f8)}, {query.bbox_crs.srid:d})")
        if query.bbox_crs.srid != storage_srid:
            # densified, so that the transformed box keeps its curved edges
            envelope = (f"ST_Transform(ST_Segmentize({envelope}, greatest("
                        f"{params.add(x1 - x0, f8)}, {params.add(y1 - y0, f8)}) / 16), "
                        f"{storage_srid:d})")
        if (x1 - x0) * (y1 - y0) <= (_SMALL_DEGREES if query.bbox_crs.geographic
                                     else _SMALL_METRES):
            # A small box: the best plan (the GiST index, then sort by id) does not depend
            # on where it is, so the box is hidden from the planner (an InitPlan), and
            # PostgreSQL can keep the statement's generic plan instead of planning each
            # request (on the 1M-parcel register it does: 10 % less database time per
            # small-box read, docs/benchmarks.md; tests/api/test_plans.py).
            envelope = f"(SELECT {envelope})"
        where.append(f"ST_Intersects({layer.geometry}, {envelope})")
    for prop, value in query.filters:
        assert prop.filter is not None
        cast = "::bigint" if prop.type == "integer" else "::text"
        where.append("(" + prop.filter.format(v=params.add(value, cast)) + ")")
    key = layer.feature_id
    if query.after is not None:
        where.append(f"{key} > {params.add(query.after, '::bigint')}")
    sql = (f"SELECT {feature_sql(layer, query.out, storage_srid)} AS f, {key} AS k "
           f"FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY {key} LIMIT {params.add(query.limit + 1, '::int')}")
    rows = await conn.fetch(sql, *params.values)
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return Page([r["f"] for r in rows], int(rows[-1]["k"]) if more else None)


async def feature(conn: asyncpg.Connection, layer: Layer, feature_id: str, out: OutputCrs,
                  storage_srid: int) -> str:
    """One current feature by id, or FeatureNotFound (404)."""
    number = int(feature_id) if is_ascii_digits(feature_id) and len(feature_id) < 20 else None
    if number is None or not 0 < number < 2**63:
        raise FeatureNotFound(f"no feature {feature_id[:40]!r} in {layer.id}")
    row = await conn.fetchval(
        f"SELECT {feature_sql(layer, out, storage_srid)} FROM {layer.current} "
        f"WHERE {layer.feature_id} = $1", number)
    if row is None:
        raise FeatureNotFound(f"no feature {number} in {layer.id} (it may have been retired: "
                              "see its history)")
    return str(row)


@dataclass(frozen=True, slots=True)
class Extent:
    bbox: tuple[float, float, float, float] | None  # CRS84
    since: datetime | None


async def extent(conn: asyncpg.Connection, layer: Layer) -> Extent:
    """The collection's extent in CRS84 (from the planner's statistics where it has them)
    and the start of its temporal extent."""
    row = await conn.fetchrow(
        f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b), ({layer.since}) AS since "
        f"FROM (SELECT ST_Transform(ST_Segmentize(ST_SetSRID(({layer.extent})::geometry, "
        "Find_SRID('public', 'parcel', 'geom')), 500), 4326) AS b) e")
    bbox = None
    if row is not None and row[0] is not None:
        bbox = (round(row[0], 6), round(row[1], 6), round(row[2], 6), round(row[3], 6))
    return Extent(bbox, row["since"] if row is not None else None)
