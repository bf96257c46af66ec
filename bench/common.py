"""Shared helpers: scratch databases, timed subprocesses with peak memory."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cadastre.db import create_engine
from cadastre.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CADASTRE = [sys.executable, "-c", "from cadastre.cli import main; main()"]


@dataclass(frozen=True, slots=True)
class Timed:
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def timed(command: list[str], *, env: dict[str, str] | None = None) -> Timed:
    """Run a command under /usr/bin/time -v: wall seconds and peak resident memory."""
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{result.stdout}\n{result.stderr}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    peak = int(match.group(1)) / 1024 if match else float("nan")
    return Timed(elapsed, peak, result.stdout, result.stderr)


def scratch_url(name: str) -> str:
    base = make_url(Settings().database_url)
    return base.set(database=name).render_as_string(hide_password=False)


def recreate_database(name: str, *, postgis: bool) -> str:
    url = scratch_url(name)
    settings = Settings(database_url=url)
    admin = create_engine(settings, url=make_url(url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if postgis:
        engine = create_engine(settings)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION postgis"))
        engine.dispose()
    return url


def drop_database(name: str) -> None:
    url = scratch_url(name)
    admin = create_engine(Settings(database_url=url), url=make_url(url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pg_connection_string(url: str) -> str:
    """libpq key=value form of a SQLAlchemy URL, for GDAL's PG: prefix."""
    u = make_url(url)
    parts = [f"dbname={u.database}", f"host={u.host or '127.0.0.1'}", f"port={u.port or 5432}"]
    if u.username:
        parts.append(f"user={u.username}")
    if u.password:
        parts.append(f"password={u.password}")
    return " ".join(parts)


def arguments(doc: str | None, *, server: bool = False,
              database_url: bool = False) -> argparse.ArgumentParser:
    """The options the 1M-parcel benchmarks share: ``--parcels`` (``BENCH_PARCELS``); for
    those that load a server with wrk ``--seconds``; for those that can read an already
    imported register ``--database-url``."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--parcels", type=int,
                        default=int(os.environ.get("BENCH_PARCELS", 1_000_000)))
    if server:
        parser.add_argument("--seconds", type=int, default=20)
    if database_url:
        parser.add_argument("--database-url", help="an already imported register to read "
                            "instead of cadastre_bench_lookup (same synthetic layer, same "
                            "import)")
    return parser


def wrk_line(label: str, result: dict[str, float], unit: str, extra: str = "") -> str:
    """One server's wrk figures on one line: rate, p50 / p99, non-2xx answers."""
    return (f"{label}{result['rps']:8.1f} {unit}  p50 {result['p50_ms']:.1f} ms  "
            f"p99 {result['p99_ms']:.1f} ms  {extra}non-2xx {result['non_2xx']:.0f}")
