"""Crash during import: kill -9 the PostgreSQL server at random moments of a large import and
check that, after the restart, the import is either absent or complete, every time.

    .venv/bin/python -m bench.crash_import [--parcels 1000000] [--runs 10] [--seed 1]

Everything happens on a throwaway cluster of its own (initdb into
.cadastre/crash-cluster, port 55499, data checksums on, run as the `postgres` OS user when
started as root), never on the shared server. Steps:

1. `cadastre db init`, then one full `cadastre import` of a synthetic layer
   (`cadastre synth`, reused from bench/out/ when there) to know its duration T and its
   row counts (the reference);
2. for each run: start `cadastre import FILE`, wait a random moment (stratified over
   [0, 1.05 T] so that every part of the import, the commit included, is hit), note what
   the import's backend is doing, then SIGKILL the postmaster and every server process at
   once; restart the cluster (crash recovery) and classify the database:
   - absent: no import_run row for the file and every table holds exactly the rows it held
     after `db init`;
   - complete: the import_run row is there and every table holds exactly the reference
     counts, the register's invariants hold (no orphan rows, every current parcel has its
     land-use rows and its right, counts equal the import report's);
   and, in both cases, the schema (indexes, constraints, triggers) is exactly the one
   `db init` made, all valid, and pg_amcheck finds no corrupt heap page or index entry.
   A completed import is reset (database dropped and re-initialised) before the next run;
3. during one outage, an API (`cadastre serve --workers 2`, on a small database of the
   same cluster) is probed: /health and a parcel lookup must answer 503 problem+json, never
   500, while the server is down, and 200 again after the restart without restarting the
   API.

Prints a table of the runs and writes bench/out/crash_import_<N>.json. The cluster is
stopped and removed at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import CADASTRE, OUT, ROOT

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CLUSTER_DIR = ROOT / ".cadastre" / "crash-cluster"
DB = "cadastre_crash"
API_DB = "cadastre_crash_api"

# Register invariants of a completed import: each query counts violations.
INVARIANTS = {
    "parcel version without parcel_identity":
        "SELECT count(*) FROM parcel p WHERE NOT EXISTS "
        "(SELECT 1 FROM parcel_identity i WHERE i.parcel_id = p.parcel_id)",
    "parcel_identity without a version":
        "SELECT count(*) FROM parcel_identity i WHERE NOT EXISTS "
        "(SELECT 1 FROM parcel p WHERE p.parcel_id = i.parcel_id)",
    "current parcel without land-use rows":
        "SELECT count(*) FROM current_parcel p WHERE NOT EXISTS "
        "(SELECT 1 FROM parcel_land_use u WHERE u.parcel_version_id = p.version_id)",
    "land-use row of a missing parcel version":
        "SELECT count(*) FROM parcel_land_use u WHERE NOT EXISTS "
        "(SELECT 1 FROM parcel p WHERE p.version_id = u.parcel_version_id)",
    "current parcel without a current right":
        "SELECT count(*) FROM current_parcel p WHERE NOT EXISTS "
        "(SELECT 1 FROM current_land_right r WHERE r.parcel_id = p.parcel_id)",
    "right without its party":
        "SELECT count(*) FROM land_right r WHERE NOT EXISTS "
        "(SELECT 1 FROM party y WHERE y.id = r.party_id)",
    "right without its parcel":
        "SELECT count(*) FROM land_right r WHERE NOT EXISTS "
        "(SELECT 1 FROM parcel_identity i WHERE i.parcel_id = r.parcel_id)",
    "party holding nothing and in no group":
        "SELECT count(*) FROM party y WHERE NOT EXISTS "
        "(SELECT 1 FROM land_right r WHERE r.party_id = y.id) AND NOT EXISTS "
        "(SELECT 1 FROM party_member m WHERE m.member_party_id = y.id) AND NOT EXISTS "
        "(SELECT 1 FROM party_member m WHERE m.group_party_id = y.id)",
    "personal data without its party":
        "SELECT count(*) FROM party_personal pp WHERE NOT EXISTS "
        "(SELECT 1 FROM party y WHERE y.id = pp.party_id)",
    "certificate cover of a missing certificate or parcel":
        "SELECT count(*) FROM certificate_parcel c WHERE NOT EXISTS "
        "(SELECT 1 FROM certificate x WHERE x.version_id = c.certificate_version_id) "
        "OR NOT EXISTS (SELECT 1 FROM parcel_identity i WHERE i.parcel_id = c.parcel_id)",
    "current parcel not begun by the import's change":
        "SELECT count(*) FROM current_parcel p WHERE p.begun_by IS DISTINCT FROM "
        "(SELECT change_id FROM import_run ORDER BY id DESC LIMIT 1)",
}

# The import report's counts and the table each one must equal.
REPORT_COUNTS = {
    "parcels_new": "SELECT count(*) FROM current_parcel",
    "land_use_rows": "SELECT count(*) FROM parcel_land_use",
    "parties": "SELECT count(*) FROM party",
    "certificates": "SELECT count(*) FROM certificate",
    "rights": "SELECT count(*) FROM land_right",
}

SCHEMA_SIGNATURE = """
SELECT 'index ' || c.relname || ' valid=' || i.indisvalid || ' ready=' || i.indisready || ' '
       || pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || '.' || conname || ' validated=' || convalidated
       || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || '.' || tgname || ' enabled=' || tgenabled::text
FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1
"""

USER_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
"""


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


class Cluster:
    """A throwaway PostgreSQL cluster of this script's own."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgresql.log"
        self.port = port
        self.runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, database: str) -> str:
        user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def create(self) -> None:
        if self.data.exists():
            self.stop(mode="immediate", check=False)
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        if self.runas:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run([*self.runas, str(PG_BIN / "initdb"), "-D", str(self.data), "-U",
                        "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
                        "--data-checksums"], check=True, capture_output=True)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.root}'\n"
                       "shared_buffers = 512MB\nmax_wal_size = 4GB\n")

    def start(self) -> float:
        """Start (after a crash: crash recovery) and wait until it accepts connections;
        returns the seconds it took."""
        started = time.perf_counter()
        subprocess.run([*self.runas, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                        str(self.log), "-w", "-t", "900", "start"], check=True,
                       capture_output=True, start_new_session=True)
        return time.perf_counter() - started

    def stop(self, *, mode: str = "fast", check: bool = True) -> None:
        subprocess.run([*self.runas, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode,
                        "-w", "stop"], check=check, capture_output=True)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill9(self) -> list[int]:
        """SIGKILL the postmaster and every process it started, at once (a crash of the
        server, not a shutdown): all are frozen first (SIGSTOP) so that none can react to
        the others' death, then killed; no checkpoint, no clean exit of any backend."""
        postmaster = self.postmaster_pid()
        os.kill(postmaster, signal.SIGSTOP)
        processes = [postmaster, *(pid for pid in _all_pids() if _parent(pid) == postmaster)]
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        # Wait until they are gone, not only dead: a zombie postmaster not yet reaped by
        # init still "exists" for the next postmaster's lock-file check.
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() for pid in processes):
            if time.monotonic() > deadline:
                if any(_alive(pid) for pid in processes):
                    raise RuntimeError("server processes survived SIGKILL")
                (self.data / "postmaster.pid").unlink(missing_ok=True)  # dead, unreaped
                break
            time.sleep(0.05)
        return processes

    def remove(self) -> None:
        self.stop(mode="fast", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cadastre(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CADASTRE, *args], capture_output=True, text=True,
                            env={**os.environ, "CADASTRE_DATABASE_URL": url})
    if check and result.returncode != 0:
        raise RuntimeError(f"cadastre {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def engine_for(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool,
                            connect_args={"connect_timeout": 10})


def reset_database(cluster: Cluster) -> None:
    admin = engine_for(cluster.url("postgres")).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
    admin.dispose()
    cadastre(cluster.url(DB), "db", "init", "--srid", "5897")
    engine = engine_for(cluster.url(DB))
    with engine.begin() as conn:  # for pg_amcheck
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    engine.dispose()


