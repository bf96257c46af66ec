"""Accounts: argon2id password hashes, API keys stored as sha256 hashes, and HS256 bearer
tokens signed with a key from the settings or, when none is set, one generated once and
kept in the database (so every worker process verifies the others' tokens)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import asyncpg
import jwt
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from cadastre.access import ACCOUNT_ROLES, Role
from cadastre.errors import AuthenticationFailed, Conflict, InvalidInput, UserNotFound

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """What an unknown user's password is checked against (same timing as a real one);
    made on first use, not at import (an argon2 hash costs ~0.17 s of every start-up)."""
    return _hasher.hash("not a password")


TOKEN_AUDIENCE = "cadastre-api"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account (with its role) or the anonymous public."""

    username: str | None
    role: Role
    user_id: int | None = None
    via: str = "anonymous"  # anonymous | token | api-key

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(None, Role.ANONYMOUS)


def _role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError as exc:
        raise InvalidInput(f"unknown role {value!r}",
                           hint="one of " + ", ".join(r.value for r in ACCOUNT_ROLES)) from exc
    if role is Role.ANONYMOUS:
        raise InvalidInput("anonymous is not an account role")
    return role


def add_user(conn: Connection, username: str, role: str, *, password: str | None,
             full_name: str | None = None, office_code: str | None = None) -> int:
    checked = _role(role)
    if password is not None and len(password) < 10:
        raise InvalidInput("a password needs at least 10 characters")
    exists = conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"),
                          {"u": username}).scalar()
    if exists:
        raise Conflict(f"user {username!r} already exists")
    return int(conn.execute(sa.text(
        "INSERT INTO app_user (username, full_name, role, office_code, password_hash, "
        "password_changed_at) VALUES (:u, :f, :r, :o, :h, CASE WHEN :h IS NULL THEN NULL "
        "ELSE now() END) RETURNING id"),
        {"u": username, "f": full_name, "r": checked.value, "o": office_code,
         "h": _hasher.hash(password) if password else None}).scalar_one())


def list_users(conn: Connection) -> list[sa.Row[tuple[object, ...]]]:
    return list(conn.execute(sa.text(
        "SELECT u.username, u.full_name, u.role, u.office_code, u.disabled, u.created_at, "
        "(SELECT count(*) FROM api_key k WHERE k.user_id = u.id AND k.revoked_at IS NULL) "
        "AS keys FROM app_user u ORDER BY u.username")).all())


def disable_user(conn: Connection, username: str) -> None:
    updated = conn.execute(sa.text(
        "UPDATE app_user SET disabled = true WHERE username = :u"), {"u": username}).rowcount
    if not updated:
        raise UserNotFound(f"no user {username!r}")
    conn.execute(sa.text(
        "UPDATE api_key SET revoked_at = now() WHERE revoked_at IS NULL AND user_id = "
        "(SELECT id FROM app_user WHERE username = :u)"), {"u": username})


def authenticate(conn: Connection, username: str, password: str) -> Principal:
    """The account for a username and password; one message for every failure."""
    row = conn.execute(sa.text(
        "SELECT id, role, password_hash, disabled FROM app_user WHERE username = :u"),
        {"u": username}).first()
    stored = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    try:
        _hasher.verify(stored, password)  # also run for unknown users: same timing
        ok = row is not None and row.password_hash is not None and not row.disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        raise AuthenticationFailed("wrong username or password, or the account is disabled")
    if _hasher.check_needs_rehash(stored):
        conn.execute(sa.text("UPDATE app_user SET password_hash = :h WHERE id = :i"),
                     {"h": _hasher.hash(password), "i": row.id})
    return Principal(username, Role(row.role), int(row.id), via="token")


def create_api_key(conn: Connection, username: str, *, label: str | None = None) -> str:
    """A new API key for the account; only its hash is stored, the key is shown once."""
    user_id = conn.execute(sa.text(
        "SELECT id FROM app_user WHERE username = :u AND NOT disabled"),
        {"u": username}).scalar()
    if user_id is None:
        raise UserNotFound(f"no active user {username!r}")
    prefix = secrets.token_urlsafe(6)[:8]
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    conn.execute(sa.text(
        "INSERT INTO api_key (user_id, prefix, key_hash, label) VALUES (:u, :p, :h, :l)"),
        {"u": user_id, "p": prefix, "h": hashlib.sha256(key.encode()).hexdigest(),
         "l": label})
    return key


def principal_for_api_key(conn: Connection, key: str) -> Principal:
    prefix = key.split(".", 1)[0]
    row = conn.execute(sa.text(
        "SELECT u.id, u.username, u.role, k.key_hash FROM api_key k JOIN app_user u "
        "ON u.id = k.user_id WHERE k.prefix = :p AND k.revoked_at IS NULL "
        "AND NOT u.disabled"), {"p": prefix}).first()
    digest = hashlib.sha256(key.encode()).hexdigest()
    if row is None or not secrets.compare_digest(row.key_hash, digest):
        raise AuthenticationFailed("unknown or revoked API key")
    return Principal(row.username, Role(row.role), int(row.id), via="api-key")


def signing_key(conn: Connection, configured: str | None) -> str:
    if configured:
        return configured
    read = sa.text("SELECT value FROM database_setting WHERE name = 'token_signing_key'")
    found = conn.execute(read).scalar()
    if found is None:  # `cadastre db upgrade` makes one; older databases get it here
        conn.execute(sa.text(
            "INSERT INTO database_setting (name, value) VALUES ('token_signing_key', :v) "
            "ON CONFLICT (name) DO NOTHING"), {"v": secrets.token_urlsafe(48)})
        found = conn.execute(read).scalar_one()
    return str(found)


def issue_token(principal: Principal, key: str, *, minutes: int) -> tuple[str, int]:
    now = datetime.now(UTC)
    claims = {"sub": principal.username, "role": principal.role.value, "uid": principal.user_id,
              "aud": TOKEN_AUDIENCE, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, key, algorithm="HS256"), minutes * 60


def principal_for_token(token: str, key: str) -> Principal:
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], audience=TOKEN_AUDIENCE,
                            options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("the token has expired; sign in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthenticationFailed("invalid bearer token") from exc
    return Principal(str(claims["sub"]), Role(claims["role"]), claims.get("uid"), via="token")


async def principal_for_api_key_async(conn: asyncpg.Connection, key: str) -> Principal:
    """principal_for_api_key on the API's async pool."""
    row = await conn.fetchrow(
        "SELECT u.id, u.username, u.role, k.key_hash FROM api_key k JOIN app_user u "
        "ON u.id = k.user_id WHERE k.prefix = $1 AND k.revoked_at IS NULL "
        "AND NOT u.disabled", key.split(".", 1)[0])
    digest = hashlib.sha256(key.encode()).hexdigest()
    if row is None or not secrets.compare_digest(row["key_hash"], digest):
        raise AuthenticationFailed("unknown or revoked API key")
    return Principal(row["username"], Role(row["role"]), int(row["id"]), via="api-key")
