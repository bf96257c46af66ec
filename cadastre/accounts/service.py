"""Accounts: bcrypt password hashes made and checked by PostgreSQL (pgcrypto), API keys
stored as sha256 hashes, and HS256 bearer tokens minted and verified inside the database by
functions owned by ``cadastre_auth`` (sql/functions/auth.sql) with keys the API's database
role cannot read. This module never sees a key, and the API never sees a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from functools import cache

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import ACCOUNT_ROLES, OFFICE_ROLES, Role
from cadastre.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, UserNotFound

#: bcrypt work factor of new password hashes (2^10 rounds: ~60 ms in the database).
BCRYPT_COST = 10
MIN_PASSWORD_LENGTH = 12
#: bcrypt reads the first 72 bytes of a password; longer ones are refused, not truncated.
MAX_PASSWORD_BYTES = 72
#: What auth_sign_in raises for a staff account without an office (sql/functions/auth.sql).
NO_OFFICE_SQLSTATE = "CD010"


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's frequency list (maintained on PyPI)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Length >= 12 characters, at most 72 bytes, not a common password, not the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInput(f"a password may be at most {MAX_PASSWORD_BYTES} bytes long")
    folded = password.lower()
    if folded in _common_passwords() or "".join(folded.split()) in _common_passwords():
        raise InvalidInput("this password is in a list of common passwords; choose another")
    if username and username.lower() in folded:
        raise InvalidInput("a password may not contain the username")


class NoOffice(Forbidden):
    """A counter clerk, land officer or supervisor whose account belongs to no office yet:
    it may not sign in or act until an admin sets the office."""

    code = "no-office"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account (with its role) or the anonymous public."""

    username: str | None
    role: Role
    user_id: int | None = None
    via: str = "anonymous"  # anonymous | token | api-key
    #: The bearer token or API key the caller presented, passed on to the database, which
    #: verifies it again for every transaction (never shown).
    credential: str | None = field(default=None, repr=False)

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


def _check_office(conn: Connection, role: Role, office_code: str | None) -> None:
    """Counter clerks, land officers and supervisors belong to an office; admins are
    province-wide and analysts act on no dossier (either may name an office or none)."""
    if office_code is None:
        if role in OFFICE_ROLES:
            raise InvalidInput(f"a {role.value} account belongs to an office",
                               hint="give its office (--office CODE); see cadastre office list")
        return
    if not conn.execute(sa.text("SELECT 1 FROM office WHERE code = :c"),
                        {"c": office_code}).scalar():
        raise InvalidInput(f"unknown office {office_code!r}", hint="see cadastre office list")


def add_user(conn: Connection, username: str, role: str, *, password: str | None,
             full_name: str | None = None, office_code: str | None = None) -> int:
    checked = _role(role)
    _check_office(conn, checked, office_code)
    if password is not None:
        check_password_policy(password, username=username)
    exists = conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"),
                          {"u": username}).scalar()
    if exists:
        raise Conflict(f"user {username!r} already exists")
    return int(conn.execute(sa.text(
        "INSERT INTO app_user (username, full_name, role, office_code, password_hash, "
        "password_changed_at) VALUES (:u, :f, :r, :o, "
        "CASE WHEN CAST(:p AS text) IS NULL THEN NULL ELSE crypt(:p, gen_salt('bf', :cost)) END, "
        "CASE WHEN CAST(:p AS text) IS NULL THEN NULL ELSE now() END) RETURNING id"),
        {"u": username, "f": full_name, "r": checked.value, "o": office_code,
         "p": password, "cost": BCRYPT_COST}).scalar_one())


def set_password(conn: Connection, username: str, password: str) -> None:
    """A new password (policy checked); the account's tokens stop working."""
    check_password_policy(password, username=username)
    updated = conn.execute(sa.text(
        "UPDATE app_user SET password_hash = crypt(:p, gen_salt('bf', :cost)), "
        "password_changed_at = now() WHERE username = :u"),
        {"p": password, "cost": BCRYPT_COST, "u": username}).rowcount
    if not updated:
        raise UserNotFound(f"no user {username!r}")


def set_role(conn: Connection, username: str, role: str) -> None:
    """Another role; the account's tokens stop working (its token version is bumped)."""
    checked = _role(role)
    office = conn.execute(sa.text("SELECT office_code FROM app_user WHERE username = :u"),
                          {"u": username}).first()
    if office is None:
        raise UserNotFound(f"no user {username!r}")
    _check_office(conn, checked, office.office_code)
    conn.execute(sa.text("UPDATE app_user SET role = :r WHERE username = :u"),
                 {"r": checked.value, "u": username})


def set_office(conn: Connection, username: str, office_code: str | None) -> None:
    """The office the account works for (None: none, for admins and analysts); it acts for
    the new office from its next request (its tokens stay valid)."""
    role = conn.execute(sa.text("SELECT role FROM app_user WHERE username = :u"),
                        {"u": username}).scalar()
    if role is None:
        raise UserNotFound(f"no user {username!r}")
    _check_office(conn, _role(str(role)), office_code)
    conn.execute(sa.text("UPDATE app_user SET office_code = :o WHERE username = :u"),
                 {"o": office_code, "u": username})


def enable_user(conn: Connection, username: str) -> None:
    updated = conn.execute(sa.text(
        "UPDATE app_user SET disabled = false WHERE username = :u"), {"u": username}).rowcount
    if not updated:
        raise UserNotFound(f"no user {username!r}")


