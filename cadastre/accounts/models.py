"""ORM models of the accounts: users, API keys, token signing keys (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base


class AppUser(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    #: Required for counter clerks, land officers and supervisors (sql/functions/offices.sql).
    office_code: Mapped[str | None] = mapped_column(Text, ForeignKey("office.code"))
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(server_default="false")
    created_at: Mapped[datetime] = mapped_column(server_default="now()")
    password_changed_at: Mapped[datetime | None]
    #: Named by every token; bumped when the account is disabled or changed (auth.sql).
    token_version: Mapped[int] = mapped_column(server_default="1")


class AuthSigningKey(Base):
    """Token signing keys: owned by cadastre_auth, read by nobody else, never backed up."""

    __tablename__ = "auth_signing_key"

    kid: Mapped[str] = mapped_column(Text, primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default="now()")
    retired_at: Mapped[datetime | None]
    accepted_until: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("app_user.id"))
    prefix: Mapped[str] = mapped_column(Text, unique=True)
    key_hash: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default="now()")
    revoked_at: Mapped[datetime | None]
