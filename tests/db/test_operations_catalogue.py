"""procedure.operation and the operations catalogue agree: every procedure names an
operation an approval can apply, and the database accepts exactly those names."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.changes.operations import CATALOGUE


def test_every_procedure_names_operations_an_approval_applies(conn):
    named = dict(conn.execute(sa.text("SELECT code, operations FROM procedure")).all())
    assert named["CHUYEN-NHUONG"] == ["transfer"]
    assert named["THE-CHAP"] == ["mortgage", "certificate_endorsement?"]
    assert named["TACH-THUA"] == ["split", "certificate_issue?"]
    assert named["HOP-THUA"] == ["merge", "certificate_issue?"]
    assert named["CHUYEN-MUC-DICH"][0] == "purpose_change"
    assert named["DK-LAN-DAU"] == ["certificate_issue"]
    assert named["CAP-DOI"] == ["certificate_exchange"]
    assert named["CAP-LAI"] == ["certificate_reissue"]
    assert named["CHUYEN-NHUONG-MOT-PHAN"] == ["split", "transfer", "certificate_issue?"]
    assert named["TRICH-LUC"] == []
    for code, names in named.items():
        assert all(CATALOGUE[n.rstrip("?")].by_approval for n in names), code


def test_operation_is_the_first_of_the_operations(conn):
    first = dict(conn.execute(sa.text(
        "SELECT code, operation FROM procedure WHERE cardinality(operations) > 0")).all())
    assert first["CHUYEN-NHUONG-MOT-PHAN"] == "split" and first["CAP-DOI"] == \
        "certificate_exchange"
    savepoint = conn.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("UPDATE procedure SET operations = '{merge}' "
                             "WHERE code = 'TACH-THUA'"))
    savepoint.rollback()


def test_the_procedures_blocked_by_an_injunction(conn):
    blocked = set(conn.execute(sa.text(
        "SELECT code FROM procedure WHERE blocked_by_injunction")).scalars())
    assert blocked == {"CHUYEN-NHUONG", "THUA-KE", "TANG-CHO", "THE-CHAP", "TACH-THUA",
                       "HOP-THUA", "CHUYEN-NHUONG-MOT-PHAN"}


def test_the_database_accepts_exactly_the_operations_an_approval_applies(conn):
    accepted = set()
    for name in CATALOGUE:
        savepoint = conn.begin_nested()
        try:
            conn.execute(sa.text("UPDATE procedure SET operation = :n, operations = "
                                 "ARRAY[:n, :n || '?'] WHERE code = 'CAP-DOI'"), {"n": name})
            accepted.add(name)
        except sa.exc.IntegrityError:
            pass
        savepoint.rollback()
    assert accepted == {name for name, op in CATALOGUE.items() if op.by_approval}