def list_users(conn: Connection) -> list[sa.Row[tuple[object, ...]]]:
    return list(conn.execute(sa.text(
        "SELECT u.username, u.full_name, u.role, u.office_code, u.disabled, u.created_at, "
        "(SELECT count(*) FROM api_key k WHERE k.user_id = u.id AND k.revoked_at IS NULL) "
        "AS keys FROM app_user u ORDER BY u.username")).all())


def users_for_admin(conn: Connection) -> list[dict[str, object]]:
    """The account list of the API: read by auth_users(), which the database runs only for
    a proven admin (no hashes); :func:`list_users` is the command line's."""
    return [dict(r) for r in conn.execute(sa.text("SELECT * FROM auth_users()")).mappings()]


def disable_user(conn: Connection, username: str) -> None:
    updated = conn.execute(sa.text(
        "UPDATE app_user SET disabled = true WHERE username = :u"), {"u": username}).rowcount
    if not updated:
        raise UserNotFound(f"no user {username!r}")
    conn.execute(sa.text(
        "UPDATE api_key SET revoked_at = now() WHERE revoked_at IS NULL AND user_id = "
        "(SELECT id FROM app_user WHERE username = :u)"), {"u": username})


def sign_in(conn: Connection, username: str, password: str, *, minutes: int) -> str:
    """A bearer token for a username and password, minted by the database; one message for
    every failure (an unknown account costs the database the same bcrypt round)."""
    if len(password.encode()) > MAX_PASSWORD_BYTES:  # bcrypt would read only the start
        raise AuthenticationFailed("wrong username or password, or the account is disabled")
    try:
        token = conn.execute(sa.text("SELECT auth_sign_in(:u, :p, :m)"),
                             {"u": username, "p": password, "m": minutes}).scalar()
    except sa.exc.DBAPIError as exc:  # the password was right: the account has no office
        if getattr(exc.orig, "pgcode", None) != NO_OFFICE_SQLSTATE:
            raise
        raise NoOffice("your account belongs to no office yet: it cannot sign in until an "
                       "admin sets it", hint="cadastre user set-office USERNAME OFFICE"
                       ) from exc
    if token is None:
        raise AuthenticationFailed("wrong username or password, or the account is disabled")
    return str(token)


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


_PROBLEMS = {
    "expired": "the token has expired; sign in again",
    "revoked": "the token no longer holds: the account was disabled or changed; sign in again",
}


def _principal(row: asyncpg.Record | sa.Row[tuple[object, ...]] | None,
               credential: str) -> Principal:
    found = dict(row._mapping) if isinstance(row, sa.Row) else dict(row) if row else {}
    if found.get("user_id") is None:
        problem = str(found.get("problem") or "invalid")
        raise AuthenticationFailed(_PROBLEMS.get(problem, "invalid bearer token or API key"))
    return Principal(str(found["username"]), Role(str(found["role"])), int(found["user_id"]),
                     via=str(found["via"]), credential=credential)


async def principal_for_credential(conn: asyncpg.Connection, credential: str) -> Principal:
    """Who a bearer token or API key belongs to, as the database sees the account now."""
    row = await conn.fetchrow(
        "SELECT user_id, username, role, via, problem FROM auth_verify($1)", credential)
    return _principal(row, credential)


def rotate_signing_key(conn: Connection, *, accept_minutes: int) -> str:
    """A new token signing key; tokens of the old one are accepted for ``accept_minutes``
    more (one token lifetime). Returns the new key's id."""
    return str(conn.execute(sa.text(
        "SELECT auth_rotate_key(make_interval(mins => :m))"), {"m": accept_minutes}
    ).scalar_one())


def export_signing_keys(conn: Connection) -> list[dict[str, object]]:
    """The keys that still verify tokens, to carry them into a restored copy on purpose."""
    rows = conn.execute(sa.text(
        "SELECT kid, encode(secret, 'base64') AS secret, created_at::text AS created_at, "
        "retired_at::text AS retired_at, accepted_until::text AS accepted_until "
        "FROM auth_signing_key WHERE retired_at IS NULL OR accepted_until > now() "
        "ORDER BY created_at")).mappings().all()
    return [dict(r) for r in rows]


def import_signing_keys(conn: Connection, keys: list[dict[str, object]]) -> int:
    """Make the database accept the tokens of these keys (from :func:`export_signing_keys`);
    its own current key is retired in favour of the imported current one."""
    current = [k for k in keys if not k.get("retired_at")]
    if len(current) > 1:
        raise InvalidInput("a key file holds at most one current key")
    if current:
        conn.execute(sa.text(
            "UPDATE auth_signing_key SET retired_at = now(), accepted_until = now() "
            "WHERE retired_at IS NULL AND kid <> :k"), {"k": current[0]["kid"]})
    for k in keys:
        try:
            conn.execute(sa.text(
                "INSERT INTO auth_signing_key (kid, secret, created_at, retired_at, "
                "accepted_until) VALUES (:kid, decode(:secret, 'base64'), "
                "CAST(:created_at AS timestamptz), CAST(:retired_at AS timestamptz), "
                "CAST(:accepted_until AS timestamptz)) ON CONFLICT (kid) DO NOTHING"),
                {name: k.get(name) for name in ("kid", "secret", "created_at", "retired_at",
                                                "accepted_until")})
        except sa.exc.DBAPIError as exc:
            raise InvalidInput(f"not a key of a cadastre key file: {k.get('kid')!r}") from exc
    return len(keys)
