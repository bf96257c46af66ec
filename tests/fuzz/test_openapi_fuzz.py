"""Schemathesis over the API's whole OpenAPI document, for every kind of caller (signed out,
each role, an API key): whatever the request, the answer is never a server error, and every
error is RFC 9457 problem+json with its status and a stable code.

Requests are generated from the schema, valid ones and invalid ones (wrong types, missing
fields, values out of range), and a third of the requests to a path with an id use an id
that exists (a parcel, a dossier, a feedback, a procedure), so that the handlers behind the
404s are reached. The run is reproducible (derandomised) and bounded: ``FUZZ_EXAMPLES``
(default 3) examples per operation and caller; ``python -m bench.fuzz_api`` runs a longer
campaign.

The fuzzer writes into a database of its own (tests/fuzz/conftest.py): transfers, merges,
injunctions, dossier transitions, procedure edits are all allowed to happen."""

from __future__ import annotations

import contextlib
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

from tests.fuzz.conftest import CALLERS, fuzz_examples, record_stats

#: Operations left out, and why. Nothing else is excluded.
EXCLUDED_PREFIXES = {
    # OGC API Features, vector tiles and bulk exports were being written alongside this
    # fuzzer (issue #8): their own tests cover them (tests/api/test_ogc.py,
    # tests/api/test_exports.py); docs/reliability.md lists what a run over them found.
    "/ogc": "OGC API Features: covered by tests/api/test_ogc.py",
    "/tiles": "vector tiles: covered by their own tests",
    "/api/v1/exports": "bulk exports (queue files on disk): tests/api/test_exports.py",
}
PROBLEM_JSON = "application/problem+json"


def excluded(path: str) -> str | None:
    return next((why for prefix, why in EXCLUDED_PREFIXES.items()
                 if path == prefix or path.startswith(prefix + "/")), None)


@dataclass
class Campaign:
    """What one caller's run sent and got back."""

    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
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


@pytest.fixture(scope="module")
def known_ids(fuzz_engine) -> dict[str, list[Any]]:
    """Path parameter values that exist, by parameter name."""
    with fuzz_engine.connect() as conn:
        def values(sql: str) -> list[Any]:
            return list(conn.execute(sa.text(sql)).scalars())

        return {
            "parcel_id": values("SELECT parcel_id FROM current_parcel ORDER BY parcel_id "
                                "LIMIT 20"),
            "code": values("SELECT code FROM dossier ORDER BY id LIMIT 10")
            + values("SELECT code FROM feedback ORDER BY id LIMIT 5")
            + values("SELECT code FROM procedure ORDER BY code LIMIT 5"),
        }


_STRATEGIES: dict[tuple[str, str], st.SearchStrategy[Any]] = {}


def _strategies(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests, and valid ones on ids that exist (built once per
    operation: every caller gets the same requests)."""
    key = (operation.method, operation.path)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _build_strategies(operation, known)
    return _STRATEGIES[key]


def _build_strategies(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    options = [operation.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # nothing to make invalid (no parameters)
        options.append(operation.as_strategy(GenerationMode.NEGATIVE))
    names = [p.name for p in operation.path_parameters]
    if names and all(known.get(n) for n in names):
        options.append(st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in names})
                       .flatmap(lambda fixed: operation.as_strategy(
                           GenerationMode.POSITIVE, path_parameters=fixed)))
    return st.one_of(options)


def run_operation(operation: Any, caller_headers: dict[str, str], known: dict[str, list[Any]],
                  campaign: Campaign, examples: int) -> None:
    last_failure: list[str] = []

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    @given(case=_strategies(operation, known))
    def check(case: Any) -> None:
        for name in ("Authorization", "X-API-Key", "authorization", "x-api-key"):
            (case.headers or {}).pop(name, None)
        campaign.requests += 1
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
        if found:
            last_failure[:] = [
                f"{operation.method.upper()} {operation.path}: {'; '.join(found)}\n"
                f"  {case.as_curl_command(headers=caller_headers)}\n  -> {answer}"]
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
    skipped = []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        why = excluded(operation.path)
        if why:
            skipped.append(f"{operation.method.upper()} {operation.path} ({why})")
            continue
        campaign.operations += 1
        run_operation(operation, caller_headers(caller), known_ids, campaign, examples)
    record_stats("api", {caller: {
        "operations": campaign.operations, "excluded": len(skipped),
        "examples_per_operation": examples, "requests": campaign.requests,
        "server_errors": sum(n for s, n in campaign.statuses.items() if s >= 500),
        "statuses": dict(sorted(campaign.statuses.items())),
        "failures": campaign.failures, "seconds": round(time.perf_counter() - started, 1)}})
    assert campaign.operations >= 30, "the OpenAPI document lost its operations"
    assert campaign.requests >= campaign.operations
    assert not campaign.failures, "\n".join(campaign.failures)
