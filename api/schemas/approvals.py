"""The steps of a dossier's approval: each an operation of the procedure with its
parameters (named as in the matching /api/v1/changes or /api/v1/certificates body, without
the parcel, the source document and the dossier), the parcels it applies to (default: the
dossier's) and, optionally, its own source document."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.bounds import RowId
from api.schemas.changes import (
    SERIAL_PATTERN,
    CertificateChoiceIn,
    HolderShare,
    PurposeIn,
    RightMoveIn,
    Source,
)
from cadastre.changes.record import SourceDocument
from cadastre.dossiers.approval import MAX_STEPS, Made, ParcelRef, Step
from cadastre.layers.crs import body_srid


def document(source: Source) -> SourceDocument:
    return SourceDocument(source.kind, source.reference, source.issued_on, source.issuer,
                          source.description)


class MadeParcelIn(BaseModel):
    """A parcel made by an earlier step of this approval."""

    model_config = ConfigDict(extra="forbid")

    step: int = Field(ge=0, lt=MAX_STEPS, description="The step that made it (from 0)")
    child: int = Field(0, ge=0, le=99, description="Which of the parcels it made (from 0): "
                       "a split's in the order of its `children`")


ParcelRefIn = Annotated[RowId | MadeParcelIn, Field(
    description="A parcel id, or a parcel made by an earlier step: "
    '`{"step": 0, "child": 1}`')]


class _Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def values(self) -> dict[str, Any]:
        """The operation's parameters, by the names of the operations catalogue."""
        return self.model_dump(exclude_none=True)


class TransferParametersIn(_Parameters):
    """As `POST /api/v1/changes/transfer`: ``holders`` (the land-use right and the attached
    assets its sellers hold move together) or ``rights`` (each kind to its own holders)."""

    holders: list[HolderShare] | None = Field(None, min_length=1, max_length=50)
    rights: list[RightMoveIn] | None = Field(None, min_length=1, max_length=3)
    from_party_id: RowId | None = None
    certificate: CertificateChoiceIn | None = None

    @model_validator(mode="after")
    def _holders_or_rights(self) -> Self:
        if (self.holders is None) == (self.rights is None):
            raise ValueError("give either holders or rights")
        return self


class MortgageParametersIn(_Parameters):
    lender_party_id: RowId
    amount: int | None = Field(None, ge=0, le=10**18 - 1)


class ReleaseParametersIn(_Parameters):
    reference: str | None = Field(None, min_length=1, max_length=200,
                                  description="Reference of the mortgage to end")
    lender_party_id: RowId | None = None
    restriction_id: RowId | None = None


class InjunctionParametersIn(_Parameters):
    authority_party_id: RowId | None = None


class InjunctionReleaseParametersIn(_Parameters):
    reference: str | None = Field(None, min_length=1, max_length=200)
    authority_party_id: RowId | None = None
    restriction_id: RowId | None = None


class PurposeParametersIn(_Parameters):
    purposes: list[PurposeIn] = Field(min_length=1, max_length=20)
    tolerance_m2: float = Field(0.5, ge=0, le=100)

    def values(self) -> dict[str, Any]:
        return {"purposes": [p.model_dump() for p in self.purposes],
                "tolerance": self.tolerance_m2}


class SplitParametersIn(_Parameters):
    """As `POST /api/v1/changes/split`: a cutting line or the children's geometries (WKT
    in ``crs``). The children are numbered from 0 in the order of ``children``."""

    cut_line: str | None = Field(None, max_length=100_000)
    children: list[str] | None = Field(None, min_length=2, max_length=100)
    crs: str = Field("EPSG:5897", description="CRS of the WKT")
    child_holders: list[list[HolderShare]] | None = None
    tolerance_m2: float = Field(0.5, ge=0, le=100)

    def values(self) -> dict[str, Any]:
        holders = None if self.child_holders is None else [
            [h.model_dump() for h in child] for child in self.child_holders]
        return {"cut_line_wkt": self.cut_line, "children_wkt": self.children,
                "srid": body_srid(self.crs), "child_holders": holders,
                "tolerance": self.tolerance_m2}


