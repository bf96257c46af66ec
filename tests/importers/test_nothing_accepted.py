"""Imports that would write an absurdity: a feature with a coordinate outside the storage
CRS's area of use is rejected like any invalid one, and an import whose every feature was
rejected fails and writes nothing, unless --allow-empty."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa
from shapely.affinity import translate

from cadastre.errors import ImportRejected
from tests.cli.test_cli import run as cli
from tests.importers.conftest import count

#: Tables an import writes (besides the register's own): none may gain a row on a failure.
_WRITTEN = ("SELECT (SELECT count(*) FROM import_run) + (SELECT count(*) FROM "
            "import_quarantine) + (SELECT count(*) FROM parcel)")


def _areas_all_wrong(small_layer):
    """Six good polygons whose recorded areas are all 50 % off: every one is rejected."""
    layer = small_layer.iloc[:6].copy()
    layer["DienTich"] = layer["DienTich"] * 1.5
    return layer


def _all_bowties(small_layer):
    layer = small_layer.iloc[:6].copy()
    shapes = []
    for g in layer.geometry:
        x0, y0, x1, y1 = g.bounds
        shapes.append(shapely.MultiPolygon([shapely.Polygon(
            [(x0, y0), (x1, y1), (x1, y0), (x0, y1)])]))
    return layer.set_geometry(shapes, crs=5897)


def test_a_feature_outside_the_storage_crs_area_is_rejected(conn, run, write, small_layer):
    layer = small_layer.copy()
    geoms = layer.geometry.to_numpy().copy()
    geoms[0] = translate(geoms[0], -265_000.0, 0.0)  # lon ~103.3: in the zone's band,
    # where the file may hold it, but west of 103.5°E, where EPSG:5897 is defined
    layer = layer.set_geometry(geoms, crs=5897)
    report = run(write(layer, "stray.gpkg"))
    assert report.rejected["outside-crs-area"] == 1
    assert count(conn, "SELECT count(*) FROM current_parcel") == len(layer) - 1
    reason = sa.text(
        "SELECT reason FROM import_quarantine WHERE import_id = :i "
        "AND reason_code = 'outside-crs-area'")
    text = conn.execute(reason, {"i": report.import_id}).scalar_one()
    assert "the area of use of EPSG:5897" in text and "longitude 103.5..106.51" in text


@pytest.mark.parametrize(("broken", "reasons"), [
    (_areas_all_wrong, "area-mismatch: 6"),
    (_all_bowties, "invalid-geometry: 6"),  # no geometry left to decide the CRS by
])
@pytest.mark.parametrize("dry_run", [False, True])
def test_an_import_where_every_feature_is_rejected_fails(conn, run, write, small_layer,
                                                         broken, reasons, dry_run):
    before = count(conn, _WRITTEN)
    with pytest.raises(ImportRejected, match=rf"all 6 feature\(s\) were rejected "
                       rf"\({reasons}\); nothing was written") as raised:
        run(write(broken(small_layer), "broken.gpkg"), dry_run=dry_run)
    assert "--allow-empty" in str(raised.value.hint)
    assert raised.value.context["report"].status == "rejected"
    assert count(conn, _WRITTEN) == before


def test_allow_empty_records_it_all_quarantined(conn, run, write, small_layer):
    report = run(write(_areas_all_wrong(small_layer), "areas.gpkg"), allow_empty=True)
    assert report.status == "committed"
    assert report.counts["quarantined"] == 6
    assert count(conn, "SELECT count(*) FROM import_quarantine WHERE import_id = :i",
                 i=report.import_id) == 6
    assert count(conn, "SELECT count(*) FROM current_parcel") == 0


def test_the_command_exits_non_zero_and_writes_nothing(fresh_database, tmp_path, small_layer):
    import pyogrio

    from cadastre.db import create_engine
    from cadastre.dbinit import init_database

    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    path = tmp_path / "areas.gpkg"
    pyogrio.write_dataframe(_areas_all_wrong(small_layer), path)
    refused = cli("import", str(path), env=env)
    assert refused.returncode != 0
    assert "all 6 feature(s) were rejected" in refused.stderr
    assert "Traceback" not in refused.stderr
    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        assert count(conn, _WRITTEN) == 0
    engine.dispose()
    allowed = cli("import", str(path), "--allow-empty", env=env)
    assert allowed.returncode == 0, allowed.stderr
