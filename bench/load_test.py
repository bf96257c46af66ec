"""Mixed traffic at a steady rate for a long time: point lookups, parcel files (with their
audit records), searches, vector tiles and dossier intakes and transitions, against
`cadastre serve --workers 2` as `make demo` runs it, on loopback. Prints the error rate,
p50/p99 per kind of request and the server's memory over time; writes
bench/out/load_test.json.

    python -m bench.load_test [--seconds 600] [--rate 150] [--parcels 100000]

Open loop: requests start on a fixed schedule whatever the answers' latency, so a slow
server shows as latency, not as a politely lower rate."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import CADASTRE, OUT, drop_database, recreate_database, timed

API = "/api/v1"
PORT = 8793
PASSWORD = "load-password-1"
#: Share of each kind of request in the mix.
MIX = {"lookup": 0.55, "parcel_file": 0.15, "search": 0.10, "tile": 0.12, "dossier": 0.08}
DOCS = ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp", "Giấy chứng nhận bản gốc"]


def _server_rss_mb(group: int) -> float:
    """Resident memory of every process of the server's process group (uvicorn and its
    workers), from /proc."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != group:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


class Load:
    def __init__(self, client: Any, extent: tuple[float, float, float, float],
                 tokens: dict[str, dict[str, str]], parcel_ids: list[int],
                 served: list[int], words: list[str]) -> None:
        self.client = client
        self.extent = extent
        self.tokens = tokens
        self.parcel_ids = parcel_ids
        self.served = served
        self.words = words
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.attempts: dict[str, int] = defaultdict(int)
        self.samples: dict[str, str] = {}

    def _point(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.extent
        return random.uniform(x0, x1), random.uniform(y0, y1)

    async def _timed(self, kind: str, method: str, url: str, ok: tuple[int, ...],
                     **kwargs: Any) -> Any:
        self.attempts[kind] += 1
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except Exception as exc:  # a refused or dropped connection is an error of the run
            self.errors[kind] += 1
            self.samples.setdefault(kind, f"{type(exc).__name__}: {exc}")
            return None
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        if response.status_code not in ok:
            self.errors[kind] += 1
            self.samples.setdefault(kind, f"{response.status_code} {response.text[:200]}")
        return response

    async def one(self, kind: str) -> None:
        if kind == "lookup":
            lon, lat = self._point()
            await self._timed(kind, "GET", f"{API}/parcels/at?lon={lon:.7f}&lat={lat:.7f}",
                              (200, 404))
        elif kind == "parcel_file":
            await self._timed(kind, "GET", f"{API}/parcels/{random.choice(self.parcel_ids)}",
                              (200,), headers=self.tokens["officer"])
        elif kind == "search":
            await self._timed(kind, "GET", f"{API}/search",
                              (200,), params={"q": random.choice(self.words)},
                              headers=self.tokens["clerk"])
        elif kind == "tile":
            x, y = _tile_of(*self._point(), 16)
            await self._timed(kind, "GET", f"/tiles/parcels/16/{x}/{y}.mvt", (200, 204))
        else:
            await self._dossier()

    async def _dossier(self) -> None:
        clerk = self.tokens["clerk"]
        body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
                "applicant": {"name": "Nguyễn Thị Tải", "id_number": "001190011111",
                              "phone": "0901111111", "address": "Số 5 Lý Thái Tổ"},
                "parcel_ids": [random.choice(self.served)], "documents": DOCS}
        created = await self._timed("dossier", "POST", f"{API}/dossiers", (201,), json=body,
                                    headers=clerk)
        if created is None or created.status_code != 201:
            return
        code, etag = created.json()["code"], created.headers["etag"]
        await self._timed("dossier", "POST", f"{API}/dossiers/{code}/transitions", (200,),
                          json={"to": "in_processing"}, headers={**clerk, "If-Match": etag})


