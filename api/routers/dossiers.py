"""One-stop dossiers: the procedure catalogue, intake at the counter with the receipt,
the workflow, deadlines and apology letters, the citizen's status lookup, feedback, KPIs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import ratelimit
from api.deps import Caller, actor, read, require, write
from api.preconditions import dossier_tags, dossier_version, procedure_tag, states_of
from api.problems import PreconditionFailed
from api.responses import JSONResponse
from api.schemas.dossiers import (
    ApologyIn,
    DossierIn,
    FeedbackIn,
    ProcedureUpdate,
    RatingIn,
    TaxNoticeIn,
    TaxPaymentIn,
    TransitionIn,
)
from cadastre.access import Role, mask_national_id, rule
from cadastre.audit.service import log_personal_read_sync
from cadastre.clock import office_day
from cadastre.dossiers import approval, catalogue, obligations, offices, reports, service
from cadastre.dossiers import feedback as feedback_service
from cadastre.dossiers.receipt import apology_html, receipt_html, receipt_pdf
from cadastre.errors import InvalidInput, NotFound
from cadastre.land_use import prices as land_prices

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
STAFF = (Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.SUPERVISOR, Role.ADMIN)


def _write(request: Request, operation: Any) -> Any:
    return write(request, operation, dossier_code=request.path_params.get("code"))


_read = read


def _staff_view(dossier: dict[str, Any], role: Role) -> dict[str, Any]:
    view = {k: v for k, v in dossier.items() if k not in ("idempotency_key", "id")}
    r = rule(role)
    if not r.names:
        for key in ("applicant_name", "applicant_id_number", "applicant_phone",
                    "applicant_address"):
            view.pop(key, None)
    elif r.national_id != "full":
        view.pop("applicant_address", None)
        if view.get("applicant_id_number"):
            view["applicant_id_number"] = mask_national_id(str(view["applicant_id_number"]))
    view["allowed_transitions"] = service.allowed_from(dossier["status"], role)
    return view


def _dossier_response(dossier: dict[str, Any], role: Role, status: int = 200) -> Response:
    return JSONResponse(_staff_view(dossier, role), status_code=status,
                        headers={"ETag": dossier["etag"], "Cache-Control": "private, no-cache"})


@router.get("/procedures", summary="The procedure catalogue")
async def procedures(request: Request) -> list[dict[str, Any]]:
    return await _read(request, catalogue.active_procedures)


@router.post("/dossiers", status_code=201, summary="Receive a dossier at the counter",
             dependencies=[require(Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.ADMIN)])
async def receive(request: Request, body: DossierIn, caller: Caller,
                  idempotency_key: Annotated[str | None, Header(
                      alias="Idempotency-Key", max_length=200)] = None) -> Response:
    intake = service.Intake(
        procedure_code=body.procedure_code, received_by_office=body.received_by_office,
        applicant=service.Applicant(**body.applicant.model_dump()), channel=body.channel,
        parcel_ids=body.parcel_ids, commune_code=body.commune_code, documents=body.documents,
        deadline_reason=body.deadline_reason, idempotency_key=idempotency_key)
    code_format = request.app.state.settings.dossier_code_format
    dossier, new = await _write(request, _recording_applicant(
        request, caller.role, "dossier intake", lambda conn: service.receive(
            conn, intake, actor=str(caller.username), code_format=code_format)))
    return _dossier_response(dossier, caller.role, 201 if new else 200)


@router.get("/dossiers/{code}", summary="A dossier (staff)",
            dependencies=[require(*STAFF)])
async def dossier(request: Request, code: str, caller: Caller) -> Response:
    found = await _read(request, lambda c: service.get(c, code))
    await _log_applicant_read(request, found, caller.role, "dossier")
    return _dossier_response(found, caller.role)


def _recording_applicant(request: Request, role: Role, reason: str,
                         operation: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``operation`` (a write returning the dossier, or the dossier and more), followed in
    its transaction by the audit row of the applicant's data that the response shows."""

    def run(conn: Any) -> Any:
        result = operation(conn)
        dossier: dict[str, Any] = result[0] if isinstance(result, tuple) else result
        if rule(role).names and dossier.get("applicant_name"):
            code = dossier["code"]
            log_personal_read_sync(conn, actor(request, code), party_ids=[],
                                   table="dossier", row_key={"code": code}, reason=reason)
        return result

    return run


