"""An installed copy works without the checkout: the wheel carries the migrations,
`cadastre db init` run from elsewhere migrates a new database with them, and its state
(export files, a local cluster's URL) lives in the user's state directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cadastre.db import create_engine
from cadastre.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.packaging


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and installed into a folder of its own (no
    dependencies: they come from the running environment)."""
    work = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--wheel-dir", work / "dist", ROOT, cwd=work)
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("cadastre-*.whl")
    target = work / "site"
    done = _run(sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                "--target", target, wheel, cwd=work)
    assert done.returncode == 0, done.stderr
    return target


def test_the_wheel_ships_every_migration_and_function(installed: Path) -> None:
    for folder in ("migrations", "functions"):
        shipped = sorted(p.name for p in (installed / "cadastre" / "sql" / folder).glob("*.sql"))
        assert shipped == sorted(p.name for p in (ROOT / "sql" / folder).glob("*.sql"))


def test_db_init_from_outside_the_checkout_migrates_a_new_database(
        installed: Path, fresh_database: Settings, tmp_path: Path) -> None:
    # only the installed copy is importable: the checkout is neither the working
    # directory nor on the path
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONSAFEPATH": "1",
           "CADASTRE_DATABASE_URL": fresh_database.database_url}
    env.pop("CADASTRE_STATE_DIR", None)
    env["HOME"] = str(tmp_path / "home")
    env.pop("XDG_STATE_HOME", None)
    where = _run(sys.executable, "-c",
                 "import cadastre, cadastre.settings as s; "
                 "print(cadastre.__file__); print(s.Settings().sql_dir); "
                 "print(s.Settings().export_dir); print(s.LOCAL_CLUSTER_ENV)",
                 cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    module, sql_dir, export_dir, cluster_env = where.stdout.split()
    assert Path(module).is_relative_to(installed)
    assert Path(sql_dir) == installed / "cadastre" / "sql"
    # its state is the user's, not the package folder's
    for state in (export_dir, cluster_env):
        assert Path(state).is_relative_to(tmp_path / "home"), state
        assert not Path(state).is_relative_to(installed), state

    result = _run(installed / "bin" / "cadastre", "db", "init", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            applied = set(conn.execute(sa.text("SELECT name FROM schema_migration")).scalars())
    finally:
        engine.dispose()
    assert applied == {p.name for p in (ROOT / "sql" / "migrations").glob("*.sql")}
