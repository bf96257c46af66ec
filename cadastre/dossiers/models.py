"""ORM models of the one-stop service: offices, procedures, dossiers, calendar (schema mirror)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, Range
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class PublicHoliday(Base):
    __tablename__ = "public_holiday"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, server_default="holiday")
    source: Mapped[str] = mapped_column(Text)


class CalendarSetting(Base):
    __tablename__ = "calendar_setting"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class CalendarYear(Base):
    """A year whose base calendar is loaded into public_holiday, and from which source."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(server_default="now()")
    loaded_by: Mapped[str] = mapped_column(Text)


class CalendarSwap(Base):
    """One version of an administrator's calendar entry (a swapped day off or working day)."""

    __tablename__ = "calendar_swap"

    version_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    swap_id: Mapped[int] = mapped_column(BigInteger,
                                         server_default="nextval('calendar_swap_id_seq')")
    day: Mapped[date] = mapped_column()
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    lifespan: Mapped[Range[Any]] = mapped_column(TSTZRANGE,
                                                 server_default="tstzrange(now(), NULL)")
    recorded_by: Mapped[str] = mapped_column(Text)
    ended_by: Mapped[str | None] = mapped_column(Text)
    end_basis: Mapped[str | None] = mapped_column(Text)


class Office(Base):
    __tablename__ = "office"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(Text)
    commune_code: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)


class Procedure(Base):
    __tablename__ = "procedure"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    working_days: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    documents: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    fee_vnd: Mapped[Decimal | None] = mapped_column(Numeric(14, 0))
    tax_step: Mapped[bool] = mapped_column(server_default="false")
    change_operation: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(server_default="true")
    operation: Mapped[str | None] = mapped_column(Text)
    operations: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    blocked_by_injunction: Mapped[bool] = mapped_column(server_default="false")
    legal_basis: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    #: A same-day procedure (working_days 0): received after it, due the next working day.
    cutoff_time: Mapped[time | None]
    #: The longer time a dossier may be given with a recorded reason.
    extended_days: Mapped[int | None] = mapped_column(Integer)
    #: Whether a remote commune's extra days apply.
    remote_extra: Mapped[bool] = mapped_column(server_default="true")


class Delegation(Base):
    """Ủy quyền: from_office delegates its procedures (delegation_procedure) to to_office
    for a period, by a decision (number, date, signer). Ended by setting valid_to."""

    __tablename__ = "delegation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    from_office: Mapped[str] = mapped_column(Text, ForeignKey("office.code"))
    to_office: Mapped[str] = mapped_column(Text, ForeignKey("office.code"))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    decision_number: Mapped[str] = mapped_column(Text)
    decision_date: Mapped[date | None]
    signer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default="now()")
    created_by: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(Text)


class DelegationProcedure(Base):
    __tablename__ = "delegation_procedure"

    delegation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("delegation.id"),
                                               primary_key=True)
    procedure_code: Mapped[str] = mapped_column(Text, ForeignKey("procedure.code"),
                                                primary_key=True)


class DossierSequence(Base):
    __tablename__ = "dossier_sequence"

    office_code: Mapped[str] = mapped_column(Text, ForeignKey("office.code"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Dossier(Base):
    __tablename__ = "dossier"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    received_by_office: Mapped[str] = mapped_column(Text, ForeignKey("office.code"))
    handling_office: Mapped[str] = mapped_column(Text, ForeignKey("office.code"))
    procedure_code: Mapped[str] = mapped_column(Text, ForeignKey("procedure.code"))
    status: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(server_default="now()")
    due_date: Mapped[date]
    commune_code: Mapped[str | None] = mapped_column(Text)
    parcel_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default="{}")
    documents: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    applicant_name: Mapped[str] = mapped_column(Text)
    applicant_id_number: Mapped[str | None] = mapped_column(Text)
    applicant_phone: Mapped[str | None] = mapped_column(Text)
    applicant_address: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text, unique=True)
    row_version: Mapped[int] = mapped_column(Integer, server_default="1")
    result_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    received_by: Mapped[str] = mapped_column(Text, server_default="current_user")
    #: The date of the latest apology letter; due_date stays the statutory date.
    promised_date: Mapped[date | None]
    #: Working days given at intake (procedure and remote-commune days then).
    statutory_days: Mapped[int] = mapped_column(Integer)
    #: Why the dossier was given the procedure's extended time.
    deadline_reason: Mapped[str | None] = mapped_column(Text)


class DossierEvent(Base):
    __tablename__ = "dossier_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dossier.id"))
    at: Mapped[datetime] = mapped_column(server_default="clock_timestamp()")
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    office_code: Mapped[str | None] = mapped_column(Text, ForeignKey("office.code"))
    note: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")


class ApologyLetter(Base):
    __tablename__ = "apology_letter"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dossier.id"))
    issued_at: Mapped[datetime] = mapped_column(server_default="now()")
    previous_due: Mapped[date]
    new_due: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(Text)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    channel: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    dossier_code: Mapped[str | None] = mapped_column(Text, ForeignKey("dossier.code"))
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(Text)
    office_code: Mapped[str] = mapped_column(Text, ForeignKey("office.code"))
    received_at: Mapped[datetime] = mapped_column(server_default="now()")
    answer_due: Mapped[date]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime | None]
    assigned_by: Mapped[str | None] = mapped_column(Text)


class TaxNotice(Base):
    """The tax authority's notice of what a dossier's land user owes (migration 0028)."""

    __tablename__ = "tax_notice"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dossier.id"))
    notice_number: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date]
    authority: Mapped[str] = mapped_column(Text)
    amounts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    total: Mapped[Decimal] = mapped_column(Numeric(16, 0))
    supersedes: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tax_notice.id"))
    recorded_at: Mapped[datetime] = mapped_column(server_default="now()")
    recorded_by: Mapped[str] = mapped_column(Text, server_default="current_user")


class TaxPayment(Base):
    """The payment of a notice in full (the receipt's reference)."""

    __tablename__ = "tax_payment"

    notice_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tax_notice.id"),
                                           primary_key=True)
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 0))
    recorded_at: Mapped[datetime] = mapped_column(server_default="now()")
    recorded_by: Mapped[str] = mapped_column(Text, server_default="current_user")
