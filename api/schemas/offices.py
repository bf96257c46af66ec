"""Request bodies of the office and delegation routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.bounds import DIGIT, NonBlank

#: An office's code (mã cơ quan): letters, digits and dots, 3 to 32 (office.code's CHECK).
OfficeCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z.]{3,32}$", examples=["VPDK.HN"])]
#: An administrative unit's code: a province's (2 digits) or a commune's (5 digits).
UnitCode = Annotated[str, Field(pattern=rf"^{DIGIT}{{2,5}}$")]


class OfficeIn(BaseModel):
    code: OfficeCode
    name: Annotated[str, NonBlank] = Field(max_length=300)
    level: Literal["province", "commune"]
    province_code: UnitCode = Field(examples=["01"])
    commune_code: UnitCode | None = Field(None, description="The commune a commune-level "
                                          "office serves (a known commune)")
    address: Annotated[str, NonBlank] | None = Field(None, max_length=500)
    phone: str | None = Field(None, pattern=rf"^\+?{DIGIT}{{8,12}}$")


class OfficeUpdate(BaseModel):
    name: Annotated[str, NonBlank] | None = Field(None, max_length=300)
    commune_code: UnitCode | None = None
    address: Annotated[str, NonBlank] | None = Field(None, max_length=500)
    phone: str | None = Field(None, pattern=rf"^\+?{DIGIT}{{8,12}}$")


class DecisionIn(BaseModel):
    """The legal basis of a delegation: the decision (quyết định ủy quyền) that makes it."""

    number: Annotated[str, NonBlank] = Field(max_length=100, examples=["125/QĐ-UBND"])
    signed_on: date = Field(description="The decision's date")
    signer: Annotated[str, NonBlank] = Field(max_length=200,
                                             examples=["Chủ tịch UBND phường Hoàn Kiếm"])


class DelegationIn(BaseModel):
    from_office: OfficeCode
    to_office: OfficeCode
    procedures: list[Annotated[str, NonBlank]] = Field(min_length=1, max_length=50,
                                                       examples=[["TRICH-LUC"]])
    decision: DecisionIn
    valid_from: date
    valid_to: date | None = Field(None, description="The last day it holds (none: until "
                                  "it is ended)")


class DelegationEnd(BaseModel):
    valid_to: date | None = Field(None, description="The last day it holds; default "
                                  "yesterday (it holds no more from today)")
