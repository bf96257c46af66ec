"""Fuzzing fixtures: an API over a database of its own (fuzzed writes must not disturb the
other API tests, which share tests/api's session database), and the size of a run.

``FUZZ_EXAMPLES`` sets the examples per operation (API) or per property / per seed file
(geometry, importers); the default keeps `make test` short. ``FUZZ_STATS`` names a JSON
file that the fuzz tests extend with their figures (what bench/fuzz_*.py print)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.app import create_app
from cadastre.accounts.service import add_user, create_api_key, sign_in
from cadastre.db import create_engine
from cadastre.dbinit import drop_database
from cadastre.settings import Settings
from tests.conftest import make_test_settings
from tests.register import ROLES, build_register

#: Every way a request can come in: signed out, each role with a bearer token, an API key.
CALLERS = ("anonymous", *ROLES, "api-key")
PASSWORD = "fuzzing is not a password"


def fuzz_examples(default: int) -> int:
    """Examples per operation or property: FUZZ_EXAMPLES, or the default of `make test`."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


def record_stats(section: str, figures: dict[str, Any]) -> None:
    """Add ``figures`` under ``section`` to the FUZZ_STATS file, when one is named."""
    target = os.environ.get("FUZZ_STATS")
    if not target:
        return
    path = Path(target)
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault(section, {}).update(figures)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))


@pytest.fixture(scope="session")
def fuzz_settings(tmp_path_factory) -> Iterator[Settings]:
    """A committed database of its own: 120 imported parcels, the demo's restrictions and
    dossiers, one account per role. Rate limits are raised so that the fuzzer reaches the
    handlers instead of 429s (tests/api/test_limits.py covers the limits)."""
    base = Settings().model_copy(update={
        "public_lookups_per_minute": 10_000, "login_attempts_per_minute": 10_000,
        "searches_per_minute": 100_000, "public_checks_per_code_per_day": 100_000,
        "token_minutes": 24 * 60,
        "export_dir": Path(tmp_path_factory.mktemp("fuzz-exports"))})
    settings = make_test_settings(base)
    build_register(settings, Path(tmp_path_factory.mktemp("fuzz")), parcels=120, seed=23,
                   prefix="fz-", password=PASSWORD,
                   extra=lambda conn: add_user(conn, "fz-service", "gis_analyst",
                                               password=None))
    yield settings
    drop_database(settings)


@pytest.fixture(scope="session")
def fuzz_engine(fuzz_settings: Settings) -> Iterator[sa.engine.Engine]:
    engine = create_engine(fuzz_settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def fuzz_app(fuzz_settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(fuzz_settings)


@pytest.fixture(scope="session")
def caller_headers(fuzz_engine, fuzz_settings: Settings) -> Callable[[str], dict[str, str]]:
    """caller_headers(caller) -> the headers that make a request come from that caller."""
    with fuzz_engine.begin() as conn:
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for role in ROLES:
            token = sign_in(conn, "fz-" + role.replace("_", "-"), PASSWORD,
                            minutes=fuzz_settings.token_minutes)
            headers[role] = {"Authorization": f"Bearer {token}"}
        headers["api-key"] = {"X-API-Key": create_api_key(conn, "fz-service", label="fuzz")}
    return lambda caller: headers[caller]
