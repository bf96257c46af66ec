"""Changes for land officers: rights (transfers, mortgages, injunctions) and the map
(purpose, split, merge, boundary correction). Every change request names the parcel state it
was made against with `If-Match` (the parcel file's ETag; one per parcel for a merge or a
boundary correction): 428 without, 412 for an ETag of another parcel, and 409 naming the
change that came in between for an older state (checked under the parcel's row lock)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from api.deps import require, write
from api.preconditions import parcel_state, parcel_states
from api.schemas.changes import (
    BoundaryIn,
    InjunctionIn,
    MergeIn,
    MortgageIn,
    PurposeChangeIn,
    ReleaseIn,
    Source,
    SplitIn,
    TransferIn,
)
from cadastre.access import Role
from cadastre.changes import service, spatial

router = APIRouter(prefix="/api/v1/changes", tags=["changes"],
                   dependencies=[require(Role.LAND_OFFICER, Role.ADMIN)])


IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="The parcel file's ETag: the state the change was made "
    "against (required)")]
IfMatchEach = Annotated[str | None, Header(
    alias="If-Match", description="The ETag of each parcel's file, as one list "
    '(`"5-12.ab…", "6-14.cd…"`): the states the change was made against (required)')]


def _source(source: Source) -> service.SourceDocument:
    return service.SourceDocument(source.kind, source.reference, source.issued_on,
                                  source.issuer, source.description)


async def _run(request: Request, operation: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    result: service.ChangeResult = await write(
        request, lambda conn: operation(conn, *args, **kwargs),
        dossier_code=kwargs.get("dossier_code"))
    base = f"/api/v1/parcels/{result.parcel_id}"
    return {"change_id": result.change_id, "parcel_id": result.parcel_id,
            "versions_ended": result.ended, "versions_begun": result.begun,
            "links": {"parcel": base, "changes": f"{base}/changes"}}


@router.post("/transfer", status_code=201, summary="Transfer, inheritance or gift of rights")
async def transfer(request: Request, body: TransferIn, if_match: IfMatch = None
                   ) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    shares = [service.Share(h.party_id, *map(int, h.share.split("/"))) for h in body.holders]
    return await _run(request, service.transfer, body.parcel_id, shares, _source(body.source),
                      kind=body.kind, dossier_code=body.dossier_code, expected_change=expected)


@router.post("/mortgage", status_code=201, summary="Register a mortgage (đăng ký thế chấp)")
async def mortgage(request: Request, body: MortgageIn, if_match: IfMatch = None
                   ) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    return await _run(request, service.register_mortgage, body.parcel_id, body.lender_party_id,
                      _source(body.source), amount=body.amount, dossier_code=body.dossier_code,
                      expected_change=expected)


@router.post("/mortgage-release", status_code=201, summary="Release a mortgage")
async def mortgage_release(request: Request, body: ReleaseIn, if_match: IfMatch = None
                           ) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    return await _run(request, service.release_mortgage, body.parcel_id, body.reference,
                      _source(body.source), dossier_code=body.dossier_code,
                      expected_change=expected)


@router.post("/injunction", status_code=201,
             summary="Block transactions (ngăn chặn) by a court or authority order")
async def injunction(request: Request, body: InjunctionIn, if_match: IfMatch = None
                     ) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    return await _run(request, service.set_injunction, body.parcel_id,
                      body.authority_party_id, _source(body.source),
                      dossier_code=body.dossier_code, expected_change=expected)


@router.post("/injunction-release", status_code=201, summary="Lift an injunction")
async def injunction_release(request: Request, body: ReleaseIn, if_match: IfMatch = None
                             ) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    return await _run(request, service.lift_injunction, body.parcel_id, body.reference,
                      _source(body.source), dossier_code=body.dossier_code,
                      expected_change=expected)


def _srid_of(crs: str) -> int:
    from cadastre.parcels.queries import parse_crs

    return parse_crs(crs)


@router.post("/purpose", status_code=201, summary="Change of land-use purpose")
async def purpose(request: Request, body: PurposeChangeIn, if_match: IfMatch = None
                  ) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    purposes = [spatial.Purpose(p.code, p.area, p.term_end, p.origin) for p in body.purposes]
    return await _run(request, spatial.change_purpose, body.parcel_id, purposes,
                      _source(body.source), dossier_code=body.dossier_code,
                      expected_change=expected)


@router.post("/split", status_code=201, summary="Split a parcel (tách thửa)")
async def split(request: Request, body: SplitIn, if_match: IfMatch = None) -> dict[str, Any]:
    expected = parcel_state(if_match, body.parcel_id)
    srid = _srid_of(body.crs)

    def operation(conn: Any) -> service.ChangeResult:
        line = None if body.cut_line is None else spatial.to_storage_wkt(
            conn, body.cut_line, srid)
        children = None if body.children is None else [
            spatial.to_storage_wkt(conn, c, srid) for c in body.children]
        holders = None if body.child_holders is None else [
            [service.Share(h.party_id, *map(int, h.share.split("/"))) for h in shares]
            for shares in body.child_holders]
        result, kids = spatial.split_parcel(
            conn, body.parcel_id, _source(body.source), cut_line_wkt=line,
            children_wkt=children, child_holders=holders, dossier_code=body.dossier_code,
            expected_change=expected, tolerance=body.tolerance_m2)
        split_children[:] = kids
        return result

    split_children: list[int] = []
    response = await _run(request, operation)
    response["children"] = split_children
    return response


@router.post("/merge", status_code=201, summary="Merge adjacent parcels (hợp thửa)",
             description="If-Match lists the ETag of every parcel merged.")
async def merge(request: Request, body: MergeIn, if_match: IfMatchEach = None
                ) -> dict[str, Any]:
    expected = parcel_states(if_match, body.parcel_ids)
    merged: list[int] = []

    def operation(conn: Any) -> service.ChangeResult:
        result, child = spatial.merge_parcels(
            conn, body.parcel_ids, _source(body.source),
            allow_different_holders=body.allow_different_holders,
            dossier_code=body.dossier_code, expected_changes=expected)
        merged.append(child)
        return result

    response = await _run(request, operation)
    response["merged_parcel_id"] = merged[0]
    return response


@router.post("/boundary-correction", status_code=201,
             summary="Move the boundary between two neighbours",
             description="If-Match lists the ETags of both parcels.")
async def boundary(request: Request, body: BoundaryIn, if_match: IfMatchEach = None
                   ) -> dict[str, Any]:
    expected = parcel_states(if_match, [body.first_parcel_id, body.second_parcel_id])
    srid = _srid_of(body.crs)

    def operation(conn: Any) -> service.ChangeResult:
        return spatial.correct_boundary(
            conn, body.first_parcel_id, spatial.to_storage_wkt(conn, body.first, srid),
            body.second_parcel_id, spatial.to_storage_wkt(conn, body.second, srid),
            _source(body.source), dossier_code=body.dossier_code,
            expected_changes=expected, tolerance=body.tolerance_m2)

    return await _run(request, operation)
