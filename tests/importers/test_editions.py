"""A new edition of a map sheet leaves no loose ends: a parcel under an injunction or a
mortgage stays as it is (its feature quarantined, the rest of the sheet loaded), a parcel
the edition retires takes its rights, restrictions and responsibilities with it, and the
register never holds two overlapping current parcels."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from cadastre.changes import service
from cadastre.changes.service import SourceDocument
from cadastre.errors import ImportRejected
from tests.importers.conftest import count

ORDER = SourceDocument("court_order", "45/2026/QĐ-BPKCTT", issuer="TAND quận Hoàn Kiếm")
CONTRACT = SourceDocument("contract", "77/2026/HĐTC", issuer="Vietcombank chi nhánh Hà Nội")
BANK = "Ngân hàng TMCP Ngoại thương Việt Nam"

#: Current parcels whose interiors meet: the register never has any.
OVERLAPPING = """SELECT count(*) FROM current_parcel a JOIN current_parcel b
    ON a.parcel_id < b.parcel_id AND a.geom && b.geom
    AND ST_Area(ST_Intersection(a.geom, b.geom)) > 0.05"""
#: Rights, restrictions and responsibilities still current on a parcel that is not.
LOOSE_ENDS = {table: f"""SELECT count(*) FROM {table} x WHERE upper_inf(x.lifespan)
    AND NOT EXISTS (SELECT 1 FROM current_parcel p WHERE p.parcel_id = x.parcel_id)"""
              for table in ("land_right", "restriction", "responsibility")}


def parcel_id(conn, number: int) -> int:
    return int(conn.execute(sa.text(
        "SELECT parcel_id FROM current_parcel WHERE parcel_number = :n"),
        {"n": number}).scalar_one())


def version(conn, pid: int) -> int:
    return int(conn.execute(sa.text(
        "SELECT version_id FROM current_parcel WHERE parcel_id = :p"), {"p": pid}).scalar_one())


def quarantined(conn, import_id: int) -> dict[str, tuple[str, str]]:
    return {r.identity: (r.reason_code, r.reason) for r in conn.execute(sa.text(
        "SELECT identity, reason_code, reason FROM import_quarantine WHERE import_id = :i"),
        {"i": import_id})}


def last_change(conn) -> int:
    return count(conn, "SELECT max(id) FROM change_transaction")


def remeasured(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sheet as a new survey gives it: every parcel with a new address text."""
    edition = layer.copy()
    edition["DiaChi"] = edition["DiaChi"] + " (đo lại 2025)"
    return edition


def neighbours(layer: gpd.GeoDataFrame) -> tuple[int, int]:
    """Two parcel numbers of the layer sharing a boundary (a line, not a corner)."""
    for i, a in enumerate(layer.geometry):
        for j in range(i + 1, len(layer)):
            shared = shapely.intersection(a, layer.geometry.iloc[j])
            if shared.length > 1:
                return int(layer["SoThua"].iloc[i]), int(layer["SoThua"].iloc[j])
    raise AssertionError("no neighbours in the layer")


@pytest.fixture
def sheet(conn, run, write, small_layer) -> gpd.GeoDataFrame:
    """The small layer's sheet in the register (first edition, with holders)."""
    run(write(small_layer, "edition1.gpkg"))
    return small_layer


@pytest.fixture
def bank(conn) -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO party (kind, name) VALUES ('organisation', :n) RETURNING id"),
        {"n": BANK}).scalar_one())


def test_an_edition_ends_what_the_parcels_it_retires_carried(conn, run, write, sheet):
    gone = parcel_id(conn, 60)
    assert count(conn, "SELECT count(*) FROM current_land_right WHERE parcel_id = :p",
                 p=gone) >= 1
    service.record_responsibility(conn, gone, "maintenance", "giữ hành lang mương thoát nước",
                                  SourceDocument("decision", "12/QĐ-UBND"))
    change = conn.execute(sa.text(
        "INSERT INTO change_transaction (kind, note) VALUES ('correction', 'quy hoạch') "
        "RETURNING id")).scalar_one()
    conn.execute(sa.text(
        "INSERT INTO restriction (restriction_id, kind, parcel_id, reference, begun_by) "
        "VALUES (nextval('restriction_id_seq'), 'planning', :p, '88/QĐ-QH', :c)"),
        {"p": gone, "c": change})
    certificates = count(conn, "SELECT count(*) FROM current_certificate c JOIN "
                         "certificate_parcel cp ON cp.certificate_version_id = c.version_id "
                         "WHERE cp.parcel_id = :p", p=gone)

    report = run(write(remeasured(sheet[sheet["SoThua"] != 60]), "edition2.gpkg"))

    assert report.counts["parcels_retired"] == 1
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE parcel_id = :p", p=gone) == 0
    for table, sql in LOOSE_ENDS.items():
        assert count(conn, sql) == 0, table
    assert count(conn, "SELECT count(*) FROM current_land_right WHERE parcel_id = :p",
                 p=gone) == 0
    assert count(conn, "SELECT count(*) FROM current_restriction WHERE parcel_id = :p",
                 p=gone) == 0
    # ended by the import's own change, in its transaction
    imported = count(conn, "SELECT change_id FROM import_run WHERE id = :i", i=report.import_id)
    assert count(conn, "SELECT count(*) FROM land_right WHERE parcel_id = :p AND ended_by = :c",
                 p=gone, c=imported) >= 1
    assert count(conn, "SELECT count(*) FROM restriction WHERE parcel_id = :p "
                 "AND ended_by = :c", p=gone, c=imported) == 1
    assert report.counts["rights_ended"] >= 1
    assert report.counts["restrictions_ended"] == 1
    assert report.counts["responsibilities_ended"] == 1
    # the parcel is on no current certificate any more
    assert count(conn, "SELECT count(*) FROM current_certificate c JOIN certificate_parcel cp "
                 "ON cp.certificate_version_id = c.version_id WHERE cp.parcel_id = :p",
                 p=gone) == 0
    assert report.counts["certificates_ended"] + report.counts[
        "certificates_endorsed"] == certificates
    assert report.kept == []


