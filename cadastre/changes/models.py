from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class SourceDocument(Base):
    __tablename__ = "source_document"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[date | None]
    issuer: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(Text)
    storage_path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(server_default="now()")
    recorded_by: Mapped[str] = mapped_column(Text, server_default="current_user")


class ChangeTransaction(Base):
    __tablename__ = "change_transaction"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    happened_at: Mapped[datetime] = mapped_column(server_default="now()")
    recorded_at: Mapped[datetime] = mapped_column(server_default="clock_timestamp()")
    recorded_by: Mapped[str] = mapped_column(Text, server_default="current_user")
    dossier_code: Mapped[str | None] = mapped_column(Text, ForeignKey("dossier.code"))
    note: Mapped[str | None] = mapped_column(Text)


class ChangeSource(Base):
    __tablename__ = "change_source"

    change_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("change_transaction.id"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("source_document.id"), primary_key=True
    )
