"""ORM models of parcels, map sheets, land use and lineage (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, SmallInteger, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base, Versioned


class MapSheet(Versioned, Base):
    __tablename__ = "map_sheet"

    sheet_id: Mapped[int] = mapped_column(BigInteger)
    commune_code: Mapped[str] = mapped_column(Text)
    sheet_number: Mapped[str] = mapped_column(Text)
    scale: Mapped[int | None] = mapped_column(Integer)
    survey_year: Mapped[int | None] = mapped_column(SmallInteger)
    grid_reference: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("POLYGON", srid=-1, spatial_index=False)
    )


class ParcelIdentity(Base):
    __tablename__ = "parcel_identity"

    parcel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default="now()")


class Parcel(Versioned, Base):
    """One version of a land parcel (thửa đất)."""

    __tablename__ = "parcel"

    parcel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("parcel_identity.parcel_id"))
    commune_code: Mapped[str] = mapped_column(Text)
    sheet_number: Mapped[str] = mapped_column(Text)
    parcel_number: Mapped[int] = mapped_column(Integer)
    map_sheet_version: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("map_sheet.version_id")
    )
    area_measured: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    area_legal: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    address: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=-1, spatial_index=False)
    )
    source_attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class ParcelLineage(Base):
    __tablename__ = "parcel_lineage"

    parent_parcel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("parcel_identity.parcel_id"), primary_key=True
    )
    child_parcel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("parcel_identity.parcel_id"), primary_key=True
    )
    change_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("change_transaction.id"))


class LandUseType(Base):
    __tablename__ = "land_use_type"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    land_group: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    legal_basis: Mapped[str | None] = mapped_column(Text)
    #: The code that replaces an ended one (migration 0024).
    successor: Mapped[str | None] = mapped_column(Text, ForeignKey("land_use_type.code"))


class ParcelLandUse(Base):
    __tablename__ = "parcel_land_use"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_version_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("parcel.version_id"))
    land_use_code: Mapped[str] = mapped_column(Text, ForeignKey("land_use_type.code"))
    area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    term_kind: Mapped[str] = mapped_column(Text, server_default="permanent")
    term_end: Mapped[date | None]
    origin: Mapped[str | None] = mapped_column(Text)
