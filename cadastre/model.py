"""Declarative base and the columns every versioned table shares.

The models mirror ``sql/migrations`` (the schema's source of truth; there is no
``create_all``). Geometry columns are declared with ``srid=-1``: the storage SRID is fixed
per database at ``cadastre db init`` and travels inside each EWKB value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey
from sqlalchemy.dialects.postgresql import TSTZRANGE, Range
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


class Versioned:
    """LADM VersionedObject: a half-open lifespan and the changes that began/ended it."""

    version_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lifespan: Mapped[Range[Any]] = mapped_column(TSTZRANGE, server_default="tstzrange(now(), NULL)")

    @declared_attr
    def begun_by(cls) -> Mapped[int]:
        return mapped_column(BigInteger, ForeignKey("change_transaction.id"))

    @declared_attr
    def ended_by(cls) -> Mapped[int | None]:
        return mapped_column(BigInteger, ForeignKey("change_transaction.id"))
