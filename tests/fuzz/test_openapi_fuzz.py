"""Schemathesis over the API's whole OpenAPI document, every operation (the OGC API, vector
tiles, exports and the public ones included), for every kind of caller (signed out, each
role with a bearer token, an API key): whatever the request, the answer is never a server
error, and every error is RFC 9457 problem+json with its status and a stable code.

Each operation is fuzzed in Schemathesis' three phases:

- **examples**: the requests the schema's own examples make;
- **coverage**: Schemathesis' deterministic cases for each parameter and body field (every
  enum value, each bound and just past it, missing required values, wrong types, unknown
  methods). ``FUZZ_COVERAGE`` cases per operation and caller (``make test``: 4), spread so
  that the callers between them send different ones; ``FUZZ_COVERAGE=all`` sends every
  case for every caller;
- **fuzzing**: Hypothesis-generated requests, valid ones and invalid ones (wrong types,
  missing fields, values out of range), a third of those to a path with an id on an id that
  exists (a parcel, a dossier, a feedback, a procedure, an export, a collection, a tile of
  the register, a party), so that the handlers behind the 404s are reached. ``FUZZ_EXAMPLES``
  (``make test``: 3) per operation and caller.

The run is reproducible (derandomised) and bounded; ``python -m bench.fuzz_api`` runs a
longer campaign. The fuzzer writes into a database of its own (tests/fuzz/conftest.py):
transfers, merges, injunctions, dossier transitions, procedure edits, exports are all
allowed to happen."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator, ExamplesGenerator
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.overrides import Override

from cadastre.exports import jobs
from cadastre.exports.service import prepare
from cadastre.layers import registry
from tests.fuzz.conftest import CALLERS, fuzz_examples, record_stats

PROBLEM_JSON = "application/problem+json"
PHASES = ("examples", "coverage", "fuzzing")
#: Path parameters that only mean something together: a tile's address.
TILE = ("z", "x", "y")


def coverage_share() -> int | None:
    """Coverage cases per operation and caller: FUZZ_COVERAGE (``all``: every one)."""
    value = os.environ.get("FUZZ_COVERAGE", "4")
    return None if value == "all" else int(value)


@dataclass
class Campaign:
    """What one caller's run sent and got back."""

    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_phase: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def problems_with(response: Any) -> list[str]:
    """What is wrong with a response: a server error, or an error that is not problem+json
    (with its status and a code)."""
    found = []
    if response.status_code >= 500:
        found.append(f"server error {response.status_code}")
    if response.status_code >= 400:
        media = response.headers.get("content-type", [""])
        media = media[0] if isinstance(media, list) else media
        if not media.startswith(PROBLEM_JSON):
            found.append(f"error {response.status_code} as {media or 'no content type'}, "
                         "not problem+json")
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or body.get("status") != response.status_code \
                    or not body.get("code"):
                found.append(f"problem+json without status {response.status_code} and a code")
    return found


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app) -> Iterator[schemathesis.BaseSchema]:
    """The OpenAPI document served by the app, called in-process (ASGI)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    yield schema
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()  # close the app's pools before its database is dropped


def _tiles(conn: sa.Connection) -> list[dict[str, str]]:
    """Addresses of tiles over the register's parcels, from zoom 12 to 18."""
    lon, lat = conn.execute(sa.text(
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) "
        "AS c FROM current_parcel ORDER BY parcel_id LIMIT 1) s")).one()
    found = []
    for zoom in range(12, 19):
        n = 2**zoom
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        found.append({"z": str(zoom), "x": str(x), "y": str(y)})
    return found


@pytest.fixture(scope="module")
def known_ids(fuzz_engine) -> dict[str, list[Any]]:
    """Path parameter values that exist, by parameter name (TILE: whole tile addresses)."""
    with fuzz_engine.begin() as conn:
        def values(sql: str) -> list[Any]:
            return list(conn.execute(sa.text(sql)).scalars())

        export = jobs.create(conn, prepare(conn, collection="map-sheets", format="csv"),
                             requested_by="fz-supervisor", channel="api")
        return {
            "parcel_id": values("SELECT parcel_id FROM current_parcel ORDER BY parcel_id "
                                "LIMIT 20"),
            "code": values("SELECT code FROM dossier ORDER BY id LIMIT 10")
            + values("SELECT code FROM feedback ORDER BY id LIMIT 5")
            + values("SELECT code FROM procedure ORDER BY code LIMIT 5"),
            "job_id": [export],
            "certificate_id": values("SELECT DISTINCT certificate_id FROM current_certificate "
                                     "ORDER BY certificate_id LIMIT 10"),
            "party_id": values("SELECT id FROM party ORDER BY id LIMIT 10"),
            "member_party_id": values("SELECT member_party_id FROM party_member "
                                      "ORDER BY version_id LIMIT 5"),
            "collection_id": list(registry.LAYERS),
            "feature_id": [str(v) for v in values(
                "SELECT parcel_id FROM current_parcel ORDER BY parcel_id LIMIT 10")],
            TILE: _tiles(conn),  # type: ignore[dict-item]
        }


@dataclass
class Plan:
    """An operation's requests, built once: every caller sends the same ones."""

    examples: list[Any]
    coverage: list[Any]
    fuzzing: st.SearchStrategy[Any]


_PLANS: dict[tuple[str, str], Plan] = {}


