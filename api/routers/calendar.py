"""The working-day calendar: anyone reads it (the loaded years, a year's days off and days
worked, the appointment a dossier would get); an administrator records, corrects and ends
the government's swap announcements (versioned entries: a correction is the entry's next
version, If-Match names the version read)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from api.bounds import PathId
from api.deps import read, require, write
from api.preconditions import entity_tags
from api.problems import PreconditionFailed
from api.responses import JSONResponse
from api.schemas.calendar import SwapEdit, SwapEnd, SwapIn
from cadastre.access import Role
from cadastre.dossiers import calendar_admin
from cadastre.dossiers.calendar import MAX_DAYS

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])
_TAG = re.compile(r"calendar-entry-(\d{1,19})\.(\d{1,19})")
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The entry's ETag "
                                       "(required)")]


def _expected_version(if_match: str | None, swap_id: int) -> int:
    """The version of entry ``swap_id`` that the editor read."""
    tags = entity_tags(if_match, what=f"calendar entry {swap_id}",
                       hint=f"GET /api/v1/calendar/swaps/{swap_id}")
    match = _TAG.fullmatch(tags[0]) if len(tags) == 1 else None
    if match is None or int(match.group(1)) != swap_id:
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of calendar entry "
                                 f"{swap_id}")
    return int(match.group(2))


def _entry(entry: dict[str, Any], status: int = 200) -> Response:
    return JSONResponse(entry, status_code=status,
                        headers={"ETag": entry["etag"], "Cache-Control": "no-cache"})


@router.get("/years", summary="The years with a holiday calendar, and their source")
async def years(request: Request) -> list[dict[str, Any]]:
    return await read(request, calendar_admin.years)


@router.get("/due", summary="The appointment date of a dossier received on a day")
async def due(request: Request,
              received: Annotated[date, Query(alias="from", ge=date(1900, 1, 1),
                                              le=date(2100, 12, 31),
                                              description="Reception day")],
              days: Annotated[int, Query(ge=0, le=MAX_DAYS, description="Statutory time "
                                         "in working days")],
              commune: Annotated[str | None, Query(min_length=1, max_length=10, description=
                                                   "Commune code (remote communes get "
                                                   "extra days)")] = None,
              ) -> dict[str, Any]:
    return await read(request, lambda c: calendar_admin.due(
        c, received=received, days=days, commune_code=commune))


@router.get("/swaps", summary="The administrator's calendar entries (staff)",
            dependencies=[require(Role.ADMIN, Role.SUPERVISOR)])
async def swaps(request: Request,
                year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
                history: Annotated[bool, Query(description="Every version, ended ones "
                                               "too")] = False) -> list[dict[str, Any]]:
    return await read(request, lambda c: calendar_admin.swaps(
        c, year=year, history=history))


@router.post("/swaps", summary="Record a swap announcement (admin)", status_code=201,
             dependencies=[require(Role.ADMIN)])
async def add_swap(request: Request, body: SwapIn) -> Response:
    entry = await write(request, lambda c: calendar_admin.add_swap(
        c, day=body.day, kind=body.kind, name=body.name, legal_basis=body.legal_basis))
    response = _entry(entry, 201)
    response.headers["Location"] = f"/api/v1/calendar/swaps/{entry['swap_id']}"
    return response


@router.get("/swaps/{swap_id}", summary="An entry's versions, with the ETag of the one in "
            "force (staff)", dependencies=[require(Role.ADMIN, Role.SUPERVISOR)])
async def swap(request: Request, swap_id: PathId) -> Response:
    versions = await read(request, lambda c: calendar_admin.swap_versions(c, swap_id))
    current = versions[-1]
    headers = {"Cache-Control": "no-cache"}
    if current["valid_until"] is None:
        headers["ETag"] = current["etag"]
    return JSONResponse({"swap_id": swap_id, "versions": versions}, headers=headers)


@router.patch("/swaps/{swap_id}", summary="Correct an entry: its next version (admin)",
              dependencies=[require(Role.ADMIN)])
async def edit_swap(request: Request, swap_id: PathId, body: SwapEdit,
                    if_match: IfMatch = None) -> Response:
    expected = _expected_version(if_match, swap_id)
    entry = await write(request, lambda c: calendar_admin.edit_swap(
        c, swap_id, expected_version=expected, day=body.day, kind=body.kind, name=body.name,
        legal_basis=body.legal_basis))
    return _entry(entry)


@router.post("/swaps/{swap_id}/end", summary="End an entry (admin)",
             dependencies=[require(Role.ADMIN)])
async def end_swap(request: Request, swap_id: PathId, body: SwapEnd,
                   if_match: IfMatch = None) -> dict[str, Any]:
    expected = _expected_version(if_match, swap_id)
    return await write(request, lambda c: calendar_admin.end_swap(
        c, swap_id, legal_basis=body.legal_basis, expected_version=expected))


@router.get("/{year}", summary="A year's days off and days worked, as appointments count "
            "them")
async def year_calendar(request: Request,
                        year: Annotated[int, Path(ge=1900, le=2100)]) -> dict[str, Any]:
    return await read(request, lambda c: calendar_admin.year_calendar(
        c, year))