class MergeParametersIn(_Parameters):
    allow_different_holders: bool = False
    tolerance_m2: float = Field(0.5, ge=0, le=100)

    def values(self) -> dict[str, Any]:
        return {"allow_different_holders": self.allow_different_holders,
                "tolerance": self.tolerance_m2}


class CertificateIssueParametersIn(_Parameters):
    serial: str = Field(pattern=SERIAL_PATTERN, examples=["CS 123456"])
    registry_number: str | None = Field(None, max_length=40)
    issuing_authority: str | None = Field(None, max_length=300)
    issued_on: date | None = None
    replaces_certificate_id: RowId | None = None


class EndorsementParametersIn(_Parameters):
    endorsement: str = Field(min_length=1, max_length=2000)
    certificate_id: RowId | None = Field(None, description="Default: the parcel's one "
                                         "current certificate")


class ExchangeParametersIn(_Parameters):
    serial: str = Field(pattern=SERIAL_PATTERN, examples=["DA 000123"])
    registry_number: str | None = Field(None, max_length=40)
    issuing_authority: str | None = Field(None, max_length=300)
    issued_on: date | None = None
    certificate_id: RowId | None = Field(None, description="Default: the parcel's one "
                                         "current certificate")


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: str
    parameters: _Parameters
    parcel: ParcelRefIn | None = Field(None, description="The parcel it applies to")
    parcels: list[ParcelRefIn] | None = Field(
        None, min_length=1, max_length=50,
        description="The parcels it applies to (default: the dossier's)")
    source: Source | None = Field(None, description="Its own document (default: the "
                                  "approval's)")

    @model_validator(mode="after")
    def _one_way_of_naming_parcels(self) -> Self:
        if self.parcel is not None and self.parcels is not None:
            raise ValueError("give parcel or parcels, not both")
        return self

    def to_step(self) -> Step:
        named = [self.parcel] if self.parcel is not None else self.parcels
        parcels: list[ParcelRef] | None = None if named is None else [
            Made(p.step, p.child) if isinstance(p, MadeParcelIn) else p for p in named]
        return Step(self.operation, self.parameters.values(), parcels,
                    None if self.source is None else document(self.source))


class TransferStep(_Step):
    operation: Literal["transfer", "inheritance", "gift"]
    parameters: TransferParametersIn


class MortgageStep(_Step):
    operation: Literal["mortgage"]
    parameters: MortgageParametersIn


class ReleaseStep(_Step):
    operation: Literal["mortgage_release"]
    parameters: ReleaseParametersIn


class InjunctionStep(_Step):
    operation: Literal["injunction"]
    parameters: InjunctionParametersIn = Field(default_factory=InjunctionParametersIn)


class InjunctionReleaseStep(_Step):
    operation: Literal["injunction_release"]
    parameters: InjunctionReleaseParametersIn


class PurposeStep(_Step):
    operation: Literal["purpose_change"]
    parameters: PurposeParametersIn


class SplitStep(_Step):
    operation: Literal["split"]
    parameters: SplitParametersIn


class MergeStep(_Step):
    operation: Literal["merge"]
    parameters: MergeParametersIn = Field(default_factory=MergeParametersIn)


class CertificateIssueStep(_Step):
    operation: Literal["certificate_issue"]
    parameters: CertificateIssueParametersIn


class EndorsementStep(_Step):
    operation: Literal["certificate_endorsement"]
    parameters: EndorsementParametersIn


class ExchangeStep(_Step):
    operation: Literal["certificate_exchange", "certificate_reissue"]
    parameters: ExchangeParametersIn


ApprovalStep = Annotated[
    TransferStep | MortgageStep | ReleaseStep | InjunctionStep | InjunctionReleaseStep
    | PurposeStep | SplitStep | MergeStep | CertificateIssueStep | EndorsementStep
    | ExchangeStep, Field(discriminator="operation")]
