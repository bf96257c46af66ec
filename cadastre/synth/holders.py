"""Land-use right holders: people, households, organisations and ward People's Committees.

Holder kinds (``LoaiChu``): ``CN`` individual, ``HGD`` household, ``TC`` organisation,
``UBS`` commune/ward People's Committee. People get a 12-digit citizen ID (CCCD) whose
digits agree with their birth year and gender: ``001`` (Hà Nội), a gender/century digit
(0 male 1900s, 1 female 1900s, 2 male 2000s, 3 female 2000s), the last two digits of the
birth year and six serial digits. A small share of people hold several parcels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cadastre.synth import text, vocab
from cadastre.synth.places import LAND_USES

KINDS: tuple[str, ...] = ("CN", "HGD", "TC", "UBS")
CN, HGD, TC, UBS = range(4)
#: Holder-kind weights (CN, HGD, TC, UBS) by land-use code.
KIND_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "DGT": (0, 0, 0, 1),
    "ODT": (0.45, 0.55, 0, 0),
    "ODT+CLN": (0.35, 0.65, 0, 0),
    "DGD": (0, 0, 1, 0),
    "DYT": (0, 0, 1, 0),
    "TMD": (0.15, 0.25, 0.60, 0),
    "DCH": (0, 0, 0.5, 0.5),
    "TON": (0, 0, 1, 0),
    "SKC": (0, 0, 1, 0),
    "LUC": (0.1, 0.9, 0, 0),
    "BHK": (0.1, 0.9, 0, 0),
    "CLN": (0.1, 0.9, 0, 0),
    "NTS": (0.1, 0.9, 0, 0),
}
#: Share of household heads who are men.
HOUSEHOLD_MALE = 0.75
#: Share of people whose home is their parcel.
LIVES_ON_PARCEL = 0.7
#: Share of people's parcels whose holder also holds another parcel.
REPEAT_HOLDER = 0.03
BIRTH_YEARS = (1935, 2000)

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Holders:
    """Holder columns, one entry per parcel (strings are Arrow arrays)."""

    name: Any
    kind: IntArray  # index into KINDS
    cccd: Any  # null for organisations and committees
    birth_year: IntArray  # 0 where unknown (organisations and committees)
    address: Any


def _kinds(land_use: IntArray, rng: np.random.Generator) -> IntArray:
    """Draw a holder kind per parcel from the weights of its land use."""
    table = np.array([KIND_WEIGHTS[code] for code in LAND_USES], dtype=np.float64)
    cumulative = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(land_use))
    kind: IntArray = (u[:, None] >= cumulative[land_use]).sum(axis=1)
    return np.minimum(kind, len(KINDS) - 1).astype(np.int64)


def _people(n: int, kind: IntArray, rng: np.random.Generator) -> tuple[Any, BoolArray, IntArray]:
    """Full names (with the household prefix), gender (True = male) and birth year."""
    male = np.where(kind == HGD, rng.random(n) < HOUSEHOLD_MALE, rng.random(n) < 0.5)
    surname = text.pick(
        [s for s, _ in vocab.SURNAMES], text.weighted([w for _, w in vocab.SURNAMES], n, rng)
    )
    middle = text.where(
        male,
        text.pick(
            [s for s, _ in vocab.MALE_MIDDLE],
            text.weighted([w for _, w in vocab.MALE_MIDDLE], n, rng),
        ),
        text.pick(
            [s for s, _ in vocab.FEMALE_MIDDLE],
            text.weighted([w for _, w in vocab.FEMALE_MIDDLE], n, rng),
        ),
    )
    given = text.where(
        male,
        text.pick(vocab.MALE_GIVEN, rng.integers(0, len(vocab.MALE_GIVEN), n)),
        text.pick(vocab.FEMALE_GIVEN, rng.integers(0, len(vocab.FEMALE_GIVEN), n)),
    )
    prefix = text.where(kind == HGD, text.where(male, "Hộ ông ", "Hộ bà "), "")
    name = text.concat(prefix, surname, " ", middle, " ", given)
    low, high = BIRTH_YEARS
    year = np.clip(np.round(rng.normal(1963.0, 13.0, n)), low, high).astype(np.int64)
    return name, male, year


def _cccd(male: BoolArray, year: IntArray, rng: np.random.Generator) -> Any:
    """Unique 12-digit citizen IDs consistent with gender and birth year."""
    century = np.where(year >= 2000, 2, 0) + np.where(male, 0, 1)
    head = 1_000 + century * 100 + year % 100  # "001", century digit, 2 year digits
    serial = rng.integers(0, 1_000_000, size=len(year))
    while True:
        key = head * 1_000_000 + serial
        _, first = np.unique(key, return_index=True)
        clash = np.ones(len(key), dtype=np.bool_)
        clash[first] = False
        if not clash.any():
            return text.number(key, 12)
        serial[clash] = rng.integers(0, 1_000_000, size=int(clash.sum()))


def _organisations(land_use: IntArray, ward: Any, rng: np.random.Generator) -> Any:
    """Organisation name for every parcel (meaningful where the holder kind is TC)."""
    n = len(land_use)
    code = np.asarray(LAND_USES)[land_use]
    company = text.concat(
        text.pick(vocab.COMPANY_KINDS, rng.integers(0, len(vocab.COMPANY_KINDS), n)),
        " ",
        text.pick(vocab.COMPANY_TRADES, rng.integers(0, len(vocab.COMPANY_TRADES), n)),
        " ",
        text.pick(vocab.COMPANY_NAMES, rng.integers(0, len(vocab.COMPANY_NAMES), n)),
    )
    health = text.where(
        rng.random(n) < 0.6,
        text.concat("Trạm Y tế phường ", ward),
        text.pick(vocab.HEALTH, rng.integers(0, len(vocab.HEALTH), n)),
    )
    name = company
    for use, names in (
        ("DGD", text.pick(vocab.SCHOOLS, rng.integers(0, len(vocab.SCHOOLS), n))),
        ("DYT", health),
        ("DCH", text.pick(vocab.MARKETS, rng.integers(0, len(vocab.MARKETS), n))),
        ("TON", text.pick(vocab.RELIGIOUS, rng.integers(0, len(vocab.RELIGIOUS), n))),
    ):
        name = text.where(code == use, names, name)
    return name


def _elsewhere(n: int, rng: np.random.Generator) -> Any:
    """Random addresses elsewhere in Hà Nội."""
    pick = rng.integers(0, len(vocab.OTHER_ADDRESSES), n)
    street, ward, district = zip(*vocab.OTHER_ADDRESSES, strict=True)
    return text.concat(
        "Số ",
        text.number(rng.integers(1, 300, n)),
        " ",
        text.pick(street, pick),
        ", phường ",
        text.pick(ward, pick),
        ", quận ",
        text.pick(district, pick),
        ", Hà Nội",
    )


def holders(
    land_use: IntArray, parcel_address: Any, ward: Any, rng: np.random.Generator
) -> Holders:
    """Holder of every parcel, given its land use, address and ward name."""
    n = len(land_use)
    kind = _kinds(land_use, rng)
    person = (kind == CN) | (kind == HGD)
    people, male, year = _people(n, kind, rng)
    cccd = _cccd(male, year, rng)
    home = text.where(rng.random(n) < LIVES_ON_PARCEL, parcel_address, _elsewhere(n, rng))

    # Some people hold several parcels: copy a whole identity from another parcel of a
    # person of the same kind (source values are taken before any copy, so each identity
    # stays consistent).
    source = np.arange(n, dtype=np.int64)
    for k in (CN, HGD):
        members = np.flatnonzero(kind == k)
        if len(members) < 2:
            continue
        repeat = members[rng.random(len(members)) < REPEAT_HOLDER]
        source[repeat] = members[rng.integers(0, len(members), len(repeat))]
    take = pa.array(source)
    people, cccd, home = people.take(take), cccd.take(take), home.take(take)
    year = year[source]

    committee = text.concat("UBND phường ", ward)
    organisation = _organisations(land_use, ward, rng)
    name = text.where(person, people, text.where(kind == UBS, committee, organisation))
    office = text.concat("phường ", ward, vocab.DISTRICT_SUFFIX)
    address = text.where(person, home, text.where(kind == UBS, office, parcel_address))
    return Holders(
        name=name,
        kind=kind,
        cccd=text.nulls_where(~person, cccd),
        birth_year=np.where(person, year, 0),
        address=address,
    )
