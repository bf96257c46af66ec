"""One-stop dossiers: routing with delegations, intake with the dossier code and the
appointment date, the workflow state machine with the roles allowed for each transition,
deadlines and apology letters, the citizen's status view. The caller owns the transaction.

Authority follows offices (cadastre/dossiers/offices.py): a dossier is received at the
caller's own office and acted on by its handling office or a delegate of it. The due date
(``due_date``) is the statutory one, moved only by the days spent waiting for the citizen;
an apology letter promises another date (``promised_date``) and leaves it as it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import Role
from cadastre.admin.units import communes_today
from cadastre.clock import OFFICE_ZONE, office_time
from cadastre.dossiers import catalogue, delegations, obligations, offices
from cadastre.dossiers.calendar import (
    WorkingCalendar,
    add_working_days,
    appointment_date,
    load_calendar,
    office_day,
    office_today,
    same_day_days,
)
from cadastre.dossiers.injunctions import refuse_if_enjoined
from cadastre.errors import CadastreError, Conflict, Forbidden, InvalidInput, NotFound

#: Dossier codes: agency code + date + sequence (the national format is configurable).
DEFAULT_CODE_FORMAT = "{office}.{day:%y%m%d}.{sequence:04d}"
OPEN_STATES = ("received", "in_processing", "supplement_requested", "received_back",
               "tax_notice", "approved", "rejected", "result_ready")
#: First key of the intake locks (pg_advisory_xact_lock(int, int)): "DOSS" as an integer.
_INTAKE_LOCK = 0x444F5353
#: Waiting for the citizen (a supplement, the land taxes): the clock stops.
PAUSED_STATES = ("supplement_requested", "tax_notice")
#: Open, not resolved and not paused: the states a dossier can be overdue in.
RUNNING_STATES = ("received", "in_processing", "received_back")

_CLERK, _OFFICER = Role.COUNTER_CLERK, Role.LAND_OFFICER
_SUPERVISOR, _ADMIN = Role.SUPERVISOR, Role.ADMIN
#: (from, to) -> roles allowed. The whole workflow in one table.
TRANSITIONS: dict[tuple[str, str], frozenset[Role]] = {
    ("received", "in_processing"): frozenset({_CLERK, _OFFICER, _ADMIN}),
    ("received", "supplement_requested"): frozenset({_CLERK, _OFFICER, _ADMIN}),
    ("received", "rejected"): frozenset({_OFFICER, _SUPERVISOR, _ADMIN}),
    ("received", "withdrawn"): frozenset({_CLERK, _ADMIN}),
    ("in_processing", "supplement_requested"): frozenset({_OFFICER, _ADMIN}),
    ("in_processing", "tax_notice"): frozenset({_OFFICER, _ADMIN}),
    ("in_processing", "approved"): frozenset({_OFFICER, _SUPERVISOR, _ADMIN}),
    ("in_processing", "rejected"): frozenset({_OFFICER, _SUPERVISOR, _ADMIN}),
    ("in_processing", "withdrawn"): frozenset({_CLERK, _ADMIN}),
    ("supplement_requested", "received_back"): frozenset({_CLERK, _ADMIN}),
    ("supplement_requested", "withdrawn"): frozenset({_CLERK, _ADMIN}),
    ("received_back", "in_processing"): frozenset({_CLERK, _OFFICER, _ADMIN}),
    ("received_back", "rejected"): frozenset({_OFFICER, _SUPERVISOR, _ADMIN}),
    ("tax_notice", "approved"): frozenset({_OFFICER, _SUPERVISOR, _ADMIN}),
    ("tax_notice", "withdrawn"): frozenset({_CLERK, _ADMIN}),
    ("approved", "result_ready"): frozenset({_OFFICER, _CLERK, _ADMIN}),
    ("rejected", "result_ready"): frozenset({_OFFICER, _CLERK, _ADMIN}),
    ("result_ready", "returned"): frozenset({_CLERK, _ADMIN}),
}


class DossierNotFound(NotFound):
    code = "dossier-not-found"


class TransitionRefused(Conflict):
    code = "transition-refused"


class StaleDossier(CadastreError):
    code = "stale-dossier"
    status = 412


@dataclass(frozen=True, slots=True)
class Applicant:
    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None


class NotLate(Conflict):
    """An apology letter for a dossier that is neither late nor about to be."""

    code = "not-late"


@dataclass(frozen=True, slots=True)
class Intake:
    procedure_code: str
    #: The counter receiving it: the caller's own office (None: take it from the caller).
    received_by_office: str | None
    applicant: Applicant
    channel: str = "counter"
    parcel_ids: list[int] = field(default_factory=list)
    commune_code: str | None = None
    documents: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    #: Why the dossier is given the procedure's extended time (extended_days).
    deadline_reason: str | None = None


def allowed_from(status: str, role: Role) -> list[str]:
    return sorted(to for (frm, to), roles in TRANSITIONS.items()
                  if frm == status and role in roles)


def _procedure(conn: Connection, code: str) -> sa.Row[Any]:
    row = conn.execute(sa.text(
        "SELECT code, name, level, working_days, documents, change_operation, valid_from, "
        "valid_to, cutoff_time, extended_days, remote_extra, legal_basis FROM procedure "
        "WHERE code = :c AND active"), {"c": code}).first()
    if row is None:
        raise InvalidInput(f"unknown procedure {code!r}", hint="see GET /api/v1/procedures")
    return row


class ProcedureNotInForce(InvalidInput):
    code = "procedure-not-in-force"


def _in_force(procedure: sa.Row[Any], day: date) -> None:
    """A dossier is received only under a procedure in force that day."""
    if procedure.valid_from is not None and day < procedure.valid_from:
        raise ProcedureNotInForce(
            f"procedure {procedure.code} is in force from {procedure.valid_from}, not on {day}",
            hint="see GET /api/v1/procedures")
    if procedure.valid_to is not None and day > procedure.valid_to:
        raise ProcedureNotInForce(
            f"procedure {procedure.code} ended on {procedure.valid_to}",
            hint="see GET /api/v1/procedures for the one that replaced it")


def _statutory_days(calendar: WorkingCalendar, procedure: sa.Row[Any], received: datetime,
                    reason: str | None) -> int:
    """The working days a dossier is given at intake: the procedure's; for a same-day
    procedure 0 or 1 by the cut-off hour; the extended time when a reason is recorded."""
    if reason is not None:
        if not reason.strip():
            raise InvalidInput("the reason for the extended time is empty")
        if procedure.extended_days is None:
            raise InvalidInput(
                f"procedure {procedure.code} has no extended time: it is given "
                f"{procedure.working_days} working days")
        return int(procedure.extended_days)
    if procedure.working_days == 0:
        return same_day_days(calendar, office_time(received), procedure.cutoff_time)
    return int(procedure.working_days)


def _office(conn: Connection, code: str) -> sa.Row[Any]:
    row = conn.execute(sa.text("SELECT * FROM office WHERE code = :c"), {"c": code}).first()
    if row is None:
        raise InvalidInput(f"unknown office {code!r}")
    return row


def route(conn: Connection, *, procedure_code: str, commune_code: str, receiving_office: str,
          on: date) -> str:
    """The handling office: the commune's office for commune-level procedures, the
    province's for the others, or the office it delegated the procedure to that day. The
    receiving counter must serve that commune, directly or by a delegation."""
    procedure = _procedure(conn, procedure_code)
    receiver = _office(conn, receiving_office)
    # a parcel keeps the commune of its sheet, maybe one abolished in 2025: the dossier goes to
    # the office of the commune in force that succeeded it (the main one of a split commune)
    served = [commune_code, *communes_today(conn, commune_code)]
    if procedure.level == "commune":
        owner = conn.execute(sa.text(
            "SELECT code FROM office WHERE level = 'commune' AND commune_code = ANY(:c) "
            "ORDER BY array_position(CAST(:c AS text[]), commune_code), code LIMIT 1"),
            {"c": served}).scalar()
    elif receiver.level == "province":  # a registration office (or branch) handles its own
        owner = receiver.code
    else:
        owner = conn.execute(sa.text(
            "SELECT code FROM office WHERE level = 'province' AND province_code = :p "
            "ORDER BY code LIMIT 1"), {"p": receiver.province_code}).scalar()
    if owner is None:
        raise InvalidInput(f"no office handles {procedure_code} for commune {commune_code}")
    delegate = delegations.delegate_of(conn, from_office=str(owner),
                                       procedure_code=procedure_code, on=on)
    handler = str(delegate or owner)
    serves = (receiver.level == "province" and procedure.level == "province") or (
        receiver.commune_code in served) or receiver.code == handler
    if not serves:
        raise Forbidden(
            f"office {receiving_office} does not serve commune {commune_code} for "
            f"{procedure_code} and holds no delegation for it")
    return handler


def next_code(conn: Connection, office: str, day: date, code_format: str) -> str:
    sequence = conn.execute(sa.text(
        "INSERT INTO dossier_sequence (office_code, day, last) VALUES (:o, :d, 1) "
        "ON CONFLICT (office_code, day) DO UPDATE SET last = dossier_sequence.last + 1 "
        "RETURNING last"), {"o": office, "d": day}).scalar_one()
    return code_format.format(office=office, day=day, sequence=sequence)


def receive(conn: Connection, intake: Intake, *, actor: str,
            code_format: str = DEFAULT_CODE_FORMAT, today: date | None = None
            ) -> tuple[dict[str, Any], bool]:
    """Register a dossier at the counter. Returns it and whether it is new: the same
    idempotency key returns the dossier created the first time (a double click). The
    receiving counter is the caller's office (403 ``wrong-office`` for another)."""
    received_by = offices.receiving_office(conn, intake.received_by_office)
    if intake.idempotency_key:
        # Two requests with one key at once (a double click): the second waits here for the
        # first's transaction, then finds its dossier, instead of failing on the unique key.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k, hashtext(:key))"),
                     {"k": _INTAKE_LOCK, "key": intake.idempotency_key})
        existing = conn.execute(sa.text("SELECT code FROM dossier WHERE idempotency_key = :k"),
                                {"k": intake.idempotency_key}).scalar()
        if existing is not None:
            return get(conn, existing), False
    if intake.channel not in ("counter", "online", "post"):
        raise InvalidInput(f"channel must be counter, online or post, not {intake.channel!r}")
    if not intake.applicant.name.strip():
        raise InvalidInput("the applicant's name is required")
    procedure = _procedure(conn, intake.procedure_code)
    checklist = list(procedure.documents or [])
    missing = [d for d in checklist if d not in intake.documents]
    if missing:
        raise InvalidInput(f"documents missing from the checklist: {'; '.join(missing)}",
                           hint="a dossier is received only with its required documents")
    commune = intake.commune_code
    if intake.parcel_ids:
        rows = conn.execute(sa.text(
            "SELECT parcel_id, commune_code FROM current_parcel WHERE parcel_id = ANY(:p)"),
            {"p": intake.parcel_ids}).all()
        unknown = sorted(set(intake.parcel_ids) - {r.parcel_id for r in rows})
        if unknown:
            raise InvalidInput(f"no current parcels {unknown}")
        communes = {r.commune_code for r in rows}
        if len(communes) > 1:
            raise InvalidInput("the parcels of one dossier must be in one commune")
        commune = communes.pop()
        refuse_if_enjoined(conn, intake.procedure_code, intake.parcel_ids)
    if commune is None:
        raise InvalidInput("give the parcels or the commune the dossier is about")
    now: datetime = conn.execute(sa.text("SELECT office_now()")).scalar_one()
    day = today or office_day(now)
    if today is not None:  # a given day (a backlog entered later), at the clock's hour
        now = datetime.combine(today, office_time(now).time(), tzinfo=OFFICE_ZONE)
    _in_force(procedure, day)
    handler = route(conn, procedure_code=intake.procedure_code, commune_code=commune,
                    receiving_office=received_by, on=day)
    calendar = load_calendar(conn)
    appointment = appointment_date(conn, day, _statutory_days(
        calendar, procedure, now, intake.deadline_reason), commune_code=commune,
        remote_extra=bool(procedure.remote_extra), calendar=calendar)
    code = next_code(conn, received_by, day, code_format)
    dossier_id = conn.execute(sa.text(
        "INSERT INTO dossier (code, received_by_office, handling_office, procedure_code, "
        "status, channel, received_at, due_date, statutory_days, commune_code, parcel_ids, "
        "documents, applicant_name, applicant_id_number, applicant_phone, applicant_address, "
        "idempotency_key, received_by, deadline_reason) VALUES (:code, :recv, :handler, "
        ":proc, 'received', :channel, office_now(), :due, :days, :commune, :parcels, "
        "CAST(:docs AS jsonb), :name, :idn, :phone, :addr, :key, :actor, :reason) "
        "RETURNING id"),
        {"code": code, "recv": received_by, "handler": handler,
         "proc": intake.procedure_code, "channel": intake.channel, "due": appointment.due,
         "days": appointment.working_days,
         "commune": commune, "parcels": intake.parcel_ids,
         "docs": orjson.dumps(intake.documents).decode(), "name": intake.applicant.name,
         "idn": intake.applicant.id_number, "phone": intake.applicant.phone,
         "addr": intake.applicant.address, "key": intake.idempotency_key,
         "actor": actor, "reason": intake.deadline_reason}).scalar_one()
    conn.execute(sa.text(
        "INSERT INTO dossier_event (dossier_id, at, from_status, to_status, actor, "
        "office_code) VALUES (:d, office_clock(), NULL, 'received', :a, :o)"),
        {"d": dossier_id, "a": actor, "o": received_by})
    return get(conn, code), True


