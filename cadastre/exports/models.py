"""ORM model of the export jobs (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class ExportJob(Base):
    """One export (API job or command line): who exported what, and how it ended."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requested_by: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("app_user.id"))
    role: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    collection: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    crs: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    feature_count: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    file_path: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default="clock_timestamp()")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
