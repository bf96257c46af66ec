"""`cadastre backup` / `cadastre restore` against plain pg_dump / pg_restore on one register.

    python -m bench.backup_bench [--parcels 1000000]

Uses the lookup benchmark's register of N imported parcels (built once and kept, see
bench/lookup_bench.py) and times, on the same server:

- pg_dump --format=custom (the peer) and `cadastre backup` with and without table
  checksums (ours adds the manifest: sha256 of the archive, row counts and checksums read
  in pg_dump's snapshot, while pg_dump runs);
- pg_restore --single-transaction into a new database (the peer) and `cadastre restore`
  into a new database (sha256 check first, then the restore, then every table counted and
  checksummed again and compared with the manifest).

Writes bench/out/backup_bench_<N>.json; the restored databases and archives are removed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.common import CADASTRE, OUT, drop_database, recreate_database, scratch_url, timed
from bench.lookup_bench import _ensure_database

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _libpq(url: str) -> list[str]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-d", str(u.database)]
    return args + (["-U", u.username] if u.username else [])


def run(parcels: int) -> dict[str, object]:
    OUT.mkdir(parents=True, exist_ok=True)
    source = _ensure_database(parcels)
    with tempfile.TemporaryDirectory(dir=OUT) as scratch:
        work = Path(scratch)
        peer_dump = timed([str(PG_BIN / "pg_dump"), "--format=custom", "-f",
                           str(work / "peer.dump"), *_libpq(source)])
        ours_counts = timed([*CADASTRE, "backup", "--no-checksums", "--out",
                             str(work / "counts.dump")], env={"CADASTRE_DATABASE_URL": source})
        ours_dump = timed([*CADASTRE, "backup", "--out", str(work / "ours.dump")],
                          env={"CADASTRE_DATABASE_URL": source})

        peer_url = recreate_database("cadastre_bench_restore_peer", postgis=False)
        peer_restore = timed([str(PG_BIN / "pg_restore"), "--single-transaction",
                              "--exit-on-error", "--no-owner", *_libpq(peer_url),
                              str(work / "peer.dump")])
        drop_database("cadastre_bench_restore_peer")

        ours_url = scratch_url("cadastre_bench_restore_ours")
        drop_database("cadastre_bench_restore_ours")
        ours_restore = timed([*CADASTRE, "restore", str(work / "ours.dump")],
                             env={"CADASTRE_DATABASE_URL": ours_url})
        drop_database("cadastre_bench_restore_ours")
        size_peer = (work / "peer.dump").stat().st_size
        size_ours = (work / "ours.dump").stat().st_size
        manifest = json.loads((work / "ours.dump.manifest.json").read_text())

    result: dict[str, object] = {
        "parcels": parcels,
        "rows": sum(t["rows"] for t in manifest["tables"].values()),
        "archive_mb": round(size_ours / 1e6, 1),
        "pg_dump_s": round(peer_dump.seconds, 1),
        "backup_counts_only_s": round(ours_counts.seconds, 1),
        "backup_with_checksums_s": round(ours_dump.seconds, 1),
        "pg_restore_s": round(peer_restore.seconds, 1),
        "restore_verified_s": round(ours_restore.seconds, 1),
        "ratio_pg_dump_over_backup": round(peer_dump.seconds / ours_dump.seconds, 2),
        "ratio_pg_restore_over_restore": round(peer_restore.seconds / ours_restore.seconds, 2),
        "peer_archive_mb": round(size_peer / 1e6, 1),
    }
    print(f"register: {parcels:,} parcels, {result['rows']:,} rows in all tables, archive "
          f"{result['archive_mb']} MB")
    print(f"pg_dump -Fc                 {peer_dump.seconds:7.1f} s")
    print(f"cadastre backup --no-checks {ours_counts.seconds:7.1f} s")
    print(f"cadastre backup             {ours_dump.seconds:7.1f} s   "
          f"pg_dump/backup = {result['ratio_pg_dump_over_backup']}")
    print(f"pg_restore -1               {peer_restore.seconds:7.1f} s")
    print(f"cadastre restore (verified) {ours_restore.seconds:7.1f} s   "
          f"pg_restore/restore = {result['ratio_pg_restore_over_restore']}")
    (OUT / f"backup_bench_{parcels}.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    args = parser.parse_args()
    run(args.parcels)


if __name__ == "__main__":
    main()
