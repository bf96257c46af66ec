"""The party register (người sử dụng đất, chủ sở hữu tài sản gắn liền với đất): create, read,
edit and find parties; households' and groups' members; merge a duplicate into the party it
repeats.

Staff who see holders' names read parties (counter clerks and supervisors with ID numbers
masked, without birth, address or contact); counter clerks, land officers and admins create
and edit them; land officers and admins merge them (a merge moves rights). Analysts are
refused (403). Every response that shows a person's name or personal data is recorded as a
read of personal data; edits name the party's ETag in If-Match (428 without, 412 for an
older version)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from api.bounds import PathId
from api.deps import actor, require, write
from api.preconditions import party_version, party_versions
from api.responses import JSONResponse
from api.schemas.changes import Source
from api.schemas.parties import (
    IdentityIn,
    MemberAddIn,
    MemberEndIn,
    PartyEdit,
    PartyIn,
    PartyKindName,
    PartyMergeIn,
)
from cadastre.access import ACCOUNT_ROLES, Role, rule
from cadastre.audit.service import Actor, log_personal_read_sync
from cadastre.changes import operations
from cadastre.changes.record import SourceDocument
from cadastre.parties import lookup, service

router = APIRouter(prefix="/api/v1/parties", tags=["parties"])
#: The roles that see holders' names (cadastre.access): clerks, supervisors, officers, admins.
READERS = require(*(role for role in ACCOUNT_ROLES if rule(role).names))
WRITERS = require(Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.ADMIN)
MERGERS = require(Role.LAND_OFFICER, Role.ADMIN)

IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="The party's ETag (required): the version you read")]
IfMatchBoth = Annotated[str | None, Header(
    alias="If-Match", description="The ETags of the duplicate and of the party it is merged "
    'into, in one list (`"party-9-2", "party-7-5"`; required)')]


def _source(source: Source) -> SourceDocument:
    return SourceDocument(source.kind, source.reference, source.issued_on, source.issuer,
                          source.description)


def _identity(given: IdentityIn | None) -> service.Identity | None:
    return None if given is None else service.Identity(**given.model_dump())


def _shown(conn: Any, who: Actor, view: dict[str, Any], reason: str,
           row_key: dict[str, Any]) -> dict[str, Any]:
    """``view`` after recording, in its transaction, the read of the people it shows."""
    people = lookup.people_shown(view)
    if people:
        log_personal_read_sync(conn, who, party_ids=people, table="party", row_key=row_key,
                               reason=reason)
    return view


def _party_response(view: dict[str, Any], status: int = 200,
                    extra: dict[str, Any] | None = None) -> Response:
    party_id = view["party_id"]
    headers = {"ETag": view.pop("etag"), "Cache-Control": "private, no-cache"}
    if status == 201:
        headers["Location"] = f"/api/v1/parties/{party_id}"
    return JSONResponse({**view, **(extra or {})}, status_code=status, headers=headers)


@router.post("", status_code=201, dependencies=[WRITERS], summary="Register a party",
             description="An individual (CCCD checked against birth year and sex), a "
             "household or group (with members), an organisation or religious organisation "
             "(tax code), a community, an overseas Vietnamese or a foreigner (passport and "
             "nationality). A second party with the same identity document or tax code is "
             "refused: 409 `party-exists` with `existing_party_id`.")
async def create(request: Request, body: PartyIn) -> Response:
    who = actor(request, body.dossier_code)
    party = service.NewParty(
        kind=body.kind, name=body.name, organisation_code=body.organisation_code,
        identity=_identity(body.identity), address=body.address, phone=body.phone,
        email=body.email)

    def run(conn: Any) -> dict[str, Any]:
        party_id = service.create(conn, party=party)
        for member in body.members or []:
            assert body.source is not None
            operations.apply(conn, "party_member", {
                "party_id": party_id, "member_party_id": member.party_id,
                "role": member.role, "share": member.share}, _source(body.source),
                dossier_code=body.dossier_code)
        return _shown(conn, who, lookup.detail(conn, party_id=party_id),
                      "party registered", {"party_id": party_id})

    return _party_response(await write(request, run, who=who), 201)


@router.get("", dependencies=[READERS], summary="Find parties",
            description="By the number of an identity document (any kind), by name (accent- "
            "and case-insensitive: `nguyen van an` finds `Nguyễn Văn An`) or by a "
            "certificate's serial (its holders); exactly one of them. A page at a time: "
            "`next_offset` when there is more.")
async def find(
    request: Request,
    id_number: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    name: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
    certificate: Annotated[str | None, Query(min_length=1, max_length=40,
                                             examples=["CS 123456"])] = None,
    kind: PartyKindName | None = None,
    limit: Annotated[int, Query(ge=1, le=lookup.PAGE_MAX)] = 20,
    offset: Annotated[int, Query(ge=0, le=lookup.OFFSET_MAX)] = 0,
) -> Response:
    who = actor(request)
    by, value = next(((k, v) for k, v in (("id_number", id_number), ("name", name),
                                         ("certificate", certificate)) if v is not None),
                     ("none", None))

    def run(conn: Any) -> dict[str, Any]:
        found = lookup.find(conn, id_number=id_number, name=name, certificate=certificate,
                             kind=kind, limit=limit, offset=offset)
        return _shown(conn, who, found, "party search", {"by": by, "q": value})

    return JSONResponse(await write(request, run, who=who),
                        headers={"Cache-Control": "private, no-cache"})


@router.get("/{party_id}", dependencies=[READERS], summary="A party",
            description="Its identity as the role may see it, its members (every version), "
            "the households and groups it belongs to, the rights it holds and the "
            "certificates naming it; the ETag to edit it with.")
async def party(request: Request, party_id: PathId) -> Response:
    who = actor(request)
    view = await write(request, lambda conn: _shown(
        conn, who, lookup.detail(conn, party_id=party_id), "party", {"party_id": party_id}),
        who=who)
    return _party_response(view)


@router.patch("/{party_id}", dependencies=[WRITERS], summary="Edit a party",
              description="The fields given change (null clears one); `identity` is "
              "replaced as a whole and checked as a whole. If-Match: the party's ETag.")
async def edit(request: Request, party_id: PathId, body: PartyEdit,
               if_match: IfMatch = None) -> Response:
    expected = party_version(if_match, party_id)
    changes = {f: getattr(body, f) for f in body.model_fields_set}
    if "identity" in changes:
        changes["identity"] = _identity(body.identity)
    who = actor(request)

    def run(conn: Any) -> dict[str, Any]:
        service.edit(conn, party_id=party_id, expected_version=expected, changes=changes)
        return _shown(conn, who, lookup.detail(conn, party_id=party_id), "party edited",
                      {"party_id": party_id})

    return _party_response(await write(request, run, who=who))


async def _member_change(request: Request, name: str, party_id: int, if_match: str | None,
                         source: Source, dossier_code: str | None,
                         values: dict[str, Any]) -> Response:
    expected = party_version(if_match, party_id)
    who = actor(request, dossier_code)

    def run(conn: Any) -> dict[str, Any]:
        result = operations.apply(conn, name, {"party_id": party_id,
                                               "expected_version": expected, **values},
                                  _source(source), dossier_code=dossier_code)
        view = lookup.detail(conn, party_id=party_id)
        view["change_id"] = result.change_id
        return _shown(conn, who, view, f"household member ({name})", {"party_id": party_id})

    return _party_response(await write(request, run, who=who), 201)


@router.post("/{party_id}/members", status_code=201, dependencies=[WRITERS],
             summary="Add a member to a household or group",
             description="A change of the register (kind `party_member`) with its document. "
             "If-Match: the household's ETag.")
async def add_member(request: Request, party_id: PathId, body: MemberAddIn,
                     if_match: IfMatch = None) -> Response:
    return await _member_change(request, "party_member", party_id, if_match, body.source,
                                body.dossier_code, {"member_party_id": body.party_id,
                                                    "role": body.role, "share": body.share})


@router.post("/{party_id}/members/{member_party_id}/end", status_code=201,
             dependencies=[WRITERS], summary="End a household's or group's membership",
             description="A change of the register (kind `party_member_end`). If-Match: "
             "the household's ETag.")
async def end_member(request: Request, party_id: PathId, member_party_id: PathId,
                     body: MemberEndIn, if_match: IfMatch = None) -> Response:
    return await _member_change(request, "party_member_end", party_id, if_match,
                                body.source, body.dossier_code,
                                {"member_party_id": member_party_id})


@router.post("/{party_id}/merge", status_code=201, dependencies=[MERGERS],
             summary="Merge a duplicate party into the party it repeats",
             description="A change of the register (kind `party_merge`): the duplicate's "
             "rights, restrictions, responsibilities, certificate holdings and memberships "
             "move to `into` as new versions; the duplicate is marked merged, never deleted. "
             "Parties of different kinds or with different identity documents are refused "
             "(409 `party-merge-refused`). If-Match: both parties' ETags.")
async def merge(request: Request, party_id: PathId, body: PartyMergeIn,
                if_match: IfMatchBoth = None) -> dict[str, Any]:
    expected = party_versions(if_match, [party_id, body.into])

    def run(conn: Any) -> dict[str, Any]:
        result = operations.apply(conn, "party_merge", {
            "party_id": party_id, "into_party_id": body.into,
            "expected_versions": expected}, _source(body.source),
            dossier_code=body.dossier_code)
        return {"change_id": result.change_id, **dict(result.party or {}),
                "links": {"party": f"/api/v1/parties/{body.into}",
                          "duplicate": f"/api/v1/parties/{party_id}"}}

    return await write(request, run, dossier_code=body.dossier_code)
