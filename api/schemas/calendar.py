"""Request bodies of the calendar routes: an administrator's swap entries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.bounds import NonBlank

SwapKind = Literal["day_off", "working_day"]
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2100, 12, 31))]
Name = Annotated[str, NonBlank, Field(max_length=200, examples=["Nghỉ hoán đổi Quốc khánh"])]
Basis = Annotated[str, NonBlank, Field(max_length=300,
                                       examples=["Thông báo số 1234/TB-BNV ngày 01/06/2026"])]


class SwapIn(BaseModel):
    """A government announcement: ``day`` is off (a weekday) or worked (a Saturday or a
    Sunday), or a day the law gives that the package lacks (``day_off``)."""

    day: Day = Field(examples=["2026-08-31"])
    kind: SwapKind
    name: Name
    legal_basis: Basis


class SwapEdit(BaseModel):
    """A corrected announcement: the entry's next version (what is not sent stays)."""

    day: Day | None = None
    kind: SwapKind | None = None
    name: Name | None = None
    legal_basis: Basis | None = None


class SwapEnd(BaseModel):
    """Why the entry ends: the notice that withdrew it."""

    legal_basis: Basis
