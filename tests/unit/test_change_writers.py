"""Every change starts in cadastre/changes/record.py: no other module of the code writes a
change, a source document or their link."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where these tables may be written: the changes package and the schema itself. The tests
#: write them directly to test the database's own rules.
ALLOWED = (ROOT / "cadastre" / "changes", ROOT / "sql", ROOT / "tests")
TABLES = r"(change_transaction|source_document|change_source)\b"
WRITES = re.compile(
    rf"INSERT\s+INTO\s+{TABLES}|COPY\s+{TABLES}|copy_frame\([^,]+,\s*[\"']{TABLES}",
    re.IGNORECASE)


def _code_files() -> list[Path]:
    return [path for path in sorted(ROOT.rglob("*"))
            if path.suffix in (".py", ".sql") and path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
            and not any(path.is_relative_to(allowed) for allowed in ALLOWED)]


def test_only_the_changes_package_starts_a_change() -> None:
    files = _code_files()
    assert any(path.name == "pipeline.py" for path in files)  # the walk found the code
    writers = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
               for path in files
               for text in [path.read_text(encoding="utf-8")]
               for match in WRITES.finditer(text)]
    assert writers == [], "write a change through cadastre.changes.record: " + ", ".join(
        writers)


def test_the_check_sees_a_writer() -> None:
    assert WRITES.search('conn.execute(sa.text("INSERT INTO change_transaction (kind) ..."))')
    assert WRITES.search("insert into source_document (kind, reference)")
    assert WRITES.search('copy_frame(conn, "change_source", frame)')
    assert not WRITES.search("SELECT id FROM change_transaction")
