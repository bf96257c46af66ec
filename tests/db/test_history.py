"""Lifespan invariants: versions never overlap, history is never rewritten, and an "as of"
query reads the register as it stood on a date."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

SQUARE = "SRID=5897;MULTIPOLYGON(((585000 2326000,585020 2326000,585020 2326020,585000 2326020,585000 2326000)))"
SHIFTED = "SRID=5897;MULTIPOLYGON(((585100 2326000,585120 2326000,585120 2326020,585100 2326020,585100 2326000)))"


def _change(conn, kind="import", at="2020-01-01T00:00:00+07:00") -> int:
    return conn.execute(sa.text(
        "INSERT INTO change_transaction (kind, happened_at) VALUES (:k, :t) RETURNING id"),
        {"k": kind, "t": at}).scalar_one()


def _parcel(conn, *, parcel_id=None, number=1, since="2020-01-01T00:00:00+07:00",
            until=None, change=None, geom=SQUARE, ended_by=None) -> tuple[int, int]:
    if parcel_id is None:
        parcel_id = conn.execute(sa.text(
            "INSERT INTO parcel_identity DEFAULT VALUES RETURNING parcel_id")).scalar_one()
    change = change or _change(conn, at=since)
    version = conn.execute(sa.text(
        "INSERT INTO parcel (parcel_id, commune_code, sheet_number, parcel_number, geom, "
        "lifespan, begun_by, ended_by) VALUES (:p, '00070', '12', :n, ST_GeomFromEWKT(:g), "
        "tstzrange(:since, :until, '[)'), :c, :e) RETURNING version_id"),
        {"p": parcel_id, "n": number, "g": geom, "since": since, "until": until, "c": change,
         "e": ended_by}).scalar_one()
    return parcel_id, version


def _savepoint_error(conn, statement, params=None) -> DBAPIError:
    nested = conn.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        conn.execute(sa.text(statement), params or {})
    nested.rollback()
    return caught.value


def _close(conn, version: int, at: str) -> int:
    change = _change(conn, "correction", at)
    conn.execute(sa.text(
        "UPDATE parcel SET lifespan = tstzrange(lower(lifespan), :t, '[)'), ended_by = :c "
        "WHERE version_id = :v"), {"t": at, "c": change, "v": version})
    return change


def test_one_parcel_has_one_current_version(conn):
    parcel_id, _ = _parcel(conn)
    nested = conn.begin_nested()
    with pytest.raises(IntegrityError, match="parcel_current_id_uidx"):
        _parcel(conn, parcel_id=parcel_id, number=2, since="2021-01-01T00:00:00+07:00")
    nested.rollback()


def test_a_new_version_cannot_begin_before_the_previous_one_ended(conn):
    parcel_id, first = _parcel(conn, since="2020-01-01T00:00:00+07:00")
    _close(conn, first, "2022-01-01T00:00:00+07:00")
    nested = conn.begin_nested()
    with pytest.raises(IntegrityError, match=f"overlaps version {first}"):
        _parcel(conn, parcel_id=parcel_id, since="2021-06-01T00:00:00+07:00")
    nested.rollback()


def test_a_loaded_historical_version_cannot_overlap_another(conn):
    parcel_id, first = _parcel(conn, since="2020-01-01T00:00:00+07:00")
    change = _close(conn, first, "2022-01-01T00:00:00+07:00")
    nested = conn.begin_nested()
    with pytest.raises(IntegrityError, match="parcel_versions_do_not_overlap|overlaps"):
        _parcel(conn, parcel_id=parcel_id, since="2019-01-01T00:00:00+07:00",
                until="2020-06-01T00:00:00+07:00", ended_by=change)
    nested.rollback()
    # an adjacent historical version is fine: lifespans are half-open
    _parcel(conn, parcel_id=parcel_id, since="2019-01-01T00:00:00+07:00",
            until="2020-01-01T00:00:00+07:00", ended_by=change)


def test_one_parcel_number_on_a_sheet_at_a_time(conn):
    _parcel(conn, number=7)
    nested = conn.begin_nested()
    with pytest.raises(IntegrityError, match="parcel_current_number_uidx"):
        _parcel(conn, number=7, geom=SHIFTED)
    nested.rollback()


def test_a_retired_parcel_number_may_not_be_reused_for_its_own_past(conn):
    _, first = _parcel(conn, number=8, since="2020-01-01T00:00:00+07:00")
    _close(conn, first, "2022-01-01T00:00:00+07:00")
    nested = conn.begin_nested()
    with pytest.raises(IntegrityError, match="overlaps"):
        _parcel(conn, number=8, since="2021-01-01T00:00:00+07:00", geom=SHIFTED)
    nested.rollback()
    _parcel(conn, number=8, since="2022-01-01T00:00:00+07:00", geom=SHIFTED)


def test_a_version_can_be_closed_once_and_a_successor_begins_at_the_same_instant(conn):
    parcel_id, first = _parcel(conn)
    change = _change(conn, "boundary_correction", "2023-06-01T09:00:00+07:00")
    conn.execute(sa.text(
        "UPDATE parcel SET lifespan = tstzrange(lower(lifespan), :t, '[)'), ended_by = :c "
        "WHERE version_id = :v"), {"t": "2023-06-01T09:00:00+07:00", "c": change, "v": first})
    _, second = _parcel(conn, parcel_id=parcel_id, since="2023-06-01T09:00:00+07:00",
                        change=change, geom=SHIFTED)
    versions = conn.execute(sa.text(
        "SELECT version_id, upper(lifespan) AS ended, lower(lifespan) AS began FROM parcel "
        "WHERE parcel_id = :p ORDER BY lower(lifespan)"), {"p": parcel_id}).all()
    assert [v.version_id for v in versions] == [first, second]
    assert versions[0].ended == versions[1].began


def test_editing_a_version_is_refused(conn):
    _, version = _parcel(conn)
    error = _savepoint_error(conn, "UPDATE parcel SET address = 'Số 1 phố Hàng Bạc' "
                                   "WHERE version_id = :v", {"v": version})
    assert error.orig.pgcode == "CD001"
    assert "may only be closed, not edited" in str(error.orig)


def test_reopening_or_re_closing_a_closed_version_is_refused(conn):
    change = _change(conn, "correction", "2022-01-01T00:00:00+07:00")
    _, version = _parcel(conn, until="2022-01-01T00:00:00+07:00", ended_by=change)
    error = _savepoint_error(conn, "UPDATE parcel SET lifespan = tstzrange(lower(lifespan), "
                                   "NULL) , ended_by = NULL WHERE version_id = :v",
                             {"v": version})
    assert "already closed" in str(error.orig)


def test_closing_without_naming_the_change_is_refused(conn):
    _, version = _parcel(conn)
    error = _savepoint_error(conn, "UPDATE parcel SET lifespan = tstzrange(lower(lifespan), "
                                   "now()) WHERE version_id = :v", {"v": version})
    assert "name the ending change" in str(error.orig)


def test_deleting_history_is_refused(conn):
    _, version = _parcel(conn)
    error = _savepoint_error(conn, "DELETE FROM parcel WHERE version_id = :v", {"v": version})
    assert error.orig.pgcode == "CD001"


def test_land_use_rows_are_immutable(conn):
    _, version = _parcel(conn)
    conn.execute(sa.text("INSERT INTO parcel_land_use (parcel_version_id, land_use_code, area) "
                         "VALUES (:v, 'ODT', 100)"), {"v": version})
    error = _savepoint_error(conn, "UPDATE parcel_land_use SET area = 90 "
                                   "WHERE parcel_version_id = :v", {"v": version})
    assert error.orig.pgcode == "CD001"


def test_invalid_geometry_is_refused_by_the_database(conn):
    bowtie = ("SRID=5897;MULTIPOLYGON(((585000 2326000,585020 2326020,585020 2326000,"
              "585000 2326020,585000 2326000)))")
    nested = conn.begin_nested()
    with pytest.raises(IntegrityError, match="parcel_geom_valid"):
        _parcel(conn, geom=bowtie)
    nested.rollback()


def test_geometry_in_another_srid_is_refused(conn):
    wgs84 = "SRID=4326;MULTIPOLYGON(((105.85 21.03,105.851 21.03,105.851 21.031,105.85 21.03)))"
    nested = conn.begin_nested()
    with pytest.raises(DBAPIError, match="SRID"):
        _parcel(conn, geom=wgs84)
    nested.rollback()


def test_as_of_reads_the_register_on_a_past_date(conn):
    parcel_id, first = _parcel(conn, since="2019-03-01T00:00:00+07:00")
    change = _change(conn, "boundary_correction", "2023-06-01T09:00:00+07:00")
    conn.execute(sa.text(
        "UPDATE parcel SET lifespan = tstzrange(lower(lifespan), :t), ended_by = :c "
        "WHERE version_id = :v"), {"t": "2023-06-01T09:00:00+07:00", "c": change, "v": first})
    _, second = _parcel(conn, parcel_id=parcel_id, since="2023-06-01T09:00:00+07:00",
                        change=change, geom=SHIFTED)

    def as_of(day: str) -> list[int]:
        return list(conn.execute(sa.text(
            "SELECT version_id FROM parcels_as_of(CAST(:t AS timestamptz)) "
            "WHERE parcel_id = :p"), {"t": day, "p": parcel_id}).scalars())

    assert as_of("2018-12-31T00:00:00+07:00") == []
    assert as_of("2020-05-05T00:00:00+07:00") == [first]
    assert as_of("2023-06-01T08:59:59+07:00") == [first]
    assert as_of("2023-06-01T09:00:00+07:00") == [second]
    current = conn.execute(sa.text("SELECT version_id FROM current_parcel WHERE parcel_id = :p"),
                           {"p": parcel_id}).scalars().all()
    assert current == [second]
