"""What the database refuses as a conflict with the register's state is a 409 problem with a
stable code, through the writer engine (psycopg2) and the read pool (asyncpg) alike; the
constraint is named only where that tells nothing about a person."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Caller, Connection, write
from cadastre.settings import Settings

#: Statements the API's own login runs into the register's rules with, each in a
#: transaction that is rolled back by the error.
STATEMENTS = {
    # a real unique violation: a procedure renamed to the code of another one
    "unique": "UPDATE procedure SET code = (SELECT max(code) FROM procedure) "
              "WHERE code = (SELECT min(code) FROM procedure)",
    # a real trigger refusal: a version edited in place (guard_version_history, CD001)
    "history": "UPDATE parcel SET parcel_number = parcel_number "
               "WHERE version_id = (SELECT min(version_id) FROM parcel)",
    # what the version-overlap triggers raise (check_version_overlap)
    "overlap": "DO $$ BEGIN RAISE EXCEPTION 'version 1 of parcel overlaps version 2' "
               "USING ERRCODE = 'exclusion_violation', TABLE = 'parcel'; END $$",
    # a unique index over personal data: its name would tell that the ID is on file
    "personal": "DO $$ BEGIN RAISE EXCEPTION 'duplicate key value' USING ERRCODE = "
                "'unique_violation', TABLE = 'party_personal', "
                "CONSTRAINT = 'party_personal_national_id_idx'; END $$",
    # a role's refusal is not a conflict
    "refusal": "DO $$ BEGIN RAISE EXCEPTION 'the api role may not do this' "
               "USING ERRCODE = '42501'; END $$",
}


def _provoking(app: FastAPI) -> FastAPI:
    """``app`` with two routes that run a statement of STATEMENTS as the signed-in caller:
    one on the writer engine as the write routes do, one on the pool as the hot read paths
    do."""
    router = APIRouter(prefix="/test-conflicts")

    @router.post("/writer/{case}")
    async def on_writer(request: Request, case: str, caller: Caller) -> None:
        await write(request, lambda conn: conn.execute(sa.text(STATEMENTS[case])))

    @router.post("/pool/{case}")
    async def on_pool(case: str, conn: Connection) -> None:
        await conn.execute(STATEMENTS[case])

    app.include_router(router)
    return app


@pytest.fixture(scope="module")
def provoker(api_settings: Settings, headers: Callable[[str], dict[str, str]]
             ) -> Iterator[TestClient]:
    """A client of that app, signed in as an admin (the database's write rule admits its
    role to procedures and parcels)."""
    with TestClient(_provoking(create_app(api_settings)), headers=headers("admin"),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", ["writer", "pool"])
@pytest.mark.parametrize(("case", "code", "named"), [
    ("unique", "conflict-unique", "procedure_pkey"),
    ("history", "conflict-history", None),
    ("overlap", "conflict-overlap", None),
    ("personal", "conflict-unique", None),
])
def test_integrity_errors_are_409_with_a_stable_code(provoker: TestClient, path: str,
                                                      case: str, code: str,
                                                      named: str | None) -> None:
    response = provoker.post(f"/test-conflicts/{path}/{case}")
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["type"].endswith(f"/problems/{code}")
    if named:
        assert f"(constraint {named})" in body["detail"]
    else:
        assert "constraint" not in body["detail"]
    assert "national_id" not in response.text and "DETAIL" not in response.text


@pytest.mark.parametrize("path", ["writer", "pool"])
def test_a_refusal_of_the_role_is_403_not_a_conflict(provoker: TestClient,
                                                     path: str) -> None:
    response = provoker.post(f"/test-conflicts/{path}/refusal")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "forbidden"
    assert "may not" not in response.text


def test_the_register_is_unchanged_after_a_conflict(provoker: TestClient,
                                                    api_engine: sa.engine.Engine) -> None:
    with api_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT array_agg(code ORDER BY code) FROM procedure")
                              ).scalar()
    assert provoker.post("/test-conflicts/writer/unique").status_code == 409
    with api_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT array_agg(code ORDER BY code) FROM procedure")
                            ).scalar() == before
