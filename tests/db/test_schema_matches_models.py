"""The ORM models mirror the migrated schema: same tables, columns, types and nullability."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from cadastre.models import Base

BOOKKEEPING = {"schema_migration", "database_setting", "spatial_ref_sys"}


def _type_name(type_: sa.types.TypeEngine) -> str:
    if isinstance(type_, Geometry):
        return f"geometry({type_.geometry_type})"
    return type_.compile(dialect=postgresql.dialect()).upper().replace(" ", "")


def test_every_table_has_a_model_and_every_model_a_table(conn):
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names()) - BOOKKEEPING
    assert tables == set(Base.metadata.tables)


def test_columns_types_and_nullability_match(conn):
    inspector = sa.inspect(conn)
    problems = []
    for name, table in Base.metadata.tables.items():
        db_columns = {c["name"]: c for c in inspector.get_columns(name)}
        model_columns = {c.name: c for c in table.columns}
        if set(db_columns) != set(model_columns):
            problems.append(f"{name}: database {sorted(set(db_columns) - set(model_columns))}"
                            f" vs models {sorted(set(model_columns) - set(db_columns))}")
            continue
        for column_name, db in db_columns.items():
            model = model_columns[column_name]
            if _type_name(db["type"]) != _type_name(model.type):
                problems.append(f"{name}.{column_name}: database {_type_name(db['type'])}, "
                                f"model {_type_name(model.type)}")
            if db["nullable"] != model.nullable:
                problems.append(f"{name}.{column_name}: database nullable={db['nullable']}, "
                                f"model nullable={model.nullable}")
    assert problems == []


def test_primary_and_foreign_keys_match(conn):
    inspector = sa.inspect(conn)
    problems = []
    for name, table in Base.metadata.tables.items():
        db_pk = set(inspector.get_pk_constraint(name)["constrained_columns"])
        model_pk = {c.name for c in table.primary_key.columns}
        if db_pk != model_pk:
            problems.append(f"{name} primary key: database {db_pk}, model {model_pk}")
        db_fks = {(tuple(fk["constrained_columns"]), fk["referred_table"])
                  for fk in inspector.get_foreign_keys(name)}
        model_fks = {((fk.parent.name,), fk.column.table.name) for fk in table.foreign_keys}
        if db_fks != model_fks:
            problems.append(f"{name} foreign keys: database {db_fks}, model {model_fks}")
    assert problems == []


def test_geometry_srid_is_the_storage_srid(conn):
    # (the quarantine, and the view of it by role, keep rejected geometry as read, in
    # whatever SRID it came)
    srids = set(conn.execute(sa.text(
        "SELECT DISTINCT srid FROM geometry_columns WHERE f_table_schema = 'public' "
        "AND f_table_name NOT IN ('import_quarantine', 'import_quarantine_visible')"
        )).scalars())
    storage = int(conn.execute(sa.text(
        "SELECT value FROM database_setting WHERE name = 'storage_srid'")).scalar_one())
    assert srids == {storage}
