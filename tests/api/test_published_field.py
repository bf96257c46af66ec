"""Publishing a new parcel field is a migration plus one registry entry (docs/architecture.md):
in a database of its own, a column added as a migration would add it, and an entry added to
the registry of a copy of the code; the field then shows in the lookup, the OGC API (items
and schema) and the export, and a split carries it over to the children."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from cadastre.changes.service import SourceDocument
from cadastre.changes.spatial import split_parcel
from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import

ROOT = Path(__file__).resolve().parents[2]
GRADE = "hạng 2"
#: What the migration would hold. Existing versions get the grade (the column's default
#: while it is added); a version written without it would have none, so the children's
#: grade can only come from carrying it over.
MIGRATION = f"""
ALTER TABLE parcel ADD COLUMN soil_grade text DEFAULT '{GRADE}';
ALTER TABLE parcel ALTER COLUMN soil_grade DROP DEFAULT;
CREATE OR REPLACE VIEW current_parcel AS SELECT * FROM parcel WHERE upper_inf(lifespan);
"""
#: The registry entry.
ENTRY = """    Property("soil_grade", "x.soil_grade", "string", "Soil grade (hạng đất)", lookup=True,
             export=Exported("string", 20)),
"""
#: Reads the child through the API and the export, with the registry of the copy.
READER = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from api.app import create_app
from cadastre.db import create_engine
from cadastre.exports.service import prepare, write_export
from cadastre.settings import Settings

url, sql_dir, out, lon, lat, child, commune = sys.argv[1:]
settings = Settings(database_url=url, sql_dir=Path(sql_dir), export_dir=Path(out))
found = {}
with TestClient(create_app(settings)) as client:
    lookup = client.get("/api/v1/parcels/at", params={"lon": lon, "lat": lat}).json()
    found["lookup"] = [f["properties"] for f in lookup["features"] if f["id"] == int(child)]
    found["file"] = client.get(f"/api/v1/parcels/{child}").json()["properties"]
    found["ogc"] = client.get(f"/ogc/collections/parcels/items/{child}").json()["properties"]
    found["schema"] = list(client.get("/ogc/collections/parcels/schema").json()[
        "properties"]["properties"]["properties"])
engine = create_engine(settings)
with engine.begin() as conn:
    target = Path(out) / "parcels.geojson"
    write_export(conn, prepare(conn, collection="parcels", format="geojson", commune=commune),
                 target)
engine.dispose()
found["export"] = [f["properties"] for f in json.loads(target.read_text())["features"]
                   if f["properties"]["parcel_id"] == int(child)]
print(json.dumps(found))
"""


def _code_with_entry(directory: Path) -> Path:
    """A copy of the cadastre package with ENTRY at the end of PARCEL_PROPERTIES."""
    shutil.copytree(ROOT / "cadastre", directory / "cadastre",
                    ignore=shutil.ignore_patterns("__pycache__"))
    registry = directory / "cadastre" / "layers" / "registry.py"
    text = registry.read_text(encoding="utf-8")
    end = "\n)\n\nPARCELS = Layer("
    assert text.count(end) == 1
    registry.write_text(text.replace(end, "\n" + ENTRY.rstrip("\n") + end), encoding="utf-8")
    return directory


def test_a_field_added_by_a_migration_and_a_registry_entry_is_published(
        fresh_database, tmp_path):
    init_database(fresh_database, srid=5897)
    layer = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(30, seed=12), layer)
    engine = create_engine(fresh_database)
    try:
        run_import(engine, layer, ImportOptions())
        with engine.begin() as conn:
            conn.execute(sa.text(MIGRATION))
            parent = conn.execute(sa.text(
                "SELECT parcel_id FROM current_parcel ORDER BY area_legal DESC LIMIT 1")
            ).scalar_one()
            cut = conn.execute(sa.text(
                "SELECT ST_AsText(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(g) - 1), "
                "ST_MakePoint(ST_X(c), ST_YMax(g) + 1))) FROM (SELECT geom AS g, "
                "ST_Centroid(geom) AS c FROM current_parcel WHERE parcel_id = :p) x"),
                {"p": parent}).scalar_one()
            _, children = split_parcel(conn, parent, SourceDocument("decision", "1/QĐ"),
                                       cut_line_wkt=cut)
        with engine.connect() as conn:
            child = conn.execute(sa.text(
                "SELECT parcel_id, commune_code, soil_grade, ST_X(pt) AS lon, ST_Y(pt) AS lat "
                "FROM (SELECT *, ST_Transform(ST_PointOnSurface(geom), 4326) AS pt "
                "FROM current_parcel WHERE parcel_id = :c) x"), {"c": children[0]}).one()
    finally:
        engine.dispose()
    assert child.soil_grade == GRADE  # carried over by the split

    code = _code_with_entry(tmp_path / "code")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(ROOT)])}
    ran = subprocess.run(
        [sys.executable, "-c", READER, fresh_database.database_url, str(ROOT / "sql"),
         str(tmp_path), str(child.lon), str(child.lat), str(child.parcel_id),
         child.commune_code],
        capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=300)
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout.splitlines()[-1])

    assert [p["soil_grade"] for p in found["lookup"]] == [GRADE]
    assert found["file"]["soil_grade"] == GRADE
    assert found["ogc"]["soil_grade"] == GRADE
    assert list(found["ogc"])[-1] == "soil_grade"  # a new entry comes last
    assert found["schema"][-1] == "soil_grade"
    assert [p["soil_grade"] for p in found["export"]] == [GRADE]
