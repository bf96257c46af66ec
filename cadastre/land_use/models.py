"""ORM models of the land-use code list's versions, the legacy codes and the loads (mirror of
sql/migrations/0024_land_use_codes_2024.sql); ``LandUseType`` is in cadastre.parcels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Computed, ForeignKey, Integer, Numeric, SmallInteger, Text
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


class LandPriceTable(Base):
    """A province's land price table, with the decision that adopted it (migration 0029)."""

    __tablename__ = "land_price_table"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    province_code: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    validity: Mapped[Range[Any] | None] = mapped_column(
        DATERANGE, Computed("daterange(valid_from, valid_to, '[]')"))
    source_file: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(server_default="now()")
    loaded_by: Mapped[str] = mapped_column(Text, server_default="current_user")


class LandPrice(Base):
    """One price of a table: road segment or zone, position, land-use code, đồng per m²."""

    __tablename__ = "land_price"

    table_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("land_price_table.id"),
                                          primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_code: Mapped[str | None] = mapped_column(Text)
    road: Mapped[str | None] = mapped_column(Text)
    segment_from: Mapped[str | None] = mapped_column(Text)
    segment_to: Mapped[str | None] = mapped_column(Text)
    zone: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    land_use_code: Mapped[str] = mapped_column(Text, ForeignKey("land_use_type.code"))
    price_vnd_m2: Mapped[Decimal] = mapped_column(Numeric(14, 0))
