"""A long schemathesis campaign over the API's OpenAPI document, for every kind of caller:
the requests sent, the statuses answered, and every server error or error that is not
problem+json (with a curl command that reproduces it).

    .venv/bin/python -m bench.fuzz_api [--examples 40] [--coverage all]

It runs tests/fuzz/test_openapi_fuzz.py (its own throwaway database) over every operation
with its three phases: the schema's examples, the coverage cases (FUZZ_COVERAGE: all of
them for every caller, unless a number is given) and FUZZ_EXAMPLES generated requests per
operation and caller; it writes bench/out/fuzz_api.json."""

from __future__ import annotations

import argparse
import os

from bench.fuzz_common import campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40,
                        help="examples per operation and caller (make test: 3)")
    parser.add_argument("--coverage", default="all",
                        help="coverage cases per operation and caller, or all (make test: 4)")
    args = parser.parse_args()
    os.environ["FUZZ_COVERAGE"] = args.coverage
    figures, status, seconds = campaign("tests/fuzz/test_openapi_fuzz.py", args.examples,
                                        "fuzz_api")
    callers = figures.get("api", {})
    print(f"\n{'caller':<14}{'operations':>11}{'examples':>9}{'coverage':>9}{'fuzzing':>8}"
          f"{'requests':>10}{'5xx':>6}{'failing operations':>20}{'seconds':>9}")
    total_requests = total_5xx = 0
    for caller, f in sorted(callers.items()):
        phases = f.get("by_phase", {})
        print(f"{caller:<14}{f['operations']:>11}{phases.get('examples', 0):>9,}"
              f"{phases.get('coverage', 0):>9,}{phases.get('fuzzing', 0):>8,}"
              f"{f['requests']:>10,}{f['server_errors']:>6}{len(f['failures']):>20}"
              f"{f['seconds']:>9}")
        total_requests += f["requests"]
        total_5xx += f["server_errors"]
    statuses: dict[str, int] = {}
    for f in callers.values():
        for code, n in f["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    print(f"\n{len(callers)} callers, {total_requests:,} requests, {total_5xx} server errors, "
          f"{seconds:,.0f} s; statuses: "
          + ", ".join(f"{c}: {n:,}" for c, n in sorted(statuses.items())))
    for caller, f in sorted(callers.items()):
        for failure in f["failures"]:
            print(f"\n[{caller}] {failure}")
    raise SystemExit(status)


if __name__ == "__main__":
    main()
