"""Request bodies of the change routes: rights (transfer, mortgage, injunction), obligations
(responsibility) and the map (purpose, split, merge, boundary correction), each with the
document that proves it."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from api.bounds import AMOUNT_MAX, RowId

#: A certificate's serial as printed ("CS 123456"; spacing and case do not matter).
SERIAL_PATTERN = r"^\s*[A-Za-z]{2}\s*[0-9]{6,8}\s*$"


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


class RightMoveIn(BaseModel):
    """One kind of right a transfer moves, to its own holders: their shares are of what
    moves (add up to 1). With ``from_party_id`` only that holder's share moves."""

    kind: Literal["land_use", "house_ownership", "asset_ownership"]
    holders: list[HolderShare] = Field(min_length=1, max_length=50)
    from_party_id: RowId | None = None


class CertificateChoiceIn(BaseModel):
    """What the transfer does to the certificate. ``auto`` (default): a sale of the whole
    parcel (every holder changes) ends the seller's certificate and issues the buyer's when
    ``serial`` is given, otherwise the parcel awaits its new certificate; a sale of part (a
    co-holder's share, the house alone) endorses the certificate. ``endorse`` (part only),
    ``new`` (with ``serial``) or ``await`` choose."""

    action: Literal["auto", "endorse", "new", "await"] = "auto"
    serial: str | None = Field(None, pattern=SERIAL_PATTERN, examples=["CS 123456"])
    registry_number: str | None = Field(None, max_length=40, examples=["CS 01234"])
    issuing_authority: str | None = Field(None, max_length=300)
    issued_on: date | None = None
    endorsement: str | None = Field(
        None, min_length=1, max_length=2000,
        description="The endorsement's text instead of the register's own note (shown to "
        "every reader of the parcel: no names or contract numbers)")


class TransferIn(BaseModel):
    """``holders``: the land-use right and every right to assets attached to the land its
    sellers hold move together to these holders (sellers: every land user, or
    ``from_party_id``); or ``rights``: each kind of right to its own holders."""

    parcel_id: RowId
    kind: Literal["transfer", "inheritance", "gift"] = "transfer"
    holders: list[HolderShare] | None = Field(None, min_length=1, max_length=50)
    rights: list[RightMoveIn] | None = Field(None, min_length=1, max_length=3)
    from_party_id: RowId | None = Field(
        None, description="The seller when a co-holder sells his share only")
    certificate: CertificateChoiceIn | None = None
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _holders_or_rights(self) -> Self:
        if (self.holders is None) == (self.rights is None):
            raise ValueError("give either holders or rights")
        return self

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "kind": "transfer",
        "holders": [{"party_id": 101, "share": "1/2"}, {"party_id": 102, "share": "1/2"}],
        "certificate": {"serial": "CS 123456", "registry_number": "CS 01234"},
        "source": {"kind": "contract", "reference": "1234/2026/HĐCN",
                   "issued_on": "2026-11-20", "issuer": "Văn phòng công chứng Hoàn Kiếm"},
        "dossier_code": "000.00.37.H49-261127-0001"}, {
        "parcel_id": 5, "kind": "transfer", "from_party_id": 101,
        "rights": [{"kind": "land_use", "holders": [{"party_id": 103}]},
                   {"kind": "house_ownership", "holders": [{"party_id": 103}]}],
        "source": {"kind": "contract", "reference": "1235/2026/HĐCN"}}]}}


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
    """The mortgage to end: its contract reference (with the lender when two lenders'
    contracts share it) or its restriction id."""

    parcel_id: RowId
    reference: str | None = Field(None, min_length=1, max_length=200,
                                  description="Reference of the mortgage to end")
    lender_party_id: RowId | None = None
    restriction_id: RowId | None = None
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "reference": "77/2026/HĐTC", "lender_party_id": 20001,
        "source": {"kind": "application", "reference": "Đơn xóa thế chấp số 12"}}]}}


class InjunctionReleaseIn(BaseModel):
    """The injunction to lift: its order's reference (with the authority when two orders
    share it) or its restriction id."""

    parcel_id: RowId
    reference: str | None = Field(None, min_length=1, max_length=200,
                                  description="Reference of the injunction to lift")
    authority_party_id: RowId | None = None
    restriction_id: RowId | None = None
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "reference": "45/2026/QĐ-BPKCTT",
        "source": {"kind": "court_order", "reference": "46/2026/QĐ-HBBP"}}]}}


class ResponsibilityIn(BaseModel):
    """An obligation attached to the parcel (LADM responsibility): a deferred land levy
    (ghi nợ tiền sử dụng đất), the upkeep of a corridor, an access to keep open."""

    parcel_id: RowId
    kind: Literal["deferred_land_levy", "maintenance", "access", "other"]
    description: str = Field(min_length=1, max_length=2000)
    party_id: RowId | None = Field(None, description="Who owes it (default: the holders)")
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "kind": "deferred_land_levy", "party_id": 101,
        "description": "Ghi nợ tiền sử dụng đất theo Thông báo số 12/TB-CT",
        "source": {"kind": "decision", "reference": "12/TB-CT"}}]}}


class ResponsibilityEndIn(BaseModel):
    parcel_id: RowId
    responsibility_id: RowId
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_id": 5, "responsibility_id": 3,
        "source": {"kind": "other", "reference": "Biên lai nộp tiền 45/2026"}}]}}


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
