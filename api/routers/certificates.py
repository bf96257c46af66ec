"""Certificates (Giấy chứng nhận, GCN): issue, endorse, exchange, re-issue after loss and
revoke (land officers and admins), a certificate with its history and a parcel's
certificates (staff), and the public verification of a certificate by the code printed as
its QR content (no sign-in; rate-limited like the citizens' other lookups). Each write
applies one operation of the catalogue (``cadastre.changes.operations``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api import ratelimit
from api.bounds import PathId, RowId
from api.deps import Caller, actor, read, require, write
from api.responses import JSONResponse
from api.schemas.certificates import (
    CertificateExchangeIn,
    CertificateIssueIn,
    EndorsementIn,
    RevocationIn,
)
from api.schemas.changes import Source
from cadastre.access import Role
from cadastre.audit.service import log_personal_read_sync
from cadastre.certificates import service
from cadastre.changes import operations
from cadastre.changes.record import SourceDocument

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])
public_router = APIRouter(prefix="/api/v1/public", tags=["public"])
WRITERS = require(Role.LAND_OFFICER, Role.ADMIN)
STAFF = require(Role.LAND_OFFICER, Role.ADMIN, Role.SUPERVISOR, Role.COUNTER_CLERK,
                Role.GIS_ANALYST)
VERIFY_PATH = "/api/v1/public/certificates/verify"


def _qr_content(request: Request, code: str | None) -> str | None:
    """What the certificate's QR code holds: the public verification of this code."""
    if code is None:
        return None
    return f"{str(request.base_url).rstrip('/')}{VERIFY_PATH}?code={code}"


def _source(source: Source) -> SourceDocument:
    return SourceDocument(source.kind, source.reference, source.issued_on, source.issuer,
                          source.description)


async def _apply(request: Request, name: str, source: Source, dossier_code: str | None,
                 values: dict[str, Any]) -> dict[str, Any]:
    def run(conn: Any) -> dict[str, Any]:
        result = operations.apply(conn, name, values, _source(source),
                                  dossier_code=dossier_code)
        outcome = dict(result.certificate or {})
        certificate_id = int(outcome["certificate_id"])
        return {"change_id": result.change_id, **outcome,
                "verification_code": service.verification_code(conn, certificate_id)}

    response = await write(request, run, dossier_code=dossier_code)
    response["qr_content"] = _qr_content(request, response["verification_code"])
    response["links"] = {"certificate": f"/api/v1/certificates/{response['certificate_id']}"}
    return response


@router.post("", status_code=201, dependencies=[WRITERS],
             summary="Issue a certificate (cấp Giấy chứng nhận)",
             description="Covers the parcels and names the holders of their rights, which "
             "then name it. A parcel already on a current certificate is refused (409).")
async def issue(request: Request, body: CertificateIssueIn) -> dict[str, Any]:
    return await _apply(request, "certificate_issue", body.source, body.dossier_code,
                        body.model_dump(exclude={"source", "dossier_code"}))


@router.post("/{certificate_id}/endorse", status_code=201, dependencies=[WRITERS],
             summary="Endorse a change on the certificate (xác nhận thay đổi)")
async def endorse(request: Request, certificate_id: PathId, body: EndorsementIn
                  ) -> dict[str, Any]:
    return await _apply(request, "certificate_endorsement", body.source, body.dossier_code,
                        {"certificate_id": certificate_id, "endorsement": body.endorsement})


@router.post("/{certificate_id}/exchange", status_code=201, dependencies=[WRITERS],
             summary="Exchange the certificate for a new one (cấp đổi)")
async def exchange(request: Request, certificate_id: PathId, body: CertificateExchangeIn
                   ) -> dict[str, Any]:
    return await _apply(request, "certificate_exchange", body.source, body.dossier_code,
                        {**body.model_dump(exclude={"source", "dossier_code"}),
                         "certificate_id": certificate_id})


@router.post("/{certificate_id}/reissue", status_code=201, dependencies=[WRITERS],
             summary="Re-issue a lost certificate (cấp lại)")
async def reissue(request: Request, certificate_id: PathId, body: CertificateExchangeIn
                  ) -> dict[str, Any]:
    return await _apply(request, "certificate_reissue", body.source, body.dossier_code,
                        {**body.model_dump(exclude={"source", "dossier_code"}),
                         "certificate_id": certificate_id})


@router.post("/{certificate_id}/revoke", status_code=201, dependencies=[WRITERS],
             summary="Revoke the certificate (thu hồi)")
async def revoke(request: Request, certificate_id: PathId, body: RevocationIn
                 ) -> dict[str, Any]:
    return await _apply(request, "certificate_revocation", body.source, body.dossier_code,
                        {"certificate_id": certificate_id})


@router.get("", dependencies=[STAFF], summary="A parcel's certificates",
            description="Its current certificates, and whether its rights await one.")
async def of_parcel(request: Request, parcel_id: Annotated[RowId, Query()]) -> dict[str, Any]:
    found: dict[str, Any] = await read(request, lambda conn: service.of_parcel(conn, parcel_id))
    return found


@router.get("/{certificate_id}", dependencies=[STAFF],
            summary="A certificate with its history",
            description="Every version: the note endorsed, the parcels and the holders it "
            "named (names as the role may see them), the changes that began and ended it; "
            "its status, what it replaced and what replaced it, and its verification code.")
async def certificate(request: Request, certificate_id: PathId, caller: Caller
                      ) -> JSONResponse:
    who = actor(request)

    def run(conn: Any) -> dict[str, Any]:
        view = service.detail(conn, certificate_id, caller.role)
        shown = service.parties_shown(view)
        if shown:
            log_personal_read_sync(conn, who, party_ids=shown, table="certificate",
                                   row_key={"certificate_id": certificate_id},
                                   reason="certificate history (holders' names)")
        return view

    view = await write(request, run, who=who)
    view["qr_content"] = _qr_content(request, view["verification_code"])
    return JSONResponse(view, headers={"Cache-Control": "private, no-cache"})


@public_router.get("/certificates/verify", summary="Verify a certificate by its QR code",
                   description="What the certificate shows publicly: serial, issue date, "
                   "authority, status (valid, replaced, revoked, ended), the parcels, the "
                   "holders (people as initials). No ID numbers, birth years or addresses.")
async def verify(request: Request, code: Annotated[str, Query(min_length=1, max_length=64)]
                 ) -> JSONResponse:
    await ratelimit.citizen(request)
    view = await read(request, lambda conn: service.verify(conn, code))
    return JSONResponse(view, headers={"Cache-Control": "private, no-cache"})
