"""The administrative units `cadastre db init` loads: the communes in force since the 2025
reform, the old districts and communes as history, and the succession between them."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from cadastre.admin.units import REFORM_DAY, load_units, today_unit
from cadastre.errors import NotFound

OLD = date(2024, 1, 1)


def _one(conn, sql, **params):
    return conn.execute(sa.text(sql), params).mappings().one()


def _links(conn, code, *, direction, on):
    """(code, name, kind, main) of the units before (direction='from') or after ('into')."""
    this, other = (("successor_id", "predecessor_id") if direction == "from"
                   else ("predecessor_id", "successor_id"))
    return sorted(conn.execute(sa.text(
        f"SELECT o.code, o.name, s.kind, s.main FROM admin_unit a "
        f"JOIN admin_unit_succession s ON s.{this} = a.id JOIN admin_unit o ON o.id = s.{other} "
        "WHERE a.level = 'commune' AND a.code = :c AND a.validity @> CAST(:d AS date)"),
        {"c": code, "d": on}).all())


def test_the_units_in_force_today(conn):
    counts = _one(conn, """
        SELECT count(*) FILTER (WHERE level = 'commune') AS communes,
               count(*) FILTER (WHERE level = 'province') AS provinces,
               count(*) FILTER (WHERE level = 'district') AS districts
        FROM admin_unit WHERE validity @> (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date""")
    assert dict(counts) == {"communes": 3321, "provinces": 34, "districts": 0}
    hanoi = conn.execute(sa.text(
        "SELECT count(*) FROM admin_unit c JOIN admin_unit p ON p.id = c.parent_id "
        "WHERE c.level = 'commune' AND c.valid_to IS NULL AND p.code = '01'")).scalar_one()
    assert hanoi == 126
    kinds = dict(conn.execute(sa.text(
        "SELECT kind, count(*) FROM admin_unit WHERE level = 'commune' AND valid_to IS NULL "
        "GROUP BY kind")).all())
    assert kinds == {"xa": 2621, "phuong": 687, "dac_khu": 13}


def test_phuong_hoan_kiem_and_its_predecessors(conn):
    unit = _one(conn, "SELECT a.name, a.kind, a.valid_from, a.valid_to, a.tm3_epsg, a.source, "
                "p.code AS province FROM admin_unit a JOIN admin_unit p ON p.id = a.parent_id "
                "WHERE a.level = 'commune' AND a.code = '00070' AND a.valid_to IS NULL")
    assert dict(unit) == {"name": "Phường Hoàn Kiếm", "kind": "phuong",
                          "valid_from": REFORM_DAY, "valid_to": None, "tm3_epsg": 5897,
                          "source": "vietnam-provinces 2025.10.1", "province": "01"}
    before = _links(conn, "00070", direction="from", on=date(2026, 1, 1))
    names = {name for _, name, _, _ in before}
    assert {"Phường Hàng Bạc", "Phường Hàng Đào", "Phường Hàng Gai",
            "Phường Hàng Trống"} <= names
    assert ("00061", "Phường Hàng Bạc", "merged", True) in before
    # Hàng Trống (the old 00070) was divided: most of it (main) went into Hoàn Kiếm
    assert ("00070", "Phường Hàng Trống", "split", True) in before


def test_phuc_tan_ended_and_went_into_hong_ha(conn):
    unit = _one(conn, "SELECT a.name, a.valid_to, d.code AS district, d.name AS district_name, "
                "d.valid_to AS district_end FROM admin_unit a JOIN admin_unit d "
                "ON d.id = a.parent_id WHERE a.level = 'commune' AND a.code = '00037' "
                "AND a.validity @> DATE '2024-01-01'")
    assert dict(unit) == {"name": "Phường Phúc Tân", "valid_to": date(2025, 6, 30),
                          "district": "002", "district_name": "Quận Hoàn Kiếm",
                          "district_end": date(2025, 6, 30)}
    assert _links(conn, "00037", direction="into", on=OLD) == [
        ("00097", "Phường Hồng Hà", "merged", True)]
    answer = today_unit(conn, "00037", OLD)
    assert answer["text"] == ("Phường Phúc Tân (00037, former Quận Hoàn Kiếm) is in Phường "
                              "Hồng Hà (00097) since 2025-07-01")
    assert answer["today"] == [{"code": "00097", "name": "Phường Hồng Hà", "since": REFORM_DAY,
                                "main": True}]
    rows = conn.execute(sa.text(
        "SELECT code, name, since, main FROM current_commune('00037', DATE '2024-01-01')")).all()
    assert [tuple(r) for r in rows] == [("00097", "Phường Hồng Hà", REFORM_DAY, True)]
    # 00037 is no commune today
    assert conn.execute(sa.text("SELECT count(*) FROM current_commune('00037')")).scalar() == 0
    with pytest.raises(NotFound, match="no commune 00037"):
        today_unit(conn, "00037")


def test_a_split_old_commune_has_several_successors_and_one_main(conn):
    splits = conn.execute(sa.text("""
        SELECT a.code, count(*) AS parts, count(*) FILTER (WHERE s.main) AS mains
        FROM admin_unit_succession s JOIN admin_unit a ON a.id = s.predecessor_id
        WHERE s.kind = 'split' GROUP BY a.code""")).all()
    assert len(splits) > 400
    assert all(r.parts >= 2 and r.mains == 1 for r in splits)
    answer = today_unit(conn, "00070", OLD)
    assert answer["text"] == (
        "Phường Hàng Trống (00070, former Quận Hoàn Kiếm) is divided among Phường Hoàn Kiếm "
        "(00070, main), Phường Cửa Nam (00073) since 2025-07-01")
    # every old commune has a successor; no district but the five island ones has one
    orphans = conn.execute(sa.text(
        "SELECT count(*) FROM admin_unit a WHERE a.valid_to = DATE '2025-06-30' "
        "AND a.level = 'commune' AND NOT EXISTS (SELECT 1 FROM admin_unit_succession s "
        "WHERE s.predecessor_id = a.id)")).scalar_one()
    assert orphans == 0
    islands = conn.execute(sa.text(
        "SELECT a.name, n.name FROM admin_unit_succession s JOIN admin_unit a "
        "ON a.id = s.predecessor_id JOIN admin_unit n ON n.id = s.successor_id "
        "WHERE a.level = 'district' ORDER BY a.code")).all()
    assert len(islands) == 5 and ("Huyện Côn Đảo", "Đặc khu Côn Đảo") in islands


def test_a_unit_in_force_answers_itself(conn):
    assert today_unit(conn, "00070")["text"] == (
        "Phường Hoàn Kiếm (00070) is in force since 2025-07-01")


def test_a_second_load_changes_nothing(conn):
    before = conn.execute(sa.text(
        "SELECT (SELECT count(*) FROM admin_unit), (SELECT count(*) FROM admin_unit_succession), "
        "(SELECT count(*) FROM admin_unit_load), (SELECT count(*) FROM audit_log)")).one()
    report = load_units(conn)
    assert not report.changed and report.load_id is None
    assert set(report.inserted.values()) == {0}
    assert report.differences == [] and report.conflicts == [] and report.unmapped == []
    assert report.counts == {"communes_in_force": 3321, "hanoi_communes": 126,
                             "old_communes": 10035, "districts": 696, "successions": 10602}
    after = conn.execute(sa.text(
        "SELECT (SELECT count(*) FROM admin_unit), (SELECT count(*) FROM admin_unit_succession), "
        "(SELECT count(*) FROM admin_unit_load), (SELECT count(*) FROM audit_log)")).one()
    assert after == before


def test_the_first_load_is_recorded_with_the_package_versions(conn):
    load = _one(conn, "SELECT source, packages, summary FROM admin_unit_load ORDER BY id LIMIT 1")
    assert load["packages"]["vietnam-provinces"] == "2025.10.1"
    assert load["packages"]["vietnamadminunits"] == "1.0.4"
    assert load["summary"]["inserted"] == {"districts": 696, "old communes": 10035,
                                           "communes": 3321, "successions": 10602}
    assert ["01", "Phường Cửa Nam", "00082", "00073"] in load["summary"]["code_disagreements"]
    # one audit row per table for the load, not one per unit
    audit = dict(conn.execute(sa.text(
        "SELECT table_name, (after ->> 'rows_inserted')::int FROM audit_log "
        "WHERE action = 'bulk_insert' AND reason LIKE 'administrative units load%'")).all())
    assert audit == {"admin_unit": 14052, "admin_unit_succession": 10602}


def test_a_renamed_unit_is_reported_and_renamed_only_from_a_given_day(conn):
    """A newer package naming a commune otherwise: as if the register held the old name."""
    conn.execute(sa.text("UPDATE admin_unit SET name = 'Phường Tên Cũ' WHERE level = 'commune' "
                         "AND code = '00070' AND valid_to IS NULL"))
    reported = load_units(conn)
    assert reported.differences == [
        "commune 00070 (communes): name 'Phường Tên Cũ' -> 'Phường Hoàn Kiếm'"]
    assert not reported.changed
    assert today_unit(conn, "00070")["name"] == "Phường Tên Cũ"

    renamed = load_units(conn, renames_on=date(2026, 1, 1))
    assert renamed.renamed == ["00070 Phường Tên Cũ -> Phường Hoàn Kiếm from 2026-01-01"]
    assert renamed.load_id is not None
    versions = conn.execute(sa.text(
        "SELECT name, valid_from, valid_to FROM admin_unit WHERE level = 'commune' "
        "AND code = '00070' ORDER BY valid_from NULLS FIRST")).all()
    assert [tuple(v) for v in versions] == [
        ("Phường Hàng Trống", None, date(2025, 6, 30)),
        ("Phường Tên Cũ", REFORM_DAY, date(2025, 12, 31)),
        ("Phường Hoàn Kiếm", date(2026, 1, 1), None)]
    # the old wards went into the unit on 2025-07-01, whatever it is called since
    assert today_unit(conn, "00061", OLD)["text"] == (
        "Phường Hàng Bạc (00061, former Quận Hoàn Kiếm) is in Phường Hoàn Kiếm (00070) since "
        "2025-07-01")
    assert today_unit(conn, "00070", date(2025, 8, 1))["text"] == (
        "Phường Tên Cũ (00070) is in Phường Hoàn Kiếm (00070) since 2026-01-01")
    assert load_units(conn, renames_on=date(2026, 1, 1)).changed is False


def test_one_code_per_level_at_a_time_still_holds(conn):
    with pytest.raises(sa.exc.IntegrityError, match="admin_unit_code_once_at_a_time"), \
            conn.begin_nested():
        conn.execute(sa.text("INSERT INTO admin_unit (level, code, name, valid_from) "
                             "VALUES ('commune', '00070', 'Phường Trùng', DATE '2026-01-01')"))
    # the integer key is one per (level, code)
    keys = conn.execute(sa.text(
        "SELECT count(DISTINCT admin_unit_key(level, code)), count(DISTINCT (level, code)) "
        "FROM admin_unit")).one()
    assert keys[0] == keys[1]
    assert conn.execute(sa.text("SELECT admin_unit_key('commune', '01') <> "
                                "admin_unit_key('commune', '010')")).scalar()


def test_the_api_reads_the_units_and_writes_none(conn):
    privileges = conn.execute(sa.text(
        "SELECT has_table_privilege('cadastre_api', 'admin_unit', 'SELECT'), "
        "has_table_privilege('cadastre_api', 'admin_unit_succession', 'SELECT'), "
        "has_function_privilege('cadastre_api', 'current_commune(text, date)', 'EXECUTE'), "
        "has_table_privilege('cadastre_api', 'admin_unit', 'INSERT'), "
        "has_table_privilege('cadastre_api', 'admin_unit_load', 'INSERT')")).one()
    assert tuple(privileges) == (True, True, True, False, False)
