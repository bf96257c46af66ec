"""Where the best plan of a hot read does not depend on its values, the values are hidden
from the planner (a scalar subquery), so that PostgreSQL can keep one generic plan instead
of planning every execution; and only there. Plans are counted by PostgreSQL in
`pg_prepared_statements` on the asyncpg connection that ran the statements."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cadastre.layers import crs, features, registry, tiles
from cadastre.layers.params import parse_items
from cadastre.parcels import queries

RUNS = 12


def _plans(settings, run: Callable[[asyncpg.Connection, int], Awaitable[int]],
           ) -> tuple[int, list[tuple[str, int, int]]]:
    """Runs ``run(conn, i)`` RUNS times on one connection: the rows it found in all, and
    (statement, generic plans, custom plans) of each statement prepared on it."""
    dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)

    async def go() -> tuple[int, list[tuple[str, int, int]]]:
        conn = await asyncpg.connect(dsn)
        try:
            found = 0
            for i in range(RUNS):
                found += await run(conn, i)
            rows = await conn.fetch("SELECT statement, generic_plans, custom_plans "
                                    "FROM pg_prepared_statements")
            return found, [(r[0], r[1], r[2]) for r in rows]
        finally:
            await conn.close()

    return asyncio.run(go())


def _storage_srid_and_points(api_engine) -> tuple[int, list[tuple[float, float]]]:
    with api_engine.connect() as conn:
        srid = conn.execute(sa.text("SELECT Find_SRID('public', 'parcel', 'geom')")).scalar_one()
        points = conn.execute(sa.text(
            "SELECT ST_X(pt), ST_Y(pt) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) "
            "AS pt FROM current_parcel ORDER BY parcel_id LIMIT :n) s"), {"n": RUNS}).all()
    return srid, [(x, y) for x, y in points]


def test_point_lookup_plans_once_then_reuses_its_plan(api_settings, api_engine):
    srid, points = _storage_srid_and_points(api_engine)

    async def lookup(conn: asyncpg.Connection, i: int) -> int:
        lon, lat = points[i]
        body = await queries.parcels_at(conn, lon, lat, 4326, queries.OutputCrs(4326, 7), srid)
        return len(json.loads(body)["features"])

    found, statements = _plans(api_settings, lookup)
    assert found >= RUNS
    ((_, generic, custom),) = [s for s in statements if s[0] == queries.PARCELS_AT]
    assert custom <= 5 and generic == RUNS - custom


def test_tile_statement_plans_once_then_reuses_its_plan(api_settings, api_engine):
    """The tile's address is a materialised CTE (cadastre/layers/tiles.py): one plan serves
    every tile of a zoom band, built or only checked against the client's ETag."""
    srid, points = _storage_srid_and_points(api_engine)
    layer = registry.layer("parcels")

    async def tile(conn: asyncpg.Connection, i: int) -> int:
        lon, lat = points[i]
        x = int((lon + 180) / 360 * 2**17)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**17)
        built = await tiles.tile(conn, layer, 17, x, y, srid)
        return 1 if built.body else 0

    found, statements = _plans(api_settings, tile)
    assert found == RUNS
    ((_, generic, custom),) = [s for s in statements if "ST_AsMVT" in s[0]]
    assert custom <= 5 and generic == RUNS - custom


def test_small_boxes_hide_the_box_large_ones_are_planned_each_time(api_settings, api_engine):
    """A small box is hidden from the planner (an InitPlan), so PostgreSQL may keep the
    generic plan (it does on the 1M-parcel register; on this small one its estimate still
    favours custom plans): that generic plan must be the spatial index. A large box is
    planned with its value every time (reading in id order may beat the index there)."""
    srid, points = _storage_srid_and_points(api_engine)
    layer = registry.layer("parcels")
    offer = crs.offered(srid, frozenset({4326, srid}))
    plans: dict[tuple[float, str], str] = {}

    def items(side: float, mode: str) -> Callable[[asyncpg.Connection, int], Awaitable[int]]:
        async def run(conn: asyncpg.Connection, i: int) -> int:
            await conn.execute(f"SET plan_cache_mode = {mode}")
            lon, lat = points[i]
            box = f"{lon - side / 2},{lat - side / 2},{lon + side / 2},{lat + side / 2}"
            query = parse_items(layer, {"bbox": box, "limit": "100"}, offer)
            recording = _Recording(conn)
            page = await features.items(recording, layer, query, srid)
            if i == RUNS - 1:
                plans[side, mode] = "\n".join(r[0] for r in await conn.fetch(
                    "EXPLAIN " + recording.sql, *recording.args))
            return len(page.features)
        return run

    small, large = 0.0005, 0.05  # about 50 m; 5 km: the whole test register and beyond
    for side, mode in ((small, "auto"), (small, "force_generic_plan"), (large, "auto")):
        found, statements = _plans(api_settings, items(side, mode))
        assert found >= RUNS
        ((_, generic, custom),) = [s for s in statements
                                     if s[0].startswith("SELECT") and "ST_MakeEnvelope" in s[0]]
        if side == large:
            assert (generic, custom) == (0, RUNS)
    assert "InitPlan" in plans[small, "auto"] and "InitPlan" not in plans[large, "auto"]
    assert "Index Scan using parcel_geom_idx" in plans[small, "force_generic_plan"]


class _Recording:
    """An asyncpg connection that remembers the last statement it ran."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.sql = ""
        self.args: tuple[object, ...] = ()

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        self.sql, self.args = sql, args
        return await self.conn.fetch(sql, *args)
