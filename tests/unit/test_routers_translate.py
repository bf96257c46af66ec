"""The routers only translate HTTP to a domain call: no SQL and no pydantic models in
api/routers/ (the SQL lives in cadastre/, the models in api/schemas/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUTERS = ROOT / "api" / "routers"
#: A string literal that is a statement of SQL.
SQL = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS)\b")
#: Calls that run SQL: SQLAlchemy's text() and a connection's execute/fetch family.
RUNS_SQL = {"text", "execute", "exec_driver_sql", "fetch", "fetchrow", "fetchval",
            "executemany", "copy_records_to_table", "copy_to_table"}
#: Names a request or response model is built on.
MODEL_BASES = {"BaseModel", "RootModel"}


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _base_name(base: ast.expr) -> str | None:
    if isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else None


def findings(source: str, name: str = "<source>") -> list[str]:
    """Where ``source`` holds SQL text, runs SQL or defines a pydantic model."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(
                node.value):
            found.append(f"{where} SQL text {node.value[:40]!r}")
        elif isinstance(node, ast.Call) and _called_name(node) in RUNS_SQL:
            found.append(f"{where} runs SQL ({_called_name(node)})")
        elif isinstance(node, ast.ImportFrom) and node.module in ("sqlalchemy", "asyncpg"):
            found.append(f"{where} imports {node.module}")
        elif isinstance(node, ast.Import) and any(
                alias.name.split(".")[0] in ("sqlalchemy", "asyncpg") for alias in node.names):
            found.append(f"{where} imports a database driver")
        elif isinstance(node, ast.ClassDef) and any(
                _base_name(base) in MODEL_BASES for base in node.bases):
            found.append(f"{where} model {node.name} (belongs in api/schemas/)")
    return found


def test_routers_hold_no_sql_and_no_models() -> None:
    routers = sorted(ROUTERS.glob("*.py"))
    assert any(path.name == "dossiers.py" for path in routers)  # the walk found them
    found = [f for path in routers
             for f in findings(path.read_text(encoding="utf-8"), path.name)]
    assert found == [], "move these to cadastre/ or api/schemas/: " + "; ".join(found)


def test_the_check_sees_sql_and_models() -> None:
    assert findings('conn.execute(sa.text("SELECT 1"))')
    assert findings("await conn.fetch(query)")
    assert findings("x = 'INSERT INTO parcel (id) VALUES (1)'")
    assert findings("q = 'UPDATE procedure SET name = :n'")
    assert findings("import sqlalchemy as sa")
    assert findings("class Body(BaseModel):\n    x: int")
    assert findings("class Body(pydantic.BaseModel):\n    x: int")
    assert not findings('summary = "Select a parcel by its number"')
    assert not findings("return await _read(request, catalogue.active_procedures)")
