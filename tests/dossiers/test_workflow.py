"""Dossiers: routing with delegations, intake (code, appointment, idempotency), every
transition and refusal, pauses moving the appointment, apology letters, feedback, and the
KPI arithmetic on a seeded month."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from cadastre.access import Role
from cadastre.dossiers import calendar, feedback, reports, service
from cadastre.dossiers.service import Applicant, Intake, StaleDossier, TransitionRefused
from cadastre.errors import Forbidden, InvalidInput

PROVINCE, WARD, OTHER_WARD = "VPDK.HN", "UBND.00037", "UBND.00040"
TRANSFER_DOCS = ["Đơn đăng ký biến động (Mẫu 11/ĐK)", "Hợp đồng chuyển nhượng công chứng",
                 "Giấy chứng nhận bản gốc"]


@pytest.fixture
def offices(conn):
    # the wards 00037 and 00040 (Phúc Tân, Đồng Xuân, before 2025) are among the units
    # `db init` loads
    conn.execute(sa.text("""
        INSERT INTO office (code, name, level, province_code, commune_code) VALUES
        ('VPDK.HN', 'Văn phòng đăng ký đất đai Hà Nội', 'province', '01', NULL),
        ('UBND.00037', 'UBND phường Phúc Tân', 'commune', '01', '00037'),
        ('UBND.00040', 'UBND phường Đồng Xuân', 'commune', '01', '00040')"""))
    # The workflow alone: these transfers' approvals apply no register change (that an
    # approval applies it is tests/api/test_approval_applies.py).
    conn.execute(sa.text("UPDATE procedure SET operations = '{}', operation = NULL "
                         "WHERE code = 'CHUYEN-NHUONG'"))


def _intake(**overrides):
    values = dict(procedure_code="CHUYEN-NHUONG", received_by_office=PROVINCE,
                  applicant=Applicant("Nguyễn Văn An", "001085012345", "0912345678",
                                      "Số 5 Hàng Bạc"),
                  commune_code="00037", documents=TRANSFER_DOCS)
    values.update(overrides)
    return Intake(**values)


def test_intake_gives_a_code_per_office_and_day_and_the_appointment(conn, offices):
    first, new = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 27))
    second, _ = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 27))
    assert new
    assert first["code"] == "VPDK.HN.261127.0001"
    assert second["code"] == "VPDK.HN.261127.0002"
    assert first["due_date"] == date(2026, 12, 9)  # 8 working days from Fri 27/11
    assert first["handling_office"] == PROVINCE
    assert [e["to_status"] for e in first["events"]] == ["received"]


def test_the_same_idempotency_key_creates_one_dossier(conn, offices):
    one, new = service.receive(conn, _intake(idempotency_key="click-1"), actor="clerk")
    two, again = service.receive(conn, _intake(idempotency_key="click-1"), actor="clerk")
    assert new and not again
    assert one["code"] == two["code"]
    assert conn.execute(sa.text("SELECT count(*) FROM dossier")).scalar_one() == 1


def test_intake_refusals(conn, offices):
    with pytest.raises(InvalidInput, match="unknown procedure"):
        service.receive(conn, _intake(procedure_code="NOPE"), actor="clerk")
    with pytest.raises(InvalidInput, match="documents missing"):
        service.receive(conn, _intake(documents=TRANSFER_DOCS[:1]), actor="clerk")
    # a ward counter receiving a ward procedure for another ward, without delegation
    with pytest.raises(Forbidden, match="does not serve commune 00040"):
        service.receive(conn, _intake(procedure_code="TRICH-LUC", received_by_office=WARD,
                                      commune_code="00040", documents=[
                                          "Phiếu yêu cầu cung cấp dữ liệu đất đai"]),
                        actor="clerk")
    assert conn.execute(sa.text("SELECT count(*) FROM dossier")).scalar_one() == 0


def test_delegation_routes_to_the_delegate_while_valid(conn, offices):
    conn.execute(sa.text(
        "WITH d AS (INSERT INTO delegation (from_office, to_office, valid_from, valid_to, "
        "decision_number) VALUES ('UBND.00040', 'UBND.00037', '2026-11-01', '2026-11-30', "
        "'QĐ 12/UQ') RETURNING id) "
        "INSERT INTO delegation_procedure SELECT id, 'TRICH-LUC' FROM d"))
    intake = _intake(procedure_code="TRICH-LUC", received_by_office=WARD, commune_code="00040",
                     documents=["Phiếu yêu cầu cung cấp dữ liệu đất đai"])
    during, _ = service.receive(conn, intake, actor="clerk", today=date(2026, 11, 27))
    assert during["handling_office"] == WARD
    with pytest.raises(Forbidden):
        service.receive(conn, intake, actor="clerk", today=date(2026, 12, 1))


def _move(conn, dossier, to, role=Role.LAND_OFFICER, **kw):
    return service.transition(conn, dossier["code"], to, role=role, actor=role.value,
                              expected_version=dossier["row_version"], **kw)


def test_a_full_path_with_supplement_and_tax_notice(conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk")
    d = _move(conn, d, "in_processing", Role.COUNTER_CLERK)
    d = _move(conn, d, "supplement_requested")
    d = _move(conn, d, "received_back", Role.COUNTER_CLERK)
    d = _move(conn, d, "in_processing")
    d = _move(conn, d, "tax_notice")
    d = _move(conn, d, "approved")
    d = _move(conn, d, "result_ready")
    d = _move(conn, d, "returned", Role.COUNTER_CLERK, rating=5, rating_comment="Nhanh")
    assert [e["to_status"] for e in d["events"]] == [
        "received", "in_processing", "supplement_requested", "received_back",
        "in_processing", "tax_notice", "approved", "result_ready", "returned"]
    assert d["rating"] == 5 and d["returned_at"] is not None


def test_refused_transitions_say_what_is_allowed(conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk")
    with pytest.raises(TransitionRefused, match="allowed: in_processing, rejected, "
                                                "supplement_requested") as caught:
        _move(conn, d, "approved")
    assert caught.value.context["allowed"] == ["in_processing", "rejected",
                                               "supplement_requested"]
    with pytest.raises(TransitionRefused, match="not allowed for gis_analyst"):
        _move(conn, d, "in_processing", Role.GIS_ANALYST)
    with pytest.raises(InvalidInput, match="rejection needs its reasons"):
        _move(conn, d, "rejected")
    extract, _ = service.receive(conn, _intake(
        procedure_code="TRICH-LUC", received_by_office=WARD,
        documents=["Phiếu yêu cầu cung cấp dữ liệu đất đai"]), actor="clerk")
    extract = _move(conn, extract, "in_processing", Role.COUNTER_CLERK)
    with pytest.raises(TransitionRefused, match="TRICH-LUC has no tax step"):
        _move(conn, extract, "tax_notice")
    with pytest.raises(StaleDossier):
        service.transition(conn, d["code"], "in_processing", role=Role.COUNTER_CLERK,
                           actor="x", expected_version=d["row_version"] + 5)
    with pytest.raises(StaleDossier, match="If-Match"):
        service.transition(conn, d["code"], "in_processing", role=Role.COUNTER_CLERK,
                           actor="x", expected_version=None)


def test_an_approval_that_would_change_nothing_is_refused(conn, offices):
    conn.execute(sa.text("UPDATE procedure SET operations = '{transfer}', "
                         "operation = 'transfer' WHERE code = 'CHUYEN-NHUONG'"))
    d, _ = service.receive(conn, _intake(), actor="clerk")
    d = _move(conn, d, "in_processing")
    with pytest.raises(InvalidInput, match=r"the approval of CHUYEN-NHUONG applies its "
                                           r"register change \(transfer\)"):
        _move(conn, d, "approved")
    assert service.get(conn, d["code"])["status"] == "in_processing"


def _wait_for_a_supplement(conn, code):
    """Waiting for a supplement from Wed 4/11 until it came back on Fri 6/11 (2026)."""
    conn.execute(sa.text(
        "INSERT INTO dossier_event (dossier_id, at, from_status, to_status, actor) "
        "SELECT id, timestamptz '2026-11-04T10:00+07', 'received', 'supplement_requested', 'officer' "
        "FROM dossier WHERE code = :c UNION ALL "
        "SELECT id, timestamptz '2026-11-06T15:00+07', 'supplement_requested', 'received_back', 'clerk' "
        "FROM dossier WHERE code = :c"), {"c": code})


def test_time_waiting_for_a_supplement_moves_the_appointment(conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 2))
    assert d["due_date"] == date(2026, 11, 12)
    conn.execute(sa.text("UPDATE dossier SET received_at = '2026-11-02T09:00+07' "
                         "WHERE code = :c"), {"c": d["code"]})
    _wait_for_a_supplement(conn, d["code"])
    service._recompute_due(conn, d["code"])
    # 8 working days without Wed 4, Thu 5 and Fri 6: Tue 3, Mon 9 .. Tue 17
    assert service.get(conn, d["code"])["due_date"] == date(2026, 11, 17)


def test_several_pauses_each_move_the_due_date_and_a_catalogue_edit_does_not(
        conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 2))
    assert d["statutory_days"] == 8 and d["due_date"] == date(2026, 11, 12)
    conn.execute(sa.text("UPDATE dossier SET received_at = '2026-11-02T09:00+07' "
                         "WHERE code = :c"), {"c": d["code"]})
    _wait_for_a_supplement(conn, d["code"])  # Wed 4 .. Fri 6
    conn.execute(sa.text(  # then the land taxes, from Tue 10 until paid on Thu 12
        "INSERT INTO dossier_event (dossier_id, at, from_status, to_status, actor) "
        "SELECT id, timestamptz '2026-11-10T08:00+07', 'in_processing', 'tax_notice', 'o' "
        "FROM dossier WHERE code = :c UNION ALL "
        "SELECT id, timestamptz '2026-11-12T16:00+07', 'tax_notice', 'approved', 'o' "
        "FROM dossier WHERE code = :c"), {"c": d["code"]})
    # the catalogue's time changes after intake: the dossier keeps the time it was given
    conn.execute(sa.text("UPDATE procedure SET working_days = 3 WHERE code = 'CHUYEN-NHUONG'"))
    service._recompute_due(conn, d["code"])
    # 8 working days without 4, 5, 6 and 10, 11, 12: Tue 3, Mon 9, Fri 13, Mon 16 .. Fri 20
    assert service.get(conn, d["code"])["due_date"] == date(2026, 11, 20)


def test_staff_act_for_their_office(conn, offices):
    """The office the database proves for the caller (a command names it in
    cadastre.office): a counter receives at itself, an office acts on what it handles."""
    d, _ = service.receive(conn, _intake(), actor="clerk")  # a command: province-wide
    conn.execute(sa.text("SELECT set_config('cadastre.office', 'UBND.00037', true)"))
    with pytest.raises(Forbidden, match="receive dossiers at UBND.00037, not at VPDK.HN"):
        service.receive(conn, _intake(), actor="clerk")
    own, _ = service.receive(conn, _intake(received_by_office=None, procedure_code="TRICH-LUC",
                                           documents=["Phiếu yêu cầu cung cấp dữ liệu đất đai"]),
                             actor="clerk")
    assert own["received_by_office"] == own["handling_office"] == WARD
    with pytest.raises(Forbidden, match="does not handle dossier"):
        _move(conn, d, "in_processing")
    moved = _move(conn, own, "in_processing")
    assert moved["events"][-1]["office_code"] == WARD


def test_the_days_of_a_dossier_are_days_in_viet_nam_whatever_the_server_s_zone(conn, offices):
    conn.execute(sa.text("SET LOCAL TimeZone = 'UTC'"))
    d, _ = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 2))
    # Monday 2 November at 06:30 in Hà Nội is still Sunday 1 November in UTC
    conn.execute(sa.text("UPDATE dossier SET received_at = '2026-11-02T06:30+07' "
                         "WHERE code = :c"), {"c": d["code"]})
    _wait_for_a_supplement(conn, d["code"])
    service._recompute_due(conn, d["code"])
    # counted from Monday 2 (a Sunday reception would give Monday 16)
    assert service.get(conn, d["code"])["due_date"] == date(2026, 11, 17)
    # and today is the database's today in Việt Nam, not the session's or Python's
    now = conn.execute(sa.text("SELECT now()")).scalar_one()
    assert calendar.office_today(conn) == calendar.office_day(now)


def test_apology_letter_promises_a_later_date_and_keeps_the_statutory_one(conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 27))
    assert d["due_date"] == date(2026, 12, 9)
    on_time = dict(new_due=date(2026, 12, 18), reason="x", actor="a")
    with pytest.raises(service.NotLate, match="on time: due on 2026-12-09"):
        service.apologise(conn, d["code"], **on_time, expected_version=d["row_version"],
                          today=date(2026, 12, 7))  # two working days before: on time
    late = dict(expected_version=d["row_version"], today=date(2026, 12, 8))
    with pytest.raises(InvalidInput, match="must be after"):
        service.apologise(conn, d["code"], new_due=date(2026, 12, 9), reason="x",
                          actor="a", **late)
    with pytest.raises(InvalidInput, match="closed on 2026-12-19"):
        service.apologise(conn, d["code"], new_due=date(2026, 12, 19), reason="x",
                          actor="a", **late)
    with pytest.raises(InvalidInput, match=r"closed on 2027-01-01 \(Tết Dương lịch\)"):
        service.apologise(conn, d["code"], new_due=date(2027, 1, 1), reason="x", actor="a",
                          **late)
    d = service.apologise(conn, d["code"], new_due=date(2026, 12, 18),
                          reason="Chờ kết quả đo đạc", actor="clerk", **late)
    assert d["due_date"] == date(2026, 12, 9)  # the statutory date stays
    assert d["promised_date"] == date(2026, 12, 18)
    assert d["apologies"][0]["previous_due"] == date(2026, 12, 9)
    assert service.public_view(d)["appointment"] == date(2026, 12, 18)
    # a second letter promises later still, after the first one's date
    again = dict(expected_version=d["row_version"], today=date(2026, 12, 17))
    with pytest.raises(InvalidInput, match="after the appointment 2026-12-18"):
        service.apologise(conn, d["code"], new_due=date(2026, 12, 18), reason="x",
                          actor="a", **again)
    d = service.apologise(conn, d["code"], new_due=date(2026, 12, 22), reason="Chờ ký",
                          actor="a", **again)
    assert (d["due_date"], d["promised_date"]) == (date(2026, 12, 9), date(2026, 12, 22))
    assert d["apologies"][1]["previous_due"] == date(2026, 12, 18)


def test_no_apology_while_the_clock_is_stopped_or_after_the_result(conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk", today=date(2026, 11, 27))
    d = _move(conn, d, "supplement_requested")
    with pytest.raises(service.NotLate, match="waits for the citizen"):
        service.apologise(conn, d["code"], new_due=date(2026, 12, 18), reason="x",
                          actor="a", expected_version=d["row_version"],
                          today=date(2026, 12, 14))
    d = _move(conn, d, "received_back", Role.COUNTER_CLERK)
    d = _move(conn, d, "in_processing")
    d = _move(conn, d, "approved")
    with pytest.raises(service.NotLate, match="resolved"):
        service.apologise(conn, d["code"], new_due=date(2026, 12, 28), reason="x",
                          actor="a", expected_version=d["row_version"],
                          today=date(2026, 12, 24))


def verifies(conn, dossier, digits):
    """Whether the digits prove the applicant, as the database decides it for the API."""
    return conn.execute(sa.text("SELECT dossier_verifies(:c, :v)"),
                        {"c": dossier["code"], "v": digits}).scalar_one()


def test_citizen_view_has_no_personal_data_and_needs_the_digits(conn, offices):
    d, _ = service.receive(conn, _intake(), actor="clerk")
    assert verifies(conn, d, "5678") and verifies(conn, d, "2345")
    assert not verifies(conn, d, "0000") and not verifies(conn, d, "56a8")
    view = service.public_view(d)
    text = str(view)
    for secret in ("Nguyễn Văn An", "001085012345", "0912345678", "Hàng Bạc", "clerk"):
        assert secret not in text


def test_feedback_needs_a_contact_and_is_answered(conn, offices):
    with pytest.raises(InvalidInput, match="phone number or an e-mail"):
        feedback.record(conn, feedback.FeedbackIn("web", "Chậm", "Hồ sơ chậm"),
                        today=date(2026, 11, 27))
    item = feedback.record(conn, feedback.FeedbackIn("hotline", "Chậm", "Hồ sơ chậm",
                                                     contact_phone="0987654321"),
                           today=date(2026, 11, 27))
    assert item["answer_due"] == date(2026, 12, 11)
    answered = feedback.answer(conn, item["code"], "Đã xử lý", actor="clerk")
    assert answered["answer"] == "Đã xử lý"
    with pytest.raises(InvalidInput, match="already answered"):
        feedback.answer(conn, item["code"], "again", actor="clerk")


def test_kpi_arithmetic_on_a_seeded_month(conn, offices):
    """Seven dossiers received in November 2026, each given 10 working days: 2 early, 2 on
    time (one of them after waiting 3 working days for a supplement), 1 late, 1 overdue, 1
    still in time; ratings 5, 4, 2."""
    cases = [  # received, due (moved by the pauses), result day, rating
        ("2026-11-02", "2026-11-16", "2026-11-10", 5),
        ("2026-11-03", "2026-11-17", "2026-11-12", 4),
        ("2026-11-04", "2026-11-18", "2026-11-18", None),
        ("2026-11-05", "2026-11-19", "2026-11-25", 2),
        ("2026-11-06", "2026-11-20", None, None),
        ("2026-11-26", "2026-12-10", None, None),
        ("2026-11-02", "2026-11-19", "2026-11-19", None),  # 16 + 3 paused working days
    ]
    for received, due, result, rating in cases:
        d, _ = service.receive(conn, _intake(), actor="clerk")
        conn.execute(sa.text(
            "UPDATE dossier SET received_at = CAST(:r AS date) + time '09:00', due_date = :d, "
            "result_at = CAST(:x AS date) + time '15:00', rating = :rating, "
            "statutory_days = 10, "
            "status = CASE WHEN :x IS NULL THEN 'in_processing' ELSE 'returned' END "
            "WHERE code = :c"),
            {"r": received, "d": due, "x": result, "rating": rating, "c": d["code"]})
    (row,) = reports.kpis(conn, start=date(2026, 11, 1), end=date(2026, 11, 30),
                          today=date(2026, 11, 27))
    assert row["received"] == 7
    assert (row["resolved_early"], row["resolved_on_time"], row["resolved_late"]) == (2, 2, 1)
    assert row["on_time_rate"] == 0.8
    assert row["overdue_now"] == 1
    assert row["satisfaction"] == pytest.approx(3.67, abs=0.01)
    # working days taken, the waits not counted: 6, 7, 10, 13 (Tue 24/11/2026, Vietnam
    # Culture Day, is off) and 10 (13 from reception to result, 3 of them waiting) -> 9.2
    assert row["average_working_days"] == 9.2


def _path_to(state: str) -> list[str]:
    """The shortest way from received to a state through the workflow table."""
    from collections import deque

    queue, seen = deque([("received", [])]), {"received"}
    while queue:
        here, path = queue.popleft()
        if here == state:
            return path
        for frm, to in service.TRANSITIONS:
            if frm == here and to not in seen:
                seen.add(to)
                queue.append((to, [*path, to]))
    raise AssertionError(f"{state} is unreachable")


@pytest.mark.parametrize(("frm", "to"), sorted(service.TRANSITIONS))
def test_every_transition_with_its_roles(conn, offices, frm, to):
    d, _ = service.receive(conn, _intake(), actor="clerk")
    for step in _path_to(frm):
        note = "Lý do từ chối" if step == "rejected" else None
        d = _move(conn, d, step, Role.ADMIN, note=note)
    allowed = service.TRANSITIONS[(frm, to)]
    refused = [r for r in Role if r not in allowed]
    for role in refused:
        with pytest.raises(TransitionRefused):
            _move(conn, d, to, role, note="Lý do")
    role = sorted(allowed, key=lambda r: r.value)[0]
    moved = _move(conn, d, to, role, note="Lý do")
    assert moved["status"] == to
    assert moved["events"][-1]["from_status"] == frm