async def _log_applicant_read(request: Request, dossier: dict[str, Any], role: Role,
                              reason: str) -> None:
    """The applicant's name (and, by role, ID number and address) was shown: audit it."""
    if rule(role).names and dossier.get("applicant_name"):
        who = actor(request, dossier["code"])
        await write(request, lambda c: log_personal_read_sync(
            c, who, party_ids=[], table="dossier", row_key={"code": dossier["code"]},
            reason=reason), who=who)


IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="The dossier's ETag (required); for an approval that "
    "changes parcels, also the ETag of each parcel's file, in one list")]


@router.post("/dossiers/{code}/transitions", summary="Move a dossier through the workflow",
             description="An approval (`to: approved`) applies the procedure's register "
             "change (its `operations`) to the dossier's parcels in the same transaction, "
             "from `change` or `steps`; a change that fails leaves the dossier as it was. "
             "See docs/dossiers.md.", dependencies=[require(*STAFF)])
async def move(request: Request, code: str, body: TransitionIn, caller: Caller,
               if_match: IfMatch = None) -> Response:
    expected, parcel_tags = dossier_tags(if_match, code)
    approving = body.to == "approved"
    if parcel_tags and not approving:
        raise PreconditionFailed(f'If-Match "{parcel_tags[0]}" is not an ETag of {code}')

    def operation(conn: Any) -> dict[str, Any]:
        if approving:  # applies the procedure's register change, or is refused
            service.check_office(conn, code, role=caller.role)  # before any change
            return approval.approve(
                conn, code, body.approval_steps(), source=body.approval_source(code),
                role=caller.role, actor=str(caller.username), expected_version=expected,
                states=lambda parcels: states_of(parcel_tags, parcels), note=body.note,
                attachments=body.attachments)
        return service.transition(
            conn, code, body.to, role=caller.role, actor=str(caller.username), note=body.note,
            expected_version=expected, attachments=body.attachments, rating=body.rating,
            rating_comment=body.rating_comment)

    return _dossier_response(await _write(request, _recording_applicant(
        request, caller.role, f"dossier transition to {body.to}", operation)), caller.role)


@router.get("/dossiers/{code}/tax-notices", summary="A dossier's tax notices and payments",
            description="The amounts and the payment's reference for land officers and "
            "admins; the other staff see the notices and whether each is paid.",
            dependencies=[require(*STAFF)])
async def tax_notices(request: Request, code: str) -> Response:
    found = await _read(request, lambda c: obligations.obligations(c, code))
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


@router.get("/dossiers/{code}/tax-information",
            summary="The information sheet sent to the tax authority (phiếu chuyển thông tin)",
            description="What the tax authority needs to compute the land user's obligations: "
            "the dossier, the land user (as the caller's role may see them), each parcel with "
            "its land use, area, today's commune and the land prices of the table in force on "
            "the day of reception, and the notices recorded so far.",
            dependencies=[require(*STAFF)])
