"""OGC API - Features small-bbox reads: `cadastre serve` (as `make demo` runs it) against
tipg serving the same table, random boxes of about 110 x 100 m over the data (30-60
parcels each), `limit=100` so that both return the whole box, 16 concurrent clients, wrk on
loopback, in one run.

    python -m bench.ogc_bench [--parcels 1000000] [--seconds 20]

The register is the point-lookup benchmark's (`cadastre_bench_lookup`); tipg runs with
uvicorn[standard] and 2 workers on `public.current_parcel`. Before the load, the same 100
boxes are read from both servers: the feature counts must agree, and the mean response
sizes are reported.
"""

from __future__ import annotations

import json
import random
import subprocess
import urllib.request

from bench.common import OUT, ROOT, arguments, wrk_line
from bench.lookup_bench import _ensure_database, _extent, against_tipg

OURS, PEER = 8094, 8095
SIDE = 0.001  # degrees: about 104 m east-west, 111 m north-south at 21° N
LIMIT = 100
LUA = """
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local lon = {x0} + math.random() * ({x1} - {x0} - {side})
  local lat = {y0} + math.random() * ({y1} - {y0} - {side})
  return wrk.format("GET", string.format("{path}", lon, lat, lon + {side}, lat + {side}))
end
"""
OUR_PATH = f"/ogc/collections/parcels/items?bbox=%.6f,%.6f,%.6f,%.6f&limit={LIMIT}"
PEER_PATH = f"/collections/public.current_parcel/items?bbox=%.6f,%.6f,%.6f,%.6f&limit={LIMIT}"


def read(base: str, path: str, boxes: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """(features, bytes) of each box."""
    found = []
    for lon, lat in boxes:
        with urllib.request.urlopen(base + path % (lon, lat, lon + SIDE, lat + SIDE),
                                    timeout=30) as response:
            body = response.read()
        found.append((len(json.loads(body)["features"]), len(body)))
    return found


def run(parcels: int, seconds: int, database_url: str | None = None) -> dict[str, object]:
    subprocess.run(["bash", str(ROOT / "scripts" / "bench-tools.sh")], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    url = database_url or _ensure_database(parcels)
    x0, y0, x1, y1 = _extent(url)
    rng = random.Random(11)
    boxes = [(x0 + rng.random() * (x1 - x0 - SIDE), y0 + rng.random() * (y1 - y0 - SIDE))
             for _ in range(100)]
    scripts = {}
    for name, path in (("ours", OUR_PATH), ("tipg", PEER_PATH)):
        scripts[name] = OUT / f"ogc_{name}.lua"
        scripts[name].write_text(LUA.format(x0=x0, y0=y0, x1=x1, y1=y1, side=SIDE, path=path))

    paths = {"ours": OUR_PATH, "tipg": PEER_PATH}
    found = against_tipg(url, seconds, (OURS, PEER), scripts,
                         lambda base, name: read(base, paths[name], boxes))
    (our_reads, ours_result), (peer_reads, peer_result) = found["ours"], found["tipg"]
    assert our_reads is not None and peer_reads is not None
    same = sum(a[0] == b[0] for a, b in zip(our_reads, peer_reads, strict=True))
    features = sum(a[0] for a in our_reads) / len(our_reads)
    our_kb = sum(a[1] for a in our_reads) / len(our_reads) / 1024
    peer_kb = sum(b[1] for b in peer_reads) / len(peer_reads) / 1024
    result: dict[str, object] = {
        "parcels": parcels, "seconds": seconds, "clients": 16, "box_degrees": SIDE,
        "limit": LIMIT, "features_per_box": round(features, 1),
        "boxes_with_equal_counts": same, "boxes_sampled": len(boxes),
        "cadastre": ours_result, "tipg": peer_result,
        "cadastre_response_kb": round(our_kb, 1), "tipg_response_kb": round(peer_kb, 1),
        "ratio_rps": round(ours_result["rps"] / peer_result["rps"], 2),
    }
    print(wrk_line("cadastre /ogc items?bbox  ", ours_result, "req/s", f"{our_kb:.1f} KB  "))
    print(wrk_line("tipg items?bbox           ", peer_result, "req/s", f"{peer_kb:.1f} KB  "))
    print(f"ratio cadastre / tipg = {result['ratio_rps']:.2f}x requests per second "
          f"({features:.0f} features per box; equal counts in {same}/{len(boxes)} boxes)")
    (OUT / f"ogc_bench_{parcels}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    args = arguments(__doc__, server=True, database_url=True).parse_args()
    run(args.parcels, args.seconds, args.database_url)


if __name__ == "__main__":
    main()
