"""Transfers, mortgages and injunctions: versions end and begin at one instant, refusals
leave the database unchanged, and two officers racing on one parcel cannot both win."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cadastre.changes import service
from cadastre.changes.service import (
    LAST_CHANGE_SQL,
    InjunctionActive,
    Share,
    SourceDocument,
    StaleParcel,
)
from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.errors import InvalidInput
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import

CONTRACT = SourceDocument("contract", "1234/2026/HĐCN", issuer="Văn phòng công chứng Hoàn Kiếm")


@pytest.fixture
def parcel(conn, tmp_path):
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(40, seed=8), path)
    run_import(conn, path, ImportOptions())
    return conn.execute(sa.text(
        "SELECT parcel_id FROM current_land_right WHERE kind = 'land_use' "
        "ORDER BY parcel_id LIMIT 1")).scalar_one()


@pytest.fixture
def buyers(conn):
    ids = [conn.execute(sa.text(
        "INSERT INTO party (kind, name) VALUES ('individual', :n) RETURNING id"),
        {"n": n}).scalar_one() for n in ("Lê Văn Bình", "Phạm Thị Mai")]
    return ids


def last_change(conn, parcel_id):
    """The change a client saw last (what the API sends as the parcel's version)."""
    row = conn.execute(sa.text(LAST_CHANGE_SQL.format(p=":p")), {"p": parcel_id}).first()
    return None if row is None else int(row.id)


def holders(conn, parcel_id, at=None):
    sql = ("SELECT party_id, share_numerator || '/' || share_denominator FROM land_right "
           "WHERE parcel_id = :p AND kind = 'land_use' AND "
           + ("upper_inf(lifespan)" if at is None else "lifespan @> CAST(:at AS timestamptz)")
           + " ORDER BY party_id")
    return conn.execute(sa.text(sql), {"p": parcel_id, "at": at}).all()


def test_transfer_ends_old_rights_and_begins_new_ones_at_one_instant(conn, parcel, buyers):
    before = holders(conn, parcel)
    result = service.transfer(conn, parcel, [Share(buyers[0], 1, 2), Share(buyers[1], 1, 2)],
                              CONTRACT)
    assert holders(conn, parcel) == [(buyers[0], "1/2"), (buyers[1], "1/2")]
    at = conn.execute(sa.text("SELECT happened_at FROM change_transaction WHERE id = :c"),
                      {"c": result.change_id}).scalar_one()
    assert holders(conn, parcel, at - timedelta(microseconds=1)) == before
    assert holders(conn, parcel, at) == [(buyers[0], "1/2"), (buyers[1], "1/2")]
    documents = conn.execute(sa.text(
        "SELECT s.reference FROM change_source cs JOIN source_document s ON s.id = cs.source_id "
        "WHERE cs.change_id = :c"), {"c": result.change_id}).scalars().all()
    assert documents == ["1234/2026/HĐCN"]


@pytest.mark.parametrize("shares", [[(1, 2)], [(2, 3), (2, 3)], [(0, 1), (1, 1)]])
def test_shares_must_add_up_to_one(conn, parcel, buyers, shares):
    before = holders(conn, parcel)
    with pytest.raises(InvalidInput, match="add up to|between 0 and 1"):
        service.transfer(conn, parcel, [Share(b, n, d) for b, (n, d) in
                                        zip(buyers, shares, strict=False)], CONTRACT)
    assert holders(conn, parcel) == before


def test_an_injunction_blocks_every_other_change_until_lifted(conn, parcel, buyers):
    order = SourceDocument("court_order", "45/2026/QĐ-BPKCTT", issuer="TAND quận Hoàn Kiếm")
    service.set_injunction(conn, parcel, None, order)
    with pytest.raises(InjunctionActive, match="45/2026/QĐ-BPKCTT"):
        service.transfer(conn, parcel, [Share(buyers[0])], CONTRACT)
    with pytest.raises(InjunctionActive):
        service.register_mortgage(conn, parcel, buyers[1], CONTRACT, amount=10**9)
    service.lift_injunction(conn, parcel, "45/2026/QĐ-BPKCTT",
                            SourceDocument("court_order", "46/2026/QĐ-HBBP"))
    service.transfer(conn, parcel, [Share(buyers[0])], CONTRACT)
    assert holders(conn, parcel) == [(buyers[0], "1/1")]


def test_mortgage_registration_and_release(conn, parcel, buyers):
    bank = buyers[1]
    service.register_mortgage(conn, parcel, bank, SourceDocument("contract", "77/2026/HĐTC"),
                              amount=2_000_000_000)
    count = "SELECT count(*) FROM current_restriction WHERE parcel_id = :p AND kind = 'mortgage'"
    assert conn.execute(sa.text(count), {"p": parcel}).scalar_one() == 1
    with pytest.raises(InvalidInput, match="no current mortgage '99/2026'"):
        service.release_mortgage(conn, parcel, "99/2026", SourceDocument("contract", "x"))
    service.release_mortgage(conn, parcel, "77/2026/HĐTC",
                             SourceDocument("application", "Đơn xóa thế chấp 12"))
    assert conn.execute(sa.text(count), {"p": parcel}).scalar_one() == 0


def test_a_change_needs_its_source_document(conn, parcel, buyers):
    with pytest.raises(InvalidInput, match="source document"):
        service.transfer(conn, parcel, [Share(buyers[0])], SourceDocument("contract", "  "))


def test_stale_state_is_refused_naming_the_change_in_between(conn, parcel, buyers):
    seen = last_change(conn, parcel)
    first = service.transfer(conn, parcel, [Share(buyers[0])], CONTRACT, expected_change=seen)
    with pytest.raises(StaleParcel, match=f"change #{first.change_id} \\(transfer\\)"):
        service.transfer(conn, parcel, [Share(buyers[1])], CONTRACT, expected_change=seen)


def test_two_officers_racing_on_one_parcel_one_wins(fresh_database, tmp_path):
    init_database(fresh_database, srid=5897)
    engine = create_engine(fresh_database)
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(20, seed=9), path)
    run_import(engine, path, ImportOptions())
    with engine.begin() as conn:
        parcel = conn.execute(sa.text(
            "SELECT parcel_id FROM current_land_right WHERE kind = 'land_use' "
            "ORDER BY parcel_id LIMIT 1")).scalar_one()
        officers = [conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES ('individual', :n) RETURNING id"),
            {"n": n}).scalar_one() for n in ("Người mua A", "Người mua B")]
        seen = last_change(conn, parcel)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def officer(buyer: int) -> None:
        with engine.connect() as conn:
            try:
                with conn.begin():
                    barrier.wait()
                    service.transfer(conn, parcel, [Share(buyer)], CONTRACT,
                                     expected_change=seen)
                outcomes.append("ok")
            except StaleParcel as exc:
                outcomes.append(f"stale: {exc.message}")

    threads = [threading.Thread(target=officer, args=(b,)) for b in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "stale"]
    with engine.connect() as conn:
        assert len(holders(conn, parcel)) == 1
    engine.dispose()