def table_counts(conn: sa.Connection) -> dict[str, int]:
    tables = conn.execute(sa.text(USER_TABLES)).scalars().all()
    return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def schema_signature(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.text(SCHEMA_SIGNATURE)).scalars())


def amcheck(cluster: Cluster, database: str) -> tuple[bool, str, float]:
    """pg_amcheck over every table and B-tree index (heap pages, index structure, and
    every heap tuple present in its indexes)."""
    started = time.perf_counter()
    result = subprocess.run([str(PG_BIN / "pg_amcheck"), "-h", "127.0.0.1", "-p",
                             str(cluster.port), "-U", "postgres", "-d", database,
                             "--heapallindexed", "--no-dependent-toast"],
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    detail = (result.stdout + result.stderr).strip()
    return result.returncode == 0, detail[:500], elapsed


@dataclass
class Reference:
    seconds: float
    counts: dict[str, int]
    baseline_counts: dict[str, int]
    signature: list[str]
    report_counts: dict[str, int]


@dataclass
class Run:
    run: int
    kill_at_s: float
    kill_fraction: float
    backend_was: str
    import_exit: int | None
    import_said: str
    recovery_s: float
    outcome: str
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def verify(cluster: Cluster, ref: Reference, sha256: str) -> tuple[str, dict[str, Any],
                                                                    list[str]]:
    problems: list[str] = []
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    engine = engine_for(cluster.url(DB))
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT id, counts FROM import_run WHERE source_sha256 = :s"),
                            {"s": sha256}).all()
        counts = table_counts(conn)
        signature = schema_signature(conn)
        if signature != ref.signature:
            changed = sorted(set(signature) ^ set(ref.signature))
            problems.append(f"schema differs from db init's: {changed[:3]}")
        checks["schema_as_after_init"] = signature == ref.signature
        if not runs:
            outcome = "absent"
            differ = {t: (n, ref.baseline_counts.get(t)) for t, n in counts.items()
                      if n != ref.baseline_counts.get(t)}
            if differ:
                problems.append(f"no import_run row but tables changed: {differ}")
            checks["tables_as_after_init"] = not differ
        else:
            outcome = "complete"
            if len(runs) > 1:
                problems.append(f"{len(runs)} import_run rows for one import")
            differ = {t: (n, ref.counts.get(t)) for t, n in counts.items()
                      if n != ref.counts.get(t)}
            if differ:
                problems.append(f"counts differ from the reference import: {differ}")
            checks["tables_as_reference"] = not differ
            checks["current_parcels"] = conn.execute(
                sa.text("SELECT count(*) FROM current_parcel")).scalar_one()
            report = runs[-1].counts or {}
            for key, query in REPORT_COUNTS.items():
                value = conn.execute(sa.text(query)).scalar_one()
                if value != report.get(key):
                    problems.append(f"{key}: table {value:,} vs report {report.get(key)}")
            violations = {name: conn.execute(sa.text(q)).scalar_one()
                          for name, q in INVARIANTS.items()}
            bad = {k: v for k, v in violations.items() if v}
            if bad:
                problems.append(f"invariants violated: {bad}")
            checks["invariant_violations"] = sum(violations.values())
    engine.dispose()
    ok, detail, seconds = amcheck(cluster, DB)
    checks["amcheck_ok"] = ok
    checks["amcheck_s"] = round(seconds, 1)
    checks["verify_s"] = round(time.perf_counter() - started, 1)
    if not ok:
        problems.append(f"pg_amcheck: {detail}")
    return outcome, checks, problems


# --- the API during an outage ---------------------------------------------------------------

def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", "")
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        return -1, type(exc).__name__


