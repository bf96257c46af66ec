"""Settings: one object, built explicitly by the CLI, the API factory and the tests."""

from __future__ import annotations

import ipaddress
import os
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """Where this copy keeps its local state (the project-local cluster's URL, export
    files): ``CADASTRE_STATE_DIR``, else the checkout's ``.cadastre/`` when running from a
    checkout (scripts/setup.sh writes there), else the user's state directory
    (``~/.local/state/cadastre`` on Linux) for an installed copy, never site-packages."""
    chosen = os.environ.get("CADASTRE_STATE_DIR")
    if chosen:
        return Path(chosen)
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "sql").is_dir():
        return PROJECT_ROOT / ".cadastre"
    return platformdirs.user_state_path("cadastre")


STATE_DIR = state_dir()
#: Written by scripts/setup.sh when it had to start a project-local PostgreSQL cluster.
LOCAL_CLUSTER_ENV = STATE_DIR / "database.env"
DEFAULT_DATABASE_URL = "postgresql://127.0.0.1:5432/cadastre"
DEFAULT_STORAGE_SRID = 5897  # VN-2000 / TM-3 105°00' (Hà Nội)


def bundled_sql_dir() -> Path:
    """The directory of ``migrations/`` and ``functions/``: inside the installed package (a
    wheel ships the repository's top-level ``sql/`` as ``cadastre/sql``), else the
    checkout's ``sql/``."""
    shipped = resources.files("cadastre").joinpath("sql")
    if shipped.is_dir():
        return Path(str(shipped))
    return PROJECT_ROOT / "sql"


class Settings(BaseSettings):
    """Everything configurable, read from ``CADASTRE_*`` environment variables.

    The environment wins over ``.cadastre/database.env`` (the project-local cluster's URL).
    """

    model_config = SettingsConfigDict(
        env_prefix="CADASTRE_", env_file=LOCAL_CLUSTER_ENV, extra="ignore", frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    #: The API connects as this least-privileged role (created and granted by `cadastre db
    #: upgrade`, sql/functions/privileges.sql), not as the owner of the tables in
    #: ``database_url``. Empty: connect as ``database_url``'s user (not recommended).
    api_database_user: str = "cadastre_api"
    api_database_password: SecretStr | None = None
    #: Directory holding migrations/ and functions/.
    sql_dir: Path = Field(default_factory=bundled_sql_dir)
    pool_size: int = Field(default=10, ge=1, le=200)
    max_overflow: int = Field(default=5, ge=0, le=200)
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    connect_timeout_s: int = Field(default=5, ge=1, le=120)
    token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    #: Dossier codes: {office} agency code, {day} reception date, {sequence} per office/day.
    dossier_code_format: str = "{office}.{day:%y%m%d}.{sequence:04d}"
    #: Citizen lookups (dossier status, feedback, rating) per client address per minute,
    #: and 4-digit checks of one dossier or feedback code per day, from any address.
    public_lookups_per_minute: int = Field(default=20, ge=1, le=10_000)
    public_checks_per_code_per_day: int = Field(default=20, ge=1, le=100_000)
    #: asyncpg pool of each API worker (hot read paths). Sized to the machine: 4 per worker
    #: kept the point lookup's rate and gave the parcel file about 10 % more than 8-10 on 2
    #: cores (fewer backends contending; docs/benchmarks.md, "Parcel file").
    api_pool_min: int = Field(default=4, ge=1, le=100)
    api_pool_max: int = Field(default=6, ge=1, le=200)
    #: Bulk exports: the most features a gis_analyst may export in one job without a
    #: supervisor's approval (a supervisor or admin runs larger ones), and where the API's
    #: export jobs write their files.
    export_max_features_without_approval: int = Field(default=100_000, ge=0)
    export_dir: Path = STATE_DIR / "exports"

    #: Limits (docs/reliability.md): request bodies, sign-in attempts and searches per
    #: client address per minute, and the origins whose pages may call the API (CORS; empty:
    #: none, same-origin only; "*" is refused).
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)
    login_attempts_per_minute: int = Field(default=10, ge=1, le=10_000)
    searches_per_minute: int = Field(default=120, ge=1, le=100_000)
    cors_origins: list[str] = Field(default_factory=list)
    #: Also send ``Access-Control-Allow-Origin: *`` on the public layers (/ogc, /tiles: the
    #: same data for every caller, no credentials), so that any site's maps may use them.
    public_layers_any_origin: bool = False
    #: The reverse proxies (addresses or networks, a JSON list) whose X-Forwarded-For and
    #: X-Forwarded-Proto are believed; empty: none, the client is the peer of the socket.
    trusted_proxies: list[str] = Field(default_factory=list)
    #: Where clients reach the API (scheme://host[:port]): the absolute links the API writes
    #: (OGC, TileJSON, paging) start with it, never with the request's Host header. Unset:
    #: the address the server was reached at (its socket), with the request's scheme.
    public_base_url: str | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"trusted proxies are IP addresses or networks (CIDR), "
                                 f"not {proxy!r}") from None
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_origin(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if (parts.scheme not in ("http", "https") or not parts.hostname or not port_ok
                or parts.username or parts.password or parts.path not in ("", "/")
                or parts.query or parts.fragment):
            raise ValueError(f"the public base URL is scheme://host[:port] (the API is served "
                             f"at the root of its host), not {value!r}")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not origin.startswith(("https://", "http://")):
                raise ValueError(f"CORS origins must be explicit http(s) origins, not {origin!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            raise ValueError("CADASTRE_DATABASE_URL must be a postgresql:// URL")
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        return value
