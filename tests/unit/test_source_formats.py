"""The importer's source formats: how each kind of file is found and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from importers import formats
from importers.sources import find_datasets


@pytest.mark.parametrize(("name", "driver"), [
    ("sheet.SHP", "ESRI Shapefile"), ("sheet.tab", "MapInfo File"), ("sheet.mif", "MapInfo File"),
    ("drawing.dxf", "DXF"), ("drawing.dgn", "DGN"), ("sheet.geojson", "GeoJSON"),
    ("lot.thf", "EDIGEO"),
])
def test_a_file_is_known_by_its_extension(name: str, driver: str) -> None:
    assert formats.by_path(Path(name)).driver == driver


def test_legacy_text_formats_are_decoded_by_the_importer() -> None:
    legacy = {f.driver for f in formats.FORMATS if f.raw_text}
    assert legacy == {"ESRI Shapefile", "MapInfo File", "DXF", "DGN"}
    assert formats.by_driver("GPKG").raw_text is False


def test_drawings_and_mapinfo_are_read_whole_the_others_stream() -> None:
    assert formats.SHAPEFILE.streams  # raw text through Arrow: an open option
    assert not formats.MAPINFO.streams and not formats.DXF.streams and not formats.DGN.streams
    assert formats.by_driver("a driver added to GDAL later").streams


def test_a_shapefile_declares_its_encoding_in_its_cpg(tmp_path: Path) -> None:
    (tmp_path / "sheet.shp").write_bytes(b"")
    (tmp_path / "sheet.cpg").write_text("ANSI 1258\n")
    assert formats.SHAPEFILE.declared_encoding is not None
    assert formats.SHAPEFILE.declared_encoding(tmp_path / "sheet.shp") == "cp1258"


def test_file_geodatabases_are_found_as_directories(tmp_path: Path) -> None:
    (tmp_path / "a" / "Parcels.GDB").mkdir(parents=True)
    (tmp_path / "a" / "Parcels.GDB" / "a00000001.gdbtable").write_bytes(b"")
    (tmp_path / "b.shp").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    assert find_datasets(tmp_path) == [tmp_path / "a" / "Parcels.GDB", tmp_path / "b.shp"]
