"""What a rate-limit check costs: `rate_limit_hit()` with two keys (a client address and a
dossier code, as a citizen's lookup sends), on one asyncpg connection as `cadastre_api`,
against `SELECT 1` on the same connection (the round trip alone).

    python -m bench.ratelimit_bench [--calls 20000]

Runs on a throwaway database (created, migrated and dropped)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time

import asyncpg
from sqlalchemy.engine import make_url

from cadastre.dbinit import drop_database, init_database
from cadastre.errors import TooManyRequests
from cadastre.limits.service import DAY, MINUTE, Limit, hit
from cadastre.settings import Settings


def _line(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    return (f"{label}: {len(ordered)} calls, mean {statistics.mean(ordered) * 1e3:.3f} ms, "
            f"p50 {ordered[len(ordered) // 2] * 1e3:.3f} ms, "
            f"p99 {ordered[int(len(ordered) * 0.99)] * 1e3:.3f} ms")


async def _measure(dsn: str, calls: int) -> None:
    conn = await asyncpg.connect(dsn)

    async def run(n: int, keyspace: int) -> list[float]:
        seconds = []
        for i in range(n):
            k = i % keyspace
            limits = [Limit("public:address", f"198.51.{k // 256}.{k % 256}", 20, MINUTE, ""),
                      Limit("public:code", f"dossier:VPDK.HN.261127.{k:05d}", 20, DAY, "")]
            start = time.perf_counter()
            with contextlib.suppress(TooManyRequests):
                await hit(conn, limits)
            seconds.append(time.perf_counter() - start)
        return seconds

    await run(500, 50)  # warm up
    print(_line("hot keys (50, mostly refused)", await run(calls // 4, 50)))
    print(_line("a new key each call", await run(calls, calls)))
    print("rows in rate_limit:", await conn.fetchval("SELECT count(*) FROM rate_limit"))
    seconds = []
    for _ in range(calls // 4):
        start = time.perf_counter()
        await conn.fetchval("SELECT 1")
        seconds.append(time.perf_counter() - start)
    print(_line("SELECT 1", seconds))
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    base = Settings()
    url = make_url(base.database_url).set(database="cadastre_bench_ratelimit")
    settings = base.model_copy(update={
        "database_url": url.render_as_string(hide_password=False)})
    init_database(settings, srid=5897)
    try:
        dsn = url.set(drivername="postgresql", username=settings.api_database_user
                      ).render_as_string(hide_password=False)
        asyncio.run(_measure(dsn, args.calls))
    finally:
        drop_database(settings)


if __name__ == "__main__":
    main()
