"""A long importer fuzzing campaign: real small files (Shapefile set, DGN v7, DXF, XLSX and
CSV registers) damaged at random, each imported as a dry run in a worker process with a
time limit; counts of files tried, accepted, refused with a clear error, crashes and hangs.

    .venv/bin/python -m bench.fuzz_importers [--examples 600]

It runs tests/fuzz/test_importer_fuzz.py with FUZZ_EXAMPLES damaged files per seed file,
and writes bench/out/fuzz_importers.json. Failing files are kept in .cadastre/fuzz-failures/."""

from __future__ import annotations

import argparse

from bench.fuzz_common import campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=600,
                        help="damaged files per seed file (make test: 60)")
    args = parser.parse_args()
    figures, status, seconds = campaign("tests/fuzz/test_importer_fuzz.py", args.examples,
                                        "fuzz_importers")
    f = figures.get("importers", {})
    outcomes = f.get("outcomes", {})
    print(f"\nfiles tried   {f.get('files_tried', 0):>7,}  "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(f.get("by_seed", {}).items())))
    for outcome in ("accepted", "clear", "unclear", "crash", "hang"):
        label = {"clear": "clear errors", "unclear": "errors not naming the file",
                 "crash": "crashes", "hang": "hangs"}.get(outcome, outcome)
        print(f"{label:<28}{outcomes.get(outcome, 0):>7,}")
    print("clear errors by code: " + ", ".join(
        f"{k} {v:,}" for k, v in sorted(f.get("clear_error_codes", {}).items())))
    print(f"import time {f.get('seconds', 0):,.0f} s, wall {seconds:,.0f} s")
    for failure in f.get("failures", []):
        print(f"\n{failure}")
    raise SystemExit(status)


if __name__ == "__main__":
    main()
