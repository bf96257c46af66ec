"""The procedure catalogue (thủ tục hành chính): one procedure with the token of its state,
and the administrator's edit, made against the state the administrator read."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.errors import CadastreError, InvalidInput, NotFound

#: The operations an approval applies (migration 0018), or the one ``operation`` of a
#: procedure written the 0014 way.
_OPERATIONS = ("CASE WHEN cardinality(operations) > 0 THEN operations "
               "WHEN operation IS NOT NULL THEN ARRAY[operation] ELSE '{}' END AS operations")
_COLUMNS = ("code, name, level, working_days, steps, documents, fee_vnd, tax_step, "
            f"change_operation, {_OPERATIONS}, blocked_by_injunction, active, legal_basis, "
            "valid_from, valid_to, to_char(cutoff_time, 'HH24:MI') AS cutoff_time, "
            "extended_days, remote_extra")
#: The state token of a procedure: a hash of its whole row (the table has no version
#: column; any edit of any column changes it).
_STATE = "md5(CAST(p AS text)) AS state"
#: The columns an edit may clear (set to null).
CLEARABLE = ("fee_vnd", "legal_basis", "valid_from", "valid_to", "cutoff_time",
             "extended_days")
#: The columns an edit may set (the API's model names no others).
EDITABLE = ("name", "working_days", "documents", "fee_vnd", "active", "blocked_by_injunction",
            "legal_basis", "valid_from", "valid_to", "cutoff_time", "extended_days",
            "remote_extra")


class ProcedureNotFound(NotFound):
    code = "procedure-not-found"


class StaleProcedure(CadastreError):
    code = "stale-procedure"
    status = 412


def _view(row: sa.RowMapping) -> dict[str, Any]:
    procedure = {k: v for k, v in row.items() if k != "state"}
    if procedure["fee_vnd"] is not None:  # numeric(14, 0): whole dong
        procedure["fee_vnd"] = int(procedure["fee_vnd"])
    procedure["etag"] = f'"{row["code"]}-{row["state"]}"'
    return procedure


def active_procedures(conn: Connection) -> list[dict[str, Any]]:
    """The procedures offered at the counter (active ones), by code."""
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT code, name, level, working_days, steps, documents, fee_vnd, tax_step, "
        f"change_operation, {_OPERATIONS}, blocked_by_injunction, legal_basis, valid_from, "
        "valid_to, to_char(cutoff_time, 'HH24:MI') AS cutoff_time, extended_days, "
        "remote_extra FROM procedure WHERE active "
        "AND (valid_from IS NULL OR valid_from <= office_today()) "
        "AND (valid_to IS NULL OR valid_to >= office_today()) ORDER BY code")).mappings()]


def change_operation(conn: Connection, code: str) -> str | None:
    """The change operation that approving a dossier of this procedure applies, if any."""
    operation: str | None = conn.execute(sa.text(
        "SELECT change_operation FROM procedure WHERE code = :p"), {"p": code}).scalar()
    return operation


def approval_operations(conn: Connection, code: str) -> list[str]:
    """The operations a dossier's approval of this procedure applies, in order (a name
    ending in '?' may be left out; migration 0018): ``operations``, or the one
    ``operation`` of a procedure written the 0014 way."""
    found = conn.execute(sa.text(f"SELECT {_OPERATIONS} FROM procedure WHERE code = :p"),
                         {"p": code}).scalar()
    if found is None:
        raise ProcedureNotFound(f"no procedure {code!r}", hint="see GET /api/v1/procedures")
    return [str(name) for name in found]


def procedure(conn: Connection, code: str) -> dict[str, Any]:
    """A procedure of the catalogue (active or not), with its ETag."""
    row = conn.execute(sa.text(f"SELECT {_COLUMNS}, {_STATE} FROM procedure p "
                               "WHERE code = :c"), {"c": code}).mappings().first()
    if row is None:
        raise ProcedureNotFound(f"no procedure {code!r}", hint="see GET /api/v1/procedures")
    return _view(row)


def _check_times(conn: Connection, code: str, changes: dict[str, Any]) -> None:
    """The procedure as edited must still make sense (the table's checks, said readably):
    a same-day procedure (0 working days) has a cut-off hour and the others none, an
    extended time is longer than the usual one, the validity does not end before it
    begins."""
    row = conn.execute(sa.text(
        "SELECT working_days, cutoff_time, extended_days, valid_from, valid_to "
        "FROM procedure WHERE code = :c"), {"c": code}).mappings().one()
    after = {**row, **changes}
    if (after["working_days"] == 0) != (after["cutoff_time"] is not None):
        raise InvalidInput("a same-day procedure (0 working days) needs a cut-off hour "
                           "(cutoff_time) and a procedure counted in days has none")
    if after["extended_days"] is not None and after["extended_days"] <= after["working_days"]:
        raise InvalidInput("the extended time must be longer than the procedure's "
                           f"{after['working_days']} working days")
    if after["valid_from"] and after["valid_to"] and after["valid_to"] < after["valid_from"]:
        raise InvalidInput("a procedure's validity cannot end before it begins")


def edit_procedure(conn: Connection, code: str, changes: dict[str, Any], *,
                   expected_state: str) -> dict[str, Any]:
    """Set some columns of a procedure, if it is still in the state the editor read (the
    row is locked, then compared: of two edits made on one state exactly one applies)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown or not changes:
        raise InvalidInput("nothing to change" if not changes else
                           f"a procedure's {', '.join(unknown)} cannot be edited")
    required = sorted(k for k, v in changes.items() if v is None and k not in CLEARABLE)
    if required:
        raise InvalidInput(f"a procedure's {', '.join(required)} cannot be cleared")
    state = conn.execute(sa.text(
        f"SELECT {_STATE} FROM procedure p WHERE code = :c FOR UPDATE"), {"c": code}).scalar()
    if state is None:
        raise InvalidInput(f"unknown procedure {code!r}")
    if state != expected_state:
        raise StaleProcedure(f"procedure {code} was edited since it was read",
                             hint=f"GET /api/v1/procedures/{code} and repeat the edit")
    _check_times(conn, code, changes)
    assignments = ", ".join(
        f"{k} = CAST(:{k} AS jsonb)" if k == "documents" else f"{k} = :{k}"
        for k in changes)  # keys from EDITABLE: an allow-list
    values = {k: orjson.dumps(v).decode() if k == "documents" else v
              for k, v in changes.items()}
    conn.execute(sa.text(f"UPDATE procedure SET {assignments} WHERE code = :code"),
                 {**values, "code": code})
    return procedure(conn, code)
