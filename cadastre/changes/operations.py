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
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Connection

from cadastre.changes import service, spatial
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import ChangeResult, Share
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

    @abstractmethod
    def parcels(self) -> list[int]:
        """The parcels the operation changes (their states are named, their rows locked)."""


class OnParcel(Parameters):
    parcel_id: int

    def parcels(self) -> list[int]:
        return [self.parcel_id]


class TransferParameters(OnParcel):
    holders: list[Holder]


class MortgageParameters(OnParcel):
    lender_party_id: int
    amount: int | None = None


class InjunctionParameters(OnParcel):
    authority_party_id: int | None = None


class ReleaseParameters(OnParcel):
    reference: str = Field(description="the mortgage's or the injunction's reference")


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


class MergeParameters(Parameters):
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
    #: A dossier's approval can apply it: its parameters are the dossier's parcels and the
    #: approval's holders, lender, amount or reference (migration 0014 allows these names).
    by_approval: bool = False

    def validate(self, values: Mapping[str, Any] | Parameters, *,
                 what: str = "the change") -> P:
        """The parameter model from a caller's values; InvalidInput naming what is wrong."""
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
                raise InvalidInput(f"{what} needs change.{field}{note}") from None
            raise InvalidInput(f"{what}: change.{field}: {error['msg']}") from None


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
    *(Operation(kind, title, TransferParameters,
                _on_parcel(service.transfer, "holders", kind=kind), True)
      for kind, title in zip(TRANSFERS, ("a transfer", "an inheritance", "a gift"),
                             strict=True)),
    Operation("mortgage", "a mortgage", MortgageParameters,
              _on_parcel(service.register_mortgage, "lender_party_id", keywords=("amount",)),
              True),
    Operation("mortgage_release", "a release", ReleaseParameters,
              _on_parcel(service.release_mortgage, "reference"), True),
    Operation("injunction", "an injunction", InjunctionParameters,
              _on_parcel(service.set_injunction, "authority_party_id"), True),
    Operation("injunction_release", "an injunction's lifting", ReleaseParameters,
              _on_parcel(service.lift_injunction, "reference"), True),
    Operation("purpose_change", "a purpose change", PurposeParameters,
              _on_parcel(spatial.change_purpose, "purposes", keywords=("tolerance",))),
    Operation("split", "a split", SplitParameters, _split),
    Operation("merge", "a merge", MergeParameters, _merge),
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


def apply(conn: Connection, name: str, parameters: Mapping[str, Any] | Parameters,
          source: SourceDocument, *, dossier_code: str | None = None,
          expected: Mapping[int, int] | None = None) -> ChangeResult:
    """Apply the operation ``name`` inside the caller's transaction."""
    found = operation(name)
    return found.run(conn, found.validate(parameters),
                     Context(source, dossier_code, expected))
