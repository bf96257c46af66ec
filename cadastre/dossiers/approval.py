"""A dossier's approval applies its procedure's register change, or the dossier is not
approved.

The procedure names the operations of the catalogue (cadastre/changes/operations.py) its
approval applies, in order (``procedure.operations``, migration 0018; a name ending in '?'
may be left out). The approval gives them as steps, each an operation with its parameters:
a step applies to every parcel the dossier names (once per parcel; a merge or a new
certificate once, over all of them), or to the parcels it names, which may be parcels an
earlier step made (``Made``: the sale of part of a parcel splits it, then transfers one of
the children). Every change is recorded with the dossier's code.

Everything happens in the caller's transaction, against the parcel states the approver saw:
the dossier is locked first, then every existing parcel the approval changes, each checked
against its state; a step that fails (topology, shares, an injunction) fails the approval,
and nothing of the changes or the transition is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from cadastre.access import Role
from cadastre.changes import operations
from cadastre.changes.dossier_link import check_dossier
from cadastre.changes.record import SourceDocument
from cadastre.changes.service import ChangeResult, lock_parcel
from cadastre.dossiers import catalogue, obligations, service
from cadastre.dossiers.injunctions import refuse_if_enjoined
from cadastre.errors import InvalidInput

#: The most steps one approval applies.
MAX_STEPS = 20


@dataclass(frozen=True, slots=True)
class Made:
    """A parcel an earlier step of the same approval made: the ``child``-th new parcel
    (from 0) of step ``step`` (from 0), in the order the step made them (a split's children
    in the order of its child geometries; a merge makes one)."""

    step: int
    child: int


ParcelRef = int | Made


@dataclass(frozen=True, slots=True)
class Step:
    """One operation of an approval. ``operation`` None: the procedure's one operation (an
    approval's ``change``). ``parameters``: the operation's, besides its parcels.
    ``parcels``: those it applies to (None: the dossier's). ``source``: its own document
    (None: the approval's)."""

    operation: str | None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    parcels: Sequence[ParcelRef] | None = None
    source: SourceDocument | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """One change an approval recorded."""

    step: int
    operation: str
    change_id: int
    parcel_id: int
    new_parcels: tuple[int, ...]
    certificate: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class _Prepared:
    index: int
    operation: operations.Operation[Any]
    step: Step
    what: str
    prefix: str
    #: One list of targets per application of the operation.
    applications: list[list[ParcelRef]]
    #: Existing parcels whose state the approver names (the operation's parcels()).
    stated: list[int]


def approve(conn: Connection, code: str, steps: Sequence[Step], *, source: SourceDocument,
            role: Role, actor: str, expected_version: int | None,
            states: Callable[[list[int]], Mapping[int, int]] | None,
            note: str | None = None, attachments: list[str] | None = None) -> dict[str, Any]:
    """Approve dossier ``code``, applying its procedure's operations as ``steps`` give
    them. ``states`` gives the last change the approver saw of each existing parcel the
    approval changes (asked once the steps are known to be whole; None: no precondition,
    for a caller that reads and writes in one transaction). Returns the dossier, with the
    changes recorded (``changes``)."""
    row = service.lock(conn, code, expected_version)
    allowed = service.TRANSITIONS.get((row.status, "approved"))
    if allowed is None or role not in allowed:
        options = service.allowed_from(row.status, role)
        raise service.TransitionRefused(
            f"{row.status} -> approved is not allowed for {role.value}; allowed: "
            f"{', '.join(options) or 'none'}", allowed=options)
    procedure = str(row.procedure_code)
    # before any register change: a dossier with an unpaid tax notice is not approved
    obligations.refuse_if_unpaid(conn, row.id, code, "approved")
    names = catalogue.approval_operations(conn, procedure)
    applied: list[Applied] = []
    if not names:
        if steps:
            raise InvalidInput(f"the approval of {procedure} applies no register change",
                               hint="approve without a change or steps")
        if states is not None:
            states([])
    else:
        parcels = list(dict.fromkeys(int(p) for p in row.parcel_ids))
        if not parcels:
            raise InvalidInput("the dossier names no parcel to change")
        prepared = _prepare(names, steps, procedure, parcels)
        stated = sorted({p for s in prepared for p in s.stated})
        expected = None if states is None else states(stated)
        for parcel_id in stated:  # in id order: two approvals cannot deadlock
            lock_parcel(conn, parcel_id, None if expected is None else expected[parcel_id])
        refuse_if_enjoined(conn, procedure, parcels, at="approved")
        applied = _apply(conn, code, prepared, source)
    dossier = service.transition(
        conn, code, "approved", role=role, actor=actor, note=note,
        expected_version=expected_version, attachments=attachments, approval_applied=True)
    dossier["changes"] = [{
        "step": a.step, "operation": a.operation, "change_id": a.change_id,
        "parcel_id": a.parcel_id, "new_parcels": list(a.new_parcels),
        **({"certificate": dict(a.certificate)} if a.certificate is not None else {}),
    } for a in applied]
    return dossier


def _bare(name: str) -> str:
    return name.rstrip("?")


def _listing(names: Sequence[str]) -> str:
    return ", then ".join(_bare(n) + (" (optional)" if n.endswith("?") else "") for n in names)


def _operation_names(names: Sequence[str], steps: Sequence[Step], procedure: str) -> list[str]:
    """The operation of each step, checked against the procedure's list: named there, in
    its order, every operation not marked '?' at least once."""
    listed = [_bare(n) for n in names]
    required = [_bare(n) for n in names if not n.endswith("?")]
    resolved: list[str] = []
    for index, step in enumerate(steps):
        if step.operation is not None:
            resolved.append(step.operation)
        elif len(required) == 1 or len(listed) == 1:
            resolved.append(required[0] if required else listed[0])
        else:
            raise InvalidInput(
                f"the approval of {procedure} applies {_listing(names)}: give them as "
                "steps, each naming its operation",
                hint=f"steps: [{{\"operation\": \"{listed[0]}\", \"parameters\": {{...}}}}]")
        if resolved[-1] not in listed:
            raise InvalidInput(
                f"step {index}: the approval of {procedure} applies {_listing(names)}, not "
                f"{resolved[-1]}")
    positions = [listed.index(n) for n in resolved]
    if positions != sorted(positions):
        raise InvalidInput(f"the steps are out of order: the approval of {procedure} "
                           f"applies {_listing(names)}")
    missing = [n for n in required if n not in resolved]
    if missing:
        raise InvalidInput(
            f"the approval of {procedure} applies {_listing(names)}: no step gives "
            f"{', '.join(missing)}")
    return resolved


def _prepare(names: Sequence[str], steps: Sequence[Step], procedure: str,
             dossier_parcels: list[int]) -> list[_Prepared]:
    """Every step checked before the register is touched: its operation, its parcels and
    its parameters (a 422 naming what is missing)."""
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"an approval applies at most {MAX_STEPS} steps")
    given = list(steps) or [Step(None)]  # no change at all: the parameters are missing
    resolved = _operation_names(names, given, procedure)
    prepared = []
    for index, (step, name) in enumerate(zip(given, resolved, strict=True)):
        operation = operations.operation(name)
        shorthand = step.operation is None
        what = (f"the approval of {operation.title}" if shorthand
                else f"step {index} ({operation.title})")
        prefix = "change." if shorthand else f"steps[{index}].parameters."
        targets = list(dossier_parcels if step.parcels is None else step.parcels)
        if not targets:
            raise InvalidInput(f"{what} names no parcel")
        for target in targets:
            if isinstance(target, Made) and not 0 <= target.step < index:
                raise InvalidInput(f"{what} names a parcel made by step {target.step}: a step "
                                   "names the parcels of earlier steps only")
        many = operation.parameters.many_parcels
        applications = [targets] if many else [[t] for t in targets]
        stated: set[int] = set()
        for application in applications:
            validated = operation.validate(
                _values(step.parameters, application, many), what=what, prefix=prefix)
            existing = {t for t in application if isinstance(t, int)}
            stated.update(p for p in validated.parcels() if p in existing)
        prepared.append(_Prepared(index, operation, step, what, prefix, applications,
                                  sorted(stated)))
    return prepared


def _placeholder(target: ParcelRef) -> int:
    """A parcel id for checking a step's parameters before earlier steps made its parcel
    (negative: never a parcel, never a state asked for)."""
    return target if isinstance(target, int) else -1 - target.step * 1000 - target.child


def _values(parameters: Mapping[str, Any], targets: Sequence[ParcelRef],
            many: bool) -> dict[str, Any]:
    ids = [_placeholder(t) for t in targets]
    return {**parameters, "parcel_ids": ids} if many else {**parameters, "parcel_id": ids[0]}


def _apply(conn: Connection, code: str, prepared: list[_Prepared],
           source: SourceDocument) -> list[Applied]:
    made: list[list[int]] = []
    retired: dict[int, int] = {}  # parcel -> the step that split or merged it
    applied: list[Applied] = []
    for p in prepared:
        new: list[int] = []
        for application in p.applications:
            ids = [_resolve(t, made, p.what) for t in application]
            if p.step.parcels is None:
                gone = [(i, retired[i]) for i in ids if i in retired]
                if gone:
                    parcel, by = gone[0]
                    raise InvalidInput(
                        f"{p.what} names no parcel, and parcel {parcel} of the dossier was "
                        f"retired by step {by}: name the parcels it applies to",
                        hint=f'"parcel": {{"step": {by}, "child": 0}}')
            many = p.operation.parameters.many_parcels
            validated = p.operation.validate(_values(p.step.parameters, ids, many),
                                             what=p.what, prefix=p.prefix)
            check_dossier(conn, code, operations.named_parcels(conn, validated))
            result: ChangeResult = p.operation.run(conn, validated, operations.Context(
                p.step.source or source, code, None))
            if p.operation.name in ("split", "merge"):
                retired.update((i, p.index) for i in ids)
            new.extend(result.new_parcels)
            applied.append(Applied(p.index, p.operation.name, result.change_id,
                                   result.parcel_id, result.new_parcels, result.certificate))
        made.append(new)
    return applied


def _resolve(target: ParcelRef, made: list[list[int]], what: str) -> int:
    if isinstance(target, int):
        return target
    children = made[target.step]
    if not 0 <= target.child < len(children):
        raise InvalidInput(f"{what} names child {target.child} of step {target.step}, which "
                           f"made {len(children)} parcel(s) (counted from 0)")
    return children[target.child]
