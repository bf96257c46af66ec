"""Changes for land officers: rights (transfers, mortgages, injunctions) and the map
(purpose, split, merge, boundary correction). Every change request names the parcel state it
was made against with `If-Match` (the parcel file's ETag; one per parcel for a merge or a
boundary correction): 428 without, 412 for an ETag of another parcel, and 409 naming the
change that came in between for an older state (checked under the parcel's row lock).
Each route applies one operation of the catalogue (``cadastre.changes.operations``)."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Header, Request

from api.deps import require, write
from api.preconditions import parcel_state, parcel_states
from api.schemas.changes import (
    BoundaryIn,
    InjunctionIn,
    InjunctionReleaseIn,
    MergeIn,
    MortgageIn,
    PurposeChangeIn,
    ReleaseIn,
    ResponsibilityEndIn,
    ResponsibilityIn,
    Source,
    SplitIn,
    TransferIn,
)
from cadastre.access import Role
from cadastre.changes import operations
from cadastre.changes.record import SourceDocument
from cadastre.layers.crs import body_srid

router = APIRouter(prefix="/api/v1/changes", tags=["changes"],
                   dependencies=[require(Role.LAND_OFFICER, Role.ADMIN)])


IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="The parcel file's ETag: the state the change was made "
    "against (required)")]
IfMatchEach = Annotated[str | None, Header(
    alias="If-Match", description="The ETag of each parcel's file, as one list "
    '(`"5-12.ab…", "6-14.cd…"`): the states the change was made against (required)')]


def _source(source: Source) -> SourceDocument:
    return SourceDocument(source.kind, source.reference, source.issued_on, source.issuer,
                          source.description)


class _ChangeBody(Protocol):
    """What every change body has besides the operation's own fields."""

    source: Source
    dossier_code: str | None

    def model_dump(self, *, exclude: set[str]) -> dict[str, Any]: ...


async def _apply(request: Request, name: str, body: _ChangeBody, expected: dict[int, int],
                 **parameters: Any) -> dict[str, Any]:
    """Apply the catalogue's operation ``name``: its parameters are the body's fields of the
    same names (the operation's model ignores the others) and ``parameters``."""
    values = body.model_dump(exclude={"source", "dossier_code"}) | parameters
    result = await write(request, lambda conn: operations.apply(
        conn, name, values, _source(body.source), dossier_code=body.dossier_code,
        expected=expected), dossier_code=body.dossier_code)
    base = f"/api/v1/parcels/{result.parcel_id}"
    response: dict[str, Any] = {
        "change_id": result.change_id, "parcel_id": result.parcel_id,
        "versions_ended": result.ended, "versions_begun": result.begun,
        "links": {"parcel": base, "changes": f"{base}/changes"}}
    if name == "split":
        response["children"] = list(result.new_parcels)
    elif name == "merge":
        response["merged_parcel_id"] = result.new_parcels[0]
    if result.certificate is not None:
        response["certificate"] = dict(result.certificate)
    return response


@router.post("/transfer", status_code=201, summary="Transfer, inheritance or gift of rights",
             description="Moves the land-use right and the ownership of attached assets "
             "(together, apart, or a co-holder's share alone) and endorses or replaces the "
             "certificate (`certificate`).")
async def transfer(request: Request, body: TransferIn, if_match: IfMatch = None
                   ) -> dict[str, Any]:
    return await _apply(request, body.kind, body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/mortgage", status_code=201, summary="Register a mortgage (đăng ký thế chấp)")
async def mortgage(request: Request, body: MortgageIn, if_match: IfMatch = None
                   ) -> dict[str, Any]:
    return await _apply(request, "mortgage", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/mortgage-release", status_code=201, summary="Release a mortgage")
async def mortgage_release(request: Request, body: ReleaseIn, if_match: IfMatch = None
                           ) -> dict[str, Any]:
    return await _apply(request, "mortgage_release", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/injunction", status_code=201,
             summary="Block transactions (ngăn chặn) by a court or authority order")
async def injunction(request: Request, body: InjunctionIn, if_match: IfMatch = None
                     ) -> dict[str, Any]:
    return await _apply(request, "injunction", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/injunction-release", status_code=201, summary="Lift an injunction")
async def injunction_release(request: Request, body: InjunctionReleaseIn,
                             if_match: IfMatch = None) -> dict[str, Any]:
    return await _apply(request, "injunction_release", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/responsibility", status_code=201,
             summary="Record an obligation (a deferred land levy, an upkeep, an access)")
async def responsibility(request: Request, body: ResponsibilityIn, if_match: IfMatch = None
                         ) -> dict[str, Any]:
    return await _apply(request, "responsibility", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/responsibility-end", status_code=201,
             summary="End an obligation (the levy paid, the corridor released)")
async def responsibility_end(request: Request, body: ResponsibilityEndIn,
                             if_match: IfMatch = None) -> dict[str, Any]:
    return await _apply(request, "responsibility_end", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/purpose", status_code=201, summary="Change of land-use purpose")
async def purpose(request: Request, body: PurposeChangeIn, if_match: IfMatch = None
                  ) -> dict[str, Any]:
    return await _apply(request, "purpose_change", body, {body.parcel_id: parcel_state(
        if_match, body.parcel_id)})


@router.post("/split", status_code=201, summary="Split a parcel (tách thửa)")
async def split(request: Request, body: SplitIn, if_match: IfMatch = None) -> dict[str, Any]:
    expected = {body.parcel_id: parcel_state(if_match, body.parcel_id)}
    return await _apply(
        request, "split", body, expected, srid=body_srid(body.crs),
        cut_line_wkt=body.cut_line, children_wkt=body.children, tolerance=body.tolerance_m2)


@router.post("/merge", status_code=201, summary="Merge adjacent parcels (hợp thửa)",
             description="If-Match lists the ETag of every parcel merged.")
async def merge(request: Request, body: MergeIn, if_match: IfMatchEach = None
                ) -> dict[str, Any]:
    return await _apply(request, "merge", body, parcel_states(if_match, body.parcel_ids))


@router.post("/boundary-correction", status_code=201,
             summary="Move the boundary between two neighbours",
             description="If-Match lists the ETags of both parcels.")
async def boundary(request: Request, body: BoundaryIn, if_match: IfMatchEach = None
                   ) -> dict[str, Any]:
    expected = parcel_states(if_match, [body.first_parcel_id, body.second_parcel_id])
    return await _apply(
        request, "boundary_correction", body, expected, srid=body_srid(body.crs),
        first_wkt=body.first, second_wkt=body.second, tolerance=body.tolerance_m2)
