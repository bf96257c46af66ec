"""The audit trail, for supervisors and admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.bounds import BIGINT_MAX, Instant
from api.deps import Caller, Connection, require
from cadastre.access import Role
from cadastre.audit import service

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", summary="Who wrote what, and who read whose personal data",
            description="Newest first. Writes carry the row before and after (personal data "
            "in them as the caller's role may see it: supervisors get masked ID numbers); "
            "reads of personal data name the party, the endpoint and the dossier. Page with "
            "`before_id` = the `next_before_id` of the previous page.",
            dependencies=[require(Role.SUPERVISOR, Role.ADMIN)])
async def audit(
    conn: Connection, caller: Caller,
    party: Annotated[int | None, Query(ge=1, le=BIGINT_MAX, description="party id")] = None,
    user: Annotated[str | None, Query(max_length=80, description="username")] = None,
    dossier: Annotated[str | None, Query(max_length=40)] = None,
    action: Literal["insert", "update", "delete", "bulk_insert", "read_personal"] | None = None,
    since: Annotated[Instant | None, Query(alias="from")] = None,
    until: Annotated[Instant | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_ENTRIES)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> dict[str, Any]:
    return await service.entries(conn, caller.role, party=party, user=user, dossier=dossier,
                                 action=action, since=since, until=until, limit=limit,
                                 before_id=before_id)
