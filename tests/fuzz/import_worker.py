"""A process that runs dry-run imports for the importer fuzzer, one per request, so that the
fuzzer survives what it looks for: a hang (the parent's timeout kills this process), a
crash of GDAL or of the interpreter (this process dies), memory exhaustion (a limit on the
address space turns it into MemoryError here, not the machine's OOM killer).

    python -m tests.fuzz.import_worker DATABASE_URL SEED_DIR

On start it imports ``SEED_DIR/map/sheet.shp`` inside one transaction that is never
committed (register rows then have parcels to match); every request is a dry run inside
it. Requests and answers are JSON lines (stdin -> fd 3's duplicate of stdout): request
``{"path", "kind", "options"}``, answer ``{"outcome": "accepted" | "clear" | "crash", ...}``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

#: Address space of the worker: a header that declares billions of records makes GDAL or
#: pandas allocate; past this it is a MemoryError (a crash of the import), not an OOM kill.
MEMORY_LIMIT = 3 * 1024**3


def main() -> None:
    url, seed = sys.argv[1], Path(sys.argv[2])
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # GDAL and library chatter must not mix with the answers
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    warnings.simplefilter("ignore")

    from cadastre.db import create_engine
    from cadastre.errors import CadastreError
    from cadastre.settings import Settings
    from importers.pipeline import ImportOptions, run_import

    engine = create_engine(Settings(database_url=url))
    with engine.connect() as conn:
        outer = conn.begin()
        run_import(conn, seed / "map" / "sheet.shp", ImportOptions())
        answers.write(json.dumps({"ready": True}) + "\n")
        for line in sys.stdin:
            request = json.loads(line)
            answer: dict[str, Any]
            try:
                report = run_import(conn, Path(request["path"]), ImportOptions(
                    dry_run=True, kind=request["kind"], **request.get("options", {})))
                answer = {"outcome": "accepted", "status": report.status,
                          "counts": dict(report.counts)}
            except CadastreError as exc:
                answer = {"outcome": "clear", "code": exc.code, "message": str(exc)}
            except Exception as exc:  # what the fuzzer looks for
                answer = {"outcome": "crash", "type": type(exc).__name__,
                          "message": str(exc)[:500],
                          "traceback": traceback.format_exc(limit=-6)}
            answers.write(json.dumps(answer, default=str) + "\n")
        outer.rollback()
    engine.dispose()


if __name__ == "__main__":
    main()
