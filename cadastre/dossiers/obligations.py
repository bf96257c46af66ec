"""A dossier's financial obligations (nghĩa vụ tài chính): the tax authority's notices and
their payment, as the registration office records them (migration 0028).

The system does not compute what a land user owes: the tax authority does, from the office's
information sheet. The office records the notice (its number, date, authority and amounts by
kind), then the payment the land user brings (the receipt's reference, date and amount); a
dossier with an unpaid notice is neither approved nor returned (Land Law 2024 art. 135.2:
the certificate is handed over once the obligations are fulfilled, or their deferral
recorded). A notice issued in error is superseded by the authority's corrected one: the
superseded notice no longer blocks the dossier; neither is ever edited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import Role
from cadastre.clock import office_today
from cadastre.dossiers import offices
from cadastre.errors import Conflict, InvalidInput, NotFound

#: The kinds of obligation a notice lists (Land Law 2024 ch. XI; the fee and tax laws), with
#: the words the notice prints.
KINDS = {
    "land_use_levy": "Tiền sử dụng đất",
    "land_rent": "Tiền thuê đất",
    "registration_fee": "Lệ phí trước bạ",
    "personal_income_tax": "Thuế thu nhập cá nhân",
    "non_agricultural_land_tax": "Thuế sử dụng đất phi nông nghiệp",
    "other": "Khoản thu khác",
}
#: The largest amount one line may hold (whole đồng; numeric(16, 0)).
AMOUNT_MAX = 10**15 - 1


class NoticeNotFound(NotFound):
    code = "tax-notice-not-found"


class ObligationsUnpaid(Conflict):
    """The dossier has a tax notice not paid (and not superseded)."""

    code = "obligations-unpaid"


@dataclass(frozen=True, slots=True)
class Notice:
    number: str
    issued_on: date
    authority: str
    amounts: dict[str, int]
    supersedes: str | None = None


def _dossier(conn: Connection, code: str, *, role: Role | None) -> sa.Row[Any]:
    row = conn.execute(sa.text(
        "SELECT id, code, status, handling_office, received_by_office, procedure_code "
        "FROM dossier WHERE code = :c FOR UPDATE"), {"c": code}).first()
    if row is None:
        raise NotFound(f"no dossier {code}")
    offices.check_may_act(conn, row, role=role, on=office_today(conn))
    return row


def _amounts(amounts: dict[str, int]) -> int:
    if not amounts:
        raise InvalidInput("a tax notice lists at least one amount")
    unknown = sorted(set(amounts) - set(KINDS))
    if unknown:
        raise InvalidInput(f"unknown kinds of obligation {unknown}; known: {sorted(KINDS)}")
    for kind, value in amounts.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AMOUNT_MAX:
            raise InvalidInput(f"{kind}: an amount is a whole number of đồng, 0 to {AMOUNT_MAX}")
    total = sum(amounts.values())
    if total > AMOUNT_MAX:
        raise InvalidInput(f"the notice's total is more than {AMOUNT_MAX} đồng")
    return total


def record_notice(conn: Connection, code: str, notice: Notice, *,
                  role: Role | None = None) -> dict[str, Any]:
    """Record the tax authority's notice for a dossier waiting for its taxes (status
    ``tax_notice``); a corrected notice names the one it supersedes."""
    row = _dossier(conn, code, role=role)
    if row.status != "tax_notice":
        raise Conflict(f"dossier {code} is {row.status}: a tax notice is recorded while it "
                       "waits for the land user's obligations (tax_notice)")
    if not notice.number.strip() or not notice.authority.strip():
        raise InvalidInput("a tax notice has its number and the issuing authority")
    if notice.issued_on > office_today(conn):
        raise InvalidInput(f"a tax notice dated {notice.issued_on} is in the future")
    total = _amounts(notice.amounts)
    supersedes = None
    if notice.supersedes is not None:
        supersedes = conn.execute(sa.text(
            "SELECT n.id FROM tax_notice n WHERE n.dossier_id = :d AND n.notice_number = :n"),
            {"d": row.id, "n": notice.supersedes}).scalar()
        if supersedes is None:
            raise NoticeNotFound(f"dossier {code} has no tax notice {notice.supersedes!r}")
        if conn.execute(sa.text("SELECT 1 FROM tax_payment WHERE notice_id = :n UNION ALL "
                                "SELECT 1 FROM tax_notice WHERE supersedes = :n"),
                        {"n": supersedes}).first():
            raise Conflict(f"tax notice {notice.supersedes} is paid or already superseded")
    if conn.execute(sa.text("SELECT 1 FROM tax_notice WHERE dossier_id = :d AND "
                            "notice_number = :n"), {"d": row.id, "n": notice.number}).first():
        raise Conflict(f"dossier {code} already has tax notice {notice.number}")
    conn.execute(sa.text(
        "INSERT INTO tax_notice (dossier_id, notice_number, issued_on, authority, amounts, "
        "total, supersedes) VALUES (:d, :n, :on, :a, CAST(:amounts AS jsonb), :t, :s)"),
        {"d": row.id, "n": notice.number, "on": notice.issued_on, "a": notice.authority,
         "amounts": _json(notice.amounts), "t": total, "s": supersedes})
    return obligations(conn, code)


def record_payment(conn: Connection, code: str, number: str, *, paid_on: date,
                   reference: str, amount: int, role: Role | None = None) -> dict[str, Any]:
    """Record that a notice was paid in full (the receipt's reference, date and amount)."""
    row = _dossier(conn, code, role=role)
    notice = conn.execute(sa.text(  # the total as the caller's role may see it
        "SELECT id, total, issued_on, paid_on IS NOT NULL AS paid, superseded "
        "FROM tax_notice_visible WHERE dossier_id = :d AND notice_number = :n"),
        {"d": row.id, "n": number}).first()
    if notice is None:
        raise NoticeNotFound(f"dossier {code} has no tax notice {number!r}")
    if notice.paid:
        raise Conflict(f"tax notice {number} is already paid")
    if notice.superseded:
        raise Conflict(f"tax notice {number} was superseded: pay the corrected notice")
    if not reference.strip():
        raise InvalidInput("a payment has the reference of its receipt")
    if paid_on > office_today(conn):
        raise InvalidInput(f"a payment dated {paid_on} is in the future")
    if paid_on < notice.issued_on:
        raise InvalidInput(f"a payment cannot precede its notice ({notice.issued_on})")
    if notice.total is None:
        raise InvalidInput("your role does not see the notice's amounts")
    if amount != int(notice.total):
        raise InvalidInput(f"the notice asks for {int(notice.total):,} đồng, not {amount:,}: "
                           "record the payment in full, or the authority's corrected notice")
    conn.execute(sa.text(
        "INSERT INTO tax_payment (notice_id, paid_on, reference, amount) "
        "VALUES (:n, :on, :r, :a)"),
        {"n": notice.id, "on": paid_on, "r": reference, "a": amount})
    return obligations(conn, code)


def obligations(conn: Connection, code: str) -> dict[str, Any]:
    """A dossier's notices as the caller's role sees them, and whether any is unpaid."""
    if conn.execute(sa.text("SELECT 1 FROM dossier WHERE code = :c"), {"c": code}).first() \
            is None:
        raise NotFound(f"no dossier {code}")
    notices = [dict(r) for r in conn.execute(sa.text(
        "SELECT v.notice_number, v.issued_on, v.authority, v.amounts, v.total, v.paid_on, "
        "v.paid_amount, v.paid_reference, v.superseded, v.recorded_by, "
        "(SELECT s.notice_number FROM tax_notice_visible s WHERE s.id = v.supersedes) "
        "AS supersedes FROM tax_notice_visible v JOIN dossier d ON d.id = v.dossier_id "
        "WHERE d.code = :c ORDER BY v.issued_on, v.id"), {"c": code}).mappings()]
    for n in notices:
        for key in ("total", "paid_amount"):
            if n[key] is not None:
                n[key] = int(n[key])
        n["paid"] = n["paid_on"] is not None
    unpaid = [n["notice_number"] for n in notices if not n["paid"] and not n["superseded"]]
    return {"dossier": code, "notices": notices, "unpaid": unpaid, "settled": not unpaid}


def refuse_if_unpaid(conn: Connection, dossier_id: int, code: str, to_status: str) -> None:
    """No approval and no return of results while a notice is unpaid."""
    unpaid = conn.execute(sa.text(
        "SELECT array_agg(n.notice_number ORDER BY n.id) FROM tax_notice n "
        "WHERE n.dossier_id = :d AND NOT EXISTS (SELECT 1 FROM tax_payment p "
        "WHERE p.notice_id = n.id) AND NOT EXISTS (SELECT 1 FROM tax_notice s "
        "WHERE s.supersedes = n.id)"), {"d": dossier_id}).scalar()
    if unpaid:
        raise ObligationsUnpaid(
            f"dossier {code} cannot be {to_status}: tax notice {', '.join(unpaid)} is not paid",
            hint=f"record the payment: POST /api/v1/dossiers/{code}/tax-notices/"
                 f"{unpaid[0]}/payment")


def _json(value: dict[str, int]) -> str:
    return orjson.dumps(value).decode()
