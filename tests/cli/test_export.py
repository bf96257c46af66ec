"""`cadastre export` as a user runs it: every format read back with pyogrio (count, CRS,
Vietnamese text), filters, the past state, no personal data, clear errors, and the record
of who exported what."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyogrio
import pytest
import sqlalchemy as sa

from cadastre.changes.service import SourceDocument
from cadastre.changes.spatial import split_parcel
from cadastre.db import create_engine
from cadastre.dbinit import drop_database, init_database
from cadastre.demo.loader import add_demo_extras
from cadastre.settings import Settings
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import
from tests.conftest import make_test_settings

CADASTRE = [sys.executable, "-c", "from cadastre.cli import main; main()"]
PARCEL_COLUMNS = {"parcel_id", "commune_code", "sheet_number", "parcel_number", "land_use",
                  "area_legal", "area_measured", "address", "valid_from"}
#: Column names that would carry people's data.
PERSONAL = {"holder_name", "holder", "holders", "owner", "national_id", "cccd", "tenchu",
            "birth_year", "namsinh", "holder_address", "diachichu", "phone", "party_id"}


@dataclass(frozen=True)
class Register:
    settings: Settings
    env: dict[str, str]
    parent: int  # a parcel split after the import
    children: tuple[int, ...]
    split_at: object  # the split's instant (datetime)


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Iterator[Register]:
    """A committed register of 150 imported parcels with holders, the demo's communes, and
    one parcel split afterwards (so the past differs from the present)."""
    settings = make_test_settings()
    init_database(settings, srid=5897)
    path = Path(tmp_path_factory.mktemp("export")) / "register.gpkg"
    write_layer(generate_layer(150, seed=33), path)
    engine = create_engine(settings)
    try:
        run_import(engine, path, ImportOptions())
        with engine.begin() as conn:
            add_demo_extras(conn, seed=3)
            parent = conn.execute(sa.text(
                "SELECT parcel_id FROM current_parcel p WHERE NOT EXISTS (SELECT 1 FROM "
                "current_restriction r WHERE r.parcel_id = p.parcel_id) "
                "ORDER BY area_legal DESC LIMIT 1")).scalar_one()
            cut = conn.execute(sa.text(
                "SELECT ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(g) - 1), "
                "ST_MakePoint(ST_X(c), ST_YMax(g) + 1))) FROM (SELECT geom AS g, "
                "ST_Centroid(geom) AS c FROM current_parcel WHERE parcel_id = :p) x"),
                {"p": parent}).scalar_one()
            result, children = split_parcel(
                conn, parent, SourceDocument("decision", "12/QĐ-UBND"), cut_line_wkt=cut)
            split_at = conn.execute(sa.text(
                "SELECT happened_at FROM change_transaction WHERE id = :c"),
                {"c": result.change_id}).scalar_one()
    finally:
        engine.dispose()
    yield Register(settings, {"CADASTRE_DATABASE_URL": settings.database_url}, parent,
                   tuple(children), split_at)
    drop_database(settings)


@pytest.fixture(scope="module")
def db(register: Register) -> Iterator[sa.engine.Engine]:
    engine = create_engine(register.settings)
    yield engine
    engine.dispose()


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def export(register: Register, monkeypatch, capsys):
    """export(*args): `cadastre export ...` through the command's entry point, in this
    process (an interpreter per case would double the module's time)."""
    from cadastre.cli import main

    monkeypatch.setenv("CADASTRE_DATABASE_URL", register.settings.database_url)

    def run(*args: str) -> Ran:
        monkeypatch.setattr(sys, "argv", ["cadastre", "export", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def export_process(register: Register, *args: str) -> subprocess.CompletedProcess[str]:
    """`cadastre export ...` as a process of its own, as a user runs it."""
    return subprocess.run([*CADASTRE, "export", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **register.env})


def scalar(db: sa.engine.Engine, sql: str, **params: object) -> object:
    with db.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def read(path: Path):
    """The exported layer as a GeoDataFrame: pyogrio for every GDAL format; GeoParquet
    through pyogrio when its GDAL has the Parquet driver, else geopandas (the GDAL bundled
    with pyogrio here has none)."""
    if path.suffix == ".parquet" and "Parquet" not in pyogrio.list_drivers():
        import geopandas

        return geopandas.read_parquet(path)
    return pyogrio.read_dataframe(path)


def crs_of(path: Path, frame) -> str:
    if path.suffix == ".parquet":
        return f"EPSG:{frame.crs.to_epsg()}"
    return pyogrio.read_info(path)["crs"]


@pytest.mark.parametrize(("fmt", "name", "crs"), [
    ("gpkg", "parcels.gpkg", "EPSG:5897"),
    ("shp", "parcels.shp", "EPSG:5897"),
    ("shp", "parcels.zip", "EPSG:5897"),
    ("fgb", "parcels.fgb", "EPSG:5897"),
    ("geojson", "parcels.geojson", "EPSG:4326"),
    ("geoparquet", "parcels.parquet", "EPSG:5897"),
    ("csv", "parcels.csv", "EPSG:5897"),
    ("csv", "parcels.zip", "EPSG:5897"),
])
def test_every_format_round_trips(export, db, tmp_path, fmt, name, crs):
    out = tmp_path / name
    result = export("--format", fmt, "--out", str(out), "--by", "Lê Thu Hà")
    assert result.returncode == 0, result.stderr
    frame = read(out)
    expected = scalar(db, "SELECT count(*) FROM current_parcel")
    assert len(frame) == expected
    assert crs_of(out, frame) == crs
    assert frame.geometry.notna().all() and frame.geometry.is_valid.all()
    # Vietnamese text survives, byte for byte
    address_column = "address"
    by_id = dict(zip(frame["parcel_id"], frame[address_column], strict=True))
    with db.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT parcel_id, address FROM current_parcel ORDER BY parcel_id LIMIT 20")).all()
    assert all(by_id[r.parcel_id] == r.address for r in rows)
    assert any(ch in "".join(by_id.values()) for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệ")
    if fmt == "shp":
        assert "commune_co" in frame.columns and "commune_code" not in frame.columns
        assert "10 characters" in result.stderr and "GeoPackage" in result.stderr
    else:
        assert set(frame.columns) >= PARCEL_COLUMNS
    # the record of who exported what
    with db.connect() as conn:
        job = conn.execute(sa.text(
            "SELECT * FROM export_job ORDER BY id DESC LIMIT 1")).mappings().one()
    assert (job["requested_by"], job["channel"], job["collection"], job["format"],
            job["status"], job["feature_count"]) == ("Lê Thu Hà", "cli", "parcels", fmt,
                                                      "done", expected)
    assert job["crs"] == crs and job["bytes"] > 0
    assert Path(job["file_path"]).name == name


@pytest.mark.parametrize(("collection", "sql", "text_column", "as_of"), [
    ("land-use-purposes", "SELECT count(*) FROM current_parcel p JOIN parcel_land_use u "
                 "ON u.parcel_version_id = p.version_id", "name_vi", None),
    ("map-sheets", "SELECT count(*) FROM map_sheet WHERE upper_inf(lifespan)", None, None),
    ("admin-units", "SELECT count(*) FROM admin_unit WHERE validity @> DATE '2024-01-01'",
     "name", "2024-01-01"),
    # 05:00 in Hà Nội is still the day before in UTC: the units of the local day, as the
    # OGC API's datetime gives them (the 2025 reform took effect on 1 July)
    ("admin-units", "SELECT count(*) FROM admin_unit WHERE validity @> DATE '2025-07-01'",
     "name", "2025-07-01T05:00:00+07:00"),
])
def test_other_collections(export, db, tmp_path, collection, sql, text_column, as_of):
    out = tmp_path / f"{collection}.gpkg"
    args = ["--collection", collection, "--out", str(out)]
    if as_of:
        args += ["--as-of", as_of]
    result = export(*args)
    assert result.returncode == 0, result.stderr
    frame = pyogrio.read_dataframe(out)
    assert len(frame) == scalar(db, sql) > 0
    assert pyogrio.read_info(out)["crs"] == "EPSG:5897"
    if text_column:
        assert frame[text_column].str.contains("Đất|Phường|Hà Nội").any()


def test_no_personal_data_in_any_export(export, db, tmp_path):
    with db.connect() as conn:
        personal = {v for v in conn.execute(sa.text(
            "SELECT p.name FROM party p UNION SELECT national_id FROM party_personal UNION "
            "SELECT address FROM party_personal")).scalars() if v}
    assert len(personal) > 50
    for collection in ("parcels", "land-use-purposes", "map-sheets", "admin-units"):
        out = tmp_path / f"{collection}.geojson"
        result = export("--collection", collection, "--out", str(out))
        assert result.returncode == 0, result.stderr
        frame = pyogrio.read_dataframe(out)
        assert not PERSONAL & {c.lower() for c in frame.columns}, collection
        for column in frame.columns:
            if frame[column].dtype == object and column != "geometry":
                assert not personal & set(frame[column].dropna().astype(str)), (collection,
                                                                                 column)


def test_as_of_exports_the_past_state(export, register, tmp_path):
    before = tmp_path / "before.gpkg"
    instant = (register.split_at - timedelta(microseconds=1)).isoformat()
    assert export("--as-of", instant, "--out", str(before)).returncode == 0
    now = tmp_path / "now.gpkg"
    assert export("--out", str(now)).returncode == 0
    past_ids = set(pyogrio.read_dataframe(before, columns=["parcel_id"])["parcel_id"])
    current_ids = set(pyogrio.read_dataframe(now, columns=["parcel_id"])["parcel_id"])
    assert register.parent in past_ids and register.parent not in current_ids
    assert set(register.children) <= current_ids and not set(register.children) & past_ids
    assert len(past_ids) == len(current_ids) - len(register.children) + 1
    empty = tmp_path / "empty.gpkg"
    result = export("--as-of", "2001-01-01", "--out", str(empty))
    assert result.returncode == 0, result.stderr
    assert pyogrio.read_info(empty)["features"] == 0
    assert "no features matched" in result.stderr


def test_commune_and_bbox_filters(export, db, tmp_path):
    commune = scalar(db, "SELECT commune_code FROM current_parcel GROUP BY 1 "
                         "ORDER BY count(*) DESC LIMIT 1")
    out = tmp_path / "commune.fgb"
    assert export("--commune", str(commune), "--out", str(out)).returncode == 0
    frame = pyogrio.read_dataframe(out)
    assert set(frame["commune_code"]) == {commune}
    assert len(frame) == scalar(db, "SELECT count(*) FROM current_parcel WHERE "
                                    "commune_code = :c", c=commune)
    with db.connect() as conn:
        x0, y0, x1, y1 = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Expand(ST_Extent(geom), -60) AS e FROM current_parcel) s")).one()
        inside = conn.execute(sa.text(
            "SELECT count(*) FROM current_parcel WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(:a, :b, :c, :d, 5897))"), {"a": x0, "b": y0, "c": x1, "d": y1}
        ).scalar_one()
        lon0, lat0, lon1, lat1 = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Transform("
            "ST_MakeEnvelope(:a, :b, :c, :d, 5897), 4326) AS e) s"),
            {"a": x0, "b": y0, "c": x1, "d": y1}).one()
    total = scalar(db, "SELECT count(*) FROM current_parcel")
    assert 0 < inside < total
    boxed = tmp_path / "boxed.gpkg"
    result = export("--bbox", f"{x0},{y0},{x1},{y1}", "--out", str(boxed))
    assert result.returncode == 0, result.stderr
    assert pyogrio.read_info(boxed)["features"] == inside
    # the same area in longitude/latitude (a slightly larger box once projected)
    lonlat = tmp_path / "lonlat.gpkg"
    result = export("--bbox", f"{lon0},{lat0},{lon1},{lat1}", "--bbox-crs",
                    "EPSG:4326", "--out", str(lonlat))
    assert result.returncode == 0, result.stderr
    assert inside <= pyogrio.read_info(lonlat)["features"] < total


@pytest.mark.parametrize(("args", "message"), [
    (["--collection", "owners"], "unknown collection 'owners'"),
    (["--format", "kml"], "unknown export format 'kml'"),
    (["--crs", "EPSG:999999"], "EPSG:999999 is not a CRS this database knows"),
    (["--crs", "mercator"], "is not of the form EPSG:N"),
    (["--crs", "EPSG:2154"], "not where the register lies"),
    (["--format", "geojson", "--crs", "EPSG:5897"], "always WGS 84"),
    (["--bbox", "590000,2330000,580000,2320000"], "inverted"),
    (["--bbox", "1,2,3"], "not four finite numbers"),
    (["--bbox", "-180,-90,180,90"], "beyond the area of the register's CRS"),
    (["--bbox", "-20000000,-20000000,20000000,20000000"],
     "beyond the area of the register's CRS"),
    (["--bbox", "-180,-90,180,90", "--bbox-crs", "EPSG:4326"],
     "beyond the area of the register's CRS"),
    (["--as-of", "last year"], "not a date"),
    (["--commune", "hoàn kiếm"], "is not a code"),
])
def test_bad_input_is_one_clear_error(export, tmp_path, args, message):
    result = export(*args, "--out", str(tmp_path / "out.gpkg"))
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split())  # (rich wraps at 80 columns)
    assert result.stderr.startswith("error:")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_command_as_a_process(register, tmp_path):
    out = tmp_path / "parcels.gpkg"
    result = export_process(register, "--format", "gpkg", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = " ".join(result.stdout.split())
    assert summary.startswith("exported 151 parcels (parcels as GeoPackage, EPSG:5897")
    assert "parcels.gpkg" in summary and result.stderr == ""
    assert pyogrio.read_info(out)["features"] == 151


def test_bad_input_exits_non_zero_with_one_line(register, tmp_path):
    result = export_process(register, "--collection", "owners", "--out",
                            str(tmp_path / "x.gpkg"))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: unknown collection 'owners'"
    assert "parcels, land-use-purposes, map-sheets, admin-units" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_existing_file_is_kept_without_overwrite(export, tmp_path):
    out = tmp_path / "parcels.gpkg"
    out.write_bytes(b"keep me")
    result = export("--out", str(out))
    assert result.returncode == 2 and "exists" in result.stderr
    assert out.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["parcels.gpkg"]
    assert export("--out", str(out), "--overwrite").returncode == 0
    assert pyogrio.read_info(out)["features"] > 0


def test_history_says_who_exported_what(export, tmp_path):
    out = tmp_path / "sheets.gpkg"
    assert export("-c", "map-sheets", "--out", str(out), "--by",
                  "phong-gis").returncode == 0
    result = export("--history")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "phong-gis" in x)
    assert "map-sheets" in line and "gpkg" in line and "done" in line
