"""Land-use right certificates (GCN): serial, registry entry and issue date.

The serial ("SoPhatHanh") is a two-letter form series and six digits, unique across the
layer; the series follows the issue date (older forms were used up first). The registry
entry ("SoVaoSo") was written "CH01234" by the district before 2016 and "CS 01234" or
"CS01234" by the provincial registration office since, spaced inconsistently as legacy
files are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cadastre.synth import text, vocab

FIRST_ISSUE = dt.date(1994, 1, 1)
LAST_ISSUE = dt.date(2025, 12, 31)
#: Share of (non-road, non-committee) parcels without a certificate yet.
UNCERTIFIED = 0.08
#: Year from which the provincial office keeps the registry ("CS" entries).
PROVINCIAL_FROM = 2016
#: Share of registry entries written with a space after the letters.
SPACED_ENTRY = 0.3

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Certificates:
    """Certificate columns; every entry is null where ``issued`` is false."""

    issued: BoolArray
    serial: Any  # Arrow string array
    entry: Any  # Arrow string array
    issue_day: NDArray[np.datetime64]  # datetime64[D], NaT where not issued


def _unique_serials(series: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
    """Six-digit numbers, redrawn until every (series, number) pair is unique."""
    number = rng.integers(1, 1_000_000, size=len(series))
    while True:
        key = series * 1_000_000 + number
        _, first = np.unique(key, return_index=True)
        clash = np.ones(len(key), dtype=np.bool_)
        clash[first] = False
        if not clash.any():
            return number
        number[clash] = rng.integers(1, 1_000_000, size=int(clash.sum()))


def certificates(eligible: BoolArray, rng: np.random.Generator) -> Certificates:
    """Certificates for the ``eligible`` parcels, all but a share of them issued."""
    n = len(eligible)
    issued = eligible & (rng.random(n) >= UNCERTIFIED)
    start = np.datetime64(FIRST_ISSUE, "D")
    span = int((np.datetime64(LAST_ISSUE, "D") - start).astype(np.int64)) + 1
    # Few certificates in the first years, most around the 2010s drive.
    offset = np.floor(rng.triangular(0.0, 0.55 * span, span, size=n)).astype(np.int64)
    offset = np.minimum(offset, span - 1)
    day = start + offset.astype("timedelta64[D]")

    n_series = len(vocab.SERIAL_PREFIXES)
    position = offset / span * n_series + rng.normal(0.0, 0.6, n)
    series = np.clip(np.floor(position), 0, n_series - 1).astype(np.int64)
    number = _unique_serials(np.where(issued, series, -1 - np.arange(n)), rng)
    serial = text.concat(text.pick(vocab.SERIAL_PREFIXES, series), " ", text.number(number, 6))

    year = day.astype("datetime64[Y]").astype(np.int64) + 1970
    provincial = year >= PROVINCIAL_FROM
    letters = text.where(provincial, "CS", "CH")
    gap = text.where(rng.random(n) < SPACED_ENTRY, " ", "")
    entry = text.concat(
        letters, text.where(provincial, gap, ""), text.number(rng.integers(1, 100_000, n), 5)
    )
    return Certificates(
        issued=issued,
        serial=text.nulls_where(~issued, serial),
        entry=text.nulls_where(~issued, entry),
        issue_day=np.where(issued, day, np.datetime64("NaT", "D")),
    )
