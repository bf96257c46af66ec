"""Request bodies of the one-stop dossier routes: intake, transitions, apologies, feedback,
ratings and procedure edits."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from api.bounds import AMOUNT_MAX, DIGIT, FEE_MAX, NonBlank, RowId
from api.schemas.approvals import ApprovalStep, document
from api.schemas.changes import CertificateChoiceIn, RightMoveIn, Source
from cadastre.changes.record import SourceDocument
from cadastre.dossiers.approval import MAX_STEPS, Step


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
    deadline_reason: Annotated[str, NonBlank] | None = Field(
        None, max_length=1000, description="Why the dossier is given the procedure's "
        "extended time (a same-day registration: up to 3 working days, Decree 99/2022 "
        "art. 18); refused for a procedure without one")


class ApprovalHolder(BaseModel):
    party_id: RowId
    share: str = Field("1/1", pattern=rf"^{DIGIT}{{1,6}}/{DIGIT}{{1,6}}$", examples=["1/2"])


class ApprovalChange(BaseModel):
    """The parameters of a procedure's one operation (the short form of one step): holders
    (or rights, with the certificate choice) for a transfer, inheritance or gift; the
    lender (and amount) for a mortgage; the mortgage's reference for a release."""

    source_kind: Literal["contract", "decision", "certificate", "court_order", "survey",
                         "application", "other"] = "decision"
    source_reference: str | None = Field(None, min_length=1, max_length=200,
                                         description="Default: the dossier's code")
    holders: list[ApprovalHolder] = Field(default_factory=list, max_length=50)
    rights: list[RightMoveIn] | None = Field(None, min_length=1, max_length=3)
    from_party_id: RowId | None = None
    certificate: CertificateChoiceIn | None = None
    lender_party_id: RowId | None = None
    amount: int | None = Field(None, ge=0, le=AMOUNT_MAX)
    reference: str | None = Field(None, min_length=1, max_length=200)

    def to_step(self) -> Step:
        values = self.model_dump(exclude={"source_kind", "source_reference"},
                                 exclude_none=True)
        if not values.get("holders"):
            values.pop("holders", None)
        return Step(None, values)


class TransitionIn(BaseModel):
    to: str = Field(examples=["in_processing"])
    note: str | None = Field(None, max_length=5000)
    attachments: list[str] = Field(default_factory=list, max_length=50)
    rating: int | None = Field(None, ge=1, le=5)
    rating_comment: str | None = Field(None, max_length=2000)
    change: ApprovalChange | None = Field(
        None, description="For an approval of a procedure with one operation: its "
        "parameters (e.g. holders for a transfer), applied in the same transaction")
    steps: list[ApprovalStep] | None = Field(
        None, min_length=1, max_length=MAX_STEPS,
        description="For an approval: the procedure's operations in its order, each with "
        "its parameters; a step applies to the dossier's parcels, or to the `parcel(s)` it "
        "names, which may be made by an earlier step (`{\"step\": 0, \"child\": 1}`)")
    source: Source | None = Field(
        None, description="For an approval: the document proving its changes (default: a "
        "decision referenced by the dossier's code)")

    @model_validator(mode="after")
    def _change_with_approval(self) -> Self:
        if self.rating is not None and self.to != "returned":
            raise ValueError("a 1-5 rating is recorded at the return of results")
        given = [k for k in ("change", "steps", "source") if getattr(self, k) is not None]
        if given and self.to != "approved":
            raise ValueError(f"{' and '.join(given)} go with an approval (to: approved)")
        if self.change is not None and self.steps is not None:
            raise ValueError("give the change's steps, or its change, not both")
        if self.change is not None and self.source is not None and (
                self.change.source_reference is not None):
            raise ValueError("give the source document once (source)")
        return self

    def approval_steps(self) -> list[Step]:
        if self.steps is not None:
            return [step.to_step() for step in self.steps]
        return [] if self.change is None else [self.change.to_step()]

    def approval_source(self, dossier_code: str) -> SourceDocument:
        if self.source is not None:
            return document(self.source)
        if self.change is not None:
            return SourceDocument(self.change.source_kind,
                                  self.change.source_reference or dossier_code)
        return SourceDocument("decision", dossier_code)

    model_config = {"json_schema_extra": {"examples": [
        {"to": "in_processing"},
        {"to": "approved", "source": {"kind": "contract", "reference": "88/2026/HĐTC"},
         "steps": [{"operation": "mortgage",
                    "parameters": {"lender_party_id": 20001, "amount": 2_000_000_000}}]},
        {"to": "approved", "source": {"kind": "contract", "reference": "1240/2026/HĐCN"},
         "steps": [
             {"operation": "split", "parameters": {
                 "children": ["POLYGON((...))", "POLYGON((...))"], "crs": "EPSG:5897"}},
             {"operation": "transfer", "parcel": {"step": 0, "child": 1}, "parameters": {
                 "holders": [{"party_id": 103}],
                 "certificate": {"action": "new", "serial": "CS 123457"}}}]}]}}


class TaxNoticeIn(BaseModel):
    notice_number: Annotated[str, NonBlank] = Field(max_length=60, examples=["1234/TB-CCT"])
    issued_on: date = Field(ge=date(1990, 1, 1), le=date(2100, 12, 31))
    authority: Annotated[str, NonBlank] = Field(
        max_length=300, examples=["Thuế cơ sở 1 thành phố Hà Nội"])
    amounts: dict[str, int] = Field(
        min_length=1, max_length=10, description="Whole đồng by kind: land_use_levy, "
        "land_rent, registration_fee, personal_income_tax, non_agricultural_land_tax, other",
        examples=[{"registration_fee": 2_400_000, "personal_income_tax": 24_000_000}])
    supersedes: Annotated[str, NonBlank] | None = Field(
        None, max_length=60, description="The number of the notice this one corrects")


class TaxPaymentIn(BaseModel):
    paid_on: date = Field(ge=date(1990, 1, 1), le=date(2100, 12, 31))
    reference: Annotated[str, NonBlank] = Field(max_length=100, examples=["KB-0012345"])
    amount: int = Field(ge=0, le=10**15 - 1)


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
    working_days: int | None = Field(
        None, ge=0, le=200, description="0: the same working day (before the cut-off hour)")
    documents: list[str] | None = Field(None, max_length=100)
    fee_vnd: int | None = Field(None, ge=0, le=FEE_MAX)
    active: bool | None = None
    blocked_by_injunction: bool | None = Field(
        None, description="Intake and approval refused while a parcel of the dossier is "
        "under an active injunction")
    legal_basis: Annotated[str, NonBlank] | None = Field(None, max_length=2000)
    valid_from: date | None = Field(None, ge=date(1990, 1, 1), le=date(2100, 12, 31))
    valid_to: date | None = Field(None, ge=date(1990, 1, 1), le=date(2100, 12, 31))
    cutoff_time: time | None = Field(None, description="A same-day procedure: received "
                                     "after this hour, due the next working day")
    extended_days: int | None = Field(None, ge=1, le=200, description="The time a dossier "
                                      "may be given with a recorded reason")
    remote_extra: bool | None = None


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class AssignIn(BaseModel):
    assignee: Annotated[str, NonBlank] = Field(max_length=64, examples=["nguyen.van.an"],
                                               description="A staff account of the "
                                               "feedback's office")
