"""ORM models of parties, their personal data and members (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base, Versioned


class Party(Base):
    __tablename__ = "party"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    organisation_code: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default="now()")
    #: Moved by every edit (sql/functions/parties.sql): the ETag of an edit.
    row_version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[str | None] = mapped_column(Text)
    edited_at: Mapped[datetime | None]
    edited_by: Mapped[str | None] = mapped_column(Text)
    #: The party this duplicate was merged into, and the change that merged it.
    merged_into: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("party.id"))
    merged_by: Mapped[int | None] = mapped_column(BigInteger,
                                                  ForeignKey("change_transaction.id"))


class PartyPersonal(Base):
    """Personal data, kept apart so that privileges can differ (never for analysts)."""

    __tablename__ = "party_personal"

    party_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("party.id"), primary_key=True)
    id_kind: Mapped[str | None] = mapped_column(Text)
    national_id: Mapped[str | None] = mapped_column(Text)
    birth_date: Mapped[date | None]
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    #: ISO 3166-1 alpha-3; a passport's issuing country.
    nationality: Mapped[str | None] = mapped_column(Text)


class PartyMember(Versioned, Base):
    __tablename__ = "party_member"

    group_party_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("party.id"))
    member_party_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("party.id"))
    role: Mapped[str] = mapped_column(Text, server_default="member")
    share_numerator: Mapped[int | None] = mapped_column(Integer)
    share_denominator: Mapped[int | None] = mapped_column(Integer)
