"""procedure.operation and the operations catalogue agree: every procedure names an
operation an approval can apply, and the database accepts exactly those names."""

from __future__ import annotations

import sqlalchemy as sa

from cadastre.changes.operations import CATALOGUE


def test_every_procedure_names_an_operation_an_approval_applies(conn):
    named = dict(conn.execute(sa.text("SELECT code, operation FROM procedure")).all())
    assert named["CHUYEN-NHUONG"] == "transfer" and named["THE-CHAP"] == "mortgage"
    assert named["TACH-THUA"] is None  # a split's geometry comes through /api/v1/changes
    for code, name in named.items():
        assert name is None or CATALOGUE[name].by_approval, code


def test_the_database_accepts_exactly_the_operations_an_approval_applies(conn):
    accepted = set()
    for name in CATALOGUE:
        savepoint = conn.begin_nested()
        try:
            conn.execute(sa.text("UPDATE procedure SET operation = :n WHERE code = 'CAP-DOI'"),
                         {"n": name})
            accepted.add(name)
        except sa.exc.IntegrityError:
            pass
        savepoint.rollback()
    assert accepted == {name for name, op in CATALOGUE.items() if op.by_approval}
