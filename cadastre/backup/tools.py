"""The PostgreSQL client tools a backup runs: finding pg_dump/pg_restore, calling them."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import URL

from cadastre.backup.errors import PgToolMissing, WrongServer

PG_LIB = Path("/usr/lib/postgresql")

#: Told one line per step of a backup or a restore (the CLI prints them).
Progress = Callable[[str], None]


def _tool_version(path: Path) -> tuple[int, str] | None:
    try:
        text = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                              timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", text)
    return (int(match.group(1)), text.strip()) if match else None


def find_pg_tool(name: str, major: int, *, at_least: int | None = None,
                 dirs: Sequence[Path] | None = None) -> tuple[Path, str]:
    """The ``pg_dump``/``pg_restore`` to use with a server of this major version: the one
    of that version first (/usr/lib/postgresql/<major>/bin), then PATH, then any other
    installed version, as long as it is at least ``at_least`` (default: ``major``).

    Returns the path and its ``--version`` line.
    """
    floor = major if at_least is None else at_least
    searched_default = dirs is None
    if dirs is None:
        installed = sorted(PG_LIB.glob("*/bin"), key=_version_of_dir, reverse=True)
        path_dirs = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
        dirs = [PG_LIB / str(major) / "bin", *path_dirs, *installed]
    found: list[tuple[int, Path]] = []
    for directory in dirs:
        candidate = directory / name
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        version = _tool_version(candidate)
        if version is None:
            continue
        if version[0] >= floor:
            return candidate, version[1]
        found.append((version[0], candidate))
    if not found:
        where = (f"{PG_LIB}/{major}/bin, PATH and {PG_LIB}/*/bin" if searched_default
                 else ", ".join(str(d) for d in dirs))
        raise PgToolMissing(
            f"{name} not found (looked in {where})",
            hint=f"install the PostgreSQL {major} client tools (apt-get install "
            f"postgresql-client-{major}) or give --pg-bin DIR")
    best, path = max(found)
    raise WrongServer(
        f"the newest {name} found ({path}) is PostgreSQL {best}, older than {floor}",
        hint=f"install postgresql-client-{floor} or give --pg-bin DIR")


def _version_of_dir(path: Path) -> int:
    name = path.parent.name
    return int(name) if name.isdigit() else 0


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password (which goes in PGPASSWORD, not on a
    command line that `ps` shows) and the environment to run a client tool with."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[0] if lines else "no output"
