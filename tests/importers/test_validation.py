"""Per-feature validation: rejected features go to the quarantine with their reason, the rest
load; --on-error abort loads nothing; --dry-run writes nothing."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa
from shapely.affinity import translate

from cadastre.errors import ImportRejected
from tests.importers.conftest import count


def _broken_layer(small_layer):
    layer = small_layer.copy()
    geoms = layer.geometry.to_numpy().copy()
    x0, y0, _, _ = geoms[0].bounds
    geoms[0] = shapely.MultiPolygon([shapely.Polygon(
        [(x0, y0), (x0 + 10, y0 + 10), (x0 + 10, y0), (x0, y0 + 10)])])  # bow-tie
    geoms[1] = translate(geoms[1], 3.0, 0.0)  # shifted 3 m over its neighbour
    layer = layer.set_geometry(geoms, crs=5897)
    layer.loc[5, "DienTich"] = layer.loc[5, "DienTich"] * 1.5  # recorded area off by 50 %
    layer.loc[7, ["MaXa", "SoTo", "SoThua"]] = layer.loc[8, ["MaXa", "SoTo", "SoThua"]].values
    return layer


def test_rejected_features_are_quarantined_with_reasons(conn, run, write, small_layer):
    report = run(write(_broken_layer(small_layer), "broken.gpkg"))
    rejected = report.rejected
    assert rejected["invalid-geometry"] == 1
    assert rejected["area-mismatch"] == 1
    assert rejected["duplicate-identity"] == 2
    assert rejected["overlap"] >= 2  # the shifted parcel and the neighbours it covers
    assert report.counts["quarantined"] == sum(rejected.values())
    loaded = count(conn, "SELECT count(*) FROM current_parcel")
    assert loaded == len(small_layer) - sum(rejected.values())
    reasons = dict(conn.execute(sa.text(
        "SELECT reason_code, reason FROM import_quarantine WHERE import_id = :i "
        "AND reason_code IN ('invalid-geometry', 'area-mismatch')"),
        {"i": report.import_id}).all())
    assert reasons["invalid-geometry"].startswith("Self-intersection")
    # The same reason PostGIS gives for the stored original geometry.
    postgis = conn.execute(sa.text(
        "SELECT ST_IsValidReason(geom) FROM import_quarantine WHERE import_id = :i "
        "AND reason_code = 'invalid-geometry'"), {"i": report.import_id}).scalar_one()
    assert postgis.startswith("Self-intersection")
    assert "recorded area" in reasons["area-mismatch"]


def test_repair_only_with_the_flag_and_recorded(conn, run, write, small_layer):
    layer = small_layer.iloc[:5].copy()
    centre = layer.geometry.iloc[0].centroid  # a bow-tie well inside the parcel
    x0, y0, x1, y1 = centre.x - 2, centre.y - 2, centre.x + 2, centre.y + 2
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    layer.loc[0, "geometry"] = shapely.MultiPolygon([bowtie])
    layer.loc[0, "DienTich"] = None
    report = run(write(layer, "repair.gpkg"), repair=True)
    assert report.layers[0].repaired == 1
    note = conn.execute(sa.text(
        "SELECT source_attributes->>'_repaired' FROM current_parcel "
        "WHERE source_attributes ? '_repaired'")).scalar_one()
    assert note.startswith("Self-intersection")
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE NOT ST_IsValid(geom)") == 0


def test_on_error_abort_writes_nothing(conn, run, write, small_layer):
    before = count(conn, "SELECT count(*) FROM parcel")
    with pytest.raises(ImportRejected, match="failed validation; nothing was written"):
        run(write(_broken_layer(small_layer), "broken.gpkg"), on_error="abort")
    assert count(conn, "SELECT count(*) FROM parcel") == before
    assert count(conn, "SELECT count(*) FROM import_run") == 0


def test_dry_run_validates_and_writes_nothing(conn, run, write, small_layer):
    report = run(write(_broken_layer(small_layer), "broken.gpkg"), dry_run=True)
    assert report.status == "dry-run"
    assert report.counts["would_quarantine"] == sum(report.rejected.values()) > 0
    assert count(conn, "SELECT count(*) FROM parcel") == 0
    assert count(conn, "SELECT count(*) FROM import_run") == 0


def test_overlap_with_current_parcels_of_other_sheets(conn, run, write, small_layer):
    run(write(small_layer, "first.gpkg"))
    intruder = small_layer.iloc[[0]].copy()
    intruder["SoTo"] = 999
    intruder["SoThua"] = 1
    intruder["SoPhatHanh"] = None
    # its one feature rejected: recorded only with allow_empty (test_nothing_accepted.py)
    report = run(write(intruder, "intruder.gpkg"), allow_empty=True)
    assert report.rejected == {"overlaps-current-parcel": 1}
    assert "overlaps current parcel #" in conn.execute(sa.text(
        "SELECT reason FROM import_quarantine WHERE import_id = :i"),
        {"i": report.import_id}).scalar_one()


def test_empty_and_non_polygon_features_in_a_polygon_layer(conn, run, write, small_layer):
    layer = small_layer.iloc[:4].copy()
    layer.loc[1, "geometry"] = None
    report = run(write(layer, "holes.gpkg"))
    assert report.rejected == {"empty-geometry": 1}
    assert count(conn, "SELECT count(*) FROM current_parcel") == 3


@pytest.mark.parametrize("name", ["broken.gpkg", "broken.shp.zip"])
def test_streamed_batches_give_the_same_import(conn, run, write, small_layer, monkeypatch,
                                               name):
    """A layer read in batches of 7 features (checked in chunks of 5) is checked, loaded and
    quarantined exactly as in one batch; quarantined rows are read again from the source,
    a zip included (it stays unpacked until the import ends)."""
    path = write(_broken_layer(small_layer), name.removesuffix(".zip"))
    if name.endswith(".zip"):
        import zipfile

        parts = [path.with_suffix(ext) for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
        archive = path.with_name(name)
        with zipfile.ZipFile(archive, "w") as zf:
            for part in parts:
                if part.exists():
                    zf.write(part, part.name)
        path = archive

    def outcome(report):
        rows = conn.execute(sa.text(
            "SELECT feature_index, reason_code, identity, attributes, ST_AsEWKB(geom) "
            "FROM import_quarantine WHERE import_id = :i ORDER BY feature_index, reason_code"),
            {"i": report.import_id}).all()
        loaded = conn.execute(sa.text(
            "SELECT commune_code, sheet_number, parcel_number, ST_AsEWKB(geom), area_measured "
            "FROM parcel WHERE begun_by = (SELECT change_id FROM import_run WHERE id = :i) "
            "ORDER BY 1, 2, 3"), {"i": report.import_id}).all()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                for r in rows], loaded, dict(report.rejected)

    whole = outcome(run(path))
    monkeypatch.setattr("importers.read.BATCH_ROWS", 7)
    monkeypatch.setattr("importers.checks.CHECK_CHUNK", 5)
    streamed = outcome(run(path, force=True))
    assert streamed == whole
    assert len(whole[0]) >= 6 and len(whole[1]) == len(small_layer) - len(whole[0])


def test_quarantined_rows_record_their_personal_columns(conn, run, write, small_layer):
    """By the profile's spellings of personal fields: the mapped ones and any other (a
    second ID column), so that the row can be redacted by role wherever it is shown."""
    layer = small_layer.copy()
    layer["CMND"] = "012345678"  # a second ID column: not the one mapped, personal all the same
    person = layer.index[layer["CCCD"].notna()][0]
    layer.loc[person, "DienTich"] = layer.loc[person, "DienTich"] * 1.5
    report = run(write(layer, "with_ids.gpkg"))
    personal = conn.execute(sa.text(
        "SELECT attributes -> '_personal' FROM import_quarantine WHERE import_id = :i "
        "AND reason_code = 'area-mismatch'"), {"i": report.import_id}).scalar_one()
    assert personal == {"TenChu": "owner_name", "CCCD": "owner_id", "CMND": "owner_id",
                        "NamSinh": "owner_birth_year", "DiaChiChu": "owner_address"}
