"""An API over its own committed database: a small imported Hoàn Kiếm register with the
demo's restrictions, and one account per role. (The API reads through its own pool, so
its data cannot live inside a rolled-back test transaction.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from cadastre.accounts.service import add_user, create_api_key
from cadastre.db import create_engine
from cadastre.dbinit import drop_database
from cadastre.settings import Settings
from tests.conftest import make_test_settings
from tests.register import ROLES, build_register

PASSWORD = "correct horse battery"
#: A ward's office (the demo's) and its staff: headers("ward_clerk"), headers("ward_officer").
WARD_OFFICE = "UBND.00097"
WARD_ACCOUNTS = {"t-ward-clerk": "counter_clerk", "t-ward-officer": "land_officer"}


@pytest.fixture(scope="session")
def api_settings(tmp_path_factory) -> Iterator[Settings]:
    settings = make_test_settings()

    def service_accounts(conn: sa.engine.Connection) -> None:
        add_user(conn, "tax-service", "gis_analyst", password=None)
        add_user(conn, "former-clerk", "counter_clerk", password=PASSWORD,
                 office_code="VPDK.HN")
        for name, role in WARD_ACCOUNTS.items():  # the staff of a ward's one-stop counter
            add_user(conn, name, role, password=PASSWORD, office_code=WARD_OFFICE)
        conn.execute(sa.text("UPDATE app_user SET disabled = true "
                             "WHERE username = 'former-clerk'"))

    build_register(settings, Path(tmp_path_factory.mktemp("api")), parcels=400, seed=21,
                   prefix="t-", password=PASSWORD, extra=service_accounts)
    yield settings
    drop_database(settings)


@pytest.fixture(scope="session")
def api_engine(api_settings: Settings) -> Iterator[sa.engine.Engine]:
    engine = create_engine(api_settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def headers(client: TestClient, api_engine) -> Callable[[str], dict[str, str]]:
    """headers(role) -> the Authorization header of a signed-in account of that role (at
    VPDK.HN for the roles that have an office); headers("ward_clerk"),
    headers("ward_officer"): the staff of WARD_OFFICE."""
    tokens: dict[str, dict[str, str]] = {"anonymous": {}}
    logins = {role: "t-" + role.replace("_", "-") for role in ROLES}
    logins |= {"ward_clerk": "t-ward-clerk", "ward_officer": "t-ward-officer"}
    for key, username in logins.items():
        response = client.post("/api/v1/auth/token",
                               data={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        tokens[key] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    with api_engine.begin() as conn:
        tokens["api-key"] = {"X-API-Key": create_api_key(conn, "tax-service", label="tests")}
    return lambda role: tokens[role]


@pytest.fixture(scope="session")
def person(api_engine) -> dict[str, object]:
    """A current individual holder with a national ID, birth year and an address of their
    own (different from the parcel's), and a parcel they hold."""
    with api_engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT p.parcel_id, p.commune_code, p.sheet_number, p.parcel_number, p.address
                   AS parcel_address, h.name, pp.national_id, pp.birth_year,
                   pp.address AS holder_address, c.serial
            FROM current_land_right r JOIN party h ON h.id = r.party_id
            JOIN party_personal pp ON pp.party_id = h.id
            JOIN current_parcel p ON p.parcel_id = r.parcel_id
            JOIN current_certificate c ON c.certificate_id = r.certificate_id
            WHERE h.kind = 'individual' AND pp.national_id IS NOT NULL
              AND pp.birth_year IS NOT NULL AND pp.address <> p.address
            ORDER BY p.parcel_id LIMIT 1""")).mappings().one()
    return dict(row)


@pytest.fixture(autouse=True)
def _rate_limits_start_afresh(request: pytest.FixtureRequest) -> None:
    """The rate-limit counters are in the database, shared by every app the tests build (as
    by every worker process): each test starts with none, as if a day had passed since the
    last. (Session fixtures, such as the sign-ins of ``headers``, are set up before.)"""
    if "api_settings" not in request.fixturenames:
        return
    engine = request.getfixturevalue("api_engine")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rate_limit"))


@pytest.fixture
def office_clock(api_engine) -> Iterator[Callable[[int], None]]:
    """office_clock(days): the one-stop service's clock (sql/functions/offices.sql) that
    many days ahead of the real one, for the API too, until the test ends; so that a
    dossier received through the API can become due, late or overdue as days pass."""
    from datetime import timedelta

    from cadastre.dossiers.calendar import set_office_clock

    def move(days: int) -> None:
        with api_engine.begin() as conn:
            set_office_clock(conn, timedelta(days=days))

    yield move
    move(0)
