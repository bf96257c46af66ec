"""Tiny real files for the importer tests, written by GDAL (pyogrio) from a synthetic layer,
plus the fixtures kept in data/ (CAD drawings, the encoding fixtures)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import sqlalchemy as sa

from cadastre.synth import generate_layer
from importers import vntext
from importers.pipeline import ImportOptions, run_import
from importers.report import ImportReport

DATA = Path(__file__).parent / "data"
CAD = DATA / "cad"
#: The French EDIGEO sheet from shared/samples/edigeo, kept here so the test does not depend
#: on where shared/ is checked out.
EDIGEO_SAMPLE = DATA / "edigeo" / "edigeo-25354000AB01.tar.bz2"


@pytest.fixture(scope="session")
def small_layer() -> gpd.GeoDataFrame:
    """60 parcels on a few sheets of one commune, Vietnamese text, EPSG:5897."""
    layer = generate_layer(60, seed=11)
    return layer


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(frame, "name.ext", **pyogrio options) -> path."""

    def _write(frame: gpd.GeoDataFrame, name: str, **options: object) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pyogrio.write_dataframe(frame, path, **options)
        return path

    return _write


@pytest.fixture
def run(conn) -> Callable[..., ImportReport]:
    """Import inside the test's transaction (a savepoint), rolled back after the test."""

    def _run(path: Path, **options: object) -> ImportReport:
        return run_import(conn, path, ImportOptions(**options))  # type: ignore[arg-type]

    return _run


def count(conn, sql: str, **params: object) -> int:
    return int(conn.execute(sa.text(sql), params).scalar_one())


def encoded_frame(frame: gpd.GeoDataFrame, encoding: str) -> gpd.GeoDataFrame:
    """The frame with its text replaced by Latin-1 strings whose bytes are the text in
    ``encoding``: written with encoding="latin1", the DBF then holds legacy bytes."""
    out = frame.copy()
    for column in out.columns:
        if column == "geometry" or out[column].dtype.kind in "iufbM":
            continue
        out[column] = out[column].map(
            lambda v: v if not isinstance(v, str) else vntext.encode(v, encoding).decode(
                "latin-1"))
    return out


def copy_cad(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(CAD / name, target)
    return target
