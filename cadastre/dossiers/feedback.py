"""Citizens' feedback and complaints (phản ánh, kiến nghị): recorded from any channel,
routed to an office with an answer deadline in working days, queued for that office's staff
(assigned to one of them, answered), flagged overdue past its deadline, and visible to the
citizen by its code. The contact (name, phone, e-mail) is personal data: read through
``feedback_contact_visible``, by the staff roles that see names, never by the public."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import Role
from cadastre.dossiers import offices
from cadastre.dossiers.calendar import add_working_days, load_calendar, office_today
from cadastre.errors import Conflict, Forbidden, InvalidInput, NotFound

#: The queue's filters: open (not answered yet, overdue or not), overdue (not answered and
#: past its answer date), answered.
STATUSES = ("open", "overdue", "answered")


class FeedbackNotFound(NotFound):
    code = "feedback-not-found"


@dataclass(frozen=True, slots=True)
class FeedbackIn:
    channel: str
    subject: str
    body: str
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    dossier_code: str | None = None
    office_code: str | None = None


def record(conn: Connection, item: FeedbackIn, *, today: date | None = None) -> dict[str, Any]:
    """File a citizen's feedback with the office that answers it and its answer date
    (``today``: the database's, in Việt Nam). Returns what the citizen may see of it."""
    if not (item.contact_phone or item.contact_email):
        raise InvalidInput("feedback needs a phone number or an e-mail for the answer")
    office = item.office_code
    if item.dossier_code:
        office = conn.execute(sa.text(
            "SELECT handling_office FROM dossier WHERE code = :c"),
            {"c": item.dossier_code}).scalar()
        if office is None:
            raise InvalidInput(f"no dossier {item.dossier_code}")
    elif office is not None and not conn.execute(sa.text(
            "SELECT 1 FROM office WHERE code = :c"), {"c": office}).scalar():
        raise InvalidInput(f"unknown office {office!r}", hint="see GET /api/v1/offices")
    if office is None:
        office = conn.execute(sa.text(
            "SELECT code FROM office WHERE level = 'province' ORDER BY code LIMIT 1")).scalar()
    if office is None:
        raise InvalidInput("no office to route the feedback to")
    days = int(conn.execute(sa.text(
        "SELECT value FROM calendar_setting WHERE name = 'feedback_answer_days'")).scalar_one())
    today = today or office_today(conn)
    due = add_working_days(load_calendar(conn), today, days).due
    code = "PA" + today.strftime("%y%m%d") + secrets.token_hex(3).upper()
    conn.execute(sa.text(
        "INSERT INTO feedback (code, channel, subject, body, dossier_code, contact_name, "
        "contact_phone, contact_email, office_code, received_at, answer_due) VALUES (:code, "
        ":ch, :s, :b, :d, :n, :p, :e, :o, office_now(), :due)"),
        {"code": code, "ch": item.channel, "s": item.subject, "b": item.body,
         "d": item.dossier_code, "n": item.contact_name, "p": item.contact_phone,
         "e": item.contact_email, "o": office, "due": due})
    return view(conn, code)


#: What anybody may see of a feedback (no contact, no staff names).
_PUBLIC = ("code, channel, subject, received_at, answer_due, answered_at, answer, "
           "office_code, dossier_code")
#: What staff see: the text, the assignment and who answered, and the contact as the role
#: may see it (feedback_contact_visible).
_STAFF = """
SELECT f.code, f.channel, f.subject, f.body, f.dossier_code, f.office_code, f.received_at,
       f.answer_due, f.assigned_to, f.assigned_at, f.assigned_by, f.answered_at, f.answer,
       f.answered_by, c.contact_name, c.contact_phone, c.contact_email,
       f.answered_at IS NULL AND f.answer_due < :today AS overdue,
       (f.answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date > f.answer_due AS answered_late
FROM feedback f JOIN feedback_contact_visible c ON c.id = f.id
"""


def view(conn: Connection, code: str) -> dict[str, Any]:
    """A feedback without its contact: what the citizen is shown."""
    row = conn.execute(sa.text(f"SELECT {_PUBLIC} FROM feedback WHERE code = :c"),
                       {"c": code}).mappings().first()
    if row is None:
        raise FeedbackNotFound(f"no feedback {code}")
    return dict(row)


def verified_view(conn: Connection, code: str, digits: str) -> dict[str, Any]:
    """The feedback for a citizen who proved it is theirs with the last 4 digits of the
    phone number they gave, and with nothing else (not the e-mail: ``.com`` ends most of
    them). The same 404 for an unknown code and wrong digits; feedback left with an e-mail
    only cannot be looked up."""
    proved = conn.execute(sa.text("SELECT feedback_verifies(:c, :v)"),
                          {"c": code, "v": digits}).scalar_one()
    if not proved:
        raise FeedbackNotFound("no feedback with this code and digits")
    return view(conn, code)


def staff_view(conn: Connection, code: str, *, today: date | None = None) -> dict[str, Any]:
    """A feedback with its text, assignment and answer, and its contact as the caller's
    role may see it."""
    row = conn.execute(sa.text(_STAFF + "WHERE f.code = :c"),
                       {"c": code, "today": today or office_today(conn)}).mappings().first()
    if row is None:
        raise FeedbackNotFound(f"no feedback {code}")
    return dict(row)


def queue(conn: Connection, *, office: str | None, status: str = "open",
          today: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The feedback of ``office`` (None: every office) in ``status`` (open, overdue,
    answered), the oldest answer date first for the open ones, the latest answer first for
    the answered ones."""
    if status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}, not {status!r}")
    where = {"open": "f.answered_at IS NULL",
             "overdue": "f.answered_at IS NULL AND f.answer_due < :today",
             "answered": "f.answered_at IS NOT NULL"}[status]
    order = ("f.answered_at DESC, f.code" if status == "answered"
             else "f.answer_due, f.received_at, f.code")
    rows = conn.execute(sa.text(
        _STAFF + f"WHERE {where} AND (CAST(:o AS text) IS NULL OR f.office_code = :o) "
        f"ORDER BY {order} LIMIT :limit"),
        {"o": office, "today": today or office_today(conn), "limit": limit}).mappings()
    return [dict(r) for r in rows]


def _lock(conn: Connection, code: str) -> sa.Row[Any]:
    row = conn.execute(sa.text(
        "SELECT code, office_code, assigned_to, answered_at FROM feedback WHERE code = :c "
        "FOR UPDATE"), {"c": code}).first()
    if row is None:
        raise FeedbackNotFound(f"no feedback {code}")
    return row


def _check_office(conn: Connection, row: sa.Row[Any]) -> str | None:
    """Staff answer and assign the feedback of their own office (admins: any)."""
    acting = offices.acting_office(conn)
    if acting is not None and acting != row.office_code:
        raise offices.WrongOffice(f"feedback {row.code} is answered by office "
                                  f"{row.office_code}, not {acting}")
    return acting


def assign(conn: Connection, code: str, *, assignee: str) -> dict[str, Any]:
    """Give an open feedback to a staff member of its office to answer (again: to
    another)."""
    row = _lock(conn, code)
    _check_office(conn, row)
    if row.answered_at is not None:
        raise Conflict(f"feedback {code} is answered already")
    account = conn.execute(sa.text("SELECT * FROM staff_account(:u)"),
                           {"u": assignee}).first()
    if account is None or account.role == Role.ADMIN.value:
        raise InvalidInput(f"{assignee!r} is no active counter clerk, land officer or "
                           "supervisor")
    if account.office_code != row.office_code:
        raise InvalidInput(f"{assignee} works at office {account.office_code}, not at "
                           f"{row.office_code}, which answers feedback {code}")
    conn.execute(sa.text(
        "UPDATE feedback SET assigned_to = :u, assigned_at = office_now(), assigned_by = "
        "proven_actor() WHERE code = :c"), {"u": assignee, "c": code})
    return staff_view(conn, code)


def answer(conn: Connection, code: str, text: str, *, actor: str,
           role: Role | None = None) -> dict[str, Any]:
    """Answer a feedback once: staff of its office; when it is assigned, its assignee, a
    supervisor or an admin."""
    if not text.strip():
        raise InvalidInput("an answer cannot be empty")
    row = _lock(conn, code)
    _check_office(conn, row)
    if row.answered_at is not None:
        raise InvalidInput(f"feedback {code} is already answered")
    if (row.assigned_to is not None and row.assigned_to != actor
            and role not in (None, Role.SUPERVISOR, Role.ADMIN)):
        raise Forbidden(f"feedback {code} is assigned to {row.assigned_to}",
                        hint="the assignee or a supervisor answers it")
    conn.execute(sa.text(
        "UPDATE feedback SET answer = :a, answered_at = office_now(), answered_by = :who "
        "WHERE code = :c"), {"a": text, "who": actor, "c": code})
    return staff_view(conn, code)
