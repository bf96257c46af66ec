"""Citizens' feedback and complaints (phản ánh, kiến nghị): recorded from any channel,
routed to an office with an answer deadline in working days, answered, and visible to the
citizen by its code."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.dossiers.calendar import add_working_days, load_calendar, office_today
from cadastre.errors import InvalidInput, NotFound


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
    (``today``: the database's, in Việt Nam)."""
    if not (item.contact_phone or item.contact_email):
        raise InvalidInput("feedback needs a phone number or an e-mail for the answer")
    office = item.office_code
    if item.dossier_code:
        office = conn.execute(sa.text(
            "SELECT handling_office FROM dossier WHERE code = :c"),
            {"c": item.dossier_code}).scalar()
        if office is None:
            raise InvalidInput(f"no dossier {item.dossier_code}")
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
        "contact_phone, contact_email, office_code, answer_due) VALUES (:code, :ch, :s, :b, "
        ":d, :n, :p, :e, :o, :due)"),
        {"code": code, "ch": item.channel, "s": item.subject, "b": item.body,
         "d": item.dossier_code, "n": item.contact_name, "p": item.contact_phone,
         "e": item.contact_email, "o": office, "due": due})
    return view(conn, code)


def answer(conn: Connection, code: str, text: str, *, actor: str) -> dict[str, Any]:
    if not text.strip():
        raise InvalidInput("an answer cannot be empty")
    updated = conn.execute(sa.text(
        "UPDATE feedback SET answer = :a, answered_at = now(), answered_by = :who "
        "WHERE code = :c AND answered_at IS NULL"),
        {"a": text, "who": actor, "c": code}).rowcount
    if not updated:
        exists = conn.execute(sa.text("SELECT 1 FROM feedback WHERE code = :c"),
                              {"c": code}).scalar()
        if not exists:
            raise FeedbackNotFound(f"no feedback {code}")
        raise InvalidInput(f"feedback {code} is already answered")
    return view(conn, code)


_FOUR_DIGITS = re.compile(r"[0-9]{4}")


def verifies(feedback: dict[str, Any], digits: str) -> bool:
    """The citizen proves the feedback is theirs with the last 4 digits of the phone number
    they gave, and with nothing else: not the e-mail (``.com`` ends most of them), not
    letters or other characters. Feedback left with an e-mail only cannot be looked up."""
    if _FOUR_DIGITS.fullmatch(digits) is None:
        return False
    phone = "".join(c for c in feedback.get("contact_phone") or "" if c in "0123456789")
    return len(phone) >= 4 and hmac.compare_digest(phone[-4:], digits)


def view(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(sa.text(
        "SELECT code, channel, subject, received_at, answer_due, answered_at, answer, "
        "office_code, contact_phone, contact_email FROM feedback WHERE code = :c"),
        {"c": code}).mappings().first()
    if row is None:
        raise FeedbackNotFound(f"no feedback {code}")
    return dict(row)
