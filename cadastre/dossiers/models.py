from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class PublicHoliday(Base):
    __tablename__ = "public_holiday"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, server_default="holiday")
    source: Mapped[str] = mapped_column(Text)


class CalendarSetting(Base):
    __tablename__ = "calendar_setting"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
