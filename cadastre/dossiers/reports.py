"""KPIs of the one-stop service (what the PAR Index and SIPAS look at): received, resolved
early / on time / late / late with an apology letter, on-time rate, overdue now, average
working days, feedback (received, answered, on time, overdue), average satisfaction, by
office and month.

A dossier is measured against its statutory due date (reception + the procedure's working
days, moved only by the days spent waiting for the citizen), never against the date an
apology letter promised: resolved after it, it is late, and counted "late, with apology"
when a letter was issued. A dossier whose clock is stopped (waiting for a supplement or for
the citizen's tax payment) is not overdue while it waits, and its average working days do
not count the days it waited."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.dossiers.calendar import (
    WorkingCalendar,
    load_calendar,
    office_today,
    working_days_between,
)
from cadastre.dossiers.service import RUNNING_STATES

#: The columns of a KPI row, in order (the JSON's keys and the CSV's header).
KPI_FIELDS = ("office", "month", "received", "resolved", "resolved_early", "resolved_on_time",
              "resolved_late", "resolved_late_with_apology", "on_time_rate", "overdue_now",
              "average_working_days", "feedback", "feedback_answered",
              "feedback_answered_on_time", "feedback_overdue", "satisfaction", "ratings")

KPI_SQL = """
WITH d AS (
    SELECT d.handling_office, d.received_at, d.due_date, d.status, d.rating, d.statutory_days,
           to_char(d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS month,
           (d.result_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS result_day,
           EXISTS (SELECT 1 FROM apology_letter a WHERE a.dossier_id = d.id) AS apologised
    FROM dossier d
    WHERE (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN :from AND :to
      AND (CAST(:office AS text) IS NULL OR d.handling_office = :office)
      AND (CAST(:procedure AS text) IS NULL OR d.procedure_code = :procedure))
SELECT handling_office AS office, month,
       count(*) AS received,
       count(*) FILTER (WHERE result_day < due_date) AS resolved_early,
       count(*) FILTER (WHERE result_day = due_date) AS resolved_on_time,
       count(*) FILTER (WHERE result_day > due_date AND NOT apologised) AS resolved_late,
       count(*) FILTER (WHERE result_day > due_date AND apologised)
           AS resolved_late_with_apology,
       count(*) FILTER (WHERE result_day IS NULL AND status = ANY(:running)
                        AND due_date < :today) AS overdue_now,
       round(avg(rating) FILTER (WHERE rating IS NOT NULL), 2) AS satisfaction,
       count(rating) AS ratings,
       array_agg(ARRAY[to_char(due_date, 'YYYY-MM-DD'), to_char(result_day, 'YYYY-MM-DD'),
                       statutory_days::text])
           FILTER (WHERE result_day IS NOT NULL) AS spans
FROM d GROUP BY handling_office, month ORDER BY handling_office, month
"""

FEEDBACK_SQL = """
SELECT office_code AS office,
       to_char(received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS month,
       count(*) AS feedback,
       count(*) FILTER (WHERE answered_at IS NOT NULL) AS answered,
       count(*) FILTER (WHERE answered_at IS NOT NULL
                        AND (answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= answer_due)
           AS answered_on_time,
       count(*) FILTER (WHERE answered_at IS NULL AND answer_due < :today) AS overdue
FROM feedback
WHERE (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN :from AND :to
  AND (CAST(:office AS text) IS NULL OR office_code = :office)
GROUP BY 1, 2
"""

_NO_DOSSIERS = {"received": 0, "resolved_early": 0, "resolved_on_time": 0,
                "resolved_late": 0, "resolved_late_with_apology": 0, "overdue_now": 0,
                "satisfaction": None, "ratings": 0, "spans": None}


def _working_days_taken(calendar: WorkingCalendar, due: date, result: date,
                        given: int) -> int:
    """The working days a dossier took, without the days its clock was stopped (waiting
    for a supplement or for the citizen's tax payment): the statutory due date is reception
    plus the days given, moved by every pause, so the days taken are the days given, less
    the working days it was resolved before its due date or plus those after."""
    if result <= due:
        return given - working_days_between(calendar, result, due)
    return given + working_days_between(calendar, due, result)


def kpis(conn: Connection, *, start: date, end: date, office: str | None = None,
         procedure: str | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """KPIs per office and month of reception (``today``, the day "overdue now" is judged
    on: the database's, in Việt Nam). A month with feedback and no dossier has its row (but
    no feedback row when the KPIs are of one procedure)."""
    today = today or office_today(conn)
    params = {"from": start, "to": end, "office": office, "procedure": procedure,
              "today": today, "running": list(RUNNING_STATES)}
    calendar = load_calendar(conn)
    dossiers = {(r["office"], r["month"]): dict(r)
                for r in conn.execute(sa.text(KPI_SQL), params).mappings()}
    feedback = {} if procedure else {
        (r.office, r.month): r for r in conn.execute(sa.text(FEEDBACK_SQL), params)}
    rows = []
    for key in sorted(set(dossiers) | set(feedback)):
        r = dossiers.get(key, {"office": key[0], "month": key[1], **_NO_DOSSIERS})
        resolved = (r["resolved_early"] + r["resolved_on_time"] + r["resolved_late"]
                    + r["resolved_late_with_apology"])
        days = [_working_days_taken(calendar, date.fromisoformat(due),
                                    date.fromisoformat(result), int(given))
                for due, result, given in (r["spans"] or [])]
        f = feedback.get(key)
        rows.append({
            "office": key[0], "month": key[1], "received": r["received"],
            "resolved": resolved, "resolved_early": r["resolved_early"],
            "resolved_on_time": r["resolved_on_time"], "resolved_late": r["resolved_late"],
            "resolved_late_with_apology": r["resolved_late_with_apology"],
            "on_time_rate": round((r["resolved_early"] + r["resolved_on_time"]) / resolved, 4)
            if resolved else None,
            "overdue_now": r["overdue_now"],
            "average_working_days": round(sum(days) / len(days), 2) if days else None,
            "feedback": f.feedback if f else 0,
            "feedback_answered": f.answered if f else 0,
            "feedback_answered_on_time": f.answered_on_time if f else 0,
            "feedback_overdue": f.overdue if f else 0,
            "satisfaction": float(r["satisfaction"]) if r["satisfaction"] is not None else None,
            "ratings": r["ratings"],
        })
    return rows
