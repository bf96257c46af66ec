"""ORM models of the land-use code list's versions, the legacy codes and the loads (mirror of
sql/migrations/0024_land_use_codes_2024.sql); ``LandUseType`` is in cadastre.parcels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Computed, ForeignKey, Text
from sqlalchemy.dialects.postgresql import DATERANGE, JSONB, Range
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class LandUseTypeVersion(Base):
    """One period of a code: its name, group and legal basis from valid_from to valid_to."""

    __tablename__ = "land_use_type_version"

    code: Mapped[str] = mapped_column(Text, ForeignKey("land_use_type.code"), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    land_group: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(primary_key=True)
    valid_to: Mapped[date | None]
    legal_basis: Mapped[str] = mapped_column(Text)
    validity: Mapped[Range[Any] | None] = mapped_column(
        DATERANGE, Computed("daterange(valid_from, valid_to, '[]')")
    )


class LandUseLegacyCode(Base):
    """A code of an older list and today's code for it (importers.land_use_codes)."""

    __tablename__ = "land_use_legacy_code"

    source_code: Mapped[str] = mapped_column(Text, primary_key=True)
    meaning_vi: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text, ForeignKey("land_use_type.code"))
    target_rural: Mapped[str | None] = mapped_column(Text, ForeignKey("land_use_type.code"))
    legal_basis: Mapped[str] = mapped_column(Text)


class LandUseListLoad(Base):
    """One load of the code list, with the files' text."""

    __tablename__ = "land_use_list_load"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(server_default="now()")
    loaded_by: Mapped[str] = mapped_column(Text, server_default="current_user")
    types_source: Mapped[str] = mapped_column(Text)
    types_sha256: Mapped[str] = mapped_column(Text)
    types_csv: Mapped[str] = mapped_column(Text)
    legacy_source: Mapped[str] = mapped_column(Text)
    legacy_sha256: Mapped[str] = mapped_column(Text)
    legacy_csv: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
