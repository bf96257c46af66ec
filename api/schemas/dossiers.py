"""Request bodies of the one-stop dossier routes: intake, transitions, apologies, feedback,
ratings and procedure edits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.bounds import AMOUNT_MAX, DIGIT, FEE_MAX, NonBlank, RowId


class ApplicantIn(BaseModel):
    name: Annotated[str, NonBlank] = Field(max_length=200, examples=["Nguyễn Văn An"])
    id_number: str | None = Field(None, pattern=rf"^{DIGIT}{{9}}({DIGIT}{{3}})?$")
    phone: str | None = Field(None, pattern=rf"^\+?{DIGIT}{{9,12}}$", examples=["0912345678"])
    address: Annotated[str, NonBlank] | None = Field(None, max_length=500)


class DossierIn(BaseModel):
    procedure_code: Annotated[str, NonBlank] = Field(examples=["CHUYEN-NHUONG"])
    received_by_office: Annotated[str, NonBlank] | None = Field(
        None, examples=["VPDK.HN"], description="The receiving counter: the caller's own "
        "office (the default; an admin names it)")
    applicant: ApplicantIn
    channel: Literal["counter", "online", "post"] = "counter"
    parcel_ids: list[RowId] = Field(default_factory=list, max_length=50)
    commune_code: Annotated[str, NonBlank] | None = None
    documents: list[Annotated[str, NonBlank]] = Field(default_factory=list, max_length=100,
                                 description="Documents received, as named in the checklist")


class ApprovalHolder(BaseModel):
    party_id: RowId
    share: str = Field("1/1", pattern=rf"^{DIGIT}{{1,6}}/{DIGIT}{{1,6}}$", examples=["1/2"])


class ApprovalChange(BaseModel):
    """What the procedure's change operation needs: holders for a transfer, inheritance or
    gift; the lender (and amount) for a mortgage; the mortgage's reference for a release."""

    source_kind: Literal["contract", "decision", "certificate", "court_order", "survey",
                         "application", "other"] = "decision"
    source_reference: str | None = Field(None, min_length=1, max_length=200,
                                         description="Default: the dossier's code")
    holders: list[ApprovalHolder] = Field(default_factory=list, max_length=50)
    lender_party_id: RowId | None = None
    amount: int | None = Field(None, ge=0, le=AMOUNT_MAX)
    reference: str | None = Field(None, min_length=1, max_length=200)


class TransitionIn(BaseModel):
    to: str = Field(examples=["in_processing"])
    note: str | None = Field(None, max_length=5000)
    attachments: list[str] = Field(default_factory=list, max_length=50)
    rating: int | None = Field(None, ge=1, le=5)
    rating_comment: str | None = Field(None, max_length=2000)
    change: ApprovalChange | None = Field(
        None, description="For an approval: the change operation's parameters (e.g. "
        "holders for a transfer), applied in the same transaction")


class ApologyIn(BaseModel):
    new_due: date
    reason: Annotated[str, NonBlank] = Field(max_length=2000)


class FeedbackIn(BaseModel):
    channel: Literal["counter", "hotline", "web", "email", "chat"] = "web"
    subject: Annotated[str, NonBlank] = Field(max_length=300)
    body: Annotated[str, NonBlank] = Field(max_length=10_000)
    contact_name: Annotated[str, NonBlank] | None = Field(None, max_length=200)
    contact_phone: str | None = Field(None, pattern=rf"^\+?{DIGIT}{{9,12}}$")
    contact_email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    dossier_code: Annotated[str, NonBlank] | None = Field(
        None, max_length=40, description="The dossier it is about, when there is one")
    office_code: Annotated[str, NonBlank] | None = Field(
        None, max_length=32, description="The office it is for (default: the dossier's "
        "handling office, else the province's registration office)")


class AnswerIn(BaseModel):
    answer: Annotated[str, NonBlank] = Field(max_length=10_000)


class ProcedureUpdate(BaseModel):
    name: Annotated[str, NonBlank] | None = Field(None, max_length=300)
    working_days: int | None = Field(None, ge=1, le=200)
    documents: list[str] | None = Field(None, max_length=100)
    fee_vnd: int | None = Field(None, ge=0, le=FEE_MAX)
    active: bool | None = None


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class AssignIn(BaseModel):
    assignee: Annotated[str, NonBlank] = Field(max_length=64, examples=["nguyen.van.an"],
                                               description="A staff account of the "
                                               "feedback's office")
