"""Races over HTTP, a few rounds in-process (bench/races.py runs 1,000 against the served
API): two clerks moving one dossier, two officers transferring one parcel, two citizens
rating one returned dossier, with the same If-Match at the same instant. Exactly one wins
each round; nothing is lost."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bench.races import (
    Tally,
    dossier_round,
    parcel_round,
    prepare,
    rating_round,
    returned_dossiers,
    sign_in,
)

ROUNDS = 15


@pytest.fixture(scope="module")
def racers(api_settings, api_engine):
    parcel, buyers = prepare(api_engine, "race-password-1")
    # citizens' checks are limited per code and address: raised so that the rounds race
    settings = api_settings.model_copy(update={"public_lookups_per_minute": 10_000,
                                               "public_checks_per_code_per_day": 100_000})
    with TestClient(create_app(settings)) as first, \
            TestClient(create_app(settings)) as second:
        yield [first, second], parcel, buyers


def test_two_clerks_moving_one_dossier_never_both_win(racers, api_engine):
    clients, parcel, _ = racers
    tokens = [sign_in(clients[i], f"clerk-{x}", "race-password-1") for i, x in enumerate("ab")]
    tally = Tally()
    for _ in range(ROUNDS):
        dossier_round(clients, tokens, parcel, api_engine, tally)
    assert tally.lost_updates == 0, tally.problems
    assert tally.outcomes["200"] == ROUNDS
    assert tally.outcomes["412"] + tally.outcomes["409"] == ROUNDS


def test_two_officers_transferring_one_parcel_never_both_win(racers, api_engine):
    clients, parcel, buyers = racers
    tokens = [sign_in(clients[i], f"officer-{x}", "race-password-1")
              for i, x in enumerate("ab")]
    tally = Tally()
    for _ in range(ROUNDS):
        parcel_round(clients, tokens, parcel, buyers, api_engine, tally)
    assert tally.lost_updates == 0, tally.problems
    assert tally.outcomes["201"] == ROUNDS
    assert tally.outcomes["412"] + tally.outcomes["409"] == ROUNDS


def test_two_citizens_rating_one_dossier_never_both_win(racers, api_engine):
    clients, _, _ = racers
    dossiers = returned_dossiers(api_engine)
    tally = Tally()
    for i in range(ROUNDS):
        rating_round(clients, dossiers[i % len(dossiers)], api_engine, tally)
    assert tally.lost_updates == 0, tally.problems
    assert tally.outcomes["200"] == ROUNDS
    assert sum(tally.outcomes[s] for s in ("409", "412", "422")) == ROUNDS, tally.outcomes
