"""Offices of the one-stop service (cơ quan tiếp nhận và giải quyết hồ sơ) and who acts
for which: the office a caller acts for is the one the database proves (the account's office,
``proven_office()`` in sql/functions/offices.sql), never one the request names; a dossier is
received at the caller's own office and acted on by its handling office or an office holding
a delegation of its procedure that day (``office_may_act()``, the same rule the database
applies to the API's login). Offices are managed by admins (API and CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import OFFICE_ROLES, Role
from cadastre.accounts.service import NoOffice
from cadastre.errors import CadastreError, Conflict, Forbidden, InvalidInput, NotFound


class WrongOffice(Forbidden):
    """The caller's office may not do this: another office receives, handles or answers it."""

    code = "wrong-office"


class OfficeNotFound(NotFound):
    code = "office-not-found"


class StaleOffice(CadastreError):
    code = "stale-office"
    status = 412


# --- who acts for which office -------------------------------------------------------------

def account_office(conn: Connection) -> str | None:
    """The office the transaction's signed-in account belongs to, as the database proves
    it (None for the anonymous, an account of no office, or a command naming none)."""
    office = conn.execute(sa.text("SELECT proven_office()")).scalar()
    return None if office is None else str(office)


def acting_office(conn: Connection) -> str | None:
    """The office the transaction's caller acts for, as the database proves it; None for
    the province-wide: an admin, or a command naming no office (``cadastre.office``)."""
    row = conn.execute(sa.text(
        "SELECT auth_trusted_session() AS trusted, personal_data_role() AS role, "
        "proven_office() AS office")).one()
    if row.trusted:  # a command: the office it names, or none
        return None if row.office is None else str(row.office)
    if row.role == Role.ADMIN.value:
        return None
    if row.role not in {r.value for r in OFFICE_ROLES}:
        raise Forbidden(f"the {row.role} role acts for no office")
    if row.office is None:
        raise NoOffice("your account belongs to no office yet",
                       hint="an admin sets it: cadastre user set-office USERNAME OFFICE")
    return str(row.office)


def receiving_office(conn: Connection, requested: str | None) -> str:
    """The office a dossier is received at: the caller's own (``requested``, when given,
    must be it); an admin or a command names it."""
    office = acting_office(conn)
    if requested is None:
        if office is None:
            raise InvalidInput("name the office receiving the dossier (received_by_office)")
        return office
    if office is not None and requested != office:
        raise WrongOffice(f"staff of office {office} receive dossiers at {office}, not at "
                          f"{requested}", hint="leave received_by_office out: it is yours")
    return requested


def may_act(conn: Connection, office: str, *, handler: str, procedure_code: str,
            on: date) -> bool:
    """Whether ``office`` may act on a dossier ``handler`` handles: its own, or delegated
    to it by ``handler`` for the procedure on day ``on``."""
    return bool(conn.execute(sa.text("SELECT office_may_act(:o, :h, :p, :d)"),
                             {"o": office, "h": handler, "p": procedure_code, "d": on}
                             ).scalar_one())


def check_may_act(conn: Connection, dossier: Any, *, role: Role | None,
                  on: date) -> str | None:
    """Refuse (403 ``wrong-office``) a caller whose office neither handles ``dossier`` (a
    row with code, handling_office, received_by_office, procedure_code) nor holds a
    delegation of it on day ``on``; a counter clerk may also act at the counter that
    received it. Returns the caller's office (None: province-wide)."""
    office = acting_office(conn)
    if office is None:
        return None
    if may_act(conn, office, handler=dossier.handling_office,
               procedure_code=dossier.procedure_code, on=on):
        return office
    if role is Role.COUNTER_CLERK and office == dossier.received_by_office:
        return office
    raise WrongOffice(
        f"office {office} does not handle dossier {dossier.code} (office "
        f"{dossier.handling_office} does) and holds no delegation of "
        f"{dossier.procedure_code} from it today",
        hint="see GET /api/v1/delegations?office=" + office)


def listing_office(conn: Connection, requested: str | None) -> str | None:
    """The office a list (deadlines, KPIs) is about: the one asked for, or by default the
    caller's (None: every office, for the province-wide)."""
    if requested is not None:
        office(conn, requested)  # 404 for an unknown office
        return requested
    return acting_office(conn)


# --- offices -------------------------------------------------------------------------------

_COLUMNS = "code, name, level, province_code, commune_code, address, phone"
#: The state token of an office: a hash of its whole row.
_STATE = "md5(CAST(o AS text)) AS state"
#: What an edit may set (the code, level and province of an office never change).
EDITABLE = ("name", "commune_code", "address", "phone")


@dataclass(frozen=True, slots=True)
class OfficeIn:
    code: str
    name: str
    level: str
    province_code: str
    commune_code: str | None = None
    address: str | None = None
    phone: str | None = None


def _view(row: sa.RowMapping) -> dict[str, Any]:
    found = {k: v for k, v in row.items() if k != "state"}
    found["etag"] = f'"{row["code"]}-{row["state"]}"'
    return found