class ApiProbe:
    """`cadastre serve` on a small database of the crash cluster, probed in a thread."""

    def __init__(self, cluster: Cluster, port: int, layer: Path) -> None:
        self.cluster = cluster
        self.port = port
        url = cluster.url(API_DB)
        cadastre(url, "db", "init", "--srid", "5897")
        cadastre(url, "import", str(layer))
        engine = engine_for(url)
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT parcel_id, ST_X(pt), ST_Y(pt) FROM (SELECT parcel_id, "
                "ST_Transform(ST_PointOnSurface(geom), 4326) AS pt FROM current_parcel "
                "ORDER BY parcel_id LIMIT 1) s")).one()
        engine.dispose()
        base = f"http://127.0.0.1:{port}"
        self.urls = {"health": f"{base}/health",
                     "lookup_at": f"{base}/api/v1/parcels/at?lon={row[1]:.7f}&lat={row[2]:.7f}",
                     "parcel_file": f"{base}/api/v1/parcels/{row[0]}"}
        self.process = subprocess.Popen(
            [*CADASTRE, "serve", "--port", str(port), "--workers", "2"],
            env={**os.environ, "CADASTRE_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
            stderr=open(cluster.root / "api.log", "w"), start_new_session=True)  # noqa: SIM115
        deadline = time.monotonic() + 60
        while http_get(self.urls["health"])[0] != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the API did not start; see " + str(cluster.root / "api.log"))
            time.sleep(0.5)
        self.samples: list[tuple[float, str, int, str]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def all_ok(self) -> bool:
        return all(http_get(u)[0] == 200 for u in self.urls.values())

    def start_probing(self) -> None:
        self.samples = []
        self._stop.clear()
        started = time.monotonic()

        def loop() -> None:
            while not self._stop.is_set():
                for name, url in self.urls.items():
                    status, kind = http_get(url)
                    self.samples.append((time.monotonic() - started, name, status, kind))
                time.sleep(0.2)

        self.t0 = started
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop_probing(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def api_outage_check(probe: ApiProbe, killed_at: float, restarted_at: float) -> dict[str, Any]:
    """Summarise the probes: statuses while the server was down, and how long after the
    restart every endpoint answered 200 again."""
    down = [(n, s, k) for t, n, s, k in probe.samples
            if killed_at - probe.t0 + 0.5 <= t < restarted_at - probe.t0 - 0.5]
    after = [(t, n, s) for t, n, s, _ in probe.samples if t >= restarted_at - probe.t0]
    recovered: dict[str, float | None] = {}
    for name in probe.urls:
        mine = [(t, s) for t, n, s in after if n == name]
        last_bad = max((t for t, s in mine if s != 200), default=None)
        oks = [t for t, s in mine if s == 200 and (last_bad is None or t > last_bad)]
        recovered[name] = (round(min(oks) - (restarted_at - probe.t0), 2) if oks else None)
    statuses_down: dict[str, dict[str, int]] = {}
    for name, status, kind in down:
        key = f"{status} {kind.split(';')[0]}"
        statuses_down.setdefault(name, {}).setdefault(key, 0)
        statuses_down[name][key] += 1
    statuses_after: dict[str, dict[str, int]] = {}
    for _t, name, status in after:
        statuses_after.setdefault(name, {}).setdefault(str(status), 0)
        statuses_after[name][str(status)] += 1
    any_500 = any(s >= 500 and s != 503 for _, _, s, _ in probe.samples)
    ok = (bool(down) and all(s == 503 and k.startswith("application/problem+json")
                             for _, s, k in down)
          and all(v is not None for v in recovered.values()) and not any_500)
    return {"ok": ok, "during_outage": statuses_down, "after_restart": statuses_after,
            "seconds_to_200_after_restart": recovered, "any_5xx_other_than_503": any_500,
            "urls": probe.urls}


# --- main ---------------------------------------------------------------------------------

def layer_for(parcels: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"synth_{parcels}.gpkg"
    if not path.exists():
        say(f"writing a synthetic layer of {parcels:,} parcels to {path}")
        subprocess.run([*CADASTRE, "synth", "--parcels", str(parcels), "--out", str(path)],
                       check=True)
    return path


def backend_activity(cluster: Cluster) -> str:
    """What the import's backend is doing (its current statement), read just before the
    kill."""
    try:
        engine = engine_for(cluster.url("postgres"))
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT state, wait_event, regexp_replace(left(query, 60), '\\s+', ' ', 'g') "
                "FROM pg_stat_activity WHERE datname = :d AND application_name = 'cadastre' "
                "AND pid <> pg_backend_pid()"), {"d": DB}).all()
        engine.dispose()
    except sa.exc.OperationalError as exc:
        return f"(no answer: {str(exc.orig).strip()[:40]})"
    if not rows:
        return "(no import session)"
    active = [r for r in rows if r[0] != "idle"] or rows
    state, _wait, query = active[0]
    return f"{state}: {query}"


def wait_for_commit(cluster: Cluster, sha256: str, process: subprocess.Popen[bytes]) -> str:
    """Return as soon as the import's import_run row is visible to another session, that
    is the moment its transaction committed (the poll may wait on the import's table
    locks, which are released by that same commit)."""
    engine = engine_for(cluster.url(DB)).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            while not conn.execute(sa.text(
                    "SELECT EXISTS (SELECT 1 FROM import_run WHERE source_sha256 = :s)"),
                    {"s": sha256}).scalar():
                if process.poll() is not None:
                    return "(import ended without committing)"
                time.sleep(0.05)
    finally:
        engine.dispose()
    return "(committed: import_run row just visible)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    parser.add_argument("--port", type=int, default=55499)
    parser.add_argument("--api-port", type=int, default=8799)
    parser.add_argument("--api-run", type=int, default=2,
                        help="the run during whose outage the API is probed (0: none)")
    parser.add_argument("--after-commit", type=int, default=0, metavar="K",
                        help="K more runs that kill the server the moment the import's "
                        "import_run row is visible (committed: it must survive)")
    parser.add_argument("--out", type=Path, help="JSON output (default: "
                        "bench/out/crash_import_<N>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the cluster at the end")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    layer = layer_for(args.parcels)
    sha256 = _sha256(layer)
    cluster = Cluster(CLUSTER_DIR, args.port)
    say(f"creating a throwaway cluster in {cluster.data} (port {args.port})")
    cluster.create()
    cluster.start()
    probe: ApiProbe | None = None
    runs: list[Run] = []
    started_all = time.perf_counter()
    try:
        reset_database(cluster)
        engine = engine_for(cluster.url(DB))
        with engine.connect() as conn:
            baseline_counts = table_counts(conn)
            signature = schema_signature(conn)
        engine.dispose()

        say(f"reference import of {args.parcels:,} parcels (measures T)")
        t0 = time.perf_counter()
        cadastre(cluster.url(DB), "import", str(layer))
        seconds = time.perf_counter() - t0
        engine = engine_for(cluster.url(DB))
        with engine.connect() as conn:
            counts = table_counts(conn)
            report_counts = conn.execute(sa.text(
                "SELECT counts FROM import_run WHERE source_sha256 = :s"), {"s": sha256}
            ).scalar_one()
        engine.dispose()
        ref = Reference(seconds, counts, baseline_counts, signature, report_counts)
        outcome, checks, problems = verify(cluster, ref, sha256)
        if outcome != "complete" or problems:
            raise RuntimeError(f"the reference import does not verify: {problems}")
        say(f"reference import: {seconds:.1f} s, {counts['parcel']:,} parcel rows; "
            f"pg_amcheck {checks['amcheck_s']} s")
        reset_database(cluster)

        if args.api_run:
            say("starting the API on a small database of the same cluster")
            small = cluster.root / "api_layer.gpkg"
            subprocess.run([*CADASTRE, "synth", "--parcels", "2000", "--seed", "7", "--out",
                            str(small)], check=True, capture_output=True)
            probe = ApiProbe(cluster, args.api_port, small)

        span = 1.05 * seconds
        moments: list[float | None] = [
            rng.uniform(i * span / args.runs, (i + 1) * span / args.runs)
            for i in range(args.runs)]
        moments += [None] * args.after_commit  # None: the moment it commits
        rng.shuffle(moments)
        for number, moment in enumerate(moments, start=1):
            log = open(cluster.root / f"import_{number}.log", "w")  # noqa: SIM115
            process = subprocess.Popen(
                [*CADASTRE, "import", str(layer)], stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "CADASTRE_DATABASE_URL": cluster.url(DB)})
            launched = time.perf_counter()
            if moment is None:
                doing = wait_for_commit(cluster, sha256, process)
            else:
                time.sleep(max(0.0, moment - 0.3))
                doing = backend_activity(cluster)
                time.sleep(max(0.0, moment - (time.perf_counter() - launched)))
                if process.poll() is not None:
                    doing = "(import had already finished)"
            api_run = probe is not None and number == args.api_run
            if api_run:
                assert probe is not None
                probe.start_probing()
                time.sleep(1.0)
            killed_at = time.monotonic()
            cluster.kill9()
            kill_s = time.perf_counter() - launched
            say(f"run {number}: killed the server at {kill_s:.1f} s ({doing})")
            try:
                rc: int | None = process.wait(timeout=180)
            except subprocess.TimeoutExpired:
                process.kill()
                rc = None
            log.close()
            said = _last_line(cluster.root / f"import_{number}.log")
            if api_run:
                time.sleep(5.0)  # the outage, as the API sees it
            restarted_at = time.monotonic()
            recovery = cluster.start()
            api_result = None
            if api_run:
                assert probe is not None
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not probe.all_ok():
                    time.sleep(0.5)
                time.sleep(3.0)
                probe.stop_probing()
                api_result = api_outage_check(probe, killed_at, restarted_at)
                say(f"run {number}: API during the outage: {api_result['during_outage']}; "
                    f"after the restart: {api_result['seconds_to_200_after_restart']} s to 200")
            outcome, checks, problems = verify(cluster, ref, sha256)
            if api_result is not None:
                checks["api"] = api_result
                if not api_result["ok"]:
                    problems.append("the API did not answer 503 during the outage and 200 "
                                    "after it")
            run = Run(number, round(kill_s, 1), round(kill_s / seconds, 3),
                      doing, rc, said,
                      round(recovery, 1), outcome, checks, problems)
            runs.append(run)
            trouble = " with problems: " + "; ".join(problems) if problems else ""
            say(f"run {number}: {outcome}{trouble} (recovery {recovery:.1f} s, "
                f"import exit {rc}: {said})")
            if outcome == "complete":
                reset_database(cluster)
    finally:
        if probe is not None:
            probe.close()
        if not args.keep:
            cluster.remove()

    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.crash_import " + " ".join(argv or sys.argv[1:]),
        "parcels": args.parcels,
        "runs": len(runs),
        "random_runs": args.runs,
        "after_commit_runs": args.after_commit,
        "seed": args.seed,
        "reference_import_s": round(ref.seconds, 1),
        "reference_counts": ref.counts,
        "absent": sum(r.outcome == "absent" for r in runs),
        "complete": sum(r.outcome == "complete" for r in runs),
        "runs_with_problems": sum(bool(r.problems) for r in runs),
        "total_minutes": round((time.perf_counter() - started_all) / 60, 1),
        "details": [asdict(r) for r in runs],
    }
    out = args.out or OUT / f"crash_import_{args.parcels}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    _print_table(result)
    print(f"wrote {out}")
    return 1 if result["runs_with_problems"] else 0


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _last_line(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines()
             if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or [""])[0][:120]


def _print_table(result: dict[str, Any]) -> None:
    print()
    print(f"{result['runs']} runs, {result['parcels']:,} parcels, reference import "
          f"{result['reference_import_s']} s: {result['absent']} absent, {result['complete']} "
          f"complete, {result['runs_with_problems']} with problems")
    print(f"{'run':>3}  {'kill at':>8}  {'of T':>5}  {'backend was':<44}  {'recovery':>8}  "
          f"{'outcome':<8}  verification")
    for r in result["details"]:
        verdict = "ok" if not r["problems"] else "; ".join(r["problems"])[:80]
        print(f"{r['run']:>3}  {r['kill_at_s']:>7.1f}s  {r['kill_fraction']:>5.2f}  "
              f"{r['backend_was'][:44]:<44}  {r['recovery_s']:>7.1f}s  {r['outcome']:<8}  "
              f"{verdict}")


if __name__ == "__main__":
    sys.exit(main())
