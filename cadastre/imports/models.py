"""ORM models of the import runs and their quarantine (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import REAL, BigInteger, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class ImportRun(Base):
    """One committed import (a failed import leaves nothing: it is one transaction)."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(Text)
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    profile: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(Text)
    encoding_confidence: Mapped[float | None] = mapped_column(REAL)
    source_crs: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(server_default="clock_timestamp()")
    recorded_by: Mapped[str] = mapped_column(Text, server_default="current_user")
    change_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("change_transaction.id"))
    source_document_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("source_document.id"))


class ImportQuarantine(Base):
    """A rejected feature with its reason, attributes and geometry as read (any SRID)."""

    __tablename__ = "import_quarantine"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("import_run.id"))
    dataset: Mapped[str] = mapped_column(Text)
    layer: Mapped[str | None] = mapped_column(Text)
    feature_index: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    identity: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=-1, spatial_index=False))
