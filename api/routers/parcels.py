"""Parcel lookups for land officers and one-stop counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from api import ratelimit
from api.bounds import PARCEL_NUMBER_MAX, PathId
from api.deps import Caller, Connection, actor
from api.preconditions import client_has
from api.responses import etag, state_etag
from cadastre import extent, inputs
from cadastre.access import Role
from cadastre.audit.service import log_personal_read
from cadastre.errors import InvalidInput, InvalidParameter
from cadastre.inputs import is_ascii_digits
from cadastre.layers import crs as crs_names
from cadastre.layers.crs import OutputCrs
from cadastre.parcels import queries
from gis.crs import WGS84

router = APIRouter(prefix="/api/v1", tags=["parcels"])
GEOJSON = "application/geo+json"
CrsParam = Annotated[str | None, Query(
    description="The response's CRS (OGC API - Features Part 2), e.g. EPSG:5897 (VN-2000 / "
    "TM-3 105°00'); default CRS84, WGS 84 longitude/latitude (RFC 7946). EPSG:4326 is "
    "latitude first, as EPSG defines it. `Content-Crs` names it.",
    examples=["EPSG:5897"])]


def _respond(request: Request, body: bytes, caller_role: Role, *, media_type: str = GEOJSON,
             headers: dict[str, str] | None = None, state: str | None = None) -> Response:
    """ETag on the body; 304 when the client has it. Anything carrying a role's view is
    private to that client. ``state`` (the parcel's last change) leads the ETag of a parcel
    file, so that a change request's If-Match says which state its author saw."""
    tag = etag(body) if state is None else state_etag(state, body)

    cache = ("public, max-age=60" if caller_role is Role.ANONYMOUS
             else "private, no-cache")
    common = {"ETag": tag, "Cache-Control": cache, "Vary": "Authorization, X-API-Key",
              **(headers or {})}
    if client_has(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=common)
    return Response(content=body, media_type=media_type, headers=common)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


@router.get("/parcels/at", summary="The parcel at a point",
            description="`lon`/`lat` in WGS 84, or `x`/`y` in `point-crs` (e.g. EPSG:5897: "
            "`x` is the easting or longitude, `y` the northing or latitude). `crs` names the "
            "response's CRS, not the point's.")
async def parcel_at(request: Request, conn: Connection, caller: Caller,
                    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
                    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
                    x: float | None = None, y: float | None = None,
                    crs: CrsParam = None, point_crs: Annotated[str | None, Query(
                        alias="point-crs", description="CRS of x and y (required with "
                        "them), e.g. EPSG:5897", examples=["EPSG:5897"])] = None,
                    ) -> Response:
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            raise InvalidInput("lon and lat go together")
        if x is not None or y is not None:
            raise InvalidParameter("give lon and lat, or x and y with point-crs, not both")
        if point_crs is not None:
            raise InvalidParameter("point-crs applies to x and y; lon and lat are WGS 84",
                                   hint="x=584950&y=2326060&point-crs=EPSG:5897")
        px, py, srid = lon, lat, WGS84
    elif x is not None and y is not None:
        if point_crs is None:
            raise InvalidParameter(
                "x and y need point-crs, the CRS they are in",
                hint="e.g. x=584950&y=2326060&point-crs=EPSG:5897; crs names the "
                "response's CRS")
        point = await queries.output_crs(conn, crs_names.requested_crs(point_crs, name="point-crs"),
                                         name="point-crs")
        if point.geographic and not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InvalidInput(f"x must be within ±180 and y within ±90 in {point_crs[:40]}",
                               hint="x is the longitude, y the latitude")
        px, py, srid = x, y, point.srid
    elif x is not None or y is not None:
        raise InvalidInput("x and y go together (with point-crs)")
    else:
        raise InvalidInput("give lon and lat, or x, y and point-crs")
    out = await queries.output_crs(conn, crs_names.requested_crs(crs))
    body = await queries.parcels_at(conn, px, py, srid, out, request.app.state.storage_srid)
    return _respond(request, body, caller.role, headers=_content_crs(out))


@router.get("/parcels", summary="Find parcels by reference, bounding box or certificate")
async def find_parcels(
    request: Request, conn: Connection, caller: Caller,
    commune: Annotated[str | None, Query(description="Commune code (mã xã)",
                                         examples=["00070"])] = None,
    sheet: Annotated[str | None, Query(description="Map sheet number (số tờ)")] = None,
    number: Annotated[int | None, Query(ge=1, le=PARCEL_NUMBER_MAX,
                                        description="Parcel number (số thửa)")] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs "
                                      "(default WGS 84)")] = None,
    bbox_crs: Annotated[str | None, Query(
        alias="bbox-crs", description="CRS of bbox, in its axis order (EPSG:4326: "
        "latitude first); default CRS84", examples=["EPSG:5897"])] = None,
    certificate: Annotated[str | None, Query(description="Certificate serial",
                                             examples=["CS 123456"])] = None,
    crs: CrsParam = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    _one_search(request, certificate=certificate is not None, bbox=bbox is not None,
                reference=bool(commune or sheet or number))
    out = await queries.output_crs(conn, crs_names.requested_crs(crs))
    if certificate is not None:
        body, more = await queries.parcels_by_certificate(conn, certificate, out)
    elif bbox is not None:
        box = extent.parse_bbox(bbox)
        box_crs = await queries.output_crs(conn, crs_names.requested_crs(bbox_crs, name="bbox-crs"),
                                           name="bbox-crs")
        if box_crs.lat_lon:  # given in the CRS's axis order: latitude first
            box = (box[1], box[0], box[3], box[2])
        extent.check_bbox(box, box_crs.srid, request.app.state.storage_srid)
        body, more = await queries.parcels_in_bbox(
            conn, box, box_crs.srid, out, request.app.state.storage_srid, limit=limit,
            offset=offset)
    elif commune or sheet or number:
        if commune is None:
            raise InvalidInput("a parcel reference needs the commune code (commune=)")
        body, more = await queries.parcels_by_reference(
            conn, commune, str(int(sheet)) if sheet and is_ascii_digits(sheet) else sheet, number,
            out, limit=limit, offset=offset)
    else:
        raise InvalidInput("give commune (with sheet and number), bbox or certificate")
    headers = _content_crs(out)
    if more:
        query = dict(request.query_params) | {"offset": str(offset + limit)}
        next_url = str(request.url.replace_query_params(**query))
        headers["Link"] = f'<{next_url}>; rel="next"'
    return _respond(request, body, caller.role, headers=headers)


