"""Vector tiles: `cadastre serve` (as `make demo` runs it) against tipg serving the same
table, random z16 tiles over the data, 16 concurrent clients, wrk on loopback, in one run.

    python -m bench.tiles_bench [--parcels 1000000] [--seconds 20] [--zoom 16]

Zoom 16 is the issue's measure; `--zoom 17` compares the tiles that carry the parcels'
labels (sheet and number), which ours leave out below zoom 17 (docs/layers.md).

The register is the point-lookup benchmark's (`cadastre_bench_lookup`, imported once and
kept in bench/out/). tipg runs with uvicorn[standard] and 2 workers, the way its users
deploy it, on `public.current_parcel` (every column, as it ships them). Before the load,
the same 200 random tiles are fetched once from each server by one client: their mean body
size, and the mean time of a first (cold) request. Under load our workers serve repeated
tiles from their cache after checking the tile's state (cadastre/layers/tiles.py); tipg
builds every tile.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import OUT, ROOT, arguments, wrk_line
from bench.lookup_bench import _ensure_database, _extent, against_tipg

OURS, PEER = 8092, 8093
ZOOM = 16
LUA = """
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local x = math.random({x0}, {x1})
  local y = math.random({y0}, {y1})
  return wrk.format("GET", string.format("{path}", x, y))
end
"""
OUR_PATH = "/tiles/parcels/{zoom}/%d/%d.mvt"
PEER_PATH = "/collections/public.current_parcel/tiles/WebMercatorQuad/{zoom}/%d/%d"


def tile_range(extent: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """Columns and rows of the zoom-z tiles over a lon/lat box."""
    def column(lon: float) -> int:
        return int((lon + 180) / 360 * 2**z)

    def row(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)

    west, south, east, north = extent
    return column(west), row(north), column(east), row(south)


def sizes(base: str, path: str, sample: list[tuple[int, int]]) -> list[tuple[int, float]]:
    """(bytes, seconds) of a first request for each tile, one at a time."""
    found = []
    for x, y in sample:
        started = time.perf_counter()
        with urllib.request.urlopen(base + path % (x, y), timeout=30) as response:
            body = response.read()
        found.append((len(body), time.perf_counter() - started))
    return found


def run(parcels: int, seconds: int, database_url: str | None = None,
        zoom: int = ZOOM) -> dict[str, object]:
    subprocess.run(["bash", str(ROOT / "scripts" / "bench-tools.sh")], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    url = database_url or _ensure_database(parcels)
    x0, y0, x1, y1 = tile_range(_extent(url), zoom)
    our_path, peer_path = OUR_PATH.format(zoom=zoom), PEER_PATH.format(zoom=zoom)
    rng = random.Random(7)
    sample = [(rng.randint(x0, x1), rng.randint(y0, y1)) for _ in range(200)]
    scripts: dict[str, Path] = {}
    for name, path in (("ours", our_path), ("tipg", peer_path)):
        scripts[name] = OUT / f"tiles_{name}.lua"
        scripts[name].write_text(LUA.format(x0=x0, y0=y0, x1=x1, y1=y1, path=path))

    paths = {"ours": our_path, "tipg": peer_path}
    found = against_tipg(url, seconds, (OURS, PEER), scripts,
                         lambda base, name: sizes(base, paths[name], sample))
    (our_sizes, ours_result), (peer_sizes, peer_result) = found["ours"], found["tipg"]
    assert our_sizes is not None and peer_sizes is not None
    both = [(a, b) for a, b in zip(our_sizes, peer_sizes, strict=True) if a[0] and b[0]]
    our_kb = sum(a[0] for a, _ in both) / len(both) / 1024
    peer_kb = sum(b[0] for _, b in both) / len(both) / 1024
    our_cold = sum(a[1] for a, _ in both) / len(both) * 1000
    peer_cold = sum(b[1] for _, b in both) / len(both) * 1000
    result: dict[str, object] = {
        "parcels": parcels, "seconds": seconds, "clients": 16, "zoom": zoom,
        "tiles_over_data": (x1 - x0 + 1) * (y1 - y0 + 1),
        "cadastre": ours_result, "tipg": peer_result,
        "cadastre_tile_kb": round(our_kb, 1), "tipg_tile_kb": round(peer_kb, 1),
        "sampled_tiles": len(both),
        "cadastre_cold_ms": round(our_cold, 1), "tipg_cold_ms": round(peer_cold, 1),
        "ratio_rps": round(ours_result["rps"] / peer_result["rps"], 2),
        "size_ratio": round(our_kb / peer_kb, 3),
    }
    print(wrk_line("cadastre /tiles     ", ours_result, "tiles/s",
                   f"mean tile {our_kb:.1f} KB  "))
    print(wrk_line("tipg tiles          ", peer_result, "tiles/s",
                   f"mean tile {peer_kb:.1f} KB  "))
    print(f"ratio cadastre / tipg = {result['ratio_rps']:.2f}x tiles per second, tiles "
          f"{result['size_ratio']:.3f} of tipg's size ({len(both)} tiles sampled)")
    print(f"first request of a tile, one client: cadastre {our_cold:.1f} ms, tipg "
          f"{peer_cold:.1f} ms ({peer_cold / our_cold:.2f}x)")
    suffix = "" if zoom == ZOOM else f"_z{zoom}"
    (OUT / f"tiles_bench_{parcels}{suffix}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = arguments(__doc__, server=True, database_url=True)
    parser.add_argument("--zoom", type=int, default=ZOOM, choices=range(15, 23),
                        metavar="15-22")
    args = parser.parse_args()
    run(args.parcels, args.seconds, args.database_url, args.zoom)


if __name__ == "__main__":
    main()
