"""Offices of the one-stop service and the delegations between them (ủy quyền), managed
over HTTP: offices by admins, delegations by admins and supervisors of the delegating
office. Offices are public facts (where to file, whom to call); so are delegations, which
decide where a citizen's dossier is handled."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response

from api.bounds import PathId
from api.deps import Caller, read, require, write
from api.preconditions import office_tag
from api.responses import JSONResponse
from api.schemas.offices import DelegationEnd, DelegationIn, OfficeIn, OfficeUpdate
from cadastre.access import Role
from cadastre.dossiers import delegations, offices
from cadastre.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["offices"])


def _office_response(found: dict[str, Any], status: int = 200) -> Response:
    etag = found.pop("etag")
    return JSONResponse(found, status_code=status,
                        headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.get("/offices", summary="The offices of the one-stop service")
async def list_offices(request: Request, level: Literal["province", "commune"] | None = None,
                       province: str | None = None) -> list[dict[str, Any]]:
    return await read(request, lambda c: offices.list_offices(
        c, level=level, province_code=province))


@router.get("/offices/{code}", summary="An office, with its ETag")
async def office(request: Request, code: str) -> Response:
    return _office_response(await read(request, lambda c: offices.office(c, code)))


@router.post("/offices", status_code=201, summary="Create an office (admin)",
             dependencies=[require(Role.ADMIN)])
async def create_office(request: Request, body: OfficeIn) -> Response:
    item = offices.OfficeIn(**body.model_dump())
    return _office_response(await write(request, lambda c: offices.create_office(c, item)),
                            201)


@router.patch("/offices/{code}", summary="Edit an office (admin)",
              dependencies=[require(Role.ADMIN)])
async def edit_office(request: Request, code: str, body: OfficeUpdate,
                      if_match: Annotated[str | None, Header(
                          alias="If-Match", description="The office's ETag (required)")
                      ] = None) -> Response:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("nothing to change")
    if "name" in changes and changes["name"] is None:
        raise InvalidInput("an office keeps a name")
    expected = office_tag(if_match, code)
    return _office_response(await write(request, lambda c: offices.edit_office(
        c, code, changes, expected_state=expected)))


@router.get("/delegations", summary="Delegations (ủy quyền) between offices",
            description="From or to `office`, of `procedure`, holding on day `on` "
            "(each optional); newest first, each with its status (active, future, ended, "
            "expired, revoked).")
async def list_delegations(request: Request, office: str | None = None,
                           procedure: str | None = None, on: date | None = None
                           ) -> list[dict[str, Any]]:
    return await read(request, lambda c: delegations.list_delegations(
        c, office=office, procedure_code=procedure, holding_on=on))


@router.get("/delegations/{delegation_id}", summary="A delegation")
async def delegation(request: Request, delegation_id: PathId) -> dict[str, Any]:
    return await read(request, lambda c: delegations.delegation(
        c, delegation_id))


@router.post("/delegations", status_code=201,
             summary="Delegate procedures to another office (admin, or a supervisor of the "
             "delegating office)",
             description="Refused with 409 `delegation-overlap` when the office already "
             "delegates one of the procedures over some of the same days.",
             dependencies=[require(Role.SUPERVISOR, Role.ADMIN)])
async def create_delegation(request: Request, body: DelegationIn,
                            caller: Caller) -> dict[str, Any]:
    item = delegations.DelegationIn(
        from_office=body.from_office, to_office=body.to_office, procedures=body.procedures,
        decision_number=body.decision.number, decision_date=body.decision.signed_on,
        signer=body.decision.signer, valid_from=body.valid_from, valid_to=body.valid_to)
    return await write(request, lambda c: delegations.create(
        c, item, role=caller.role, actor=str(caller.username)))


@router.post("/delegations/{delegation_id}/end",
             summary="End a delegation (admin, or a supervisor of the delegating office)",
             description="Sets its last day (`valid_to`, default yesterday); the delegation "
             "stays on record.", dependencies=[require(Role.SUPERVISOR, Role.ADMIN)])
async def end_delegation(request: Request, delegation_id: PathId, body: DelegationEnd,
                         caller: Caller) -> dict[str, Any]:
    return await write(request, lambda c: delegations.end(
        c, delegation_id, last_day=body.valid_to, role=caller.role,
        actor=str(caller.username)))