def plan(operation: Any, known: dict[Any, list[Any]]) -> Plan:
    key = (operation.method, operation.path)
    if key not in _PLANS:
        generation = operation.schema.config.generation_for(operation=operation,
                                                            phase="coverage")
        coverage = CoverageGenerator(
            operation=operation, generation_modes=generation.modes,
            generation_config=generation, auth_storage=None, override=Override(),
            feedback=NO_FEEDBACK)
        _PLANS[key] = Plan(
            list(ExamplesGenerator(operation=operation, override=Override(),
                                   feedback=NO_FEEDBACK, fill_missing=True)),
            list(coverage), _fuzzing(operation, known))
    return _PLANS[key]


def _fuzzing(operation: Any, known: dict[Any, list[Any]]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests, and valid ones on ids that exist."""
    options = [operation.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # nothing to make invalid (no parameters)
        options.append(operation.as_strategy(GenerationMode.NEGATIVE))
    names = [p.name for p in operation.path_parameters]
    fixed: list[st.SearchStrategy[dict[str, Any]]] = []
    if set(TILE) <= set(names):
        fixed.append(st.sampled_from(known[TILE]))  # type: ignore[index]
    single = [n for n in names if n not in TILE or not fixed]
    if all(known.get(n) for n in single) and names:
        fixed.extend(st.fixed_dictionaries({n: st.sampled_from(known[n])}) for n in single)
        options.append(st.tuples(*fixed).map(lambda parts: {k: v for part in parts
                                                            for k, v in part.items()})
                       .flatmap(lambda path: operation.as_strategy(
                           GenerationMode.POSITIVE, path_parameters=path)))
    return st.one_of(options)


def _coverage_share(cases: list[Any], caller: str) -> list[Any]:
    """This caller's share of the coverage cases: every len(CALLERS)-th one from the
    caller's place, so that the callers between them send different cases."""
    share = coverage_share()
    if share is None:
        return cases
    return cases[CALLERS.index(caller)::len(CALLERS)][:share]


def send(case: Any, operation: Any, caller_headers: dict[str, str], campaign: Campaign,
         phase: str) -> list[str]:
    """One request as the caller; what is wrong with its answer (with a curl command)."""
    for name in ("Authorization", "X-API-Key", "authorization", "x-api-key"):
        (case.headers or {}).pop(name, None)
    campaign.requests += 1
    campaign.by_phase[phase] += 1
    try:
        response = case.call(headers=caller_headers)
    except Exception as exc:
        # In-process, an exception the app did not handle comes back raised (a real
        # server answers it with the 500 of api/problems.py).
        campaign.statuses[500] += 1
        found, answer = ["server error 500"], f"raised {type(exc).__name__}: {exc}"
    else:
        campaign.statuses[response.status_code] += 1
        found = problems_with(response)
        answer = f"{response.status_code} {response.content[:300]!r}"
    if not found:
        return []
    return [f"[{phase}] {operation.method.upper()} {operation.path}: {'; '.join(found)}\n"
            f"  {case.as_curl_command(headers=caller_headers)}\n  -> {answer}"]


def run_operation(operation: Any, caller: str, caller_headers: dict[str, str],
                  known: dict[Any, list[Any]], campaign: Campaign, examples: int) -> None:
    planned = plan(operation, known)
    for phase, cases in (("examples", planned.examples),
                         ("coverage", _coverage_share(planned.coverage, caller))):
        for case in cases:
            failure = send(case, operation, caller_headers, campaign, phase)
            if failure:
                campaign.failures.extend(failure)
                break  # one failure per operation and phase is enough to act on

    last_failure: list[str] = []

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    @given(case=planned.fuzzing)
    def check(case: Any) -> None:
        found = send(case, operation, caller_headers, campaign, "fuzzing")
        if found:
            last_failure[:] = found
            raise AssertionError(found)

    try:
        check()
    except AssertionError:
        campaign.failures.extend(last_failure)
    except Exception as exc:  # a request schemathesis could not build or send: a test bug
        campaign.failures.append(f"{operation.method.upper()} {operation.path}: the fuzzer "
                                 f"failed: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("caller", CALLERS)
def test_no_server_errors_and_every_error_is_problem_json(
        caller, fuzz_schema, known_ids, caller_headers):
    examples = fuzz_examples(3)
    campaign = Campaign()
    started = time.perf_counter()
    paths = set()
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        campaign.operations += 1
        paths.add(operation.path)
        run_operation(operation, caller, caller_headers(caller), known_ids, campaign,
                      examples)
    record_stats("api", {caller: {
        "operations": campaign.operations, "excluded": 0,
        "examples_per_operation": examples, "coverage_per_operation": coverage_share(),
        "requests": campaign.requests, "by_phase": dict(campaign.by_phase),
        "server_errors": sum(n for s, n in campaign.statuses.items() if s >= 500),
        "statuses": dict(sorted(campaign.statuses.items())),
        "failures": campaign.failures, "seconds": round(time.perf_counter() - started, 1)}})
    assert campaign.operations >= 50, "the OpenAPI document lost its operations"
    for prefix in ("/ogc/", "/tiles/", "/api/v1/exports", "/api/v1/public/", "/api/v1/parties"):
        assert any(p.startswith(prefix) for p in paths), f"no operation under {prefix}"
    assert all(campaign.by_phase[phase] >= campaign.operations for phase in PHASES), \
        campaign.by_phase
    assert not campaign.failures, "\n".join(campaign.failures)
