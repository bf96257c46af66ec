"""Races: two clerks moving one dossier, two officers changing one parcel, two citizens
rating one returned dossier, at the same instant, with the same If-Match, many times over
HTTP against `cadastre serve` as `make demo` runs it. A lost update would be two winners in
one round, or a state that is not the winner's. Prints the counts and writes
bench/out/races.json.

    python -m bench.races [--rounds 1000]

The round functions take any client with httpx's get/post (tests/api/test_races.py runs
them in-process for a few rounds)."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

API = "/api/v1"
DOCS = ["Phiếu yêu cầu đăng ký thế chấp", "Hợp đồng thế chấp", "Giấy chứng nhận bản gốc"]


@dataclass
class Tally:
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lost_updates: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, answers: list[Any], won: int) -> list[int]:
        """Count one round's answers; the racers whose answer has status ``won``."""
        statuses = [a.status_code for a in answers]
        self.rounds += 1
        self.outcomes.update(str(s) for s in statuses)
        return [i for i, s in enumerate(statuses) if s == won]

    def as_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "outcomes": dict(self.outcomes),
                "lost_updates": self.lost_updates, "problems": self.problems[:20]}


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released by one barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def dossier_round(clerks: list[Any], tokens: list[dict[str, str]], parcel_id: int,
                  engine: sa.engine.Engine, tally: Tally) -> None:
    """A new dossier; both clerks read its ETag, then one moves it to in_processing and the
    other to withdrawn with that ETag. Exactly one may win; the dossier must end in the
    winner's state with exactly one transition recorded."""
    body = {"procedure_code": "THE-CHAP", "received_by_office": "VPDK.HN",
            "applicant": {"name": "Phạm Văn Đua", "id_number": "001085099999",
                          "phone": "0987654321", "address": "Số 1 Tràng Tiền"},
            "parcel_ids": [parcel_id], "documents": DOCS}
    created = clerks[0].post(f"{API}/dossiers", json=body, headers=tokens[0])
    if created.status_code != 201:
        raise RuntimeError(f"intake refused: {created.status_code} {created.text}")
    code = created.json()["code"]
    etag = clerks[0].get(f"{API}/dossiers/{code}", headers=tokens[0]).headers["etag"]
    targets = ["in_processing", "withdrawn"]
    answers = _together([
        (lambda i=i: clerks[i].post(f"{API}/dossiers/{code}/transitions",
                                    json={"to": targets[i]},
                                    headers={**tokens[i], "If-Match": etag}))
        for i in range(2)])
    winners = tally.count(answers, 200)
    statuses = [a.status_code for a in answers]
    with engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM dossier WHERE code = :c"),
                              {"c": code}).scalar_one()
        moves = conn.execute(sa.text(
            "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id "
            "WHERE d.code = :c AND e.to_status IN ('in_processing', 'withdrawn')"),
            {"c": code}).scalar_one()
    if len(winners) != 1 or status != targets[winners[0]] or moves != 1:
        tally.lost_updates += 1
        tally.problems.append(f"{code}: answers {statuses}, status {status}, moves {moves}")


def parcel_round(officers: list[Any], tokens: list[dict[str, str]], parcel_id: int,
                 buyers: list[int], engine: sa.engine.Engine, tally: Tally) -> None:
    """Both officers read the parcel's ETag, then each registers a transfer to a different
    buyer with it. Exactly one may win; the parcel's holder must be the winner's buyer and
    exactly one change must have begun rights (the land's, and the house's with it)."""
    etag = officers[0].get(f"{API}/parcels/{parcel_id}", headers=tokens[0]).headers["etag"]
    with engine.connect() as conn:
        before = conn.execute(sa.text(
            "SELECT coalesce(max(version_id), 0) FROM land_right WHERE parcel_id = :p"),
            {"p": parcel_id}).scalar_one()
    answers = _together([
        (lambda i=i: officers[i].post(
            f"{API}/changes/transfer", headers={**tokens[i], "If-Match": etag},
            json={"parcel_id": parcel_id, "holders": [{"party_id": buyers[i], "share": "1/1"}],
                  "kind": "transfer",
                  "source": {"kind": "contract", "reference": f"HĐ {time.time_ns()}"}}))
        for i in range(2)])
    winners = tally.count(answers, 201)
    statuses = [a.status_code for a in answers]
    with engine.connect() as conn:
        holders = conn.execute(sa.text(
            "SELECT party_id FROM current_land_right WHERE parcel_id = :p "
            "AND kind = 'land_use'"), {"p": parcel_id}).scalars().all()
        begun = conn.execute(sa.text(
            "SELECT count(DISTINCT begun_by) FROM land_right WHERE parcel_id = :p "
            "AND version_id > :v"), {"p": parcel_id, "v": before}).scalar_one()
    if len(winners) != 1 or holders != [buyers[winners[0]]] or begun != 1:
        tally.lost_updates += 1
        tally.problems.append(f"parcel {parcel_id}: answers {statuses}, holders {holders}, "
                              f"changes that began rights {begun}")


def returned_dossiers(engine: sa.engine.Engine) -> list[tuple[str, str]]:
    """The returned dossiers a citizen may rate: (code, the digits that verify it)."""
    with engine.connect() as conn:
        return [(r.code, r.applicant_phone[-4:]) for r in conn.execute(sa.text(
            "SELECT code, applicant_phone FROM dossier WHERE status = 'returned' "
            "AND length(applicant_phone) >= 4 ORDER BY code"))]


