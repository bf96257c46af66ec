"""What the importer knows about each kind of source file, in one place: its extensions,
how pyogrio reads it (through Arrow or not, its text as raw bytes or as Unicode), whether it
is a CAD drawing, the integrity check its files get before GDAL opens them, and where it
declares its text encoding. ``sources``, ``read`` and ``pipeline`` ask these descriptions;
adding a format is one entry in ``FORMATS``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from importers.prechecks import check_dxf, check_shapefile

_CPG = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "1258": "cp1258",
        "cp1258": "cp1258", "windows-1258": "cp1258", "ansi 1258": "cp1258"}


def _cpg_encoding(path: Path) -> str | None:
    """The encoding a shapefile's .cpg names."""
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == ".cpg":
            text = candidate.read_text(encoding="ascii", errors="replace").strip().lower()
            return _CPG.get(text, text or None)
    return None


def _mapinfo_charset(path: Path) -> str | None:
    """The charset a MapInfo .tab or .mif header declares."""
    header = path.read_bytes()[:4096].decode("latin-1", "replace")
    match = re.search(r'charset\s+"([^"]+)"', header, re.IGNORECASE)
    if match:
        charset = match.group(1).lower()
        return {"windowsvietnamese": "cp1258", "utf-8": "utf-8"}.get(charset, charset)
    return None


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """One kind of vector source, as the importer reads it."""

    #: The GDAL driver name pyogrio reports for it.
    driver: str
    #: File name endings (lower case) that open as this format; for ``directory`` formats,
    #: the endings of the directory's name (FileGDB: ``x.gdb/``).
    extensions: frozenset[str]
    directory: bool = False
    #: Text is stored as bytes of an unknown, often legacy Vietnamese, encoding (TCVN3, VNI,
    #: CP1258): it is read as Latin-1 so that every byte survives, and decoded by us.
    raw_text: bool = False
    #: pyogrio reads it through Arrow (for raw text: only where the encoding is an open
    #: option); otherwise it is read whole, column by column.
    arrow: bool = True
    #: A CAD drawing: polygons mixed with linework and text labels, matched across the file.
    cad: bool = False
    #: A dataset of many thematic layers whose parcel layer the data profiles name.
    layers_by_profile: bool = False
    #: Checked before GDAL opens the file (missing parts, truncation); raises
    #: ImportSourceError naming the file as shown to the user.
    precheck: Callable[[Path, str], None] | None = None
    #: The encoding the file declares for its raw text, if it can.
    declared_encoding: Callable[[Path], str | None] | None = None
    #: GDAL configuration options set while the file is read.
    gdal_options: Mapping[str, str] = field(default_factory=dict)

    @property
    def streams(self) -> bool:
        """Read a batch at a time: what pyogrio reads through Arrow, drawings aside (their
        labels are matched to polygons across the whole file)."""
        return self.arrow and not self.cad


SHAPEFILE = SourceFormat("ESRI Shapefile", frozenset({".shp"}), raw_text=True,
                         precheck=check_shapefile, declared_encoding=_cpg_encoding)
MAPINFO = SourceFormat("MapInfo File", frozenset({".tab", ".mif"}), raw_text=True,
                       arrow=False, declared_encoding=_mapinfo_charset)
DXF = SourceFormat("DXF", frozenset({".dxf"}), raw_text=True, arrow=False, cad=True,
                   precheck=check_dxf,
                   # GDAL reads closed polylines as polygons only when asked to
                   gdal_options={"DXF_CLOSED_LINE_AS_POLYGON": "TRUE"})
DGN = SourceFormat("DGN", frozenset({".dgn"}), raw_text=True, arrow=False, cad=True)
EDIGEO = SourceFormat("EDIGEO", frozenset({".thf"}), layers_by_profile=True)
#: Every format the importer reads; those without options are Unicode formats that pyogrio
#: reads through Arrow.
FORMATS = (
    SHAPEFILE, MAPINFO, DXF, DGN, EDIGEO,
    SourceFormat("GPKG", frozenset({".gpkg"})),
    SourceFormat("GeoJSON", frozenset({".geojson", ".json"})),
    SourceFormat("GML", frozenset({".gml"})),
    SourceFormat("FlatGeobuf", frozenset({".fgb"})),
    SourceFormat("SQLite", frozenset({".sqlite"})),
    SourceFormat("OpenFileGDB", frozenset({".gdb"}), directory=True),
)
#: Any other driver GDAL opens (a file of a known extension can hold another driver's data).
OTHER = SourceFormat("other", frozenset())

_BY_DRIVER = {f.driver: f for f in FORMATS}
_BY_EXTENSION = {extension: f for f in FORMATS if not f.directory for extension in f.extensions}
#: File endings that open as a vector dataset.
DATASET_EXTENSIONS = frozenset(_BY_EXTENSION)
#: Directory endings that open as a vector dataset.
DIRECTORY_EXTENSIONS = frozenset(e for f in FORMATS if f.directory for e in f.extensions)
#: Files of a register (tables without geometry): ``--kind register`` reads them.
TABLE_EXTENSIONS = frozenset({".xlsx", ".xls", ".csv", ".ods"})


def by_driver(driver: str) -> SourceFormat:
    return _BY_DRIVER.get(driver, OTHER)


def by_path(path: Path) -> SourceFormat:
    """The format a file's extension names (``OTHER`` for none)."""
    return _BY_EXTENSION.get(path.suffix.lower(), OTHER)
