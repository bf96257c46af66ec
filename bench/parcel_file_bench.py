"""The officer's parcel file (`GET /api/v1/parcels/{id}` signed in as a land officer:
holders with their personal data, rights, certificates, restrictions, and one audit row
per party shown) against the anonymous point lookup (`GET /api/v1/parcels/at`), on the same
server and register, in one run (issue 16, item 9).

    python -m bench.parcel_file_bench [--parcels 1000000] [--seconds 20]

The register is bench.lookup_bench's (`cadastre import` of the synthetic layer, kept in
`cadastre_bench_lookup` between runs). `cadastre serve --workers 2` as `make demo` runs it;
wrk with 2 threads and 16 connections on loopback after a 3 s warm-up, random parcel ids
(every request a different parcel, most never asked before) with a bearer token from
`/api/v1/auth/token`. The audit rows written during the run are counted and compared with
the requests answered: a personal read that leaves no audit row would make the figure a lie.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request

import sqlalchemy as sa

from bench.common import CADASTRE, OUT, ROOT, arguments, timed, wrk_line
from bench.lookup_bench import LUA, _ensure_database, _extent, _serve, _stop, _wrk
from cadastre.db import create_engine
from cadastre.settings import Settings

PORT = 8092
OFFICE, USER, PASSWORD = "VPDK.BENCH", "bench.officer", "bench-officer-password-1"
FILE_LUA = """
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local id = math.random({low}, {high})
  return wrk.format("GET", "/api/v1/parcels/" .. id, {{["Authorization"] = "Bearer {token}"}})
end
"""


def _officer(url: str) -> None:
    """The benchmark's land officer, at its own office (made once, kept)."""
    env = {"CADASTRE_DATABASE_URL": url}
    engine = create_engine(Settings(database_url=url))
    with engine.connect() as conn:
        office = conn.execute(sa.text("SELECT 1 FROM office WHERE code = :c"),
                              {"c": OFFICE}).scalar()
        user = conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"),
                            {"u": USER}).scalar()
    engine.dispose()
    if not office:
        timed([*CADASTRE, "office", "add", OFFICE, "--name", "Văn phòng đăng ký (benchmark)",
               "--level", "province", "--province", "01"], env=env)
    if not user:
        subprocess.run([*CADASTRE, "user", "add", USER, "--role", "land_officer",
                        "--office", OFFICE], input=f"{PASSWORD}\n{PASSWORD}\n", text=True,
                       check=True, env={**os.environ, **env}, capture_output=True)


def _token(base: str) -> str:
    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    with urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/auth/token", data=form, method="POST")) as response:
        return str(json.load(response)["access_token"])


def _ids_and_audit(url: str) -> tuple[int, int, int]:
    engine = create_engine(Settings(database_url=url))
    with engine.connect() as conn:
        low, high = conn.execute(sa.text(
            "SELECT min(parcel_id), max(parcel_id) FROM current_parcel")).one()
        audited = conn.execute(sa.text(
            "SELECT count(*) FROM audit_log WHERE actor = :u"), {"u": USER}).scalar_one()
    engine.dispose()
    return int(low), int(high), int(audited)


def run(parcels: int, seconds: int) -> dict[str, object]:
    subprocess.run(["bash", str(ROOT / "scripts" / "bench-tools.sh")], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    url = _ensure_database(parcels)
    _officer(url)
    x0, y0, x1, y1 = _extent(url)
    points = OUT / "points_ours.lua"
    points.write_text(LUA.format(x0=x0, y0=y0, x1=x1, y1=y1, again="",
                                 path="/api/v1/parcels/at?lon=%.7f&lat=%.7f"))
    base = f"http://127.0.0.1:{PORT}"
    server = _serve([*CADASTRE, "serve", "--port", str(PORT), "--workers", "2"],
                    {"CADASTRE_DATABASE_URL": url}, base + "/health")
    try:
        token = _token(base)
        low, high, audited_before = _ids_and_audit(url)
        files = OUT / "parcel_file.lua"
        files.write_text(FILE_LUA.format(low=low, high=high, token=token))
        _wrk(base, files, 3)  # warm-up
        _, _, audited_warm = _ids_and_audit(url)
        file_result = _wrk(base, files, seconds)
        _, _, audited_after = _ids_and_audit(url)
        _wrk(base, points, 3)
        point_result = _wrk(base, points, seconds)
    finally:
        _stop(server)
    answered = file_result["rps"] * seconds
    result: dict[str, object] = {
        "parcels": parcels, "seconds": seconds, "clients": 16,
        "parcel_file": file_result, "point_lookup": point_result,
        "ratio_to_point_lookup": round(file_result["rps"] / point_result["rps"], 2),
        "ratio_to_issue_baseline_43": round(file_result["rps"] / 43, 1),
        "audit_rows": audited_after - audited_warm,
        "audit_rows_per_request": round((audited_after - audited_warm) / answered, 2),
        "audit_rows_warmup": audited_warm - audited_before,
    }
    print(wrk_line("parcel file (officer) ", file_result, "req/s"))
    print(wrk_line("point lookup (anon.)  ", point_result, "req/s"))
    print(f"parcel file / point lookup = {result['ratio_to_point_lookup']:.2f}x; "
          f"{result['ratio_to_issue_baseline_43']}x the 43 req/s of the issue; "
          f"{result['audit_rows']:,} audit rows for personal reads "
          f"({result['audit_rows_per_request']} per request)")
    (OUT / f"parcel_file_bench_{parcels}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    args = arguments(__doc__, server=True).parse_args()
    run(args.parcels, args.seconds)


if __name__ == "__main__":
    main()