def rating_round(citizens: list[Any], dossier: tuple[str, str], engine: sa.engine.Engine,
                 tally: Tally) -> None:
    """The dossier's rating is cleared; both citizens read its status page's ETag, then
    each rates it (4 and 5) with that ETag. Exactly one may win; the stored rating must be
    the winner's."""
    code, digits = dossier
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE dossier SET rating = NULL, rating_comment = NULL "
                             "WHERE code = :c"), {"c": code})
    url = f"{API}/public/dossiers/{code}"
    etag = citizens[0].get(url, params={"verify": digits}).headers["etag"]
    answers = _together([
        (lambda i=i: citizens[i].post(f"{url}/rating", params={"verify": digits},
                                      json={"rating": 4 + i}, headers={"If-Match": etag}))
        for i in range(2)])
    winners = tally.count(answers, 200)
    statuses = [a.status_code for a in answers]
    with engine.connect() as conn:
        rating = conn.execute(sa.text("SELECT rating FROM dossier WHERE code = :c"),
                              {"c": code}).scalar_one()
    if len(winners) != 1 or rating != 4 + winners[0]:
        tally.lost_updates += 1
        tally.problems.append(f"{code}: answers {statuses}, rating {rating}")


def prepare(engine: sa.engine.Engine, password: str) -> tuple[int, list[int]]:
    """Accounts for two clerks and two officers, a held parcel and two buyers."""
    from cadastre.accounts.service import add_user

    with engine.begin() as conn:
        for name, role in (("clerk-a", "counter_clerk"), ("clerk-b", "counter_clerk"),
                           ("officer-a", "land_officer"), ("officer-b", "land_officer")):
            if conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"),
                            {"u": name}).first() is None:
                add_user(conn, name, role, password=password, office_code="VPDK.HN")
        parcel = conn.execute(sa.text(
            "SELECT r.parcel_id FROM current_land_right r JOIN current_parcel p "
            "USING (parcel_id) WHERE r.kind = 'land_use' AND p.commune_code IN "
            "(SELECT commune_code FROM current_parcel ORDER BY parcel_id LIMIT 1) "
            "AND NOT EXISTS (SELECT 1 FROM current_restriction x WHERE x.parcel_id = "
            "r.parcel_id) ORDER BY r.parcel_id DESC LIMIT 1")).scalar_one()
        buyers = [conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES ('organisation', :n) RETURNING id"),
            {"n": n}).scalar_one() for n in ("Công ty Đua A", "Công ty Đua B")]
    return int(parcel), [int(b) for b in buyers]


def sign_in(client: Any, username: str, password: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token",
                           data={"username": username, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def main() -> None:
    import httpx2

    from bench.common import CADASTRE, OUT, drop_database, recreate_database, timed
    from bench.lookup_bench import _serve, _stop
    from cadastre.db import create_engine
    from cadastre.demo.loader import add_demo_extras
    from cadastre.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    url = recreate_database("cadastre_bench_races", postgis=False)
    # citizens' lookups are rate-limited per address and per code: raised for the race
    env = {"CADASTRE_DATABASE_URL": url, "CADASTRE_PUBLIC_LOOKUPS_PER_MINUTE": "10000",
           "CADASTRE_PUBLIC_CHECKS_PER_CODE_PER_DAY": "100000"}
    layer = OUT / "races_layer.gpkg"
    timed([*CADASTRE, "db", "init", "--srid", "5897"], env=env)
    timed([*CADASTRE, "synth", "--parcels", "300", "--out", str(layer)], env=env)
    timed([*CADASTRE, "import", str(layer)], env=env)
    engine = create_engine(Settings(database_url=url))
    with engine.begin() as conn:  # administrative units, so that offices serve the communes
        add_demo_extras(conn, seed=5)
    password = "race-password-1"
    parcel, buyers = prepare(engine, password)
    rated = returned_dossiers(engine)
    port = 8791
    server = _serve([*CADASTRE, "serve", "--port", str(port), "--workers", "2"], env,
                    f"http://127.0.0.1:{port}/health")
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"rounds": args.rounds}
    try:
        clients = [httpx2.Client(base_url=base, timeout=60) for _ in range(2)]
        clerks = [sign_in(clients[i], f"clerk-{x}", password) for i, x in enumerate("ab")]
        officers = [sign_in(clients[i], f"officer-{x}", password) for i, x in enumerate("ab")]
        for name, play, tokens in (
                ("dossier", lambda t, tally: dossier_round(clients, t, parcel, engine, tally),
                 clerks),
                ("parcel", lambda t, tally: parcel_round(clients, t, parcel, buyers, engine,
                                                         tally), officers),
                ("rating", lambda t, tally: rating_round(
                    clients, rated[tally.rounds % len(rated)], engine, tally), [])):
            tally = Tally()
            started = time.perf_counter()
            for _ in range(args.rounds):
                play(tokens, tally)
            seconds = time.perf_counter() - started
            result[name] = {**tally.as_dict(), "seconds": round(seconds, 1)}
            print(f"{name:8s} rounds {tally.rounds:5d}  answers {dict(tally.outcomes)}  "
                  f"lost updates {tally.lost_updates}  ({seconds:.0f} s)")
    finally:
        _stop(server)
        engine.dispose()
        drop_database("cadastre_bench_races")
    Path(OUT / "races.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
