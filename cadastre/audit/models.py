"""ORM model of the audit log that the database writes (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class AuditLog(Base):
    """One write or one read of personal data (append-only, sql/migrations/0011_audit.sql)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True),
                                         server_default="clock_timestamp()")
    actor: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str | None] = mapped_column(Text)
    db_user: Mapped[str] = mapped_column(Text, server_default="session_user")
    action: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str | None] = mapped_column(Text)
    row_key: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    party_id: Mapped[int | None] = mapped_column(BigInteger)
    endpoint: Mapped[str | None] = mapped_column(Text)
    dossier_code: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    transaction_id: Mapped[int] = mapped_column(BigInteger, server_default="txid_current()")