def test_an_edition_over_an_enjoined_parcel_keeps_it_and_loads_the_rest(
        conn, run, write, sheet):
    enjoined = parcel_id(conn, 5)
    service.set_injunction(conn, enjoined, None, ORDER)
    before = version(conn, enjoined)
    rights_before = count(conn, "SELECT count(*) FROM current_land_right WHERE parcel_id = :p",
                          p=enjoined)
    edition = remeasured(sheet)
    row = edition.index[edition["SoThua"] == 5][0]
    edition.loc[row, "geometry"] = edition.loc[row, "geometry"].buffer(-0.5)  # reshaped
    edition.loc[row, "DienTich"] = round(edition.loc[row, "geometry"].area, 1)

    report = run(write(edition, "edition2.gpkg"))

    assert report.status == "committed"
    # the enjoined parcel is as it was: same version, same rights, the injunction current
    assert version(conn, enjoined) == before
    assert count(conn, "SELECT count(*) FROM current_land_right WHERE parcel_id = :p",
                 p=enjoined) == rights_before
    assert count(conn, "SELECT count(*) FROM current_restriction WHERE parcel_id = :p "
                 "AND kind = 'injunction'", p=enjoined) == 1
    # its feature is in the quarantine with the restriction's kind, never its reference
    code, reason = quarantined(conn, report.import_id)["00037/1/5"]
    assert code == "parcel-enjoined"
    assert "injunction" in reason
    assert ORDER.reference not in reason and "TAND" not in reason
    assert report.rejected == {"parcel-enjoined": 1}
    # the rest of the sheet loaded as a new edition
    assert report.counts["parcels_new_version"] == len(sheet) - 1
    assert report.counts["parcels_retired"] == 0
    assert count(conn, "SELECT count(*) FROM current_parcel") == len(sheet)
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE address LIKE '%đo lại%'") == (
        len(sheet) - 1)
    # the report says which parcel was kept and why (CLI summary and the recorded JSON)
    assert report.kept == [{
        "parcel_id": enjoined, "identity": "00037/1/5", "reason_code": "parcel-enjoined",
        "restrictions": ["injunction"], "in_new_edition": True,
        "feature_reason_code": "parcel-enjoined"}]
    summary = "\n".join(report.summary())
    assert "kept 1 parcel" in summary and "00037/1/5" in summary
    recorded = conn.execute(sa.text("SELECT report -> 'kept' FROM import_run WHERE id = :i"),
                            {"i": report.import_id}).scalar_one()
    assert recorded == report.kept
    assert count(conn, OVERLAPPING) == 0