async def _drive(load: Load, seconds: int, rate: float, group: int) -> list[dict[str, float]]:
    kinds, weights = list(MIX), list(MIX.values())
    tasks: set[asyncio.Task[None]] = set()
    memory: list[dict[str, float]] = []
    started = time.perf_counter()
    next_sample = 0.0
    sent = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        if elapsed >= next_sample:
            memory.append({"t": round(elapsed), "rss_mb": round(_server_rss_mb(group), 1),
                           "in_flight": len(tasks)})
            next_sample += 10
        due = int(elapsed * rate) - sent
        for _ in range(max(due, 0)):
            task = asyncio.create_task(load.one(random.choices(kinds, weights)[0]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(0.005)
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    memory.append({"t": round(time.perf_counter() - started),
                   "rss_mb": round(_server_rss_mb(group), 1), "in_flight": len(tasks)})
    return memory


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def main() -> None:
    import httpx2

    from bench.lookup_bench import _serve, _stop
    from cadastre.accounts.service import add_user
    from cadastre.db import create_engine
    from cadastre.demo.loader import add_demo_extras
    from cadastre.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rate", type=float, default=150.0, help="requests per second")
    parser.add_argument("--parcels", type=int, default=100_000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    name = "cadastre_bench_load"
    url = recreate_database(name, postgis=False)
    env = {"CADASTRE_DATABASE_URL": url, "CADASTRE_SEARCHES_PER_MINUTE": "100000"}
    layer = OUT / f"synth_{args.parcels}.gpkg"
    timed([*CADASTRE, "db", "init", "--srid", "5897"], env=env)
    if not layer.exists():
        timed([*CADASTRE, "synth", "--parcels", str(args.parcels), "--out", str(layer)])
    timed([*CADASTRE, "import", str(layer)], env=env)
    engine = create_engine(Settings(database_url=url))
    with engine.begin() as conn:
        add_demo_extras(conn, seed=5)
        add_user(conn, "load-clerk", "counter_clerk", password=PASSWORD,
                 office_code="VPDK.HN")
        add_user(conn, "load-officer", "land_officer", password=PASSWORD,
                 office_code="VPDK.HN")
        conn.execute(sa.text("ANALYZE"))
        x0, y0, x1, y1 = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Transform(ST_SetSRID(ST_Extent(geom), 5897), 4326) AS e FROM current_parcel) x"
        )).one()
        parcel_ids = list(conn.execute(sa.text(
            "SELECT parcel_id FROM current_parcel ORDER BY random() LIMIT 5000")).scalars())
        served = list(conn.execute(sa.text(  # parcels of a commune VPDK.HN serves
            "SELECT parcel_id FROM current_parcel WHERE commune_code = (SELECT commune_code "
            "FROM current_parcel ORDER BY parcel_id LIMIT 1) LIMIT 500")).scalars())
        words = [w for w in conn.execute(sa.text(
            "SELECT DISTINCT split_part(address, ',', 1) FROM current_parcel LIMIT 300"
        )).scalars() if w] + ["hang", "pho", "nguyen van", "tran thi"]
    engine.dispose()
    base = f"http://127.0.0.1:{PORT}"
    server = _serve([*CADASTRE, "serve", "--port", str(PORT), "--workers", "2"], env,
                    f"{base}/health")
    try:
        async def run() -> tuple[Load, list[dict[str, float]]]:
            limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx2.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
                tokens = {}
                for key, user in (("clerk", "load-clerk"), ("officer", "load-officer")):
                    answer = await client.post(f"{API}/auth/token",
                                               data={"username": user, "password": PASSWORD})
                    answer.raise_for_status()
                    tokens[key] = {"Authorization":
                                   f"Bearer {answer.json()['access_token']}"}
                load = Load(client, (x0, y0, x1, y1), tokens, parcel_ids, served, words)
                memory = await _drive(load, args.seconds, args.rate, server.pid)
                return load, memory

        load, memory = asyncio.run(run())
    finally:
        _stop(server)
        drop_database(name)
    total = sum(load.attempts.values())
    errors = sum(load.errors.values())
    kinds = {kind: {"requests": load.attempts[kind], "errors": load.errors.get(kind, 0),
                    "p50_ms": round(_percentile(load.latencies[kind], 50), 1),
                    "p99_ms": round(_percentile(load.latencies[kind], 99), 1)}
             for kind in sorted(load.attempts)}
    result = {"seconds": args.seconds, "rate": args.rate, "parcels": args.parcels,
              "requests": total, "errors": errors,
              "error_rate": round(errors / total, 5) if total else None,
              "kinds": kinds, "error_samples": load.samples, "server_memory": memory}
    for kind, figures in kinds.items():
        print(f"{kind:12s} {figures['requests']:7d} requests  {figures['errors']:5d} errors  "
              f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:7.1f} ms")
    print(f"total {total} requests in {args.seconds} s, error rate "
          f"{result['error_rate']:.3%}; server memory (MB) "
          f"{memory[0]['rss_mb']} at start, {memory[len(memory) // 2]['rss_mb']} midway, "
          f"{memory[-1]['rss_mb']} at the end, max {max(m['rss_mb'] for m in memory)}")
    (OUT / "load_test.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
