"""A backup's manifest: what the archive holds (sha256, server, tables with their checksums),
written beside it and checked before and after a restore."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cadastre.backup.errors import BackupCorrupt, BackupFileMissing

FORMAT = "cadastre-backup/1"
MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True, slots=True)
class TableFacts:
    rows: int
    checksum: str | None  # None when made with checksums=False


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    created_at: str
    database: str
    server_version: str
    server_version_num: int
    postgis_version: str | None
    pg_dump_version: str
    storage_srid: int | None
    migrations: list[str]
    encoding: str
    collate: str
    ctype: str
    roles: list[str]
    sha256: str
    bytes: int
    tables: dict[str, TableFacts]

    @property
    def server_major(self) -> int:
        return self.server_version_num // 10000

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        tables = {name: TableFacts(**facts) for name, facts in data["tables"].items()}
        return cls(**{**data, "tables": tables})



def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + MANIFEST_SUFFIX)



def read_verified(file: Path) -> Manifest:
    """The manifest of ``file``, once the archive is proved to be the one it describes."""
    if not file.is_file():
        raise BackupFileMissing(f"{file}: no such backup file")
    sidecar = manifest_path(file)
    if not sidecar.is_file():
        raise BackupCorrupt(f"{file}: its manifest {sidecar.name} is missing",
                            hint="a backup is the archive and its .manifest.json together")
    try:
        data = json.loads(sidecar.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        manifest = Manifest.from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise BackupCorrupt(f"{sidecar}: not a cadastre backup manifest ({exc})") from exc
    size = file.stat().st_size
    if size != manifest.bytes:
        raise BackupCorrupt(f"{file}: {size:,} bytes, the manifest says {manifest.bytes:,}; "
                            "the file is truncated or not the one backed up")
    if file_sha256(file) != manifest.sha256:
        raise BackupCorrupt(f"{file}: sha256 does not match its manifest; the file is "
                            "corrupt or was altered")
    return manifest


def compare(expected: dict[str, TableFacts], actual: dict[str, TableFacts],
            *, checksums: bool) -> list[str]:
    """Differences between the manifest's tables and a database's, one line each."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want is None:
            problems.append(f"{name}: in the database, not in the backup")
        elif got is None:
            problems.append(f"{name}: in the backup, missing from the database")
        elif want.rows != got.rows:
            problems.append(f"{name}: {got.rows:,} rows, the backup has {want.rows:,}")
        elif checksums and want.checksum != got.checksum:
            problems.append(f"{name}: same row count, different content")
    return problems