def list_offices(conn: Connection, *, level: str | None = None,
                 province_code: str | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.text(
        f"SELECT {_COLUMNS} FROM office WHERE (CAST(:l AS text) IS NULL OR level = :l) "
        "AND (CAST(:p AS text) IS NULL OR province_code = :p) ORDER BY code"),
        {"l": level, "p": province_code}).mappings()]


def office(conn: Connection, code: str) -> dict[str, Any]:
    """One office with its ETag."""
    row = conn.execute(sa.text(f"SELECT {_COLUMNS}, {_STATE} FROM office o WHERE code = :c"),
                       {"c": code}).mappings().first()
    if row is None:
        raise OfficeNotFound(f"no office {code!r}", hint="see GET /api/v1/offices")
    return _view(row)


def _province_exists(conn: Connection, code: str) -> bool:
    return bool(conn.execute(sa.text(
        "SELECT 1 FROM admin_unit WHERE level = 'province' AND code = :c LIMIT 1"),
        {"c": code}).scalar())


def _commune_province(conn: Connection, commune_code: str) -> tuple[bool, str | None]:
    """Whether the commune is known (admin_unit), and the province it lies in if known."""
    row = conn.execute(sa.text("""
        WITH RECURSIVE up AS (
            SELECT id, level, code, parent_id FROM admin_unit
             WHERE level = 'commune' AND code = :c
            UNION ALL
            SELECT a.id, a.level, a.code, a.parent_id
              FROM admin_unit a JOIN up ON a.id = up.parent_id)
        SELECT count(*) FILTER (WHERE level = 'commune') AS communes,
               min(code) FILTER (WHERE level = 'province') AS province FROM up"""),
        {"c": commune_code}).one()
    return row.communes > 0, row.province


def _check_commune(conn: Connection, level: str, province_code: str,
                   commune_code: str | None) -> None:
    if level == "commune" and not commune_code:
        raise InvalidInput("a commune-level office names the commune it serves")
    if level == "province" and commune_code:
        raise InvalidInput("a province-level office serves the province, not one commune")
    if commune_code:
        known, province = _commune_province(conn, commune_code)
        if not known:
            raise InvalidInput(f"unknown commune {commune_code!r}",
                               hint="a commune of the administrative units (admin_unit)")
        if province is not None and province != province_code:
            raise InvalidInput(f"commune {commune_code} is in province {province}, not "
                               f"{province_code}")


def create_office(conn: Connection, item: OfficeIn) -> dict[str, Any]:
    """A new office (admins): a province's registration office or branch, or a commune's
    one-stop counter serving a known commune."""
    if item.level not in ("province", "commune"):
        raise InvalidInput("an office is at province or commune level")
    if not _province_exists(conn, item.province_code):
        raise InvalidInput(f"unknown province {item.province_code!r}")
    _check_commune(conn, item.level, item.province_code, item.commune_code)
    exists = conn.execute(sa.text("SELECT 1 FROM office WHERE code = :c"),
                          {"c": item.code}).scalar()
    if exists:
        raise Conflict(f"office {item.code} exists already")
    if item.level == "commune":
        serving = conn.execute(sa.text(
            "SELECT code FROM office WHERE level = 'commune' AND commune_code = :c"),
            {"c": item.commune_code}).scalar()
        if serving is not None:
            raise Conflict(f"office {serving} serves commune {item.commune_code} already")
    conn.execute(sa.text(
        "INSERT INTO office (code, name, level, province_code, commune_code, address, phone) "
        "VALUES (:code, :name, :level, :province_code, :commune_code, :address, :phone)"),
        {"code": item.code, "name": item.name, "level": item.level,
         "province_code": item.province_code, "commune_code": item.commune_code,
         "address": item.address, "phone": item.phone})
    return office(conn, item.code)


def edit_office(conn: Connection, code: str, changes: dict[str, Any], *,
                expected_state: str | None) -> dict[str, Any]:
    """Set some of an office's columns, if it is still in the state the editor read (None:
    as it is now, for an editor that reads and writes in this transaction)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown or not changes:
        raise InvalidInput("nothing to change" if not changes else
                           f"an office's {', '.join(unknown)} cannot be edited")
    row = conn.execute(sa.text(
        f"SELECT level, province_code, commune_code, {_STATE} FROM office o WHERE code = :c "
        "FOR UPDATE"), {"c": code}).first()
    if row is None:
        raise OfficeNotFound(f"no office {code!r}", hint="see GET /api/v1/offices")
    if expected_state is not None and row.state != expected_state:
        raise StaleOffice(f"office {code} was edited since it was read",
                          hint=f"GET /api/v1/offices/{code} and repeat the edit")
    if "commune_code" in changes:
        _check_commune(conn, row.level, row.province_code, changes["commune_code"])
    assignments = ", ".join(f"{k} = :{k}" for k in changes)  # keys from EDITABLE
    conn.execute(sa.text(f"UPDATE office SET {assignments} WHERE code = :code"),
                 {**changes, "code": code})
    return office(conn, code)
