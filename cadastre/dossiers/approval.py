"""A dossier's approval applies its procedure's change operation (``procedure.operation``,
a name in the operations catalogue) to the dossier's parcel, in the approval's transaction
and against the parcel state the approver saw."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.changes import operations
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import ChangeResult
from cadastre.dossiers import service
from cadastre.errors import InvalidInput


def apply_change(conn: Connection, code: str, change: Mapping[str, Any], *,
                 source_kind: str, source_reference: str | None,
                 states: Callable[[list[int]], Mapping[int, int]]) -> ChangeResult:
    """Apply the operation of dossier ``code``'s procedure with the approval's ``change``
    (holders, lender and amount, reference: what the operation's parameters need besides
    the dossier's parcels). ``states`` gives the last change the approver saw of each
    parcel the operation changes; it is asked once the parameters are known to be whole.
    The source document's reference defaults to the dossier's code."""
    dossier = service.get(conn, code)
    procedure = dossier["procedure_code"]
    name = conn.execute(sa.text("SELECT operation FROM procedure WHERE code = :p"),
                        {"p": procedure}).scalar()
    parcels = dossier["parcel_ids"]
    if not parcels:
        raise InvalidInput("the dossier names no parcel to change")
    if name is None:
        raise InvalidInput(f"approval of {procedure} applies its change through "
                           "/api/v1/changes (not automated here)")
    operation = operations.operation(name)
    parameters = operation.validate({**change, "parcel_id": parcels[0], "parcel_ids": parcels},
                                    what=f"the approval of {operation.title}")
    return operation.run(conn, parameters, operations.Context(
        SourceDocument(source_kind, source_reference or code), code,
        states(parameters.parcels())))
