"""Point lookups: `cadastre serve` (as `make demo` runs it) against tipg serving the same
table, random points, 16 concurrent clients, wrk on loopback, in one run.

    python -m bench.lookup_bench [--parcels 1000000] [--seconds 20]

The cadastre database is imported with `cadastre import` once and kept between runs
(bench/out/); tipg runs with uvicorn[standard] and 2 workers, the way its users deploy it,
on its own virtual environment (scripts/bench-tools.sh). Our endpoint answers
point-in-polygon (`/api/v1/parcels/at`); tipg's nearest equivalent is an items query with a
point-sized bbox.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from bench.common import (
    CADASTRE,
    OUT,
    ROOT,
    arguments,
    recreate_database,
    scratch_url,
    timed,
    wrk_line,
)
from cadastre.db import create_engine
from cadastre.settings import Settings

DB = "cadastre_bench_lookup"
OURS, PEER = 8090, 8091
LUA = """
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local lon = {x0} + math.random() * ({x1} - {x0})
  local lat = {y0} + math.random() * ({y1} - {y0})
  return wrk.format("GET", string.format("{path}", lon, lat{again}))
end
"""


def _ensure_database(parcels: int) -> str:
    url = scratch_url(DB)
    marker = OUT / f"lookup_db_{parcels}.ok"
    if marker.exists():  # kept between runs; bring its schema up to date (cheap when it is)
        timed([*CADASTRE, "db", "upgrade"], env={"CADASTRE_DATABASE_URL": url})
        return url
    source = OUT / f"synth_{parcels}.gpkg"
    if not source.exists():
        timed([*CADASTRE, "synth", "--parcels", str(parcels), "--out", str(source)])
    recreate_database(DB, postgis=False)
    env = {"CADASTRE_DATABASE_URL": url}
    timed([*CADASTRE, "db", "init", "--srid", "5897"], env=env)
    timed([*CADASTRE, "import", str(source)], env=env)
    engine = create_engine(Settings(database_url=url))
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    marker.write_text("ok")
    return url


def _extent(url: str) -> tuple[float, float, float, float]:
    engine = create_engine(Settings(database_url=url))
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Extent(ST_Transform(geom, 4326)) AS e FROM current_parcel) s")).one()
    engine.dispose()
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def _wrk(base: str, script: Path, seconds: int) -> dict[str, float]:
    result = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True)
    text = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "p50_ms": percentile("50"), "p99_ms": percentile("99"),
            "non_2xx": float(errors.group(1)) if errors else 0.0}


def _serve(command: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    _wait(health)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


TIPG = ROOT / ".cadastre" / "venv-tipg" / "bin" / "uvicorn"
T = TypeVar("T")


def against_tipg(url: str, seconds: int, ports: tuple[int, int], scripts: dict[str, Path],
                 probe: Callable[[str, str], T] | None = None,
                 ) -> dict[str, tuple[T | None, dict[str, float]]]:
    """Serve the register with `cadastre serve` (as `make demo` runs it), then with tipg
    (uvicorn, 2 workers, as its users deploy it), one at a time: on each, ``probe(base,
    name)`` once, a 3 s warm-up, then wrk with ``scripts[name]`` for ``seconds``.
    Returns {"ours" | "tipg": (what the probe returned, the wrk figures)}."""
    servers = {
        "ours": ([*CADASTRE, "serve", "--port", str(ports[0]), "--workers", "2"],
                 {"CADASTRE_DATABASE_URL": url}, ports[0], "/health"),
        "tipg": ([str(TIPG), "tipg.main:app", "--port", str(ports[1]), "--workers", "2"],
                 {"DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]'}, ports[1],
                 "/collections"),
    }
    found: dict[str, tuple[T | None, dict[str, float]]] = {}
    for name, (command, env, port, health) in servers.items():
        base = f"http://127.0.0.1:{port}"
        process = _serve(command, env, base + health)
        try:
            probed = probe(base, name) if probe is not None else None
            _wrk(base, scripts[name], 3)  # warm-up
            found[name] = (probed, _wrk(base, scripts[name], seconds))
        finally:
            _stop(process)
    return found


def run(parcels: int, seconds: int) -> dict[str, object]:
    subprocess.run(["bash", str(ROOT / "scripts" / "bench-tools.sh")], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    url = _ensure_database(parcels)
    x0, y0, x1, y1 = _extent(url)
    ours_lua = OUT / "points_ours.lua"
    ours_lua.write_text(LUA.format(x0=x0, y0=y0, x1=x1, y1=y1, again="",
                                   path="/api/v1/parcels/at?lon=%.7f&lat=%.7f"))
    peer_lua = OUT / "points_tipg.lua"
    peer_lua.write_text(LUA.format(
        x0=x0, y0=y0, x1=x1, y1=y1, again=", lon, lat",
        path="/collections/public.current_parcel/items?bbox=%.7f,%.7f,%.7f,%.7f&limit=10"))

    found = against_tipg(url, seconds, (OURS, PEER), {"ours": ours_lua, "tipg": peer_lua})
    ours_result, peer_result = found["ours"][1], found["tipg"][1]
    result: dict[str, object] = {
        "parcels": parcels, "seconds": seconds, "clients": 16,
        "cadastre": ours_result, "tipg": peer_result,
        "ratio_rps": round(ours_result["rps"] / peer_result["rps"], 2),
    }
    print(wrk_line("cadastre /parcels/at  ", ours_result, "req/s"))
    print(wrk_line("tipg items?bbox       ", peer_result, "req/s"))
    print(f"ratio cadastre / tipg = {result['ratio_rps']:.2f}x requests per second")
    (OUT / f"lookup_bench_{parcels}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    args = arguments(__doc__, server=True).parse_args()
    run(args.parcels, args.seconds)


if __name__ == "__main__":
    main()
