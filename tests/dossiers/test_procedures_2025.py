"""The procedure catalogue of the two-level government (migration 0026): the times, levels and
legal basis of Decree 151/2025/NĐ-CP and Decision 2304/QĐ-BNNMT, the same-day registrations
of Decree 99/2022 art. 18 (cut-off hour, the extended time only with a recorded reason), a
procedure's validity, and the extra days of remote communes where they apply."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from cadastre.clock import OFFICE_ZONE, set_office_clock
from cadastre.dossiers import calendar, service
from cadastre.dossiers.service import Applicant, Intake, ProcedureNotInForce
from cadastre.errors import InvalidInput

WARD_CODE = "00070"  # Phường Hoàn Kiếm, in force since 2025-07-01
MORTGAGE_DOCS = ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp",
                 "Giấy chứng nhận bản gốc"]

#: The official values (Decree 151/2025/NĐ-CP; Decision 2304/QĐ-BNNMT; Decree 99/2022 art.
#: 18): code -> (working days, level, cut-off hour, extended days).
OFFICIAL = {
    "CHUYEN-NHUONG": (8, "province", None, None),
    "THUA-KE": (8, "province", None, None),
    "TANG-CHO": (8, "province", None, None),
    "TACH-THUA": (12, "province", None, None),
    "HOP-THUA": (12, "province", None, None),
    "CHUYEN-NHUONG-MOT-PHAN": (20, "province", None, None),  # 12 + 8 in one dossier
    "THE-CHAP": (0, "province", time(15), 3),
    "XOA-THE-CHAP": (0, "province", time(15), 3),
    "CAP-DOI": (5, "province", None, None),
    "CAP-LAI": (10, "province", None, None),
    "TRICH-LUC": (0, "commune", time(15), 2),
    "DK-LAN-DAU": (20, "commune", None, None),
    "DK-LAN-DAU-TC": (20, "province", None, None),
    "DK-LAN-DAU-DK": (17, "province", None, None),
}


@pytest.fixture
def offices(conn):
    conn.execute(sa.text(
        "INSERT INTO admin_unit (level, code, name, kind, valid_from) "
        "SELECT 'commune', :c, 'Phường Hoàn Kiếm', 'phuong', DATE '2025-07-01' "
        "WHERE NOT EXISTS (SELECT 1 FROM admin_unit WHERE level = 'commune' AND code = :c "
        "                  AND valid_to IS NULL)"), {"c": WARD_CODE})
    conn.execute(sa.text(
        "INSERT INTO office (code, name, level, province_code, commune_code) VALUES "
        "('VPDK.HN', 'Văn phòng đăng ký đất đai Hà Nội', 'province', '01', NULL), "
        "('UBND.00070', 'UBND phường Hoàn Kiếm', 'commune', '01', :c)"), {"c": WARD_CODE})


def _at(conn, moment: datetime) -> None:
    """Move the office clock so that office_now() is ``moment`` or within the second after
    it (the clock's offset is whole seconds)."""
    now = conn.execute(sa.text("SELECT now()")).scalar_one()
    set_office_clock(conn, timedelta(seconds=math.ceil((moment - now).total_seconds())))


def _mortgage(conn, **overrides):
    values = dict(procedure_code="THE-CHAP", received_by_office="VPDK.HN",
                  applicant=Applicant("Ngân hàng TMCP Ngoại thương Việt Nam", None, None, None),
                  commune_code=WARD_CODE, documents=MORTGAGE_DOCS)
    values.update(overrides)
    return service.receive(conn, Intake(**values), actor="clerk")[0]


def test_the_catalogue_has_the_times_and_levels_of_decree_151(conn):
    rows = {r.code: r for r in conn.execute(sa.text(
        "SELECT code, working_days, level, cutoff_time, extended_days, legal_basis, "
        "valid_from, remote_extra FROM procedure WHERE active"))}
    for code, (days, level, cutoff, extended) in OFFICIAL.items():
        row = rows[code]
        assert (row.working_days, row.level, row.cutoff_time, row.extended_days) == (
            days, level, cutoff, extended), code
        assert row.valid_from == date(2025, 7, 1), code
    for row in rows.values():  # every procedure offered says where its time comes from
        assert row.legal_basis and "151/2025/NĐ-CP" in row.legal_basis, row.code
    assert "99/2022/NĐ-CP" in rows["THE-CHAP"].legal_basis
    assert not rows["THE-CHAP"].remote_extra and rows["DK-LAN-DAU"].remote_extra
    operations = dict(conn.execute(sa.text(
        "SELECT code, operations FROM procedure WHERE code IN ('CAP-DOI', 'CAP-LAI')")).all())
    assert operations == {"CAP-DOI": ["certificate_exchange"],
                          "CAP-LAI": ["certificate_reissue"]}


def test_a_mortgage_received_before_the_cut_off_is_due_the_same_day(conn, offices):
    _at(conn, datetime(2026, 12, 8, 10, 30, tzinfo=OFFICE_ZONE))  # a Tuesday morning
    d = _mortgage(conn)
    assert (d["statutory_days"], d["due_date"]) == (0, date(2026, 12, 8))


@pytest.mark.parametrize(("moment", "due"), [
    (datetime(2026, 12, 8, 15, 0), date(2026, 12, 9)),    # at 15:00: the next working day
    (datetime(2026, 12, 4, 16, 45), date(2026, 12, 7)),   # Friday afternoon: Monday
    (datetime(2026, 12, 5, 9, 0), date(2026, 12, 7)),     # online on a Saturday: Monday
    (datetime(2026, 8, 21, 16, 0), date(2026, 8, 22)),    # Saturday 22/8/2026 is worked
])
def test_after_the_cut_off_or_on_a_day_off_it_is_due_the_next_working_day(
        conn, offices, moment, due):
    _at(conn, moment.replace(tzinfo=OFFICE_ZONE))
    d = _mortgage(conn)
    assert (d["statutory_days"], d["due_date"]) == (1, due)


def test_three_days_only_with_a_recorded_reason(conn, offices):
    _at(conn, datetime(2026, 12, 8, 10, 0, tzinfo=OFFICE_ZONE))
    reason = "Phải xác minh thông tin về tài sản bảo đảm"
    d = _mortgage(conn, deadline_reason=reason)
    assert (d["statutory_days"], d["due_date"], d["deadline_reason"]) == (
        3, date(2026, 12, 11), reason)
    with pytest.raises(InvalidInput, match="CHUYEN-NHUONG has no extended time"):
        _mortgage(conn, procedure_code="CHUYEN-NHUONG", deadline_reason=reason, documents=[
            "Đơn đăng ký biến động (Mẫu 11/ĐK)", "Hợp đồng chuyển nhượng công chứng",
            "Giấy chứng nhận bản gốc"])


def test_remote_communes_get_ten_days_more_but_not_for_a_same_day_registration(
        conn, offices):
    conn.execute(sa.text("UPDATE admin_unit SET remote = true WHERE level = 'commune' "
                         "AND code = :c AND valid_to IS NULL"), {"c": WARD_CODE})
    _at(conn, datetime(2026, 12, 8, 10, 0, tzinfo=OFFICE_ZONE))
    assert _mortgage(conn)["statutory_days"] == 0
    first = _mortgage(conn, procedure_code="DK-LAN-DAU", received_by_office="UBND.00070",
                      documents=["Đơn đăng ký (Mẫu 04/ĐK)", "Giấy tờ về quyền sử dụng đất",
                                 "Bản sao CCCD"])
    assert first["statutory_days"] == 30 and first["handling_office"] == "UBND.00070"
    expected = calendar.add_working_days(calendar.load_calendar(conn), date(2026, 12, 8), 30)
    assert first["due_date"] == expected.due


def test_a_procedure_out_of_force_is_not_received(conn, offices):
    _at(conn, datetime(2026, 12, 8, 10, 0, tzinfo=OFFICE_ZONE))
    conn.execute(sa.text("UPDATE procedure SET valid_to = '2026-11-30' WHERE code = 'THE-CHAP'"))
    with pytest.raises(ProcedureNotInForce, match="THE-CHAP ended on 2026-11-30"):
        _mortgage(conn)
    conn.execute(sa.text("UPDATE procedure SET valid_to = NULL, valid_from = '2027-01-01' "
                         "WHERE code = 'THE-CHAP'"))
    with pytest.raises(ProcedureNotInForce, match="in force from 2027-01-01"):
        _mortgage(conn)
    offered = {p["code"] for p in service.catalogue.active_procedures(conn)}
    assert "THE-CHAP" not in offered and "CHUYEN-NHUONG" in offered


def test_same_day_days_by_the_calendar():
    cal = calendar.WorkingCalendar({date(2026, 9, 2): "Quốc khánh"}, years=frozenset({2026}))
    at = lambda d, h: datetime.combine(d, time(h))  # noqa: E731
    assert calendar.same_day_days(cal, at(date(2026, 9, 1), 14), time(15)) == 0
    assert calendar.same_day_days(cal, at(date(2026, 9, 2), 9), time(15)) == 1  # a holiday
    with pytest.raises(calendar.NoCalendarForYear):
        calendar.same_day_days(cal, at(date(2031, 1, 2), 9), time(15))
