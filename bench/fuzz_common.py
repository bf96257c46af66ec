"""Running a fuzz test module as a long campaign: the same tests as `make test`, with more
examples (FUZZ_EXAMPLES) and their figures collected in a JSON file (FUZZ_STATS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import OUT, ROOT


def campaign(test_file: str, examples: int, name: str) -> tuple[dict[str, Any], int, float]:
    """Run ``test_file`` with ``examples`` per operation / seed file; returns the figures
    (also written to bench/out/NAME.json), pytest's exit status and the wall time."""
    OUT.mkdir(parents=True, exist_ok=True)
    stats = OUT / f"{name}.json"
    stats.unlink(missing_ok=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", test_file, "-q", "-p", "no:cacheprovider",
         "-W", "ignore::RuntimeWarning"],
        cwd=ROOT, env={**os.environ, "FUZZ_EXAMPLES": str(examples),
                       "FUZZ_STATS": str(stats), "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True)
    seconds = time.perf_counter() - started
    tail = result.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"pytest {test_file}: exit {result.returncode}, {tail[0]}")
    if result.returncode not in (0, 1):
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
    figures = json.loads(stats.read_text()) if stats.exists() else {}
    figures["_run"] = {"examples": examples, "exit_status": result.returncode,
                       "wall_seconds": round(seconds, 1)}
    stats.write_text(json.dumps(figures, indent=2, sort_keys=True, default=str))
    return figures, result.returncode, seconds


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))
