"""Request bodies of the party routes (người sử dụng đất): a new party, an edit, a
household's or group's member, a merge of a duplicate. The checks a user would meet
(CCCD against birth year and sex, passports and nationalities, tax codes, which kind carries
what) are the domain's (cadastre.parties), answered 422 naming what is wrong."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.bounds import RowId
from api.schemas.changes import Source

PartyKindName = Literal["individual", "household", "group", "organisation", "religious",
                        "community", "overseas_vietnamese", "foreigner"]


class IdentityIn(BaseModel):
    """Who a person is: the identity document, birth and sex. Given whole: an edit that
    names ``identity`` replaces every field of it, so that it is checked as a whole."""

    model_config = ConfigDict(extra="forbid")

    id_kind: Literal["cccd", "cmnd", "passport"] | None = Field(
        None, description="cccd: căn cước (công dân), 12 digits; cmnd: chứng minh nhân dân, "
        "9 digits; passport (hộ chiếu), with the nationality")
    id_number: str | None = Field(None, min_length=1, max_length=40,
                                  examples=["001090012345"])
    nationality: str | None = Field(
        None, pattern=r"^\s*[A-Za-z]{2,3}\s*$",
        description="ISO 3166-1 alpha-2 or alpha-3 (a passport's issuing country)",
        examples=["KR"])
    birth_date: date | None = None
    birth_year: int | None = Field(None, ge=1000, le=9999, examples=[1990])
    gender: Literal["male", "female"] | None = None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: RowId
    role: Literal["head", "spouse", "member", "representative"] = Field(
        "member", description="A household's head (chủ hộ), spouse or member; a group's "
        "member or representative")
    share: str | None = Field(None, pattern=r"^[0-9]{1,6}/[0-9]{1,6}$",
                              description="A group member's share", examples=["1/2"])


class PartyIn(BaseModel):
    """A new party. A household's or group's members may be given with it, proven by
    ``source`` (the residence record, a contract)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "individual", "name": "Nguyễn Văn An",
         "identity": {"id_kind": "cccd", "id_number": "001090012345", "birth_year": 1990,
                      "gender": "male"}, "address": "Số 5 Hàng Bạc, Hoàn Kiếm, Hà Nội"},
        {"kind": "organisation", "name": "Công ty TNHH Minh Phát",
         "organisation_code": "0101234567"},
        {"kind": "foreigner", "name": "KIM MIN-JUN",
         "identity": {"id_kind": "passport", "id_number": "M12345678",
                      "nationality": "KR"}}]})

    kind: PartyKindName
    name: str = Field(min_length=1, max_length=300)
    organisation_code: str | None = Field(
        None, max_length=20, description="Tax or enterprise code: 10 digits, or 10-3 for "
        "a branch", examples=["0101234567"])
    identity: IdentityIn | None = None
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=254)
    members: list[MemberIn] | None = Field(None, min_length=1, max_length=50)
    source: Source | None = Field(None, description="The document proving the members")
    dossier_code: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _members_have_a_source(self) -> Self:
        if self.members and self.source is None:
            raise ValueError("members are added with the document that proves them: give "
                             "source")
        return self


class PartyEdit(BaseModel):
    """The fields to change; a field given as null is cleared (not the name)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"address": "Số 12 Lý Thái Tổ, Hoàn Kiếm, Hà Nội"},
        {"identity": {"id_kind": "cccd", "id_number": "001090012345", "birth_year": 1990,
                      "gender": "male"}}]})

    name: str | None = Field(None, min_length=1, max_length=300)
    organisation_code: str | None = Field(None, max_length=20)
    identity: IdentityIn | None = None
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=254)


class MemberAddIn(MemberIn):
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"party_id": 12, "role": "spouse",
         "source": {"kind": "other", "reference": "Xác nhận thông tin cư trú số 123"}}]})


class MemberEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Source
    dossier_code: str | None = Field(None, max_length=64)


class PartyMergeIn(BaseModel):
    """The party this one (a duplicate record) is merged into, and the document that
    proves they are one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"into": 7, "source": {"kind": "decision",
                               "reference": "Phiếu đính chính hồ sơ số 12/2026"}}]})

    into: RowId
    source: Source
    dossier_code: str | None = Field(None, max_length=64)
