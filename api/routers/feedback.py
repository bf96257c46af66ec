"""The staff's feedback queue (phản ánh, kiến nghị): the items of the caller's office with
their text, assigned to an officer, answered; overdue items flagged. The complainant's
contact is personal data: shown to the staff roles that see names, and every response that
shows it is recorded as a read. (The citizen's side, sending and reading the answer, is in
api/routers/dossiers.py under /public.)"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.deps import Caller, actor, require, write
from api.schemas.dossiers import AnswerIn, AssignIn
from cadastre.access import Role
from cadastre.audit.service import log_personal_read_sync
from cadastre.dossiers import feedback as feedback_service
from cadastre.dossiers import offices

router = APIRouter(prefix="/api/v1", tags=["feedback"])
STAFF = (Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.SUPERVISOR, Role.ADMIN)


def _audited(request: Request, items: list[dict[str, Any]], conn: Any, reason: str) -> None:
    """One read record per item whose contact the response shows."""
    for item in items:
        if item.get("contact_name") or item.get("contact_phone") or item.get("contact_email"):
            log_personal_read_sync(conn, actor(request, item.get("dossier_code")),
                                   party_ids=[], table="feedback",
                                   row_key={"code": item["code"]}, reason=reason)


@router.get("/feedback", summary="The feedback queue of an office (staff)",
            description="`status`: open (not answered yet; `overdue` flags those past their "
            "answer date), overdue, answered. `office`: default the caller's; staff see "
            "their own office's queue only, admins any (or all without `office`).",
            dependencies=[require(*STAFF)])
async def queue(request: Request, status: Literal["open", "overdue", "answered"] = "open",
                office: str | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[dict[str, Any]]:
    def run(conn: Any) -> list[dict[str, Any]]:
        mine = offices.acting_office(conn)
        if mine is not None and office not in (None, mine):
            raise offices.WrongOffice(f"staff of office {mine} see the feedback of {mine}")
        items = feedback_service.queue(conn, office=office or mine, status=status,
                                       limit=limit)
        _audited(request, items, conn, f"feedback queue ({status})")
        return items

    return await write(request, run)


def _own(conn: Any, item: dict[str, Any]) -> None:
    mine = offices.acting_office(conn)
    if mine is not None and item["office_code"] != mine:
        raise offices.WrongOffice(f"feedback {item['code']} is for office "
                                  f"{item['office_code']}, not {mine}")


@router.get("/feedback/{code}", summary="A feedback item (staff of its office)",
            dependencies=[require(*STAFF)])
async def feedback_item(request: Request, code: str) -> dict[str, Any]:
    def run(conn: Any) -> dict[str, Any]:
        item = feedback_service.staff_view(conn, code)
        _own(conn, item)
        _audited(request, [item], conn, "feedback")
        return item

    return await write(request, run)


@router.post("/feedback/{code}/assign", summary="Assign a feedback to a staff member of "
             "its office (supervisor, admin)",
             dependencies=[require(Role.SUPERVISOR, Role.ADMIN)])
async def assign(request: Request, code: str, body: AssignIn) -> dict[str, Any]:
    def run(conn: Any) -> dict[str, Any]:
        item = feedback_service.assign(conn, code, assignee=body.assignee)
        _audited(request, [item], conn, "feedback assigned")
        return item

    return await write(request, run)


@router.post("/feedback/{code}/answer", summary="Answer a feedback (staff of its office; "
             "when assigned, the assignee or a supervisor)",
             dependencies=[require(*STAFF)])
async def answer(request: Request, code: str, body: AnswerIn,
                 caller: Caller) -> dict[str, Any]:
    def run(conn: Any) -> dict[str, Any]:
        item = feedback_service.answer(conn, code, body.answer, actor=str(caller.username),
                                       role=caller.role)
        _audited(request, [item], conn, "feedback answer (the complainant's contact)")
        return item

    return await write(request, run)
