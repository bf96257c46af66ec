"""Where every change to the register starts: its change_transaction row, the documents
that prove it (source_document) and their links (change_source), in the caller's
transaction. Every writer (the change operations, the importers, the demo) starts here.

The caller takes the locks the change needs first (``service.lock_parcel`` for a parcel,
``importers.load.begin_import`` for an import)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.changes.models import ChangeSource, ChangeTransaction
from cadastre.changes.models import SourceDocument as SourceDocumentRow
from cadastre.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """The document that proves a change (contract, decision, court order, legacy file...)."""

    kind: str
    reference: str
    issued_on: date | None = None
    issuer: str | None = None
    description: str | None = None
    sha256: str | None = None  # of the file, when the document is one
    storage_path: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedChange:
    change_id: int
    #: The one instant at which the versions the change ends end and those it begins begin.
    happened_at: datetime
    source_ids: tuple[int, ...]


#: When a change happens: the clock at its INSERT (two changes of one transaction get
#: distinct, ordered instants), or the transaction's start, which is also where a version
#: row inserted without a lifespan begins (the column's default).
INSTANTS: dict[str, Callable[[], sa.FunctionElement[datetime]]] = {
    "clock": sa.func.clock_timestamp, "transaction": sa.func.now}


def record_change(
    conn: Connection, kind: str, sources: Sequence[SourceDocument], *,
    dossier_code: str | None = None, note: str | None = None,
    instant: Literal["clock", "transaction"] = "clock",
) -> RecordedChange:
    """Insert the change and its source documents; the change's id and instant are what its
    version rows are begun and ended by."""
    if any(not source.reference.strip() for source in sources):
        raise InvalidInput("a change needs the reference of its source document")
    change_id, at = conn.execute(
        sa.insert(ChangeTransaction)
        .values(kind=kind, happened_at=INSTANTS[instant](), dossier_code=dossier_code,
                note=note)
        .returning(ChangeTransaction.id, ChangeTransaction.happened_at)).one()
    source_ids = tuple(int(conn.execute(
        sa.insert(SourceDocumentRow).values(
            kind=source.kind, reference=source.reference, issued_on=source.issued_on,
            issuer=source.issuer, description=source.description, sha256=source.sha256,
            storage_path=source.storage_path)
        .returning(SourceDocumentRow.id)).scalar_one()) for source in sources)
    for source_id in source_ids:
        conn.execute(sa.insert(ChangeSource).values(change_id=change_id, source_id=source_id))
    return RecordedChange(int(change_id), at, source_ids)
