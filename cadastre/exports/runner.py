"""Background export jobs of an API process: a small thread pool that takes queued jobs
from ``export_job`` and writes their files under the export directory.

Jobs live in the database, not in the pool: a queued job survives a restart and is run by
the next process that starts (or by any worker of the API: they all drain the same queue,
``FOR UPDATE SKIP LOCKED``); a job left running by a process that stopped is marked failed
(``jobs.recover_interrupted``). On shutdown, running jobs stop at their next batch and are
recorded as interrupted.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadastre.errors import CadastreError
from cadastre.exports import jobs
from cadastre.exports.errors import ExportInterrupted
from cadastre.exports.service import ExportRequest, request_from_job, write_export

log = logging.getLogger("cadastre.exports")
#: One export at a time per API process: an export already keeps both cores busy
#: (PostGIS computing rows, Arrow parsing them, GDAL writing); others wait in the queue.
WORKERS = 1
STOP_WAIT_S = 30.0


def job_file(export_dir: Path, job_id: int, request: ExportRequest) -> Path:
    return export_dir / f"export-{job_id}-{request.collection.layer}{request.format.suffixes[0]}"


class ExportRunner:
    def __init__(self, engine: Engine, export_dir: Path, *, workers: int = WORKERS) -> None:
        self.engine = engine
        self.export_dir = export_dir
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="export-job")
        self._stopping = threading.Event()
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """At start-up: fail the jobs a stopped process left running, run the queued ones."""
        self.wake()

    def wake(self) -> None:
        """Look for queued jobs (after a request queued one)."""
        if self._stopping.is_set():
            return
        future = self._executor.submit(self._drain)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def stop(self) -> None:
        """Stop taking jobs; running ones stop at their next batch, recorded as failed."""
        self._stopping.set()
        with self._lock:
            pending = set(self._futures)
        self._executor.shutdown(wait=False, cancel_futures=True)
        wait(pending, timeout=STOP_WAIT_S)

    def _drain(self) -> None:
        try:
            with self.engine.begin() as conn:
                recovered = jobs.recover_interrupted(conn)
            if recovered:
                log.warning("%d export job(s) left running by a stopped process marked "
                            "failed", recovered)
            while not self._stopping.is_set():
                with self.engine.connect() as lock_conn:
                    with lock_conn.begin():
                        job = jobs.claim_next(lock_conn)
                    if job is None:
                        return
                    try:
                        self._run(job)
                    finally:
                        with lock_conn.begin():
                            jobs.release(lock_conn, job["id"])
        except sa.exc.OperationalError:  # the queue waits in the table for the next wake-up
            log.warning("export queue not drained: the database does not answer")
        except Exception:
            log.exception("export queue not drained")

    def _progress(self, done: int) -> None:
        if self._stopping.is_set():
            raise ExportInterrupted("the API stopped before the export finished; request the "
                                    "export again")

    def _run(self, job: dict[str, Any]) -> None:
        job_id = int(job["id"])
        try:
            with self.engine.begin() as conn:
                request = request_from_job(conn, job)
                result = write_export(conn, request, job_file(self.export_dir, job_id, request),
                                      progress=self._progress)
        except CadastreError as exc:
            self._fail(job_id, exc.message)
            return
        except Exception as exc:
            log.exception("export %d failed", job_id)
            self._fail(job_id, f"the export failed ({type(exc).__name__}); the error was logged")
            return
        with self.engine.begin() as conn:
            jobs.finish(conn, job_id, result.count, result.bytes, list(result.warnings),
                        str(result.files[0]))
        log.info("export %d: %d features, %d bytes in %.1f s", job_id, result.count,
                 result.bytes, result.seconds)

    def _fail(self, job_id: int, message: str) -> None:
        with self.engine.begin() as conn:
            jobs.fail(conn, job_id, message)
