"""An injunction (biện pháp ngăn chặn) blocks the procedures that would move or burden a
parcel: a dossier of a procedure marked ``blocked_by_injunction`` (migration 0018: the
transfers, the mortgage, split and merge) is not received, nor approved, while a parcel it
names is under an active injunction. The injunction is named by its order's reference to
the roles that see references (restriction_visible: every staff role that receives or
approves dossiers), otherwise as "an active injunction"."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.changes.service import injunction_references
from cadastre.errors import Conflict


class ParcelEnjoined(Conflict):
    code = "parcel-enjoined"


def refuse_if_enjoined(conn: Connection, procedure_code: str, parcel_ids: Sequence[int], *,
                       at: str = "received") -> None:
    """ParcelEnjoined when the procedure is blocked by injunctions and one of the parcels
    is under an active one (``at``: what is refused, "received" or "approved")."""
    if not parcel_ids:
        return
    blocked = conn.execute(sa.text(
        "SELECT blocked_by_injunction FROM procedure WHERE code = :p"),
        {"p": procedure_code}).scalar()
    if not blocked:
        return
    found = injunction_references(conn, parcel_ids)
    if not found:
        return
    named = "; ".join(
        f"parcel {parcel} is under "
        + ", ".join(f"injunction {r}" if r else "an active injunction" for r in references)
        for parcel, references in sorted(found.items()))
    raise ParcelEnjoined(
        f"a dossier of {procedure_code} is not {at} while a parcel it names is under an "
        f"injunction (ngăn chặn): {named}",
        hint=f"the dossier can be {at} once the injunction is lifted")