#: Every column of a dossier but the applicant's, which come from dossier_applicant_visible
#: (the role matrix applied by the database: sql/functions/privileges.sql).
_DOSSIER_COLUMNS = ", ".join("d." + c for c in (
    "id", "code", "received_by_office", "handling_office", "procedure_code", "status",
    "channel", "received_at", "due_date", "commune_code", "parcel_ids", "documents",
    "idempotency_key", "row_version", "result_at", "returned_at", "rating", "rating_comment",
    "received_by", "promised_date", "statutory_days", "deadline_reason"))


def get(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(sa.text(
        f"SELECT {_DOSSIER_COLUMNS}, a.applicant_name, a.applicant_id_number, "
        "a.applicant_phone, a.applicant_address, p.name AS procedure_name, p.working_days, "
        "o.name AS handling_office_name FROM dossier d "
        "JOIN dossier_applicant_visible a ON a.id = d.id "
        "JOIN procedure p ON p.code = d.procedure_code "
        "JOIN office o ON o.code = d.handling_office WHERE d.code = :c"),
        {"c": code}).mappings().first()
    if row is None:
        raise DossierNotFound(f"no dossier {code}")
    dossier = dict(row)
    dossier["events"] = [dict(e) for e in conn.execute(sa.text(
        "SELECT at, from_status, to_status, actor, office_code, note, attachments "
        "FROM dossier_event WHERE dossier_id = :d ORDER BY at, id"),
        {"d": row["id"]}).mappings()]
    dossier["apologies"] = [dict(a) for a in conn.execute(sa.text(
        "SELECT issued_at, previous_due, new_due, reason FROM apology_letter "
        "WHERE dossier_id = :d ORDER BY issued_at"), {"d": row["id"]}).mappings()]
    dossier["etag"] = f'"{row["code"]}-{row["row_version"]}"'
    return dossier


def _pauses(events: Iterable[dict[str, Any]], until: date) -> list[tuple[date, date]]:
    """Intervals spent waiting for the citizen, from the events."""
    pauses, start = [], None
    for event in events:
        if event["to_status"] in PAUSED_STATES and start is None:
            start = office_day(event["at"])
        elif event["to_status"] not in PAUSED_STATES and start is not None:
            pauses.append((start, office_day(event["at"])))
            start = None
    if start is not None:
        pauses.append((start, until))
    return pauses


def lock(conn: Connection, code: str, expected_version: int | None) -> sa.Row[Any]:
    """Lock the dossier for the rest of the transaction and refuse a stale state: of two
    requests made against the same version exactly one passes (the other waits for the
    lock, then sees the version the first one wrote). Every write to a dossier starts
    here; the row_version trigger (sql/functions/versions.sql) bumps the version on every
    UPDATE, so no write can leave an old ETag valid."""
    row = conn.execute(sa.text(
        "SELECT d.id, d.code, d.status, d.row_version, d.received_at, d.due_date, "
        "d.promised_date, d.procedure_code, d.commune_code, d.parcel_ids, d.rating, "
        "d.received_by_office, d.handling_office, p.tax_step "
        "FROM dossier d JOIN procedure p ON p.code = d.procedure_code "
        "WHERE d.code = :c FOR UPDATE OF d"), {"c": code}).first()
    if row is None:
        raise DossierNotFound(f"no dossier {code}")
    if expected_version is None:
        raise StaleDossier("send If-Match with the dossier's ETag",
                           hint="GET the dossier and repeat with its ETag")
    if row.row_version != expected_version:
        raise StaleDossier(
            f"dossier {code} changed since it was read (version {expected_version}, now "
            f"{row.row_version})", hint="read it again")
    return row


def transition(conn: Connection, code: str, to_status: str, *, role: Role, actor: str,
               office_code: str | None = None, note: str | None = None,
               expected_version: int | None, attachments: list[str] | None = None,
               rating: int | None = None, rating_comment: str | None = None,
               approval_applied: bool = False) -> dict[str, Any]:
    """Move a dossier to another state if the workflow and the caller's role allow it, and
    the caller's office handles it (or holds a delegation of it, or, for a counter clerk,
    received it); every move is an event; the due date moves by the working days spent
    waiting. The approval of a procedure with operations comes through
    ``approval.approve``, which applies them first (``approval_applied``)."""
    row = lock(conn, code, expected_version)
    acting = offices.check_may_act(conn, row, role=role, on=office_today(conn))
    allowed = TRANSITIONS.get((row.status, to_status))
    if allowed is None or role not in allowed:
        options = allowed_from(row.status, role)
        raise TransitionRefused(
            f"{row.status} -> {to_status} is not allowed for {role.value}; allowed: "
            f"{', '.join(options) or 'none'}", allowed=options)
    if to_status == "tax_notice" and not row.tax_step:
        raise TransitionRefused(f"{row.procedure_code} has no tax step",
                                allowed=allowed_from(row.status, role))
    if to_status in ("approved", "returned"):
        obligations.refuse_if_unpaid(conn, row.id, code, to_status)
    if to_status == "approved" and not approval_applied:
        refuse_approval_without_change(conn, row.procedure_code)
    if to_status == "rejected" and not (note and note.strip()):
        raise InvalidInput("a rejection needs its reasons (note)")
    if rating is not None and (to_status != "returned" or not 1 <= rating <= 5):
        raise InvalidInput("a 1-5 rating is recorded at the return of results")
    conn.execute(sa.text(
        "INSERT INTO dossier_event (dossier_id, at, from_status, to_status, actor, "
        "office_code, note, attachments) VALUES (:d, office_clock(), :f, :t, :a, :o, :n, "
        "CAST(:att AS jsonb))"),
        {"d": row.id, "f": row.status, "t": to_status, "a": actor,
         "o": office_code or acting, "n": note,
         "att": orjson.dumps(attachments or []).decode()})
    extra = ""
    if to_status in ("approved", "rejected"):
        extra = ", result_at = office_clock()"
    if to_status == "returned":
        extra = ", returned_at = office_clock(), rating = :rating, rating_comment = :rc"
    conn.execute(sa.text(f"UPDATE dossier SET status = :t{extra} WHERE id = :d"),
                 {"t": to_status, "d": row.id, "rating": rating, "rc": rating_comment})
    if row.status in PAUSED_STATES and to_status not in PAUSED_STATES:
        _recompute_due(conn, code)
    return get(conn, code)


def check_office(conn: Connection, code: str, *, role: Role) -> None:
    """Refuse (403 ``wrong-office``) a caller whose office may not act on dossier ``code``
    today (see :func:`transition`): for a route that does more than a transition (an
    approval applying its change), before that work."""
    row = conn.execute(sa.text(
        "SELECT code, handling_office, received_by_office, procedure_code FROM dossier "
        "WHERE code = :c"), {"c": code}).first()
    if row is None:
        raise DossierNotFound(f"no dossier {code}")
    offices.check_may_act(conn, row, role=role, on=office_today(conn))


def refuse_approval_without_change(conn: Connection, procedure_code: str) -> None:
    """A dossier whose procedure applies register changes is approved only with them."""
    names = catalogue.approval_operations(conn, procedure_code)
    if names:
        raise InvalidInput(
            f"the approval of {procedure_code} applies its register change "
            f"({', '.join(names)}): approve with the change",
            hint="cadastre.dossiers.approval.approve")


def _recompute_due(conn: Connection, code: str) -> None:
    """The statutory due date again, from the reception day and the working days given at
    intake, without every interval spent waiting for the citizen (each pause, from the day
    the dossier stopped to the day it went on, both included)."""
    dossier = get(conn, code)
    pauses = _pauses(dossier["events"], office_today(conn))
    due = add_working_days(load_calendar(conn), office_day(dossier["received_at"]),
                           int(dossier["statutory_days"]), paused=pauses).due
    conn.execute(sa.text("UPDATE dossier SET due_date = :d WHERE code = :c"),
                 {"d": due, "c": code})


def deadlines(conn: Connection, office: str | None, *, today: date | None = None,
              soon_days: int = 2) -> dict[str, list[dict[str, Any]]]:
    """The work list of an office (``office``: the dossiers it handles, or handles by a
    delegation today; None: every office): those past their statutory due date, those due
    within ``soon_days`` working days, and those whose clock is stopped (waiting for the
    citizen's supplement or tax payment: never overdue while they wait). ``today``: the
    database's, in Việt Nam."""
    today = today or office_today(conn)
    horizon = add_working_days(load_calendar(conn), today, soon_days,
                               beyond_calendar=True).due
    rows = conn.execute(sa.text(
        "SELECT code, handling_office, procedure_code, status, due_date, promised_date, "
        "received_at FROM dossier d "
        "WHERE status = ANY(:states) AND (CAST(:o AS text) IS NULL "
        "OR office_may_act(:o, d.handling_office, d.procedure_code, :today)) "
        "AND (status = ANY(:paused) OR due_date <= :h) ORDER BY due_date, code"),
        {"states": [*RUNNING_STATES, *PAUSED_STATES], "paused": list(PAUSED_STATES),
         "o": office, "h": horizon, "today": today}).mappings().all()
    running = [dict(r) for r in rows if r["status"] not in PAUSED_STATES]
    return {"overdue": [r for r in running if r["due_date"] < today],
            "due_soon": [r for r in running if r["due_date"] >= today],
            "paused": [dict(r) for r in rows if r["status"] in PAUSED_STATES]}


def _setting(conn: Connection, name: str, default: int) -> int:
    value = conn.execute(sa.text("SELECT value FROM calendar_setting WHERE name = :n"),
                         {"n": name}).scalar()
    return default if value is None else int(value)


def apologise(conn: Connection, code: str, *, new_due: date, reason: str, actor: str,
              expected_version: int | None, role: Role | None = None,
              today: date | None = None) -> dict[str, Any]:
    """Phiếu xin lỗi và hẹn lại: a dossier that is late, or will be late, gets an apology and
    a new promised date. "Will be late": not resolved, and its statutory due date is within
    ``will_be_late_days`` working days (a calendar setting, 1 unless changed). The statutory
    due date stays: the KPIs measure against it and count the dossier "late, with apology"
    when it is resolved after it. ``today``: the database's, in Việt Nam."""
    row = lock(conn, code, expected_version)
    today = today or office_today(conn)
    offices.check_may_act(conn, row, role=role, on=today)
    if row.status in ("returned", "withdrawn"):
        raise InvalidInput("the dossier is closed")
    if row.status not in RUNNING_STATES and row.status not in PAUSED_STATES:
        raise NotLate(f"dossier {code} is resolved ({row.status}): an apology letter is for "
                      "a dossier still waiting for its result")
    if row.status in PAUSED_STATES:
        raise NotLate(f"dossier {code} waits for the citizen ({row.status}): its clock is "
                      "stopped and its due date moves when it goes on")
    calendar = load_calendar(conn)
    days = _setting(conn, "will_be_late_days", 1)
    horizon = add_working_days(calendar, today, days, beyond_calendar=True).due
    if row.due_date > horizon:
        raise NotLate(
            f"dossier {code} is on time: due on {row.due_date.isoformat()}, more than {days} "
            "working day(s) away; an apology letter is for a dossier that is late or will be",
            hint="calendar setting will_be_late_days", due_date=row.due_date.isoformat())
    current = row.promised_date or row.due_date
    if new_due <= current or new_due <= today:
        raise InvalidInput(f"the new date must be after the appointment {current} and today")
    if calendar.years and new_due.year not in calendar.years:
        raise InvalidInput(f"no holiday calendar for {new_due.year} yet")
    if not calendar.is_working_day(new_due):
        closed = calendar.holidays.get(new_due, "weekend")
        raise InvalidInput(f"the office is closed on {new_due.isoformat()} ({closed}): "
                           "give a working day")
    if not reason.strip():
        raise InvalidInput("an apology says why the dossier is late")
    conn.execute(sa.text(
        "INSERT INTO apology_letter (dossier_id, issued_at, previous_due, new_due, reason, "
        "issued_by) VALUES (:d, office_now(), :p, :n, :r, :a)"),
        {"d": row.id, "p": current, "n": new_due, "r": reason, "a": actor})
    conn.execute(sa.text("UPDATE dossier SET promised_date = :n WHERE id = :d"),
                 {"n": new_due, "d": row.id})
    return get(conn, code)


def rate(conn: Connection, code: str, verify: str, *, rating: int, comment: str | None,
         expected_version: int | None) -> dict[str, Any]:
    """The citizen's 1-5 rating of the service, once, after the result was returned. Made
    against the version the citizen's status page showed: of two ratings sent at once,
    exactly one is recorded."""
    get_verified(conn, code, verify)  # the same 404 for a wrong code or wrong digits
    row = lock(conn, code, expected_version)
    if row.status != "returned":
        raise InvalidInput("a dossier is rated once its result has been returned")
    if row.rating is not None:
        raise InvalidInput("this dossier has already been rated")
    if not 1 <= rating <= 5:
        raise InvalidInput("a rating is 1 to 5")
    conn.execute(sa.text("UPDATE dossier SET rating = :r, rating_comment = :c WHERE id = :d"),
                 {"r": rating, "c": comment, "d": row.id})
    return {"code": code, "rating": rating, "thanks": "Cảm ơn ý kiến của bạn"}


def get_verified(conn: Connection, code: str, verify: str) -> dict[str, Any]:
    """The dossier for a citizen who proved they are its applicant; the same answer for an
    unknown code and wrong digits, so there is nothing to learn by guessing."""
    proved = conn.execute(sa.text("SELECT dossier_verifies(:c, :v)"),
                          {"c": code, "v": verify}).scalar_one()
    if not proved:
        raise DossierNotFound("no dossier with this code and these digits")
    return get(conn, code)


def public_view(dossier: dict[str, Any]) -> dict[str, Any]:
    """What a citizen sees of their dossier: no personal data, no officials' names."""
    return {
        "code": dossier["code"], "procedure": dossier["procedure_name"],
        "status": dossier["status"], "received_at": dossier["received_at"],
        # the date promised by the latest apology letter, else the statutory one
        "appointment": dossier["promised_date"] or dossier["due_date"],
        "statutory_due_date": dossier["due_date"],
        "office": dossier["handling_office_name"],
        "steps": [{"status": e["to_status"], "at": e["at"]} for e in dossier["events"]],
        "apologies": [{"new_appointment": a["new_due"], "issued_at": a["issued_at"]}
                      for a in dossier["apologies"]],
    }
