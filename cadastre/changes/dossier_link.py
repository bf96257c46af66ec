"""The dossier a change names (change_transaction.dossier_code): the one-stop dossier that
caused it. It must exist (the database's foreign key too), still be open, and be about the
parcels the change touches: parcels the dossier names, or parcels an earlier change of the
same dossier made (the child of a split that the dossier's next step sells)."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.errors import Conflict, InvalidInput

#: A dossier in these states is closed: no change is recorded for it any more.
CLOSED_STATES = ("returned", "withdrawn", "rejected")


class UnknownDossier(InvalidInput):
    code = "unknown-dossier"


class DossierClosed(Conflict):
    code = "dossier-closed"


class ParcelNotInDossier(Conflict):
    code = "parcel-not-in-dossier"


def check_dossier(conn: Connection, code: str, parcel_ids: Collection[int]) -> None:
    """Refuse a change recorded for dossier ``code`` unless the dossier exists, is open and
    is about every parcel in ``parcel_ids``. The dossier's row is share-locked until the
    end of the transaction, so it is not closed while the change is being written."""
    row = conn.execute(sa.text(
        "SELECT status, parcel_ids FROM dossier WHERE code = :c FOR SHARE"),
        {"c": code}).first()
    if row is None:
        raise UnknownDossier(f"no dossier {code!r}: a change names the dossier that caused it",
                             hint="leave dossier_code out for a change no dossier caused")
    if row.status in CLOSED_STATES:
        raise DossierClosed(f"dossier {code} is {row.status}: no change is recorded for it")
    outside = set(parcel_ids) - set(row.parcel_ids)
    if outside:
        made = set(conn.execute(sa.text(
            "SELECT l.child_parcel_id FROM parcel_lineage l "
            "JOIN change_transaction c ON c.id = l.change_id "
            "WHERE l.child_parcel_id = ANY(:p) AND c.dossier_code = :c"),
            {"p": sorted(outside), "c": code}).scalars())
        outside -= made
    if outside:
        listed = ", ".join(map(str, sorted(outside)))
        raise ParcelNotInDossier(
            f"dossier {code} is not about parcel {listed}: it names parcels "
            f"{', '.join(map(str, row.parcel_ids)) or 'none'}",
            hint="record the change for the dossier that names the parcel")
