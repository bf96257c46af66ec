"""`cadastre import` against ogr2ogr on the same GeoPackage, in one run.

    python -m bench.import_bench [--parcels 1000000]

Generates N parcels with `cadastre synth` (cached in bench/out/), loads them into a fresh
PostGIS database with `ogr2ogr -f PostgreSQL` (COPY, GiST index) and into a fresh cadastre
database with `cadastre import` (every check on: encoding, CRS, profile, validity, identity
duplicates, area, overlaps within the import and with current parcels, holders, rights,
certificates, land-use rows), and prints both times, the ratio and peak memory.
"""

from __future__ import annotations

import json

from bench.common import (
    CADASTRE,
    OUT,
    arguments,
    drop_database,
    pg_connection_string,
    recreate_database,
    timed,
)


def run(parcels: int) -> dict[str, float]:
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / f"synth_{parcels}.gpkg"
    if not source.exists():
        made = timed([*CADASTRE, "synth", "--parcels", str(parcels), "--out", str(source)])
        print(f"synth: {parcels:,} parcels in {made.seconds:.1f} s")

    ogr_url = recreate_database("cadastre_bench_ogr", postgis=True)
    peer = timed(["ogr2ogr", "-f", "PostgreSQL", f"PG:{pg_connection_string(ogr_url)}",
                  str(source), "-nln", "parcels", "-lco", "SPATIAL_INDEX=GIST",
                  "-lco", "GEOMETRY_NAME=geom"])
    drop_database("cadastre_bench_ogr")

    ours_url = recreate_database("cadastre_bench_import", postgis=False)
    env = {"CADASTRE_DATABASE_URL": ours_url}
    timed([*CADASTRE, "db", "init", "--srid", "5897"], env=env)
    ours = timed([*CADASTRE, "import", str(source), "--report",
                  str(OUT / "import_report.json")], env=env)
    report = json.loads((OUT / "import_report.json").read_text())
    drop_database("cadastre_bench_import")

    result = {
        "parcels": parcels,
        "ogr2ogr_s": round(peer.seconds, 2),
        "ogr2ogr_peak_mb": round(peer.peak_rss_mb),
        "cadastre_import_s": round(ours.seconds, 2),
        "cadastre_import_peak_mb": round(ours.peak_rss_mb),
        "ratio_ogr2ogr_over_cadastre": round(peer.seconds / ours.seconds, 2),
        "loaded": report["counts"].get("parcel_versions_begun", 0),
        "quarantined": report["counts"].get("quarantined", 0),
        "phases": report.get("timings", {}),
    }
    print(f"ogr2ogr          {peer.seconds:7.1f} s   peak {peer.peak_rss_mb:6.0f} MB")
    print(f"cadastre import  {ours.seconds:7.1f} s   peak {ours.peak_rss_mb:6.0f} MB   "
          f"(loaded {result['loaded']:,}, quarantined {result['quarantined']:,})")
    print(f"ratio ogr2ogr / cadastre import = {result['ratio_ogr2ogr_over_cadastre']:.2f} "
          "(>= 1.0: cadastre import at least as fast)")
    print("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["phases"].items()))
    (OUT / f"import_bench_{parcels}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = arguments(__doc__)
    args = parser.parse_args()
    run(args.parcels)


if __name__ == "__main__":
    main()
