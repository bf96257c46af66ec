"""What counts as personal data in the API test database, and a check that a published
document carries none of it: holders' names, national IDs and holders' own addresses (an
address that is also a parcel's address is the parcel's, which is public)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

#: Keys of the parcel file's holder objects; none belongs in a public layer.
PERSONAL_KEYS = frozenset({"national_id", "birth_year", "holder", "holders", "rights",
                           "party_id", "members", "personal_data", "beneficiary"})


def personal_values(engine: sa.engine.Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        names = set(conn.execute(sa.text(
            "SELECT name FROM party WHERE kind <> 'organisation'")).scalars())
        ids = set(conn.execute(sa.text(
            "SELECT national_id FROM party_personal WHERE national_id IS NOT NULL")).scalars())
        addresses = set(conn.execute(sa.text(
            "SELECT address FROM party_personal WHERE address IS NOT NULL "
            "EXCEPT SELECT address FROM parcel WHERE address IS NOT NULL")).scalars())
    assert names and ids and addresses, "the test register has holders with personal data"
    return {"names": names, "national_ids": ids, "addresses": addresses}


def strings(value: Any) -> Iterable[str]:
    """Every key and string value in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def assert_none(personal: dict[str, set[str]], values: Iterable[Any], where: str) -> None:
    seen = [str(v) for v in values]
    assert seen, f"nothing was read from {where}"
    for value in seen:
        assert value not in PERSONAL_KEYS, (where, value)
        assert value not in personal["names"], (where, "a holder's name")
        assert value not in personal["addresses"], (where, "a holder's address")
        for digits in re.findall(r"\d{9,}", value):
            assert digits not in personal["national_ids"], (where, "a national ID")
