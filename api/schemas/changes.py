"""Request bodies of the change routes: rights (transfer, mortgage, injunction) and the map
(purpose, split, merge, boundary correction), each with the document that proves it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.bounds import AMOUNT_MAX, RowId


class Source(BaseModel):
    kind: Literal["contract", "decision", "certificate", "court_order", "survey",
                  "application", "other"]
    reference: str = Field(min_length=1, max_length=200, examples=["1234/2026/HĐCN"])
    issued_on: date | None = None
    issuer: str | None = Field(None, max_length=300,
                               examples=["Văn phòng công chứng Hoàn Kiếm"])
    description: str | None = Field(None, max_length=2000)


class HolderShare(BaseModel):
    party_id: RowId
    share: str = Field("1/1", pattern=r"^\d{1,6}/\d{1,6}$", examples=["1/2"])


class TransferIn(BaseModel):
    parcel_id: RowId
    kind: Literal["transfer", "inheritance", "gift"] = "transfer"
    holders: list[HolderShare] = Field(min_length=1, max_length=50)
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "kind": "transfer",
        "holders": [{"party_id": 101, "share": "1/2"}, {"party_id": 102, "share": "1/2"}],
        "source": {"kind": "contract", "reference": "1234/2026/HĐCN",
                   "issued_on": "2026-11-20", "issuer": "Văn phòng công chứng Hoàn Kiếm"},
        "dossier_code": "000.00.37.H49-261127-0001"}]}}


class MortgageIn(BaseModel):
    parcel_id: RowId
    lender_party_id: RowId
    amount: int | None = Field(None, ge=0, le=AMOUNT_MAX, examples=[2_000_000_000])
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "lender_party_id": 20001, "amount": 2_000_000_000,
        "source": {"kind": "contract", "reference": "77/2026/HĐTC",
                   "issued_on": "2026-11-25"}}]}}


class ReleaseIn(BaseModel):
    parcel_id: RowId
    reference: str = Field(min_length=1, max_length=200,
                           description="Reference of the mortgage or injunction to end")
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "reference": "77/2026/HĐTC",
        "source": {"kind": "application", "reference": "Đơn xóa thế chấp số 12"}}]}}


class InjunctionIn(BaseModel):
    parcel_id: RowId
    authority_party_id: RowId | None = None
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "source": {"kind": "court_order", "reference": "45/2026/QĐ-BPKCTT",
                                   "issuer": "TAND quận Hoàn Kiếm"}}]}}


class PurposeIn(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{2,4}$", examples=["ODT"])
    area: float | None = Field(None, gt=0, examples=[120.0])
    term_end: date | None = None
    origin: str | None = Field(None, max_length=500)


class PurposeChangeIn(BaseModel):
    parcel_id: RowId
    purposes: list[PurposeIn] = Field(min_length=1, max_length=20)
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "purposes": [{"code": "ODT", "area": 120.0},
                                     {"code": "TMD", "area": 60.5}],
        "source": {"kind": "decision", "reference": "312/QĐ-UBND"}}]}}


class SplitIn(BaseModel):
    parcel_id: RowId
    cut_line: str | None = Field(None, max_length=100_000,
                                 description="WKT LINESTRING crossing the parcel")
    children: list[str] | None = Field(None, min_length=2, max_length=100,
                                       description="WKT polygons covering the parcel exactly")
    crs: str = Field("EPSG:5897", description="CRS of the WKT")
    child_holders: list[list[HolderShare]] | None = Field(
        None, description="Holders of each child's land-use right, in the order of "
        "`children`; without it the parent's rights carry over to every child")
    tolerance_m2: float = Field(0.5, ge=0, le=100)
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "cut_line": "LINESTRING(584960 2326040, 584960 2326090)",
        "crs": "EPSG:5897", "source": {"kind": "decision", "reference": "77/QĐ-UBND"}}]}}


class MergeIn(BaseModel):
    parcel_ids: list[RowId] = Field(min_length=2, max_length=50)
    allow_different_holders: bool = False
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_ids": [5, 6], "source": {"kind": "decision", "reference": "78/QĐ-UBND"}}]}}


class BoundaryIn(BaseModel):
    first_parcel_id: RowId
    first: str = Field(max_length=100_000, description="WKT of the first parcel's new shape")
    second_parcel_id: RowId
    second: str = Field(max_length=100_000, description="WKT of the second's new shape")
    crs: str = "EPSG:5897"
    tolerance_m2: float = Field(0.5, ge=0, le=100)
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "first_parcel_id": 5, "first": "POLYGON((...))", "second_parcel_id": 6,
        "second": "POLYGON((...))", "crs": "EPSG:5897",
        "source": {"kind": "survey", "reference": "Biên bản đo đạc 14/2026"}}]}}
