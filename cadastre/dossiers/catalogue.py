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
            f"change_operation, {_OPERATIONS}, blocked_by_injunction, active")
#: The state token of a procedure: a hash of its whole row (the table has no version
#: column; any edit of any column changes it).
_STATE = "md5(CAST(p AS text)) AS state"
#: The columns an edit may set (the API's model names no others).
EDITABLE = ("name", "working_days", "documents", "fee_vnd", "active", "blocked_by_injunction")


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
        f"change_operation, {_OPERATIONS}, blocked_by_injunction FROM procedure "
        "WHERE active ORDER BY code")).mappings()]


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


def edit_procedure(conn: Connection, code: str, changes: dict[str, Any], *,
                   expected_state: str) -> dict[str, Any]:
    """Set some columns of a procedure, if it is still in the state the editor read (the
    row is locked, then compared: of two edits made on one state exactly one applies)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown or not changes:
        raise InvalidInput("nothing to change" if not changes else
                           f"a procedure's {', '.join(unknown)} cannot be edited")
    state = conn.execute(sa.text(
        f"SELECT {_STATE} FROM procedure p WHERE code = :c FOR UPDATE"), {"c": code}).scalar()
    if state is None:
        raise InvalidInput(f"unknown procedure {code!r}")
    if state != expected_state:
        raise StaleProcedure(f"procedure {code} was edited since it was read",
                             hint=f"GET /api/v1/procedures/{code} and repeat the edit")
    assignments = ", ".join(
        f"{k} = CAST(:{k} AS jsonb)" if k == "documents" else f"{k} = :{k}"
        for k in changes)  # keys from EDITABLE: an allow-list
    values = {k: orjson.dumps(v).decode() if k == "documents" else v
              for k, v in changes.items()}
    conn.execute(sa.text(f"UPDATE procedure SET {assignments} WHERE code = :code"),
                 {**values, "code": code})
    return procedure(conn, code)
