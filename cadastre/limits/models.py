"""ORM model of the rate-limit counters (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class RateLimit(Base):
    """One counter: the hits of a key (stored as its sha256) in its current window
    (UNLOGGED, sql/migrations/0013_rate_limits.sql)."""

    __tablename__ = "rate_limit"

    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    window_end: Mapped[datetime]
    hits: Mapped[int] = mapped_column(Integer)
