"""`cadastre reference land-use ...` as an administrator runs it: the codes in force on a day,
the legacy table, a new list loaded from his own file (checked first), and the loads."""

from __future__ import annotations

import sqlalchemy as sa

from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.land_use.files import TYPES_FILE
from tests.cli.test_cli import run


def test_list_load_and_history(fresh_database, tmp_path):
    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    today = run("reference", "land-use", "list", "--on", "2026-03-02", env=env)
    assert today.returncode == 0, today.stderr
    assert "Đất trồng cây hằng năm khác" in today.stdout and "BHK" not in today.stdout
    before = run("reference", "land-use", "list", "--on", "2020-01-01", env=env)
    assert "Đất chuyên trồng lúa nước" in before.stdout
    assert "Đất trồng cây hằng năm khác" not in before.stdout
    legacy = run("reference", "land-use", "legacy", env=env)
    assert legacy.returncode == 0 and "2L" in legacy.stdout and "LUC" in legacy.stdout

    unchanged = run("reference", "land-use", "load", env=env)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "no change" in unchanged.stdout
    # a new list that ends DCK from 2031, as a later circular might
    edited = TYPES_FILE.read_text(encoding="utf-8").replace(
        "non_agricultural,2014-07-05,,,TT 25/2014/TT-BTNMT",
        "non_agricultural,2014-07-05,2030-12-31,PNK,TT 25/2014/TT-BTNMT")
    path = tmp_path / "codes-2031.csv"
    path.write_text(edited, encoding="utf-8")
    loaded = run("reference", "land-use", "load", "--file", str(path), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "ended: DCK" in loaded.stdout and "recorded as load #2" in loaded.stdout
    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT valid_to, successor FROM land_use_type WHERE code = 'DCK'")).one()
        by = conn.execute(sa.text(
            "SELECT loaded_by FROM land_use_list_load WHERE id = 2")).scalar_one()
    engine.dispose()
    assert (str(row.valid_to), row.successor) == ("2030-12-31", "PNK")
    assert by.startswith("os:")
    history = run("reference", "land-use", "history", env=env)
    assert "migration 0024" in history.stdout and "codes-2031.csv" in history.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text(edited.replace("\nBHK,", "\n#BHK,"), encoding="utf-8")
    refused = run("reference", "land-use", "load", "--file", str(broken), env=env)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "leaves out BHK" in refused.stderr
