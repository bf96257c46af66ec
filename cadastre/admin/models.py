"""ORM models of the administrative units and their succession (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Computed, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import DATERANGE, JSONB, Range
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class AdminUnit(Base):
    __tablename__ = "admin_unit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    level: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("admin_unit.id"))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    validity: Mapped[Range[Any] | None] = mapped_column(
        DATERANGE, Computed("daterange(valid_from, valid_to, '[]')")
    )
    tm3_epsg: Mapped[int | None] = mapped_column(Integer)
    remote: Mapped[bool] = mapped_column(server_default="false")
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=-1, spatial_index=False)
    )
    source: Mapped[str | None] = mapped_column(Text)  # e.g. 'vietnam-provinces 2025.10.1'


class AdminUnitSuccession(Base):
    __tablename__ = "admin_unit_succession"

    predecessor_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("admin_unit.id"), primary_key=True
    )
    successor_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("admin_unit.id"), primary_key=True
    )
    effective_on: Mapped[date]
    kind: Mapped[str] = mapped_column(Text)
    main: Mapped[bool] = mapped_column(server_default="true")  # the default one of a split


class AdminUnitLoad(Base):
    """One load of the units from the pinned packages that changed something."""

    __tablename__ = "admin_unit_load"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(server_default="now()")
    loaded_by: Mapped[str] = mapped_column(Text, server_default="current_user")
    source: Mapped[str] = mapped_column(Text)
    packages: Mapped[dict[str, Any]] = mapped_column(JSONB)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
