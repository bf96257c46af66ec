"""Request bodies of the certificate routes (Giấy chứng nhận: issue, endorse, exchange,
re-issue after loss, revoke), each with the document that proves it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from api.bounds import RowId
from api.schemas.changes import SERIAL_PATTERN, Source


class _Printed(BaseModel):
    """What the new paper says of itself."""

    serial: str = Field(pattern=SERIAL_PATTERN, examples=["CS 123456"],
                        description="The blank's serial (số phát hành), printed once")
    registry_number: str | None = Field(None, max_length=40, examples=["CS 01234"],
                                        description="Số vào sổ cấp Giấy chứng nhận")
    issuing_authority: str | None = Field(
        None, max_length=300, examples=["Sở Nông nghiệp và Môi trường thành phố Hà Nội"])
    issued_on: date | None = Field(None, description="Default: today in Hà Nội")
    source: Source
    dossier_code: str | None = Field(None, max_length=64)


class CertificateIssueIn(_Printed):
    """A new certificate covering the parcels and naming the holders of their rights."""

    parcel_ids: list[RowId] = Field(min_length=1, max_length=50)
    replaces_certificate_id: RowId | None = Field(
        None, description="Default: the certificate these parcels awaited a successor for")

    model_config = {"json_schema_extra": {"examples": [{
        "parcel_ids": [5], "serial": "CS 123456", "registry_number": "CS 01234",
        "source": {"kind": "application", "reference": "Đơn đăng ký 04/ĐK số 88"}}]}}


class CertificateExchangeIn(_Printed):
    """Cấp đổi (exchange) or cấp lại (re-issue after loss): the new paper's serial."""

    model_config = {"json_schema_extra": {"examples": [{
        "serial": "DA 000123", "source": {"kind": "application",
                                          "reference": "Đơn đề nghị cấp đổi số 15"}}]}}


class EndorsementIn(BaseModel):
    endorsement: str = Field(
        min_length=1, max_length=2000,
        description="What changed, as written on the certificate (shown to every reader of "
        "the parcel: no names or contract numbers)",
        examples=["Đăng ký thế chấp bằng quyền sử dụng đất ngày 01/12/2026"])
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "endorsement": "Đăng ký thế chấp bằng quyền sử dụng đất ngày 01/12/2026",
        "source": {"kind": "contract", "reference": "77/2026/HĐTC"}}]}}


class RevocationIn(BaseModel):
    source: Source
    dossier_code: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [{
        "source": {"kind": "decision", "reference": "99/QĐ-UBND",
                   "issuer": "UBND thành phố Hà Nội"}}]}}
