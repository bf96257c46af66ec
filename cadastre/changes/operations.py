"""The catalogue of the register's change operations: each by name, with its parameter
model, the parcels it changes (whose states the caller names and whose rows it locks) and
the service function that applies it. The HTTP change routes, the command line and a
dossier's approval apply operations through it; a procedure names the one its approval
applies (``procedure.operation``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from sqlalchemy.engine import Connection

from cadastre.certificates import service as certificates
from cadastre.changes import service, spatial
from cadastre.changes.dossier_link import check_dossier
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import CertificateChoice, ChangeResult, RightMove, Share
from cadastre.errors import InvalidInput


def _holder(value: Any) -> Any:
    """A holder as given by a client, ``{"party_id": 7, "share": "1/2"}``, or as a Share."""
    if isinstance(value, Mapping) and "share" in value:
        numerator, _, denominator = str(value["share"]).partition("/")
        return {"party_id": value["party_id"], "numerator": numerator,
                "denominator": denominator or 1}
    return value


Holder = Annotated[Share, BeforeValidator(_holder)]


class Parameters(BaseModel):
    """What an operation needs besides its source document and dossier."""

    #: A caller's other fields (an HTTP body's source document, say) are not the operation's.
    model_config = ConfigDict(frozen=True, extra="ignore")
    #: The operation takes several parcels at once (``parcel_ids``: a merge, a certificate
    #: covering them); the others take one (``parcel_id``), and an approval applies them
    #: once per parcel of its dossier.
    many_parcels: ClassVar[bool] = False

    @abstractmethod
    def parcels(self) -> list[int]:
        """The parcels the operation changes (their states are named, their rows locked)."""


class OnParcel(Parameters):
    parcel_id: int

    def parcels(self) -> list[int]:
        return [self.parcel_id]


class RightMoveParameters(BaseModel):
    """One kind of right a transfer moves, to its own holders (shares of what moves)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["land_use", "house_ownership", "asset_ownership"]
    holders: list[Holder] = Field(min_length=1)
    from_party_id: int | None = None


