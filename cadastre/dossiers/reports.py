"""KPIs of the one-stop service (what the PAR Index and SIPAS look at): received,
resolved early / on time / late, on-time rate, overdue now, average working days,
feedback answered on time, average satisfaction, by office and month."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.dossiers.calendar import load_calendar, office_today, working_days_between

KPI_SQL = """
WITH d AS (
    SELECT d.handling_office, d.received_at, d.due_date, d.status, d.rating,
           to_char(d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS month,
           (d.result_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS result_day
    FROM dossier d
    WHERE (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN :from AND :to
      AND (:office IS NULL OR d.handling_office = :office)
      AND (:procedure IS NULL OR d.procedure_code = :procedure))
SELECT handling_office AS office, month,
       count(*) AS received,
       count(*) FILTER (WHERE result_day < due_date) AS resolved_early,
       count(*) FILTER (WHERE result_day = due_date) AS resolved_on_time,
       count(*) FILTER (WHERE result_day > due_date) AS resolved_late,
       count(*) FILTER (WHERE result_day IS NULL AND status NOT IN ('returned', 'withdrawn')
                        AND due_date < :today) AS overdue_now,
       round(avg(rating) FILTER (WHERE rating IS NOT NULL), 2) AS satisfaction,
       count(rating) AS ratings,
       array_agg(ARRAY[to_char(received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD'),
                       to_char(result_day, 'YYYY-MM-DD')])
           FILTER (WHERE result_day IS NOT NULL) AS spans
FROM d GROUP BY handling_office, month ORDER BY handling_office, month
"""

FEEDBACK_SQL = """
SELECT office_code AS office,
       to_char(received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS month,
       count(*) AS feedback,
       count(*) FILTER (WHERE answered_at IS NOT NULL
                        AND (answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= answer_due)
           AS answered_on_time
FROM feedback
WHERE (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN :from AND :to
  AND (:office IS NULL OR office_code = :office)
GROUP BY 1, 2
"""


def kpis(conn: Connection, *, start: date, end: date, office: str | None = None,
         procedure: str | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """KPIs per office and month (``today``, the day "overdue now" is judged on: the
    database's, in Việt Nam)."""
    today = today or office_today(conn)
    params = {"from": start, "to": end, "office": office, "procedure": procedure,
              "today": today}
    calendar = load_calendar(conn)
    feedback = {(r.office, r.month): r for r in conn.execute(sa.text(FEEDBACK_SQL), params)}
    rows = []
    for r in conn.execute(sa.text(KPI_SQL), params).mappings():
        resolved = r["resolved_early"] + r["resolved_on_time"] + r["resolved_late"]
        days = [working_days_between(calendar, date.fromisoformat(a), date.fromisoformat(b))
                for a, b in (r["spans"] or [])]
        f = feedback.get((r["office"], r["month"]))
        rows.append({
            "office": r["office"], "month": r["month"], "received": r["received"],
            "resolved": resolved, "resolved_early": r["resolved_early"],
            "resolved_on_time": r["resolved_on_time"], "resolved_late": r["resolved_late"],
            "on_time_rate": round((r["resolved_early"] + r["resolved_on_time"]) / resolved, 4)
            if resolved else None,
            "overdue_now": r["overdue_now"],
            "average_working_days": round(sum(days) / len(days), 2) if days else None,
            "feedback": f.feedback if f else 0,
            "feedback_answered_on_time": f.answered_on_time if f else 0,
            "satisfaction": float(r["satisfaction"]) if r["satisfaction"] is not None else None,
            "ratings": r["ratings"],
        })
    return rows
