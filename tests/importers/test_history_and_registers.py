"""Safe loads (re-import is a no-op, a new edition makes history), registers, encodings and
the French EDIGEO sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cadastre.db import create_engine
from cadastre.dbinit import drop_database, init_database
from importers.pipeline import ImportOptions, run_import
from tests.conftest import make_test_settings
from tests.importers.conftest import DATA, EDIGEO_SAMPLE, count, encoded_frame


def test_reimporting_the_same_file_is_a_no_op_unless_forced(conn, run, write, small_layer):
    path = write(small_layer, "sheet.gpkg")
    first = run(path)
    # an ordinary (row by row) load is audited row by row
    assert count(conn, "SELECT count(*) FROM audit_log WHERE action = 'insert' "
                 "AND table_name = 'parcel'") == len(small_layer)
    again = run(path)
    assert again.status == "already-imported"
    assert again.previous_import["id"] == first.import_id
    assert count(conn, "SELECT count(*) FROM parcel") == len(small_layer)
    forced = run(path, force=True)
    assert forced.status == "committed"
    assert count(conn, "SELECT count(*) FROM current_parcel") == len(small_layer)
    assert count(conn, "SELECT count(*) FROM parcel") == 2 * len(small_layer)


def test_a_newer_edition_of_a_sheet_ends_old_versions_and_keeps_parcel_ids(
        conn, run, write, small_layer):
    sheet = small_layer["SoTo"].iloc[0]
    part = small_layer[small_layer["SoTo"] == sheet].reset_index(drop=True)
    run(write(part, "edition1.gpkg"))
    ids_before = dict(conn.execute(sa.text(
        "SELECT parcel_number, parcel_id FROM current_parcel")).all())
    edition2 = part.iloc[:-1].copy()  # the last parcel disappears (merged on the ground)
    edition2["DiaChi"] = edition2["DiaChi"] + " (đo lại 2024)"
    report = run(write(edition2, "edition2.gpkg"))
    assert report.counts["sheets_replaced"] == 1
    assert report.counts["parcels_new_version"] == len(edition2)
    assert report.counts["parcels_retired"] == 1
    ids_after = dict(conn.execute(sa.text(
        "SELECT parcel_number, parcel_id FROM current_parcel")).all())
    assert ids_after == {n: ids_before[n] for n in ids_after}
    # history: the old versions ended at the instant the new ones began
    assert count(conn, """
        SELECT count(*) FROM parcel old JOIN parcel new USING (parcel_id)
        WHERE NOT upper_inf(old.lifespan) AND upper_inf(new.lifespan)
          AND upper(old.lifespan) = lower(new.lifespan)""") == len(edition2)
    assert count(conn, "SELECT count(*) FROM map_sheet") == 2


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "cp1258"])
def test_legacy_encoded_dbf_gives_the_right_unicode(conn, run, write, small_layer, encoding):
    path = write(encoded_frame(small_layer, encoding), f"{encoding}.shp", encoding="latin1")
    report = run(path)
    assert report.layers[0].encoding == encoding
    assert report.layers[0].encoding_confidence >= 0.8
    stored = set(conn.execute(sa.text("SELECT address FROM current_parcel")).scalars())
    assert stored == set(small_layer["DiaChi"])
    names = set(conn.execute(sa.text("SELECT name FROM party")).scalars())
    person = small_layer.loc[small_layer["LoaiChu"] == "CN", "TenChu"].iloc[0]
    assert person in names


def test_encoding_fixture_strings_round_trip_through_a_dbf(conn, run, write, small_layer):
    truth = (DATA / "vntext" / "strings.utf8.txt").read_text(encoding="utf-8").splitlines()
    tcvn3 = (DATA / "vntext" / "strings.tcvn3.txt").read_bytes().splitlines()
    layer = small_layer.iloc[: len(truth)].copy()
    layer["DiaChi"] = [raw.decode("latin-1") for raw in tcvn3[: len(layer)]]
    for column in ("TenChu", "DiaChiChu"):
        layer[column] = layer[column].map(lambda v: v.encode("ascii", "ignore").decode())
    report = run(write(layer, "fixture.shp", encoding="latin1"))
    assert report.layers[0].encoding == "tcvn3"
    stored = conn.execute(sa.text(
        "SELECT address FROM current_parcel ORDER BY parcel_id")).scalars().all()
    assert sorted(stored) == sorted(truth[: len(layer)])


def test_register_xlsx_attaches_holders_and_reports_unmatched(conn, run, write, small_layer,
                                                               tmp_path):
    bare = small_layer.drop(columns=["TenChu", "LoaiChu", "CCCD", "NamSinh", "DiaChiChu",
                                     "SoPhatHanh", "SoVaoSo", "NgayCap", "LoaiDat"])
    run(write(bare, "map.gpkg"))
    register = pd.DataFrame({
        "Mã xã": small_layer["MaXa"], "Số tờ": small_layer["SoTo"],
        "Số thửa": small_layer["SoThua"], "Tên người sử dụng": small_layer["TenChu"],
        "Diện tích": small_layer["DienTichPL"], "Loại đất": small_layer["LoaiDat"],
    })
    register.loc[len(register)] = ["00037", 999, 1, "Nguyễn Văn Không Có", 100.0, "ODT"]
    path = tmp_path / "so_muc_ke.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([["SỔ MỤC KÊ ĐẤT ĐAI"], ["Phường Hàng Bạc, quận Hoàn Kiếm"]]).to_excel(
            writer, header=False, index=False)
        register.to_excel(writer, startrow=3, index=False)
    report = run(path, kind="register")
    assert report.status == "committed", report.summary()
    assert report.counts["unmatched_rows"] == 1
    assert report.counts["rights"] == len(small_layer)
    assert count(conn, "SELECT count(*) FROM import_quarantine WHERE import_id = :i "
                       "AND reason_code = 'no-such-parcel'", i=report.import_id) == 1
    # the row records which of its columns the profile maps to personal fields
    personal = conn.execute(sa.text(
        "SELECT attributes -> '_personal' FROM import_quarantine WHERE import_id = :i"),
        {"i": report.import_id}).scalar_one()
    assert personal == {"Tên người sử dụng": "owner_name"}
    assert count(conn, "SELECT count(*) FROM parcel_land_use") >= len(small_layer)
    holder = small_layer["TenChu"].iloc[0].removeprefix("Hộ ông ").removeprefix("Hộ bà ")
    assert count(conn, "SELECT count(*) FROM party WHERE name = :n", n=holder) >= 1


def test_register_csv_in_tcvn3(conn, run, write, small_layer, tmp_path):
    run(write(small_layer.drop(columns=["TenChu", "LoaiChu", "CCCD"]), "map.gpkg"))
    lines = ["So to;So thua;Chu su dung;Ma xa"] + [
        f"{r.SoTo};{r.SoThua};{r.TenChu};{r.MaXa}" for r in small_layer.itertuples()]
    from importers import vntext

    path = tmp_path / "register.csv"
    path.write_bytes(b"\r\n".join(vntext.encode(line, "tcvn3") for line in lines))
    report = run(path, kind="register")
    assert report.layers[0].encoding == "tcvn3"
    assert report.counts["rights"] == len(small_layer)


@pytest.fixture(scope="module")
def lambert93_settings():
    settings = make_test_settings()
    init_database(settings, srid=2154)
    yield settings
    drop_database(settings)


def test_edigeo_sample_imports_with_identifiers_and_legal_areas(lambert93_settings):
    if not EDIGEO_SAMPLE.exists():
        pytest.fail(f"the EDIGEO sample is missing at {EDIGEO_SAMPLE}")
    engine = create_engine(lambert93_settings)
    try:
        with engine.connect() as conn, conn.begin() as outer:
            report = run_import(conn, EDIGEO_SAMPLE, ImportOptions(commune="25354"))
            assert report.status == "committed", report.summary()
            assert report.layers[0].profile == "edigeo"
            rows = conn.execute(sa.text(
                "SELECT commune_code, sheet_number, parcel_number, area_legal, "
                "ST_SRID(geom) AS srid FROM current_parcel ORDER BY parcel_number")).all()
            assert len(rows) == 14
            first = rows[0]
            assert (first.commune_code, first.sheet_number, first.parcel_number) == (
                "25354", "AB", 1)
            assert float(first.area_legal) == 226060.0
            assert {r.srid for r in rows} == {2154}
            outer.rollback()
    finally:
        engine.dispose()


def test_history_lists_imports_from_the_cli(fresh_database, tmp_path, small_layer):
    import os
    import subprocess
    import sys

    settings = fresh_database
    init_database(settings, srid=5897)
    path = tmp_path / "cli.gpkg"
    small_layer.iloc[:5].assign(MaXa="00088", SoTo=777).to_file(path)
    env = {**os.environ, "CADASTRE_DATABASE_URL": settings.database_url}
    cli = [sys.executable, "-c", "from cadastre.cli import main; main()"]
    imported = subprocess.run([*cli, "import", str(path)], capture_output=True, text=True,
                              env=env, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert "COMMITTED" in imported.stdout
    again = subprocess.run([*cli, "import", str(path)], capture_output=True, text=True,
                           env=env, timeout=120)
    assert "ALREADY-IMPORTED" in again.stdout
    history = subprocess.run([*cli, "import", "--history"], capture_output=True, text=True,
                             env=env, timeout=120)
    assert history.returncode == 0
    assert "cli.gpkg" in history.stdout
    assert Path(path).name in history.stdout


ENABLED_OVERLAP_TRIGGERS = """SELECT count(*) FROM pg_trigger WHERE tgenabled = 'O'
    AND tgfoid = 'check_version_overlap'::regproc"""


def test_bulk_load_rebuilds_and_revalidates_indexes_and_keys(conn, run, write, small_layer):
    indexes_before = count(conn, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
    keys_before = count(conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
    primary_before = count(conn, "SELECT count(*) FROM pg_constraint WHERE contype IN ('p', 'u')")
    triggers_before = count(conn, ENABLED_OVERLAP_TRIGGERS)
    report = run(write(small_layer, "bulk.gpkg"), bulk_rows=10)
    assert report.counts["indexes_and_keys_rebuilt"] > 30
    assert count(conn, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'") == (
        indexes_before)
    assert count(conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == keys_before
    assert count(conn, "SELECT count(*) FROM pg_constraint WHERE contype IN ('p', 'u')") == (
        primary_before)
    assert count(conn, ENABLED_OVERLAP_TRIGGERS) == triggers_before
    # the audit row triggers were set aside: one audit row per table says what the change did
    audited = dict(conn.execute(sa.text(
        "SELECT table_name, after FROM audit_log WHERE action = 'bulk_insert'")).all())
    assert audited["parcel"]["rows_inserted"] == len(small_layer)
    assert audited["parcel"]["change_id"] == count(conn, "SELECT max(id) FROM change_transaction")
    assert count(conn, "SELECT count(*) FROM audit_log WHERE action = 'insert' "
                 "AND table_name = 'parcel'") == 0
    assert count(conn, "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_row' "
                 "AND tgenabled = 'O'") >= 30
    # the rebuilt primary key still refuses a duplicate version id
    with pytest.raises(sa.exc.IntegrityError, match="parcel_pkey"), conn.begin_nested():
        conn.execute(sa.text(
            "INSERT INTO parcel (version_id, parcel_id, commune_code, sheet_number, "
            "parcel_number, geom, begun_by) SELECT version_id, parcel_id, commune_code, "
            "sheet_number, parcel_number + 100000, geom, begun_by FROM parcel LIMIT 1"))
    assert count(conn, "SELECT count(*) FROM current_parcel") == len(small_layer)
    # the rebuilt unique index still guards the register
    with pytest.raises(sa.exc.IntegrityError, match="parcel_current_id_uidx"), \
            conn.begin_nested():
        conn.execute(sa.text(
            "INSERT INTO parcel (parcel_id, commune_code, sheet_number, parcel_number, "
            "geom, begun_by) SELECT parcel_id, commune_code, sheet_number, parcel_number, "
            "geom, begun_by FROM parcel LIMIT 1"))


def test_bulk_new_edition_makes_history_and_the_overlap_check_still_runs(
        conn, run, write, small_layer):
    run(write(small_layer, "first.gpkg"), bulk_rows=10)
    edition = small_layer.copy()
    edition["DiaChi"] = edition["DiaChi"] + " (đo lại)"
    report = run(write(edition, "second.gpkg"), bulk_rows=10)
    assert report.counts["indexes_and_keys_rebuilt"] > 30
    assert report.counts["parcels_new_version"] == len(small_layer)
    assert count(conn, "SELECT count(*) FROM parcel") == 2 * len(small_layer)
    # the check the bulk path runs in place of the disabled trigger finds an overlap: a
    # version beginning inside the lifespan of a closed one
    change = count(conn, "SELECT max(id) FROM change_transaction")
    with pytest.raises(sa.exc.DBAPIError, match="overlaps version") as caught, \
            conn.begin_nested():
        conn.execute(sa.text(
            "ALTER TABLE parcel DISABLE TRIGGER parcel_id_versions_do_not_overlap, "
            "DISABLE TRIGGER parcel_number_versions_do_not_overlap"))
        conn.execute(sa.text("DROP INDEX parcel_current_id_uidx, parcel_current_number_uidx"))
        conn.execute(sa.text(
            "INSERT INTO parcel (parcel_id, commune_code, sheet_number, parcel_number, geom, "
            "lifespan, begun_by) SELECT parcel_id, commune_code, sheet_number, parcel_number, "
            "geom, tstzrange(lower(lifespan) - interval '1 day', NULL), :c FROM parcel "
            "WHERE NOT upper_inf(lifespan) LIMIT 1"), {"c": change})
        conn.execute(sa.text("SELECT check_versions_begun_by('parcel', 'parcel_id', :c)"),
                     {"c": change})
    assert caught.value.orig.pgcode == "23P01"


def test_holders_personal_data_and_certificates_follow_the_source(conn, run, write,
                                                                  small_layer):
    layer = small_layer.copy()
    people = layer.index[layer["LoaiChu"].isin(["CN", "HGD"]) & layer["CCCD"].notna()]
    layer.loc[people[0], "CCCD"] = "123456789"  # an old 9-digit CMND
    layer.loc[people[1], "CCCD"] = "12345"  # not an ID number: the person is kept by name
    run(write(layer, "holders.gpkg"))
    stored = {r.national_id: r for r in conn.execute(sa.text(
        "SELECT national_id, id_kind, gender, birth_year, address FROM party_personal "
        "WHERE national_id IS NOT NULL")).all()}
    source = layer.loc[people].drop_duplicates("CCCD")
    valid = source[source["CCCD"].str.len().isin([9, 12])]
    assert set(stored) == set(valid["CCCD"])
    for row in valid.itertuples():
        got = stored[row.CCCD]
        assert got.id_kind == ("cccd" if len(row.CCCD) == 12 else "cmnd")
        assert got.gender == (None if len(row.CCCD) == 9
                              else "male" if int(row.CCCD[3]) % 2 == 0 else "female")
        assert got.birth_year == row.NamSinh and got.address == row.DiaChiChu
    assert count(conn, "SELECT count(*) FROM party_personal WHERE national_id IS NULL") >= 1
    certificates = dict(conn.execute(sa.text(
        "SELECT serial, issued_on FROM current_certificate")).all())
    first = layer[layer["SoPhatHanh"].notna()].drop_duplicates("SoPhatHanh")
    assert certificates == {s: pd.Timestamp(d).date() for s, d in
                            zip(first["SoPhatHanh"], first["NgayCap"], strict=True)}