async def tax_information(request: Request, code: str, caller: Caller) -> Response:
    def build(conn: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        dossier = service.get(conn, code)
        day = office_day(dossier["received_at"])
        parcels = []
        for parcel_id in dossier["parcel_ids"]:
            try:
                parcels.append(land_prices.parcel_prices(conn, int(parcel_id), day))
            except NotFound:  # split or merged since: its file holds what it was
                parcels.append({"parcel_id": parcel_id, "reason": "no longer a current parcel"})
        return dossier, parcels, obligations.obligations(conn, code)

    dossier, parcels, notices = await _read(request, build)
    await _log_applicant_read(request, dossier, caller.role, "tax information sheet")
    view = _staff_view(dossier, caller.role)
    sheet = {
        "title": "Phiếu chuyển thông tin để xác định nghĩa vụ tài chính về đất đai",
        "dossier": code, "procedure_code": dossier["procedure_code"],
        "procedure_name": dossier["procedure_name"],
        "received_on": office_day(dossier["received_at"]),
        "office": dossier["handling_office"], "office_name": dossier["handling_office_name"],
        "land_user": {k.removeprefix("applicant_"): view[k] for k in (
            "applicant_name", "applicant_id_number", "applicant_address") if k in view},
        "parcels": parcels, "notices": notices["notices"],
    }
    return JSONResponse(sheet, headers={"Cache-Control": "no-store"})


@router.post("/dossiers/{code}/tax-notices", status_code=201,
             summary="Record the tax authority's notice of a dossier waiting for its taxes",
             description="The dossier is neither approved nor returned while a notice is "
             "unpaid (409 `obligations-unpaid`).",
             dependencies=[require(Role.LAND_OFFICER, Role.ADMIN)])
async def record_tax_notice(request: Request, code: str, body: TaxNoticeIn,
                            caller: Caller) -> Response:
    notice = obligations.Notice(body.notice_number, body.issued_on, body.authority,
                                body.amounts, body.supersedes)
    found = await _write(request, lambda c: obligations.record_notice(
        c, code, notice, role=caller.role))
    return JSONResponse(found, status_code=201)


@router.post("/dossiers/{code}/tax-notices/{number:path}/payment", status_code=201,
             summary="Record that a tax notice was paid in full",
             dependencies=[require(Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.ADMIN)])
async def record_tax_payment(request: Request, code: str, number: str, body: TaxPaymentIn,
                             caller: Caller) -> Response:
    found = await _write(request, lambda c: obligations.record_payment(
        c, code, number, paid_on=body.paid_on, reference=body.reference,
        amount=body.amount, role=caller.role))
    return JSONResponse(found, status_code=201)


@router.get("/dossiers/{code}/receipt", summary="The receipt with the appointment",
            description="Printable HTML, or PDF with `format=pdf`.",
            dependencies=[require(*STAFF)], response_class=Response)
async def receipt(request: Request, code: str,
                  format: Literal["html", "pdf"] = "html") -> Response:
    d = await _read(request, lambda c: service.get(c, code))
    await _log_applicant_read(request, d, request.state.principal.role, f"receipt ({format})")
    if format == "pdf":
        pdf = await run_in_threadpool(receipt_pdf, d)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{code}.pdf"'})
    return Response(receipt_html(d), media_type="text/html; charset=utf-8")


@router.get("/dossiers", summary="Overdue, due-soon and paused dossiers of an office",
            description="`office`: default the caller's (its own dossiers and those "
            "delegated to it today); every office for an admin who names none. Measured "
            "against the statutory due date; a dossier waiting for the citizen (supplement, "
            "tax payment) is listed as paused, never overdue.",
            dependencies=[require(*STAFF)])
async def deadlines(request: Request, office: str | None = None,
                    soon_days: Annotated[int, Query(ge=0, le=30)] = 2) -> dict[str, Any]:
    return await _read(request, lambda c: service.deadlines(
        c, offices.listing_office(c, office), soon_days=soon_days))


@router.get("/dossiers/{code}/apology", summary="The latest apology letter (printable)",
            dependencies=[require(*STAFF)], response_class=Response)
async def apology_letter(request: Request, code: str) -> Response:
    d = await _read(request, lambda c: service.get(c, code))
    if not d["apologies"]:
        raise service.DossierNotFound(f"dossier {code} has no apology letter")
    await _log_applicant_read(request, d, request.state.principal.role, "apology letter")
    return Response(apology_html(d), media_type="text/html; charset=utf-8")


@router.post("/dossiers/{code}/apology", summary="Apology letter with a new appointment",
             description="For a dossier that is late or will be late (its statutory due "
             "date within `will_be_late_days` working days); otherwise 409 `not-late`. The "
             "statutory due date stays; the letter's date becomes `promised_date`.",
             dependencies=[require(Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.SUPERVISOR,
                                   Role.ADMIN)])
async def apology(request: Request, code: str, body: ApologyIn, caller: Caller,
                  if_match: IfMatch = None) -> Response:
    expected = dossier_version(if_match, code)
    dossier = await _write(request, _recording_applicant(
        request, caller.role, "apology letter issued", lambda c: service.apologise(
            c, code, new_due=body.new_due, reason=body.reason, actor=str(caller.username),
            expected_version=expected, role=caller.role)))
    return _dossier_response(dossier, caller.role, 201)


@router.get("/public/dossiers/{code}", tags=["public"],
            summary="A citizen's dossier status (verify: last 4 digits of phone or ID)")
async def public_dossier(request: Request, code: str,
                         verify: Annotated[str, Query(min_length=4, max_length=4)]
                         ) -> Response:
    await ratelimit.citizen(request, code)
    dossier = await _read(request, lambda c: service.get_verified(c, code, verify))
    return JSONResponse(service.public_view(dossier), headers={
        "ETag": dossier["etag"], "Cache-Control": "private, no-cache"})


@router.post("/public/feedback", status_code=201, tags=["public"],
             summary="Send feedback or a complaint")
async def send_feedback(request: Request, body: FeedbackIn) -> dict[str, Any]:
    await ratelimit.citizen(request)
    item = feedback_service.FeedbackIn(**body.model_dump())
    return await _write(request, lambda c: feedback_service.record(c, item))


@router.get("/public/feedback/{code}", tags=["public"], summary="A feedback's answer")
async def feedback_status(request: Request, code: str,
                          verify: Annotated[str, Query(min_length=4, max_length=4)]
                          ) -> dict[str, Any]:
    await ratelimit.citizen(request, code, kind="feedback")
    return await _read(request, lambda c: feedback_service.verified_view(c, code, verify))


@router.get("/reports/kpi", summary="KPIs per office and month (JSON, or CSV)",
            description="Resolved early / on time / late / late with an apology letter, "
            "measured against the statutory due date; `on_time_rate` over the resolved; "
            "`overdue_now` leaves out dossiers waiting for the citizen. `office`: default "
            "the caller's (every office for an admin who names none).",
            dependencies=[require(Role.SUPERVISOR, Role.ADMIN)])
async def kpi(request: Request, start: Annotated[date, Query(alias="from")],
              end: Annotated[date, Query(alias="to")], office: str | None = None,
              procedure: str | None = None,
              format: Literal["json", "csv"] = "json") -> Response:
    if end < start:
        raise InvalidInput("'to' is before 'from'")
    rows = await _read(request, lambda c: reports.kpis(
        c, start=start, end=end, office=offices.listing_office(c, office),
        procedure=procedure))
    if format == "csv" or "text/csv" in request.headers.get("accept", ""):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=reports.KPI_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse(rows)


@router.get("/procedures/{code}", summary="A procedure of the catalogue, with its ETag")
async def procedure(request: Request, code: str) -> Response:
    found = await _read(request, lambda c: catalogue.procedure(c, code))
    etag = found.pop("etag")
    return JSONResponse(found, headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.patch("/procedures/{code}", summary="Edit a procedure of the catalogue (admin)",
              dependencies=[require(Role.ADMIN)])
async def edit_procedure(request: Request, code: str, body: ProcedureUpdate,
                         if_match: Annotated[str | None, Header(
                             alias="If-Match", description="The procedure's ETag "
                             "(required)")] = None) -> Response:
    changes_ = body.model_dump(exclude_unset=True)  # an explicit null clears a column
    if not changes_:
        raise InvalidInput("nothing to change")
    expected = procedure_tag(if_match, code)
    edited = await _write(request, lambda c: catalogue.edit_procedure(
        c, code, changes_, expected_state=expected))
    etag = edited.pop("etag")
    return JSONResponse(edited, headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.post("/public/dossiers/{code}/rating", tags=["public"],
             summary="Rate the service (1-5) after the result was returned",
             description="If-Match: the ETag of the dossier's status page "
             "(`GET /api/v1/public/dossiers/{code}`).")
async def rate(request: Request, code: str, body: RatingIn,
               verify: Annotated[str, Query(min_length=4, max_length=4)],
               if_match: Annotated[str | None, Header(
                   alias="If-Match", description="The status page's ETag (required)")] = None
               ) -> dict[str, Any]:
    await ratelimit.citizen(request, code)
    expected = dossier_version(if_match, code)
    return await _write(request, lambda c: service.rate(
        c, code, verify, rating=body.rating, comment=body.comment, expected_version=expected))