def _one_search(request: Request, *, certificate: bool, bbox: bool, reference: bool) -> None:
    """One way of finding parcels per request, and only the parameters that apply to it."""
    given = request.query_params
    if certificate + bbox + reference > 1:
        raise InvalidParameter("give one of: commune (with sheet and number), bbox, "
                               "certificate")
    if "bbox-crs" in given and not bbox:
        raise InvalidParameter("bbox-crs needs a bbox")
    if certificate and ("limit" in given or "offset" in given):
        raise InvalidParameter("limit and offset apply to bbox and reference searches",
                               hint="a certificate's parcels come in one page")


def _content_crs(out: OutputCrs) -> dict[str, str]:
    return {"Content-Crs": out.content_crs}


def _as_of(value: date | None) -> datetime | None:
    """The end of that day, local time; a day whose end cannot be placed in the local time
    zone (the first or last day a date can name), or a day in the future, is a 422."""
    if value is None:
        return None
    return inputs.as_of(inputs.day_end(value, "as_of", in_vietnam=True))


@router.get("/parcels/{parcel_id}", summary="The parcel file",
            description="The parcel, its land-use purposes, current rights with holders and "
            "shares (personal data by role), certificates, restrictions with the injunction "
            "flag, and links to its history, lineage, changes and dossiers.")
async def parcel(request: Request, conn: Connection, caller: Caller, parcel_id: PathId,
                 crs: CrsParam = None,
                 as_of: Annotated[date | None, Query(
                     alias="as_of", description="State at the end of this day")] = None,
                 ) -> Response:
    out = await queries.output_crs(conn, crs_names.requested_crs(crs))
    feature = await queries.parcel_file(conn, parcel_id, caller.role, out, as_of=_as_of(as_of))
    shown = queries.parties_shown(feature)
    if shown:
        await log_personal_read(conn, actor(request), party_ids=shown, table="party",
                                row_key={"parcel_id": parcel_id}, reason="parcel file")
    restrictions, about = queries.financial_facts_shown(feature)
    if restrictions:
        await log_personal_read(conn, actor(request), party_ids=about, table="restriction",
                                row_key={"parcel_id": parcel_id,
                                         "restriction_ids": restrictions},
                                reason="parcel file: financial facts of restrictions")
    state = f"{parcel_id}-{feature['properties']['last_change_id']}"
    return _respond(request, _json(feature), caller.role, headers=_content_crs(out),
                    state=state)


@router.get("/parcels/{parcel_id}/history", summary="Every version of the parcel")
async def parcel_history(request: Request, conn: Connection, caller: Caller, parcel_id: PathId,
                         crs: CrsParam = None) -> Response:
    out = await queries.output_crs(conn, crs_names.requested_crs(crs))
    return _respond(request, await queries.history(conn, parcel_id, out), caller.role,
                    headers=_content_crs(out))


@router.get("/parcels/{parcel_id}/lineage", summary="Parent and child parcels")
async def parcel_lineage(request: Request, conn: Connection, caller: Caller,
                         parcel_id: PathId) -> Response:
    body = _json(await queries.lineage(conn, parcel_id))
    return _respond(request, body, caller.role, media_type="application/json")


@router.get("/parcels/{parcel_id}/changes", summary="Changes with their documents")
async def parcel_changes(request: Request, conn: Connection, caller: Caller,
                         parcel_id: PathId) -> Response:
    found = await queries.changes(conn, parcel_id, caller.role)
    private = queries.private_changes_shown(found, caller.role)
    if private:
        await log_personal_read(
            conn, actor(request), party_ids=await queries.parties_of_changes(
                conn, parcel_id, private), table="change_transaction",
            row_key={"parcel_id": parcel_id, "change_ids": private},
            reason="parcel changes: documents of private changes")
    return _respond(request, _json(found), caller.role, media_type="application/json")


@router.get("/parcels/{parcel_id}/dossiers", summary="One-stop dossiers that changed it")
async def parcel_dossiers(request: Request, conn: Connection, caller: Caller,
                          parcel_id: PathId) -> Response:
    body = _json(await queries.dossiers(conn, parcel_id))
    return _respond(request, body, caller.role, media_type="application/json")


@router.get("/search", summary="Accent-insensitive search",
            description="Addresses and parcel references for everyone; holders' names for "
            "roles entitled to personal data. 'nguyen van an' finds 'Nguyễn Văn An'.")
async def search(request: Request, conn: Connection, caller: Caller,
                 q: Annotated[str, Query(min_length=2, max_length=200)],
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
    await ratelimit.search(request, caller, conn)
    found = await queries.search(conn, q, caller.role, limit=limit)
    shown = [r["party_id"] for r in found["results"] if r.get("party_id") is not None]
    if shown:
        await log_personal_read(conn, actor(request), party_ids=shown, table="party",
                                row_key={"q": q}, reason="holder search")
    return _respond(request, _json(found), caller.role, media_type="application/json")