class CertificateChoiceParameters(BaseModel):
    """What a transfer does to the certificate (service.CertificateChoice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["auto", "endorse", "new", "await"] = "auto"
    serial: str | None = None
    registry_number: str | None = None
    issuing_authority: str | None = None
    issued_on: date | None = None
    endorsement: str | None = None


class TransferParameters(OnParcel):
    """``holders``: the land-use right and every attached-asset right its sellers hold
    move together to them; or ``rights``: each kind to its own holders."""

    holders: list[Holder] | None = None
    rights: list[RightMoveParameters] | None = None
    from_party_id: int | None = None
    certificate: CertificateChoiceParameters | None = None

    @model_validator(mode="after")
    def _holders_or_rights(self) -> Self:
        if (self.holders is None) == (self.rights is None):
            raise ValueError("a transfer gives either its holders or the rights it moves")
        return self


class MortgageParameters(OnParcel):
    lender_party_id: int
    amount: int | None = None


class InjunctionParameters(OnParcel):
    authority_party_id: int | None = None


class ReleaseParameters(OnParcel):
    """The mortgage to end: its reference (with the lender when two lenders' contracts
    share it) or its restriction id."""

    reference: str | None = Field(None, description="the mortgage's contract reference")
    restriction_id: int | None = None
    lender_party_id: int | None = None

    @model_validator(mode="after")
    def _named(self) -> Self:
        if self.reference is None and self.restriction_id is None:
            raise ValueError("name the mortgage to end: its reference or its restriction_id")
        return self


class InjunctionReleaseParameters(OnParcel):
    """The injunction to lift: its reference (with the authority when two orders share
    it) or its restriction id."""

    reference: str | None = Field(None, description="the injunction's order reference")
    restriction_id: int | None = None
    authority_party_id: int | None = None

    @model_validator(mode="after")
    def _named(self) -> Self:
        if self.reference is None and self.restriction_id is None:
            raise ValueError("name the injunction to end: its reference or its "
                             "restriction_id")
        return self


class ResponsibilityParameters(OnParcel):
    kind: str
    description: str
    party_id: int | None = None


class ResponsibilityEndParameters(OnParcel):
    responsibility_id: int


class PurposeParameters(OnParcel):
    purposes: list[spatial.Purpose]
    tolerance: float = spatial.DEFAULT_TOLERANCE_M2


class SplitParameters(OnParcel):
    """WKT in ``srid`` (None: the storage CRS)."""

    cut_line_wkt: str | None = None
    srid: int | None = None
    children_wkt: list[str] | None = None
    child_holders: list[list[Holder]] | None = None
    tolerance: float = spatial.DEFAULT_TOLERANCE_M2

    @model_validator(mode="after")
    def _line_or_children(self) -> Self:
        if (self.cut_line_wkt is None) == (self.children_wkt is None):
            raise ValueError("give either a cutting line or the child geometries")
        return self


class MergeParameters(Parameters):
    many_parcels: ClassVar[bool] = True
    parcel_ids: list[int]
    allow_different_holders: bool = False
    tolerance: float = spatial.DEFAULT_TOLERANCE_M2

    def parcels(self) -> list[int]:
        return sorted(set(self.parcel_ids))


class BoundaryParameters(Parameters):
    """WKT in ``srid`` (None: the storage CRS)."""

    srid: int | None = None
    first_parcel_id: int
    first_wkt: str
    second_parcel_id: int
    second_wkt: str
    tolerance: float = spatial.DEFAULT_TOLERANCE_M2

    def parcels(self) -> list[int]:
        return [self.first_parcel_id, self.second_parcel_id]


class CertificateIssueParameters(Parameters):
    """The parcels a new certificate covers (a dossier's approval gives its parcels)."""

    many_parcels: ClassVar[bool] = True
    parcel_id: int | None = None
    parcel_ids: list[int] | None = None
    serial: str
    registry_number: str | None = None
    issuing_authority: str | None = None
    issued_on: date | None = None
    replaces_certificate_id: int | None = None

    def parcels(self) -> list[int]:
        if self.parcel_ids:
            return sorted(set(self.parcel_ids))
        return [] if self.parcel_id is None else [self.parcel_id]


class CertificateParameters(Parameters):
    """A certificate, by its id or as the one current certificate of ``parcel_id``. Its
    parcels are locked when it is read; no parcel state is named for it."""

    certificate_id: int | None = None
    parcel_id: int | None = None

    def parcels(self) -> list[int]:
        return []


class EndorseParameters(CertificateParameters):
    endorsement: str


class ExchangeParameters(CertificateParameters):
    serial: str
    registry_number: str | None = None
    issuing_authority: str | None = None
    issued_on: date | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Where a change comes from and the parcel states its author saw (None: no
    precondition, the command line's operator reads and writes in one transaction)."""

    source: SourceDocument
    dossier_code: str | None = None
    expected: Mapping[int, int] | None = None

    def expected_of(self, parcel_id: int) -> int | None:
        return None if self.expected is None else self.expected[parcel_id]


P = TypeVar("P", bound=Parameters)


@dataclass(frozen=True, slots=True)
class Operation(Generic[P]):
    name: str
    #: The operation as an approval's message names it ("the approval of a mortgage").
    title: str
    parameters: type[P]
    run: Callable[[Connection, P, Context], ChangeResult]
    #: A dossier's approval can apply it (cadastre.dossiers.approval): a procedure may name
    #: it among its operations (migration 0018 allows exactly these names).
    by_approval: bool = False

    def validate(self, values: Mapping[str, Any] | Parameters, *,
                 what: str = "the change", prefix: str = "change.") -> P:
        """The parameter model from a caller's values; InvalidInput naming what is wrong
        (a field as ``prefix`` + its name)."""
        if isinstance(values, self.parameters):
            return values
        try:
            return self.parameters.model_validate(
                values.model_dump() if isinstance(values, Parameters) else values)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(map(str, error["loc"]))
            if error["type"] == "missing":
                described = self.parameters.model_fields.get(str(error["loc"][0]))
                note = f" ({described.description})" if described and described.description \
                    else ""
                raise InvalidInput(f"{what} needs {prefix}{field}{note}") from None
            if not field:  # the model's own check (a split's line or children)
                message = str(error["msg"]).removeprefix("Value error, ")
                raise InvalidInput(f"{what}: {message}") from None
            raise InvalidInput(f"{what}: {prefix}{field}: {error['msg']}") from None


def _on_parcel(change: Callable[..., ChangeResult], *fields: str, keywords: tuple[str, ...] = (),
               **fixed: object) -> Callable[[Connection, Any, Context], ChangeResult]:
    """A one-parcel service function called as ``change(conn, parcel_id, *fields, source,
    **keywords, **fixed, dossier_code=, expected_change=)``, the values from the parameters."""

    def run(conn: Connection, p: OnParcel, c: Context) -> ChangeResult:
        return change(conn, p.parcel_id, *(getattr(p, f) for f in fields), c.source,
                      **{k: getattr(p, k) for k in keywords}, **fixed,
                      dossier_code=c.dossier_code, expected_change=c.expected_of(p.parcel_id))

    return run


def _stored(conn: Connection, wkt: str, srid: int | None) -> str:
    """WKT given in ``srid`` as WKT in the storage CRS (read and checked either way)."""
    return wkt if srid is None else spatial.to_storage_wkt(conn, wkt, srid)


def _transfer(kind: str) -> Callable[[Connection, TransferParameters, Context], ChangeResult]:
    def run(conn: Connection, p: TransferParameters, c: Context) -> ChangeResult:
        rights = None if p.rights is None else [
            RightMove(r.kind, r.holders, r.from_party_id) for r in p.rights]
        choice = None if p.certificate is None else CertificateChoice(
            **p.certificate.model_dump())
        return service.transfer(
            conn, p.parcel_id, p.holders, c.source, kind=kind, rights=rights,
            from_party_id=p.from_party_id, certificate=choice, dossier_code=c.dossier_code,
            expected_change=c.expected_of(p.parcel_id))

    return run


def _certificate_issue(conn: Connection, p: CertificateIssueParameters,
                       c: Context) -> ChangeResult:
    facts = certificates.certificate_facts(p.serial, p.issuing_authority, p.registry_number,
                                           p.issued_on)
    return certificates.issue(conn, p.parcels(), facts, c.source,
                              replaces=p.replaces_certificate_id, dossier_code=c.dossier_code)


def _certificate_endorse(conn: Connection, p: EndorseParameters, c: Context) -> ChangeResult:
    return certificates.endorse(conn, certificates.resolve(conn, p.certificate_id, p.parcel_id),
                                p.endorsement, c.source, dossier_code=c.dossier_code)


def _certificate_exchange(lost: bool) -> Callable[[Connection, ExchangeParameters, Context],
                                                  ChangeResult]:
    def run(conn: Connection, p: ExchangeParameters, c: Context) -> ChangeResult:
        facts = certificates.certificate_facts(p.serial, p.issuing_authority, p.registry_number,
                                    p.issued_on)
        return certificates.exchange(
            conn, certificates.resolve(conn, p.certificate_id, p.parcel_id), facts, c.source,
            lost=lost, dossier_code=c.dossier_code)

    return run


def _certificate_revoke(conn: Connection, p: CertificateParameters, c: Context) -> ChangeResult:
    return certificates.revoke(conn, certificates.resolve(conn, p.certificate_id, p.parcel_id),
                               c.source, dossier_code=c.dossier_code)


def _split(conn: Connection, p: SplitParameters, c: Context) -> ChangeResult:
    line = None if p.cut_line_wkt is None else _stored(conn, p.cut_line_wkt, p.srid)
    shapes = None if p.children_wkt is None else [
        _stored(conn, child, p.srid) for child in p.children_wkt]
    result, children = spatial.split_parcel(
        conn, p.parcel_id, c.source, cut_line_wkt=line, children_wkt=shapes,
        child_holders=p.child_holders, dossier_code=c.dossier_code,
        expected_change=c.expected_of(p.parcel_id), tolerance=p.tolerance)
    return replace(result, new_parcels=tuple(children))


def _merge(conn: Connection, p: MergeParameters, c: Context) -> ChangeResult:
    result, merged = spatial.merge_parcels(
        conn, p.parcel_ids, c.source, allow_different_holders=p.allow_different_holders,
        dossier_code=c.dossier_code, expected_changes=c.expected, tolerance=p.tolerance)
    return replace(result, new_parcels=(merged,))


def _boundary_correction(conn: Connection, p: BoundaryParameters, c: Context) -> ChangeResult:
    return spatial.correct_boundary(
        conn, p.first_parcel_id, _stored(conn, p.first_wkt, p.srid), p.second_parcel_id,
        _stored(conn, p.second_wkt, p.srid), c.source,
        dossier_code=c.dossier_code, expected_changes=c.expected, tolerance=p.tolerance)


#: The transfers of land-use rights (chuyển nhượng, thừa kế, tặng cho).
TRANSFERS = ("transfer", "inheritance", "gift")
_OPERATIONS: list[Operation[Any]] = [
    *(Operation(kind, title, TransferParameters, _transfer(kind), True)
      for kind, title in zip(TRANSFERS, ("a transfer", "an inheritance", "a gift"),
                             strict=True)),
    Operation("mortgage", "a mortgage", MortgageParameters,
              _on_parcel(service.register_mortgage, "lender_party_id", keywords=("amount",)),
              True),
    Operation("mortgage_release", "a release", ReleaseParameters,
              _on_parcel(service.release_mortgage, "reference",
                         keywords=("restriction_id", "lender_party_id")), True),
    Operation("injunction", "an injunction", InjunctionParameters,
              _on_parcel(service.set_injunction, "authority_party_id"), True),
    Operation("injunction_release", "an injunction's lifting", InjunctionReleaseParameters,
              _on_parcel(service.lift_injunction, "reference",
                         keywords=("restriction_id", "authority_party_id")), True),
    Operation("responsibility", "a responsibility", ResponsibilityParameters,
              _on_parcel(service.record_responsibility, "kind", "description",
                         keywords=("party_id",))),
    Operation("responsibility_end", "a responsibility's end", ResponsibilityEndParameters,
              _on_parcel(service.end_responsibility, "responsibility_id")),
    Operation("certificate_issue", "a certificate's issue", CertificateIssueParameters,
              _certificate_issue, True),
    Operation("certificate_endorsement", "a certificate's endorsement", EndorseParameters,
              _certificate_endorse, True),
    Operation("certificate_exchange", "a certificate's exchange", ExchangeParameters,
              _certificate_exchange(lost=False), True),
    Operation("certificate_reissue", "a certificate's re-issue after loss",
              ExchangeParameters, _certificate_exchange(lost=True), True),
    Operation("certificate_revocation", "a certificate's revocation", CertificateParameters,
              _certificate_revoke),
    Operation("purpose_change", "a purpose change", PurposeParameters,
              _on_parcel(spatial.change_purpose, "purposes", keywords=("tolerance",)), True),
    Operation("split", "a split", SplitParameters, _split, True),
    Operation("merge", "a merge", MergeParameters, _merge, True),
    Operation("boundary_correction", "a boundary correction", BoundaryParameters,
              _boundary_correction),
]
#: Every change operation of the register by name.
CATALOGUE: Mapping[str, Operation[Any]] = {op.name: op for op in _OPERATIONS}


def operation(name: str) -> Operation[Any]:
    found = CATALOGUE.get(name)
    if found is None:
        raise InvalidInput(f"no change operation {name!r}",
                           hint=f"one of {', '.join(CATALOGUE)}")
    return found


def named_parcels(conn: Connection, parameters: Parameters) -> list[int]:
    """The parcels an operation touches, as far as its parameters tell: ``parcels()``, or
    for a certificate named by its id, the parcels the certificate covers."""
    named = parameters.parcels()
    if named or not isinstance(parameters, CertificateParameters):
        return named
    if parameters.parcel_id is not None:
        return [parameters.parcel_id]
    return certificates.parcels_of(conn, parameters.certificate_id)


def apply(conn: Connection, name: str, parameters: Mapping[str, Any] | Parameters,
          source: SourceDocument, *, dossier_code: str | None = None,
          expected: Mapping[int, int] | None = None) -> ChangeResult:
    """Apply the operation ``name`` inside the caller's transaction. The dossier it names
    must exist, be open and be about its parcels (``dossier_link.check_dossier``)."""
    found = operation(name)
    validated = found.validate(parameters)
    if dossier_code is not None:
        check_dossier(conn, dossier_code, named_parcels(conn, validated))
    return found.run(conn, validated, Context(source, dossier_code, expected))
