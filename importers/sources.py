"""Finding the spatial datasets in what the user points at: a file, a directory, or a zip
or tar archive of many sheets. Archives are unpacked into a private temporary directory with
limits (zip bombs, path traversal, links), and every dataset is checked for the parts it
needs before anything is read."""

from __future__ import annotations

import hashlib
import os
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from cadastre.errors import ImportSourceError
from importers import formats
from importers.formats import DATASET_EXTENSIONS, DIRECTORY_EXTENSIONS, SourceFormat

MAX_ARCHIVE_BYTES = 8 * 1024**3  # uncompressed
MAX_ARCHIVE_MEMBERS = 100_000
MAX_COMPRESSION_RATIO = 200  # beyond this a member is treated as a bomb


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of one dataset, ready for pyogrio."""

    dataset: str  # as shown to the user: the path inside the archive or directory
    path: str  # what pyogrio opens
    name: str
    driver: str
    geometry_type: str | None
    features: int

    @property
    def format(self) -> SourceFormat:
        return formats.by_driver(self.driver)

    @property
    def label(self) -> str:
        return self.dataset if self.name in ("", Path(self.dataset).stem) else (
            f"{self.dataset}:{self.name}")


def source_fingerprint(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, or of a directory's files (names and contents, sorted)."""
    digest = hashlib.sha256()
    total = 0
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                total += len(chunk)
    return digest.hexdigest(), total


@contextmanager
def opened(path: Path) -> Iterator[Path]:
    """The directory or file to scan: archives are unpacked safely into a temporary dir."""
    if not path.exists():
        raise ImportSourceError(f"{path}: no such file or directory")
    name = path.name.lower()
    if path.is_file() and name.endswith(".zip"):
        with TemporaryDirectory(prefix="cadastre-import-") as tmp:
            _unzip(path, Path(tmp))
            yield Path(tmp)
    elif path.is_file() and name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2")):
        with TemporaryDirectory(prefix="cadastre-import-") as tmp:
            _untar(path, Path(tmp))
            yield Path(tmp)
    else:
        yield path


def _check_member_name(archive: Path, name: str) -> None:
    parts = Path(name).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise ImportSourceError(f"{archive.name}: unsafe path {name!r} inside the archive")


def _unzip(archive: Path, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            _check_archive_sizes(archive, [(m.filename, m.file_size, m.compress_size)
                                           for m in members])
            for member in members:
                _check_member_name(archive, member.filename)
                if member.is_dir():
                    continue
                destination = target / member.filename
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, destination.open("wb") as dst:
                    _copy_limited(archive, member.filename, src, dst, member.file_size)
    except zipfile.BadZipFile as exc:
        raise ImportSourceError(f"{archive.name}: not a readable zip archive ({exc})") from exc


def _untar(archive: Path, target: Path) -> None:
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            _check_archive_sizes(archive, [(m.name, m.size, None) for m in members])
            for member in members:
                _check_member_name(archive, member.name)
                if member.issym() or member.islnk() or member.isdev():
                    raise ImportSourceError(
                        f"{archive.name}: links and devices are not accepted ({member.name})")
                if not member.isfile():
                    continue
                source = tf.extractfile(member)
                if source is None:
                    continue
                destination = target / member.name
                destination.parent.mkdir(parents=True, exist_ok=True)
                with source, destination.open("wb") as dst:
                    _copy_limited(archive, member.name, source, dst, member.size)
    except tarfile.TarError as exc:
        raise ImportSourceError(f"{archive.name}: not a readable tar archive ({exc})") from exc


def _check_archive_sizes(
    archive: Path, members: list[tuple[str, int, int | None]]
) -> None:
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ImportSourceError(f"{archive.name}: {len(members):,} members is too many")
    total = sum(size for _, size, _ in members)
    if total > MAX_ARCHIVE_BYTES:
        raise ImportSourceError(
            f"{archive.name}: unpacks to {total / 1024**3:.1f} GiB, over the "
            f"{MAX_ARCHIVE_BYTES / 1024**3:.0f} GiB limit (zip bomb?)")
    for name, size, packed in members:
        if packed and size > 10 * 1024**2 and size / max(packed, 1) > MAX_COMPRESSION_RATIO:
            raise ImportSourceError(
                f"{archive.name}: {name} expands {size / max(packed, 1):,.0f} times "
                f"({size / 1024**2:,.0f} MiB): refused as a zip bomb")


def _copy_limited(archive: Path, name: str, src: object, dst: object, declared: int) -> None:
    """Copy a member, refusing it if it yields more bytes than its header declared."""
    written = 0
    read = src.read  # type: ignore[attr-defined]
    write = dst.write  # type: ignore[attr-defined]
    while chunk := read(1 << 20):
        written += len(chunk)
        if written > declared:
            raise ImportSourceError(
                f"{archive.name}: {name} is larger than its header says: refused")
        write(chunk)


def find_datasets(root: Path) -> list[Path]:
    """Every dataset under root (root itself when it is one)."""
    if root.is_file():
        return [root]
    if root.suffix.lower() in DIRECTORY_EXTENSIONS:
        return [root]
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        for sub in list(subdirs):
            if sub.lower().endswith(tuple(DIRECTORY_EXTENSIONS)):
                found.append(here / sub)
                subdirs.remove(sub)
        for file in sorted(files):
            path = here / file
            suffix = path.suffix.lower()
            if suffix in DATASET_EXTENSIONS:
                # A MapInfo .mif comes with a .mid; .tab with .dat/.map/.id: open the header.
                found.append(path)
    return sorted(found)


def list_layers(dataset: Path, shown: str) -> list[Layer]:
    """The layers of one dataset, after checking its parts."""
    precheck = formats.by_path(dataset).precheck
    if precheck is not None:
        precheck(dataset, shown)
    try:
        layers = pyogrio.list_layers(dataset)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise ImportSourceError(f"{shown}: cannot be read ({_gdal_message(exc)})") from exc
    result = []
    for name, geometry_type in layers:
        try:
            info = pyogrio.read_info(dataset, layer=str(name))
        except (DataSourceError, DataLayerError) as exc:
            raise ImportSourceError(
                f"{shown}: layer {name} cannot be read ({_gdal_message(exc)})") from exc
        result.append(
            Layer(
                dataset=shown,
                path=str(dataset),
                name=str(name),
                driver=str(info["driver"]),
                geometry_type=None if geometry_type is None else str(geometry_type),
                features=int(info["features"]),
            )
        )
    return result


def _gdal_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def describe_non_spatial(root: Path) -> str:
    names = [p.name for p in sorted(root.rglob("*")) if p.is_file()][:8]
    return ", ".join(names) if names else "nothing"