def test_an_edition_over_a_mortgaged_parcel_quarantines_a_neighbour_that_overlaps_it(
        conn, run, write, sheet, bank):
    mortgaged_number, neighbour_number = neighbours(sheet)
    mortgaged, neighbour = parcel_id(conn, mortgaged_number), parcel_id(conn, neighbour_number)
    service.register_mortgage(conn, mortgaged, bank, CONTRACT, amount=2_000_000_000)
    kept_versions = version(conn, mortgaged), version(conn, neighbour)
    # on the ground the neighbour took the mortgaged parcel in (a merge not yet registered)
    edition = remeasured(sheet)
    at = {n: edition.index[edition["SoThua"] == n][0] for n in (mortgaged_number,
                                                              neighbour_number)}
    grown = shapely.union(edition.loc[at[mortgaged_number], "geometry"],
                          edition.loc[at[neighbour_number], "geometry"])
    edition.loc[at[neighbour_number], "geometry"] = shapely.MultiPolygon([grown]) if (
        grown.geom_type == "Polygon") else grown
    edition.loc[at[neighbour_number], "DienTich"] = round(grown.area, 1)
    edition = edition.drop(index=at[mortgaged_number])

    report = run(write(edition, "edition2.gpkg"))

    # both stay as they were: the mortgaged parcel (not in the edition) and the neighbour
    # whose new shape would cover it
    assert (version(conn, mortgaged), version(conn, neighbour)) == kept_versions
    assert count(conn, OVERLAPPING) == 0
    rows = quarantined(conn, report.import_id)
    code, reason = rows[f"00037/1/{neighbour_number}"]
    assert code == "overlaps-kept-parcel"
    assert f"#{mortgaged}" in reason and "mortgage" in reason
    assert CONTRACT.reference not in reason and BANK not in reason
    assert len(rows) == 1
    kept = {k["parcel_id"]: k for k in report.kept}
    assert kept[mortgaged]["reason_code"] == "parcel-mortgaged"
    assert kept[mortgaged]["restrictions"] == ["mortgage"]
    assert kept[mortgaged]["in_new_edition"] is False
    assert kept[neighbour]["reason_code"] == "overlaps-kept-parcel"
    assert kept[neighbour]["in_new_edition"] is True
    assert report.counts["parcels_retired"] == 0
    assert report.counts["parcels_new_version"] == len(sheet) - 2
    assert count(conn, "SELECT count(*) FROM current_restriction WHERE parcel_id = :p "
                 "AND kind = 'mortgage'", p=mortgaged) == 1


def test_an_edition_dropping_an_enjoined_parcel_keeps_it_and_retires_the_other(
        conn, run, write, sheet):
    enjoined, plain = parcel_id(conn, 60), parcel_id(conn, 59)
    service.set_injunction(conn, enjoined, None, ORDER)
    before = version(conn, enjoined)

    report = run(write(remeasured(sheet[~sheet["SoThua"].isin([59, 60])]), "edition2.gpkg"))

    assert version(conn, enjoined) == before
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE parcel_id = :p",
                 p=plain) == 0
    assert report.counts["parcels_retired"] == 1
    assert report.kept == [{
        "parcel_id": enjoined, "identity": "00037/1/60", "reason_code": "parcel-enjoined",
        "restrictions": ["injunction"], "in_new_edition": False,
        "feature_reason_code": None}]
    assert "not in the new edition" in "\n".join(report.summary())
    for table, sql in LOOSE_ENDS.items():
        assert count(conn, sql) == 0, table
    # the new edition of the sheet still covers the parcel it kept
    assert count(conn, "SELECT count(*) FROM current_parcel p JOIN map_sheet s "
                 "ON upper_inf(s.lifespan) AND s.commune_code = p.commune_code "
                 "AND s.sheet_number = p.sheet_number WHERE NOT ST_Covers(s.geom, p.geom)") == 0


def test_an_edition_of_nothing_but_an_enjoined_parcel_replaces_nothing(conn, run, write,
                                                                       sheet):
    enjoined = parcel_id(conn, 5)
    service.set_injunction(conn, enjoined, None, ORDER)
    alone = write(remeasured(sheet[sheet["SoThua"] == 5]), "edition2.gpkg")
    with pytest.raises(ImportRejected, match="parcel-enjoined: 1"):
        run(alone)
    report = run(alone, allow_empty=True)
    assert report.counts.get("parcels_retired", 0) == 0
    assert [k["parcel_id"] for k in report.kept] == [enjoined]
    assert count(conn, "SELECT count(*) FROM current_parcel") == len(sheet)
    assert count(conn, "SELECT count(*) FROM map_sheet") == 1


def test_a_parcel_whose_new_feature_is_rejected_stays_as_it_was(conn, run, write, sheet):
    """Not only restrictions: a feature the import cannot load leaves its parcel's previous
    version (and rights) in place, instead of retiring it."""
    pid = parcel_id(conn, 10)
    before = version(conn, pid)
    edition = remeasured(sheet)
    edition.loc[edition["SoThua"] == 10, "DienTich"] = 99_999.0  # area-mismatch

    report = run(write(edition, "edition2.gpkg"))

    assert report.rejected == {"area-mismatch": 1}
    assert version(conn, pid) == before
    assert report.counts["parcels_retired"] == 0
    assert [k["reason_code"] for k in report.kept] == ["area-mismatch"]
    assert count(conn, "SELECT count(*) FROM current_land_right WHERE parcel_id = :p",
                 p=pid) >= 1


