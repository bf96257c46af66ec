"""`cadastre export` against ogr2ogr reading the same rows from the same table, in one run.

    python -m bench.export_bench [--parcels 1000000] [--runs 1]

Data: the register of the lookup benchmark (`cadastre synth` + `cadastre import`, kept in
the `cadastre_bench_lookup` database between runs), copied once to `cadastre_bench_export`
and upgraded, so that the export records (`export_job`) stay out of the lookup database.

Ours: `cadastre export --collection parcels --format gpkg|fgb --out F` (a process of its
own: settings, checks, the export record, COPY of the rows as CSV with the geometry as hex
WKB, parsed by Arrow, written by GDAL through pyogrio's Arrow writer).
Peer: `ogr2ogr -f GPKG|FlatGeobuf F PG:... -sql "<the same SELECT>" -nln parcels`, the
SELECT being the one `cadastre export` runs (cadastre.exports.service.select_sql) with the
geometry column itself instead of its hex WKB, so that both read the same columns (land-use
codes aggregated per parcel, areas, address, the day the version began) and the same
geometry, and write the same layer with a spatial index (the drivers' defaults: GPKG R-tree,
FlatGeobuf packed Hilbert R-tree). Both outputs are checked for the same feature count.
Peak memory is the process's maximum resident set (`/usr/bin/time -v`).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.common import (
    CADASTRE,
    OUT,
    Timed,
    arguments,
    pg_connection_string,
    scratch_url,
    timed,
)
from bench.lookup_bench import _ensure_database as ensure_lookup_database
from cadastre.db import create_engine
from cadastre.settings import Settings

DB = "cadastre_bench_export"
SOURCE_DB = "cadastre_bench_lookup"
DRIVERS = {"gpkg": "GPKG", "fgb": "FlatGeobuf"}


def _copy_register(url: str, *, fresh: bool) -> None:
    admin = create_engine(Settings(database_url=url),
                          url=make_url(url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                  {"d": DB}).scalar()
            if exists and not fresh:
                return
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
            for attempt in range(30):  # the template must have no other session
                try:
                    conn.execute(sa.text(f'CREATE DATABASE "{DB}" TEMPLATE "{SOURCE_DB}"'))
                    return
                except sa.exc.OperationalError:
                    if attempt == 29:
                        raise
                    time.sleep(2)
    finally:
        admin.dispose()


def _ensure_database(parcels: int) -> str:
    """A copy of the lookup benchmark's register, at the current schema (copied again when
    it cannot be upgraded, e.g. after a migration it holds was edited)."""
    ensure_lookup_database(parcels)
    url = scratch_url(DB)
    marker = OUT / f"export_db_{parcels}.ok"
    _copy_register(url, fresh=not marker.exists())
    try:
        timed([*CADASTRE, "db", "upgrade"], env={"CADASTRE_DATABASE_URL": url})
    except RuntimeError:
        _copy_register(url, fresh=True)
        timed([*CADASTRE, "db", "upgrade"], env={"CADASTRE_DATABASE_URL": url})
    if not marker.exists():
        engine = create_engine(Settings(database_url=url))
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        engine.dispose()
        marker.write_text("ok")
    return url


def _peer_sql(url: str, fmt: str) -> str:
    from cadastre.exports.service import prepare, select_sql

    engine = create_engine(Settings(database_url=url))
    with engine.connect() as conn:
        request = prepare(conn, collection="parcels", format=fmt)
        sql = select_sql(conn, request, raw_geometry=True)
    engine.dispose()
    return sql


def _warm(url: str) -> None:
    """Read the tables once so that the first timed run does not pay for cold pages."""
    engine = create_engine(Settings(database_url=url))
    with engine.connect() as conn:
        conn.execute(sa.text("SET statement_timeout = 0"))
        conn.execute(sa.text("SELECT sum(length(ST_AsBinary(geom))) FROM current_parcel"))
        conn.execute(sa.text("SELECT count(*), sum(area) FROM parcel_land_use"))
    engine.dispose()


def _features(path: Path) -> int:
    import pyogrio

    return int(pyogrio.read_info(path)["features"])


def _remove(path: Path) -> None:
    if path.exists():
        path.unlink()


def run(parcels: int, runs: int) -> dict[str, object]:
    OUT.mkdir(parents=True, exist_ok=True)
    url = _ensure_database(parcels)
    env = {"CADASTRE_DATABASE_URL": url}
    pg = f"PG:{pg_connection_string(url)}"
    _warm(url)
    result: dict[str, object] = {"parcels": parcels, "runs": runs}
    for fmt, driver in DRIVERS.items():
        sql = _peer_sql(url, fmt)
        ours_path, peer_path = OUT / f"export_ours.{fmt}", OUT / f"export_ogr2ogr.{fmt}"
        ours_runs: list[Timed] = []
        peer_runs: list[Timed] = []
        for _ in range(runs):
            _remove(peer_path)
            peer_runs.append(timed(["ogr2ogr", "-f", driver, str(peer_path), pg, "-sql", sql,
                                    "-nln", "parcels"]))
            _remove(ours_path)
            ours_runs.append(timed([*CADASTRE, "export", "--collection", "parcels",
                                    "--format", fmt, "--out", str(ours_path), "--by",
                                    "bench"], env=env))
        ours_n, peer_n = _features(ours_path), _features(peer_path)
        if ours_n != peer_n:
            raise RuntimeError(f"{fmt}: cadastre export wrote {ours_n:,} features, ogr2ogr "
                               f"{peer_n:,}")
        # the command's own figure: the export without the interpreter's start-up (imports
        # of the CLI, SQLAlchemy, pyarrow, pyogrio/geopandas: about 2 s here)
        work = [float(m.group(1)) for t in ours_runs
                if (m := re.search(r" in ([\d.]+) s \(export #", " ".join(t.stdout.split())))]
        ours_s = min(t.seconds for t in ours_runs)
        peer_s = min(t.seconds for t in peer_runs)
        figures = {
            "features": ours_n,
            "ogr2ogr_s": [round(t.seconds, 2) for t in peer_runs],
            "ogr2ogr_peak_mb": round(max(t.peak_rss_mb for t in peer_runs)),
            "cadastre_export_s": [round(t.seconds, 2) for t in ours_runs],
            "cadastre_export_peak_mb": round(max(t.peak_rss_mb for t in ours_runs)),
            "cadastre_export_work_s": work,
            "ratio_ogr2ogr_over_cadastre": round(peer_s / ours_s, 2),
            "ogr2ogr_mb_out": round(peer_path.stat().st_size / 1e6),
            "cadastre_mb_out": round(ours_path.stat().st_size / 1e6),
        }
        result[fmt] = figures
        print(f"[{fmt}] ogr2ogr          best {peer_s:6.1f} s  of {figures['ogr2ogr_s']}  "
              f"peak {figures['ogr2ogr_peak_mb']:5} MB  file {figures['ogr2ogr_mb_out']} MB")
        print(f"[{fmt}] cadastre export  best {ours_s:6.1f} s  of {figures['cadastre_export_s']}"
              f"  peak {figures['cadastre_export_peak_mb']:5} MB  file "
              f"{figures['cadastre_mb_out']} MB  (export itself {work} s)")
        print(f"[{fmt}] ratio ogr2ogr / cadastre export = "
              f"{figures['ratio_ogr2ogr_over_cadastre']:.2f} (>= 1.0: at least as fast), "
              f"{ours_n:,} features each")
        _remove(ours_path)
        _remove(peer_path)
    (OUT / f"export_bench_{parcels}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    run(args.parcels, args.runs)


if __name__ == "__main__":
    main()