def test_an_ordinary_edition_replaces_the_whole_sheet(conn, run, write, sheet):
    ids = dict(conn.execute(sa.text("SELECT parcel_number, parcel_id FROM current_parcel")).all())
    report = run(write(remeasured(sheet), "edition2.gpkg"))
    assert report.kept == [] and report.rejected == {}
    assert report.counts["parcels_new_version"] == len(sheet)
    assert report.counts["parcels_retired"] == 0
    assert dict(conn.execute(sa.text(
        "SELECT parcel_number, parcel_id FROM current_parcel")).all()) == ids
    assert count(conn, "SELECT count(*) FROM current_parcel WHERE address LIKE '%đo lại%'") == (
        len(sheet))
    assert "kept" not in "\n".join(report.summary())


def test_on_error_abort_refuses_an_edition_that_would_keep_a_parcel(conn, run, write, sheet):
    enjoined = parcel_id(conn, 60)
    service.set_injunction(conn, enjoined, None, ORDER)
    versions = count(conn, "SELECT count(*) FROM parcel")
    with pytest.raises(ImportRejected, match="injunction or a mortgage"):
        run(write(remeasured(sheet[sheet["SoThua"] != 60]), "edition2.gpkg"), on_error="abort")
    assert count(conn, "SELECT count(*) FROM parcel") == versions


def test_a_dry_run_lists_the_parcels_an_edition_would_keep(conn, run, write, sheet, bank):
    mortgaged = parcel_id(conn, 3)
    service.register_mortgage(conn, mortgaged, bank, CONTRACT)
    versions = count(conn, "SELECT count(*) FROM parcel")
    report = run(write(remeasured(sheet), "edition2.gpkg"), dry_run=True)
    assert [(k["parcel_id"], k["reason_code"]) for k in report.kept] == [
        (mortgaged, "parcel-mortgaged")]
    assert report.counts["would_keep"] == 1
    assert count(conn, "SELECT count(*) FROM parcel") == versions


def test_the_command_line_reports_the_kept_parcels(fresh_database, tmp_path, small_layer):
    """From a fresh database: import a sheet, enjoin a parcel, import the new edition; the
    summary and the JSON report name the parcel kept and why, and the parcel is as it was."""
    import json
    import os
    import subprocess
    import sys

    from cadastre.db import create_engine
    from cadastre.dbinit import init_database

    settings = fresh_database
    init_database(settings, srid=5897)
    env = {**os.environ, "CADASTRE_DATABASE_URL": settings.database_url}

    def cadastre(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-c", "from cadastre.cli import main; main()",
                               *args], capture_output=True, text=True, env=env, timeout=180)
        assert done.returncode == 0, done.stderr
        return done

    first, second = tmp_path / "edition1.gpkg", tmp_path / "edition2.gpkg"
    small_layer.to_file(first)
    remeasured(small_layer).to_file(second)
    cadastre("import", str(first))
    engine = create_engine(settings)
    try:
        with engine.connect() as conn:
            enjoined = parcel_id(conn, 7)
            before = version(conn, enjoined)
        cadastre("change", "injunction", str(enjoined), "--source-ref", ORDER.reference)
        done = cadastre("import", str(second), "--report", str(tmp_path / "report.json"))
        printed = " ".join(done.stdout.split())  # as wrapped on an 80-column terminal
        assert "kept 1 parcel as it is in the register (parcel-enjoined 1)" in printed
        assert (f"#{enjoined} 00037/1/7: parcel-enjoined (injunction), its feature "
                "quarantined (parcel-enjoined)") in printed
        assert ORDER.reference not in printed
        kept = json.loads((tmp_path / "report.json").read_text())["kept"]
        assert [(k["parcel_id"], k["reason_code"]) for k in kept] == [
            (enjoined, "parcel-enjoined")]
        with engine.connect() as conn:
            assert version(conn, enjoined) == before
            assert count(conn, "SELECT count(*) FROM current_parcel") == len(small_layer)
    finally:
        engine.dispose()


def test_an_edition_locks_the_parcels_of_the_sheets_it_replaces(fresh_database, tmp_path,
                                                                small_layer):
    """What the edition decided from the restrictions holds until it commits: a change
    operation on one of those parcels (lock_parcel) waits for the import."""
    from cadastre.db import create_engine
    from cadastre.dbinit import init_database
    from importers import load
    from importers.pipeline import ImportOptions, run_import

    settings = fresh_database
    init_database(settings, srid=5897)
    engine = create_engine(settings)
    try:
        path = tmp_path / "edition1.gpkg"
        small_layer.to_file(path)
        run_import(engine, path, ImportOptions())
        with engine.connect() as importing, importing.begin():
            parcels = load.sheet_parcels(importing, [("00037", "1")])
            assert len(parcels) == len(small_layer)
            with engine.connect() as officer, officer.begin():
                officer.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                    service.set_injunction(officer, int(parcels["parcel_id"].iloc[0]), None,
                                           ORDER)
    finally:
        engine.dispose()
